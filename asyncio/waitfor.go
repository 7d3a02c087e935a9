package asyncio

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// WaitFor waits for aw with a timeout (asyncio.wait_for, with Python
// 3.12's semantics): it returns aw's result or error if aw is done within
// timeout; otherwise it cancels aw, waits until aw has ended, and returns
// a *TimeoutError (errors.Is(err, ErrTimeout)). If aw does not end
// cancelled after all (it caught the cancellation and returned a value,
// or failed), that outcome is returned instead: the result wins. To leave
// aw running on timeout, pass Shield(aw).
//
// A timeout <= 0 means no time at all: if aw is done its outcome is
// returned, else aw is cancelled at once (a task that never started
// never runs) and waited for. Python's timeout=None has no counterpart:
// use Await.
//
// If the waiting task is cancelled meanwhile, aw is cancelled too and a
// *CancelledError is returned. Call it only from a coroutine, with its
// ctx (else ErrAwaitOutsideTask). Built on Timeout; costs one timer.
func WaitFor[T any](ctx context.Context, aw AwaitableOf[T], timeout time.Duration) (T, error) {
	checkAwaitable(aw, "WaitFor")
	var zero T
	c, err := runningTask(ctx, "WaitFor")
	if err != nil {
		return zero, err
	}
	if aw.Loop() != c.loop {
		return zero, fmt.Errorf("%w: WaitFor got %v", ErrForeignFuture, aw)
	}
	if timeout <= 0 {
		if aw.Done() {
			return aw.Result()
		}
		if err := cancelAndWait(ctx, aw); err != nil {
			return zero, err
		}
		v, err := aw.Result()
		if errors.Is(err, ErrCancelled) {
			return zero, &TimeoutError{}
		}
		return v, err
	}
	var v T
	err = Timeout(ctx, timeout, func(ctx context.Context, _ *TimeoutScope) error {
		var err error
		v, err = Await(ctx, aw)
		return err
	})
	if err != nil {
		return zero, err
	}
	return v, nil
}

// cancelAndWait cancels f and waits until it is done, without taking its
// result (CPython's _cancel_and_wait).
func cancelAndWait(ctx context.Context, f Awaitable) error {
	waiter := NewFuture[struct{}](f.Loop())
	h := f.AddDoneCallback(func(context.Context) {
		if !waiter.Done() {
			waiter.SetResult(struct{}{})
		}
	})
	defer removeCallback(f, h)
	f.Cancel("")
	_, err := Await(ctx, waiter)
	return err
}
