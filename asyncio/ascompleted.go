package asyncio

import (
	"context"
	"iter"
	"time"
)

// AsCompleted returns an iterator over the outcomes of aws in the order
// they complete (asyncio.as_completed): each iteration waits for the next
// of aws to be done and yields its result and error.
//
//	for v, err := range asyncio.AsCompleted(ctx, tasks, asyncio.WaitTimeout(time.Second)) {
//		if err != nil { … }
//	}
//
// It yields once per distinct awaitable, as CPython's yields one
// awaitable each. If the WaitTimeout passes first, the iterations left
// each yield a *TimeoutError (they wait no more). If the running task is
// cancelled while an iteration waits, that iteration yields the
// *CancelledError (aws are left alone) and counts as one of them; a flavor
// mistake (ErrAwaitOutsideTask, ErrForeignFuture) is yielded once, and
// the iteration ends.
//
// The iterator is resumable, as CPython's is: a range loop left early
// (break) stops waiting (the timer and callbacks are removed), and a later
// range loop over the same iterator goes on with the awaitables not yet
// yielded; those that completed in between come first, in the order of
// aws. The timeout runs from the start of the first range loop, across
// all of them. Once every awaitable has been yielded, ranging again
// yields nothing.
//
// Call it only from a coroutine, ranging over it in the task ctx belongs
// to. It panics if one of aws is nil. Cost: a done callback per awaitable
// and range loop, a future per wait, a timer with WaitTimeout.
func AsCompleted[T any, A AwaitableOf[T]](ctx context.Context, aws []A, opts ...TimeoutOption) iter.Seq2[T, error] {
	var cfg waitConfig
	for _, o := range opts {
		o.applyWait(&cfg)
	}
	// The state the range loops over the iterator share.
	var (
		fs       []A
		yielded  []bool // fs[i] has been yielded
		left     int    // iterations left
		started  bool
		timedOut bool // the timeout has passed: the rest yield *TimeoutError
		deadline time.Time
	)
	return func(yield func(T, error) bool) {
		var zero T
		c, err := runningTask(ctx, "AsCompleted")
		if err != nil {
			yield(zero, err)
			return
		}
		if !started {
			if fs, err = distinct(c, aws, "AsCompleted"); err != nil {
				yield(zero, err)
				return
			}
			started = true
			yielded = make([]bool, len(fs))
			left = len(fs)
			if cfg.hasTimeout {
				deadline = c.loop.Time().Add(cfg.timeout)
			}
		}
		if left == 0 {
			return
		}
		l := c.loop
		var (
			done    []int // indices into fs, in completion order
			todo    int
			handles = make([]*Handle, len(fs))
			waiter  *Future[struct{}]
			th      *TimerHandle
		)
		wake := func() {
			if waiter != nil && !waiter.Done() {
				waiter.SetResult(struct{}{})
			}
		}
		expire := func() {
			for i, f := range fs {
				if h := handles[i]; h != nil {
					removeCallback(f, h)
					handles[i] = nil
				}
			}
			todo = 0
			timedOut = true
			wake()
		}
		if !timedOut {
			for i, f := range fs {
				if yielded[i] {
					continue
				}
				todo++
				handles[i] = f.AddDoneCallback(func(context.Context) {
					if todo == 0 {
						return // the timeout came first
					}
					todo--
					handles[i] = nil
					done = append(done, i)
					if todo == 0 && th != nil {
						th.Cancel()
					}
					wake()
				})
			}
			if todo > 0 && cfg.hasTimeout {
				th = l.CallAt(deadline, func(context.Context) { expire() })
			}
		}
		defer func() {
			if th != nil {
				th.Cancel()
			}
			for i, f := range fs {
				if h := handles[i]; h != nil {
					removeCallback(f, h)
				}
			}
		}()
		for left > 0 {
			if len(done) == 0 && !timedOut {
				waiter = NewFuture[struct{}](l)
				_, err := Await(ctx, waiter)
				waiter = nil
				if err != nil {
					left--
					if !yield(zero, err) || !isCancellation(err) {
						return
					}
					continue
				}
			}
			var v T
			var err error
			if len(done) > 0 {
				i := done[0]
				done = done[1:]
				yielded[i] = true
				v, err = fs[i].Result()
			} else {
				// Timed out: the next awaitable not yielded yet.
				for i := range fs {
					if !yielded[i] && handles[i] == nil {
						yielded[i] = true
						break
					}
				}
				err = &TimeoutError{}
			}
			left--
			if !yield(v, err) {
				return
			}
		}
	}
}
