package asyncio_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// Helpers of the tests transcribed from CPython's test_locks.py and
// test_queues.py. They run on the loop: they report with t.Errorf, never
// t.Fatal (see helpers_test.go).

// spawn is asyncio.create_task for a coroutine with no result.
func spawn(ctx context.Context, fn func(ctx context.Context) error) *asyncio.Task[struct{}] {
	return asyncio.CreateTask(ctx, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, fn(ctx)
	})
}

// spawnN creates n tasks running fn (BarrierTests.make_tasks).
func spawnN(ctx context.Context, n int, fn func(ctx context.Context) error) []*asyncio.Task[struct{}] {
	ts := make([]*asyncio.Task[struct{}], n)
	for i := range ts {
		ts[i] = spawn(ctx, fn)
	}
	return ts
}

// await waits for a task and returns its error.
func await[T any](ctx context.Context, task *asyncio.Task[T]) error {
	_, err := asyncio.Await(ctx, task)
	return err
}

// gather awaits every task in turn and returns their errors
// (asyncio.gather(..., return_exceptions=True)).
func gather[T any](ctx context.Context, tasks ...*asyncio.Task[T]) []error {
	errs := make([]error, len(tasks))
	for i, task := range tasks {
		errs[i] = await(ctx, task)
	}
	return errs
}

// gatherOK awaits the tasks and reports errors: asyncio.gather without
// return_exceptions, which would raise the first.
func gatherOK[T any](t *testing.T, ctx context.Context, tasks ...*asyncio.Task[T]) {
	t.Helper()
	for _, err := range gather(ctx, tasks...) {
		expectNoErr(t, err, "task")
	}
}

// tick is "await asyncio.sleep(0)": one iteration of the loop.
func tick(t *testing.T, ctx context.Context) {
	t.Helper()
	if err := asyncio.Sleep(ctx, 0); err != nil {
		t.Errorf("Sleep(0): got %v, want nil", err)
	}
}

// callSoonCancel is loop.call_soon(task.cancel).
func callSoonCancel(ctx context.Context, task asyncio.AnyTask) {
	asyncio.CurrentTask(ctx).Loop().CallSoon(func(context.Context) { task.Cancel("") })
}

// withTimeout runs fn in the current task and cancels the task if fn takes
// longer than d, turning that cancellation into a *TimeoutError (a simple
// asyncio.timeout, which is also how 3.12's asyncio.wait_for works).
func withTimeout(ctx context.Context, d time.Duration, fn func() error) error {
	task := asyncio.CurrentTask(ctx)
	fired := false
	h := task.Loop().CallLater(d, func(context.Context) {
		fired = true
		task.Cancel("timeout")
	})
	err := fn()
	h.Cancel()
	if fired && errors.Is(err, asyncio.ErrCancelled) && task.Uncancel() == 0 {
		return &asyncio.TimeoutError{}
	}
	return err
}

func expect[T comparable](t *testing.T, got, want T, what string) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

func expectSlice[T comparable](t *testing.T, got, want []T, what string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

func expectErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want an error matching %v", what, err, target)
	}
}

func expectNoErr(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: got error %v, want nil", what, err)
	}
}

// count counts the true values of bs.
func count(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}
