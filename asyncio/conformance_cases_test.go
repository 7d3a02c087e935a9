package asyncio_test

// Cases of CPython's test_taskgroups.py, test_timeouts.py, test_tasks.py,
// test_events.py and test_base_events.py that the map listed as missing
// or partial, named <Class>_<case> as the files they complete.

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

func raiseAfter(d time.Duration, err error) func(ctx context.Context) (struct{}, error) {
	return func(ctx context.Context) (struct{}, error) {
		if e := asyncio.Sleep(ctx, d); e != nil {
			return struct{}{}, e
		}
		return struct{}{}, err
	}
}

var (
	errRuntimeC = errors.New("RuntimeError")
	errValueC   = errors.New("ValueError")
)

// The body exits at once (no await) while its only task fails: the
// group's cancellation of the parent is taken back.
func TestTaskGroup_test_cancelling_level_preserved(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		err := asyncio.OpenTaskGroup(ctx, func(ctx context.Context, tg *asyncio.TaskGroup) error {
			_, err := asyncio.CreateTaskIn(tg, raiseAfter(0, errRuntimeC))
			return err
		})
		if !errors.Is(err, errRuntimeC) {
			t.Errorf("group: %v", err)
		}
		if n := asyncio.CurrentTask(ctx).Cancelling(); n != 0 {
			t.Errorf("cancelling %d, want 0", n)
		}
		return nil
	})
}

func TestTaskGroup_test_nested_groups_both_cancelled(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		self := asyncio.CurrentTask(ctx)
		err := asyncio.OpenTaskGroup(ctx, func(ctx context.Context, outer *asyncio.TaskGroup) error {
			inner := asyncio.OpenTaskGroup(ctx, func(ctx context.Context, inner *asyncio.TaskGroup) error {
				asyncio.CreateTaskIn(inner, raiseAfter(0, errRuntimeC))
				asyncio.CreateTaskIn(outer, raiseAfter(0, errValueC))
				return nil
			})
			if !errors.Is(inner, errRuntimeC) || errors.Is(inner, errValueC) {
				t.Errorf("inner group: %v, want the RuntimeError only", inner)
			}
			if n := self.Cancelling(); n != 1 {
				t.Errorf("cancelling after the inner group %d, want 1", n)
			}
			return nil
		})
		if !errors.Is(err, errValueC) || errors.Is(err, errRuntimeC) {
			t.Errorf("outer group: %v, want the ValueError only", err)
		}
		if n := self.Cancelling(); n != 0 {
			t.Errorf("cancelling after the outer group %d, want 0", n)
		}
		return nil
	})
}

func TestTaskGroup_test_error_and_cancel(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		event := &asyncio.Event{}
		raiseError := func(ctx context.Context) (struct{}, error) {
			event.Set()
			asyncio.Sleep(ctx, 0)
			return struct{}{}, errRuntimeC
		}
		inner := func(ctx context.Context) (struct{}, error) {
			self := asyncio.CurrentTask(ctx)
			err := asyncio.OpenTaskGroup(ctx, func(ctx context.Context, tg *asyncio.TaskGroup) error {
				asyncio.CreateTaskIn(tg, raiseError)
				err := asyncio.Sleep(ctx, time.Second)
				if err == nil {
					t.Errorf("sleep in the group was not cancelled")
				}
				return err
			})
			if !errors.Is(err, errRuntimeC) {
				t.Errorf("group: %v", err)
			}
			if n := self.Cancelling(); n != 1 {
				t.Errorf("cancelling after the group %d, want 1 (the outside cancel survives)", n)
			}
			if err := asyncio.Sleep(ctx, time.Second); err != nil {
				return struct{}{}, err
			}
			t.Errorf("sleep after the group was not cancelled")
			return struct{}{}, nil
		}
		task := asyncio.CreateTask(ctx, inner)
		event.Wait(ctx)
		if n := task.Cancelling(); n != 0 {
			t.Errorf("cancelling before cancel %d", n)
		}
		task.Cancel("")
		if n := task.Cancelling(); n != 1 {
			t.Errorf("cancelling after cancel %d", n)
		}
		if _, err := asyncio.Await(ctx, task); !errors.Is(err, asyncio.ErrCancelled) || !task.Cancelled() {
			t.Errorf("Await: %v, cancelled %v", err, task.Cancelled())
		}
		return nil
	})
}

// A TaskGroup inside a Timeout whose task fails in its cleanup: the
// group's error escapes, not a TimeoutError (Python also checks the
// chaining of __context__/__cause__, which Go errors do not have).
func TestTimeout_test_timeout_taskgroup(t *testing.T) {
	errDiv := errors.New("ZeroDivisionError")
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		task := func(ctx context.Context) (struct{}, error) {
			asyncio.Sleep(ctx, 2*time.Second) // interrupted by the timeout
			return struct{}{}, errDiv         // crash in cleanup
		}
		err := asyncio.Timeout(ctx, 10*time.Millisecond, func(ctx context.Context, _ *asyncio.TimeoutScope) error {
			return asyncio.OpenTaskGroup(ctx, func(ctx context.Context, tg *asyncio.TaskGroup) error {
				asyncio.CreateTaskIn(tg, task)
				asyncio.Sleep(ctx, time.Second) // "finally: await sleep(1)", cancelled by the timeout
				return errValueC
			})
		})
		var tge *asyncio.TaskGroupError
		if !errors.As(err, &tge) || !errors.Is(err, errDiv) || !errors.Is(err, errValueC) || errors.Is(err, asyncio.ErrTimeout) {
			t.Errorf("Timeout: %v, want the group's error with both", err)
		}
		return nil
	})
}

func TestTasks_test_uncancel_resets_must_cancel(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		fut := asyncio.NewFuture[struct{}](loop)
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			if _, err := asyncio.Await(ctx, fut); err != nil {
				return 0, err
			}
			return 42, nil
		})
		asyncio.Sleep(ctx, 0) // the task waits for fut
		fut.SetResult(struct{}{})
		task.Cancel("") // the task is runnable: the cancellation is pending
		if n := task.Cancelling(); n != 1 {
			t.Errorf("cancelling %d", n)
		}
		task.Uncancel() // undo it
		if n := task.Cancelling(); n != 0 {
			t.Errorf("cancelling after Uncancel %d", n)
		}
		if v, err := asyncio.Await(ctx, task); v != 42 || err != nil {
			t.Errorf("Await: %v, %v (the cancellation was taken back)", v, err)
		}
		return nil
	})
}

// A panic raised while a task handles its cancellation (Python: a
// BaseException) fails the task; it is not cancelled.
func TestTasks_test_baseexception_during_cancel(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			if err := asyncio.Sleep(ctx, 10*time.Second); errors.Is(err, asyncio.ErrCancelled) {
				panic("SystemExit")
			}
			return 0, nil
		})
		runBriefly(ctx)
		task.Cancel("")
		if task.Done() {
			t.Errorf("done right after Cancel")
		}
		runBriefly(ctx)
		var pe *trio.PanicError
		if !task.Done() || task.Cancelled() || !errors.As(task.Exception(), &pe) || pe.Value != "SystemExit" {
			t.Errorf("done %v, cancelled %v, %v", task.Done(), task.Cancelled(), task.Exception())
		}
		return nil
	})
}

// Tiny sleeps do not make the loop spin: the iterations that wait stay
// few (CPython allows 20 _run_once calls for the five sleeps).
func TestEvents_test_timeout_rounding(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		before := asyncio.LoopWaits(loop)
		for _, d := range []float64{1e-2, 1e-4, 1e-6, 1e-8, 1e-10} {
			if err := asyncio.Sleep(ctx, time.Duration(d*float64(time.Second))); err != nil {
				return err
			}
		}
		if n := asyncio.LoopWaits(loop) - before; n > 20 {
			t.Errorf("%d waits for five sleeps", n)
		}
		return nil
	})
}

// Several past-due timers run in deadline order, the most overdue first.
func TestBaseEvents_test_call_later_negative_delays(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var calls []string
		loop.CallLater(-time.Second, func(context.Context) { calls = append(calls, "a") })
		loop.CallLater(-2*time.Second, func(context.Context) { calls = append(calls, "b") })
		runBriefly(ctx)
		if !slices.Equal(calls, []string{"b", "a"}) {
			t.Errorf("%v", calls)
		}
		return nil
	})
}

// In debug mode, a slow task step is logged as a slow callback is, naming
// the task.
func TestBaseEvents_test_log_slow_callbacks_task_step(t *testing.T) {
	logs := captureSlog(t)
	synctest.Test(t, func(t *testing.T) {
		withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
			loop.SetDebug(true)
			asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
				time.Sleep(150 * time.Millisecond)
				return 0, nil
			}, asyncio.RunOption{})
		})
	})
	s := logs()
	if !strings.Contains(s, "took 0.150 seconds") || !strings.Contains(s, "Task") {
		t.Errorf("log: %s", s)
	}
}

// trio-asyncio's aiotest test_thread.py TestThread.test_ident: a function
// run in the executor runs on a goroutine other than the loop's.
func TestAiotestThread_test_ident(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var loopID string
		done := asyncio.NewFuture[struct{}](loop)
		loop.CallSoon(func(context.Context) { loopID = curGoid(); done.SetResult(struct{}{}) })
		asyncio.Await(ctx, done)
		execID, err := asyncio.Await(ctx, asyncio.RunInExecutor(ctx, nil, func(context.Context) (string, error) {
			return curGoid(), nil
		}))
		if err != nil || execID == loopID || loopID == "" {
			t.Errorf("executor goroutine %q, loop goroutine %q, %v", execID, loopID, err)
		}
		return nil
	})
}

// CPython's test_runners.py debug cases (RunTests.test_asyncio_run_debug,
// RunnerTests.test_debug, test_non_debug), with OpenLoop as the runner:
// a new loop is not in debug mode; SetDebug at the top of the block is
// the debug=True argument, and the loop's tasks see it.
func TestRunners_test_debug_and_non_debug(t *testing.T) {
	for _, debug := range []bool{false, true} {
		err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
			if loop.GetDebug() {
				t.Errorf("a new loop is in debug mode")
			}
			if debug {
				loop.SetDebug(true)
			}
			got, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (bool, error) {
				l, err := asyncio.GetRunningLoop(ctx)
				if err != nil {
					return false, err
				}
				return l.GetDebug(), nil
			})
			if got != debug || err != nil {
				t.Errorf("debug=%v: the task sees GetDebug %v, %v", debug, got, err)
			}
			return nil
		})
		if err != nil {
			t.Error(err)
		}
	}
}

// The rest of test_context_2: a done callback added by a task without
// WithContext runs with the loop's ctx, outside any task, and what it does
// cannot change the task's ctx (Go's ctx is immutable: the task still sees
// its own values after the callback ran).
func TestTasks_test_context_2_default_callback_ctx(t *testing.T) {
	type key struct{}
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		tctx := context.WithValue(ctx, key{}, "task")
		task := asyncio.CreateTask(tctx, func(ctx context.Context) (int, error) {
			fut := asyncio.NewFuture[int](loop)
			fut.AddDoneCallback(func(cctx context.Context) {
				if asyncio.CurrentTask(cctx) != nil {
					t.Errorf("the callback runs inside a task")
				}
				if cctx.Value(key{}) != nil {
					t.Errorf("the callback sees the task's values: %v", cctx.Value(key{}))
				}
				if l, err := asyncio.GetRunningLoop(cctx); l != loop || err != nil {
					t.Errorf("callback's loop: %v, %v", l, err)
				}
			})
			loop.CallSoon(func(context.Context) { fut.SetResult(0) })
			asyncio.Await(ctx, fut)
			runBriefly(ctx)
			if ctx.Value(key{}) != "task" {
				t.Errorf("the task's value after the callback: %v", ctx.Value(key{}))
			}
			return 0, nil
		})
		_, err := asyncio.Await(ctx, task)
		return err
	})
}

// test_foreign_exception_on_timeout_2: the body's sleep is cancelled by
// the timeout, and its cleanup fails with another error (after a third
// one it superseded): that error, not a TimeoutError, leaves Timeout, and
// the task is not left cancelling. (Python also checks the
// __context__/__cause__ chain, which Go errors do not have.)
func TestTimeout_test_foreign_exception_on_timeout_2(t *testing.T) {
	errDiv := errors.New("ZeroDivisionError")
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		err := asyncio.Timeout(ctx, 10*time.Millisecond, func(ctx context.Context, _ *asyncio.TimeoutScope) error {
			var err error = errValueC
			if e := asyncio.Sleep(ctx, time.Second); e != nil {
				err = e // the cancellation replaces the ValueError
			}
			_ = err // "raise KeyError", superseded by:
			return errDiv
		})
		if err != errDiv || errors.Is(err, asyncio.ErrTimeout) {
			t.Errorf("Timeout: %v, want the cleanup's error", err)
		}
		if n := asyncio.CurrentTask(ctx).Cancelling(); n != 0 {
			t.Errorf("cancelling %d", n)
		}
		return nil
	})
}
