package asyncio

import (
	"context"
	"errors"

	"github.com/trioasyncio/trioasyncio/trio"
)

// Run runs main as the main task of a new loop and returns its result
// (asyncio.run): it opens a loop for the duration of the call (OpenLoop),
// runs main on it (RunAsyncio), and tears the loop down, cancelling
// whatever main left running, before it returns. Trio-flavored: call it
// from ordinary Go code. A program that wants SIGINT and SIGTERM to
// cancel main runs it under trio.Run:
//
//	trio.Run(func(ctx context.Context) error {
//		_, err := asyncio.Run(ctx, main)
//		return err
//	})
//
// Cancellation of ctx reaches main as Task.Cancel, as for RunAsyncio;
// if asyncio code had cancelled main as well, main's own CancelledError
// is returned rather than ctx's cancellation, as asyncio.Runner does when
// an interrupt meets a main task already cancelled. The
// error is main's, joined with whatever the loop's default exception
// handler received (a callback's panic, a task exception nobody
// retrieved). A panic in main is re-raised in the caller's goroutine, as
// a *trio.PanicError carrying main's stack, once the loop is torn down.
// It panics if main is nil.
func Run[T any](ctx context.Context, main func(ctx context.Context) (T, error)) (T, error) {
	if main == nil {
		panic("asyncio: Run with a nil main")
	}
	var v T
	var p *trio.PanicError
	err := OpenLoop(ctx, func(ctx context.Context, _ *Loop) error {
		var err error
		var task interface{ Cancelling() int }
		v, err = RunAsyncio(ctx, func(ctx context.Context) (T, error) {
			task = CurrentTask(ctx)
			return main(ctx)
		})
		if pe, ok := err.(*trio.PanicError); ok {
			p = pe
			return nil
		}
		// As asyncio.Runner does on an interrupt: main ended cancelled
		// after ctx was cancelled, but asyncio code had cancelled it too
		// (its count of cancellation requests is above the one ctx made),
		// so its own CancelledError is the result, not ctx's cancellation.
		var ce *CancelledError
		if task != nil && task.Cancelling() > 1 && errors.Is(err, trio.ErrCancelled) && errors.As(err, &ce) {
			return ce
		}
		return err
	})
	if p != nil {
		panic(p)
	}
	if err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}
