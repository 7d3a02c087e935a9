package asyncio

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"time"
)

// A Handle is a callback scheduled on a loop: by CallSoon,
// CallSoonThreadsafe, or AddDoneCallback (asyncio.Handle). Cancel it to
// keep it from running.
//
// Handles are loop-confined: Cancel and Cancelled may be called only from
// the loop (its callbacks and tasks). To cancel from trio code, call
// Cancel inside RunSync; from another goroutine, CallSoonThreadsafe a
// callback that calls Cancel.
//
// Cost: CallSoon carves its handles out of per-loop blocks of 128 (one
// allocation per 128 calls); a handle kept alive keeps its block alive, but
// not the callbacks of the other handles, which are dropped once run.
type Handle struct {
	// run is what the loop runs: a callback (run with ctx), a task's step
	// (the *taskCore), or a loopCall. It is nil once it has run or been
	// dropped. The handle is kept small (48 bytes): W1 allocates one per
	// callback, amortized.
	run       any
	ctx       context.Context // the callback's ctx; never changes, so that the debug checks may read it from any goroutine
	dbg       *source         // where the handle was created (debug mode)
	cancelled bool
	report    bool // delivers a report of an error nobody else will see: run even at close
}

// A callback is what CallSoon and friends schedule.
type callback func(ctx context.Context)

// Cancel keeps the callback from running; it has no effect if the callback
// has run or is running. Loop-confined.
func (h *Handle) Cancel() { h.cancel("Handle.Cancel") }

// cancel is Cancel; it reports whether it cancelled the handle now.
func (h *Handle) cancel(method string) bool {
	l := loopOf(h.ctx)
	if l != nil {
		l.confined(method)
	}
	if h.cancelled {
		return false
	}
	h.cancelled = true
	if l == nil || !l.debug.Load() {
		// Drop the callback now, as CPython does outside debug mode, so that
		// what it references can be collected.
		h.run = nil
	}
	return true
}

// A loopCall is work of this package's own queued on the loop without a
// closure: the loop runs onLoop(h), h being the handle that carried it,
// so that one object can queue several kinds of work.
type loopCall interface {
	onLoop(h *Handle)
}

// Cancelled reports whether Cancel was called. Loop-confined.
func (h *Handle) Cancelled() bool { return h.cancelled }

// String describes the handle for logs: its callback's function and, in
// debug mode, where the handle was created.
func (h *Handle) String() string {
	var b strings.Builder
	b.WriteString("<Handle")
	if h.cancelled {
		b.WriteString(" cancelled")
	}
	switch r := h.run.(type) {
	case *taskCore:
		b.WriteString(" step of ")
		b.WriteString(r.describe())
	case callback:
		b.WriteString(" ")
		b.WriteString(funcName(r))
	}
	if h.dbg != nil {
		b.WriteString(" created at ")
		b.WriteString(h.dbg.top())
	}
	b.WriteString(">")
	return b.String()
}

// funcName is the name of fn's function, for people.
func funcName(fn any) string {
	f := runtime.FuncForPC(reflect.ValueOf(fn).Pointer())
	if f == nil {
		return "?"
	}
	return f.Name() + "()"
}

// A TimerHandle is a callback scheduled for a time, by CallLater or CallAt
// (asyncio.TimerHandle). Loop-confined, as Handle. A cancelled timer stays
// in the loop's heap until it reaches the head or until cancelled timers
// are more than half of a heap of more than 100, when they are purged in
// bulk.
type TimerHandle struct {
	Handle
	loop *Loop
	when int64  // loop time: nanoseconds since the loop's epoch
	seq  uint64 // scheduling order, for ties
	// hpos is the timer's position in the loop's heap plus one; 0 when
	// it is not in the heap (popped).
	hpos int32
}

// Cancel keeps the callback from running, as Handle.Cancel does.
// Loop-confined.
func (th *TimerHandle) Cancel() {
	if th.cancel("TimerHandle.Cancel") && th.hpos != 0 {
		th.loop.cancelledTimers++
	}
}

// When returns the time the callback is scheduled for. It carries a
// monotonic clock reading.
func (th *TimerHandle) When() time.Time { return th.loop.epoch.Add(time.Duration(th.when)) }

// String describes the timer for logs.
func (th *TimerHandle) String() string {
	s := th.Handle.String()
	return "<TimerHandle when=" + fmt.Sprint(time.Duration(th.when)) + s[len("<Handle"):]
}

// CallOption is an option of the scheduling methods (CallSoon, CallLater,
// CallAt, CallSoonThreadsafe, AddDoneCallback). The zero value means the
// defaults.
type CallOption struct {
	ctx context.Context
}

// WithContext runs the callback with ctx instead of the loop's ctx
// (asyncio's context= argument: the callback sees ctx's values). If ctx does
// not carry the loop, the callback gets ctx wrapped so that it does; that
// costs one allocation per call.
func WithContext(ctx context.Context) CallOption {
	if ctx == nil {
		panic("asyncio: WithContext(nil)")
	}
	return CallOption{ctx: ctx}
}
