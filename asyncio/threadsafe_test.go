package asyncio_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// Transcribed from CPython's test_tasks.py (RunCoroutineThreadsafeTests):
// target runs in the loop's executor and submits add to the loop, as in
// CPython.
//
// Not transcribed:
//   - test_run_coroutine_threadsafe_task_factory_exception: Go's loop has
//     no task factory.

// add waits 0.05 s and returns a + b.
func add(a, b int, fail, cancel bool) func(ctx context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		if err := asyncio.Sleep(ctx, 50*time.Millisecond); err != nil {
			return 0, err
		}
		if fail {
			return 0, errors.New("Fail!")
		}
		if cancel {
			asyncio.CurrentTask(ctx).Cancel("")
			if err := asyncio.Sleep(ctx, 0); err != nil {
				return 0, err
			}
		}
		return a + b, nil
	}
}

// target runs add on loop from another goroutine.
func target(loop *asyncio.Loop, fail, cancel bool, timeout time.Duration) func(ctx context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		future := asyncio.RunCoroutineThreadsafe(loop, add(1, 2, fail, cancel))
		defer func() {
			if !future.Done() {
				future.Cancel()
			}
		}()
		if timeout >= 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, timeout)
			defer cancel()
		}
		return future.Result(ctx)
	}
}

func TestRunCoroutineThreadsafe_test_run_coroutine_threadsafe(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		if v, err := asyncio.Await(ctx, asyncio.RunInExecutor(ctx, nil, target(loop, false, false, -1))); v != 3 || err != nil {
			t.Errorf("got %v, %v; want v == 3 && err == nil", v, err)
		}
		return nil
	})
}

func TestRunCoroutineThreadsafe_test_run_coroutine_threadsafe_with_exception(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.Await(ctx, asyncio.RunInExecutor(ctx, nil, target(loop, true, false, -1)))
		if err == nil || err.Error() != "Fail!" {
			t.Errorf("got err %v; want err != nil && err.Error() == \"Fail!\"", err)
		}
		return nil
	})
}

func TestRunCoroutineThreadsafe_test_run_coroutine_threadsafe_with_timeout(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.Await(ctx, asyncio.RunInExecutor(ctx, nil, target(loop, false, false, 0)))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err: got %v, want an error matching context.DeadlineExceeded", err)
		}
		runBriefly(ctx)
		// No pending task but this one: add was cancelled.
		if tasks := asyncio.AllTasks(loop); len(tasks) != 1 || tasks[0] != asyncio.CurrentTask(ctx) {
			t.Errorf("got tasks %v; want len(tasks) == 1 && tasks[0] == asyncio.CurrentTask(ctx)", tasks)
		}
		return nil
	})
}

func TestRunCoroutineThreadsafe_test_run_coroutine_threadsafe_task_cancelled(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.Await(ctx, asyncio.RunInExecutor(ctx, nil, target(loop, false, true, -1)))
		if !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("err: got %v, want an error matching asyncio.ErrCancelled", err)
		}
		return nil
	})
}

// Go's own: from trio-flavored code (the OpenLoop body is a goroutine of
// its own), Cancel before the task starts keeps the coroutine from
// running, and a closed loop fails the future.
func TestRunCoroutineThreadsafe_FromTrioCode(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var loop *asyncio.Loop
		withLoop(t, func(ctx context.Context, l *asyncio.Loop) {
			loop = l
			f := asyncio.RunCoroutineThreadsafe(l, add(20, 22, false, false), asyncio.WithName("adder"))
			select {
			case <-f.DoneChan():
				t.Error("done at once")
			default:
			}
			if v, err := f.Result(ctx); v != 42 || err != nil || !f.Done() || f.Cancelled() {
				t.Errorf("got %v, %v; %v; want v == 42 && err == nil && f.Done() && !f.Cancelled()", v, err, f)
			}

			ran := false
			g := asyncio.RunCoroutineThreadsafe(l, func(context.Context) (int, error) { ran = true; return 1, nil })
			if !g.Cancel() || !g.Cancel() || !g.Cancelled() {
				t.Errorf("cancel: got %v; want g.Cancel() && g.Cancel() && g.Cancelled()", g)
			}
			if _, err := g.Result(ctx); !errors.Is(err, asyncio.ErrCancelled) {
				t.Errorf("cancelled: got %v, want an error matching asyncio.ErrCancelled", err)
			}
			onLoop(ctx, l, func(context.Context) {}) // after the creating callback
			if ran {
				t.Errorf("the cancelled coroutine ran: ran got true, want false")
			}
			if f.Cancel() {
				t.Errorf("Cancel of a done future reported true: f.Cancel() got true, want false")
			}
		})
		f := asyncio.RunCoroutineThreadsafe(loop, add(1, 2, false, false))
		if _, err := f.Result(context.Background()); !errors.Is(err, asyncio.ErrLoopClosed) {
			t.Errorf("after close: got %v, want an error matching asyncio.ErrLoopClosed", err)
		}
	})
}

// Go's own: a task the closing loop abandons fails its future with
// ErrLoopClosed; and in debug mode, Result on the loop panics rather
// than deadlocks.
func TestRunCoroutineThreadsafe_LoopCloses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var f *asyncio.ConcurrentFuture[int]
		withLoop(t, func(ctx context.Context, l *asyncio.Loop) {
			f = asyncio.RunCoroutineThreadsafe(l, func(ctx context.Context) (int, error) {
				for { // refuses to be cancelled
					asyncio.Await(ctx, asyncio.NewFuture[int](l))
				}
			})
			l.SetDebug(true)
			runTask(ctx, l, func(ctx context.Context) (int, error) {
				if p := mustPanic(t, func() { f.Result(ctx) }); !strings.Contains(p, "deadlock") {
					t.Errorf("Result of its own loop's future: got panic %q, want it to contain %q", p, "deadlock")
				}
				return 0, nil
			})
		})
		if _, err := f.Result(context.Background()); !errors.Is(err, asyncio.ErrLoopClosed) {
			t.Errorf("err: got %v, want an error matching asyncio.ErrLoopClosed", err)
		}
	})
}
