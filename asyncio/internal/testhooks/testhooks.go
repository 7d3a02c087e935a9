// Package testhooks lets asyncio/asynciotest reach into package asyncio
// without widening asyncio's public API: asyncio fills in the hooks when it
// is initialised.
package testhooks

import (
	"context"
	"sync/atomic"
)

// A Gate makes a loop's goroutine take turns with another goroutine (the
// synchronous test loop's caller). The loop holds at its start and after
// every iteration that processed a Stop: it sends on Paused, then waits on
// Resume. While it holds, the other goroutine may use the loop's
// loop-confined methods. Once Open is set the loop no longer holds.
type Gate struct {
	Paused chan struct{}
	Resume chan struct{}
	Open   atomic.Bool
	Held   atomic.Bool // the loop goroutine is holding

	// Exited, if not nil, is closed by the loop goroutine when it ends,
	// however it ends: returning after the teardown, panicking, or
	// runtime.Goexit (t.FailNow in a callback).
	Exited chan struct{}

	// Failed, if set, is called with each error the default exception
	// handler makes the loop fail with, on the goroutine that called the
	// handler (the loop's, a coroutine's, the runtime's cleanup goroutine,
	// or the one holding the turn). It must not block.
	Failed func(err error)
}

// OpenLoop is asyncio.OpenLoop with a gate; body receives the loop's ctx.
var OpenLoop func(ctx context.Context, g *Gate, body func(ctx context.Context) error) error
