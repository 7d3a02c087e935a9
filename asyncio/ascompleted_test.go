package asyncio_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// Transcribed from CPython's test_tasks.py (BaseTaskTests, as_completed).
// Python's as_completed yields awaitables to await; Go's AsCompleted is
// a range-over-func iterator that yields the outcomes themselves.
//
// Not transcribed:
//   - test_as_completed_reverse_wait, test_as_completed_concurrent: they
//     await the yielded awaitables out of order or concurrently; Go's
//     iterator yields outcomes, in order.
//   - test_as_completed_invalid_args: a single future or a coroutine
//     instead of a collection is a compile error in Go.

func TestAsCompleted_test_as_completed(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		start := time.Now()
		a := sleeper(ctx, 10*time.Millisecond, "a")
		b := sleeper(ctx, 10*time.Millisecond, "b")
		c := sleeper(ctx, 150*time.Millisecond, "c")
		foo := asyncio.CreateTask(ctx, func(ctx context.Context) ([]string, error) {
			var values []string
			for v, err := range asyncio.AsCompleted(ctx, []*asyncio.Task[string]{b, c, a}) {
				if err != nil {
					return nil, err
				}
				values = append(values, v)
			}
			return values, nil
		})
		res, err := asyncio.Await(ctx, foo)
		if err != nil || len(res) != 3 || !sameSet(res[:2], "a", "b") || res[2] != "c" || time.Since(start) != 150*time.Millisecond {
			t.Errorf("got res %v, %v, at %v; want err == nil && len(res) == 3 && sameSet(res[:2], \"a\", \"b\") && res[2] == \"c\" && time.Since(start) == 150 * time.Millisecond", res, err, time.Since(start))
		}
		return nil
	})
}

func TestAsCompleted_test_as_completed_with_timeout(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		start := time.Now()
		a := sleeper(ctx, 100*time.Millisecond, "a")
		b := sleeper(ctx, 150*time.Millisecond, "b")
		type value struct {
			v   string
			err error
		}
		var values []value
		for v, err := range asyncio.AsCompleted(ctx, []*asyncio.Task[string]{a, b}, asyncio.WaitTimeout(120*time.Millisecond)) {
			values = append(values, value{v, err})
		}
		if len(values) != 2 || values[0] != (value{"a", nil}) || !errors.Is(values[1].err, asyncio.ErrTimeout) {
			t.Errorf("got values %v; want len(values) == 2 && values[0] == (value{\"a\", nil}) && errors.Is(values[1].err, asyncio.ErrTimeout)", values)
		}
		if time.Since(start) != 120*time.Millisecond {
			t.Errorf("at: got %v, want %v", time.Since(start), 120*time.Millisecond)
		}
		b.Cancel("")
		return nil
	})
}

func TestAsCompleted_test_as_completed_with_unused_timeout(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		a := sleeper(ctx, 10*time.Millisecond, "a")
		for v, err := range asyncio.AsCompleted(ctx, []*asyncio.Task[string]{a}, asyncio.WaitTimeout(time.Second)) {
			if v != "a" || err != nil {
				t.Errorf("got %v, %v; want v == \"a\" && err == nil", v, err)
			}
		}
		return nil
	})
}

func TestAsCompleted_test_as_completed_duplicate_coroutines(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		coro := func(s string) func(context.Context) (string, error) {
			return func(context.Context) (string, error) { return s, nil }
		}
		c := asyncio.CreateTask(ctx, coro("ham"))
		var result []string
		for v, err := range asyncio.AsCompleted(ctx, []*asyncio.Task[string]{c, c, asyncio.CreateTask(ctx, coro("spam"))}) {
			if err != nil {
				t.Errorf("err: got %v, want nil", err)
			}
			result = append(result, v)
		}
		if !sameSet(result, "ham", "spam") {
			t.Errorf("got result %v; want sameSet(result, \"ham\", \"spam\")", result)
		}
		return nil
	})
}

// test_as_completed_coroutine_without_loop: ranging outside a task
// yields ErrAwaitOutsideTask, once.
func TestAsCompleted_test_as_completed_coroutine_without_loop(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		f := asyncio.NewFuture[int](loop)
		n := 0
		for _, err := range asyncio.AsCompleted(ctx, []*asyncio.Future[int]{f}) {
			n++
			if !errors.Is(err, asyncio.ErrAwaitOutsideTask) {
				t.Errorf("err: got %v, want an error matching asyncio.ErrAwaitOutsideTask", err)
			}
		}
		if n != 1 {
			t.Errorf("got %d iterations; want n == 1", n)
		}
	})
}

func TestAsCompleted_test_as_completed_coroutine_use_running_loop(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var got []int
		for v, err := range asyncio.AsCompleted(ctx, []*asyncio.Task[int]{sleeper(ctx, 0, 42)}) {
			if err != nil {
				t.Errorf("err: got %v, want nil", err)
			}
			got = append(got, v)
		}
		if !slices.Equal(got, []int{42}) {
			t.Errorf("got: got %v, want %v", got, []int{42})
		}
		return nil
	})
}

// Go's own: errors come in completion order, a cancellation of the
// ranging task is one iteration, and leaving the range early unhooks
// everything (the awaitables left run on untouched).
func TestAsCompleted_ErrorsCancelAndBreak(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		bad := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			return 0, errors.Join(asyncio.Sleep(ctx, time.Millisecond), errZeroDivision)
		})
		slow := sleeper(ctx, time.Second, 2)
		task := asyncio.CreateTask(ctx, func(ctx context.Context) ([]error, error) {
			var errs []error
			for _, err := range asyncio.AsCompleted(ctx, []*asyncio.Task[int]{slow, bad}) {
				errs = append(errs, err)
			}
			return errs, nil
		})
		asyncio.Sleep(ctx, 10*time.Millisecond)
		task.Cancel("")
		errs, err := asyncio.Await(ctx, task)
		if err != nil || len(errs) != 2 || !errors.Is(errs[0], errZeroDivision) || !errors.Is(errs[1], asyncio.ErrCancelled) {
			t.Errorf("got errs %v, %v; want err == nil && len(errs) == 2 && errors.Is(errs[0], errZeroDivision) && errors.Is(errs[1], asyncio.ErrCancelled)", errs, err)
		}
		if slow.Done() {
			t.Errorf("slow was touched: slow.Done() got true, want false")
		}
		for range asyncio.AsCompleted(ctx, []*asyncio.Task[int]{slow}, asyncio.WaitTimeout(time.Millisecond)) {
			break
		}
		if v, err := asyncio.Await(ctx, slow); v != 2 || err != nil {
			t.Errorf("got slow %v, %v; want v == 2 && err == nil", v, err)
		}
		return nil
	})
}

func TestAsCompleted_test_as_completed_resume_iterator(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		coro := func(i int) func(ctx context.Context) (int, error) {
			return func(ctx context.Context) (int, error) { return i, asyncio.Sleep(ctx, 0) }
		}
		tasks := []*asyncio.Task[int]{asyncio.CreateTask(ctx, coro(0)), asyncio.CreateTask(ctx, coro(1)), asyncio.CreateTask(ctx, coro(2))}
		it := asyncio.AsCompleted(ctx, tasks)
		var values []int
		for v, err := range it {
			if err != nil {
				t.Errorf("first range: %v", err)
			}
			values = append(values, v)
			break
		}
		for v, err := range it {
			if err != nil {
				t.Errorf("second range: %v", err)
			}
			values = append(values, v)
		}
		slices.Sort(values)
		if !slices.Equal(values, []int{0, 1, 2}) {
			t.Errorf("values %v, want each of 0, 1, 2 once", values)
		}
		for range it {
			t.Errorf("a third range yielded again")
		}
		return nil
	})
}

// Resuming after the awaitables not yet yielded completed in between, and
// after the timeout, which runs across the range loops.
func TestAsCompleted_resume_after_completion_and_timeout(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		fast := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) { return 1, asyncio.Sleep(ctx, time.Second) })
		mid := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) { return 2, asyncio.Sleep(ctx, 2*time.Second) })
		slow := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) { return 3, asyncio.Sleep(ctx, time.Hour) })
		it := asyncio.AsCompleted(ctx, []*asyncio.Task[int]{slow, mid, fast}, asyncio.WaitTimeout(10*time.Second))
		for v, err := range it {
			if v != 1 || err != nil {
				t.Errorf("first: %v, %v", v, err)
			}
			break
		}
		asyncio.Sleep(ctx, 5*time.Second) // mid completes while nobody ranges
		var got []string
		for v, err := range it {
			got = append(got, fmt.Sprint(v, " ", err != nil && errors.Is(err, asyncio.ErrTimeout)))
		}
		if want := []string{"2 false", "0 true"}; !slices.Equal(got, want) {
			t.Errorf("resumed range: %q, want %q", got, want)
		}
		slow.Cancel("")
		return nil
	})
}
