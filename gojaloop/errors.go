package gojaloop

import (
	"errors"

	"github.com/dop251/goja"
)

var (
	// ErrTerminated is returned by Do and Await when the loop has been
	// terminated (Terminate, or the end of an Open block) and takes no work.
	ErrTerminated = errors.New("gojaloop: event loop terminated")

	// ErrOnLoop is returned by Do and Await called from the loop's own
	// jobs (or from Run's fn), which would wait for themselves forever:
	// there, use the goja.Runtime directly.
	ErrOnLoop = errors.New("gojaloop: Do or Await called from the loop's own goroutine, which would wait for itself")

	// ErrNotRunning rejects the promise of an Async function called while
	// the loop is stopping or stopped: its Go function is not started.
	ErrNotRunning = errors.New("gojaloop: event loop not running")

	// ErrRejected matches every *RejectionError.
	ErrRejected = errors.New("gojaloop: promise rejected")

	// ErrInterrupted matches the errors of Do and Await whose script was
	// interrupted because their ctx was cancelled; the error also wraps
	// that cancellation (context.Cause of the ctx), so that errors.Is sees
	// trio's cancellation and the trio scope that caused it absorbs it.
	ErrInterrupted = errors.New("gojaloop: script interrupted")
)

// A RejectionError is the error of Await when the promise was rejected.
// Reason is the rejection value: use it only on the loop, as every goja
// value. If the reason is an error made by Go code (a GoError, as from
// goja.Runtime.NewGoError, a Go function's error return, or a rejection by
// an Async function), errors.Is and errors.As see that Go error too.
type RejectionError struct {
	Reason goja.Value
	msg    string
	cause  error
}

// newRejectionError describes reason; it must run on the loop.
func newRejectionError(reason goja.Value) *RejectionError {
	e := &RejectionError{Reason: reason}
	if reason == nil {
		e.msg = "undefined"
		return e
	}
	e.msg = reason.String()
	if err, ok := reason.Export().(error); ok {
		e.cause = err
	} else if o, ok := reason.(*goja.Object); ok {
		// A GoError: an Error object whose "value" is the Go error.
		if v := o.Get("value"); v != nil {
			if err, ok := v.Export().(error); ok {
				e.cause = err
			}
		}
	}
	return e
}

func (e *RejectionError) Error() string { return "gojaloop: promise rejected: " + e.msg }

// Unwrap returns ErrRejected and, if the reason is a Go error, that error.
func (e *RejectionError) Unwrap() []error {
	if e.cause != nil {
		return []error{ErrRejected, e.cause}
	}
	return []error{ErrRejected}
}

// interruptError is the error of a script that Do or Await interrupted.
type interruptError struct{ cause error }

func (e *interruptError) Error() string {
	return "gojaloop: script interrupted: " + e.cause.Error()
}

// Unwrap returns the cancellation alone (not a list with ErrInterrupted),
// so that trio sees one cancellation, not a group to split.
func (e *interruptError) Unwrap() error { return e.cause }

func (e *interruptError) Is(target error) bool { return target == ErrInterrupted }
