// Package trio is Trio's structured concurrency for Go, carried by
// context.Context.
//
// A [Nursery] supervises goroutines and does not return until all of them
// have; a [CancelScope] delimits code that can be cancelled as a unit, by
// Cancel from any goroutine, by a movable deadline, or by its surroundings
// unless shielded. Cancellation is level-triggered: a cancelled scope's ctx
// stays done, so every checkpoint inside fails until the code leaves the
// scope, and the scope that caused a cancellation absorbs it (the
// outermost one, when enclosing scopes are cancelled too). Because the
// cancellation travels in a context.Context, every ctx-aware Go API (net,
// os/exec, database/sql…) is cancelled by trio scopes for free.
//
// Each child a nursery starts is a [Task], whose identity travels in its
// ctx ([CurrentTask]); a [Lock] uses it to know its owner. The other
// primitives ([Event], [Semaphore], [CapacityLimiter], [Condition], memory
// channels from [OpenMemoryChannel]) take a ctx wherever they block, and
// report what Trio's statistics() reports through a Statistics method.
//
// Everything in this package is safe for use by multiple goroutines.
package trio
