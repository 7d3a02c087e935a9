package asyncio_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// Each example opens a loop and runs its asyncio-flavored main there
// with RunCoroutineThreadsafe, from the OpenLoop body (trio-flavored
// code).

func ExampleGather() {
	// square is a coroutine that sleeps n milliseconds and returns n*n.
	square := func(n int) func(ctx context.Context) (int, error) {
		return func(ctx context.Context) (int, error) {
			if err := asyncio.Sleep(ctx, time.Duration(n)*time.Millisecond); err != nil {
				return 0, err
			}
			return n * n, nil
		}
	}
	main := func(ctx context.Context) ([]int, error) {
		t1 := asyncio.CreateTask(ctx, square(5))
		t2 := asyncio.CreateTask(ctx, square(3))
		t3 := asyncio.CreateTask(ctx, square(4))
		return asyncio.Await(ctx, asyncio.Gather(ctx, t1, t2, t3))
	}
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		fmt.Println(asyncio.RunCoroutineThreadsafe(loop, main).Result(ctx))
		return nil
	})
	// Output: [25 9 16] <nil>
}

func ExampleGatherResults() {
	// square is a coroutine that sleeps n milliseconds and returns n*n.
	square := func(n int) func(ctx context.Context) (int, error) {
		return func(ctx context.Context) (int, error) {
			if err := asyncio.Sleep(ctx, time.Duration(n)*time.Millisecond); err != nil {
				return 0, err
			}
			return n * n, nil
		}
	}
	main := func(ctx context.Context) ([]asyncio.Outcome[int], error) {
		ok := asyncio.CreateTask(ctx, square(2))
		bad := asyncio.CreateTask(ctx, func(context.Context) (int, error) { return 0, errors.New("no luck") })
		return asyncio.Await(ctx, asyncio.GatherResults(ctx, ok, bad))
	}
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		outcomes, _ := asyncio.RunCoroutineThreadsafe(loop, main).Result(ctx)
		for _, o := range outcomes {
			fmt.Println(o.Value, o.Err)
		}
		return nil
	})
	// Output:
	// 4 <nil>
	// 0 no luck
}

func ExampleAsAny() {
	// square is a coroutine that sleeps n milliseconds and returns n*n.
	square := func(n int) func(ctx context.Context) (int, error) {
		return func(ctx context.Context) (int, error) {
			if err := asyncio.Sleep(ctx, time.Duration(n)*time.Millisecond); err != nil {
				return 0, err
			}
			return n * n, nil
		}
	}
	main := func(ctx context.Context) ([]any, error) {
		n := asyncio.CreateTask(ctx, square(3))
		s := asyncio.CreateTask(ctx, func(context.Context) (string, error) { return "three", nil })
		return asyncio.Await(ctx, asyncio.Gather(ctx, asyncio.AsAny(n), asyncio.AsAny(s)))
	}
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		fmt.Println(asyncio.RunCoroutineThreadsafe(loop, main).Result(ctx))
		return nil
	})
	// Output: [9 three] <nil>
}

func ExampleShield() {
	// square is a coroutine that sleeps n milliseconds and returns n*n.
	square := func(n int) func(ctx context.Context) (int, error) {
		return func(ctx context.Context) (int, error) {
			if err := asyncio.Sleep(ctx, time.Duration(n)*time.Millisecond); err != nil {
				return 0, err
			}
			return n * n, nil
		}
	}
	main := func(ctx context.Context) (string, error) {
		work := asyncio.CreateTask(ctx, square(20))
		waiter := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			return asyncio.Await(ctx, asyncio.Shield(work))
		})
		asyncio.Sleep(ctx, time.Millisecond)
		waiter.Cancel("") // cancels the waiter, not the work
		_, err := asyncio.Await(ctx, waiter)
		v, _ := asyncio.Await(ctx, work)
		return fmt.Sprintf("waiter: %v; work: %v", err, v), nil
	}
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		fmt.Println(asyncio.RunCoroutineThreadsafe(loop, main).Result(ctx))
		return nil
	})
	// Output: waiter: asyncio: cancelled; work: 400 <nil>
}

func ExampleWait() {
	// square is a coroutine that sleeps n milliseconds and returns n*n.
	square := func(n int) func(ctx context.Context) (int, error) {
		return func(ctx context.Context) (int, error) {
			if err := asyncio.Sleep(ctx, time.Duration(n)*time.Millisecond); err != nil {
				return 0, err
			}
			return n * n, nil
		}
	}
	main := func(ctx context.Context) (string, error) {
		fast := asyncio.CreateTask(ctx, square(1))
		slow := asyncio.CreateTask(ctx, square(3_600_000))
		done, pending, err := asyncio.Wait(ctx, []*asyncio.Task[int]{slow, fast}, asyncio.FirstCompleted)
		if err != nil {
			return "", err
		}
		for _, t := range pending {
			t.Cancel("")
		}
		v, _ := done[0].Result()
		return fmt.Sprintf("%d done (%d), %d pending", len(done), v, len(pending)), nil
	}
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		fmt.Println(asyncio.RunCoroutineThreadsafe(loop, main).Result(ctx))
		return nil
	})
	// Output: 1 done (1), 1 pending <nil>
}

func ExampleWaitFor() {
	// square is a coroutine that sleeps n milliseconds and returns n*n.
	square := func(n int) func(ctx context.Context) (int, error) {
		return func(ctx context.Context) (int, error) {
			if err := asyncio.Sleep(ctx, time.Duration(n)*time.Millisecond); err != nil {
				return 0, err
			}
			return n * n, nil
		}
	}
	main := func(ctx context.Context) (string, error) {
		slow := asyncio.CreateTask(ctx, square(3_600_000))
		_, err := asyncio.WaitFor(ctx, slow, 10*time.Millisecond)
		return fmt.Sprintf("%v; timeout %v; slow cancelled %v", err, errors.Is(err, asyncio.ErrTimeout), slow.Cancelled()), nil
	}
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		fmt.Println(asyncio.RunCoroutineThreadsafe(loop, main).Result(ctx))
		return nil
	})
	// Output: asyncio: timeout; timeout true; slow cancelled true <nil>
}

func ExampleAsCompleted() {
	// square is a coroutine that sleeps n milliseconds and returns n*n.
	square := func(n int) func(ctx context.Context) (int, error) {
		return func(ctx context.Context) (int, error) {
			if err := asyncio.Sleep(ctx, time.Duration(n)*time.Millisecond); err != nil {
				return 0, err
			}
			return n * n, nil
		}
	}
	main := func(ctx context.Context) ([]int, error) {
		var tasks []*asyncio.Task[int]
		for _, n := range []int{30, 10, 20} {
			tasks = append(tasks, asyncio.CreateTask(ctx, square(n)))
		}
		var order []int
		for v, err := range asyncio.AsCompleted(ctx, tasks) {
			if err != nil {
				return nil, err
			}
			order = append(order, v)
		}
		return order, nil
	}
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		fmt.Println(asyncio.RunCoroutineThreadsafe(loop, main).Result(ctx))
		return nil
	})
	// Output: [100 400 900] <nil>
}

func ExampleOpenTaskGroup() {
	// square is a coroutine that sleeps n milliseconds and returns n*n.
	square := func(n int) func(ctx context.Context) (int, error) {
		return func(ctx context.Context) (int, error) {
			if err := asyncio.Sleep(ctx, time.Duration(n)*time.Millisecond); err != nil {
				return 0, err
			}
			return n * n, nil
		}
	}
	main := func(ctx context.Context) (string, error) {
		var ok *asyncio.Task[int]
		err := asyncio.OpenTaskGroup(ctx, func(ctx context.Context, tg *asyncio.TaskGroup) error {
			var err error
			if ok, err = asyncio.CreateTaskIn(tg, square(2)); err != nil {
				return err
			}
			if _, err = asyncio.CreateTaskIn(tg, func(ctx context.Context) (int, error) {
				asyncio.Sleep(ctx, 5*time.Millisecond)
				return 0, errors.New("boom")
			}); err != nil {
				return err
			}
			// The failure cancels this wait, and the other tasks.
			return asyncio.Sleep(ctx, time.Hour)
		})
		var tge *asyncio.TaskGroupError
		errors.As(err, &tge)
		v, _ := ok.Result()
		return fmt.Sprintf("%d error(s): %v; ok: %d", len(tge.Errs), tge.Errs[0], v), nil
	}
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		fmt.Println(asyncio.RunCoroutineThreadsafe(loop, main).Result(ctx))
		return nil
	})
	// Output: 1 error(s): boom; ok: 4 <nil>
}

func ExampleTimeout() {
	main := func(ctx context.Context) (string, error) {
		var scope *asyncio.TimeoutScope
		err := asyncio.Timeout(ctx, 10*time.Millisecond, func(ctx context.Context, tm *asyncio.TimeoutScope) error {
			scope = tm
			return asyncio.Sleep(ctx, time.Hour)
		})
		return fmt.Sprintf("%v; expired %v; cancelled %v", err, scope.Expired(), errors.Is(err, asyncio.ErrCancelled)), nil
	}
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		fmt.Println(asyncio.RunCoroutineThreadsafe(loop, main).Result(ctx))
		return nil
	})
	// Output: asyncio: timeout; expired true; cancelled false <nil>
}

func ExampleTimeoutScope_Reschedule() {
	main := func(ctx context.Context) (string, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		err := asyncio.TimeoutAt(ctx, time.Time{}, func(ctx context.Context, tm *asyncio.TimeoutScope) error {
			// No deadline so far; set one now.
			tm.Reschedule(loop.Time().Add(5 * time.Millisecond))
			return asyncio.Sleep(ctx, time.Hour)
		})
		return err.Error(), nil
	}
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		fmt.Println(asyncio.RunCoroutineThreadsafe(loop, main).Result(ctx))
		return nil
	})
	// Output: asyncio: timeout <nil>
}

func ExampleToThread() {
	main := func(ctx context.Context) (string, error) {
		// Blocking, trio-flavored work, off the loop.
		return asyncio.ToThread(ctx, func(ctx context.Context) (string, error) {
			time.Sleep(time.Millisecond)
			return strings.ToUpper("done in a goroutine"), nil
		})
	}
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		fmt.Println(asyncio.RunCoroutineThreadsafe(loop, main).Result(ctx))
		return nil
	})
	// Output: DONE IN A GOROUTINE <nil>
}

func ExampleRunInExecutor() {
	pool := asyncio.NewPoolExecutor(2) // ours: we shut it down
	defer pool.Shutdown(context.Background())
	main := func(ctx context.Context) ([]int, error) {
		var futs []asyncio.AwaitableOf[int]
		for n := range 4 {
			futs = append(futs, asyncio.RunInExecutor(ctx, pool, func(context.Context) (int, error) {
				return n * 10, nil
			}))
		}
		return asyncio.Await(ctx, asyncio.Gather(ctx, futs...))
	}
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		fmt.Println(asyncio.RunCoroutineThreadsafe(loop, main).Result(ctx))
		return nil
	})
	// Output: [0 10 20 30] <nil>
}

func ExamplePoolExecutor() {
	pool := asyncio.NewPoolExecutor(4)
	results := make([]int, 8)
	for i := range results {
		pool.Submit(func() { results[i] = i * i })
	}
	pool.Shutdown(context.Background()) // waits for the work submitted
	fmt.Println(results)
	// Output: [0 1 4 9 16 25 36 49]
}

func ExampleRunCoroutineThreadsafe() {
	// square is a coroutine that sleeps n milliseconds and returns n*n.
	square := func(n int) func(ctx context.Context) (int, error) {
		return func(ctx context.Context) (int, error) {
			if err := asyncio.Sleep(ctx, time.Duration(n)*time.Millisecond); err != nil {
				return 0, err
			}
			return n * n, nil
		}
	}
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		// From any goroutine: here the OpenLoop body.
		f := asyncio.RunCoroutineThreadsafe(loop, square(6))
		v, err := f.Result(ctx)
		fmt.Println(v, err)

		slow := asyncio.RunCoroutineThreadsafe(loop, square(3_600_000))
		slow.Cancel()
		_, err = slow.Result(ctx)
		fmt.Println(errors.Is(err, asyncio.ErrCancelled))
		return nil
	})
	// Output:
	// 36 <nil>
	// true
}
