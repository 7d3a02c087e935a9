package asyncio

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio/internal/testhooks"
	"github.com/trioasyncio/trioasyncio/trio"
)

// This file is the seed's boundary between trio-flavored and
// asyncio-flavored code: OpenLoop, RunAsyncio, RunFuture, RunSync,
// RunTrio, Stop and WaitStopped (DESIGN.md, S1–S11).

// ErrWrongFlavor is returned by the trio-flavored boundary functions
// (RunAsyncio, RunFuture, RunSync, Synchronize, WaitStopped) when they are
// called from asyncio-flavored code: a task or a callback of the loop,
// which they would block forever. From there, use Await (or RunTrio).
var ErrWrongFlavor = errors.New("asyncio: trio-flavored call from asyncio code (a task or callback of the loop) would block the loop; use Await")

// OpenLoop opens an asyncio loop for the duration of body (trio-asyncio's
// open_loop; S1–S3, S9).
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
// Teardown, when body returns (normally, with an error, by panic or
// cancelled): the callbacks body scheduled before returning run; then
// every task not done is cancelled, and every trio call (RunTrio) has its
// scope cancelled, at once; the loop keeps running meanwhile, so cleanup
// code can still await and still cross the boundary both ways (RunTrio,
// RunSync, RunFuture); tasks and trio calls started during teardown are
// cancelled at once too, and RunAsyncio, which would only start a task to
// cancel it, returns ErrLoopClosed. When all of them have ended (or the
// loop runs out of work while some task still refuses to, with no trio
// call left that could wake it: then those tasks are stopped, their
// deferred calls run), pending callbacks and timers are dropped, the
// loop's executor is shut down and waited for, and the loop closes:
// CallSoonThreadsafe returns ErrLoopClosed, boundary calls return it.
// After OpenLoop returns, no goroutine it started is alive and no
// callback of it runs (quarantine).
//
// Errors: OpenLoop returns body's error, joined with every error the
// default exception handler received (a panic in a callback, a task
// exception never retrieved…): the default handler logs the error and
// cancels body, so that the block fails with it. A custom handler
// (SetExceptionHandler) decides for itself. A panic in a task or a trio
// call (RunTrio) fails its future; if nobody has retrieved it when the
// loop closes, it goes to the exception handler then, at the latest. A
// panic in body is re-raised once the teardown is done.
//
// Any number of loops may be open at once, nested or side by side (S10);
// each is independent, and the innermost one is the one ctx carries.
func OpenLoop(ctx context.Context, body func(ctx context.Context, loop *Loop) error) error {
	if body == nil {
		panic("asyncio: OpenLoop with a nil body")
	}
	return openLoop(ctx, nil, body)
}

func init() {
	testhooks.OpenLoop = func(ctx context.Context, g *testhooks.Gate, body func(ctx context.Context) error) error {
		return openLoop(ctx, g, func(ctx context.Context, _ *Loop) error { return body(ctx) })
	}
}

func openLoop(ctx context.Context, g *testhooks.Gate, body func(ctx context.Context, loop *Loop) error) error {
	l := newLoop(ctx)
	l.gate = g
	var bodyErr error
	var bodyPanic *trio.PanicError
	// The loop's nursery is shielded: the outer cancellation reaches only
	// body (S9), and its trio calls are cancelled by the teardown.
	var shield trio.CancelScope
	shield.SetShield(true)
	shield.Run(ctx, func(sctx context.Context) error {
		return trio.OpenNursery(sctx, func(nctx context.Context, n *trio.Nursery) error {
			l.nursery, l.nctx = n, nctx
			n.StartSoon(func(context.Context) error {
				l.run()
				return nil
			})
			bodyErr, bodyPanic = l.runBody(ctx, body)
			l.shutdown()
			return nil
		})
	})
	if bodyPanic != nil {
		panic(bodyPanic)
	}
	l.mu.Lock()
	errs := l.failures
	l.mu.Unlock()
	if bodyErr != nil {
		errs = append([]error{bodyErr}, errs...)
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

// runBody runs body under the body scope, which a loop failure cancels.
func (l *Loop) runBody(ctx context.Context, body func(ctx context.Context, loop *Loop) error) (err error, p *trio.PanicError) {
	defer func() {
		if v := recover(); v != nil {
			p = trio.NewPanicError(v)
		}
	}()
	err = l.bodyScope.Run(ctx, func(bctx context.Context) error {
		return body(&loopCtx{Context: bctx, loop: l}, l)
	})
	return err, nil
}

// shutdown starts the teardown: it queues beginShutdown behind the
// callbacks already queued, so they run first.
func (l *Loop) shutdown() {
	if g := l.gate; g != nil {
		g.Open.Store(true)
	}
	l.enqueue(&Handle{fn: l.beginShutdown, ctx: l.ctxI, loop: l})
}

// beginShutdown cancels every task and every trio call of the loop.
func (l *Loop) beginShutdown(context.Context) {
	l.state = stateDraining
	for c := l.tasks.Front(); c != nil; c = l.tasks.Next(c) {
		c.owner.Cancel("")
	}
	l.mu.Lock()
	calls := make([]*trioCall, 0, len(l.trioCalls))
	for c := range l.trioCalls {
		calls = append(calls, c)
	}
	l.mu.Unlock()
	for _, c := range calls {
		c.scope.Cancel()
	}
}

// fail makes the OpenLoop block fail with err: the default exception
// handler's verdict.
func (l *Loop) fail(err error) {
	l.mu.Lock()
	l.failures = append(l.failures, err)
	l.mu.Unlock()
	if g := l.gate; g != nil && g.Failed != nil {
		g.Failed(err)
	}
	l.bodyScope.Cancel()
}

// hold makes the loop goroutine take turns with asynciotest's caller.
func (l *Loop) hold() {
	g := l.gate
	if g == nil || g.Open.Load() {
		return
	}
	g.Held.Store(true)
	g.Paused <- struct{}{}
	<-g.Resume
	g.Held.Store(false)
}

// Stop asks the loop to stop at the end of its current iteration
// (asyncio's loop.stop). Inside an OpenLoop block the loop never stops
// serving callbacks before the block exits: Stop only wakes WaitStopped,
// so nothing can hang after a manual Stop (S4). Goroutine-safe.
func (l *Loop) Stop() {
	l.stopReq.Store(true)
	l.wakeup()
}

// stopped acts on Stop, at the end of an iteration.
func (l *Loop) stopped() {
	l.stopReq.Store(false)
	l.mu.Lock()
	if l.stopCh != nil {
		close(l.stopCh)
		l.stopCh, l.stopWaiters = nil, 0
	} else {
		l.stopSeen = true
	}
	l.mu.Unlock()
	l.hold()
}

// WaitStopped blocks until the loop processes a Stop (trio-asyncio's
// wait_stopped, S4), and re-arms on each call, so that rounds of
// "run until stopped" can repeat: each call waits for one Stop, a Stop
// that no call has seen yet counting at once. It returns ctx's
// cancellation if ctx is done first, ErrLoopClosed once the loop has
// closed, and ErrWrongFlavor from asyncio code. Trio-flavored.
func (l *Loop) WaitStopped(ctx context.Context) error {
	if err := l.checkTrioFlavor(ctx, "WaitStopped"); err != nil {
		return err
	}
	l.mu.Lock()
	if l.stopSeen {
		l.stopSeen = false
		l.mu.Unlock()
		return nil
	}
	if l.stopCh == nil {
		l.stopCh = make(chan struct{})
	}
	ch := l.stopCh
	l.stopWaiters++
	l.mu.Unlock()
	var err error
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		err = trio.Checkpoint(ctx)
	case <-l.closedCh:
		err = ErrLoopClosed
	}
	// Leave without a Stop: if nobody else waits, disarm the channel, so
	// that the next Stop counts for the next call instead of vanishing.
	// stopped closes ch under mu: a Stop that came meanwhile is ours.
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-ch:
		return nil
	default:
	}
	if l.stopWaiters--; l.stopWaiters == 0 {
		l.stopCh = nil
	}
	return err
}

// checkTrioFlavor refuses a blocking boundary call made from the loop's
// own tasks and callbacks.
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
// instead of waiting for it to end (the seed's cancellable=True). Use it
// only for side-effect-free work: whatever the task does afterwards, its
// result is dropped.
func AbandonOnCancel() RunOption { return RunOption{abandon: true} }

// RunAsyncio runs coro as a task on the loop of ctx and returns its
// result to trio-flavored code (trio-asyncio's aio_as_trio /
// run_aio_coroutine; S5, S7). The coroutine's ctx carries ctx's values,
// not its cancellation: asyncio code is cancelled the asyncio way.
//
// Cancellation (S7): when ctx is done, the task is cancelled once
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
// ErrWrongFlavor from the loop's own tasks and callbacks. Cost: the
// task, the call (one allocation, with the callbacks it queues), two
// hand-offs between goroutines.
func RunAsyncio[T any](ctx context.Context, coro func(ctx context.Context) (T, error), opts ...RunOption) (T, error) {
	if coro == nil {
		panic("asyncio: RunAsyncio with a nil coroutine")
	}
	l, err := boundaryLoop(ctx, "RunAsyncio")
	if err != nil {
		var zero T
		return zero, err
	}
	c := &bridgeCall[T]{values: context.WithoutCancel(ctx), loop: l, coro: coro, done: make(chan struct{})}
	c.startH = Handle{fn: bridgeCreateTask, ctx: c, loop: l}
	if err := l.enqueue(&c.startH); err != nil {
		var zero T
		return zero, err
	}
	return c.wait(ctx, opts)
}

// errClosing is RunAsyncio's refusal once the loop's teardown has begun.
var errClosing = fmt.Errorf("%w (RunAsyncio during the teardown of its OpenLoop block: the loop takes no new tasks)", ErrLoopClosed)

// RunFuture waits for fut, a future or task of any loop, and returns its
// result to trio-flavored code (trio-asyncio's run_aio_future; S5, S7).
// Cancellation works as for RunAsyncio: when ctx is done, fut is cancelled
// once and RunFuture keeps waiting (unless AbandonOnCancel). It returns
// ErrLoopClosed if fut's loop closes first, and ErrWrongFlavor from the
// loop's own tasks and callbacks.
func RunFuture[T any](ctx context.Context, fut AwaitableOf[T], opts ...RunOption) (T, error) {
	l := fut.Loop()
	if l == nil {
		panic("asyncio: RunFuture on a future not made by NewFuture")
	}
	if err := l.checkTrioFlavor(ctx, "RunFuture"); err != nil {
		var zero T
		return zero, err
	}
	c := &bridgeCall[T]{loop: l, fut: fut, done: make(chan struct{})}
	c.startH = Handle{fn: bridgeWatch, ctx: c, loop: l}
	if err := l.enqueue(&c.startH); err != nil {
		var zero T
		return zero, err
	}
	return c.wait(ctx, opts)
}

// bridgeCall is one RunAsyncio or RunFuture call: a trio goroutine's wait
// for a task or future of a loop. It is one allocation with the handles
// it queues on the loop, and it is their ctx, through which the static
// functions bridgeCreateTask, bridgeWatch and bridgeFinished find it (no
// closures). For RunAsyncio it is also the ctx the task is created with:
// the caller's values, the loop, no cancellation.
type bridgeCall[T any] struct {
	values context.Context // RunAsyncio: context.WithoutCancel(caller's ctx)
	loop   *Loop
	coro   func(ctx context.Context) (T, error) // RunAsyncio
	fut    AwaitableOf[T]                       // the task, or RunFuture's future (loop-confined)
	startH Handle                               // creates the task, or watches the future
	doneH  Handle                               // fut's done callback

	// The outcome, written on the loop before done is closed.
	done      chan struct{}
	v         T
	err       error
	cancelled bool
}

// bridged is what the loop's callbacks see of a bridgeCall: their ctx.
type bridged interface {
	context.Context
	createTask()
	watch()
	finished()
	cancel()
}

func bridgeCreateTask(ctx context.Context) { ctx.(bridged).createTask() }
func bridgeWatch(ctx context.Context)      { ctx.(bridged).watch() }
func bridgeFinished(ctx context.Context)   { ctx.(bridged).finished() }

// Deadline, Done, Err and Value make the call the parent ctx of its task:
// the caller's values and the loop, none of the caller's cancellation
// (asyncio code is cancelled the asyncio way).
func (c *bridgeCall[T]) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *bridgeCall[T]) Done() <-chan struct{}       { return nil }
func (c *bridgeCall[T]) Err() error                  { return nil }
func (c *bridgeCall[T]) Value(key any) any {
	switch key.(type) {
	case loopKey:
		return c.loop
	case taskKey:
		return nil
	}
	if c.values == nil {
		return nil
	}
	return c.values.Value(key)
}

// createTask creates RunAsyncio's task, unless the block has exited: the
// loop then takes no new work. On the loop.
func (c *bridgeCall[T]) createTask() {
	if c.loop.state >= stateDraining {
		c.err = errClosing
		close(c.done)
		return
	}
	c.fut = CreateTask(c, c.coro)
	c.coro = nil
	c.watch()
}

// watch adds the done callback that reports fut's outcome. On the loop.
func (c *bridgeCall[T]) watch() {
	c.doneH = Handle{fn: bridgeFinished, ctx: c, loop: c.loop}
	c.fut.base().addCallback(&c.doneH)
}

// finished records fut's outcome and wakes the caller. On the loop.
func (c *bridgeCall[T]) finished() {
	c.v, c.err = c.fut.Result()
	c.cancelled = c.fut.Cancelled()
	close(c.done)
}

// cancel forwards the caller's cancellation. On the loop.
func (c *bridgeCall[T]) cancel() {
	if c.fut != nil {
		c.fut.Cancel("")
	}
}

func (c *bridgeCall[T]) wait(ctx context.Context, opts []RunOption) (T, error) {
	l := c.loop
	var zero T
	var cancelled bool
	select {
	case <-c.done:
	case <-l.closedCh:
	case <-ctx.Done():
		// Cancel once; if the loop is closing and refuses, its close
		// ends the wait below.
		_, err := l.CallSoonThreadsafe(func(context.Context) { c.cancel() })
		cancelled = err == nil
		for _, o := range opts {
			if o.abandon {
				return zero, trio.Checkpoint(ctx)
			}
		}
		select {
		case <-c.done:
		case <-l.closedCh:
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
// result to trio-flavored code (S5): the way trio goroutines use
// loop-confined asyncio objects (fut.SetResult, transport.Write,
// event.Set). If ctx is done before fn has started, fn never runs and
// RunSync returns the cancellation; once fn has started, RunSync waits
// for it. A panic in fn is re-raised in the caller's goroutine. It
// returns ErrLoopClosed if the loop closes before fn runs, and
// ErrWrongFlavor from the loop's own tasks and callbacks (call fn
// directly there).
func RunSync[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	if fn == nil {
		panic("asyncio: RunSync with a nil function")
	}
	l, err := boundaryLoop(ctx, "RunSync")
	if err != nil {
		var zero T
		return zero, err
	}
	return runSync(ctx, l, fn)
}

// Synchronize waits until every callback queued on the loop before the
// call has run (trio-asyncio's synchronize). Trio-flavored; errors as
// RunSync's.
func (l *Loop) Synchronize(ctx context.Context) error {
	if err := l.checkTrioFlavor(ctx, "Synchronize"); err != nil {
		return err
	}
	_, err := runSync(ctx, l, func() (struct{}, error) { return struct{}{}, nil })
	return err
}

const (
	syncQueued int32 = iota
	syncStarted
	syncAbandoned
)

func runSync[T any](ctx context.Context, l *Loop, fn func() (T, error)) (T, error) {
	var (
		state atomic.Int32
		done  = make(chan struct{})
		v     T
		err   error
		p     *trio.PanicError
		zero  T
	)
	if _, err := l.CallSoonThreadsafe(func(context.Context) {
		if !state.CompareAndSwap(syncQueued, syncStarted) {
			return
		}
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				p = trio.NewPanicError(r)
			}
		}()
		v, err = fn()
	}); err != nil {
		return zero, err
	}
	select {
	case <-done:
	case <-ctx.Done():
		if state.CompareAndSwap(syncQueued, syncAbandoned) {
			return zero, trio.Checkpoint(ctx)
		}
		<-done
	case <-l.closedCh:
		if state.CompareAndSwap(syncQueued, syncAbandoned) {
			return zero, ErrLoopClosed
		}
		<-done
	}
	if p != nil {
		panic(p)
	}
	return v, err
}

// RunTrio runs trio-flavored fn from asyncio code and returns the future
// of its result (trio-asyncio's trio_as_aio / trio_as_future; S6, S8).
// fn starts from the loop's next iteration, on a goroutine of the loop's
// nursery, under a cancel scope of its own, with ctx's values; the
// cancellation of the code around the OpenLoop block does not reach it
// (S9): the loop's teardown does.
//
// Cancellation (S8): cancelling the future (directly, or by cancelling
// the task that awaits it) cancels fn's scope, and the future stays
// pending until fn has returned: if fn ends with that cancellation, the
// future is cancelled, the message kept, its CancelledError wrapping
// trio's cancellation; if fn finishes anyway, the future gets its result;
// if it fails while unwinding, that error. Cancelled before fn started
// (in particular, in the step that called RunTrio), fn never runs and the
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
	if l.debug.Load() {
		l.checkGoroutine("RunTrio")
	}
	r := &trioRun[T]{fn: fn}
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
	r.trioCtx = trioCtx{Context: l.nctx, values: trioValues(ctx), loop: l, run: r}
	l.mu.Lock()
	if l.trioCalls == nil {
		l.trioCalls = make(map[*trioCall]struct{})
	}
	l.trioCalls[&r.call] = struct{}{}
	l.trioCount.Add(1)
	l.mu.Unlock()
	if l.state == stateDraining {
		r.call.scope.Cancel() // started during teardown: runs cancelled
	}
	// fn starts from the loop's next iteration (trio-asyncio queues an
	// AsyncHandle): a Cancel in the same step means it never runs.
	r.startH = Handle{fn: trioStart, ctx: &r.trioCtx, loop: l}
	l.ready = append(l.ready, &r.startH)
	return f
}

// trioRun is one RunTrio call. Its future is its first field, so that the
// future's cleanup (an exception never retrieved) is on the call's
// allocation; the call is the ctx of fn's scope and of the handles it
// queues on the loop, through which the static functions trioStart and
// trioSettle find it (no closures).
type trioRun[T any] struct {
	f       Future[T]
	trioCtx // fn's ctx (its scope's parent); run is the call
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

// trioRunner is what the loop's callbacks see of a trioRun.
type trioRunner interface {
	start()
	settle()
}

func trioStart(ctx context.Context)  { ctx.(*trioCtx).run.start() }
func trioSettle(ctx context.Context) { ctx.(*trioCtx).run.settle() }

// trioValues is the values of the asyncio code calling RunTrio, without
// its cancellation. The valueCtx on top is there for speed: it makes the
// lookups through trioCtx walk the chain in context's own loop, where a
// direct call of WithoutCancel's Value method would allocate each time.
func trioValues(ctx context.Context) context.Context {
	return context.WithValue(context.WithoutCancel(ctx), trioValuesKey{}, nil)
}

type trioValuesKey struct{}

// start starts fn in the loop's nursery, unless the future was cancelled
// meanwhile. On the loop.
func (r *trioRun[T]) start() {
	if r.call.requested {
		r.settle() // fn never runs
		return
	}
	r.call.started = true
	r.loop.nursery.StartSoon(r.run)
}

// run runs fn under the call's scope, on a goroutine of the loop's
// nursery, and posts the outcome to the loop.
func (r *trioRun[T]) run(context.Context) error {
	r.err = r.call.scope.Run(&r.trioCtx, r.callFn)
	l := r.loop
	r.settleH = Handle{fn: trioSettle, ctx: &r.trioCtx, loop: l}
	if err := l.enqueue(&r.settleH); err != nil {
		l.trioCount.Add(-1) // the loop has closed: nobody can await the outcome
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

// settle gives the future the call's outcome. On the loop.
func (r *trioRun[T]) settle() {
	c := &r.f.core
	l := c.loop
	l.mu.Lock()
	delete(l.trioCalls, &r.call)
	l.mu.Unlock()
	l.trioCount.Add(-1)
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
	c.scope.Cancel()
	return true
}

// trioCtx is the ctx of a RunTrio call: the cancellation of the loop's
// nursery, and the values of the calling asyncio code minus its task
// (trio code is not in a task: Await must not believe it is). values has
// no cancellation (context.WithoutCancel), so the standard library, asking
// for its cancelCtx, finds the nursery's and starts no goroutine.
type trioCtx struct {
	context.Context // the loop nursery's ctx
	values          context.Context
	loop            *Loop
	run             trioRunner // the call whose ctx this is
}

func (c *trioCtx) Value(key any) any {
	switch key.(type) {
	case taskKey:
		return nil
	case loopKey:
		return c.loop
	}
	if v := c.values.Value(key); v != nil {
		if _, ok := v.(context.Context); !ok {
			return v
		}
		// A context stored as a value marks a cancellation scope (trio's
		// scope key does). The call's cancellation is the loop nursery's:
		// if the nursery's chain marks the nursery's own scope under this
		// key (a context whose Done is ours), that one wins over the
		// caller's, so that fn's scope attaches to the nursery's scope
		// directly rather than through context.AfterFunc.
		if nv, ok := c.Context.Value(key).(context.Context); ok && nv.Done() == c.Context.Done() {
			return nv
		}
		return v
	}
	return c.Context.Value(key)
}
