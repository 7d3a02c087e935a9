package asyncio

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"weak"

	"github.com/trioasyncio/trioasyncio/trio"
)

// Awaitable is what Await, and the functions that wait for several futures
// at once, accept: *Future[T] and *Task[T] for any T (asyncio's future
// protocol, isfuture). Its unexported method keeps the set of
// implementations within this package.
//
// All methods are loop-confined.
type Awaitable interface {
	// Done reports whether the future has a result or an error, or was
	// cancelled.
	Done() bool
	// Cancelled reports whether the future was cancelled.
	Cancelled() bool
	// Cancel cancels the future (see Future.Cancel and Task.Cancel); the
	// message is optional.
	Cancel(message ...string) bool
	// Exception returns the future's error: see Future.Exception.
	Exception() error
	// AddDoneCallback schedules fn to run (with CallSoon, never
	// synchronously) once the future is done; see Future.AddDoneCallback.
	AddDoneCallback(fn func(ctx context.Context), opts ...CallOption) *Handle
	// RemoveDoneCallback unschedules a callback added by AddDoneCallback.
	RemoveDoneCallback(h *Handle) int
	// Loop returns the loop the future belongs to.
	Loop() *Loop
	// String describes the future for logs.
	String() string

	base() *futureCore
}

// AwaitableOf is an Awaitable with a result of type T: *Future[T] or
// *Task[T]. Await takes one; Go infers T from the argument.
type AwaitableOf[T any] interface {
	Awaitable
	// Result returns the result, or the error (see Future.Result).
	Result() (T, error)
}

type futState uint8

const (
	statePending futState = iota
	stateCancelled
	stateFinished
)

func (s futState) String() string {
	switch s {
	case statePending:
		return "PENDING"
	case stateCancelled:
		return "CANCELLED"
	}
	return "FINISHED"
}

// futureCore is the part of a future that does not depend on its result
// type; tasks and the functions over Awaitable work with it. It is kept
// small (48 bytes): what most futures never need lives in x.
type futureCore struct {
	loop   *Loop
	state  futState
	isTask bool
	logTB  bool  // an exception was set and not retrieved: x.cleanup is armed
	err    error // the exception, or the cancellation once cancelled
	cb0    *Handle
	x      *futureExtra
}

// futureExtra is the rarely needed part of a future.
type futureExtra struct {
	cbs     []*Handle // done callbacks after cb0, in order
	cleanup runtime.Cleanup
	dbg     *source

	// onCancel, if set, replaces what Cancel does to a pending future:
	// RunTrio's futures forward the request to their trio call and stay
	// pending until it has unwound (trio-asyncio's wrapped_cancel).
	onCancel interface{ cancel(msg string) bool }
}

func (c *futureCore) extra() *futureExtra {
	if c.x == nil {
		c.x = &futureExtra{}
	}
	return c.x
}

func (c *futureCore) source() *source {
	if c.x == nil {
		return nil
	}
	return c.x.dbg
}

// check panics on a future not made by NewFuture and, in debug mode, on a
// call from a foreign goroutine.
func (c *futureCore) check(method string) {
	if c.loop == nil {
		panic("asyncio: " + method + " on a future not made by NewFuture")
	}
	c.loop.confined(method)
}

func (c *futureCore) scheduleCallbacks() {
	l := c.loop
	if h := c.cb0; h != nil {
		c.cb0 = nil
		l.pushReady(h)
	}
	if x := c.x; x != nil && len(x.cbs) > 0 {
		for _, h := range x.cbs {
			l.pushReady(h)
		}
		x.cbs = nil
	}
}

// addCallback adds h to the done callbacks, or schedules it at once if the
// future is done.
func (c *futureCore) addCallback(h *Handle) {
	switch {
	case c.state != statePending:
		c.loop.pushReady(h)
	case c.cb0 == nil && (c.x == nil || len(c.x.cbs) == 0):
		c.cb0 = h
	default:
		x := c.extra()
		x.cbs = append(x.cbs, h)
	}
}

func (c *futureCore) addDoneCallback(fn func(ctx context.Context), opts []CallOption, method string) *Handle {
	if fn == nil {
		panic("asyncio: " + method + " with a nil callback")
	}
	c.check(method)
	l := c.loop
	h := l.newHandle()
	h.run = callback(fn)
	h.ctx = l.callCtx(opts)
	if l.state > stateDraining {
		l.refused(h, method)
		return h
	}
	if l.debug.Load() {
		h.dbg = captureSource(2)
	}
	c.addCallback(h)
	return h
}

func (c *futureCore) removeDoneCallback(h *Handle) int {
	if h == nil {
		return 0
	}
	if c.cb0 == h {
		c.cb0 = nil
		return 1
	}
	if x := c.x; x != nil {
		if i := slices.Index(x.cbs, h); i >= 0 {
			x.cbs = slices.Delete(x.cbs, i, i+1)
			return 1
		}
	}
	return 0
}

func (c *futureCore) cancel(msg string) bool {
	c.retrieved()
	if c.state != statePending {
		return false
	}
	if c.x != nil && c.x.onCancel != nil {
		return c.x.onCancel.cancel(msg)
	}
	c.cancelWith(&CancelledError{Msg: msg})
	return true
}

// cancelWith makes a pending future cancelled; err is what Result returns.
func (c *futureCore) cancelWith(err error) {
	c.state = stateCancelled
	c.err = err
	c.scheduleCallbacks()
}

// setException fails a pending future with err and arms the report of an
// exception never retrieved: a cleanup on the future's allocation.
func (c *futureCore) setException(err error, obj string) {
	c.err = err
	c.state = stateFinished
	c.scheduleCallbacks()
	kind := "Future"
	if c.isTask {
		kind = "Task"
	}
	c.logTB = true
	x := c.extra()
	msg := kind + " exception was never retrieved"
	x.cleanup = runtime.AddCleanup(c, reportUnretrieved, &unretrieved{
		loop: c.loop, err: err, msg: msg, obj: obj, src: x.dbg,
	})
	var pe *trio.PanicError
	if errors.As(err, &pe) {
		c.loop.notePanic(c, msg, obj)
	}
}

// A panicked is a future that failed with a panic (a task's coroutine, a
// RunTrio call), held weakly: if nobody has retrieved the panic by the
// time the loop closes, the loop reports it then rather than leave it to
// the garbage collector, which would find the future only after OpenLoop
// has returned: a panic must surface from OpenLoop.
type panicked struct {
	fut      weak.Pointer[futureCore]
	msg, obj string
}

// notePanic remembers c, which failed with a panic. Loop-confined.
func (l *Loop) notePanic(c *futureCore, msg, obj string) {
	if len(l.panics) >= 64 && len(l.panics)&(len(l.panics)-1) == 0 {
		l.panics = slices.DeleteFunc(l.panics, func(p panicked) bool {
			f := p.fut.Value()
			return f == nil || !f.logTB
		})
	}
	l.panics = append(l.panics, panicked{fut: weak.Make(c), msg: msg, obj: obj})
}

// reportPanics reports to the exception handler the panics nobody
// retrieved (at close, on the loop goroutine).
func (l *Loop) reportPanics() {
	ps := l.panics
	l.panics = nil
	for _, p := range ps {
		c := p.fut.Value()
		if c == nil || !c.logTB {
			continue // collected (its report went through the inbox) or retrieved
		}
		c.retrieved()
		ec := ExceptionContext{Message: p.msg, Err: c.err, Object: p.obj}
		if src := c.source(); src != nil {
			ec.SourceTraceback = src.String()
		}
		l.CallExceptionHandler(ec)
	}
}

// retrieved disarms the report: the exception was seen (or cancelled).
func (c *futureCore) retrieved() {
	if c.logTB {
		c.logTB = false
		c.x.cleanup.Stop()
	}
}

// unretrieved is the report of an exception never retrieved. It must not
// reference the future, or the future would never be collected.
type unretrieved struct {
	loop *Loop
	err  error
	msg  string
	obj  string
	src  *source
}

// reportUnretrieved runs on the runtime's cleanup goroutine once a future
// whose exception was never retrieved has been collected (CPython reports
// from Future.__del__). The report is queued on the loop and delivered to
// its exception handler in the loop's next iteration; after the loop has
// closed, the handler is called right here.
func reportUnretrieved(r *unretrieved) {
	ec := ExceptionContext{Message: r.msg, Err: r.err, Object: r.obj}
	if r.src != nil {
		ec.SourceTraceback = r.src.String()
	}
	l := r.loop
	h := &Handle{run: callback(func(context.Context) { l.CallExceptionHandler(ec) }), ctx: l.ctxI, report: true}
	if !l.in.postReport(h) {
		l.CallExceptionHandler(ec)
	}
}

// describeCallbacks writes " cb=[…]" as CPython's repr does: all of up
// to two callbacks, else the first, a count and the last.
func (c *futureCore) describeCallbacks(b *strings.Builder) {
	var cbs []*Handle
	if c.cb0 != nil {
		cbs = append(cbs, c.cb0)
	}
	if c.x != nil {
		cbs = append(cbs, c.x.cbs...)
	}
	if len(cbs) == 0 {
		return
	}
	name := func(h *Handle) string {
		switch r := h.run.(type) {
		case *taskCore:
			return "step of " + r.owner.Name()
		case callback:
			return funcName(r)
		}
		return "?"
	}
	b.WriteString(" cb=[")
	switch len(cbs) {
	case 1:
		b.WriteString(name(cbs[0]))
	case 2:
		fmt.Fprintf(b, "%s, %s", name(cbs[0]), name(cbs[1]))
	default:
		fmt.Fprintf(b, "%s, <%d more>, %s", name(cbs[0]), len(cbs)-2, name(cbs[len(cbs)-1]))
	}
	b.WriteString("]")
}

func (c *futureCore) describe(kind string, result func() string) string {
	var b strings.Builder
	b.WriteString("<")
	b.WriteString(kind)
	switch c.state {
	case statePending:
		b.WriteString(" pending")
		c.describeCallbacks(&b)
	case stateCancelled:
		b.WriteString(" cancelled")
	default:
		if c.err != nil {
			fmt.Fprintf(&b, " finished exception=%q", c.err.Error())
		} else {
			b.WriteString(" finished result=")
			b.WriteString(result())
		}
	}
	if src := c.source(); src != nil {
		b.WriteString(" created at ")
		b.WriteString(src.top())
	}
	b.WriteString(">")
	return b.String()
}

// A Future is the eventual result of an operation, of type T: pending until
// SetResult, SetException or Cancel (asyncio.Future). Coroutines wait for
// it with Await; callbacks are told with AddDoneCallback.
//
// A Future is loop-confined: all its methods are to be called on its loop
// (from callbacks and tasks of that loop); trio code reaches it inside
// RunSync, other goroutines through Loop.CallSoonThreadsafe.
//
// Cost: one allocation (NewFuture); done callbacks are carved from the
// loop's handle blocks. An exception never retrieved (by Result or
// Exception) is reported to the loop's exception handler, "Future
// exception was never retrieved", once the future is garbage-collected;
// that arms a runtime cleanup, which SetException alone pays for.
type Future[T any] struct {
	core   futureCore
	result T
}

// NewFuture returns a pending future on loop (asyncio's
// loop.create_future()). It panics if loop is nil. In debug mode the
// future records where it was created. Loop-confined.
func NewFuture[T any](loop *Loop) *Future[T] {
	if loop == nil {
		panic("asyncio: NewFuture with a nil loop")
	}
	f := &Future[T]{}
	f.core.loop = loop
	if loop.debug.Load() {
		loop.checkGoroutine("NewFuture")
		f.core.extra().dbg = captureSource(1)
	}
	return f
}

func (f *Future[T]) base() *futureCore {
	if f == nil {
		return nil
	}
	return &f.core
}

// Result returns the future's result. If the future failed, it returns its
// error (and the error counts as retrieved); if it was cancelled, the
// *CancelledError; if it is not done, an *InvalidStateError ("Result is
// not ready.").
func (f *Future[T]) Result() (T, error) {
	c := &f.core
	if l := c.loop; l != nil && l.debug.Load() {
		l.checkGoroutine("Future.Result")
	}
	var zero T
	switch c.state {
	case stateFinished:
		if c.err != nil {
			c.retrieved()
			return zero, c.err
		}
		return f.result, nil
	case stateCancelled:
		return zero, c.err
	}
	return zero, errResultNotReady
}

// Exception returns the future's error: nil if it has a result, the error
// set by SetException (which then counts as retrieved), the
// *CancelledError if it was cancelled, or an *InvalidStateError
// ("Exception is not set.") if it is not done. (Python raises the last two;
// use Done and Cancelled to tell the cases apart.)
func (f *Future[T]) Exception() error { return f.core.exception() }

func (c *futureCore) exception() error {
	switch c.state {
	case stateFinished:
		c.retrieved()
		return c.err
	case stateCancelled:
		return c.err
	}
	return errExcNotSet
}

// SetResult makes the future done with result v and schedules its done
// callbacks. If the future is already done (or cancelled), it returns an
// *InvalidStateError and changes nothing.
func (f *Future[T]) SetResult(v T) error {
	c := &f.core
	c.check("Future.SetResult")
	if c.state != statePending {
		return errAlreadyDone(c.state.String(), f)
	}
	f.result = v
	c.state = stateFinished
	c.scheduleCallbacks()
	return nil
}

// SetException makes the future done with error err and schedules its
// done callbacks. If the future is already done, it returns an
// *InvalidStateError and changes nothing. It panics if err is nil.
func (f *Future[T]) SetException(err error) error {
	c := &f.core
	c.check("Future.SetException")
	if err == nil {
		panic("asyncio: Future.SetException(nil)")
	}
	if c.state != statePending {
		return errAlreadyDone(c.state.String(), f)
	}
	c.setException(err, "")
	return nil
}

// Cancel cancels the future and schedules its done callbacks, and reports
// true; if the future is already done it reports false. The message, if
// one is given, becomes the CancelledError's Msg (Python's cancel(msg)).
// Cancelling also counts as retrieving a pending exception, which is then
// not reported. It panics if given more than one message.
func (f *Future[T]) Cancel(message ...string) bool {
	f.core.check("Future.Cancel")
	return f.core.cancel(cancelMessage(message, "Future.Cancel"))
}

// cancelMessage is the optional message of the Cancel methods.
func cancelMessage(message []string, method string) string {
	switch len(message) {
	case 0:
		return ""
	case 1:
		return message[0]
	}
	panic("asyncio: " + method + " with more than one message")
}

// Cancelled reports whether the future was cancelled.
func (f *Future[T]) Cancelled() bool { return f.core.state == stateCancelled }

// Done reports whether the future has a result or an error, or was
// cancelled.
func (f *Future[T]) Done() bool { return f.core.state != statePending }

// AddDoneCallback schedules fn to run once the future is done, with
// CallSoon (so never synchronously: if the future is already done, fn runs
// in a coming iteration). Callbacks run in the order they were added. fn
// gets the loop's ctx or the one given WithContext, not the ctx of the
// code that added it (asyncio runs a callback in a copy of the adder's
// contextvars: pass WithContext(ctx) for that); it reaches the future
// through its closure. The returned handle removes the callback
// (RemoveDoneCallback) or cancels it once scheduled (Handle.Cancel).
//
// Loop-confined; panics if fn is nil.
func (f *Future[T]) AddDoneCallback(fn func(ctx context.Context), opts ...CallOption) *Handle {
	return f.core.addDoneCallback(fn, opts, "Future.AddDoneCallback")
}

// RemoveDoneCallback removes a callback added by AddDoneCallback that has
// not been scheduled yet, and returns the number removed: 1 or 0. (Go
// functions cannot be compared, so callbacks are removed by their handle
// rather than by function as in Python.)
func (f *Future[T]) RemoveDoneCallback(h *Handle) int { return f.core.removeDoneCallback(h) }

// Loop returns the loop the future belongs to.
func (f *Future[T]) Loop() *Loop { return f.core.loop }

// String describes the future for logs, e.g. "<Future finished result=42>".
func (f *Future[T]) String() string {
	return f.core.describe("Future", func() string { return fmt.Sprintf("%v", f.result) })
}
