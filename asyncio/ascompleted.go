package asyncio

import (
	"context"
	"iter"
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
// The waiting starts when the range loop does, and a range loop left
// early stops it (the timer and callbacks are removed). Call it only from a
// coroutine, ranging over it in the task ctx belongs to. It panics if one of aws
// is nil. Cost: a done callback per awaitable, a future per wait, a timer
// with WaitTimeout.
func AsCompleted[T any, A AwaitableOf[T]](ctx context.Context, aws []A, opts ...TimeoutOption) iter.Seq2[T, error] {
	var cfg waitConfig
	for _, o := range opts {
		o.applyWait(&cfg)
	}
	return func(yield func(T, error) bool) {
		var zero T
		c, err := runningTask(ctx, "AsCompleted")
		if err != nil {
			yield(zero, err)
			return
		}
		fs, err := distinct(c, aws, "AsCompleted")
		if err != nil {
			yield(zero, err)
			return
		}
		l := c.loop
		const timedOut = -1
		var (
			done    []int // indices into fs, or timedOut, in completion order
			todo    = len(fs)
			handles = make([]*Handle, len(fs))
			waiter  *Future[struct{}]
			th      *TimerHandle
		)
		wake := func() {
			if waiter != nil && !waiter.Done() {
				waiter.SetResult(struct{}{})
			}
		}
		for i, f := range fs {
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
			th = l.CallLater(cfg.timeout, func(context.Context) {
				for i, f := range fs {
					if h := handles[i]; h != nil {
						removeCallback(f, h)
						handles[i] = nil
						done = append(done, timedOut)
					}
				}
				todo = 0
				wake()
			})
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
		for range fs {
			if len(done) == 0 {
				waiter = NewFuture[struct{}](l)
				_, err := Await(ctx, waiter)
				waiter = nil
				if err != nil {
					if !yield(zero, err) || !isCancellation(err) {
						return
					}
					continue
				}
			}
			i := done[0]
			done = done[1:]
			var v T
			var err error
			if i == timedOut {
				err = &TimeoutError{}
			} else {
				v, err = fs[i].Result()
			}
			if !yield(v, err) {
				return
			}
		}
	}
}
