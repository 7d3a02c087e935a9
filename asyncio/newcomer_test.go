package asyncio_test

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

// The mistakes a newcomer makes first, and the Python idioms that carry
// over: each mistake is reported where it is made (a panic or an error
// that names the fix, a hint that fits the caller, a created-at line in
// the user's code) rather than hanging or misleading, and each idiom
// (asyncio.run, gather of a list, a cancellation seen as
// context.Canceled, a cancellation's reason) works as in Python.

// Loop-confined calls from trio code (the OpenLoop body) instead of
// through RunSync panic naming the fix, instead of returning nil and
// leaving the work unseen by a sleeping loop.
func TestNewcomer_loop_confined_calls_from_trio_code_panic(t *testing.T) {
	err := watchdog(t, "OpenLoop", func() error {
		return asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
			fut, _ := asyncio.RunSync(ctx, func(context.Context) (*asyncio.Future[int], error) {
				return asyncio.NewFuture[int](loop), nil
			})
			loop.Synchronize(ctx) // the loop is now waiting for work
			for name, call := range map[string]func(){
				"Future.SetResult": func() { fut.SetResult(42) },
				"Loop.CallSoon":    func() { loop.CallSoon(func(context.Context) {}) },
				"Loop.CallLater":   func() { loop.CallLater(time.Second, func(context.Context) {}) },
				"Future.Cancel":    func() { fut.Cancel() },
			} {
				msg := mustPanic(t, call)
				for _, want := range []string{name + " called from outside its loop", "asyncio.RunSync", "Loop.CallSoonThreadsafe"} {
					if !strings.Contains(msg, want) {
						t.Errorf("%s from trio code: got %q, want it to contain %q", name, msg, want)
					}
				}
			}
			// The right way works.
			asyncio.RunSync(ctx, func(context.Context) (struct{}, error) { return struct{}{}, fut.SetResult(42) })
			if v, err := asyncio.RunFuture(ctx, fut); v != 42 || err != nil {
				t.Errorf("RunFuture: got %v, %v; want 42, nil", v, err)
			}
			return nil
		})
	})
	if err != nil {
		t.Errorf("OpenLoop: got %v, want nil", err)
	}
}

// ErrAwaitOutsideTask's hint fits the caller: trio code is told about
// RunAsyncio and RunSync; a callback, or a coroutine with a captured ctx,
// about the ctx it was given.
func TestNewcomer_await_hints_fit_the_caller(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		loop.Synchronize(ctx)
		check := func(who string, err error, want, notWant string) {
			t.Helper()
			if !errors.Is(err, asyncio.ErrAwaitOutsideTask) || !strings.Contains(err.Error(), want) ||
				(notWant != "" && strings.Contains(err.Error(), notWant)) {
				t.Errorf("%s: got %v; want ErrAwaitOutsideTask saying %q (and not %q)", who, err, want, notWant)
			}
		}
		check("trio code", asyncio.Sleep(ctx, 0), "asyncio.RunAsyncio", "CreateTask")
		onLoop(ctx, loop, func(cctx context.Context) {
			check("a callback", asyncio.Sleep(cctx, 0), "a callback cannot wait", "")
		})
		runTask(ctx, loop, func(tctx context.Context) (int, error) {
			check("a coroutine with a captured ctx", asyncio.Sleep(ctx, 0), "with the ctx it was given", "")
			return 0, nil
		})
		check("no loop at all", asyncio.Sleep(context.Background(), 0), "OpenLoop", "")
	})
}

// In debug mode a task created by RunAsyncio or StartTask records where
// that call was made, not a line inside package asyncio.
func TestNewcomer_debug_created_at_names_the_call_site(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		loop.SetDebug(true)
		var s string
		asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			s = asyncio.CurrentTask(ctx).String()
			return 0, nil
		}) // this line
		if !strings.Contains(s, "created at ") || !strings.Contains(s, "newcomer_test.go") {
			t.Errorf("RunAsyncio's task: got %q, want created at newcomer_test.go", s)
		}
		task, _ := asyncio.StartTask(ctx, func(ctx context.Context) (int, error) { return 0, nil })
		s, _ = asyncio.RunSync(ctx, func(context.Context) (string, error) { return task.String(), nil })
		if !strings.Contains(s, "newcomer_test.go") {
			t.Errorf("StartTask's task: got %q, want created at newcomer_test.go", s)
		}
		asyncio.RunFuture(ctx, task)
	})
}

// asyncio.Run is asyncio.run: result, error, panic, teardown.
func TestNewcomer_Run(t *testing.T) {
	v, err := asyncio.Run(context.Background(), func(ctx context.Context) (string, error) {
		asyncio.Sleep(ctx, time.Millisecond)
		return "done", nil
	})
	if v != "done" || err != nil {
		t.Errorf("result: got %q, %v; want done, nil", v, err)
	}
	boom := errors.New("boom")
	if _, err := asyncio.Run(context.Background(), func(ctx context.Context) (int, error) { return 0, boom }); !errors.Is(err, boom) {
		t.Errorf("error: got %v, want boom", err)
	}
	// A task main leaves behind is cancelled, and has ended, when Run returns.
	var left *asyncio.Task[int]
	asyncio.Run(context.Background(), func(ctx context.Context) (int, error) {
		left = asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) { return 0, asyncio.Sleep(ctx, time.Hour) })
		return 0, nil
	})
	if !left.Cancelled() {
		t.Errorf("the task main left: got %v, want cancelled", left)
	}
	var pe *trio.PanicError
	func() {
		defer func() { pe, _ = recover().(*trio.PanicError) }()
		asyncio.Run(context.Background(), func(ctx context.Context) (int, error) { panic("in main") })
	}()
	if pe == nil || !strings.Contains(pe.Error(), "in main") {
		t.Errorf("panic: got %v, want main's panic re-raised as a *trio.PanicError", pe)
	}
	// Cancelled from outside: the task sees one Task.Cancel, the scope absorbs it.
	var scope trio.CancelScope
	err = scope.Run(context.Background(), func(ctx context.Context) error {
		time.AfterFunc(10*time.Millisecond, scope.Cancel)
		_, err := asyncio.Run(ctx, func(ctx context.Context) (int, error) { return 0, asyncio.Sleep(ctx, time.Hour) })
		return err
	})
	if err != nil || !scope.CancelledCaught() {
		t.Errorf("cancelled: got %v (caught %v), want nil, caught", err, scope.CancelledCaught())
	}
}

// Gather takes a slice of tasks; NoResult adapts func(ctx) error; Cancel
// takes no message.
func TestNewcomer_idioms(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		got, err := asyncio.Run(ctx, func(ctx context.Context) ([]int, error) {
			tasks := make([]*asyncio.Task[int], 3)
			for i := range tasks {
				tasks[i] = asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) { return i * i, asyncio.Sleep(ctx, 0) })
			}
			return asyncio.Await(ctx, asyncio.Gather(ctx, tasks...))
		})
		if !slices.Equal(got, []int{0, 1, 4}) || err != nil {
			t.Errorf("Gather(tasks...): got %v, %v; want [0 1 4], nil", got, err)
		}
		ran := false
		_, err = asyncio.RunAsyncio(ctx, asyncio.NoResult(func(ctx context.Context) error { ran = true; return nil }))
		if !ran || err != nil {
			t.Errorf("NoResult: got ran %v, err %v; want ran && err == nil", ran, err)
		}
		cerr, _ := asyncio.RunAsyncio(ctx, func(ctx context.Context) (error, error) {
			t := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) { return 0, asyncio.Sleep(ctx, time.Hour) })
			asyncio.Sleep(ctx, 0)
			t.Cancel()
			_, err := asyncio.Await(ctx, t)
			return err, nil
		})
		var ce *asyncio.CancelledError
		if !errors.As(cerr, &ce) || ce.Msg != "" {
			t.Errorf("Cancel(): got %v, want a CancelledError without a message", cerr)
		}
	})
}

// Every asyncio cancellation matches context.Canceled: a task's, a task
// group's, a Timeout's.
func TestNewcomer_asyncio_cancellations_match_context_Canceled(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		errs, _ := asyncio.RunAsyncio(ctx, func(ctx context.Context) (map[string]error, error) {
			out := map[string]error{}
			task := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) { return 0, asyncio.Sleep(ctx, time.Hour) })
			asyncio.Sleep(ctx, 0)
			task.Cancel("bye")
			_, out["task"] = asyncio.Await(ctx, task)
			// A task group's sibling, cancelled by the group when another fails.
			asyncio.OpenTaskGroup(ctx, func(ctx context.Context, tg *asyncio.TaskGroup) error {
				asyncio.CreateTaskIn(tg, func(ctx context.Context) (int, error) {
					_, err := 0, asyncio.Sleep(ctx, time.Hour)
					out["task group"] = err
					return 0, err
				})
				asyncio.CreateTaskIn(tg, func(ctx context.Context) (int, error) { return 0, errors.New("fails") })
				return nil
			})
			// Inside a Timeout, the expiry reaches the body as a cancellation.
			asyncio.Timeout(ctx, time.Millisecond, func(ctx context.Context, tm *asyncio.TimeoutScope) error {
				out["timeout"] = asyncio.Sleep(ctx, time.Hour)
				return out["timeout"]
			})
			return out, nil
		})
		for _, name := range []string{"task", "task group", "timeout"} {
			if err := errs[name]; !errors.Is(err, context.Canceled) || !errors.Is(err, asyncio.ErrCancelled) {
				t.Errorf("%s: got %v, want an error matching both context.Canceled and asyncio.ErrCancelled", name, err)
			}
		}
	})
}

// The reason travels: a trio deadline that cancels a RunAsyncio task says
// so in the task's CancelledError; Task.Cancel("bye") that cancels a
// RunTrio call reaches its trio code as context.Cause.
func TestNewcomer_the_reason_travels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
			var seen error
			trio.MoveOnAfter(ctx, time.Second, func(ctx context.Context) error {
				_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
					seen = asyncio.Sleep(ctx, time.Hour)
					return 0, seen
				})
				return err
			})
			if seen == nil || !strings.Contains(seen.Error(), "deadline exceeded") {
				t.Errorf("the task's CancelledError: got %v, want it to say deadline exceeded", seen)
			}
			var cause error
			asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
				f := asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
					err := trio.SleepForever(ctx)
					cause = context.Cause(ctx)
					return 0, err
				})
				loop.CallLater(time.Second, func(context.Context) { f.Cancel("bye") })
				return asyncio.Await(ctx, f)
			})
			if cause == nil || !strings.Contains(cause.Error(), "bye") {
				t.Errorf("context.Cause in the trio code: got %v, want it to carry bye", cause)
			}
		})
	})
}

// In debug mode, trio code run by RunTrio that waits with the task's ctx
// instead of its own (escaping the call's scope) panics, failing the
// call's future with a message naming the fix.
func TestNewcomer_RunTrio_with_the_tasks_ctx_debug(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		loop.SetDebug(true)
		_, err := asyncio.RunAsyncio(ctx, func(tctx context.Context) (int, error) {
			return asyncio.Await(tctx, asyncio.RunTrio(tctx, func(context.Context) (int, error) {
				return 0, trio.Sleep(tctx, time.Hour) // the mistake: tctx is the task's
			}))
		})
		if err == nil || !strings.Contains(err.Error(), "use the ctx RunTrio gives the function") {
			t.Errorf("got %v, want the debug check's panic naming the fix", err)
		}
		// The right way is untouched by the check.
		v, err := asyncio.RunAsyncio(ctx, func(tctx context.Context) (int, error) {
			return asyncio.Await(tctx, asyncio.RunTrio(tctx, func(ctx context.Context) (int, error) {
				return 7, trio.Sleep(ctx, time.Millisecond)
			}))
		})
		if v != 7 || err != nil {
			t.Errorf("RunTrio with its own ctx: got %v, %v; want 7, nil", v, err)
		}
	})
}
