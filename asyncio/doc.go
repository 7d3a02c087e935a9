// Package asyncio is asyncio's event loop re-implemented on top of package
// trio: callbacks, timers, futures and coroutine tasks with asyncio's
// semantics, living inside structured concurrency.
//
// A loop exists for the duration of an [OpenLoop] block, which runs it on
// a goroutine of its own in a trio nursery and closes it, cancelling its
// tasks and stopping its coroutines, when the block's body returns.
//
// Two flavors of code meet here. Trio-flavored code is ordinary Go
// (func(ctx context.Context) error), goroutine-safe. Asyncio-flavored code
// runs on a loop: callbacks (func(ctx context.Context)) scheduled with
// [Loop.CallSoon] and friends, and coroutines (func(ctx context.Context)
// (T, error)) run by a [Task], which wait only through [Await] and
// [Sleep]. A loop runs one callback or task step at a time, in CPython's
// order, so asyncio-flavored code needs no locks between awaits. Its
// objects (handles, futures, tasks) are loop-confined; other goroutines
// reach the loop through [Loop.CallSoonThreadsafe]. Flavor mistakes are
// errors that say so (ErrAwaitOutsideTask, ErrForeignFuture…), or, in
// debug mode, panics naming the goroutine-safe alternative.
//
// The boundary between the flavors (trio-asyncio's) is in bridge.go: from
// trio code, [RunAsyncio] runs a coroutine as a task and returns its
// result, [RunFuture] waits for a future, [RunSync] runs a plain function
// on the loop; from asyncio code, [RunTrio] runs trio code in the loop's
// nursery and returns a future. Cancellation is translated exactly both
// ways: trio's level-triggered scopes become one Task.Cancel, and a
// future's cancellation becomes the cancellation of the trio call's scope.
//
// Names are CPython's in MixedCaps: call_soon is CallSoon, create_task is
// CreateTask. Where Go cannot say it as Python does, the doc comment says
// how it differs.
package asyncio
