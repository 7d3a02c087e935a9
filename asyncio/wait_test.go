package asyncio_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// Transcribed from CPython's test_tasks.py (BaseTaskTests, wait). Times
// are the fake clock of a testing/synctest bubble, exact as CPython's
// test loop's.
//
// Not transcribed:
//   - test_wait_with_iterator_of_tasks, test_wait_generator: Wait takes a
//     slice; Go has no iterator-of-tasks argument to check.
//   - test_wait_invalid_args: a single future or a coroutine instead of
//     a collection is a compile error in Go.

// sameSet reports whether got holds exactly want, in any order.
func sameSet[A comparable](got []A, want ...A) bool {
	if len(got) != len(want) {
		return false
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			return false
		}
	}
	return true
}

func TestWait_test_wait(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		start := time.Now()
		a := sleeper(ctx, 100*time.Millisecond, 0)
		b := sleeper(ctx, 150*time.Millisecond, 0)
		foo := func(ctx context.Context) (int, error) {
			done, pending, err := asyncio.Wait(ctx, []*asyncio.Task[int]{b, a})
			if err != nil || !sameSet(done, a, b) || len(pending) != 0 {
				t.Errorf("got done %v, pending %v, err %v; want err == nil && sameSet(done, a, b) && len(pending) == 0", done, pending, err)
			}
			return 42, nil
		}
		if res, _ := asyncio.Await(ctx, asyncio.CreateTask(ctx, foo)); res != 42 || time.Since(start) != 150*time.Millisecond {
			t.Errorf("got res %v at %v; want res == 42 && time.Since(start) == 150 * time.Millisecond", res, time.Since(start))
		}
		// Doing it again takes no time and exercises a different path.
		if res, _ := asyncio.Await(ctx, asyncio.CreateTask(ctx, foo)); res != 42 || time.Since(start) != 150*time.Millisecond {
			t.Errorf("got res %v at %v; want res == 42 && time.Since(start) == 150 * time.Millisecond", res, time.Since(start))
		}
		return nil
	})
}

func TestWait_test_wait_duplicate_coroutines(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		coro := func(s string) func(context.Context) (string, error) {
			return func(context.Context) (string, error) { return s, nil }
		}
		c := asyncio.CreateTask(ctx, coro("test"))
		done, pending, err := asyncio.Wait(ctx, []*asyncio.Task[string]{c, c, asyncio.CreateTask(ctx, coro("spam"))})
		if err != nil || len(pending) != 0 || len(done) != 2 {
			t.Errorf("got done %v, pending %v, err %v; want err == nil && len(pending) == 0 && len(done) == 2", done, pending, err)
			return nil
		}
		var results []string
		for _, f := range done {
			v, _ := f.Result()
			results = append(results, v)
		}
		if !sameSet(results, "test", "spam") {
			t.Errorf("got results %v; want sameSet(results, \"test\", \"spam\")", results)
		}
		return nil
	})
}

func TestWait_test_wait_errors(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		panicValue(t, "Wait of an empty set", func() { asyncio.Wait(ctx, []asyncio.Awaitable{}) })
		s := sleeper(ctx, 10*time.Second, 0)
		panicValue(t, "Wait with ReturnWhen(-1)", func() { asyncio.Wait(ctx, []asyncio.Awaitable{s}, asyncio.ReturnWhen(-1)) })
		s.Cancel("")
		return nil
	})
}

func TestWait_test_wait_first_completed(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		start := time.Now()
		a := sleeper(ctx, 10*time.Second, 0)
		b := sleeper(ctx, 100*time.Millisecond, 0)
		done, pending, err := asyncio.Wait(ctx, []*asyncio.Task[int]{b, a}, asyncio.FirstCompleted)
		if err != nil || !sameSet(done, b) || !sameSet(pending, a) || a.Done() || !b.Done() || time.Since(start) != 100*time.Millisecond {
			t.Errorf("got done %v, pending %v, err %v, at %v; want err == nil && sameSet(done, b) && sameSet(pending, a) && !a.Done() && b.Done() && time.Since(start) == 100 * time.Millisecond", done, pending, err, time.Since(start))
		}
		a.Cancel("")
		return nil
	})
}

func TestWait_test_wait_really_done(t *testing.T) {
	// Some tasks in the pending list may have become done while their
	// callbacks have not all run yet.
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		a := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			return 0, asyncio.Sleep(ctx, 0)
		})
		b := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			asyncio.Sleep(ctx, 0)
			return 0, asyncio.Sleep(ctx, 0)
		})
		task := asyncio.CreateTask(ctx, func(ctx context.Context) ([]*asyncio.Task[int], error) {
			done, _, err := asyncio.Wait(ctx, []*asyncio.Task[int]{b, a}, asyncio.FirstCompleted)
			return done, err
		})
		done, err := asyncio.Await(ctx, task)
		if err != nil || !sameSet(done, a, b) || !a.Done() || !b.Done() {
			t.Errorf("got done %v, err %v; want err == nil && sameSet(done, a, b) && a.Done() && b.Done()", done, err)
		}
		return nil
	})
}

func TestWait_test_wait_first_exception(t *testing.T) {
	// FirstException, and a task already has an exception.
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		start := time.Now()
		a := sleeper(ctx, 10*time.Second, 0)
		b := asyncio.CreateTask(ctx, func(context.Context) (int, error) { return 0, errZeroDivision })
		done, pending, err := asyncio.Wait(ctx, []*asyncio.Task[int]{b, a}, asyncio.FirstException)
		if err != nil || !sameSet(done, b) || !sameSet(pending, a) || time.Since(start) != 0 {
			t.Errorf("got done %v, pending %v, err %v, at %v; want err == nil && sameSet(done, b) && sameSet(pending, a) && time.Since(start) == 0", done, pending, err, time.Since(start))
		}
		a.Cancel("")
		return nil
	})
}

func TestWait_test_wait_first_exception_in_wait(t *testing.T) {
	// FirstException, and an exception while waiting.
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		start := time.Now()
		a := sleeper(ctx, 10*time.Second, 0)
		b := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			asyncio.Sleep(ctx, 10*time.Millisecond)
			return 0, errZeroDivision
		})
		done, pending, err := asyncio.Wait(ctx, []*asyncio.Task[int]{b, a}, asyncio.FirstException)
		if err != nil || !sameSet(done, b) || !sameSet(pending, a) || time.Since(start) != 10*time.Millisecond {
			t.Errorf("got done %v, pending %v, err %v, at %v; want err == nil && sameSet(done, b) && sameSet(pending, a) && time.Since(start) == 10 * time.Millisecond", done, pending, err, time.Since(start))
		}
		a.Cancel("")
		return nil
	})
}

func TestWait_test_wait_with_exception(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		start := time.Now()
		a := sleeper(ctx, 100*time.Millisecond, 0)
		b := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			asyncio.Sleep(ctx, 150*time.Millisecond)
			return 0, errors.New("really")
		})
		foo := func(ctx context.Context) (int, error) {
			done, pending, err := asyncio.Wait(ctx, []*asyncio.Task[int]{b, a})
			failed := 0
			for _, f := range done {
				if f.Exception() != nil {
					failed++
				}
			}
			if err != nil || len(done) != 2 || len(pending) != 0 || failed != 1 {
				t.Errorf("got done %v, pending %v, err %v; want err == nil && len(done) == 2 && len(pending) == 0 && failed == 1", done, pending, err)
			}
			return 0, nil
		}
		for range 2 {
			asyncio.Await(ctx, asyncio.CreateTask(ctx, foo))
			if time.Since(start) != 150*time.Millisecond {
				t.Errorf("at: got %v, want %v", time.Since(start), 150*time.Millisecond)
			}
		}
		return nil
	})
}

func TestWait_test_wait_with_timeout(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		start := time.Now()
		a := sleeper(ctx, 100*time.Millisecond, 0)
		b := sleeper(ctx, 150*time.Millisecond, 0)
		asyncio.Await(ctx, asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			done, pending, err := asyncio.Wait(ctx, []*asyncio.Task[int]{b, a}, asyncio.WaitTimeout(110*time.Millisecond))
			if err != nil || !sameSet(done, a) || !sameSet(pending, b) {
				t.Errorf("got done %v, pending %v, err %v; want err == nil && sameSet(done, a) && sameSet(pending, b)", done, pending, err)
			}
			return 0, nil
		}))
		if time.Since(start) != 110*time.Millisecond {
			t.Errorf("at: got %v, want %v", time.Since(start), 110*time.Millisecond)
		}
		b.Cancel("")
		return nil
	})
}

func TestWait_test_wait_concurrent_complete(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		start := time.Now()
		a := sleeper(ctx, 100*time.Millisecond, 0)
		b := sleeper(ctx, 150*time.Millisecond, 0)
		// A task of its own, started after a and b, as
		// run_until_complete(asyncio.wait(…)) makes one.
		w := asyncio.CreateTask(ctx, func(ctx context.Context) ([2][]*asyncio.Task[int], error) {
			done, pending, err := asyncio.Wait(ctx, []*asyncio.Task[int]{b, a}, asyncio.WaitTimeout(100*time.Millisecond))
			return [2][]*asyncio.Task[int]{done, pending}, err
		})
		r, err := asyncio.Await(ctx, w)
		if err != nil || !sameSet(r[0], a) || !sameSet(r[1], b) || time.Since(start) != 100*time.Millisecond {
			t.Errorf("got done %v, pending %v, err %v, at %v; want err == nil && sameSet(r[0], a) && sameSet(r[1], b) && time.Since(start) == 100 * time.Millisecond", r[0], r[1], err, time.Since(start))
		}
		b.Cancel("")
		return nil
	})
}

func TestWait_test_yield_wait_does_not_shield_cancel(t *testing.T) {
	// Cancelling outer() makes Wait return early, and leaves inner()
	// running.
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		proof := 0
		waiter := asyncio.NewFuture[int](loop)
		inner := func(ctx context.Context) (int, error) {
			if _, err := asyncio.Await(ctx, waiter); err != nil {
				return 0, err
			}
			proof++
			return 0, nil
		}
		f := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			if _, _, err := asyncio.Wait(ctx, []*asyncio.Task[int]{asyncio.CreateTask(ctx, inner)}); err != nil {
				return 0, err
			}
			proof += 100
			return 0, nil
		})
		runBriefly(ctx)
		f.Cancel("")
		if _, err := asyncio.Await(ctx, f); !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("outer: got %v, want an error matching asyncio.ErrCancelled", err)
		}
		waiter.SetResult(0)
		runBriefly(ctx)
		if proof != 1 {
			t.Errorf("proof: got %d, want %d", proof, 1)
		}
		return nil
	})
}

// Go's own: flavor mistakes are errors, and mixed awaitables wait together.
func TestWait_Flavor(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		onLoop(ctx, loop, func(ctx context.Context) {
			f := asyncio.NewFuture[int](loop)
			if _, _, err := asyncio.Wait(ctx, []asyncio.Awaitable{f}); !errors.Is(err, asyncio.ErrAwaitOutsideTask) {
				t.Errorf("Wait from a callback: got %v, want an error matching asyncio.ErrAwaitOutsideTask", err)
			}
		})
	})
	withLoop(t, func(ctx context.Context, one *asyncio.Loop) {
		withLoop(t, func(ctx context.Context, other *asyncio.Loop) {
			foreign := asyncio.NewFuture[int](other)
			runTask(ctx, one, func(ctx context.Context) (int, error) {
				mine := asyncio.NewFuture[string](one)
				if _, _, err := asyncio.Wait(ctx, []asyncio.Awaitable{mine, foreign}); !errors.Is(err, asyncio.ErrForeignFuture) {
					t.Errorf("Wait with a foreign future: got %v, want an error matching asyncio.ErrForeignFuture", err)
				}
				mine.SetResult("x")
				done, pending, err := asyncio.Wait(ctx, []asyncio.Awaitable{mine, sleeper(ctx, time.Millisecond, 1.5)})
				if err != nil || len(done) != 2 || len(pending) != 0 {
					t.Errorf("got done %v, pending %v, err %v; want err == nil && len(done) == 2 && len(pending) == 0", done, pending, err)
				}
				return 0, nil
			})
		})
	})
}
