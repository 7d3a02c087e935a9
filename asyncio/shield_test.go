package asyncio_test

import (
	"context"
	"errors"
	"testing"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// Transcribed from CPython's test_tasks.py (shield). test_shield_gather
// and test_gather_shield are in gather_test.go, WaitForShieldTests in
// waitfor_test.go.
//
// Not transcribed:
//   - test_shield_coroutine_without_loop, test_shield_coroutine_use_running_loop,
//     test_shield_coroutine_use_global_loop: Shield takes an awaitable,
//     not a coroutine, and Go has no global loop.

func TestShield_test_shield_result(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		inner := asyncio.NewFuture[int](loop)
		outer := asyncio.Shield(inner)
		inner.SetResult(42)
		if v, err := asyncio.Await(ctx, outer); v != 42 || err != nil {
			t.Errorf("got %v, %v; want v == 42 && err == nil", v, err)
		}
		return nil
	})
}

func TestShield_test_shield_exception(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		inner := asyncio.NewFuture[int](loop)
		outer := asyncio.Shield(inner)
		runBriefly(ctx)
		inner.SetException(errRuntime)
		runBriefly(ctx)
		if err := outer.Exception(); err != errRuntime {
			t.Errorf("exception: got %v, want %v", err, errRuntime)
		}
		return nil
	})
}

func TestShield_test_shield_cancel_inner(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		inner := asyncio.NewFuture[int](loop)
		outer := asyncio.Shield(inner)
		runBriefly(ctx)
		inner.Cancel("")
		runBriefly(ctx)
		if !outer.Cancelled() {
			t.Errorf("outer not cancelled: outer.Cancelled() got false, want true")
		}
		return nil
	})
}

func TestShield_test_shield_cancel_outer(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		inner := asyncio.NewFuture[int](loop)
		outer := asyncio.Shield(inner)
		runBriefly(ctx)
		outer.Cancel("")
		runBriefly(ctx)
		if !outer.Cancelled() || inner.Done() {
			t.Errorf("got outer %v, inner %v; want outer.Cancelled() && !inner.Done()", outer, inner)
		}
		// The outer's done callback unhooked it from inner: inner's end
		// changes nothing.
		inner.SetResult(1)
		runBriefly(ctx)
		if !outer.Cancelled() {
			t.Errorf("got outer %v; want outer.Cancelled()", outer)
		}
		return nil
	})
}

func TestShield_test_shield_shortcut(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		fut := asyncio.NewFuture[int](loop)
		fut.SetResult(42)
		s := asyncio.Shield(fut)
		if s != asyncio.AwaitableOf[int](fut) {
			t.Errorf("Shield of a done future is not the future: got s != asyncio.AwaitableOf[int](fut), want s == asyncio.AwaitableOf[int](fut)")
		}
		if v, err := asyncio.Await(ctx, s); v != 42 || err != nil {
			t.Errorf("got %v, %v; want v == 42 && err == nil", v, err)
		}
		return nil
	})
}

func TestShield_test_shield_effect(t *testing.T) {
	// Cancelling outer() does not affect inner().
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		proof := 0
		waiter := asyncio.NewFuture[int](loop)
		inner := func(ctx context.Context) (int, error) {
			if _, err := asyncio.Await(ctx, waiter); err != nil {
				return 0, err
			}
			proof++
			return 0, nil
		}
		f := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			if _, err := asyncio.Await(ctx, asyncio.Shield(asyncio.CreateTask(ctx, inner))); err != nil {
				return 0, err
			}
			proof += 100
			return 0, nil
		})
		runBriefly(ctx)
		f.Cancel("")
		if _, err := asyncio.Await(ctx, f); !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("outer: got %v, want an error matching asyncio.ErrCancelled", err)
		}
		waiter.SetResult(0)
		runBriefly(ctx)
		if proof != 1 {
			t.Errorf("proof: got %d, want %d", proof, 1)
		}
		return nil
	})
}
