// Package asynciotest is the synchronous event loop for tests written in
// asyncio's classic style: make a loop, schedule work on
// it, run it until a future completes or until something stops it, look
// at the results, run it again, close it.
//
//	l := asynciotest.NewLoop()
//	defer l.Close()
//	v, err := asynciotest.RunUntilComplete(l, func(ctx context.Context) (int, error) {
//		if err := asyncio.Sleep(ctx, time.Second); err != nil {
//			return 0, err
//		}
//		return 42, nil
//	})
//
// Inside, the loop is an ordinary asyncio.OpenLoop block, held by a
// goroutine of its own, and the caller and the loop take turns: the loop
// runs only inside RunForever, RunUntilComplete and
// RunFutureUntilComplete, and between runs it is paused at the end of an
// iteration, so the caller may use the loop's loop-confined methods
// (CallSoon, CallLater, NewFuture, CreateTask, a future's SetResult…)
// directly, as Python tests do between run_until_complete calls. Close
// ends the block: its teardown (asyncio.OpenLoop's) cancels the tasks
// left and lets them finish, and nothing the loop started outlives it.
//
// Outside tests, use asyncio.OpenLoop and the boundary functions
// (asyncio.RunAsyncio, asyncio.RunFuture): they need no turn-taking.
package asynciotest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/asyncio/internal/turns"
	"github.com/trioasyncio/trioasyncio/trio"
)

var (
	// ErrRunning is returned by RunForever, RunUntilComplete and
	// RunFutureUntilComplete when the loop is already running: called from
	// one of its callbacks or tasks (Python's "This event loop is already
	// running"), or from a goroutine racing the caller's run.
	ErrRunning = errors.New("asyncio: this event loop is already running")
	// ErrCloseRunning is returned by Close while the loop is running:
	// called from one of its callbacks or tasks (Python's "Cannot close a
	// running event loop").
	ErrCloseRunning = errors.New("asyncio: cannot close a running event loop")
	// ErrStoppedEarly is returned by RunUntilComplete and
	// RunFutureUntilComplete when the loop stopped (a callback called
	// Stop, or the loop failed) before the future was done (Python's
	// "Event loop stopped before Future completed"). The future is left as
	// it is: a later run may complete it.
	ErrStoppedEarly = errors.New("asyncio: event loop stopped before future completed")
)

// errLoopDied is returned by a run during which the loop's goroutine
// ended: by runtime.Goexit (t.FailNow called from a callback, a task or
// a slog handler the exception handler logs with), or by a panic that
// escaped the loop (a bug in package asyncio), which Close re-raises.
var errLoopDied = errors.New("asyncio: the event loop's goroutine ended during a run " +
	"(runtime.Goexit: t.FailNow in a callback or task? or a panic, which Close re-raises)")

// The loop's states, as seen by the caller.
const (
	idle    int32 = iota // paused between runs: the caller has the turn
	running              // inside a run: the loop has the turn
	closed               // Close has begun
)

// A Loop is a synchronous asyncio event loop for tests (Python's
// new_event_loop with run_forever, run_until_complete, stop and close).
//
// Turns: exactly one of the caller and the loop runs at a time. A run
// (RunForever, RunUntilComplete, RunFutureUntilComplete) hands the turn to
// the loop's goroutine, which runs iterations until one ends with a stop
// requested, and hands it back; until the next run the loop is paused, so
// the caller may call the loop-confined methods of Loop() and of its
// futures and tasks directly (a plain variable written by the caller
// between runs and by callbacks during them needs no lock), and debug mode
// lets those calls through. While a run is in progress only the loop's
// callbacks and tasks (and goroutine-safe methods) may touch it, as with
// any asyncio loop.
//
// Stop is asyncio's: the loop stops at the end of the iteration in which
// Stop was called, so the callbacks scheduled during that iteration run in
// the next run. A Stop requested between runs makes the next run perform
// exactly one iteration, without waiting for timers (Python's pre-stopped
// run_forever).
//
// Failures: an error that reaches the default exception handler (a panic
// in a callback, a task's exception never retrieved, a custom handler
// deferring to the default) is logged, as asyncio.OpenLoop's default
// handler does, and also stops the loop at the end of its iteration, so
// the run in progress returns it; a test never hangs on a failed loop. The
// run returns its own outcome joined with every failure reported since the
// previous run returned (errors.Is and errors.As see each). Failures that
// no run returned, such as those of Close's teardown, are returned by
// Close. A custom exception handler that does not defer to the default
// keeps the loop going, as in asyncio.
//
// Costs: NewLoop starts two goroutines (the one holding the OpenLoop block,
// and the loop's); a run costs two hand-offs between goroutines on top of
// the loop's own work.
//
// Misuse: a run or a Close from inside a run returns ErrRunning or
// ErrCloseRunning, never hangs; a run after Close returns
// asyncio.ErrLoopClosed, and the loop-confined methods panic as they do on
// any closed loop. A Loop must be closed: until then its goroutines live.
// Callbacks and tasks must not call t.FailNow (t.Fatal…), which ends the
// loop's goroutine: the run then returns an error saying so instead of
// hanging, but the loop is broken (its tasks are never finished, and
// their goroutines leak); report with t.Error and return.
type Loop struct {
	gate   *gate
	loop   *asyncio.Loop
	ctx    context.Context
	cancel context.CancelFunc

	state  atomic.Int32
	broken atomic.Bool // the loop's goroutine died during a run

	closing chan struct{} // closed by Close: the OpenLoop body returns
	done    chan struct{} // closed once the goroutine holding the block has returned
	exited  chan struct{} // closed once the loop's goroutine has ended (gate.Exited)

	// Written by the holding goroutine before it closes done.
	result   error
	panicked *trio.PanicError

	mu       sync.Mutex
	failures []error // failures no run has returned yet
	nfail    int     // every failure so far
	al       *asyncio.Loop
}

// NewLoop opens a loop and returns it paused, ready for a run: the
// caller has the turn. Close it when done (defer l.Close()).
//
// The loop is an asyncio.OpenLoop block held by a goroutine of its own,
// under a trio nursery; in a testing/synctest bubble, call NewLoop inside
// the bubble, and the loop's timers follow the bubble's fake clock.
func NewLoop() *Loop {
	l := &Loop{
		closing: make(chan struct{}),
		done:    make(chan struct{}),
		exited:  make(chan struct{}),
	}
	l.gate = &gate{paused: make(chan struct{}), resume: make(chan struct{}), exited: l.exited, failed: l.fail}
	started := make(chan context.Context, 1)
	go l.holdBlock(started)
	var ctx context.Context
	select {
	case ctx = <-started:
	case <-l.done:
		l.endedEarly()
	}
	select {
	case <-l.gate.paused: // the loop holds at its start: the caller has the turn
	case <-l.done:
		l.endedEarly()
	}
	al, err := asyncio.GetRunningLoop(ctx)
	if err != nil {
		panic("asyncio: internal error: " + err.Error())
	}
	l.loop = al
	l.mu.Lock()
	l.al = al // for fail, which may run on the runtime's cleanup goroutine
	l.mu.Unlock()
	l.ctx, l.cancel = context.WithCancel(context.WithoutCancel(ctx))
	return l
}

// gate is the loop's hook: the loop goroutine holds, and the caller has
// the turn, at the loop's start and after every iteration that processed
// a Stop, until the block closes.
type gate struct {
	paused, resume chan struct{}
	open           atomic.Bool // the block is closing: hold no more
	held           atomic.Bool // the loop goroutine holds
	exited         chan struct{}
	failed         func(err error)
}

func (g *gate) Event(ev turns.Event, err error) {
	switch ev {
	case turns.Started, turns.Stopped:
		if g.open.Load() {
			return
		}
		g.held.Store(true)
		g.paused <- struct{}{}
		<-g.resume
		g.held.Store(false)
	case turns.Closing:
		g.open.Store(true)
	case turns.Failed:
		g.failed(err)
	case turns.Exited:
		close(g.exited)
	}
}

// endedEarly panics with what ended the OpenLoop block before NewLoop
// had the turn: a bug in package asyncio.
func (l *Loop) endedEarly() {
	if l.panicked != nil {
		panic(l.panicked)
	}
	panic(fmt.Sprintf("asyncio: internal error: the test loop ended before it started: %v", l.result))
}

// holdBlock is the goroutine that holds the OpenLoop block until Close.
func (l *Loop) holdBlock(started chan<- context.Context) {
	defer close(l.done)
	defer func() {
		if v := recover(); v != nil {
			l.panicked = trio.NewPanicError(v)
		}
	}()
	l.result = trio.OpenNursery(context.Background(), func(ctx context.Context, _ *trio.Nursery) error {
		return turns.OpenLoop(ctx, l.gate, func(ctx context.Context) error {
			started <- ctx
			// A loop failure cancels ctx: the body keeps the block open
			// regardless, so that the turns go on until Close.
			<-l.closing
			return nil
		})
	})
}

// fail records a failure from the default exception handler, and stops
// the loop if it is running, so that the run returns it.
func (l *Loop) fail(err error) {
	l.mu.Lock()
	l.failures = append(l.failures, err)
	l.nfail++
	al := l.al
	l.mu.Unlock()
	if al != nil && !l.gate.held.Load() {
		al.Stop()
	}
}

// takeFailures returns the failures no run has returned yet.
func (l *Loop) takeFailures() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	errs := l.failures
	l.failures = nil
	return errs
}

// report is a run's error: err joined with the failures reported since the
// previous run returned.
func (l *Loop) report(err error) error {
	errs := l.takeFailures()
	if len(errs) == 0 {
		return err
	}
	if err != nil {
		errs = append([]error{err}, errs...)
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

// take moves the loop from idle to state s, or says why it cannot.
func (l *Loop) take(s int32) error {
	for !l.state.CompareAndSwap(idle, s) {
		switch l.state.Load() {
		case running:
			return ErrRunning
		case closed:
			return asyncio.ErrLoopClosed
		}
	}
	return nil
}

// begin starts a run.
func (l *Loop) begin() error {
	if err := l.take(running); err != nil {
		return err
	}
	if l.broken.Load() {
		l.state.Store(idle)
		return errLoopDied
	}
	return nil
}

func (l *Loop) end() { l.state.Store(idle) }

// round hands the turn to the loop's goroutine and takes it back once an
// iteration has ended with a stop requested. Every wait also watches the
// loop's goroutine, so that a loop that dies cannot hang the caller.
func (l *Loop) round() error {
	select {
	case l.gate.resume <- struct{}{}:
		select {
		case <-l.gate.paused:
			return nil
		case <-l.exited:
		}
	case <-l.exited:
	}
	l.broken.Store(true)
	return errLoopDied
}

// Loop returns the asyncio loop, for its methods: the loop-confined ones
// (CallSoon, CallLater, CallAt, AllTasks…) between runs or from the
// loop's callbacks and tasks, the goroutine-safe ones from anywhere.
func (l *Loop) Loop() *asyncio.Loop { return l.loop }

// Ctx returns a ctx that carries the loop, for the functions that find
// their loop in a ctx (asyncio.CreateTask, asyncio.GetRunningLoop…). It
// is done once Close has returned. Goroutine-safe.
func (l *Loop) Ctx() context.Context { return l.ctx }

// IsRunning reports whether a run is in progress (Python's is_running).
// Goroutine-safe.
func (l *Loop) IsRunning() bool { return l.state.Load() == running }

// IsClosed reports whether Close has been called (Python's is_closed):
// it is true already while Close's teardown runs the loop's last
// callbacks. Goroutine-safe.
func (l *Loop) IsClosed() bool { return l.state.Load() == closed }

// Stop asks the loop to stop at the end of its current iteration, or, if
// it is paused, at the end of the first iteration of the next run
// (Python's stop). Goroutine-safe.
func (l *Loop) Stop() { l.loop.Stop() }

// RunForever runs the loop until a callback or task calls Stop (Python's
// run_forever): the loop stops at the end of that iteration. It returns
// the failures reported meanwhile (see Loop), ErrRunning from inside a
// run, and asyncio.ErrLoopClosed after Close.
func (l *Loop) RunForever() error {
	if err := l.begin(); err != nil {
		return err
	}
	defer l.end()
	return l.report(l.round())
}

// RunUntilComplete runs coro as a task on the loop (asyncio.CreateTask)
// and runs the loop until the task is done (Python's
// run_until_complete(coro)), then returns its result, or its error: a
// *asyncio.CancelledError if it was cancelled, a *trio.PanicError if the
// coroutine panicked. See RunFutureUntilComplete for when the loop stops
// and what else it returns.
//
// It panics if coro is nil.
func RunUntilComplete[T any](l *Loop, coro func(ctx context.Context) (T, error)) (T, error) {
	if coro == nil {
		panic("asyncio: RunUntilComplete with a nil coroutine")
	}
	if err := l.begin(); err != nil {
		var zero T
		return zero, err
	}
	defer l.end()
	return runUntilComplete(l, asyncio.CreateTask(l.ctx, coro))
}

// RunFutureUntilComplete runs the loop until fut, a future or task of the
// loop, is done (Python's run_until_complete(future)), and returns its
// result or error.
//
// As in CPython, a done callback of fut stops the loop: the loop stops at
// the end of the iteration in which that callback runs, the one after fut
// completed, so the callbacks queued before it still run. If the loop
// stops before fut is done (a callback called Stop, or the loop failed),
// it returns ErrStoppedEarly and leaves fut as it is.
//
// The failures reported during the run (see Loop) are joined to the
// error; fut's result is returned even then. It returns ErrRunning from
// inside a run, asyncio.ErrLoopClosed after Close, and an error matching
// asyncio.ErrDifferentLoop if fut belongs to another loop. It panics if
// fut is nil.
func RunFutureUntilComplete[T any](l *Loop, fut asyncio.AwaitableOf[T]) (T, error) {
	if fut == nil {
		panic("asyncio: RunFutureUntilComplete with a nil future")
	}
	var zero T
	if err := l.begin(); err != nil {
		return zero, err
	}
	defer l.end()
	if fut.Loop() != l.loop {
		return zero, fmt.Errorf("%w: RunFutureUntilComplete with a future of another loop", asyncio.ErrDifferentLoop)
	}
	return runUntilComplete(l, fut)
}

func runUntilComplete[T any](l *Loop, fut asyncio.AwaitableOf[T]) (T, error) {
	var zero T
	h := fut.AddDoneCallback(func(context.Context) { l.loop.Stop() })
	if err := l.round(); err != nil {
		return zero, l.report(err)
	}
	fut.RemoveDoneCallback(h)
	if !fut.Done() {
		return zero, l.report(ErrStoppedEarly)
	}
	v, err := fut.Result()
	return v, l.report(err)
}

// Close closes the loop (Python's close, with asyncio.run's ending): it
// ends the OpenLoop block, whose teardown runs the callbacks already
// queued, cancels every task that is not done and lets each finish its
// cancellation (the loop keeps running meanwhile, so their deferred calls
// run and they may still await), drops the timers and callbacks left, and
// waits for every goroutine the loop started. When Close returns, none is
// left.
//
// It returns the failures that no run returned (see Loop), including
// those of the teardown. Close on a closed loop does nothing and returns
// nil; from inside a run (a callback or task), it returns ErrCloseRunning.
// If the loop's goroutine died with a panic, Close re-raises it.
func (l *Loop) Close() error {
	switch err := l.take(closed); {
	case errors.Is(err, ErrRunning):
		return ErrCloseRunning
	case err != nil:
		return nil // closed already
	}
	// The loop holds no more from here on: set before it gets the turn.
	l.gate.open.Store(true)
	close(l.closing)
wait:
	for {
		select {
		case l.gate.resume <- struct{}{}:
			// The loop was paused: it runs the teardown and returns.
		case <-l.gate.paused:
			// Not expected: the loop, paused, saw Open set before it
			// resumed. Resume it at the next pass rather than hang.
		case <-l.done:
			break wait
		}
	}
	l.cancel()
	if l.panicked != nil {
		panic(l.panicked)
	}
	l.mu.Lock()
	errs, nfail := l.failures, l.nfail
	l.failures = nil
	l.mu.Unlock()
	if nfail == 0 && l.result != nil {
		// OpenLoop fails only with the failures recorded above; keep
		// anything else rather than lose it.
		errs = append(errs, l.result)
	}
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return errors.Join(errs...)
}
