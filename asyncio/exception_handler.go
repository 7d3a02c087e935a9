package asyncio

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"

	"github.com/trioasyncio/trioasyncio/trio"
)

// ExceptionContext describes an error the loop could not return to anyone
// (asyncio's exception-handler context dict): a panic in a callback, a
// future's exception that was never retrieved. Only Message is always set.
type ExceptionContext struct {
	Message string // what happened, for people
	Err     error  // the error; a panic arrives as a *trio.PanicError with its stack

	Future Awaitable // the future concerned, if any
	Task   AnyTask   // the task concerned, if any
	Handle *Handle   // the callback concerned, if any

	// Object describes the future or task concerned when it no longer
	// exists (a garbage-collected future whose exception was never
	// retrieved), e.g. "Task-7".
	Object string

	// SourceTraceback is where the object concerned was created, in debug
	// mode: a stack, innermost call first.
	SourceTraceback string

	// Extra holds further keys (asyncio's context dict is open-ended): for
	// example "context", the ExceptionContext a custom handler panicked on.
	Extra map[string]any
}

// ExceptionHandler handles the errors described by ExceptionContext. It
// runs on the loop (or, for futures collected after the loop closed, on the
// runtime's cleanup goroutine).
type ExceptionHandler func(loop *Loop, ec ExceptionContext)

// SetExceptionHandler sets the loop's exception handler; nil restores the
// default, DefaultExceptionHandler. Goroutine-safe.
func (l *Loop) SetExceptionHandler(h ExceptionHandler) {
	if h == nil {
		l.handler.Store(nil)
		return
	}
	l.handler.Store(&h)
}

// GetExceptionHandler returns the handler set by SetExceptionHandler, nil
// for the default. Goroutine-safe.
func (l *Loop) GetExceptionHandler() ExceptionHandler {
	if h := l.handler.Load(); h != nil {
		return *h
	}
	return nil
}

// CallExceptionHandler calls the loop's exception handler with ec, on the
// caller's goroutine (asyncio's call_exception_handler). If a custom
// handler panics, the default handler logs that panic along with ec. If
// the default handler itself panics (its slog handler does), that panic
// is written to os.Stderr, the last resort that has no logger to fail,
// with the message "Exception in default exception handler" (CPython logs
// it with logger.error), and the caller goes on: on the loop, the loop
// keeps running, and the default handler has already made the OpenLoop
// block fail with ec's error. Goroutine-safe in itself; the handler it
// calls decides what it may touch.
func (l *Loop) CallExceptionHandler(ec ExceptionContext) {
	h := l.GetExceptionHandler()
	if h == nil {
		l.callDefaultHandler(ec, "Exception in default exception handler")
		return
	}
	defer func() {
		if v := recover(); v != nil {
			l.callDefaultHandler(ExceptionContext{
				Message: "Unhandled error in exception handler",
				Err:     trio.NewPanicError(v),
				Extra:   map[string]any{"context": ec},
			}, "Exception in default exception handler while handling an unexpected error in custom exception handler")
		}
	}()
	h(l, ec)
}

// callDefaultHandler calls the default handler with ec; if it panics, it
// writes what (CPython's message) and the panic to lastResortOutput.
func (l *Loop) callDefaultHandler(ec ExceptionContext, what string) {
	defer func() {
		if v := recover(); v != nil {
			fmt.Fprintf(lastResortOutput(), "asyncio: %s (handling %q): %v\n", what, ec.Message, trio.NewPanicError(v))
		}
	}()
	l.DefaultExceptionHandler(ec)
}

// lastResortOutput is where a panic of the default exception handler
// goes: the process's standard error at the time of the panic.
var lastResortOutput = func() io.Writer { return os.Stderr }

// DefaultExceptionHandler logs ec with log/slog's default logger, at level
// Error (asyncio's default_exception_handler), and makes the loop's
// OpenLoop block fail with the error: it cancels the block's body, and
// OpenLoop returns the error (wrapped with the message) once the loop has
// been torn down, as trio-asyncio does. A custom handler may call it to
// defer to the default behaviour. Goroutine-safe.
func (l *Loop) DefaultExceptionHandler(ec ExceptionContext) {
	msg := ec.Message
	if msg == "" {
		msg = "Unhandled exception in event loop"
	}
	if ec.Err != nil {
		l.fail(fmt.Errorf("asyncio: %s: %w", msg, ec.Err))
	} else {
		l.fail(errors.New("asyncio: " + msg))
	}
	attrs := make([]any, 0, 16)
	if ec.Err != nil {
		attrs = append(attrs, "err", ec.Err)
	}
	if ec.Future != nil {
		attrs = append(attrs, "future", fmt.Sprint(ec.Future))
	}
	if ec.Task != nil {
		attrs = append(attrs, "task", fmt.Sprint(ec.Task))
	}
	if ec.Handle != nil {
		attrs = append(attrs, "handle", ec.Handle.String())
	}
	if ec.Object != "" {
		attrs = append(attrs, "object", ec.Object)
	}
	if ec.SourceTraceback != "" {
		attrs = append(attrs, "source_traceback", ec.SourceTraceback)
	}
	keys := make([]string, 0, len(ec.Extra))
	for k := range ec.Extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		attrs = append(attrs, k, fmt.Sprintf("%+v", ec.Extra[k]))
	}
	slog.Error("asyncio: "+msg, attrs...)
}
