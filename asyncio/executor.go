package asyncio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/trioasyncio/trioasyncio/trio"
)

// ErrExecutorShutdown is returned by Submit once an executor has been
// shut down (concurrent.futures' "cannot schedule new futures after
// shutdown").
var ErrExecutorShutdown = errors.New("asyncio: executor is shut down")

// An Executor runs functions on goroutines other than the loop's
// (concurrent.futures.Executor): RunInExecutor hands its work to one.
// Implementations must be goroutine-safe.
type Executor interface {
	// Submit arranges for fn to run on some goroutine, and returns without
	// waiting for it (it must not block the loop). It returns an error,
	// and does not run fn, if the executor takes no more work.
	Submit(fn func()) error
}

// A PoolExecutor runs functions on at most a fixed number of goroutines
// at once, queueing the rest in FIFO order (concurrent.futures'
// ThreadPoolExecutor). Goroutines are started on demand and end when the
// queue is empty, so an idle pool holds none. Goroutine-safe.
type PoolExecutor struct {
	max int

	mu      sync.Mutex
	queue   []func()
	workers int
	closed  bool
	idle    chan struct{} // closed by the last worker after Shutdown
	onIdle  []func()      // run by the last worker after Shutdown (shutdownThen)
}

// NewPoolExecutor returns a pool of at most maxWorkers goroutines;
// maxWorkers <= 0 means DefaultMaxWorkers().
func NewPoolExecutor(maxWorkers int) *PoolExecutor {
	if maxWorkers <= 0 {
		maxWorkers = DefaultMaxWorkers()
	}
	return &PoolExecutor{max: maxWorkers}
}

// DefaultMaxWorkers is the size of the loops' default executors:
// min(32, GOMAXPROCS+4), CPython's min(32, cpu_count+4).
func DefaultMaxWorkers() int { return min(32, runtime.GOMAXPROCS(0)+4) }

// Submit queues fn; it starts a goroutine for it if fewer than the
// maximum are running. It never blocks. It returns ErrExecutorShutdown
// after Shutdown, and panics if fn is nil.
func (p *PoolExecutor) Submit(fn func()) error {
	if fn == nil {
		panic("asyncio: PoolExecutor.Submit(nil)")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrExecutorShutdown
	}
	if p.workers < p.max {
		p.workers++
		go p.work(fn)
		return nil
	}
	p.queue = append(p.queue, fn)
	return nil
}

func (p *PoolExecutor) work(fn func()) {
	for {
		fn()
		p.mu.Lock()
		if len(p.queue) == 0 {
			if p.workers == 1 && len(p.onIdle) > 0 {
				// Still counted while they run, so that Shutdown waits
				// for them too. The pool is shut down (onIdle is set only
				// then): the queue stays empty meanwhile.
				hooks := p.onIdle
				p.onIdle = nil
				p.mu.Unlock()
				for _, f := range hooks {
					f()
				}
				p.mu.Lock()
			}
			p.workers--
			if p.workers == 0 && p.idle != nil {
				close(p.idle)
				p.idle = nil
			}
			p.mu.Unlock()
			return
		}
		fn = p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		p.mu.Unlock()
	}
}

// Shutdown makes Submit refuse new work and waits until the functions
// already submitted (running or queued) have returned, or until ctx is
// done, when it returns ctx's error (the functions go on). It may be
// called more than once.
func (p *PoolExecutor) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	if p.workers == 0 {
		p.mu.Unlock()
		return nil
	}
	if p.idle == nil {
		p.idle = make(chan struct{})
	}
	idle := p.idle
	p.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// shutdownThen shuts p down as Shutdown does, without waiting: fn runs
// once the functions already submitted have returned, on the goroutine
// that ran the last of them, before Shutdown returns. It reports false,
// and fn does not run, if none is left.
func (p *PoolExecutor) shutdownThen(fn func()) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.workers == 0 {
		return false
	}
	p.onIdle = append(p.onIdle, fn)
	return true
}

// loopExecutors is a loop's executor state: its default executor, and
// the cancellations of the functions RunInExecutor started for it. It
// lives in a side table (executors) rather than in Loop, whose file
// belongs to the loop core. Goroutine-safe.
type loopExecutors struct {
	mu     sync.Mutex
	def    Executor      // set by SetDefaultExecutor
	own    *PoolExecutor // created by the loop, shut down at its close
	shut   bool          // ShutdownDefaultExecutor was called
	closed bool
	jobs   map[*job]struct{} // the functions whose future is not done
}

// A job is one function given to RunInExecutor.
type job struct {
	cancel context.CancelFunc // cancels the function's ctx
}

// add registers j, unless the loop's executors are shut down.
func (st *loopExecutors) add(j *job) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return false
	}
	if st.jobs == nil {
		st.jobs = make(map[*job]struct{})
	}
	st.jobs[j] = struct{}{}
	return true
}

// done unregisters j and cancels its ctx.
func (st *loopExecutors) done(j *job) {
	st.mu.Lock()
	delete(st.jobs, j)
	st.mu.Unlock()
	j.cancel()
}

// isClosed reports whether the loop's executors are shut down: then a
// function that has not started does not start.
func (st *loopExecutors) isClosed() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.closed
}

// executorState returns l's executor state, creating it the first time;
// nil once the loop has closed.
func (l *Loop) executorState() *loopExecutors {
	for {
		switch st := l.exec.Load(); st {
		case closedExecutors:
			return nil
		case nil:
			if l.exec.CompareAndSwap(nil, &loopExecutors{}) {
				continue
			}
		default:
			return st
		}
	}
}

// closedExecutors marks the executor state of a closed loop.
var closedExecutors = &loopExecutors{closed: true}

// shutdownExecutor is the loop's "shut the executor down" step of its
// close (CPython's shutdown_default_executor): it cancels the
// ctx of every function RunInExecutor started for this loop (on any
// executor), stops the default executor the loop created taking work, and
// waits for its goroutines. Only the loop's own default executor is shut
// down; one set with SetDefaultExecutor or passed to RunInExecutor
// belongs to its owner. Loop.close calls it last, when the loop refuses
// CallSoonThreadsafe (results of functions still running are dropped, not
// queued), so a function waiting on the loop cannot deadlock the wait.
func (l *Loop) shutdownExecutor() {
	st := l.exec.Swap(closedExecutors)
	if st == nil {
		return
	}
	st.mu.Lock()
	st.closed = true
	own, jobs := st.own, st.jobs
	st.jobs = nil
	st.mu.Unlock()
	for j := range jobs {
		j.cancel()
	}
	if own != nil {
		own.Shutdown(context.Background())
	}
}

// SetDefaultExecutor sets the executor RunInExecutor uses when given nil
// (asyncio's loop.set_default_executor); nil restores the loop's own, a
// PoolExecutor of DefaultMaxWorkers goroutines created on first use and
// shut down when the loop closes. An executor set here is not shut down
// by the loop. After ShutdownDefaultExecutor, RunInExecutor refuses a nil
// executor whatever is set here. Goroutine-safe; it panics once the loop
// has closed.
func (l *Loop) SetDefaultExecutor(ex Executor) {
	st := l.executorState()
	if st == nil {
		panic(ErrLoopClosed)
	}
	st.mu.Lock()
	st.def = ex
	st.mu.Unlock()
}

// ShutdownDefaultExecutor shuts the loop's default executor down and
// waits for it (asyncio's loop.shutdown_default_executor): from then on
// RunInExecutor with a nil executor fails its future with
// ErrExecutorShutdown, and the call waits until the functions that the
// loop's own default executor was running or had queued have returned.
// Their ctx is not cancelled: they finish their work.
//
// ctx's deadline, if it has one, plays CPython's timeout: if functions
// are still running when it passes, ShutdownDefaultExecutor logs a
// warning (log/slog, level Warn, "the executor did not finish joining its
// goroutines within …", where CPython warns with a RuntimeWarning) and
// returns nil, leaving them to end on their own. They still do not
// outlive the loop: its close cancels their ctx and waits, without a
// deadline, until every one of them has returned, as it does when
// ShutdownDefaultExecutor was never called; so a function that ignores
// its ctx holds up the end of the OpenLoop block. Without a deadline,
// ShutdownDefaultExecutor waits as long as the functions take.
//
// An executor set with SetDefaultExecutor belongs to its owner: it is
// neither shut down nor waited for (the call only stops RunInExecutor
// from handing it work as the default). Called before the default
// executor was ever used, it returns at once; called again, it waits
// for the functions still running, if any.
//
// Asyncio-flavored: call it from a task of the loop with the task's ctx;
// it gives the loop back while it waits. It returns a *CancelledError if
// the task is cancelled meanwhile (the executor stays shut down), and,
// doing nothing, ErrAwaitOutsideTask if ctx is not the running task's, or
// an error matching ErrForeignFuture if the task runs on another loop.
func (l *Loop) ShutdownDefaultExecutor(ctx context.Context) error {
	c, err := runningTask(ctx, "ShutdownDefaultExecutor")
	if err != nil {
		return err
	}
	if c.loop != l {
		return fmt.Errorf("%w: ShutdownDefaultExecutor of a loop awaited by %v, a task of another loop", ErrForeignFuture, c.owner)
	}
	st := l.executorState() // not nil: the loop runs a task
	st.mu.Lock()
	st.shut = true
	own := st.own
	st.mu.Unlock()
	if own == nil {
		return nil
	}
	idle := NewFuture[struct{}](l)
	if !own.shutdownThen(func() {
		// Refused once the loop has closed: nobody waits any more.
		l.in.post(&Handle{ctx: l.ctxI, run: callback(func(context.Context) {
			if !idle.Done() {
				idle.SetResult(struct{}{})
			}
		})})
	}) {
		return nil
	}
	wait := func(ctx context.Context, _ *TimeoutScope) error {
		_, err := Await(ctx, idle)
		return err
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		return wait(ctx, nil)
	}
	timeout := max(time.Until(deadline), 0)
	err = TimeoutAt(ctx, deadline, wait)
	if errors.Is(err, ErrTimeout) {
		slog.Warn(fmt.Sprintf("asyncio: the executor did not finish joining its goroutines within %v", timeout),
			"timeout", timeout)
		return nil
	}
	return err
}

// defaultExecutor returns the executor for RunInExecutor(ctx, nil, …).
func (st *loopExecutors) defaultExecutor() (Executor, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return nil, ErrLoopClosed
	}
	if st.shut {
		return nil, ErrExecutorShutdown
	}
	if st.def != nil {
		return st.def, nil
	}
	if st.own == nil {
		st.own = NewPoolExecutor(0)
	}
	return st.own, nil
}

// RunInExecutor runs fn on a goroutine of ex (nil: the loop's default
// executor) and returns a future of its result, on the loop of ctx
// (asyncio's loop.run_in_executor). fn is trio-flavored: ordinary Go
// that may block. The result comes back to the loop with
// CallSoonThreadsafe; a panic in fn fails the future with a
// *trio.PanicError.
//
// fn's ctx carries ctx's values but neither its cancellation nor the
// loop or task (asyncio calls from fn fail with ErrNoRunningLoop: reach
// the loop with CallSoonThreadsafe or RunCoroutineThreadsafe). It is
// cancelled when the future is cancelled (Go's addition: CPython can only
// drop work that has not started) and when the loop closes; fn does not
// run if its ctx is cancelled before it starts. A result that arrives
// after the future was cancelled, or after the loop closed, is dropped;
// a panic then goes to the loop's exception handler (and so, by default,
// fails the OpenLoop block), as a callback's panic does.
//
// Loop-confined: call it from a callback or task of the loop. It does not
// block. Cost: a future, a cancellable ctx, the executor's goroutine (a
// PoolExecutor reuses its goroutines while work is queued), and one
// CallSoonThreadsafe for the result. It panics if fn is nil or ctx
// carries no loop; a refusal of the executor (ErrExecutorShutdown, also
// for a nil ex after ShutdownDefaultExecutor, or ErrLoopClosed once the
// loop has closed) fails the returned future.
func RunInExecutor[T any](ctx context.Context, ex Executor, fn func(ctx context.Context) (T, error)) *Future[T] {
	if fn == nil {
		panic("asyncio: RunInExecutor with a nil function")
	}
	l := loopOf(ctx)
	if l == nil {
		panic(ErrNoRunningLoop)
	}
	fut := NewFuture[T](l)
	st := l.executorState()
	if st == nil {
		fut.SetException(ErrLoopClosed)
		return fut
	}
	if ex == nil {
		var err error
		if ex, err = st.defaultExecutor(); err != nil {
			fut.SetException(err)
			return fut
		}
	}
	fctx, cancel := context.WithCancel(threadCtx{context.WithoutCancel(ctx)})
	j := &job{cancel: cancel}
	if !st.add(j) {
		cancel()
		fut.SetException(ErrLoopClosed)
		return fut
	}
	fut.AddDoneCallback(func(context.Context) { st.done(j) })
	err := ex.Submit(func() {
		var v T
		var err error
		ran := fctx.Err() == nil && !st.isClosed()
		if ran {
			v, err = callFn(fctx, fn)
		}
		var pe *trio.PanicError
		panicked := errors.As(err, &pe)
		lost := func() {
			// Nobody will retrieve the panic from the future: the
			// exception handler gets it, as it gets a callback's.
			l.CallExceptionHandler(ExceptionContext{
				Message: "Exception in executor function whose result nobody awaits",
				Err:     err,
				Future:  fut,
			})
		}
		h := &Handle{ctx: l.ctxI, report: panicked, run: callback(func(context.Context) {
			switch {
			case fut.Done():
				if panicked {
					lost()
				}
			case !ran:
				fut.Cancel("") // skipped: the loop is closing
			case err != nil:
				fut.SetException(err)
			default:
				fut.SetResult(v)
			}
		})}
		// A result that finds the loop closed is dropped; a panic is not.
		if l.in.post(h) != nil && panicked {
			lost()
		}
	})
	if err != nil {
		fut.SetException(err)
	}
	return fut
}

// callFn calls fn, turning a panic into a *trio.PanicError.
func callFn[T any](ctx context.Context, fn func(ctx context.Context) (T, error)) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = trio.NewPanicError(p)
		}
	}()
	return fn(ctx)
}

// threadCtx is the ctx of code running off the loop: it hides the loop
// and the task of the ctx it wraps.
type threadCtx struct{ context.Context }

func (c threadCtx) Value(key any) any {
	switch key.(type) {
	case loopKey, taskKey:
		return nil
	}
	return c.Context.Value(key)
}
