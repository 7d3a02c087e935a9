package asyncio

import (
	"context"
	"errors"
	"fmt"
)

// The errors of asyncio (CPython's asyncio/exceptions.py), usable with
// errors.Is and errors.As. Each sentinel matches the error type of the
// same name: errors.Is(err, ErrCancelled) is true for every
// *[CancelledError], and for errors that wrap one.
var (
	// ErrCancelled matches every *CancelledError.
	ErrCancelled = errors.New("asyncio: cancelled")
	// ErrInvalidState matches every *InvalidStateError.
	ErrInvalidState = errors.New("asyncio: invalid state")
	// ErrTimeout matches every *TimeoutError.
	ErrTimeout = errors.New("asyncio: timeout")

	// ErrLoopClosed is returned (or, by loop-confined methods, panicked
	// with) when a loop is used after its OpenLoop block has closed it.
	ErrLoopClosed = errors.New("asyncio: event loop is closed")
	// ErrNoRunningLoop is returned by GetRunningLoop, and panicked with by
	// the calls that need the loop of their ctx (CreateTask, CurrentTask,
	// Gather, RunInExecutor, WrapFuture, …), when the ctx carries no loop.
	ErrNoRunningLoop = errors.New("asyncio: no running event loop (asyncio used outside OpenLoop)")
)

// Flavor mistakes: asyncio-flavored calls made where they cannot work. They
// are returned as errors (wrapped with details), never turned into a hang.
var (
	// ErrAwaitOutsideTask is returned by Await and Sleep when ctx is not the
	// ctx of the task that is running: called from a plain callback, from
	// trio-flavored code, or with another task's ctx.
	ErrAwaitOutsideTask = errors.New("asyncio: Await outside a task (ctx is not the ctx of the running task)")
	// ErrForeignFuture is returned by Await for a pending future that
	// belongs to another loop (CPython: "Task got Future attached to a
	// different loop").
	ErrForeignFuture = errors.New("asyncio: task got a future attached to a different loop")
	// ErrAwaitSelf is returned by Await when a task awaits itself
	// (CPython: "Task cannot await on itself").
	ErrAwaitSelf = errors.New("asyncio: task cannot await on itself")
)

// CancelledError is asyncio's cancellation: what Result returns for a
// cancelled future, and what Await returns in a task that is being
// cancelled. It matches [ErrCancelled] and [context.Canceled].
//
// It is not trio's cancellation: asyncio cancellation is edge-triggered (a
// task sees one CancelledError per Cancel, and may catch it and go on),
// trio's is level-triggered. The boundary functions translate between the
// two.
//
// A task whose coroutine returns an error matching ErrCancelled (this one,
// or one wrapping it) ends cancelled, as a Python task ends cancelled when
// CancelledError escapes its coroutine.
type CancelledError struct {
	Msg string // the message given to Cancel; "" for none

	cause error // trio's cancellation, when a trio call ended cancelled (RunTrio)
}

func (e *CancelledError) Error() string {
	if e.Msg == "" {
		return "asyncio: cancelled"
	}
	return "asyncio: cancelled: " + e.Msg
}

// Is reports whether target is ErrCancelled or context.Canceled: ordinary
// Go code that tells a cancellation from a failure by
// errors.Is(err, context.Canceled) treats asyncio's as one, as it does
// trio's.
func (e *CancelledError) Is(target error) bool {
	return target == ErrCancelled || target == context.Canceled
}

// Unwrap returns trio's cancellation when the CancelledError reports a
// trio call (RunTrio) that ended cancelled, so errors.Is(err,
// trio.ErrCancelled) sees it too; nil otherwise.
func (e *CancelledError) Unwrap() error { return e.cause }

// InvalidStateError reports an operation a future's state does not allow:
// the result of a pending future, setting the result of a done one.
// It matches [ErrInvalidState].
type InvalidStateError struct {
	Msg string
}

func (e *InvalidStateError) Error() string { return "asyncio: invalid state: " + e.Msg }

// Is reports whether target is ErrInvalidState.
func (e *InvalidStateError) Is(target error) bool { return target == ErrInvalidState }

// TimeoutError reports that an operation took longer than allowed
// (asyncio.TimeoutError, for WaitFor, Timeout and friends). It matches
// [ErrTimeout].
type TimeoutError struct {
	Msg string
}

func (e *TimeoutError) Error() string {
	if e.Msg == "" {
		return "asyncio: timeout"
	}
	return "asyncio: timeout: " + e.Msg
}

// Is reports whether target is ErrTimeout.
func (e *TimeoutError) Is(target error) bool { return target == ErrTimeout }

// Timeout reports true, so that code testing for net.Error-style timeouts
// recognises it.
func (e *TimeoutError) Timeout() bool { return true }

// Shared error values of the hot paths: returning them allocates nothing.
// They are never modified.
var (
	errResultNotReady = &InvalidStateError{Msg: "Result is not ready."}
	errExcNotSet      = &InvalidStateError{Msg: "Exception is not set."}
)

func errAlreadyDone(state string, what fmt.Stringer) error {
	return &InvalidStateError{Msg: state + ": " + what.String()}
}
