// Package turns connects package asyncio to asynciotest's synchronous
// loop, in which the test's goroutine and the loop goroutine take turns,
// without widening asyncio's public API. asyncio tells a Hook of the
// events of a loop's life; asynciotest's Hook blocks the loop goroutine
// at the events where the test's goroutine takes its turn.
package turns

import "context"

// An Event is a moment of a loop's life.
type Event uint8

const (
	// Started: the loop goroutine starts, before its first iteration.
	// On the loop goroutine; while Event runs the loop is lent to the
	// hook's owner, whose calls of loop-confined methods pass the checks.
	Started Event = iota
	// Stopped: an iteration that processed a Stop ended. As Started.
	Stopped
	// Closing: the block's body returned and the teardown begins. On
	// the goroutine that ran the body.
	Closing
	// Failed: the default exception handler made the block fail with
	// err. On the goroutine that called the handler; must not block.
	Failed
	// Exited: the loop goroutine ends, however it ends (returning after
	// the teardown, panicking, or runtime.Goexit from a callback).
	Exited
)

// A Hook receives a loop's events.
type Hook interface {
	Event(ev Event, err error)
}

// OpenLoop is asyncio.OpenLoop with a hook; body receives the loop's ctx.
// asyncio sets it when it is initialised.
var OpenLoop func(ctx context.Context, h Hook, body func(ctx context.Context) error) error
