package asyncio_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// The package's test helpers, one per need:
//
//   - a loop for the test: withLoop (the test's code is the block's body),
//     loopBubble (the same on synctest's fake clock), openLoopErr (the
//     test checks OpenLoop's error), mainTask (the test's code is the
//     loop's main task, on the fake clock);
//   - reaching the loop from the block's body: onLoop (a callback),
//     runTask (a task, and its result);
//   - inside a task: runBriefly (let the loop run two iterations);
//   - observing: newRecorder (the exception handler's reports),
//     panicValue and mustPanic (what a call panics with).
//
// Helpers for one family of tests sit beside it: syncprims_helpers_test.go
// (locks and queues), combinators_helpers_test.go (gather, wait, …), the
// top of bridge_test.go (the boundary's tests).
//
// Code running on the loop (callbacks, coroutines) must not call
// t.Fatal/t.FailNow (runtime.Goexit on the loop's goroutines): it reports
// with t.Error and returns.

// withLoop opens a loop (OpenLoop with a background ctx) and runs body
// as its block's body, trio-flavored code; it fails the test if OpenLoop
// returns an error. body's ctx and loop are those of the block.
func withLoop(t testing.TB, body func(ctx context.Context, loop *asyncio.Loop)) {
	t.Helper()
	if err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		body(ctx, loop)
		return nil
	}); err != nil {
		t.Errorf("OpenLoop: got %v, want nil", err)
	}
}

// loopBubble is withLoop inside a testing/synctest bubble: the loop's
// timers run on the bubble's fake clock, so times measured with
// time.Since or loop.Time() are exact. body gets the bubble's t.
func loopBubble(t *testing.T, body func(t *testing.T, ctx context.Context, loop *asyncio.Loop)) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		t.Helper()
		withLoop(t, func(ctx context.Context, loop *asyncio.Loop) { body(t, ctx, loop) })
	})
}

// openLoopErr is withLoop for tests that check OpenLoop's error
// themselves: it returns it.
func openLoopErr(body func(ctx context.Context, loop *asyncio.Loop)) error {
	return asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		body(ctx, loop)
		return nil
	})
}

// mainTask runs main as the main task of a fresh loop, as CPython's
// asyncio.run(main()) or an IsolatedAsyncioTestCase method does, and
// fails the test with the error main returns. It runs inside a
// testing/synctest bubble: the loop's timers run on the bubble's fake
// clock, so sleeps take no real time and loop.Time() differences are
// exact. main gets the bubble's t; it runs on the loop, so it reports
// with t.Error, never t.Fatal.
//
// Tests that check the main task's outcome themselves use withLoop and
// runTask.
func mainTask(t *testing.T, main func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		t.Helper()
		withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
			if eagerTestTasks.Load() {
				loop.SetTaskFactory(asyncio.EagerTaskFactory)
			}
			_, err := runTask(ctx, loop, func(ctx context.Context) (struct{}, error) {
				return struct{}{}, main(t, ctx, loop)
			})
			if err != nil {
				t.Errorf("main task: got error %v, want nil", err)
			}
		})
	})
}

// onLoop runs fn on loop as a callback, from trio-flavored code, and
// waits for it to return (or for ctx to end).
func onLoop(ctx context.Context, loop *asyncio.Loop, fn func(ctx context.Context)) {
	done := make(chan struct{})
	if _, err := loop.CallSoonThreadsafe(func(ctx context.Context) {
		defer close(done)
		fn(ctx)
	}); err != nil {
		panic(err)
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// runMain opens a loop, runs main as a task on it (withLoop and runTask)
// and returns main's outcome once the loop has closed, for tests and
// benchmarks that check it themselves, in real time.
func runMain[T any](t testing.TB, main func(ctx context.Context) (T, error)) (T, error) {
	t.Helper()
	var v T
	var err error
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		v, err = runTask(ctx, loop, main)
	})
	return v, err
}

// runTask runs coro as a task on loop, from trio-flavored code, and waits
// for its result. Unlike RunAsyncio it takes the loop explicitly, so ctx
// need not be the loop's: if ctx ends first, runTask returns ctx.Err()
// and leaves the task running.
func runTask[T any](ctx context.Context, loop *asyncio.Loop, coro func(ctx context.Context) (T, error)) (T, error) {
	type res struct {
		v   T
		err error
	}
	ch := make(chan res, 1)
	_, err := loop.CallSoonThreadsafe(func(ctx context.Context) {
		task := asyncio.CreateTask(ctx, coro)
		task.AddDoneCallback(func(context.Context) {
			v, err := task.Result()
			ch <- res{v, err}
		})
	})
	if err != nil {
		var zero T
		return zero, err
	}
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// runBriefly lets the loop run two iterations, as CPython's
// test_utils.run_briefly does (it runs a trivial task to completion).
func runBriefly(ctx context.Context) {
	for range 2 {
		if err := asyncio.Sleep(ctx, 0); err != nil {
			panic(err)
		}
	}
}

// recorder collects what the exception handler receives.
type recorder struct {
	ch chan asyncio.ExceptionContext
}

// newRecorder sets an exception handler on loop that records every
// context it receives (up to 100 not yet read from r.ch).
func newRecorder(loop *asyncio.Loop) *recorder {
	r := &recorder{ch: make(chan asyncio.ExceptionContext, 100)}
	loop.SetExceptionHandler(func(_ *asyncio.Loop, ec asyncio.ExceptionContext) { r.ch <- ec })
	return r
}

// panicValue calls fn and returns the value it panics with, failing the
// test (with what, naming the call) if it returns without panicking. It
// uses only t.Error, so it may run on the loop.
func panicValue(t *testing.T, what string, fn func()) (v any) {
	t.Helper()
	defer func() {
		t.Helper()
		v = recover()
		if v == nil {
			t.Errorf("%s: got no panic, want one", what)
		}
	}()
	fn()
	return nil
}

// mustPanic calls fn and returns the message (fmt.Sprint) of the value it
// panics with, failing the test if it returns without panicking. Tests
// check the message with strings.Contains; tests that look at the value
// itself (errors.Is, a type) use panicValue.
func mustPanic(t *testing.T, fn func()) (msg string) {
	t.Helper()
	return fmt.Sprint(panicValue(t, "the call", fn))
}
