package asyncio_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

// The limiter bounds how many functions run at once, and the functions
// run in the loop's nursery: trio code whose ctx carries no loop.
func TestTrioExecutor_limiter_bounds_concurrency(t *testing.T) {
	lim := trio.NewCapacityLimiter(2)
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		ex := asyncio.NewTrioExecutor(ctx, lim)
		if ex.Limiter() != lim {
			t.Errorf("Limiter: not the one given")
		}
		var running, peak atomic.Int64
		sum, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			var futs []asyncio.AwaitableOf[int]
			for i := range 6 {
				futs = append(futs, asyncio.RunInExecutor(ctx, ex, func(ctx context.Context) (int, error) {
					if _, err := asyncio.GetRunningLoop(ctx); err == nil {
						t.Errorf("the function's ctx carries the loop")
					}
					n := running.Add(1)
					for {
						p := peak.Load()
						if n <= p || peak.CompareAndSwap(p, n) {
							break
						}
					}
					trio.Sleep(ctx, 5*time.Millisecond)
					running.Add(-1)
					return i, nil
				}))
			}
			vs, err := asyncio.Await(ctx, asyncio.Gather(ctx, futs...))
			s := 0
			for _, v := range vs {
				s += v
			}
			return s, err
		})
		if sum != 15 || err != nil || peak.Load() != 2 {
			t.Errorf("sum %d, %v; peak %d, want 2", sum, err, peak.Load())
		}
	})
	// The block waited for the functions' goroutines: every token is back.
	if lim.BorrowedTokens() != 0 {
		t.Errorf("tokens still borrowed: %d", lim.BorrowedTokens())
	}
}

// A limiter shared with other trio code: a function waits while that
// code holds the only token.
func TestTrioExecutor_shared_limiter(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		lim := trio.NewCapacityLimiter(1)
		ex := asyncio.NewTrioExecutor(ctx, lim)
		if err := lim.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
		var ran atomic.Bool
		fut, _ := asyncio.RunSync(ctx, func(ctx context.Context) (*asyncio.Future[int], error) {
			return asyncio.RunInExecutor(ctx, ex, func(context.Context) (int, error) { ran.Store(true); return 1, nil }), nil
		})
		trio.Sleep(ctx, 20*time.Millisecond)
		if ran.Load() {
			t.Errorf("ran without a token")
		}
		lim.Release()
		if v, err := asyncio.RunFuture(ctx, fut); v != 1 || err != nil || !ran.Load() {
			t.Errorf("after Release: %v, %v", v, err)
		}
	})
}

// At the loop's close, a running function's ctx is cancelled and one
// still waiting for a token never runs; OpenLoop waits for both.
func TestTrioExecutor_teardown(t *testing.T) {
	var started, second atomic.Bool
	var runErr error
	err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		ex := asyncio.NewTrioExecutor(ctx, trio.NewCapacityLimiter(1))
		_, err := asyncio.RunSync(ctx, func(ctx context.Context) (struct{}, error) {
			asyncio.RunInExecutor(ctx, ex, func(ctx context.Context) (int, error) {
				started.Store(true)
				runErr = trio.SleepForever(ctx)
				return 0, runErr
			})
			asyncio.RunInExecutor(ctx, ex, func(ctx context.Context) (int, error) {
				second.Store(true)
				return 0, nil
			})
			return struct{}{}, nil
		})
		for !started.Load() {
			trio.Sleep(ctx, time.Millisecond)
		}
		return err
	})
	if err != nil || !trio.IsCancellation(runErr) || second.Load() {
		t.Errorf("OpenLoop: %v; running function: %v; waiting one ran: %v", err, runErr, second.Load())
	}
}

// A panic in a function fails its future; Submit on a closed loop is
// refused.
func TestTrioExecutor_panic_and_closed_loop(t *testing.T) {
	var ex *asyncio.TrioExecutor
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		ex = asyncio.NewTrioExecutor(ctx, nil)
		if ex.Limiter().AvailableTokens() != asyncio.DefaultMaxWorkers() {
			t.Errorf("default limiter: %d tokens", ex.Limiter().AvailableTokens())
		}
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			return asyncio.Await(ctx, asyncio.RunInExecutor(ctx, ex, func(context.Context) (int, error) { panic("oops") }))
		})
		var pe *trio.PanicError
		if !errors.As(err, &pe) || pe.Value != "oops" {
			t.Errorf("RunAsyncio: %v", err)
		}
	})
	if err := ex.Submit(func() {}); !errors.Is(err, asyncio.ErrLoopClosed) {
		t.Errorf("Submit after close: %v", err)
	}
	mustPanic(t, func() { asyncio.NewTrioExecutor(context.Background(), nil) })
}
