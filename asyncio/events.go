package asyncio

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"
	"time"
)

// A Loop is an asyncio event loop living inside a trio nursery
// (asyncio.AbstractEventLoop, minus run_forever/run_until_complete/close:
// the loop runs for exactly the duration of an OpenLoop block).
//
// One goroutine runs the loop. It runs callbacks and task steps one at a
// time, in CPython's order (see OpenLoop), so code running on the loop
// needs no locks between awaits. Task coroutines run on goroutines of
// their own (runtime coroutines, iter.Pull) but only ever in lockstep with
// the loop goroutine: exactly one of them runs at a time.
//
// Flavor: the scheduling methods (CallSoon, CallLater, CallAt) and the
// loop's objects (handles, futures, tasks) are loop-confined: use them
// only from the loop's callbacks and tasks. From other goroutines use
// CallSoonThreadsafe, or RunSync from trio code. In debug mode (SetDebug)
// a loop-confined method called from another goroutine panics with a
// message saying so; otherwise it is a data race. The goroutine-safe
// methods say so.
type Loop struct {
	loopCore       // the loop goroutine's state (loopcore.go)
	in       inbox // how other goroutines reach the loop (inbox.go)
	blk      block // the OpenLoop block around the loop (block.go)

	// Immutable after newLoop.
	epoch    time.Time       // loop time 0, with a monotonic reading
	ctx      *loopCtx        // the ctx callbacks get by default
	ctxI     context.Context // ctx as an interface, to compare without allocating
	taskBase context.Context // the parent of tasks created with ctx: its values, no cancellation
	cancel   context.CancelFunc

	// Settings, goroutine-safe.
	debug   atomic.Bool
	slow    atomic.Int64
	handler atomic.Pointer[ExceptionHandler]
	exec    atomic.Pointer[loopExecutors]
}

const defaultSlowCallback = 100 * time.Millisecond

type loopKey struct{}

// loopCtx carries the loop in a context.
type loopCtx struct {
	context.Context
	loop *Loop
}

func (c *loopCtx) Value(key any) any {
	switch key.(type) {
	case loopKey:
		return c.loop
	case taskKey:
		return nil // a callback never runs inside a task
	}
	return c.Context.Value(key)
}

func newLoop(parent context.Context) *Loop {
	l := &Loop{epoch: time.Now()}
	l.in.wake = make(chan struct{}, 1)
	l.in.poke = l.epoch.Year() >= 2010 // see inbox.poke
	l.blk.done = make(chan struct{})
	base, cancel := context.WithCancel(context.WithoutCancel(parent))
	l.ctx = &loopCtx{Context: base, loop: l}
	l.ctxI = l.ctx
	l.taskBase = context.WithoutCancel(base)
	l.cancel = cancel
	l.slow.Store(int64(defaultSlowCallback))
	return l
}

// GetRunningLoop returns the loop ctx carries: the loop of the OpenLoop
// block, callback or task ctx comes from. Without one, or once that loop
// has closed, it returns ErrNoRunningLoop. Goroutine-safe.
func GetRunningLoop(ctx context.Context) (*Loop, error) {
	if ctx != nil {
		if l, _ := ctx.Value(loopKey{}).(*Loop); l != nil && !l.closed.Load() {
			return l, nil
		}
	}
	return nil, ErrNoRunningLoop
}

// Time returns the loop's current time: time.Now(), which carries a
// monotonic clock reading (asyncio's loop.time()). Inside a
// testing/synctest bubble it is the bubble's fake clock. Goroutine-safe.
//
// Design note: loop times are time.Time values rather than asyncio's float
// seconds, so that CallAt(loop.Time().Add(d)) reads as Go; internally the
// loop keeps int64 nanoseconds since its start.
func (l *Loop) Time() time.Time { return time.Now() }

// callCtx is the ctx a callback will get.
func (l *Loop) callCtx(opts []CallOption) context.Context {
	if len(opts) == 0 {
		return l.ctxI
	}
	ctx := l.ctxI
	for _, o := range opts {
		if o.ctx != nil {
			ctx = o.ctx
		}
	}
	if ctx != l.ctxI {
		if cl, _ := ctx.Value(loopKey{}).(*Loop); cl != l {
			ctx = &loopCtx{Context: ctx, loop: l}
		}
	}
	return ctx
}

// closedPanic is the panic of a loop-confined method called after the
// loop's block returned: an error matching ErrLoopClosed.
func closedPanic(method string) error {
	return fmt.Errorf("%w (%s after its OpenLoop block returned)", ErrLoopClosed, method)
}

// refused is what the scheduling methods do once the loop stops accepting
// work: while it closes (stopping coroutines, whose deferred calls may
// still schedule things) they return a handle that is cancelled and will
// never run; once it has closed, they panic with an error matching
// ErrLoopClosed.
func (l *Loop) refused(h *Handle, method string) {
	if l.state == stateClosed {
		panic(closedPanic(method))
	}
	h.cancelled = true
}

// CallSoon schedules cb to run in a coming iteration, after the callbacks
// already scheduled (asyncio's call_soon). cb gets the loop's ctx, or the
// one given WithContext. A panic in cb goes to the exception handler, with
// its stack, and the loop goes on.
//
// Loop-confined. Cost: amortized, one allocation per 128 calls (see
// Handle). It panics if cb is nil, and with an error matching
// ErrLoopClosed if the loop has closed.
func (l *Loop) CallSoon(cb func(ctx context.Context), opts ...CallOption) *Handle {
	if cb == nil {
		panic("asyncio: Loop.CallSoon with a nil callback")
	}
	debug := l.debug.Load()
	if debug {
		l.checkGoroutine("Loop.CallSoon")
	} else {
		l.checkIdle("Loop.CallSoon")
	}
	h := l.newHandle()
	h.run = callback(cb)
	h.ctx = l.callCtx(opts)
	if l.state > stateDraining {
		l.refused(h, "Loop.CallSoon")
		return h
	}
	if debug {
		h.dbg = captureSource(1)
	}
	if l.in.pending.Load() {
		// Callbacks the loop's own code queued with CallSoonThreadsafe
		// go first: CPython keeps the two in one FIFO queue.
		l.ready = l.in.drainCalls(l.ready)
	}
	l.ready = append(l.ready, h)
	return h
}

// CallLater schedules cb to run once d has passed (asyncio's call_later);
// d <= 0 means as soon as possible, after the callbacks already ready.
// Timers run in deadline order, ties in scheduling order. Loop-confined;
// panics as CallSoon does. Cost: one allocation and a heap insertion.
func (l *Loop) CallLater(d time.Duration, cb func(ctx context.Context), opts ...CallOption) *TimerHandle {
	now := l.now()
	when := now + int64(d)
	if d > 0 && when < now {
		when = math.MaxInt64
	}
	return l.callAt(when, cb, opts, "Loop.CallLater")
}

// CallAt schedules cb to run at t (asyncio's call_at), as CallLater does.
// t is compared with the loop's clock on the monotonic clock when t carries
// a monotonic reading (as Time() and time.Now() values do), else on the
// wall clock.
func (l *Loop) CallAt(t time.Time, cb func(ctx context.Context), opts ...CallOption) *TimerHandle {
	return l.callAt(int64(t.Sub(l.epoch)), cb, opts, "Loop.CallAt")
}

func (l *Loop) callAt(when int64, cb func(ctx context.Context), opts []CallOption, method string) *TimerHandle {
	if cb == nil {
		panic("asyncio: " + method + " with a nil callback")
	}
	debug := l.debug.Load()
	if debug {
		l.checkGoroutine(method)
	} else {
		l.checkIdle(method)
	}
	th := &TimerHandle{loop: l, when: when, seq: l.timerSeq}
	l.timerSeq++
	th.run = callback(cb)
	th.ctx = l.callCtx(opts)
	if l.state > stateDraining {
		l.refused(&th.Handle, method)
		return th
	}
	if debug {
		th.dbg = captureSource(2)
	}
	l.timers.push(th)
	return th
}

// CallSoonThreadsafe schedules cb as CallSoon does, from any goroutine
// (asyncio's call_soon_threadsafe). It never blocks: it appends to the
// loop's inbox under a short lock and wakes the loop, so wakeups coalesce
// and nothing is dropped. Callbacks from one goroutine run in the order
// they were scheduled; called from the loop itself, it keeps FIFO order
// with CallSoon.
//
// It returns ErrLoopClosed once the loop has begun dropping its pending
// work (after the shutdown described in OpenLoop); a callback accepted just
// before that is dropped with the rest of the pending work. The Handle it
// returns is loop-confined like any other: cancel it from the loop.
// It panics if cb is nil.
func (l *Loop) CallSoonThreadsafe(cb func(ctx context.Context), opts ...CallOption) (*Handle, error) {
	if cb == nil {
		panic("asyncio: Loop.CallSoonThreadsafe with a nil callback")
	}
	h := &Handle{run: callback(cb), ctx: l.callCtx(opts)}
	if l.debug.Load() {
		h.dbg = captureSource(1)
	}
	if err := l.in.post(h); err != nil {
		return nil, err
	}
	return h, nil
}

// IsClosed reports whether the loop has closed. Goroutine-safe.
func (l *Loop) IsClosed() bool { return l.closed.Load() }

// SetDebug turns debug mode on or off (asyncio's set_debug). In debug
// mode loop-confined methods check their goroutine, handles, futures and
// tasks record where they were created, and callbacks that run longer
// than SlowCallbackDuration are logged (slog, level Warn). It costs a
// stack walk per scheduled callback. Goroutine-safe.
func (l *Loop) SetDebug(on bool) { l.debug.Store(on) }

// GetDebug reports whether debug mode is on. Goroutine-safe.
func (l *Loop) GetDebug() bool { return l.debug.Load() }

// SlowCallbackDuration is the duration from which debug mode reports a
// callback or task step as slow; 100 ms unless set. Goroutine-safe.
func (l *Loop) SlowCallbackDuration() time.Duration { return time.Duration(l.slow.Load()) }

// SetSlowCallbackDuration sets SlowCallbackDuration (asyncio's
// loop.slow_callback_duration). Goroutine-safe.
func (l *Loop) SetSlowCallbackDuration(d time.Duration) { l.slow.Store(int64(d)) }

// String describes the loop for logs. Goroutine-safe.
func (l *Loop) String() string {
	return fmt.Sprintf("<Loop closed=%v debug=%v>", l.IsClosed(), l.GetDebug())
}
