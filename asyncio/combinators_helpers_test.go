package asyncio_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// Helpers of the tests transcribed from CPython's test_asyncio (gather,
// wait, wait_for, shield, as_completed, task groups, timeouts, executor).

// aio runs main as the main task of a fresh loop inside a testing/synctest
// bubble, where time is the bubble's fake clock (CPython's test loops with
// their fake time). main reports with t.Error.
func aio(t *testing.T, main func(ctx context.Context, loop *asyncio.Loop)) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		_, err := runMain(t, func(ctx context.Context) (struct{}, error) {
			loop, err := asyncio.GetRunningLoop(ctx)
			if err != nil {
				return struct{}{}, err
			}
			if eagerTestTasks.Load() {
				loop.SetTaskFactory(asyncio.EagerTaskFactory)
			}
			main(ctx, loop)
			return struct{}{}, nil
		})
		if err != nil {
			t.Errorf("main task: %v", err)
		}
	})
}

// runLoop lets the loop run what is ready, and what that schedules, a few
// rounds deep (GatherTestsBase._run_loop). runBriefly is in helpers_test.go.
func runLoop(ctx context.Context) {
	for range 5 {
		runBriefly(ctx)
	}
}

// elapsed is the fake time since start, for CPython's loop.time() checks.
func elapsed(start time.Time) time.Duration { return time.Since(start) }

// sleeper is asyncio.sleep(d, result) as a task.
func sleeper[T any](ctx context.Context, d time.Duration, v T) *asyncio.Task[T] {
	return asyncio.CreateTask(ctx, func(ctx context.Context) (T, error) {
		return v, asyncio.Sleep(ctx, d)
	})
}

// waitTask is a task that awaits f (CoroutineGatherTests' wrapper).
func waitTask[T any](ctx context.Context, f asyncio.AwaitableOf[T]) *asyncio.Task[T] {
	return asyncio.CreateTask(ctx, func(ctx context.Context) (T, error) { return asyncio.Await(ctx, f) })
}

// recoverPanic returns what fn panicked with, nil if it did not.
func recoverPanic(fn func()) (v any) {
	defer func() { v = recover() }()
	fn()
	return nil
}

var (
	errZeroDivision = errors.New("ZeroDivisionError")
	errRuntime      = errors.New("RuntimeError")
	errMy           = errors.New("MyExc")
)

// callCount is a done-callback that counts its calls (test_utils.MockCallback).
type callCount struct{ n int }

func (c *callCount) cb(context.Context) { c.n++ }

// bubble runs f in a testing/synctest bubble.
func bubble(t *testing.T, f func(t *testing.T)) { synctest.Test(t, f) }
