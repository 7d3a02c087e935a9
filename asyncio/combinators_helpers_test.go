package asyncio_test

import (
	"context"
	"errors"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// Helpers of the tests transcribed from CPython's test_asyncio (gather,
// wait, wait_for, shield, as_completed, task groups, timeouts, executor).

// runLoop lets the loop run what is ready, and what that schedules, a few
// rounds deep (GatherTestsBase._run_loop). runBriefly is in helpers_test.go.
func runLoop(ctx context.Context) {
	for range 5 {
		runBriefly(ctx)
	}
}

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

var (
	errZeroDivision = errors.New("ZeroDivisionError")
	errRuntime      = errors.New("RuntimeError")
	errMy           = errors.New("MyExc")
)

// callCount is a done-callback that counts its calls (test_utils.MockCallback).
type callCount struct{ n int }

func (c *callCount) cb(context.Context) { c.n++ }
