// Package asyncio is asyncio's event loop re-implemented on top of package
// trio: callbacks, timers, futures and coroutine tasks with asyncio's
// semantics, living inside structured concurrency. Names are CPython's in
// MixedCaps (call_soon is CallSoon, create_task is CreateTask); where Go
// cannot say it as Python does, the doc comment says how it differs.
//
// # The loop
//
// A [Loop] runs single-threaded, callback-driven code on one goroutine.
// It exists for the duration of an [OpenLoop] block: OpenLoop starts the
// loop on a goroutine of its own inside a trio nursery, runs the block's
// body, and, when the body returns, tears the loop down (see Teardown
// below). Nothing needs closing by hand, and nothing the loop started
// outlives the block. Any number of loops may be open at once, each in
// its own block.
//
// # Two flavors of code
//
// Trio-flavored code is ordinary Go: func(ctx context.Context) error,
// goroutine-safe, cancelled through its ctx. The OpenLoop body is
// trio-flavored.
//
// Asyncio-flavored code runs on the loop, one piece at a time, so it
// needs no locks between the points where it waits. It comes in two
// forms. A callback, func(ctx context.Context), is scheduled with
// [Loop.CallSoon], [Loop.CallLater] or [Loop.CallAt] and runs once, to
// its end. A coroutine, func(ctx context.Context) (T, error), is run by a
// [Task]: it runs in steps, and between steps it waits without blocking
// the loop.
//
// Loop-confined: the loop's objects (handles, futures, tasks, locks,
// queues) may be used only by asyncio-flavored code of their loop. Other
// goroutines reach the loop through [Loop.CallSoonThreadsafe], and trio
// code through the boundary functions below. In debug mode
// ([Loop.SetDebug]) a loop-confined method called from elsewhere panics
// with a message naming the right call; otherwise it is a data race.
//
// # Tasks and awaiting
//
// [CreateTask] wraps a coroutine in a Task and schedules its first step.
// A coroutine waits only through [Await] (for a [Future] or another task)
// and [Sleep], with the ctx it was given: the task gives the loop back
// until what it waits for is done. Everything else it does runs without
// interruption. A coroutine's ctx carries its task and loop; its
// cancellation is asyncio's: [Task.Cancel] makes the task's current or
// next Await return a *[CancelledError], which the coroutine may handle.
// Combinators follow asyncio: [Gather], [Wait], [WaitFor], [Shield],
// [AsCompleted], task groups ([OpenTaskGroup]) and timeouts
// ([Timeout]).
//
// # The boundary
//
// From trio code: [RunAsyncio] runs a coroutine as a task and returns its
// result, [StartTask] starts one in the background and returns the task,
// [RunFuture] waits for a future or task, [RunSync] runs a plain function
// on the loop (the way to touch loop-confined objects), and
// [Loop.WaitStopped] waits for [Loop.Stop]. From asyncio code: [RunTrio]
// runs trio code in the loop's nursery and returns a future of its
// result. Values cross too: [IterAsyncio] lets trio code range over what
// an asyncio producer yields, [IterTrio] the other way round; [WrapFuture]
// makes a [ConcurrentFuture] awaitable; a [TrioExecutor] runs executor
// functions as trio code under a CapacityLimiter. Cancellation is
// translated exactly both ways: a trio
// cancellation of a RunAsyncio caller becomes one Task.Cancel, and the
// caller gets trio's cancellation back once the task has ended; cancelling
// a RunTrio future cancels the trio call's own scope. The boundary
// functions called with the wrong flavor of ctx return [ErrWrongFlavor]
// or [ErrAwaitOutsideTask] instead of blocking the loop.
//
// # Networking, processes and signals
//
// Network I/O follows asyncio's two styles: transports and protocols
// (callbacks: [CreateServer], [CreateConnection], [Protocol]) and
// streams (coroutines: [StartServer], [OpenConnection], [StreamReader],
// [StreamWriter]), with TLS, Unix sockets and datagram endpoints
// ([CreateDatagramEndpoint]). Subprocesses ([CreateSubprocessExec]),
// pipes ([ConnectReadPipe]) and signal handlers
// ([Loop.AddSignalHandler]) belong to the loop too. The readiness of
// file descriptors comes from an event queue the loop owns: epoll on
// Linux, kqueue on macOS and the BSDs. On Windows these functions return
// [ErrNotSupported]: asyncio's Windows loop is a proactor over I/O
// completion ports, and this loop needs Unix file descriptors (AIX and
// Solaris, which have neither epoll nor kqueue, return it too). Everything
// the loop owns is closed, killed or restored by its teardown.
//
// # Teardown
//
// When the OpenLoop body returns, the callbacks it scheduled run; every
// task is cancelled, and every trio call's scope, and the loop keeps
// running while they end (their cleanup may still await and cross the
// boundary); then pending callbacks and timers are dropped, the loop's
// executor is shut down and waited for, and the loop closes. A panic in a
// callback, or an error nobody retrieved, goes to the loop's exception
// handler; the default one logs it and makes the OpenLoop block fail with
// it.
package asyncio
