// Package gojaloop runs goja's JavaScript on this module's asyncio event loop:
// a drop-in replacement for goja_nodejs's eventloop package, plus a
// structured form whose loop lives exactly as long as a block of code.
//
// # The drop-in
//
// NewEventLoop, Run, Start, StartInForeground, Stop, StopNoWait, Terminate,
// RunOnLoop, SetTimeout/ClearTimeout, SetInterval/ClearInterval and the
// options EnableConsole and WithRegistry have the names, signatures and
// documented behaviour of github.com/dop251/goja_nodejs/eventloop, so a
// program switches by changing its import path. Scripts get setTimeout,
// clearTimeout, setInterval, clearInterval, setImmediate and clearImmediate,
// and, through goja_nodejs's require and console modules, require() and
// console.
//
// What changes is underneath, and it cures that package's known problems:
//
//   - Timers and intervals are timers of one asyncio loop: no goroutine and
//     no time.AfterFunc per timer or interval. A stopped loop owns no
//     goroutine at all; pending timers wait in memory and are re-armed, at
//     their original deadlines, by the next Start or Run.
//   - Stop, StopNoWait and Terminate never hang: not on a loop that was
//     never started, not on a stopped loop, not twice, and not when called
//     from the loop's own callbacks (there Stop does not wait, since the
//     loop cannot finish while its caller is still running on it).
//   - A forgotten setInterval cannot keep a structured block alive: Open
//     drops it when the block ends.
//
// # The structured form
//
// Open runs a body with an EventLoop whose loop lives for the body, inside
// the caller's trio cancel scopes. When the body returns, everything still
// pending (timers, intervals, immediates, RunOnLoop jobs, Go calls made from
// JavaScript) is dropped, or, with WaitIdle, awaited first. A deadline or
// cancellation of the body's ctx interrupts a running script
// (goja.Runtime.Interrupt) and leaves Open as the body's cancellation, which
// the trio scope that caused it absorbs.
//
// # Promises across the boundary
//
// Await runs a JavaScript function on the loop from Go code and waits for
// the promise it returns; a rejection comes back as a *RejectionError. Async
// makes a Go function callable from JavaScript as a function returning a
// promise, settled when the Go function, which runs on a goroutine of the
// loop's block with a ctx of its own, returns.
//
// # Threading
//
// A goja.Runtime is not safe for concurrent use. The loop is the only
// goroutine that touches it while the loop runs; give it work with RunOnLoop,
// Do or Await, and do not keep goja values outside the callbacks that
// received them (numbers, strings and booleans exported with Export are
// plain Go values and may be kept).
package gojaloop
