package gojaloop

import "github.com/dop251/goja_nodejs/require"

// An Option configures an EventLoop (NewEventLoop, Open).
type Option func(*EventLoop)

// EnableConsole controls whether the "console" module is loaded into the
// runtime used by the loop. By default loops are created with the "console"
// module loaded; pass EnableConsole(false) to disable this.
func EnableConsole(enableConsole bool) Option {
	return func(loop *EventLoop) {
		loop.enableConsole = enableConsole
	}
}

// WithRegistry makes require() in the loop's runtime use registry, so that
// native and source modules registered there are available to scripts.
// By default each loop gets an empty registry of its own.
func WithRegistry(registry *require.Registry) Option {
	return func(loop *EventLoop) {
		loop.registry = registry
	}
}

// WaitIdle makes an Open block, when its body returns without error and
// its ctx is not cancelled, wait until the loop has nothing left to do (no
// timer, interval, immediate, RunOnLoop job or Go call pending) before it
// ends, instead of dropping that work. A forgotten setInterval therefore
// keeps such a block open until its ctx is cancelled; put a deadline on it.
// NewEventLoop ignores it: Run already waits for the pending jobs.
func WaitIdle() Option {
	return func(loop *EventLoop) {
		loop.waitIdle = true
	}
}
