package asyncio_test

// Transcriptions of CPython's test_futures.py wrap_future cases
// (BaseFutureTests.test_wrap_future*), named TestFutures_<case>.

import (
	"context"
	"errors"
	"testing"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

func TestFutures_test_wrap_future(t *testing.T) {
	// A goroutine's work (CPython: an executor's) as a loop future.
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		f1 := asyncio.NewConcurrentFuture[string]()
		go func() { f1.SetResult("oi") }()
		f2 := asyncio.WrapFuture(ctx, f1)
		res, err := asyncio.Await(ctx, f2)
		if res != "oi" || err != nil {
			t.Errorf("Await: %q, %v", res, err)
		}
		if !f1.Done() || !f2.Done() {
			t.Errorf("done: %v %v", f1.Done(), f2.Done())
		}
		if f2.Loop() != loop {
			t.Errorf("loop: %v", f2.Loop())
		}
		// An error goes across as well.
		f3 := asyncio.NewConcurrentFuture[string]()
		boom := errors.New("boom")
		go func() { f3.SetException(boom) }()
		if _, err := asyncio.Await(ctx, asyncio.WrapFuture(ctx, f3)); err != boom {
			t.Errorf("Await of a failed future: %v", err)
		}
		return nil
	})
}

func TestFutures_test_wrap_future_without_loop(t *testing.T) {
	msg := mustPanic(t, func() {
		asyncio.WrapFuture(context.Background(), asyncio.NewConcurrentFuture[int]())
	})
	if msg != asyncio.ErrNoRunningLoop.Error() {
		t.Errorf("panic: %q", msg)
	}
}

func TestFutures_test_wrap_future_use_running_loop(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		f1 := asyncio.NewConcurrentFuture[int]()
		f2 := asyncio.WrapFuture(ctx, f1)
		if f2.Loop() != loop {
			t.Errorf("loop: %v, want the running loop", f2.Loop())
		}
		f1.Cancel()
		asyncio.Await(ctx, f2)
		return nil
	})
}

func TestFutures_test_wrap_future_cancel(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		f1 := asyncio.NewConcurrentFuture[int]()
		f2 := asyncio.WrapFuture(ctx, f1)
		f2.Cancel("")
		runBriefly(ctx)
		if !f1.Cancelled() || !f2.Cancelled() {
			t.Errorf("cancelled: f1 %v, f2 %v", f1.Cancelled(), f2.Cancelled())
		}
		return nil
	})
}

func TestFutures_test_wrap_future_cancel2(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		f1 := asyncio.NewConcurrentFuture[int]()
		f2 := asyncio.WrapFuture(ctx, f1)
		f1.SetResult(42)
		f2.Cancel("")
		runBriefly(ctx)
		if f1.Cancelled() {
			t.Errorf("f1 cancelled")
		}
		if v, err := f1.Result(ctx); v != 42 || err != nil {
			t.Errorf("f1.Result: %v, %v", v, err)
		}
		if !f2.Cancelled() {
			t.Errorf("f2 not cancelled")
		}
		return nil
	})
}

// The other way round: the concurrent future cancelled by its goroutine
// cancels the loop future, with the message.
func TestWrapFuture_cancelled_concurrent_future_cancels_the_loop_future(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		f1 := asyncio.NewConcurrentFuture[int]()
		f2 := asyncio.WrapFuture(ctx, f1)
		go f1.Cancel()
		_, err := asyncio.Await(ctx, f2)
		if !errors.Is(err, asyncio.ErrCancelled) || !f2.Cancelled() {
			t.Errorf("Await: %v", err)
		}
		return nil
	})
}

// A future of RunCoroutineThreadsafe wrapped on its own loop: cancelling
// the wrapper cancels the task behind it.
func TestWrapFuture_cancel_reaches_the_task_of_RunCoroutineThreadsafe(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		started := asyncio.NewFuture[struct{}](loop)
		var inner error
		cf := asyncio.RunCoroutineThreadsafe(loop, func(ctx context.Context) (int, error) {
			started.SetResult(struct{}{})
			inner = asyncio.Sleep(ctx, 1e12)
			return 0, inner
		})
		asyncio.Await(ctx, started)
		f := asyncio.WrapFuture(ctx, cf)
		f.Cancel("")
		for range 5 {
			runBriefly(ctx)
		}
		if !errors.Is(inner, asyncio.ErrCancelled) || !cf.Cancelled() {
			t.Errorf("task's sleep: %v; cf cancelled %v", inner, cf.Cancelled())
		}
		return nil
	})
}

func TestConcurrentFuture_SetResult_twice_and_callbacks(t *testing.T) {
	f := asyncio.NewConcurrentFuture[int]()
	var calls []string
	f.AddDoneCallback(func() { calls = append(calls, "a") })
	if err := f.SetResult(1); err != nil {
		t.Fatal(err)
	}
	f.AddDoneCallback(func() { calls = append(calls, "b") })
	if err := f.SetResult(2); !errors.Is(err, asyncio.ErrInvalidState) {
		t.Errorf("second SetResult: %v", err)
	}
	if err := f.SetException(errors.New("x")); !errors.Is(err, asyncio.ErrInvalidState) {
		t.Errorf("SetException after SetResult: %v", err)
	}
	if f.Cancel() {
		t.Errorf("Cancel of a done future reported true")
	}
	if v, err := f.Result(context.Background()); v != 1 || err != nil {
		t.Errorf("Result: %v, %v", v, err)
	}
	if len(calls) != 2 || calls[0] != "a" || calls[1] != "b" {
		t.Errorf("callbacks: %v", calls)
	}
}
