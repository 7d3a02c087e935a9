package asyncio_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// Transcribed from CPython's test_waitfor.py (AsyncioWaitForTest,
// WaitForShieldTests). Python's wait_for(coro) wraps coro in a task; in
// Go the test makes the task.
//
// Not transcribed:
//   - test_wait_for_blocking, test_cancel_blocking_wait_for,
//     WaitForShieldTests.test_none_timeout: WaitFor has no timeout=None
//     (that is Await).
//   - the __context__ checks of test_wait_for_waits_for_task_cancellation
//     and …_w_timeout_0: the TimeoutError does not unwrap to the
//     CancelledError (see timeouts_test.go); the rest of both is here.

const epsilon = 100 * time.Microsecond // a very small timeout

// slowTask runs for 0.2 s, ignoring cancellation (SlowTask).
type slowTask struct{ exited bool }

const slowTaskTimeout = 200 * time.Millisecond

func (s *slowTask) run(ctx context.Context) (int, error) {
	exitAt := time.Now().Add(slowTaskTimeout)
	for {
		d := time.Until(exitAt)
		if d <= 0 {
			break
		}
		asyncio.Sleep(ctx, d) // a cancellation is ignored
	}
	s.exited = true
	return 0, nil
}

func TestWaitFor_test_asyncio_wait_for_cancelled(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var st slowTask
		waitForTask := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			return asyncio.WaitFor(ctx, asyncio.CreateTask(ctx, st.run), 2*slowTaskTimeout)
		})
		// Python 3.12's wait_for runs the coroutine inline, so one
		// iteration starts it; here it is a task of its own, which
		// starts one iteration later (cancelled before it starts, it
		// would never run).
		asyncio.Sleep(ctx, 0)
		asyncio.Sleep(ctx, 0)
		waitForTask.Cancel("")
		asyncio.Wait(ctx, []*asyncio.Task[int]{waitForTask})
		if !st.exited {
			t.Errorf("the slow task did not exit: st.exited got false, want true")
		}
		return nil
	})
}

func TestWaitFor_test_asyncio_wait_for_timeout(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var st slowTask
		_, err := asyncio.WaitFor(ctx, asyncio.CreateTask(ctx, st.run), slowTaskTimeout/2)
		if err != nil && !errors.Is(err, asyncio.ErrTimeout) {
			t.Errorf("err: got %v, want nil or an error matching asyncio.ErrTimeout", err)
		}
		if !st.exited {
			t.Errorf("the slow task did not exit: st.exited got false, want true")
		}
		return nil
	})
}

func TestWaitFor_test_wait_for_timeout_less_then_0_or_0_future_done(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		fut := asyncio.NewFuture[string](loop)
		fut.SetResult("done")
		if ret, err := asyncio.WaitFor(ctx, fut, 0); ret != "done" || err != nil || !fut.Done() {
			t.Errorf("got %v, %v; want ret == \"done\" && err == nil && fut.Done()", ret, err)
		}
		return nil
	})
}

func TestWaitFor_test_wait_for_timeout_less_then_0_or_0_coroutine_do_not_started(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		fooStarted := false
		foo := asyncio.CreateTask(ctx, func(context.Context) (int, error) {
			fooStarted = true
			return 0, nil
		})
		if _, err := asyncio.WaitFor(ctx, foo, 0); !errors.Is(err, asyncio.ErrTimeout) {
			t.Errorf("err: got %v, want an error matching asyncio.ErrTimeout", err)
		}
		if fooStarted {
			t.Errorf("foo started: fooStarted got true, want false")
		}
		return nil
	})
}

func TestWaitFor_test_wait_for_timeout_less_then_0_or_0(t *testing.T) {
	for _, timeout := range []time.Duration{0, -time.Second} {
		mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
			var fooRunning *bool
			started := asyncio.NewFuture[int](loop)
			fut := asyncio.CreateTask(ctx, func(ctx context.Context) (string, error) {
				running := true
				fooRunning = &running
				started.SetResult(0)
				defer func() { running = false }()
				if err := asyncio.Sleep(ctx, 10*time.Second); err != nil {
					return "", err
				}
				return "done", nil
			})
			asyncio.Await(ctx, started)
			if _, err := asyncio.WaitFor(ctx, fut, timeout); !errors.Is(err, asyncio.ErrTimeout) {
				t.Errorf("timeout %v: got err %v; want errors.Is(err, asyncio.ErrTimeout)", timeout, err)
			}
			// It was cancelled by the timeout.
			if !fut.Done() || !fut.Cancelled() || fooRunning == nil || *fooRunning {
				t.Errorf("timeout %v: got task %v; want fut.Done() && fut.Cancelled() && fooRunning != nil && !(*fooRunning)", timeout, fut)
			}
			return nil
		})
	}
}

func TestWaitFor_test_wait_for(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		fooRunning := false
		fut := asyncio.CreateTask(ctx, func(ctx context.Context) (string, error) {
			fooRunning = true
			defer func() { fooRunning = false }()
			if err := asyncio.Sleep(ctx, time.Hour); err != nil {
				return "", err
			}
			return "done", nil
		})
		if _, err := asyncio.WaitFor(ctx, fut, 100*time.Millisecond); !errors.Is(err, asyncio.ErrTimeout) {
			t.Errorf("err: got %v, want an error matching asyncio.ErrTimeout", err)
		}
		if !fut.Done() || !fut.Cancelled() || fooRunning {
			t.Errorf("got task %v, running %v; want fut.Done() && fut.Cancelled() && !fooRunning", fut, fooRunning)
		}
		return nil
	})
}

func TestWaitFor_test_wait_for_race_condition(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		fut := asyncio.NewFuture[string](loop)
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (string, error) {
			return asyncio.WaitFor(ctx, fut, 200*time.Millisecond)
		})
		loop.CallSoon(func(context.Context) { fut.SetResult("ok") })
		if res, err := asyncio.Await(ctx, task); res != "ok" || err != nil {
			t.Errorf("got %v, %v; want res == \"ok\" && err == nil", res, err)
		}
		return nil
	})
}

func TestWaitFor_test_wait_for_cancellation_race_condition(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		inner := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			if err := asyncio.Sleep(ctx, time.Second); !errors.Is(err, asyncio.ErrCancelled) {
				t.Errorf("sleep: got %v, want an error matching asyncio.ErrCancelled", err)
			}
			return 1, nil
		})
		if res, err := asyncio.WaitFor(ctx, inner, 10*time.Millisecond); res != 1 || err != nil {
			t.Errorf("got %v, %v; want res == 1 && err == nil", res, err)
		}
		return nil
	})
}

func TestWaitFor_test_wait_for_waits_for_task_cancellation(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		taskDone := false
		innerTask := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			defer func() { taskDone = true }()
			if err := asyncio.Sleep(ctx, 10*time.Second); err != nil {
				asyncio.Sleep(ctx, epsilon)
				return 0, err
			}
			return 0, nil
		})
		if _, err := asyncio.WaitFor(ctx, innerTask, epsilon); !errors.Is(err, asyncio.ErrTimeout) {
			t.Errorf("err: got %v, want an error matching asyncio.ErrTimeout", err)
		}
		if !taskDone {
			t.Errorf("WaitFor returned before the task ended: taskDone got false, want true")
		}
		return nil
	})
}

func TestWaitFor_test_wait_for_waits_for_task_cancellation_w_timeout_0(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		taskDone := false
		foo := func(ctx context.Context) (int, error) {
			innerTask := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
				defer func() { taskDone = true }()
				if err := asyncio.Sleep(ctx, 10*time.Second); err != nil {
					asyncio.Sleep(ctx, epsilon)
					return 0, err
				}
				return 0, nil
			})
			asyncio.Sleep(ctx, epsilon)
			return asyncio.WaitFor(ctx, innerTask, 0)
		}
		if _, err := foo(ctx); !errors.Is(err, asyncio.ErrTimeout) {
			t.Errorf("err: got %v, want an error matching asyncio.ErrTimeout", err)
		}
		if !taskDone {
			t.Errorf("WaitFor returned before the task ended: taskDone got false, want true")
		}
		return nil
	})
}

func TestWaitFor_test_wait_for_reraises_exception_during_cancellation(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		errFoo := errors.New("FooException")
		innerTask := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			asyncio.Sleep(ctx, 200*time.Millisecond)
			return 0, errFoo // raised in `finally`
		})
		if _, err := asyncio.WaitFor(ctx, innerTask, epsilon); err != errFoo {
			t.Errorf("err: got %v, want %v", err, errFoo)
		}
		return nil
	})
}

func TestWaitFor_test_cancel_wait_for(t *testing.T) {
	// _test_cancel_wait_for(60.0)
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			return asyncio.Await(ctx, asyncio.NewFuture[int](loop)) // never set
		})
		wait := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			return asyncio.WaitFor(ctx, task, time.Minute)
		})
		loop.CallSoon(func(context.Context) { wait.Cancel("") })
		if _, err := asyncio.Await(ctx, wait); !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("err: got %v, want an error matching asyncio.ErrCancelled", err)
		}
		// Python issue #23219: cancelling the wait cancels the task.
		if !task.Cancelled() {
			t.Errorf("got task %v; want task.Cancelled()", task)
		}
		return nil
	})
}

func TestWaitFor_test_wait_for_cancel_suppressed(t *testing.T) {
	// GH-86296: a task that suppresses the cancellation and returns a
	// value: WaitFor returns the value.
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		return42 := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			if err := asyncio.Sleep(ctx, 10*time.Second); errors.Is(err, asyncio.ErrCancelled) {
				return 42, nil
			}
			return 0, nil
		})
		if res, err := asyncio.WaitFor(ctx, return42, 100*time.Millisecond); res != 42 || err != nil {
			t.Errorf("got %v, %v; want res == 42 && err == nil", res, err)
		}
		return nil
	})
}

func TestWaitFor_test_wait_for_issue86296(t *testing.T) {
	// GH-86296: the task is cancelled and does not run to completion.
	// inner completes in one cycle of the loop, before the task is
	// cancelled.
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		innerTask := asyncio.CreateTask(ctx, func(context.Context) (string, error) { return "done", nil })
		reachedEnd := false
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			if _, err := asyncio.WaitFor(ctx, innerTask, 100*time.Second); err != nil {
				return 0, err
			}
			if err := asyncio.Sleep(ctx, time.Second); err != nil {
				return 0, err
			}
			reachedEnd = true
			return 0, nil
		})
		if task.Done() {
			t.Errorf("task done at once: task.Done() got true, want false")
		}
		asyncio.Sleep(ctx, 0) // run the task
		task.Cancel("")
		if _, err := asyncio.Await(ctx, task); !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("err: got %v, want an error matching asyncio.ErrCancelled", err)
		}
		if v, err := asyncio.Await(ctx, innerTask); v != "done" || err != nil || reachedEnd {
			t.Errorf("got inner %v, %v; reached end %v; want v == \"done\" && err == nil && !reachedEnd", v, err, reachedEnd)
		}
		return nil
	})
}

func TestWaitForShield_test_zero_timeout(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		task := sleeper(ctx, 10*time.Millisecond, "done")
		shielded := asyncio.Shield(task)
		if _, err := asyncio.WaitFor(ctx, shielded, 0); !errors.Is(err, asyncio.ErrTimeout) {
			t.Errorf("WaitFor: got %v, want an error matching asyncio.ErrTimeout", err)
		}
		// The task runs in the background.
		if task.Done() || task.Cancelled() || !shielded.Cancelled() {
			t.Errorf("got task %v, shielded %v; want !task.Done() && !task.Cancelled() && shielded.Cancelled()", task, shielded)
		}
		asyncio.Sleep(ctx, 100*time.Millisecond)
		if !task.Done() {
			t.Errorf("task not done: task.Done() got false, want true")
		}
		return nil
	})
}

func TestWaitForShield_test_shielded_timeout(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		task := sleeper(ctx, 100*time.Millisecond, "done")
		if _, err := asyncio.WaitFor(ctx, asyncio.Shield(task), 10*time.Millisecond); !errors.Is(err, asyncio.ErrTimeout) {
			t.Errorf("WaitFor: got %v, want an error matching asyncio.ErrTimeout", err)
		}
		if task.Done() || task.Cancelled() {
			t.Errorf("got task %v; want !task.Done() && !task.Cancelled()", task)
		}
		if v, err := asyncio.Await(ctx, task); v != "done" || err != nil {
			t.Errorf("task: got %v, %v; want v == \"done\" && err == nil", v, err)
		}
		return nil
	})
}

// Go's own: flavor mistakes are errors, and leave aw alone.
func TestWaitFor_Flavor(t *testing.T) {
	withLoop(t, func(ctx context.Context, one *asyncio.Loop) {
		withLoop(t, func(ctx context.Context, other *asyncio.Loop) {
			foreign := asyncio.NewFuture[int](other)
			onLoop(ctx, one, func(ctx context.Context) {
				if _, err := asyncio.WaitFor(ctx, foreign, time.Second); !errors.Is(err, asyncio.ErrAwaitOutsideTask) {
					t.Errorf("WaitFor from a callback: got %v, want an error matching asyncio.ErrAwaitOutsideTask", err)
				}
			})
			runTask(ctx, one, func(ctx context.Context) (int, error) {
				if _, err := asyncio.WaitFor(ctx, foreign, 0); !errors.Is(err, asyncio.ErrForeignFuture) {
					t.Errorf("WaitFor of a foreign future: got %v, want an error matching asyncio.ErrForeignFuture", err)
				}
				return 0, nil
			})
			if foreign.Done() {
				t.Errorf("the foreign future was touched: foreign.Done() got true, want false")
			}
		})
	})
}
