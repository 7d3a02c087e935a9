package asyncio_test

// Transcriptions of the semantic task tests of CPython's
// Lib/test/test_asyncio/test_tasks.py (3.11, with the 3.12 and 3.13 cases added since), named TestTasks_<case>.
// "run_briefly" is runBriefly (two loop iterations); run_until_complete(t)
// is Await(ctx, t) from a main task. White-box assertions on private
// attributes (_fut_waiter, _must_cancel) are left out. Cases not
// transcribed are listed at the end of the file.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

func cancelMsg(err error) (string, bool) {
	var ce *asyncio.CancelledError
	if errors.As(err, &ce) {
		return ce.Msg, true
	}
	return "", false
}

func TestTasks_test_task_cancel_message_getter(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		task := asyncio.CreateTask(ctx, func(context.Context) (int, error) { return 0, nil })
		task.Cancel("my message")
		_, err := asyncio.Await(ctx, task)
		if msg, ok := cancelMsg(err); !ok || msg != "my message" {
			t.Errorf("Await: got %v; want ok && msg == \"my message\"", err)
		}
		return nil
	})
}

func TestTasks_test_other_loop_future(t *testing.T) {
	withLoop(t, func(ctx context.Context, other *asyncio.Loop) {
		var fut *asyncio.Future[int]
		onLoop(ctx, other, func(context.Context) { fut = asyncio.NewFuture[int](other) })
		var err error
		withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
			_, err = runTask(ctx, loop, func(ctx context.Context) (int, error) {
				return asyncio.Await(ctx, fut)
			})
		})
		if !errors.Is(err, asyncio.ErrForeignFuture) || !strings.Contains(err.Error(), "attached to a different loop") {
			t.Errorf("Await: got %v; want errors.Is(err, asyncio.ErrForeignFuture) && strings.Contains(err.Error(), \"attached to a different loop\")", err)
		}
		onLoop(ctx, other, func(context.Context) { fut.Cancel("") })
	})
}

func TestTasks_test_task_awaits_on_itself(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var task *asyncio.Task[int]
		task = asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			return asyncio.Await(ctx, task)
		})
		_, err := asyncio.Await(ctx, task)
		if !errors.Is(err, asyncio.ErrAwaitSelf) || !strings.Contains(err.Error(), "cannot await on itself") {
			t.Errorf("Await: got %v; want errors.Is(err, asyncio.ErrAwaitSelf) && strings.Contains(err.Error(), \"cannot await on itself\")", err)
		}
		return nil
	})
}

func TestTasks_test_task_basics(t *testing.T) {
	inner1 := func(context.Context) (int, error) { return 42, nil }
	inner2 := func(context.Context) (int, error) { return 1000, nil }
	var v int
	var err error
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		v, err = runTask(ctx, loop, func(ctx context.Context) (int, error) {
			a, _ := inner1(ctx) // a plain call, as "await inner1()" on a coroutine
			b, err := asyncio.Await(ctx, asyncio.CreateTask(ctx, inner2))
			return a + b, err
		})
	})
	if v != 1042 || err != nil {
		t.Errorf("got %v, %v; want v == 1042 && err == nil", v, err)
	}
}

func TestTasks_test_cancelling(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			return 0, asyncio.Sleep(ctx, 10*time.Second)
		})
		if task.Cancelling() != 0 || strings.Contains(task.String(), " cancelling ") {
			t.Errorf("cancelling before Cancel: got task.Cancelling() != 0 || strings.Contains(task.String(), \" cancelling \"), want task.Cancelling() == 0 && !strings.Contains(task.String(), \" cancelling \")")
		}
		if !task.Cancel("") || task.Cancelling() == 0 || !strings.Contains(task.String(), "Task cancelling") {
			t.Errorf("after Cancel: got %v; want task.Cancel(\"\") && task.Cancelling() != 0 && strings.Contains(task.String(), \"Task cancelling\")", task)
		}
		if !task.Cancel("") {
			t.Errorf("second Cancel reported false: task.Cancel(\"\") got false, want true")
		}
		if _, err := asyncio.Await(ctx, task); !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("Await: got %v, want an error matching asyncio.ErrCancelled", err)
		}
		return nil
	})
}

func TestTasks_test_uncancel_basic(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			if err := asyncio.Sleep(ctx, 10*time.Second); errors.Is(err, asyncio.ErrCancelled) {
				asyncio.CurrentTask(ctx).Uncancel()
				return 0, asyncio.Sleep(ctx, 10*time.Second)
			}
			return 0, nil
		})
		asyncio.Sleep(ctx, 10*time.Millisecond)
		if !task.Cancel("") || task.Cancelling() != 1 || task.Cancelled() {
			t.Errorf("first cancel: got %v; want task.Cancel(\"\") && task.Cancelling() == 1 && !task.Cancelled()", task)
		}
		asyncio.Sleep(ctx, 10*time.Millisecond)
		if task.Cancelling() != 0 || task.Cancelled() || strings.Contains(task.String(), "cancelling") {
			t.Errorf("after uncancel: got %v; want task.Cancelling() == 0 && !task.Cancelled() && !strings.Contains(task.String(), \"cancelling\")", task)
		}
		if !task.Cancel("") || task.Cancelling() != 1 || task.Cancelled() {
			t.Errorf("second cancel: got %v; want task.Cancel(\"\") && task.Cancelling() == 1 && !task.Cancelled()", task)
		}
		if _, err := asyncio.Await(ctx, task); !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("Await: got %v, want an error matching asyncio.ErrCancelled", err)
		}
		if !task.Cancelled() || !task.Done() {
			t.Errorf("not cancelled: got !task.Cancelled() || !task.Done(), want task.Cancelled() && task.Done()")
		}
		task.Uncancel()
		if !task.Cancelled() || !task.Done() {
			t.Errorf("Uncancel changed a done task: got !task.Cancelled() || !task.Done(), want task.Cancelled() && task.Done()")
		}
		return nil
	})
}

func TestTasks_test_uncancel_structured_blocks(t *testing.T) {
	type res struct{ timedOut, blockFinished, outerReached bool }
	makeRequestWithTimeout := func(sleep, timeout time.Duration) func(ctx context.Context) (res, error) {
		return func(ctx context.Context) (res, error) {
			task := asyncio.CurrentTask(ctx)
			loop := task.Loop()
			var r res
			timeoutHandle := loop.CallLater(timeout, func(context.Context) {
				r.timedOut = true
				task.Cancel("")
			})
			err := func() (err error) {
				// The structured block affected by the timeout.
				defer func() {
					timeoutHandle.Cancel()
					if r.timedOut && task.Uncancel() == 0 && errors.Is(err, asyncio.ErrCancelled) {
						err = &asyncio.TimeoutError{}
					}
				}()
				if err := asyncio.Sleep(ctx, sleep); err != nil {
					return err
				}
				r.blockFinished = true
				return nil
			}()
			if err != nil && !errors.Is(err, asyncio.ErrTimeout) {
				return r, err
			}
			if errors.Is(err, asyncio.ErrTimeout) && !r.timedOut {
				t.Errorf("err: got %v without a timeout, want a TimeoutError only if the timeout fired", err)
			}
			r.outerReached = true
			return r, asyncio.Sleep(ctx, 0)
		}
	}
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		t1 := asyncio.CreateTask(ctx, makeRequestWithTimeout(10*time.Second, 100*time.Millisecond))
		r, err := asyncio.Await(ctx, t1)
		if err != nil || !r.timedOut || r.blockFinished || !r.outerReached || t1.Cancelling() != 0 {
			t.Errorf("t1: got %+v, %v, cancelling %d; want err == nil && r.timedOut && !r.blockFinished && r.outerReached && t1.Cancelling() == 0", r, err, t1.Cancelling())
		}
		t2 := asyncio.CreateTask(ctx, makeRequestWithTimeout(0, 10*time.Second))
		r, err = asyncio.Await(ctx, t2)
		if err != nil || r.timedOut || !r.blockFinished || !r.outerReached || t2.Cancelling() != 0 {
			t.Errorf("t2: got %+v, %v, cancelling %d; want err == nil && !r.timedOut && r.blockFinished && r.outerReached && t2.Cancelling() == 0", r, err, t2.Cancelling())
		}
		return nil
	})
}

func TestTasks_test_cancel(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		start := loop.Time()
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			if err := asyncio.Sleep(ctx, 10*time.Second); err != nil {
				return 0, err
			}
			return 12, nil
		})
		loop.CallSoon(func(context.Context) { task.Cancel("") })
		if _, err := asyncio.Await(ctx, task); !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("Await: got %v, want an error matching asyncio.ErrCancelled", err)
		}
		if !task.Done() || !task.Cancelled() || task.Cancel("") {
			t.Errorf("state: got %v; want task.Done() && task.Cancelled() && !task.Cancel(\"\")", task)
		}
		if d := loop.Time().Sub(start); d != 0 {
			t.Errorf("took: got %v, want %v", d, 0)
		}
		return nil
	})
}

// asyncio.wait([task]) becomes awaiting the task and ignoring its error.
func TestTasks_test_cancel_with_message_then_future_result(t *testing.T) {
	for _, msg := range []string{"", "my message"} {
		synctest.Test(t, func(t *testing.T) {
			var err error
			withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
				_, err = runTask(ctx, loop, func(ctx context.Context) (int, error) {
					task := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
						return 0, asyncio.Sleep(ctx, 10*time.Second)
					})
					asyncio.Sleep(ctx, 0)
					task.Cancel(msg)
					asyncio.Await(ctx, task)
					return task.Result()
				})
			})
			if got, ok := cancelMsg(err); !ok || got != msg {
				t.Errorf("msg %q: got %v; want ok && got == msg", msg, err)
			}
		})
	}
}

func TestTasks_test_cancel_with_message_then_future_exception(t *testing.T) {
	for _, msg := range []string{"", "my message"} {
		synctest.Test(t, func(t *testing.T) {
			var err error
			withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
				_, err = runTask(ctx, loop, func(ctx context.Context) (int, error) {
					task := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
						return 0, asyncio.Sleep(ctx, 10*time.Second)
					})
					asyncio.Sleep(ctx, 0)
					task.Cancel(msg)
					asyncio.Await(ctx, task)
					return 0, task.Exception()
				})
			})
			if got, ok := cancelMsg(err); !ok || got != msg {
				t.Errorf("msg %q: got %v; want ok && got == msg", msg, err)
			}
		})
	}
}

// Python chains with "raise ValueError from ex"; in Go, returning an error
// that does not wrap the CancelledError fails the task, while wrapping it
// (%w) keeps the task cancelled (errors.Is decides).
func TestTasks_test_cancellation_exception_context(t *testing.T) {
	for _, wrap := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			var task *asyncio.Task[int]
			var err error
			withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
				_, err = runTask(ctx, loop, func(ctx context.Context) (int, error) {
					fut := asyncio.NewFuture[int](loop)
					inner := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
						fut.SetResult(0)
						return 0, asyncio.Sleep(ctx, 10*time.Second)
					})
					task = asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
						asyncio.Await(ctx, fut)
						loop.CallSoon(func(context.Context) { inner.Cancel("msg") })
						_, err := asyncio.Await(ctx, inner)
						if msg, ok := cancelMsg(err); !ok || msg != "msg" {
							t.Errorf("inner: got %v; want ok && msg == \"msg\"", err)
						}
						if wrap {
							return 0, fmt.Errorf("cancelled: %w", err)
						}
						return 0, errors.New("ValueError: cancelled")
					})
					asyncio.Await(ctx, task)
					return 0, nil
				})
			})
			if err != nil {
				t.Fatalf("err: got %v, want nil", err)
			}
			if task.Cancelled() != wrap {
				t.Errorf("wrap=%v: got cancelled=%v, %v; want task.Cancelled() == wrap", wrap, task.Cancelled(), task.Exception())
			}
		})
	}
}

func TestTasks_test_cancel_with_message_before_starting_task(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var err error
		withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
			_, err = runTask(ctx, loop, func(ctx context.Context) (int, error) {
				task := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
					return 0, asyncio.Sleep(ctx, 10*time.Second)
				})
				task.Cancel("my message")
				asyncio.Await(ctx, task)
				return 0, task.Exception()
			})
		})
		if msg, ok := cancelMsg(err); !ok || msg != "my message" {
			t.Errorf("cancelMsg: got %v; want ok && msg == \"my message\"", err)
		}
	})
}

func TestTasks_test_cancel_yield(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			if err := asyncio.Sleep(ctx, 0); err != nil {
				return 0, err
			}
			if err := asyncio.Sleep(ctx, 0); err != nil {
				return 0, err
			}
			return 12, nil
		})
		runBriefly(ctx) // start the coroutine
		task.Cancel("")
		if _, err := asyncio.Await(ctx, task); !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("Await: got %v, want an error matching asyncio.ErrCancelled", err)
		}
		if !task.Done() || !task.Cancelled() || task.Cancel("") {
			t.Errorf("state: got %v; want task.Done() && task.Cancelled() && !task.Cancel(\"\")", task)
		}
		return nil
	})
}

func TestTasks_test_cancel_inner_future(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		f := asyncio.NewFuture[int](loop)
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			if _, err := asyncio.Await(ctx, f); err != nil {
				return 0, err
			}
			return 12, nil
		})
		runBriefly(ctx)
		f.Cancel("")
		if _, err := asyncio.Await(ctx, task); !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("Await: got %v, want an error matching asyncio.ErrCancelled", err)
		}
		if !f.Cancelled() || !task.Cancelled() {
			t.Errorf("not cancelled: got !f.Cancelled() || !task.Cancelled(), want f.Cancelled() && task.Cancelled()")
		}
		return nil
	})
}

func TestTasks_test_cancel_both_task_and_inner_future(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		f := asyncio.NewFuture[int](loop)
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			if _, err := asyncio.Await(ctx, f); err != nil {
				return 0, err
			}
			return 12, nil
		})
		runBriefly(ctx)
		f.Cancel("")
		task.Cancel("")
		if _, err := asyncio.Await(ctx, task); !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("Await: got %v, want an error matching asyncio.ErrCancelled", err)
		}
		if !task.Done() || !f.Cancelled() || !task.Cancelled() {
			t.Errorf("not cancelled: got !task.Done() || !f.Cancelled() || !task.Cancelled(), want task.Done() && f.Cancelled() && task.Cancelled()")
		}
		return nil
	})
}

func TestTasks_test_cancel_task_catching(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		fut1 := asyncio.NewFuture[int](loop)
		fut2 := asyncio.NewFuture[int](loop)
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			asyncio.Await(ctx, fut1)
			if _, err := asyncio.Await(ctx, fut2); errors.Is(err, asyncio.ErrCancelled) {
				return 42, nil
			}
			return 0, nil
		})
		runBriefly(ctx)
		fut1.SetResult(0)
		runBriefly(ctx)
		task.Cancel("")
		if !fut2.Cancelled() {
			t.Errorf("fut2 not cancelled: fut2.Cancelled() got false, want true")
		}
		if v, err := asyncio.Await(ctx, task); v != 42 || err != nil || task.Cancelled() {
			t.Errorf("asyncio.Await: got %v, %v; want v == 42 && err == nil && !task.Cancelled()", v, err)
		}
		return nil
	})
}

func TestTasks_test_cancel_task_ignoring(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		fut1 := asyncio.NewFuture[int](loop)
		fut2 := asyncio.NewFuture[int](loop)
		fut3 := asyncio.NewFuture[int](loop)
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			asyncio.Await(ctx, fut1)
			asyncio.Await(ctx, fut2) // the cancellation is ignored
			return asyncio.Await(ctx, fut3)
		})
		runBriefly(ctx)
		fut1.SetResult(0)
		runBriefly(ctx)
		task.Cancel("")
		if !fut2.Cancelled() {
			t.Errorf("fut2 not cancelled: fut2.Cancelled() got false, want true")
		}
		runBriefly(ctx)
		fut3.SetResult(42)
		if v, err := asyncio.Await(ctx, task); v != 42 || err != nil || fut3.Cancelled() || task.Cancelled() {
			t.Errorf("asyncio.Await: got %v, %v; want v == 42 && err == nil && !fut3.Cancelled() && !task.Cancelled()", v, err)
		}
		return nil
	})
}

func TestTasks_test_cancel_current_task(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var task *asyncio.Task[int]
		task = asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			task.Cancel("")
			// The sleep is cancelled at once.
			if err := asyncio.Sleep(ctx, 100*time.Second); err != nil {
				return 0, err
			}
			return 12, nil
		})
		if task.Cancelled() {
			t.Errorf("cancelled early: task.Cancelled() got true, want false")
		}
		start := loop.Time()
		if _, err := asyncio.Await(ctx, task); !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("Await: got %v, want an error matching asyncio.ErrCancelled", err)
		}
		if !task.Done() || !task.Cancelled() || task.Cancel("") || loop.Time().Sub(start) != 0 {
			t.Errorf("state: got %v; want task.Done() && task.Cancelled() && !task.Cancel(\"\") && loop.Time().Sub(start) == 0", task)
		}
		return nil
	})
}

func TestTasks_test_cancel_at_end(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var task *asyncio.Task[int]
		task = asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			task.Cancel("")
			return 12, nil
		})
		if _, err := asyncio.Await(ctx, task); !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("Await: got %v, want an error matching asyncio.ErrCancelled", err)
		}
		if !task.Done() || !task.Cancelled() || task.Cancel("") {
			t.Errorf("state: got %v; want task.Done() && task.Cancelled() && !task.Cancel(\"\")", task)
		}
		return nil
	})
}

func TestTasks_test_cancel_awaited_task(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		fut := asyncio.NewFuture[int](loop)
		var task, nested *asyncio.Task[int]
		task = asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			nested = asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
				return asyncio.Await(ctx, fut)
			})
			asyncio.Sleep(ctx, 0)
			task.Cancel("")
			return asyncio.Await(ctx, nested)
		})
		if _, err := asyncio.Await(ctx, task); !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("Await: got %v, want an error matching asyncio.ErrCancelled", err)
		}
		if !task.Cancelled() || !nested.Cancelled() || !fut.Cancelled() {
			t.Errorf("got task %v, nested %v, fut %v; want task.Cancelled() && nested.Cancelled() && fut.Cancelled()", task, nested, fut)
		}
		return nil
	})
}

func TestTasks_test_sleep(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		start := loop.Time()
		sleeper := func(dt time.Duration, arg string) func(ctx context.Context) (string, error) {
			return func(ctx context.Context) (string, error) {
				if err := asyncio.Sleep(ctx, dt/2); err != nil {
					return "", err
				}
				return arg, asyncio.Sleep(ctx, dt/2)
			}
		}
		task := asyncio.CreateTask(ctx, sleeper(100*time.Millisecond, "yeah"))
		v, err := asyncio.Await(ctx, task)
		if !task.Done() || v != "yeah" || err != nil {
			t.Errorf("asyncio.Await: got %v, %v; want task.Done() && v == \"yeah\" && err == nil", v, err)
		}
		if d := loop.Time().Sub(start); d != 100*time.Millisecond {
			t.Errorf("took: got %v, want %v", d, 100*time.Millisecond)
		}
		return nil
	})
}

// test_sleep_cancel: cancelling a sleeping task cancels its timer (seen
// here through the loop going idle at once: the 10 s timer is gone).
func TestTasks_test_sleep_cancel(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (string, error) {
			return "yeah", asyncio.Sleep(ctx, 10*time.Second)
		})
		runBriefly(ctx)
		task.Cancel("")
		runBriefly(ctx)
		if !task.Cancelled() {
			t.Errorf("got %v; want task.Cancelled()", task)
		}
		return nil
	})
}

func TestTasks_test_task_cancel_sleeping_task(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		start := loop.Time()
		doit := asyncio.CreateTask(ctx, func(ctx context.Context) (string, error) {
			sleeper := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
				return 0, asyncio.Sleep(ctx, 5000*time.Second)
			})
			loop.CallLater(100*time.Millisecond, func(context.Context) { sleeper.Cancel("") })
			if _, err := asyncio.Await(ctx, sleeper); errors.Is(err, asyncio.ErrCancelled) {
				return "cancelled", nil
			}
			return "slept in", nil
		})
		if v, err := asyncio.Await(ctx, doit); v != "cancelled" || err != nil {
			t.Errorf("asyncio.Await: got %v, %v; want v == \"cancelled\" && err == nil", v, err)
		}
		if d := loop.Time().Sub(start); d != 100*time.Millisecond {
			t.Errorf("took: got %v, want %v", d, 100*time.Millisecond)
		}
		return nil
	})
}

func TestTasks_test_task_cancel_waiter_future(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		fut := asyncio.NewFuture[int](loop)
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			return asyncio.Await(ctx, fut)
		})
		runBriefly(ctx)
		task.Cancel("")
		runBriefly(ctx)
		if _, err := asyncio.Await(ctx, task); !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("Await: got %v, want an error matching asyncio.ErrCancelled", err)
		}
		if !fut.Cancelled() {
			t.Errorf("fut not cancelled: fut.Cancelled() got false, want true")
		}
		return nil
	})
}

func TestTasks_test_current_task(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		onLoop(ctx, loop, func(ctx context.Context) {
			if asyncio.CurrentTask(ctx) != nil {
				t.Errorf("current task in a callback: got asyncio.CurrentTask(ctx) != nil, want asyncio.CurrentTask(ctx) == nil")
			}
		})
		var task *asyncio.Task[int]
		runTask(ctx, loop, func(ctx context.Context) (int, error) {
			task = asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
				if asyncio.CurrentTask(ctx) != asyncio.AnyTask(task) {
					t.Errorf("CurrentTask is not the task: got asyncio.CurrentTask(ctx) != asyncio.AnyTask(task), want asyncio.CurrentTask(ctx) == asyncio.AnyTask(task)")
				}
				return 0, nil
			})
			return asyncio.Await(ctx, task)
		})
		onLoop(ctx, loop, func(ctx context.Context) {
			if asyncio.CurrentTask(ctx) != nil {
				t.Errorf("current task after the task: got asyncio.CurrentTask(ctx) != nil, want asyncio.CurrentTask(ctx) == nil")
			}
		})
	})
}

func TestTasks_test_current_task_with_interleaving_tasks(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		fut1 := asyncio.NewFuture[bool](loop)
		fut2 := asyncio.NewFuture[bool](loop)
		var task1, task2 *asyncio.Task[int]
		is := func(ctx context.Context, task asyncio.AnyTask) {
			if asyncio.CurrentTask(ctx) != task {
				t.Errorf("current task: got %v, want %v", asyncio.CurrentTask(ctx), task)
			}
		}
		task1 = asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			is(ctx, task1)
			asyncio.Await(ctx, fut1)
			is(ctx, task1)
			fut2.SetResult(true)
			return 0, nil
		})
		task2 = asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			is(ctx, task2)
			fut1.SetResult(true)
			asyncio.Await(ctx, fut2)
			is(ctx, task2)
			return 0, nil
		})
		asyncio.Await(ctx, task1)
		asyncio.Await(ctx, task2)
		return nil
	})
}

// test_yield_future_passes_cancel: "await inner()" on a coroutine is a
// plain call in Go.
func TestTasks_test_yield_future_passes_cancel(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		proof := 0
		waiter := asyncio.NewFuture[int](loop)
		inner := func(ctx context.Context) error {
			_, err := asyncio.Await(ctx, waiter)
			if errors.Is(err, asyncio.ErrCancelled) {
				proof++
				return err
			}
			t.Error("got past the await in inner()")
			return nil
		}
		f := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			if err := inner(ctx); errors.Is(err, asyncio.ErrCancelled) {
				proof += 100
			} else {
				proof += 10
			}
			return 0, nil
		})
		runBriefly(ctx)
		f.Cancel("")
		asyncio.Await(ctx, f)
		if proof != 101 || !waiter.Cancelled() {
			t.Errorf("got proof %d; want proof == 101 && waiter.Cancelled()", proof)
		}
		return nil
	})
}

func TestTasks_test_task_source_traceback(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		loop.SetDebug(true)
		defer loop.SetDebug(false)
		task := asyncio.CreateTask(ctx, func(context.Context) (int, error) { return 0, nil })
		if s := task.String(); !strings.Contains(s, "created at ") || !strings.Contains(s, "tasks_test.go:") {
			t.Errorf("task.String: got %s; want strings.Contains(s, \"created at \") && strings.Contains(s, \"tasks_test.go:\")", s)
		}
		asyncio.Await(ctx, task)
		return nil
	})
}

// test_exception_traceback: a panic in a coroutine fails its task with a
// *trio.PanicError that carries the coroutine's stack.
func TestTasks_test_exception_traceback(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		foo := func(ctx context.Context) (int, error) {
			var m map[string]int
			m["x"] = 1 // assignment to entry in nil map
			return 0, nil
		}
		task := asyncio.CreateTask(ctx, foo)
		asyncio.Sleep(ctx, 0)
		err := task.Exception()
		if err == nil || !strings.Contains(err.Error(), "nil map") || !strings.Contains(err.Error(), "tasks_test.go") {
			t.Errorf("task.Exception: got %v; want err != nil && strings.Contains(err.Error(), \"nil map\") && strings.Contains(err.Error(), \"tasks_test.go\")", err)
		}
		return nil
	})
}

func TestTasks_test_bare_create_task(t *testing.T) {
	var v int
	var err error
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		v, err = runTask(ctx, loop, func(ctx context.Context) (int, error) {
			return asyncio.Await(ctx, asyncio.CreateTask(ctx, func(context.Context) (int, error) { return 1, nil }))
		})
	})
	if v != 1 || err != nil {
		t.Errorf("got %v, %v; want v == 1 && err == nil", v, err)
	}
}

func TestTasks_test_bare_create_named_task(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		task := asyncio.CreateTask(ctx, func(context.Context) (int, error) { return 0, nil }, asyncio.WithName("No-op"))
		if task.Name() != "No-op" {
			t.Errorf("name: got %q, want %q", task.Name(), "No-op")
		}
		other := asyncio.CreateTask(ctx, func(context.Context) (int, error) { return 0, nil })
		if !strings.HasPrefix(other.Name(), "Task-") {
			t.Errorf("name: got %q, want it to begin with %q", other.Name(), "Task-")
		}
		other.SetName("renamed")
		if other.Name() != "renamed" || !strings.Contains(other.String(), "name=renamed") {
			t.Errorf("got %v; want other.Name() == \"renamed\" && strings.Contains(other.String(), \"name=renamed\")", other)
		}
		asyncio.Await(ctx, task)
		asyncio.Await(ctx, other)
		return nil
	})
}

// test_context_1, with ctx values for contextvars: a child task sees the
// values of the ctx it was created with; values are immutable, so neither
// side can change what the other sees.
func TestTasks_test_context_1(t *testing.T) {
	type key struct{}
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		if ctx.Value(key{}) != nil {
			t.Errorf("value set: got ctx.Value(key{}) != nil, want ctx.Value(key{}) == nil")
		}
		sub := asyncio.CreateTask(context.WithValue(ctx, key{}, "yes"), func(ctx context.Context) (int, error) {
			asyncio.Sleep(ctx, 10*time.Millisecond)
			if ctx.Value(key{}) != "yes" {
				t.Errorf("child sees: got %v, want %v", ctx.Value(key{}), "yes")
			}
			if asyncio.CurrentTask(ctx) == nil {
				t.Errorf("child ctx lost its task: got asyncio.CurrentTask(ctx) == nil, want asyncio.CurrentTask(ctx) != nil")
			}
			return 0, nil
		})
		asyncio.Await(ctx, sub)
		return nil
	})
}

// test_context_2: a done callback gets the ctx it was given WithContext,
// and the loop is still reachable from it.
func TestTasks_test_context_2(t *testing.T) {
	type key struct{}
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		for j := range 2 {
			fut := asyncio.NewFuture[int](loop)
			vctx := context.WithValue(context.Background(), key{}, j)
			fut.AddDoneCallback(func(ctx context.Context) {
				if ctx.Value(key{}) != j {
					t.Errorf("callback sees: got %v, want %v", ctx.Value(key{}), j)
				}
				if l, err := asyncio.GetRunningLoop(ctx); l != loop || err != nil {
					t.Errorf("callback's loop: got %v, %v; want l == loop && err == nil", l, err)
				}
			}, asyncio.WithContext(vctx))
			loop.CallSoon(func(context.Context) { fut.SetResult(0) })
			asyncio.Await(ctx, fut)
			runBriefly(ctx)
		}
		return nil
	})
}

func TestTasks_test_sleep_zero(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		result := 0
		loop.CallSoon(func(context.Context) { result++ })
		if result != 0 {
			t.Errorf("ran synchronously: got %v, want 0", result)
		}
		asyncio.Sleep(ctx, 0)
		if result != 1 {
			t.Errorf("got result %d after one iteration; want result == 1", result)
		}
		return nil
	})
}

// current_task(loop=loop) of a loop that is not running is None: here the
// ctx of a loop that has closed.
func TestTasks_test_current_task_no_running_loop(t *testing.T) {
	var lctx context.Context
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) { lctx = ctx })
	if task := asyncio.CurrentTask(lctx); task != nil {
		t.Errorf("the current task of a closed loop: got %v, want nil", task)
	}
}

// current_task() without a running loop raises RuntimeError "no running
// event loop": CurrentTask panics with ErrNoRunningLoop when its ctx
// carries no loop, made outside OpenLoop or given to a function that
// RunInExecutor runs on another goroutine.
func TestTasks_test_current_task_no_running_loop_implicit(t *testing.T) {
	isNoRunningLoop := func(t *testing.T, what string, v any) {
		if err, ok := v.(error); !ok || !errors.Is(err, asyncio.ErrNoRunningLoop) {
			t.Errorf("%s: CurrentTask panicked with %v, want ErrNoRunningLoop", what, v)
		}
	}
	isNoRunningLoop(t, "context.Background()", panicValue(t, "CurrentTask(context.Background())", func() { asyncio.CurrentTask(context.Background()) }))
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.ToThread(ctx, func(ctx context.Context) (int, error) {
			isNoRunningLoop(t, "an executor function's ctx", panicValue(t, "CurrentTask in an executor function", func() { asyncio.CurrentTask(ctx) }))
			return 0, nil
		})
		return err
	})
}

// Not transcribed:
//   test_generic_alias, test_task_class, test_ensure_future_*, test_get_coro,
//   test_task_repr* (repr details; String is tested in futures_test.go),
//   test_task_set_methods (Task has no SetResult/SetException: a compile
//   error in Go), test_create_task_with_noncoroutine and _asynclike_function
//   (the type system), test_exception_chaining_after_await* (exception
//   __context__), test_cancel_traceback_* and test_get_stack (Python
//   tracebacks), test_log_destroyed_pending_task (a pending task is
//   referenced by its loop until the loop closes and stops its coroutine;
//   it is never collected pending), test_error_in_call_soon (monkeypatches
//   call_soon), test_step_result_future,
//   test_coroutine_non_gen_function*, test_iscoroutinefunction,
//   test_task_del_collect, test_context_3..6 beyond what test_context_1/2
//   show (contextvars.Context.run), test_subclasses_ctask_cfuture,
//   test__register_task_*, test__enter_task*, test__leave_task*,
//   test__unregister_task* (private API), test_run_coroutine_threadsafe*
//   (the boundary functions, later), and everything about wait, wait_for,
//   as_completed, shield and gather (built later on this API).
