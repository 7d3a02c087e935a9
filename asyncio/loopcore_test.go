package asyncio_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

// CPython's test_call_soon_threadsafe_same_thread: called from the loop
// itself, CallSoonThreadsafe keeps FIFO order with CallSoon.
func TestEvents_test_call_soon_threadsafe_same_thread(t *testing.T) {
	var order []string
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		onLoop(ctx, loop, func(context.Context) {
			loop.CallSoonThreadsafe(func(context.Context) { order = append(order, "threadsafe 1") })
			loop.CallSoon(func(context.Context) { order = append(order, "soon 2") })
			loop.CallSoonThreadsafe(func(context.Context) { order = append(order, "threadsafe 3") })
			loop.CallSoon(func(context.Context) { order = append(order, "soon 4") })
		})
		loop.Synchronize(ctx)
	})
	want := []string{"threadsafe 1", "soon 2", "threadsafe 3", "soon 4"}
	if !slices.Equal(order, want) {
		t.Errorf("order: got %v, want %v", order, want)
	}
}

// Loop-confined calls after the block returned panic with an error that
// matches ErrLoopClosed, AddDoneCallback included; during the teardown's
// last phase (a coroutine's deferred call) AddDoneCallback gives a handle
// that never runs, as CallSoon does.
func TestClosedLoop_panics_match_ErrLoopClosed(t *testing.T) {
	var loop *asyncio.Loop
	var fut *asyncio.Future[int]
	var lctx context.Context
	var lateHandle *asyncio.Handle
	var lateRan bool
	withLoop(t, func(ctx context.Context, l *asyncio.Loop) {
		loop = l
		onLoop(ctx, l, func(c context.Context) {
			lctx = c
			fut = asyncio.NewFuture[int](l)
			// A task that ignores cancellation until it is stopped: its
			// deferred call runs in the loop's last phase.
			asyncio.CreateTask(c, func(ctx context.Context) (int, error) {
				defer func() {
					f := asyncio.NewFuture[int](l)
					f.SetResult(1)
					lateHandle = f.AddDoneCallback(func(context.Context) { lateRan = true })
				}()
				for {
					asyncio.Await(ctx, asyncio.NewFuture[int](l))
				}
			})
		})
	})
	if lateHandle == nil || !lateHandle.Cancelled() || lateRan {
		t.Errorf("AddDoneCallback while closing: got handle %v, ran %v; want a cancelled handle that never runs", lateHandle, lateRan)
	}
	for what, call := range map[string]func(){
		"CallSoon":        func() { loop.CallSoon(func(context.Context) {}) },
		"CallLater":       func() { loop.CallLater(time.Second, func(context.Context) {}) },
		"CallAt":          func() { loop.CallAt(time.Now(), func(context.Context) {}) },
		"CreateTask":      func() { asyncio.CreateTask(lctx, func(context.Context) (int, error) { return 0, nil }) },
		"AddDoneCallback": func() { fut.AddDoneCallback(func(context.Context) {}) },
	} {
		v := panicValue(t, what+" after close", call)
		if err, _ := v.(error); !errors.Is(err, asyncio.ErrLoopClosed) {
			t.Errorf("%s after close: got a panic of %T %v, want an error matching ErrLoopClosed", what, v, v)
		}
	}
}

// nil awaitables are programmer errors named by the function.
func TestNil_awaitables_panic_naming_the_function(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		var nilFut *asyncio.Future[int]
		if msg := mustPanic(t, func() { asyncio.RunFuture[int](ctx, nil) }); !strings.Contains(msg, "RunFuture with a nil") {
			t.Errorf("RunFuture(nil): got: got %q, want it to contain %q", msg, "RunFuture with a nil")
		}
		if msg := mustPanic(t, func() { asyncio.RunFuture[int](ctx, nilFut) }); !strings.Contains(msg, "RunFuture with a nil") {
			t.Errorf("RunFuture(typed nil): got: got %q, want it to contain %q", msg, "RunFuture with a nil")
		}
		runTask(ctx, loop, func(ctx context.Context) (int, error) {
			if msg := mustPanic(t, func() { asyncio.Await[int](ctx, nil) }); !strings.Contains(msg, "Await with a nil") {
				t.Errorf("Await(nil): got: got %q, want it to contain %q", msg, "Await with a nil")
			}
			if msg := mustPanic(t, func() { asyncio.Await[int](ctx, nilFut) }); !strings.Contains(msg, "Await with a nil") {
				t.Errorf("Await(typed nil): got: got %q, want it to contain %q", msg, "Await with a nil")
			}
			return 0, nil
		})
	})
}

// Debug mode checks the goroutine of every loop-confined method,
// including the small ones.
func TestDebug_foreign_goroutine_checks_everywhere(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		loop.SetDebug(true)
		var fut *asyncio.Future[int]
		var h *asyncio.Handle
		var th *asyncio.TimerHandle
		var task *asyncio.Task[int]
		onLoop(ctx, loop, func(c context.Context) {
			fut = asyncio.NewFuture[int](loop)
			h = loop.CallSoon(func(context.Context) {})
			th = loop.CallLater(time.Hour, func(context.Context) {})
			task = asyncio.CreateTask(c, func(ctx context.Context) (int, error) { return 0, asyncio.Sleep(ctx, time.Hour) })
		})
		for name, call := range map[string]func(){
			"Handle.Cancel":  func() { h.Cancel() },
			"Handle.Cancel ": func() { th.Cancel() }, // TimerHandle's
			"Task.Uncancel":  func() { task.Uncancel() },
			"Task.SetName":   func() { task.SetName("x") },
			"AllTasks":       func() { asyncio.AllTasks(loop) },
			"NewFuture":      func() { asyncio.NewFuture[int](loop) },
			"Future.Result":  func() { fut.Result() },
		} {
			msg := mustPanic(t, call)
			if want := strings.TrimSpace(name) + " called from a goroutine other than the loop's"; !strings.Contains(msg, want) {
				t.Errorf("%s from a foreign goroutine: got %q, want it to contain %q", name, msg, want)
			}
		}
		if th.Cancelled() || h.Cancelled() {
			t.Errorf("a refused Cancel changed the handle: got th.Cancelled() || h.Cancelled(), want !th.Cancelled() && !h.Cancelled()")
		}
		onLoop(ctx, loop, func(context.Context) { task.Cancel("") })
	})
}

// CreateTask with a ctx that is cancellable (a trio scope's, reached
// through WithContext) gives the coroutine a ctx without that
// cancellation: asyncio code is cancelled only through Task.Cancel.
func TestCreateTask_strips_trio_cancellation(t *testing.T) {
	type key struct{}
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		var scope trio.CancelScope
		scope.Run(ctx, func(sctx context.Context) error {
			vctx := context.WithValue(sctx, key{}, "v")
			got := make(chan context.Context, 1)
			loop.CallSoonThreadsafe(func(c context.Context) {
				asyncio.CreateTask(c, func(tctx context.Context) (int, error) {
					got <- tctx
					return 0, nil
				})
			}, asyncio.WithContext(vctx))
			tctx := <-got
			scope.Cancel()
			if tctx.Done() != nil || tctx.Err() != nil {
				t.Errorf("the coroutine's ctx: got Done %v, Err %v; want no cancellation at all", tctx.Done(), tctx.Err())
			}
			if tctx.Value(key{}) != "v" {
				t.Errorf("the coroutine's ctx lost the caller's values: got %v, want \"v\"", tctx.Value(key{}))
			}
			return nil
		})
	})
}

// StartTask starts a task from trio code and hands it back; RunFuture
// waits for it; RunSync's fn gets a ctx of the loop (CreateTask works
// with it) that carries the caller's values but not its cancellation.
func TestStartTask_and_RunSync_ctx(t *testing.T) {
	type key struct{}
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		vctx := context.WithValue(ctx, key{}, "v")
		task, err := asyncio.StartTask(vctx, func(tctx context.Context) (string, error) {
			if err := asyncio.Sleep(tctx, time.Millisecond); err != nil {
				return "", err
			}
			s, _ := tctx.Value(key{}).(string)
			return s + "!", nil
		}, asyncio.WithName("bg"))
		if err != nil {
			t.Fatalf("StartTask: got %v, want nil", err)
		}
		if v, err := asyncio.RunFuture(ctx, task); v != "v!" || err != nil {
			t.Errorf("RunFuture(task): got %q, %v; want \"v!\", nil", v, err)
		}
		name, _ := asyncio.RunSync(vctx, func(c context.Context) (string, error) {
			if c.Done() != nil {
				t.Errorf("RunSync's fn ctx carries the caller's cancellation: got c.Done() != nil, want c.Done() == nil")
			}
			if c.Value(key{}) != "v" {
				t.Errorf("RunSync's fn ctx lost the caller's values: got %v, want \"v\"", c.Value(key{}))
			}
			inner := asyncio.CreateTask(c, func(context.Context) (int, error) { return 1, nil })
			inner.Cancel("")
			return task.Name(), nil
		})
		if name != "bg" {
			t.Errorf("task name: got %q, want bg", name)
		}
	})
}

// StartTask during the teardown is refused; after close, it reports the
// closed loop.
func TestStartTask_refused_when_closing(t *testing.T) {
	var saved context.Context
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) { saved = ctx })
	if _, err := asyncio.StartTask(saved, func(context.Context) (int, error) { return 0, nil }); !errors.Is(err, asyncio.ErrLoopClosed) {
		t.Errorf("StartTask after close: got %v, want ErrLoopClosed", err)
	}
}

// runtime.Goexit in the OpenLoop body (t.Fatal in a test) still tears the
// loop down and waits for it before the goroutine exits: the task is
// cancelled and ended, the loop closed, the trio call's scope cancelled.
func TestOpenLoop_body_Goexit_tears_down(t *testing.T) {
	var loop *asyncio.Loop
	var task *asyncio.Task[int]
	var trioEnded atomic.Bool
	var returned bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		asyncio.OpenLoop(context.Background(), func(ctx context.Context, l *asyncio.Loop) error {
			loop = l
			task, _ = asyncio.StartTask(ctx, func(ctx context.Context) (int, error) {
				f := asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
					defer trioEnded.Store(true)
					return 0, trio.SleepForever(ctx)
				})
				return asyncio.Await(ctx, f)
			})
			asyncio.RunSync(ctx, func(context.Context) (int, error) { return 0, nil })
			runtime.Goexit()
			return nil
		})
		returned = true
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the goroutine that called Goexit in the body never ended")
	}
	if returned {
		t.Error("OpenLoop returned after a Goexit in its body; want the Goexit to go on")
	}
	if !loop.IsClosed() || !task.Cancelled() || !trioEnded.Load() {
		t.Errorf("after the Goexit: loop closed %v, task cancelled %v, trio call ended %v; want all true",
			loop.IsClosed(), task.Cancelled(), trioEnded.Load())
	}
}
