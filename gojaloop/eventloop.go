package gojaloop

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/dop251/goja"
	"github.com/dop251/goja_nodejs/console"
	"github.com/dop251/goja_nodejs/require"
)

// An EventLoop runs a goja.Runtime's callbacks (timers, intervals,
// immediates, RunOnLoop jobs, Go calls made from JavaScript) one at a time
// on an asyncio loop of this module. It is the type of goja_nodejs's
// eventloop with the same methods and behaviour, with these differences,
// which are all guarantees the original does not give:
//
//   - While it runs, the loop is one goroutine and one trio block; all its
//     timers are that loop's timers. A stopped loop owns no goroutine.
//   - Stop, StopNoWait and Terminate never hang, from any goroutine, in
//     any state, any number of times.
//   - Callbacks with equal deadlines run in the order they were scheduled.
//
// Create it with NewEventLoop (then Run, Start or StartInForeground) or get
// one from Open. Its methods are safe for concurrent use unless a method
// says otherwise; the goja.Runtime it hands to callbacks is not, and must
// be used only inside those callbacks.
type EventLoop struct {
	vm            *goja.Runtime
	enableConsole bool
	registry      *require.Registry
	waitIdle      bool

	// Lifecycle and the RunOnLoop queue, shared with every goroutine.
	mu          sync.Mutex
	cond        sync.Cond // broadcast when a session ends or a cleanup is done
	sess        *session  // the session started and not yet ended, or nil
	busy        bool      // Terminate is cleaning up a stopped loop
	busyOwner   int64     // the goroutine doing it
	terminated  bool      // RunOnLoop, SetTimeout, SetInterval refuse work
	structured  bool      // the loop of an Open block: never (re)started
	aux         []func()  // RunOnLoop jobs not yet run, in order
	auxSpare    []func()
	drainQueued bool               // a drain callback is scheduled on the running loop
	calls       map[*call]struct{} // Do and Await calls not returned yet

	// The jobs, owned by whoever runs the loop: the loop's goroutine while
	// a session runs, the goroutine of Run before it starts the session,
	// Terminate's caller while it cleans a stopped loop up. The lifecycle
	// above hands ownership over under mu.
	cur      *session // the session whose loop is running callbacks now
	jobs     []*job   // pending timers, intervals, immediates, Go calls
	jobSeq   uint64
	dropping bool         // Terminate is dropping the jobs: settle no Go call
	jobCount atomic.Int32 // len(jobs), readable by Stop from anywhere
	drainCb  func(ctx context.Context)
	inJob    atomic.Bool // a job (or Run's fn) is running: Do checks for a self-wait
}

// NewEventLoop returns a stopped loop with a new goja.Runtime. The runtime
// gets setTimeout, clearTimeout, setInterval, clearInterval, setImmediate,
// clearImmediate, require (from the registry given WithRegistry, else a new
// one) and, unless EnableConsole(false), console. It starts nothing: the
// loop costs no goroutine until Run, Start or StartInForeground.
func NewEventLoop(opts ...Option) *EventLoop {
	loop := &EventLoop{
		vm:            goja.New(),
		enableConsole: true,
	}
	loop.cond.L = &loop.mu
	loop.drainCb = loop.drain
	for _, opt := range opts {
		opt(loop)
	}
	if loop.registry == nil {
		loop.registry = new(require.Registry)
	}
	loop.registry.Enable(loop.vm)
	if loop.enableConsole {
		console.Enable(loop.vm)
	}
	vm := loop.vm
	vm.Set("setTimeout", loop.setTimeout)
	vm.Set("setInterval", loop.setInterval)
	vm.Set("setImmediate", loop.setImmediate)
	vm.Set("clearTimeout", loop.clearTimeout)
	vm.Set("clearInterval", loop.clearInterval)
	vm.Set("clearImmediate", loop.clearImmediate)
	return loop
}
