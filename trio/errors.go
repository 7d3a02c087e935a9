package trio

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
)

// ErrCancelled matches every cancellation that trio delivers:
// errors.Is(err, ErrCancelled) is true for the errors returned by
// [Checkpoint], [Sleep], blocking primitives and streams when their ctx was
// cancelled. Such errors also match [context.Canceled], or
// [context.DeadlineExceeded] when a deadline caused them, so code written
// against the standard library recognises them too.
var ErrCancelled = errors.New("trio: cancelled")

// ErrTooSlow is returned by [FailAfter] and [FailAt] when the deadline
// expired before fn returned.
var ErrTooSlow = errors.New("trio: too slow")

// CancelledError is the cancellation trio delivers. It says which scope was
// cancelled and why; context.Cause of a cancelled scope's ctx (or of any ctx
// derived from it) returns it.
//
// It matches [ErrCancelled], and [context.Canceled] or
// [context.DeadlineExceeded] depending on Deadline.
type CancelledError struct {
	// Scope is the cancel scope whose cancellation this is; nil when the
	// cancellation came from a context that is not a trio scope.
	Scope *CancelScope
	// Reason says why, for people: "Cancel called", "deadline exceeded", …
	Reason string
	// Deadline is true when a deadline (rather than an explicit cancel)
	// caused the cancellation.
	Deadline bool

	cause error // the foreign context's cause, when Scope is nil
}

func (e *CancelledError) Error() string {
	if e.Reason == "" {
		return "trio: cancelled"
	}
	return "trio: cancelled: " + e.Reason
}

// Is reports whether target is ErrCancelled, or the context error that
// corresponds to this cancellation.
func (e *CancelledError) Is(target error) bool {
	switch target {
	case ErrCancelled:
		return true
	case context.Canceled:
		return !e.Deadline
	case context.DeadlineExceeded:
		return e.Deadline
	}
	return false
}

// Unwrap returns the cause reported by a foreign (non-trio) context, if any.
func (e *CancelledError) Unwrap() error { return e.cause }

// IsCancellation reports whether err is (or wraps) a cancellation: a trio
// [CancelledError], or [context.Canceled] or [context.DeadlineExceeded]
// themselves, as ctx-aware APIs return ctx.Err().
//
// An error that only claims to match a context error through an Is method
// of its own (asyncio's CancelledError matches context.Canceled so that
// Go code sees it as a cancellation) is not trio's: scopes neither
// absorb it nor collapse it with their own cancellations.
func IsCancellation(err error) bool {
	return err != nil && (errors.Is(err, ErrCancelled) ||
		wraps(err, context.Canceled) ||
		wraps(err, context.DeadlineExceeded))
}

// wraps reports whether target is in err's chain itself (errors.Is
// without the chain's Is methods).
func wraps(err, target error) bool {
	for err != nil {
		if err == target {
			return true
		}
		switch x := err.(type) {
		case interface{ Unwrap() error }:
			err = x.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range x.Unwrap() {
				if wraps(e, target) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}

// cancelError returns the cancellation of a done ctx as a *CancelledError:
// the scope's own when ctx comes from a trio scope, otherwise one describing
// the foreign context's cancellation. It returns nil if ctx is not done.
func cancelError(ctx context.Context) error {
	err := ctx.Err()
	if err == nil {
		return nil
	}
	cause := context.Cause(ctx)
	if ce, ok := cause.(*CancelledError); ok {
		return ce
	}
	return foreignCancel(err, cause)
}

func foreignCancel(err, cause error) *CancelledError {
	reason := "context canceled"
	deadline := errors.Is(err, context.DeadlineExceeded)
	if deadline {
		reason = "context deadline exceeded"
	}
	if cause != nil && cause != err {
		reason += ": " + cause.Error()
	}
	return &CancelledError{Reason: reason, Deadline: deadline, cause: cause}
}

// PanicError carries a panic out of the goroutine where it happened: a
// nursery re-panics with it in its owner's goroutine once every sibling has
// ended, so the original Value and Stack are not lost.
//
// When more than one thing went wrong in the nursery, the PanicError is the
// first panic, and Others holds the rest: the later panics (each a
// *PanicError), then the errors the body and children returned (the
// nursery's own cancellation aside). errors.Is and errors.As look into
// Value (if it is an error) and into every member of Others.
type PanicError struct {
	Value  any     // the value passed to panic
	Stack  []byte  // the stack of the goroutine that panicked, at the panic
	Others []error // what else went wrong in the same nursery; nil if nothing
}

func (p *PanicError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "trio: panic: %v", p.Value)
	if len(p.Others) > 0 {
		fmt.Fprintf(&b, "\n\nand %d more in the same nursery:", len(p.Others))
		for _, e := range p.Others {
			if q, ok := e.(*PanicError); ok {
				fmt.Fprintf(&b, "\n  - panic: %v", q.Value)
			} else {
				fmt.Fprintf(&b, "\n  - %v", e)
			}
		}
	}
	fmt.Fprintf(&b, "\n\ngoroutine stack at the panic:\n%s", p.Stack)
	return b.String()
}

// Unwrap returns the panic value if it is an error, followed by Others.
func (p *PanicError) Unwrap() []error {
	var errs []error
	if err, ok := p.Value.(error); ok {
		errs = append(errs, err)
	}
	return append(errs, p.Others...)
}

// NewPanicError wraps a recovered value with the current stack. Call it in
// the deferred function that recovered. A value that already is a
// *PanicError is returned unchanged, so the first stack is kept.
func NewPanicError(v any) *PanicError {
	if p, ok := v.(*PanicError); ok {
		return p
	}
	return &PanicError{Value: v, Stack: debug.Stack()}
}
