package asyncio

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Timeout runs body with a deadline d from now (asyncio.timeout; Go's
// version of `async with asyncio.timeout(d) as tm:`). If the deadline
// passes while body runs, the running task is cancelled: body's pending
// Await returns a *CancelledError, and when body returns that
// cancellation, Timeout turns it into a *TimeoutError
// (errors.Is(err, ErrTimeout)). Any other outcome of body is returned as
// is. A d <= 0 makes the deadline pass in the next loop iteration.
//
// The cancellation is told apart from others with Cancelling and
// Uncancel, exactly as CPython does: when the deadline has passed,
// Timeout takes its cancellation request back; if the task has no other
// request pending than those it had on entry and body returned a
// cancellation, the cancellation was the timeout's, and becomes the
// TimeoutError. A cancellation from outside (Task.Cancel by someone
// else, an enclosing Timeout that expired at the same time) passes
// through unchanged, so the task ends cancelled. Nested Timeouts work:
// the cancellation becomes a TimeoutError at the Timeout whose deadline
// caused it (the outermost, when several expire together).
//
// body gets the same ctx and tm, which moves or reads the deadline while
// body runs. Call it only from a coroutine, with its ctx (else
// ErrAwaitOutsideTask, and body does not run). A panic in body goes
// through, after the timer is cancelled. Costs one timer.
func Timeout(ctx context.Context, d time.Duration, body func(ctx context.Context, tm *TimeoutScope) error) error {
	return TimeoutAt(ctx, time.Now().Add(d), body)
}

// TimeoutAt is Timeout with an absolute deadline (asyncio.timeout_at),
// compared with the loop's clock (Loop.Time). The zero time.Time means no
// deadline (Python's None): Reschedule may set one later.
func TimeoutAt(ctx context.Context, when time.Time, body func(ctx context.Context, tm *TimeoutScope) error) error {
	if body == nil {
		panic("asyncio: Timeout with a nil body")
	}
	c, err := runningTask(ctx, "Timeout")
	if err != nil {
		return err
	}
	tm := &TimeoutScope{
		state:      timeoutEntered,
		loop:       c.loop,
		task:       c.owner,
		cancelling: c.owner.Cancelling(),
	}
	tm.Reschedule(when)
	return tm.run(ctx, body)
}

// run runs body and exits the block, also when body panics.
func (tm *TimeoutScope) run(ctx context.Context, body func(ctx context.Context, tm *TimeoutScope) error) (err error) {
	defer func() { err = tm.exit(err) }()
	return body(ctx, tm)
}

// A TimeoutScope is the deadline of a Timeout block (asyncio.Timeout):
// its body may read it, move it, and ask whether it expired; afterwards
// Expired and When still answer. Loop-confined.
type TimeoutScope struct {
	state      timeoutState
	when       time.Time // zero: none
	handle     *Handle   // the pending _on_timeout, if any
	loop       *Loop
	task       AnyTask
	cancelling int // the task's Cancelling() on entry
}

type timeoutState uint8

const (
	timeoutEntered  timeoutState = iota // "active"
	timeoutExpiring                     // the task was cancelled; body has not returned yet
	timeoutExpired
	timeoutExited // "finished"
)

func (s timeoutState) String() string {
	return [...]string{"active", "expiring", "expired", "finished"}[s]
}

// When returns the deadline, or the zero time.Time if there is none.
func (tm *TimeoutScope) When() time.Time { return tm.when }

// Reschedule moves the deadline to when; the zero time.Time removes it.
// A deadline not after the loop's clock expires in the next loop
// iteration. It panics unless called while the block is active (body
// running and the deadline not passed), as CPython raises RuntimeError
// ("Cannot change state of expiring Timeout").
func (tm *TimeoutScope) Reschedule(when time.Time) {
	if tm.state != timeoutEntered {
		panic(fmt.Sprintf("asyncio: cannot change state of %v Timeout", tm.state))
	}
	tm.when = when
	if tm.handle != nil {
		tm.handle.Cancel()
		tm.handle = nil
	}
	switch {
	case when.IsZero():
	case !when.After(tm.loop.Time()):
		tm.handle = tm.loop.CallSoon(tm.onTimeout)
	default:
		tm.handle = &tm.loop.CallAt(when, tm.onTimeout).Handle
	}
}

// Expired reports whether the deadline passed while body ran (the block
// is expiring, or has ended by expiring).
func (tm *TimeoutScope) Expired() bool {
	return tm.state == timeoutExpiring || tm.state == timeoutExpired
}

// String describes the block, e.g. "<Timeout [active] when=...>" or
// "<Timeout [expired]>".
func (tm *TimeoutScope) String() string {
	if tm.state != timeoutEntered {
		return fmt.Sprintf("<Timeout [%v]>", tm.state)
	}
	if tm.when.IsZero() {
		return "<Timeout [active] when=None>"
	}
	return fmt.Sprintf("<Timeout [active] when=%v>", tm.when.Round(0))
}

func (tm *TimeoutScope) onTimeout(context.Context) {
	tm.task.Cancel("")
	tm.state = timeoutExpiring
	tm.handle = nil
}

// exit is CPython's Timeout.__aexit__: err is what body returned.
func (tm *TimeoutScope) exit(err error) error {
	if tm.handle != nil {
		tm.handle.Cancel()
		tm.handle = nil
	}
	switch tm.state {
	case timeoutExpiring:
		tm.state = timeoutExpired
		if tm.task.Uncancel() <= tm.cancelling && errors.Is(err, ErrCancelled) {
			// No new cancellation request: the cancellation is ours.
			return &TimeoutError{}
		}
	case timeoutEntered:
		tm.state = timeoutExited
	}
	return err
}
