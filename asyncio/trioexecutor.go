package asyncio

import (
	"context"
	"sync"

	"github.com/trioasyncio/trioasyncio/trio"
)

// A TrioExecutor runs the functions given to it as trio-flavored code,
// each on a goroutine of its loop's nursery, with at most as many at once
// as its trio CapacityLimiter admits (trio-asyncio's TrioExecutor). Use it
// wherever an Executor goes: RunInExecutor(ctx, ex, fn), or as the loop's
// default with Loop.SetDefaultExecutor.
//
// Each function takes one token of the limiter while it runs, and only
// one: the limiter may be shared with other trio code, which then competes
// for the same tokens, and a limiter of one token runs one function at a
// time without deadlocking. Functions start in the order they were
// submitted, as tokens come free. The functions live in the loop's nursery,
// so the OpenLoop block waits for them; RunInExecutor cancels their ctx
// when their future is cancelled or the loop closes, and a function still
// waiting for a token when the loop closes never runs.
//
// Goroutine-safe. Cost per function: a nursery goroutine and a token.
type TrioExecutor struct {
	loop    *Loop
	limiter *trio.CapacityLimiter

	mu    sync.Mutex
	queue []func() // guarded by mu: submitted, not started
}

// NewTrioExecutor returns an executor of the loop ctx carries (the
// OpenLoop body's ctx, or a callback's or task's), bounded by limiter;
// nil means a limiter of DefaultMaxWorkers() tokens of its own. It panics
// if ctx carries no loop (ErrNoRunningLoop).
func NewTrioExecutor(ctx context.Context, limiter *trio.CapacityLimiter) *TrioExecutor {
	l := loopOf(ctx)
	if l == nil {
		panic(ErrNoRunningLoop)
	}
	if limiter == nil {
		limiter = trio.NewCapacityLimiter(DefaultMaxWorkers())
	}
	return &TrioExecutor{loop: l, limiter: limiter}
}

// Limiter returns the executor's CapacityLimiter: raise or lower its
// tokens with SetTotalTokens.
func (e *TrioExecutor) Limiter() *trio.CapacityLimiter { return e.limiter }

// Submit starts fn on a goroutine of the loop's nursery, where it waits
// for a token of the limiter, runs, and gives the token back. It does not
// block. It returns ErrLoopClosed, and does not run fn, once the loop has
// closed. It panics if fn is nil.
func (e *TrioExecutor) Submit(fn func()) (err error) {
	if fn == nil {
		panic("asyncio: TrioExecutor.Submit(nil)")
	}
	l := e.loop
	if l.closed.Load() {
		return ErrLoopClosed
	}
	defer func() {
		if recover() != nil {
			err = ErrLoopClosed // the nursery has closed meanwhile
		}
	}()
	e.mu.Lock()
	e.queue = append(e.queue, fn)
	e.mu.Unlock()
	l.blk.nursery.StartSoon(func(context.Context) error {
		// The loop's own ctx ends when the loop closes: a function still
		// waiting then never runs.
		if e.limiter.Acquire(l.ctx) != nil {
			return nil
		}
		defer e.limiter.Release()
		// Whichever goroutine got the token runs the oldest function:
		// functions start in the order they were submitted.
		e.mu.Lock()
		fn := e.queue[0]
		e.queue[0] = nil
		e.queue = e.queue[1:]
		e.mu.Unlock()
		fn()
		return nil
	})
	return nil
}
