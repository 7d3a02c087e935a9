package asyncio

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/trioasyncio/trioasyncio/trio"
)

// This file is the boundary between trio-flavored code (ordinary Go,
// goroutine-safe, cancelled through its ctx) and asyncio-flavored code
// (callbacks and coroutines on a loop, cancelled through Task.Cancel):
// OpenLoop, Stop and WaitStopped; from trio code RunAsyncio, StartTask,
// RunFuture, RunSync and Synchronize; from asyncio code RunTrio. The
// block's own state and teardown are in block.go.

// ErrWrongFlavor is returned by the trio-flavored boundary functions
// (RunAsyncio, StartTask, RunFuture, RunSync, Synchronize, WaitStopped)
// when they are called from asyncio-flavored code: a task or a callback of
// the loop, which they would block forever. From there, use Await (or
// RunTrio).
var ErrWrongFlavor = errors.New("asyncio: trio-flavored call from asyncio code (a task or callback of the loop) would block the loop; use Await")

// OpenLoop opens an asyncio loop for the duration of body (trio-asyncio's
// open_loop).
//
// The loop starts at once, on a goroutine of its own in a trio nursery
// (the loop's nursery, where RunTrio calls run too). body runs on the
// caller's goroutine as trio-flavored code, with a ctx that carries the
// loop: GetRunningLoop, RunAsyncio, RunFuture and RunSync find it there.
//
// Cancellation: cancelling ctx reaches only body. The loop, its tasks and
// its trio calls are shielded from it until body has returned and the
// teardown below is done; the cancellation then leaves OpenLoop as body's
// error, to be absorbed by the scope that caused it. A RunAsyncio in
// flight turns it into Task.Cancel (see RunAsyncio).
//
// Teardown, when body returns (normally, with an error, by panic, by
// runtime.Goexit or cancelled): the callbacks body scheduled before
// returning run; then every task not done is cancelled, and every trio
// call (RunTrio) has its scope cancelled, at once; the loop keeps running
// meanwhile, so cleanup code can still await and still cross the boundary
// both ways (RunTrio, RunSync, RunFuture); tasks and trio calls started
// during teardown are cancelled at once too (where trio-asyncio leaves
// such a task pending: here every task is done once OpenLoop returns),
// and RunAsyncio, which would only start a task to cancel it, returns
// ErrLoopClosed. When all of them
// have ended (or the loop runs out of work while some task still refuses
// to, with no trio call left that could wake it: then those tasks are
// stopped, their deferred calls run), pending callbacks and timers are
// dropped, the loop's executor is shut down and waited for, and the loop
// closes: CallSoonThreadsafe returns ErrLoopClosed, boundary calls return
// it. After OpenLoop returns, no goroutine it started is alive and no
// callback of it runs.
//
// Errors: OpenLoop returns body's error, joined with every error the
// default exception handler received (a panic in a callback, a task
// exception never retrieved…): the default handler logs the error and
// cancels body, so that the block fails with it. A custom handler
// (SetExceptionHandler) decides for itself. A panic in a task or a trio
// call (RunTrio) fails its future; if nobody has retrieved it when the
// loop closes, it goes to the exception handler then, at the latest. A
// panic in body is re-raised once the teardown is done.
// The error of a task that the teardown cancelled but that ended failing,
// if nobody retrieved it, goes to the exception handler once the teardown
// is done ("unhandled error during loop shutdown").
//
// Any number of loops may be open at once, nested or side by side; each
// is independent, and the innermost one is the one ctx carries. It panics
// if body is nil.
func OpenLoop(ctx context.Context, body func(ctx context.Context, loop *Loop) error) error {
	if body == nil {
		panic("asyncio: OpenLoop with a nil body")
	}
	return openLoop(ctx, nil, body)
}

// Stop asks the loop to stop at the end of its current iteration
// (asyncio's loop.stop). Inside an OpenLoop block the loop never stops
// serving callbacks before the block exits: Stop only wakes WaitStopped,
// so nothing can hang after a manual Stop. Goroutine-safe.
func (l *Loop) Stop() {
	l.blk.stopReq.Store(true)
	l.in.wakeup()
}

// WaitStopped blocks until the loop processes a Stop (trio-asyncio's
// wait_stopped), and re-arms on each call, so that rounds of "run until
// stopped" can repeat: each call waits for one Stop, a Stop that no call
// has seen yet counting at once. It returns ctx's cancellation if ctx is
// done first, ErrLoopClosed once the loop has closed, and ErrWrongFlavor
// from asyncio code. Trio-flavored.
func (l *Loop) WaitStopped(ctx context.Context) error {
	if err := l.checkTrioFlavor(ctx, "WaitStopped"); err != nil {
		return err
	}
	b := &l.blk
	b.mu.Lock()
	if b.stopSeen {
		b.stopSeen = false
		b.mu.Unlock()
		return nil
	}
	if b.stopCh == nil {
		b.stopCh = make(chan struct{})
	}
	ch := b.stopCh
	b.stopWaiters++
	b.mu.Unlock()
	guard := l.armFlavorGuard()
	defer guard.stop()
	var err error
wait:
	for {
		select {
		case <-ch:
			return nil
		case <-ctx.Done():
			err = trio.Checkpoint(ctx)
			break wait
		case <-b.done:
			err = ErrLoopClosed
			break wait
		case <-guard.C():
			if l.blocked(&guard) {
				err = wrongFlavor("WaitStopped")
				break wait
			}
		}
	}
	// Leave without a Stop: if nobody else waits, disarm the channel, so
	// that the next Stop counts for the next call instead of vanishing.
	// stopped closes ch under mu: a Stop that came meanwhile is ours.
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-ch:
		return nil
	default:
	}
	if b.stopWaiters--; b.stopWaiters == 0 {
		b.stopCh = nil
	}
	return err
}

func wrongFlavor(what string) error {
	return fmt.Errorf("%w (%s from the loop's own code, with a ctx of trio code it captured: use the ctx it was given)", ErrWrongFlavor, what)
}

// checkTrioFlavor refuses a blocking boundary call made with the ctx of
// the loop's own tasks and callbacks. (One made with a captured trio ctx
// is caught while it waits: see flavorGuard.)
func (l *Loop) checkTrioFlavor(ctx context.Context, what string) error {
	if ctx == l.ctxI || ctx.Value(taskKey{}) != nil {
		return fmt.Errorf("%w (%s)", ErrWrongFlavor, what)
	}
	if l.debug.Load() && goid() == l.loopGid.Load() {
		return fmt.Errorf("%w (%s on the loop's goroutine)", ErrWrongFlavor, what)
	}
	return nil
}

// boundaryLoop is the loop a trio-flavored boundary call made with ctx
// works on.
func boundaryLoop(ctx context.Context, what string) (*Loop, error) {
	l, err := GetRunningLoop(ctx)
	if err != nil {
		if l = loopOf(ctx); l != nil {
			return nil, ErrLoopClosed
		}
		return nil, err
	}
	return l, l.checkTrioFlavor(ctx, what)
}

// RunOption is an option of RunAsyncio and RunFuture.
type RunOption struct {
	abandon bool
}

// AbandonOnCancel makes RunAsyncio or RunFuture return ctx's cancellation
// as soon as ctx is done, after asking the task or future to cancel,
// instead of waiting for it to end (trio-asyncio's cancellable=True). Use
// it only for side-effect-free work: whatever the task does afterwards,
// its result is dropped.
func AbandonOnCancel() RunOption { return RunOption{abandon: true} }

// RunAsyncio runs coro as a task on the loop of ctx and returns its
// result to trio-flavored code (trio-asyncio's aio_as_trio /
// run_aio_coroutine). The coroutine's ctx carries ctx's values, not its
// cancellation: asyncio code is cancelled the asyncio way.
//
// Cancellation: when ctx is done, the task is cancelled once
// (Task.Cancel) and RunAsyncio keeps waiting. If the task then ends
// cancelled, RunAsyncio returns trio's cancellation with the task's
// CancelledError chained (errors.Is matches trio.ErrCancelled and
// ErrCancelled), which the trio scope that caused it absorbs. If the task
// completes anyway, RunAsyncio returns its result (the next checkpoint of
// the cancelled scope fails as usual); if it fails, its error. If it
// refuses to stop, RunAsyncio keeps waiting, unless AbandonOnCancel was
// given. A CancelledError that RunAsyncio did not cause (the task
// cancelled itself, or was cancelled by other asyncio code) is returned
// unchanged, as asyncio's, not trio's (one that chains the cancellation
// of a trio call the task awaited comes back without it: see
// asyncioOnly).
//
// It returns ErrNoRunningLoop without a loop in ctx, ErrLoopClosed if the
// loop is closing (its block has exited: the teardown takes no new
// tasks) or has closed, or closes before the task ends, and
// ErrWrongFlavor from the loop's own tasks and callbacks, even when they
// call it with a ctx of trio code they captured (that one is noticed
// once the loop has been blocked for a few milliseconds). It panics if
// coro is nil. Cost: the task, the call (one allocation, with the
// handles it queues), two hand-offs between goroutines.
func RunAsyncio[T any](ctx context.Context, coro func(ctx context.Context) (T, error), opts ...RunOption) (T, error) {
	if coro == nil {
		panic("asyncio: RunAsyncio with a nil coroutine")
	}
	c, err := newBridgeCall(ctx, coro, "RunAsyncio")
	if err != nil {
		var zero T
		return zero, err
	}
	return c.wait(ctx, opts)
}

// StartTask creates a task running coro on the loop of ctx, from
// trio-flavored code, and returns it once it is scheduled (asyncio's
// create_task, for code that is not on the loop). The coroutine's ctx
// carries ctx's values, not its cancellation. The task runs on in the
// background until it ends or the block's teardown cancels it; wait for
// it with RunFuture (from trio code) or Await (from asyncio code), cancel
// it from the loop (RunSync) — its methods are loop-confined.
//
// It returns ErrNoRunningLoop without a loop in ctx, ErrLoopClosed once
// the block's teardown has begun, ErrWrongFlavor from the loop's own
// code (call CreateTask there), and ctx's cancellation if ctx is done
// before the task is created (then it never is). It panics if coro is
// nil.
func StartTask[T any](ctx context.Context, coro func(ctx context.Context) (T, error), opts ...TaskOption) (*Task[T], error) {
	if coro == nil {
		panic("asyncio: StartTask with a nil coroutine")
	}
	l, err := boundaryLoop(ctx, "StartTask")
	if err != nil {
		return nil, err
	}
	parent := &loopCtx{Context: context.WithoutCancel(ctx), loop: l}
	if l.debug.Load() {
		opts = append(opts[:len(opts):len(opts)], TaskOption{src: captureSource(1)})
	}
	return runSync(ctx, l, "StartTask", func(context.Context) (*Task[T], error) {
		if l.state >= stateDraining {
			return nil, errClosing
		}
		return CreateTask(parent, coro, opts...), nil
	})
}

// errClosing refuses new tasks from trio code once the loop's teardown
// has begun.
var errClosing = fmt.Errorf("%w (the teardown of its OpenLoop block has begun: the loop takes no new tasks from trio code)", ErrLoopClosed)

// RunFuture waits for fut, a future or task of any loop, and returns its
// result to trio-flavored code (trio-asyncio's run_aio_future).
// Cancellation works as for RunAsyncio: when ctx is done, fut is cancelled
// once and RunFuture keeps waiting (unless AbandonOnCancel). It returns
// ErrLoopClosed if fut's loop closes first, and ErrWrongFlavor from the
// loop's own tasks and callbacks. It panics if fut is nil.
func RunFuture[T any](ctx context.Context, fut AwaitableOf[T], opts ...RunOption) (T, error) {
	checkAwaitable(fut, "RunFuture")
	l := fut.Loop()
	if l == nil {
		panic("asyncio: RunFuture on a future not made by NewFuture")
	}
	if err := l.checkTrioFlavor(ctx, "RunFuture"); err != nil {
		var zero T
		return zero, err
	}
	c := &bridgeCall[T]{loop: l, fut: fut, done: make(chan struct{})}
	c.startH = Handle{run: loopCall(c)}
	if err := l.in.post(&c.startH); err != nil {
		var zero T
		return zero, err
	}
	return c.wait(ctx, opts)
}

// bridgeCall is one RunAsyncio or RunFuture call: a trio goroutine's wait
// for a task or future of a loop. It is one allocation with the handles
// it queues on the loop, which run it through onLoop.
type bridgeCall[T any] struct {
	loop   *Loop
	coro   func(ctx context.Context) (T, error) // RunAsyncio, until the task is created
	parent loopCtx                              // RunAsyncio: the task's parent ctx
	fut    AwaitableOf[T]                       // the task, or RunFuture's future (loop-confined)
	startH Handle                               // creates the task, or watches the future
	doneH  Handle                               // fut's done callback
	gone   atomic.Bool                          // the caller left (ErrWrongFlavor): create no task
	src    *source                              // debug mode: where RunAsyncio was called

	// The outcome, written on the loop before done is closed.
	done      chan struct{}
	v         T
	err       error
	cancelled bool
}

// newBridgeCall posts RunAsyncio's call to the loop of ctx.
func newBridgeCall[T any](ctx context.Context, coro func(ctx context.Context) (T, error), what string) (*bridgeCall[T], error) {
	l, err := boundaryLoop(ctx, what)
	if err != nil {
		return nil, err
	}
	c := &bridgeCall[T]{loop: l, coro: coro, done: make(chan struct{})}
	if l.debug.Load() {
		c.src = captureSource(2) // the user's call creates the task, for people
	}
	// The task gets the caller's values and the loop, none of the
	// caller's cancellation (asyncio code is cancelled the asyncio way).
	c.parent = loopCtx{Context: context.WithoutCancel(ctx), loop: l}
	c.startH = Handle{run: loopCall(c)}
	if err := l.in.post(&c.startH); err != nil {
		return nil, err
	}
	return c, nil
}

// onLoop runs the call's handles on the loop.
func (c *bridgeCall[T]) onLoop(h *Handle) {
	switch {
	case h == &c.doneH:
		c.finished()
	case c.coro != nil:
		c.createTask()
	default:
		c.watch()
	}
}

// createTask creates RunAsyncio's task, unless the block has exited: the
// loop then takes no new work.
func (c *bridgeCall[T]) createTask() {
	coro := c.coro
	c.coro = nil
	if c.gone.Load() {
		return
	}
	if c.loop.state >= stateDraining {
		c.err = errClosing
		close(c.done)
		return
	}
	if c.src != nil {
		c.fut = CreateTask(&c.parent, coro, TaskOption{src: c.src})
	} else {
		c.fut = CreateTask(&c.parent, coro) // no options: no allocation for them
	}
	c.watch()
}

// watch adds the done callback that reports fut's outcome.
func (c *bridgeCall[T]) watch() {
	c.doneH = Handle{run: loopCall(c)}
	c.fut.base().addCallback(&c.doneH)
}

// finished records fut's outcome and wakes the caller.
func (c *bridgeCall[T]) finished() {
	c.v, c.err = c.fut.Result()
	c.cancelled = c.fut.Cancelled()
	close(c.done)
}

// cancel forwards the caller's cancellation, whose reason becomes the
// CancelledError's message.
func (c *bridgeCall[T]) cancel(reason string) {
	if c.fut != nil {
		c.fut.Cancel(reason)
	}
}

// cancelReason is what a trio cancellation says, for the CancelledError
// of the task it cancels: "cancelled by trio: deadline exceeded".
func cancelReason(ctx context.Context) string {
	cause := context.Cause(ctx)
	var ce *trio.CancelledError
	switch {
	case errors.As(cause, &ce) && ce.Reason != "":
		return "cancelled by trio: " + ce.Reason
	case cause != nil:
		return "cancelled by trio: " + cause.Error()
	}
	return "cancelled by trio"
}

func (c *bridgeCall[T]) wait(ctx context.Context, opts []RunOption) (T, error) {
	l := c.loop
	var zero T
	var cancelled bool
	guard := l.armFlavorGuard()
	defer guard.stop()
wait:
	for {
		select {
		case <-c.done:
			break wait
		case <-l.blk.done:
			break wait
		case <-guard.C():
			if l.blocked(&guard) {
				c.gone.Store(true)
				return zero, wrongFlavor("RunAsyncio or RunFuture")
			}
		case <-ctx.Done():
			// Cancel once; if the loop is closing and refuses, its close
			// ends the wait below.
			reason := cancelReason(ctx)
			_, err := l.CallSoonThreadsafe(func(context.Context) { c.cancel(reason) })
			cancelled = err == nil
			for _, o := range opts {
				if o.abandon {
					return zero, trio.Checkpoint(ctx)
				}
			}
			select {
			case <-c.done:
			case <-l.blk.done:
			}
			break wait
		}
	}
	select {
	case <-c.done:
	default:
		return zero, ErrLoopClosed // closed without an outcome
	}
	if c.cancelled {
		if cancelled {
			return zero, &boundaryCancelled{trio: trio.Checkpoint(ctx), asyncio: c.err}
		}
		return zero, asyncioOnly(c.err)
	}
	return c.v, c.err
}

// asyncioOnly returns a CancelledError that the caller's ctx did not
// cause as asyncio's alone. One that chains the cancellation of a trio
// call (the task ended cancelled by a RunTrio call it awaited, whose
// scope was cancelled) would read in trio code as trio's cancellation
// (errors.Is trio.ErrCancelled, context.Canceled), which only a scope of
// the caller's may cause: that scope would not absorb it, and everything
// above would take it for its own. Such an error is replaced by a
// CancelledError with the same message; any other is returned unchanged.
func asyncioOnly(err error) error {
	if !errors.Is(err, trio.ErrCancelled) {
		return err
	}
	var ce *CancelledError
	if errors.As(err, &ce) {
		return &CancelledError{Msg: ce.Msg}
	}
	return &CancelledError{}
}

// boundaryCancelled is what RunAsyncio and RunFuture return when the
// cancellation they forwarded ended the task: trio's cancellation, with
// asyncio's CancelledError chained.
type boundaryCancelled struct {
	trio, asyncio error
}

func (e *boundaryCancelled) Error() string {
	return e.trio.Error() + " (in asyncio: " + e.asyncio.Error() + ")"
}

// Unwrap returns trio's cancellation, so that the trio scope that caused
// it absorbs the whole error (a []error would make it a group, which a
// scope splits); Is and As also see the asyncio side.
func (e *boundaryCancelled) Unwrap() error { return e.trio }

func (e *boundaryCancelled) Is(target error) bool { return errors.Is(e.asyncio, target) }

// As looks at trio's side first: the asyncio side may chain a trio
// cancellation of its own (the task was awaiting a RunTrio call, whose
// scope the forwarded cancellation cancelled), and a scope asking for
// the *trio.CancelledError must find the one that names it, or the
// cancellation would escape the scope that caused it.
func (e *boundaryCancelled) As(target any) bool {
	return errors.As(e.trio, target) || errors.As(e.asyncio, target)
}

// RunSync runs fn on the loop of ctx, as a callback, and returns its
// result to trio-flavored code: the way trio goroutines use loop-confined
// asyncio objects (fut.SetResult, transport.Write, event.Set). fn's ctx
// is a callback's: it carries the loop (CreateTask works with it) and
// the caller's values, not the caller's cancellation. If ctx is done
// before fn has started, fn never runs and RunSync returns the
// cancellation; once fn has started, RunSync waits for it. A panic in fn
// is re-raised in the caller's goroutine. It returns ErrLoopClosed if the
// loop closes before fn runs, and ErrWrongFlavor from the loop's own
// tasks and callbacks (call fn directly there). It panics if fn is nil.
func RunSync[T any](ctx context.Context, fn func(ctx context.Context) (T, error)) (T, error) {
	if fn == nil {
		panic("asyncio: RunSync with a nil function")
	}
	l, err := boundaryLoop(ctx, "RunSync")
	if err != nil {
		var zero T
		return zero, err
	}
	cbCtx := &loopCtx{Context: context.WithoutCancel(ctx), loop: l}
	return runSync(ctx, l, "RunSync", func(context.Context) (T, error) { return fn(cbCtx) })
}

// Synchronize waits until every callback queued on the loop before the
// call has run (trio-asyncio's synchronize). Trio-flavored; errors as
// RunSync's.
func (l *Loop) Synchronize(ctx context.Context) error {
	if err := l.checkTrioFlavor(ctx, "Synchronize"); err != nil {
		return err
	}
	_, err := runSync(ctx, l, "Synchronize", func(context.Context) (struct{}, error) { return struct{}{}, nil })
	return err
}

const (
	syncQueued int32 = iota
	syncStarted
	syncAbandoned
)

// runSync runs fn as a callback on l and waits for it; see RunSync.
func runSync[T any](ctx context.Context, l *Loop, what string, fn func(ctx context.Context) (T, error)) (T, error) {
	var (
		state atomic.Int32
		done  = make(chan struct{})
		v     T
		err   error
		p     *trio.PanicError
		zero  T
	)
	if _, err := l.CallSoonThreadsafe(func(cctx context.Context) {
		if !state.CompareAndSwap(syncQueued, syncStarted) {
			return
		}
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				p = trio.NewPanicError(r)
			}
		}()
		v, err = fn(cctx)
	}); err != nil {
		return zero, err
	}
	guard := l.armFlavorGuard()
	defer guard.stop()
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		case <-ctx.Done():
			if state.CompareAndSwap(syncQueued, syncAbandoned) {
				return zero, trio.Checkpoint(ctx)
			}
			<-done
			waiting = false
		case <-l.blk.done:
			if state.CompareAndSwap(syncQueued, syncAbandoned) {
				return zero, ErrLoopClosed
			}
			<-done
			waiting = false
		case <-guard.C():
			if l.blocked(&guard) && state.CompareAndSwap(syncQueued, syncAbandoned) {
				return zero, wrongFlavor(what)
			}
		}
	}
	if p != nil {
		panic(p)
	}
	return v, err
}

// RunTrio runs trio-flavored fn from asyncio code and returns the future
// of its result (trio-asyncio's trio_as_aio / trio_as_future). fn starts
// from the loop's next iteration, on a goroutine of the loop's nursery,
// under a cancel scope of its own, with ctx's values; the cancellation of
// the code around the OpenLoop block does not reach it: the loop's
// teardown does.
//
// fn must use the ctx it is given, not the task's: the task's ctx is
// never cancelled, so trio code that waits with it escapes fn's scope
// (neither the future's cancellation nor the teardown stops it). Write
//
//	asyncio.RunTrio(ctx, func(ctx context.Context) (T, error) { … ctx … })
//
// shadowing the task's ctx. In debug mode, a RunTrio function that waits
// with the task's ctx panics, failing the future with a message saying
// so.
//
// Cancellation: cancelling the future (directly, or by cancelling the
// task that awaits it) cancels fn's scope, and the future stays pending
// until fn has returned: if fn ends with that cancellation, the future is
// cancelled, the message kept, its CancelledError wrapping trio's
// cancellation; if fn finishes anyway, the future gets its result; if it
// fails while unwinding, that error. Cancelled before fn started (in
// particular, in the step that called RunTrio), fn never runs and the
// future is cancelled. A panic in fn fails the future with a
// *trio.PanicError carrying the stack.
//
// Loop-confined: call it from a task or callback of the loop. It panics
// if fn is nil or ctx carries no loop.
func RunTrio[T any](ctx context.Context, fn func(ctx context.Context) (T, error)) *Future[T] {
	if fn == nil {
		panic("asyncio: RunTrio with a nil function")
	}
	l := loopOf(ctx)
	if l == nil {
		panic(ErrNoRunningLoop)
	}
	l.confined("RunTrio")
	r := &trioRun[T]{fn: fn, loop: l}
	f := &r.f
	f.core.loop = l
	x := f.core.extra()
	if l.debug.Load() {
		x.dbg = captureSource(1)
	}
	if l.state > stateDraining {
		// The loop is closing (a stopped coroutine's deferred call): the
		// call never starts.
		f.core.cancelWith(&CancelledError{Msg: "event loop is closing"})
		return f
	}
	x.onCancel = &r.call
	// fn sees the caller's values, minus its task (trio code is not in a
	// task: Await must not believe it is).
	r.values = context.WithValue(context.WithoutCancel(ctx), taskKey{}, nil)
	l.addTrioCall(&r.call)
	if l.state == stateDraining {
		r.call.scope.Cancel() // started during teardown: runs cancelled
	}
	// fn starts from the loop's next iteration (trio-asyncio queues an
	// AsyncHandle): a Cancel in the same step means it never runs.
	r.startH = Handle{run: loopCall(r)}
	l.ready = append(l.ready, &r.startH)
	return f
}

// trioRun is one RunTrio call. Its future is its first field, so that the
// future's cleanup (an exception never retrieved) is on the call's
// allocation; the handles it queues run it through onLoop.
type trioRun[T any] struct {
	f       Future[T]
	loop    *Loop
	values  context.Context // the caller's values, for fn's ctx
	call    trioCall
	fn      func(ctx context.Context) (T, error)
	startH  Handle
	settleH Handle

	// fn's outcome, written by its goroutine before it posts settleH.
	v     T
	fnErr error
	err   error // what fn's scope returned
	p     *trio.PanicError
}

// onLoop runs the call's handles on the loop.
func (r *trioRun[T]) onLoop(h *Handle) {
	if h == &r.settleH {
		r.settle()
		return
	}
	r.start()
}

// start starts fn in the loop's nursery, unless the future was cancelled
// meanwhile.
func (r *trioRun[T]) start() {
	if r.call.requested {
		r.settle() // fn never runs
		return
	}
	r.call.started = true
	r.loop.blk.nursery.StartSoon(r.run)
}

// run runs fn under the call's scope, on a goroutine of the loop's
// nursery, and posts the outcome to the loop.
func (r *trioRun[T]) run(context.Context) error {
	l := r.loop
	if l.debug.Load() {
		defer l.exitTrioCall(l.enterTrioCall())
	}
	r.err = r.call.scope.RunUnder(l.blk.nctx, r.values, r.callFn)
	r.settleH = Handle{run: loopCall(r)}
	if err := l.in.post(&r.settleH); err != nil {
		l.removeTrioCall(&r.call) // the loop has closed: nobody can await the outcome
	}
	return nil
}

func (r *trioRun[T]) callFn(ctx context.Context) error {
	defer func() {
		if v := recover(); v != nil {
			r.p = trio.NewPanicError(v)
		}
	}()
	r.v, r.fnErr = r.fn(ctx)
	return r.fnErr
}

// settle gives the future the call's outcome.
func (r *trioRun[T]) settle() {
	c := &r.f.core
	r.loop.removeTrioCall(&r.call)
	c.x.onCancel = nil
	r.fn = nil
	if c.state != statePending {
		return // settled by hand meanwhile
	}
	msg := r.call.msg
	switch err, fnErr := r.err, r.fnErr; {
	case !r.call.started:
		c.cancelWith(&CancelledError{Msg: msg})
	case r.p != nil:
		c.setException(r.p, "")
	case err == nil && fnErr != nil:
		// fn ended with its scope's cancellation, which the scope
		// absorbed: the future is cancelled.
		c.cancelWith(&CancelledError{Msg: msg, cause: fnErr})
	case err == nil:
		r.f.result = r.v
		c.state = stateFinished
		c.scheduleCallbacks()
	case errors.Is(err, trio.ErrCancelled):
		c.cancelWith(&CancelledError{Msg: msg, cause: err})
	default:
		c.setException(err, "")
	}
}

// trioCall is the part of a RunTrio call that does not depend on its
// result type. Loop-confined, but for scope.
type trioCall struct {
	scope     trio.CancelScope
	started   bool   // fn was started
	requested bool   // the future's cancellation was requested
	msg       string // its message
}

// cancel is the future's Cancel while fn has not returned (on the loop):
// it cancels fn's scope, and the future stays pending until fn returns
// (or, if fn has not started, until start finds it will never start).
func (c *trioCall) cancel(msg string) bool {
	if !c.requested {
		c.requested, c.msg = true, msg
	}
	reason := "cancelled by asyncio"
	if msg != "" {
		reason += ": " + msg
	}
	c.scope.CancelWithReason(reason)
	return true
}
