package asyncio_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// watchdog fails the test if body has not returned within a generous
// bound, instead of hanging the suite: the mistakes these tests check
// would, unguarded, block the loop for good.
func watchdog(t *testing.T, what string, body func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- body() }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: still blocked after 30 s (the loop hangs)", what)
		return nil
	}
}

// A blocking boundary call made by the loop's own code with a trio ctx it
// captured (the OpenLoop body's, or one derived from it) returns
// ErrWrongFlavor instead of blocking the loop for good: from a callback,
// a task, a done callback and the done callback of an executor's future,
// each blocking boundary function, with debug mode off and on.
func TestWrongFlavor_captured_ctx(t *testing.T) {
	type call struct {
		name string
		do   func(captured context.Context, loop *asyncio.Loop, ran *atomic.Bool) error
	}
	calls := []call{
		{"RunAsyncio", func(c context.Context, loop *asyncio.Loop, ran *atomic.Bool) error {
			_, err := asyncio.RunAsyncio(c, func(context.Context) (int, error) { ran.Store(true); return 1, nil })
			return err
		}},
		{"StartTask", func(c context.Context, loop *asyncio.Loop, ran *atomic.Bool) error {
			_, err := asyncio.StartTask(c, func(context.Context) (int, error) { ran.Store(true); return 1, nil })
			return err
		}},
		{"RunSync", func(c context.Context, loop *asyncio.Loop, ran *atomic.Bool) error {
			_, err := asyncio.RunSync(c, func(context.Context) (int, error) { ran.Store(true); return 1, nil })
			return err
		}},
		{"RunFuture", func(c context.Context, loop *asyncio.Loop, ran *atomic.Bool) error {
			_, err := asyncio.RunFuture(c, asyncio.NewFuture[int](loop))
			return err
		}},
		{"WaitStopped", func(c context.Context, loop *asyncio.Loop, ran *atomic.Bool) error {
			return loop.WaitStopped(c)
		}},
		{"Synchronize", func(c context.Context, loop *asyncio.Loop, ran *atomic.Bool) error {
			return loop.Synchronize(c)
		}},
	}
	// Each place runs fn on the loop's own code and returns once it has.
	type place struct {
		name string
		run  func(ctx context.Context, loop *asyncio.Loop, fn func()) error
	}
	places := []place{
		{"callback", func(ctx context.Context, loop *asyncio.Loop, fn func()) error {
			_, err := asyncio.RunSync(ctx, func(context.Context) (int, error) { fn(); return 0, nil })
			return err
		}},
		{"task", func(ctx context.Context, loop *asyncio.Loop, fn func()) error {
			_, err := asyncio.RunAsyncio(ctx, func(context.Context) (int, error) { fn(); return 0, nil })
			return err
		}},
		{"done callback", func(ctx context.Context, loop *asyncio.Loop, fn func()) error {
			_, err := asyncio.RunAsyncio(ctx, func(tctx context.Context) (int, error) {
				f := asyncio.NewFuture[int](loop)
				done := asyncio.NewFuture[int](loop)
				f.AddDoneCallback(func(context.Context) { fn(); done.SetResult(0) })
				f.SetResult(1)
				return asyncio.Await(tctx, done)
			})
			return err
		}},
		{"executor result callback", func(ctx context.Context, loop *asyncio.Loop, fn func()) error {
			_, err := asyncio.RunAsyncio(ctx, func(tctx context.Context) (int, error) {
				f := asyncio.RunInExecutor(tctx, nil, func(context.Context) (int, error) { return 1, nil })
				done := asyncio.NewFuture[int](loop)
				f.AddDoneCallback(func(context.Context) { fn(); done.SetResult(0) })
				return asyncio.Await(tctx, done)
			})
			return err
		}},
	}
	for _, debug := range []bool{false, true} {
		for _, p := range places {
			for _, c := range calls {
				name := p.name + "/" + c.name
				if debug {
					name += "/debug"
				}
				t.Run(name, func(t *testing.T) {
					var got error
					var ran atomic.Bool
					err := watchdog(t, name, func() error {
						return asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
							loop.SetDebug(debug)
							captured, cancel := context.WithCancel(ctx) // derived from the body's ctx
							defer cancel()
							return p.run(ctx, loop, func() { got = c.do(captured, loop, &ran) })
						})
					})
					if err != nil {
						t.Errorf("OpenLoop: got %v, want nil", err)
					}
					if !errors.Is(got, asyncio.ErrWrongFlavor) {
						t.Errorf("got %v, want ErrWrongFlavor", got)
					}
					if ran.Load() {
						t.Errorf("the refused call's function ran anyway: ran.Load() got true, want false")
					}
				})
			}
		}
	}
}

// The guard costs trio code nothing while the loop waits for work, and
// does not misfire on trio code that calls while the loop is busy with a
// long callback: that call waits, then succeeds.
func TestWrongFlavor_busy_loop_is_not_a_mistake(t *testing.T) {
	err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		busy := make(chan struct{})
		release := make(chan struct{})
		loop.CallSoonThreadsafe(func(context.Context) {
			close(busy)
			<-release // a slow callback: the loop is busy, blocked by someone else
		})
		<-busy
		time.AfterFunc(100*time.Millisecond, func() { close(release) })
		v, err := asyncio.RunSync(ctx, func(context.Context) (int, error) { return 7, nil })
		if v != 7 || err != nil {
			t.Errorf("RunSync during a slow callback: got %v, %v; want 7, nil", v, err)
		}
		return nil
	})
	if err != nil {
		t.Errorf("OpenLoop: got %v, want nil", err)
	}
}
