package asyncio_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

// Transcribed from CPython's test_threads.py (ToThreadTests) and the
// executor cases of test_events.py and test_base_events.py.
//
// Not transcribed:
//   - test_to_thread_args_kwargs: Go passes arguments in the closure.
//   - test_set_default_executor_error: any Executor is accepted; its type
//     is checked by the compiler.

func TestToThread_test_to_thread(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		sum := func(context.Context) (int, error) { return 40 + 2, nil }
		if v, err := asyncio.ToThread(ctx, sum); v != 42 || err != nil {
			t.Errorf("got %v, %v; want v == 42 && err == nil", v, err)
		}
		return nil
	})
}

func TestToThread_test_to_thread_exception(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		if _, err := asyncio.ToThread(ctx, func(context.Context) (int, error) { return 0, errRuntime }); err != errRuntime {
			t.Errorf("err: got %v, want %v", err, errRuntime)
		}
		return nil
	})
}

func TestToThread_test_to_thread_once(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var calls atomic.Int32
		asyncio.ToThread(ctx, func(context.Context) (int, error) { calls.Add(1); return 0, nil })
		if n := calls.Load(); n != 1 {
			t.Errorf("calls.Load: got %d calls; want n == 1", n)
		}
		return nil
	})
}

func TestToThread_test_to_thread_concurrent(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var calls atomic.Int32
		var futs []asyncio.AwaitableOf[int]
		for range 10 {
			futs = append(futs, asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
				return asyncio.ToThread(ctx, func(context.Context) (int, error) { calls.Add(1); return 0, nil })
			}))
		}
		asyncio.Await(ctx, asyncio.Gather(ctx, futs...))
		if n := calls.Load(); n != 10 {
			t.Errorf("calls.Load: got %d calls; want n == 10", n)
		}
		return nil
	})
}

type ctxKey struct{}

func TestToThread_test_to_thread_contextvars(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		task := asyncio.CreateTask(context.WithValue(ctx, ctxKey{}, "parrot"), func(ctx context.Context) (any, error) {
			return asyncio.ToThread(ctx, func(ctx context.Context) (any, error) { return ctx.Value(ctxKey{}), nil })
		})
		if v, err := asyncio.Await(ctx, task); v != "parrot" || err != nil {
			t.Errorf("got %v, %v; want v == \"parrot\" && err == nil", v, err)
		}
		return nil
	})
}

// test_events.py test_run_in_executor: fn runs off the loop; in Go its
// ctx carries no loop.
func TestRunInExecutor_test_run_in_executor(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		f2 := asyncio.RunInExecutor(ctx, nil, func(ctx context.Context) (string, error) {
			if _, err := asyncio.GetRunningLoop(ctx); !errors.Is(err, asyncio.ErrNoRunningLoop) {
				return "", fmt.Errorf("fn sees a loop: %v", err)
			}
			return "yo", nil
		})
		if res, err := asyncio.Await(ctx, f2); res != "yo" || err != nil {
			t.Errorf("got %v, %v; want res == \"yo\" && err == nil", res, err)
		}
		return nil
	})
}

// test_events.py test_run_in_executor_cancel: the result of a cancelled
// call is dropped. In Go, the cancellation also reaches fn's ctx.
func TestRunInExecutor_test_run_in_executor_cancel(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		saw := make(chan error, 1)
		f2 := asyncio.RunInExecutor(ctx, nil, func(ctx context.Context) (int, error) {
			err := trio.Sleep(ctx, 50*time.Millisecond)
			saw <- err
			return 1, err
		})
		synctest.Wait() // fn runs, in trio.Sleep
		f2.Cancel("")
		asyncio.Sleep(ctx, 400*time.Millisecond)
		select {
		case err := <-saw:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("fn's ctx: got %v, want an error matching context.Canceled", err)
			}
		default:
			t.Error("fn still running")
		}
		if !f2.Cancelled() {
			t.Errorf("got f2 %v; want f2.Cancelled()", f2)
		}
		return nil
	})
}

// dummyExecutor refuses all work (test_base_events.py's DummyExecutor).
type dummyExecutor struct{}

var errDummy = errors.New("cannot submit into a dummy executor")

func (dummyExecutor) Submit(func()) error { return errDummy }

// test_base_events.py test_set_default_executor: the executor set is the
// one RunInExecutor uses.
func TestRunInExecutor_test_set_default_executor(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		loop.SetDefaultExecutor(dummyExecutor{})
		if _, err := asyncio.ToThread(ctx, func(context.Context) (int, error) { return 0, nil }); err != errDummy {
			t.Errorf("err: got %v, want %v", err, errDummy)
		}
		loop.SetDefaultExecutor(nil)
		if v, err := asyncio.ToThread(ctx, func(context.Context) (int, error) { return 1, nil }); v != 1 || err != nil {
			t.Errorf("got %v, %v; want v == 1 && err == nil", v, err)
		}
		return nil
	})
}

// Go's own: a PoolExecutor runs at most its maximum at once, FIFO, and
// Shutdown waits for the work submitted and refuses more.
func TestPoolExecutor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := asyncio.NewPoolExecutor(2)
		var mu sync.Mutex
		running, ran := 0, 0
		release := make(chan struct{})
		for range 5 {
			if err := p.Submit(func() {
				mu.Lock()
				running++
				mu.Unlock()
				<-release
				mu.Lock()
				running--
				ran++
				mu.Unlock()
			}); err != nil {
				t.Fatalf("p.Submit: got %v, want nil", err)
			}
		}
		synctest.Wait() // every goroutine of the pool is blocked
		mu.Lock()
		if running != 2 {
			t.Errorf("got %d running at once; want running == 2", running)
		}
		mu.Unlock()
		close(release)
		if err := p.Shutdown(context.Background()); err != nil {
			t.Fatalf("p.Shutdown: got %v, want nil", err)
		}
		if ran != 5 {
			t.Errorf("got %d ran; want ran == 5", ran)
		}
		if err := p.Submit(func() {}); !errors.Is(err, asyncio.ErrExecutorShutdown) {
			t.Errorf("Submit after Shutdown: got %v, want an error matching asyncio.ErrExecutorShutdown", err)
		}
	})
	// One worker: FIFO.
	p := asyncio.NewPoolExecutor(1)
	var order []int
	for i := range 5 {
		p.Submit(func() { order = append(order, i) })
	}
	p.Shutdown(context.Background())
	if !slices.Equal(order, []int{0, 1, 2, 3, 4}) {
		t.Errorf("order: got %v, want %v", order, []int{0, 1, 2, 3, 4})
	}
	if n := asyncio.DefaultMaxWorkers(); n < 5 || n > 32 {
		t.Errorf("got DefaultMaxWorkers %d; want n >= 5 && n <= 32", n)
	}
}

func TestPoolExecutor_ShutdownTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := asyncio.NewPoolExecutor(1)
		release := make(chan struct{})
		p.Submit(func() { <-release })
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := p.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Shutdown: got %v, want an error matching context.DeadlineExceeded", err)
		}
		close(release)
		if err := p.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: got %v, want nil", err)
		}
	})
}

// ShutdownDefaultExecutor with a ctx whose deadline passes while a
// function of the default executor still runs warns as CPython does, and
// returns; the executor takes no more work; the function goes on, and the
// loop's close still waits for it.
func TestBaseEvents_test_shutdown_default_executor_timeout(t *testing.T) {
	logs := captureSlog(t)
	var done atomic.Bool
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		release := make(chan struct{})
		fut := asyncio.RunInExecutor(ctx, nil, func(context.Context) (int, error) {
			<-release
			time.Sleep(time.Second) // winds down slowly
			done.Store(true)
			return 0, nil
		})
		sctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		defer cancel()
		start := time.Now()
		if err := loop.ShutdownDefaultExecutor(sctx); err != nil {
			t.Errorf("ShutdownDefaultExecutor: got %v, want nil (a warning only)", err)
		}
		if d := time.Since(start); d != 10*time.Millisecond {
			t.Errorf("ShutdownDefaultExecutor returned after %v; want it to return at the deadline, 10ms", d)
		}
		if fut.Done() {
			t.Errorf("the function ended before its release: fut.Done() got true, want false")
		}
		if s := logs(); !strings.Contains(s, "level=WARN") || !strings.Contains(s, "the executor did not finish joining its goroutines within 10ms") {
			t.Errorf("log: got %q; want a warning that the executor did not finish joining its goroutines within 10ms", s)
		}
		late := asyncio.RunInExecutor(ctx, nil, func(context.Context) (int, error) { return 0, nil })
		if _, err := asyncio.Await(ctx, late); !errors.Is(err, asyncio.ErrExecutorShutdown) {
			t.Errorf("RunInExecutor after ShutdownDefaultExecutor: got %v, want an error matching ErrExecutorShutdown", err)
		}
		close(release) // the function is still running when the task ends
		return nil
	})
	if !done.Load() {
		t.Errorf("an executor function outlived OpenLoop: done.Load() got false, want true")
	}
}

// Without a deadline ShutdownDefaultExecutor waits for the functions of
// the default executor, queued ones included, without a warning; a second
// call returns at once. An executor set with SetDefaultExecutor is not
// shut down.
func TestShutdownDefaultExecutor_waits(t *testing.T) {
	logs := captureSlog(t)
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var futs []*asyncio.Future[int]
		for i := range 2 * asyncio.DefaultMaxWorkers() {
			futs = append(futs, asyncio.RunInExecutor(ctx, nil, func(context.Context) (int, error) {
				time.Sleep(time.Second)
				return i, nil
			}))
		}
		if err := loop.ShutdownDefaultExecutor(ctx); err != nil {
			t.Errorf("ShutdownDefaultExecutor: got %v, want nil", err)
		}
		for i, f := range futs {
			if v, err := f.Result(); v != i || err != nil {
				t.Errorf("function %d: got %v, %v; want %d, nil", i, v, err, i)
			}
		}
		if err := loop.ShutdownDefaultExecutor(ctx); err != nil {
			t.Errorf("second ShutdownDefaultExecutor: got %v, want nil", err)
		}
		if s := logs(); strings.Contains(s, "did not finish") {
			t.Errorf("log: got %q, want no warning", s)
		}
		return nil
	})
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		p := asyncio.NewPoolExecutor(1)
		defer p.Shutdown(context.Background())
		loop.SetDefaultExecutor(p)
		if err := loop.ShutdownDefaultExecutor(ctx); err != nil {
			t.Errorf("ShutdownDefaultExecutor: got %v, want nil", err)
		}
		if err := p.Submit(func() {}); err != nil {
			t.Errorf("the executor set with SetDefaultExecutor was shut down: Submit got %v, want nil", err)
		}
		if _, err := asyncio.Await(ctx, asyncio.RunInExecutor(ctx, nil, func(context.Context) (int, error) { return 0, nil })); !errors.Is(err, asyncio.ErrExecutorShutdown) {
			t.Errorf("RunInExecutor(nil) after ShutdownDefaultExecutor: got %v, want an error matching ErrExecutorShutdown", err)
		}
		return nil
	})
}

// Go's own: a panic in fn fails the future with a *trio.PanicError, and
// flavor mistakes are errors.
func TestRunInExecutor_PanicAndFlavor(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.ToThread(ctx, func(context.Context) (int, error) { panic("boom") })
		if pe, ok := err.(*trio.PanicError); !ok || pe.Value != "boom" {
			t.Errorf("got err %v; want ok && pe.Value == \"boom\"", err)
		}
		return nil
	})
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		ran := false
		_, err := asyncio.ToThread(ctx, func(context.Context) (int, error) { ran = true; return 0, nil })
		if !errors.Is(err, asyncio.ErrAwaitOutsideTask) || ran {
			t.Errorf("ToThread from trio code: got %v, ran %v; want errors.Is(err, asyncio.ErrAwaitOutsideTask) && !ran", err, ran)
		}
	})
}

// Go's own: when the loop closes, the ctx of the functions still running
// is cancelled, and functions not started never start.
func TestRunInExecutor_LoopCloseCancels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		saw := make(chan error, 1)
		first := make(chan struct{})
		var started atomic.Int32
		withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
			onLoop(ctx, loop, func(ctx context.Context) {
				loop.SetDefaultExecutor(asyncio.NewPoolExecutor(1))
				asyncio.RunInExecutor(ctx, nil, func(ctx context.Context) (int, error) {
					started.Add(1)
					close(first)
					<-ctx.Done()
					saw <- ctx.Err()
					return 0, nil
				})
				asyncio.RunInExecutor(ctx, nil, func(ctx context.Context) (int, error) {
					started.Add(1)
					return 0, nil
				})
			})
			<-first
		})
		if err := <-saw; !errors.Is(err, context.Canceled) {
			t.Errorf("fn's ctx: got %v, want an error matching context.Canceled", err)
		}
		synctest.Wait()
		if n := started.Load(); n != 1 {
			t.Errorf("started.Load: got %d functions started; want n == 1", n)
		}
	})
}

// The block's teardown quarantines the executor too (as
// TestS3_exit_order_and_quarantine checks for the rest): once OpenLoop has
// returned, no function of its default executor runs.
func TestRunInExecutor_QuarantineAtClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var done atomic.Bool
		started := make(chan struct{})
		withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
			onLoop(ctx, loop, func(ctx context.Context) {
				asyncio.RunInExecutor(ctx, nil, func(ctx context.Context) (int, error) {
					close(started)
					<-ctx.Done()
					time.Sleep(time.Second) // winds down slowly
					done.Store(true)
					return 0, nil
				})
			})
			<-started
		})
		if !done.Load() {
			t.Errorf("an executor function outlived OpenLoop: done.Load() got false, want true")
		}
	})
}

// A panic in an executor function whose future nobody can retrieve any
// more (cancelled first) goes to the exception handler instead of
// vanishing.
func TestRunInExecutor_panic_after_cancel_reaches_handler(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		rec := newRecorder(loop)
		release := make(chan struct{})
		started := make(chan struct{})
		runTask(ctx, loop, func(ctx context.Context) (int, error) {
			f := asyncio.RunInExecutor(ctx, nil, func(context.Context) (int, error) {
				close(started)
				<-release
				panic("late boom")
			})
			<-started // blocks the loop a moment: this test's only concern
			f.Cancel("")
			return 0, nil
		})
		close(release)
		select {
		case ec := <-rec.ch:
			var pe *trio.PanicError
			if !errors.As(ec.Err, &pe) || !strings.Contains(pe.Error(), "late boom") {
				t.Errorf("handler got %v, want the executor's panic", ec.Err)
			}
		case <-time.After(10 * time.Second):
			t.Error("the executor's panic never reached the exception handler")
		}
	})
}

// A panic in an executor function that ends while the loop closes fails
// the OpenLoop block.
func TestRunInExecutor_panic_during_teardown_fails_block(t *testing.T) {
	err := openLoopErr(func(ctx context.Context, loop *asyncio.Loop) {
		started := make(chan struct{})
		runTask(ctx, loop, func(ctx context.Context) (int, error) {
			asyncio.RunInExecutor(ctx, nil, func(ctx context.Context) (int, error) {
				close(started)
				<-ctx.Done() // cancelled by the loop's close
				panic("boom at close")
			})
			<-started
			return 0, nil
		})
	})
	var pe *trio.PanicError
	if !errors.As(err, &pe) || !strings.Contains(pe.Error(), "boom at close") {
		t.Errorf("OpenLoop: got %v, want the executor's panic", err)
	}
}
