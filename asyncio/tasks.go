package asyncio

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/trioasyncio/trioasyncio/internal/ilist"
	"github.com/trioasyncio/trioasyncio/trio"
)

// AnyTask is a task of any result type: what CurrentTask and AllTasks
// return. *Task[T] implements it for every T. Its unexported methods keep
// the set of implementations within this package. Loop-confined.
type AnyTask interface {
	Awaitable
	// Name returns the task's name: the one given WithName or SetName, or
	// "Task-N" with N counting the tasks of the process.
	Name() string
	// SetName renames the task.
	SetName(name string)
	// Cancelling returns the number of pending cancellation requests.
	Cancelling() int
	// Uncancel decrements the number of cancellation requests.
	Uncancel() int

	task() *taskCore
	runCoro()
}

// A Task runs a coroutine on a loop and is the future of its result
// (asyncio.Task). A coroutine is an asyncio-flavored function,
// func(ctx context.Context) (T, error): it runs on the loop, one step at a
// time, and its ctx carries its task and loop; it waits only through Await
// and Sleep, which give the loop back until what it waits for is done.
//
// Ending: the coroutine's result becomes the task's result; an error
// matching ErrCancelled makes the task cancelled (as CancelledError
// escaping a Python coroutine does); any other error fails the task; a
// panic fails it with a *trio.PanicError carrying the coroutine's stack.
//
// Cancellation is asyncio's, edge-triggered: Cancel either cancels the
// future the task is waiting for (the task keeps waiting for it, and its
// Await returns the CancelledError) or makes the task's next suspension
// (or its first step) return one CancelledError. The coroutine may handle
// it and go on; Cancelling counts the requests and Uncancel takes one
// back.
//
// Loop-confined, like Future. A Task has no SetResult or SetException: its
// coroutine decides.
//
// Cost: the Task (one allocation) plus the runtime coroutine that
// iter.Pull creates at the first step (a goroutine that only ever runs in
// lockstep with the loop goroutine: a switch costs tens of nanoseconds).
// Await allocates nothing. Every unfinished coroutine is stopped when the
// loop closes.
type Task[T any] struct {
	fut  Future[T] // first, so the cleanup of fut.core is on the task's allocation
	core taskCore
	coro func(ctx context.Context) (T, error)
}

// taskCore is the part of a task that does not depend on its result type.
type taskCore struct {
	fut   *futureCore
	loop  *Loop
	owner AnyTask
	ctx   taskCtx // the coroutine's ctx
	stepH Handle  // the task's step, queued on the loop (reused: one step pending at most)

	co *coroutine // runs the coroutine function; nil before the first step and once done

	waiter     Awaitable // what the suspended coroutine awaits (CPython's _fut_waiter)
	throw      error     // what Await returns at the next resumption
	retErr     error
	panicked   *trio.PanicError
	cancelMsg  string
	name       string
	id         uint64
	numCancels int
	dbg        *source

	links      ilist.Links[taskCore] // in the loop's list of tasks not done
	mustCancel bool
	stopped    bool
}

var taskCounter atomic.Uint64

type taskKey struct{}

// taskCtx is a coroutine's ctx: the ctx CreateTask got (without its task
// layer, so that ctx chains do not grow with nesting) plus the task.
type taskCtx struct {
	context.Context
	t *taskCore
}

func (c *taskCtx) Value(key any) any {
	switch key.(type) {
	case taskKey:
		return c.t
	case loopKey:
		return c.t.loop
	}
	return c.Context.Value(key)
}

// Done is the parent's (a task's ctx is never cancelled: asyncio code is
// cancelled through Task.Cancel). In debug mode it catches trio code run
// by RunTrio that waits with the ctx of the task that called RunTrio
// instead of its own, which the call's scope would never cancel.
func (c *taskCtx) Done() <-chan struct{} {
	if l := c.t.loop; l.debug.Load() {
		l.checkNotInTrioCall()
	}
	return c.Context.Done()
}

// loopOf returns the loop ctx carries, or nil.
func loopOf(ctx context.Context) *Loop {
	switch c := ctx.(type) {
	case *taskCtx:
		return c.t.loop
	case *loopCtx:
		return c.loop
	case nil:
		return nil
	}
	l, _ := ctx.Value(loopKey{}).(*Loop)
	return l
}

// TaskOption is an option of CreateTask.
type TaskOption struct {
	name  string
	eager int8    // WithEagerStart: 1 eager, -1 not, 0 unset (taskfactory.go)
	src   *source // debug mode: where the boundary call that creates the task was made
}

// WithName names the task (asyncio's create_task(name=)).
func WithName(name string) TaskOption { return TaskOption{name: name} }

// CreateTask wraps coro in a task on the loop of ctx and schedules its
// first step (asyncio.create_task). The coroutine's ctx carries ctx's
// values, the task and the loop, but never ctx's cancellation or
// deadline: asyncio code is cancelled only through Task.Cancel. (From
// trio code, use StartTask or RunAsyncio.) Loop-confined: call it from a
// callback or a task of the loop.
//
// It panics if coro is nil, if ctx carries no loop (ErrNoRunningLoop) or,
// with an error matching ErrLoopClosed, if the loop has closed. While the
// loop shuts down, the task is cancelled at once (it never starts if it
// was not running).
//
// If the loop has a task factory (Loop.SetTaskFactory), CreateTask lets
// it make the task. With WithEagerStart(true) (or EagerTaskFactory), the
// task's first step runs at once, inside CreateTask (see WithEagerStart).
func CreateTask[T any](ctx context.Context, coro func(ctx context.Context) (T, error), opts ...TaskOption) *Task[T] {
	if coro == nil {
		panic("asyncio: CreateTask with a nil coroutine")
	}
	l := loopOf(ctx)
	if l == nil {
		panic(ErrNoRunningLoop)
	}
	if f := l.taskFactory.Load(); f != nil {
		return createByFactory(ctx, *f, coro, opts)
	}
	return newTask(ctx, l, coro, opts)
}

// newTask is CreateTask without the loop's task factory.
func newTask[T any](ctx context.Context, l *Loop, coro func(ctx context.Context) (T, error), opts []TaskOption) *Task[T] {
	debug := l.debug.Load()
	if debug {
		l.checkGoroutine("CreateTask")
	} else {
		l.checkIdle("CreateTask")
	}
	if l.state == stateClosed {
		panic(closedPanic("CreateTask"))
	}
	t := &Task[T]{coro: coro}
	c := &t.core
	t.fut.core.loop = l
	t.fut.core.isTask = true
	c.fut = &t.fut.core
	c.loop = l
	c.owner = t
	c.ctx = taskCtx{Context: l.taskParent(ctx), t: c}
	c.stepH.run = c
	c.id = taskCounter.Add(1)
	var src *source
	for _, o := range opts {
		if o.name != "" {
			c.name = o.name
		}
		if o.src != nil {
			src = o.src
		}
	}
	if debug {
		if src == nil {
			src = captureSource(1)
		}
		c.dbg = src
		t.fut.core.extra().dbg = src
	}
	if l.state == stateClosing {
		c.fut.cancelWith(&CancelledError{Msg: "event loop is closing"})
		return t
	}
	l.tasks.PushBack(c)
	if eagerStart(opts) && l.state == stateRunning && !l.blk.held.Load() {
		l.eagerStep(c)
		return t
	}
	l.ready = append(l.ready, &c.stepH)
	if l.state == stateDraining {
		t.Cancel("")
	}
	return t
}

func (t *Task[T]) base() *futureCore {
	if t == nil {
		return nil
	}
	return &t.fut.core
}
func (t *Task[T]) task() *taskCore { return &t.core }

// taskParent is the parent of a new task's ctx: ctx without its task
// layer (so that ctx chains do not grow with nesting) and without its
// cancellation.
func (l *Loop) taskParent(ctx context.Context) context.Context {
	switch c := ctx.(type) {
	case *taskCtx:
		return c.Context // already without cancellation
	case *loopCtx:
		if c == l.ctx {
			return l.taskBase
		}
	}
	if ctx.Done() == nil {
		return ctx
	}
	return context.WithoutCancel(ctx)
}

// runCoro runs the coroutine to its end, on its coroutine goroutine.
func (t *Task[T]) runCoro() {
	v, err := t.coro(&t.core.ctx)
	if err == nil {
		t.fut.result = v
	}
	t.core.retErr = err
}

// A coroutine is a runtime coroutine (iter.Pull: a goroutine that runs
// only in lockstep with the loop goroutine) that runs the coroutine
// functions of tasks, one task after another. When a task's function
// returns, the coroutine parks, and the loop keeps up to
// maxIdleCoroutines of them for the next tasks: a task started while one
// is parked costs no new goroutine. The loop stops the parked ones when
// it closes.
type coroutine struct {
	next  func() (struct{}, bool) // resume (iter.Pull)
	stop  func()
	yield func(struct{}) bool
	task  *taskCore // the task whose function it runs
	ended bool      // the task's function has returned: parked
	gid   int64     // its goroutine (debug mode; 0 until known)
}

// maxIdleCoroutines is how many parked coroutines a loop keeps.
const maxIdleCoroutines = 8

// body is the coroutine's goroutine: it runs the function of one task
// after another until the loop stops it. It is never inlined:
// goroutine.go finds coroutines by its frame.
//
//go:noinline
func (co *coroutine) body(yield func(struct{}) bool) {
	co.yield = yield
	for {
		co.task.runFn()
		co.ended = true
		if !yield(struct{}{}) {
			return // stopped: the loop closes, or keeps enough parked
		}
		co.ended = false
	}
}

// runFn runs the task's coroutine function, turning a panic into the
// task's error.
func (c *taskCore) runFn() {
	defer c.coroutineExit()
	if c.loop.debug.Load() && c.co.gid == 0 {
		c.noteGoroutine()
	}
	c.owner.runCoro()
}

// coroutineFor gives c a coroutine: a parked one, or a new one.
func (l *Loop) coroutineFor(c *taskCore) *coroutine {
	if n := len(l.idleCoros); n > 0 {
		co := l.idleCoros[n-1]
		l.idleCoros[n-1] = nil
		l.idleCoros = l.idleCoros[:n-1]
		co.task = c
		return co
	}
	co := &coroutine{task: c}
	co.next, co.stop = iter.Pull(co.body)
	return co
}

// releaseCoroutine parks co, whose task has ended, for a next task.
func (l *Loop) releaseCoroutine(co *coroutine) {
	co.task = nil
	if len(l.idleCoros) < maxIdleCoroutines && l.state < stateClosing {
		l.idleCoros = append(l.idleCoros, co)
		return
	}
	co.stop()
}

// stopCoroutine is the panic value that unwinds a coroutine stopped at
// loop close (Python's GeneratorExit).
type stopCoroutine struct{}

var errStopCoroutine any = &stopCoroutine{}

func (c *taskCore) coroutineExit() {
	if v := recover(); v != nil && v != errStopCoroutine {
		c.panicked = trio.NewPanicError(v)
	}
}

// noteRunning tells the debug checks which coroutine runs.
func (l *Loop) noteRunning(c *taskCore) {
	if c.co != nil && c.co.gid != 0 {
		l.curGid.Store(c.co.gid)
	} else {
		l.curGid.Store(unknownGid)
	}
}

// beginStep prepares the resumption of the coroutine: it decides what the
// coroutine's Await returns (a pending cancellation) and starts the
// coroutine on the first step. It reports false if the task ended instead
// (cancelled before it started: the coroutine never runs).
func (c *taskCore) beginStep() bool {
	if c.fut.state != statePending {
		panic("asyncio: internal error: step of a task that is done")
	}
	var exc error
	if c.mustCancel {
		exc = &CancelledError{Msg: c.cancelMsg}
		c.mustCancel = false
	}
	c.waiter = nil
	if c.co == nil {
		if exc != nil {
			c.loop.tasks.Remove(c)
			c.fut.cancelWith(exc)
			return false
		}
		c.co = c.loop.coroutineFor(c)
	}
	c.throw = exc
	return true
}

// suspend gives the loop back until the task's step runs again, and
// returns what is thrown in (a cancellation), if anything. Called by the
// coroutine; Await has it written out.
func (c *taskCore) suspend() error {
	if !c.co.yield(struct{}{}) {
		panic(errStopCoroutine) // the loop is closing: unwind the coroutine
	}
	if c.co.gid == 0 && c.loop.debug.Load() {
		c.noteGoroutine()
	}
	err := c.throw
	c.throw = nil
	return err
}

// noteGoroutine records the coroutine's goroutine for the debug-mode
// checks.
func (c *taskCore) noteGoroutine() {
	c.co.gid = goid()
	c.loop.curGid.Store(c.co.gid)
}

// finish makes the task's future done from the way its coroutine ended.
func (c *taskCore) finish() {
	if co := c.co; co != nil {
		c.co = nil
		if co.ended && !c.stopped {
			c.loop.releaseCoroutine(co)
		}
	}
	c.loop.tasks.Remove(c)
	err, p := c.retErr, c.panicked
	c.retErr, c.panicked = nil, nil
	switch {
	case p != nil:
		c.fut.setException(p, c.nameStr())
	case c.stopped:
		c.fut.cancelWith(&CancelledError{Msg: "event loop closed"})
	case err == nil:
		if c.mustCancel {
			// Cancelled right before the coroutine returned.
			c.mustCancel = false
			c.fut.cancelWith(&CancelledError{Msg: c.cancelMsg})
		} else {
			c.fut.state = stateFinished
			c.fut.scheduleCallbacks()
		}
	case errors.Is(err, ErrCancelled):
		c.fut.cancelWith(err)
	default:
		c.fut.setException(err, c.nameStr())
	}
}

// abandon stops the coroutine of a task that is not done, at loop close,
// and ends the task cancelled.
func (c *taskCore) abandon() {
	l := c.loop
	if c.co != nil {
		l.current = c
		if l.debug.Load() {
			l.noteRunning(c)
		}
		c.co.stop()
		l.current = nil
		l.curGid.Store(0)
	}
	c.stopped = true
	c.finish()
}

// runningTask returns the task of ctx if it is the task running on its
// loop: Await and Sleep work only there.
func runningTask(ctx context.Context, what string) (*taskCore, error) {
	var c *taskCore
	if tc, ok := ctx.(*taskCtx); ok {
		c = tc.t
	} else if ctx != nil {
		c, _ = ctx.Value(taskKey{}).(*taskCore)
	}
	if c == nil {
		return nil, fmt.Errorf("%w: %s with a ctx that carries no task: %s", ErrAwaitOutsideTask, what, awaitHint(ctx))
	}
	l := c.loop
	if l.debug.Load() {
		l.checkGoroutine(what)
	}
	if l.current != c {
		return nil, fmt.Errorf("%w: %s with the ctx of %v, which is not running: "+
			"a coroutine waits only with the ctx it was given", ErrAwaitOutsideTask, what, c.owner)
	}
	return c, nil
}

// awaitHint says what to do instead of waiting with ctx, which carries
// no task: trio code runs coroutines through the boundary; asyncio code
// waits only in a coroutine, with the ctx it was given.
func awaitHint(ctx context.Context) string {
	l := loopOf(ctx)
	switch {
	case l == nil:
		return "Await and Sleep work in a task's coroutine, with the ctx it was given; " +
			"from trio code, open a loop with OpenLoop and use RunAsyncio"
	case l.wakes.Load()&1 == 0 && !l.blk.held.Load():
		// The loop waits for work: the caller is not its code.
		return "from trio code, run the coroutine with asyncio.RunAsyncio(ctx, coro) " +
			"(or asyncio.StartTask), and plain loop work with asyncio.RunSync"
	}
	return "Await and Sleep work only in a task's coroutine, with the ctx it was given: " +
		"a callback cannot wait (start a task with CreateTask), and a coroutine must not use a ctx it captured"
}

// Await waits for a to be done and returns its result (Python's await on
// a future or task). ctx must be the ctx of the running task; then, if a
// is pending, the task gives the loop back until a is done. Await itself
// allocates nothing.
//
// It returns a's result or error; or a *CancelledError if the task is
// cancelled meanwhile (a is then cancelled too, unless it was already
// done); or, for flavor mistakes, at once: ErrAwaitOutsideTask (ctx is
// not the running task's: Await from a callback or from trio-flavored
// code), ErrForeignFuture (a pending future of another loop), ErrAwaitSelf
// (a task awaiting itself). If a is already done, Await returns at once
// without giving the loop back, as Python's await does.
func Await[T any](ctx context.Context, a AwaitableOf[T]) (T, error) {
	var zero T
	if a == nil {
		panic("asyncio: Await with a nil awaitable")
	}
	var c *taskCore
	if tc, ok := ctx.(*taskCtx); ok && tc.t.loop.current == tc.t && !tc.t.loop.debug.Load() {
		c = tc.t // the fast path of runningTask
	} else {
		var err error
		if c, err = runningTask(ctx, "Await"); err != nil {
			return zero, err
		}
	}
	fc := a.base()
	if fc == nil {
		panic("asyncio: Await with a nil awaitable")
	}
	if fc.state == statePending {
		if fc.loop != c.loop {
			return zero, fmt.Errorf("%w: %v got %v", ErrForeignFuture, c.owner, a)
		}
		if fc == c.fut {
			return zero, fmt.Errorf("%w: %v", ErrAwaitSelf, c.owner)
		}
		fc.addCallback(&c.stepH)
		c.waiter = a
		if c.mustCancel && a.Cancel(c.cancelMsg) {
			c.mustCancel = false
		}
		// suspend, written out: after a switch between goroutines every
		// return to a frame entered before it is mispredicted, so the hot
		// paths keep the stacks shallow at the switch (W3).
		if !c.co.yield(struct{}{}) {
			panic(errStopCoroutine)
		}
		if c.co.gid == 0 && c.loop.debug.Load() {
			c.noteGoroutine()
		}
		if err := c.throw; err != nil {
			c.throw = nil
			return zero, err
		}
	}
	return a.Result()
}

// Sleep suspends the running task for d (asyncio.sleep); Sleep(ctx, 0),
// or any d <= 0, gives the loop back for exactly one iteration. It returns
// a *CancelledError if the task is cancelled meanwhile, and
// ErrAwaitOutsideTask if ctx is not the running task's. It follows the
// fake clock inside a testing/synctest bubble.
func Sleep(ctx context.Context, d time.Duration) error {
	c, err := runningTask(ctx, "Sleep")
	if err != nil {
		return err
	}
	if d <= 0 {
		c.loop.pushReady(&c.stepH)
		return c.suspend()
	}
	f := NewFuture[struct{}](c.loop)
	h := c.loop.CallLater(d, func(context.Context) {
		if !f.Done() {
			f.SetResult(struct{}{})
		}
	})
	_, err = Await(ctx, f)
	h.Cancel()
	return err
}

// CurrentTask returns the task running on the loop of ctx (asyncio's
// current_task), or nil when none is: in a callback, or once the loop has
// closed. It panics with ErrNoRunningLoop if ctx carries no loop (a ctx
// made outside OpenLoop, or the ctx of a function run by RunInExecutor),
// as asyncio.current_task() raises RuntimeError "no running event loop"
// and as CreateTask panics. Loop-confined.
func CurrentTask(ctx context.Context) AnyTask {
	l := loopOf(ctx)
	if l == nil {
		panic(ErrNoRunningLoop)
	}
	if l.current == nil {
		return nil
	}
	return l.current.owner
}

// AllTasks returns the tasks of loop that are not done, in creation order
// (asyncio's all_tasks). It panics if loop is nil. Loop-confined.
func AllTasks(loop *Loop) []AnyTask {
	if loop == nil {
		panic("asyncio: AllTasks with a nil loop")
	}
	if loop.debug.Load() {
		loop.checkGoroutine("AllTasks")
	}
	out := make([]AnyTask, 0, loop.tasks.Len())
	for c := loop.tasks.Front(); c != nil; c = loop.tasks.Next(c) {
		out = append(out, c.owner)
	}
	return out
}

// Result returns the task's result, as Future.Result does.
func (t *Task[T]) Result() (T, error) { return t.fut.Result() }

// Exception returns the task's error, as Future.Exception does.
func (t *Task[T]) Exception() error { return t.fut.Exception() }

// Done reports whether the task has ended.
func (t *Task[T]) Done() bool { return t.fut.Done() }

// Cancelled reports whether the task ended cancelled.
func (t *Task[T]) Cancelled() bool { return t.fut.Cancelled() }

// Cancel requests that the task be cancelled, and reports false only if
// it is already done (asyncio's Task.cancel; see Task for the semantics).
// Each call counts one more request (Cancelling). The message, if one is
// given, becomes the CancelledError's Msg (Python's cancel(msg)). It
// panics if given more than one message.
func (t *Task[T]) Cancel(message ...string) bool {
	c := &t.core
	fc := c.fut
	fc.check("Task.Cancel")
	msg := cancelMessage(message, "Task.Cancel")
	fc.retrieved()
	if fc.state != statePending {
		return false
	}
	c.numCancels++
	if w := c.waiter; w != nil && w.Cancel(msg) {
		// The task keeps waiting for w, which wakes it with its
		// cancellation; a w that refuses may have to be cancelled again.
		return true
	}
	c.mustCancel = true
	c.cancelMsg = msg
	return true
}

// Cancelling returns the number of cancellation requests not taken back
// by Uncancel.
func (t *Task[T]) Cancelling() int { return t.core.numCancels }

// Uncancel takes back one cancellation request and returns the number
// left. Code that cancelled a task (a timeout, a task group) calls it once
// it has handled the cancellation, so that the task is not left
// "cancelling". When no request is left, a cancellation not delivered
// yet (the task has not resumed since Cancel) is dropped as well.
func (t *Task[T]) Uncancel() int {
	t.fut.core.check("Task.Uncancel")
	if t.core.numCancels > 0 {
		t.core.numCancels--
		if t.core.numCancels == 0 {
			t.core.mustCancel = false // no request left: none pending either
		}
	}
	return t.core.numCancels
}

// Name returns the task's name.
func (t *Task[T]) Name() string { return t.core.nameStr() }

// SetName renames the task.
func (t *Task[T]) SetName(name string) {
	t.fut.core.check("Task.SetName")
	t.core.name = name
}

func (c *taskCore) nameStr() string {
	if c.name != "" {
		return c.name
	}
	return "Task-" + strconv.FormatUint(c.id, 10)
}

// AddDoneCallback schedules fn to run once the task is done, as
// Future.AddDoneCallback does.
func (t *Task[T]) AddDoneCallback(fn func(ctx context.Context), opts ...CallOption) *Handle {
	return t.fut.core.addDoneCallback(fn, opts, "Task.AddDoneCallback")
}

// RemoveDoneCallback removes a callback added by AddDoneCallback, as
// Future.RemoveDoneCallback does.
func (t *Task[T]) RemoveDoneCallback(h *Handle) int { return t.fut.core.removeDoneCallback(h) }

// Loop returns the task's loop.
func (t *Task[T]) Loop() *Loop { return t.core.loop }

// String describes the task for logs, e.g. "<Task pending name=Task-3>".
func (t *Task[T]) String() string {
	c := &t.core
	kind := "Task"
	if c.numCancels > 0 && c.fut.state == statePending {
		kind += " cancelling"
	}
	s := c.fut.describe(kind, func() string { return fmt.Sprintf("%v", t.fut.result) })
	return s[:len(s)-1] + " name=" + c.nameStr() + ">"
}

func (c *taskCore) describe() string { return c.owner.String() }

// taskList is the loop's intrusive list of tasks not done.
type taskList = ilist.List[taskCore, *taskCore]

func (c *taskCore) ListLinks() *ilist.Links[taskCore] { return &c.links }
