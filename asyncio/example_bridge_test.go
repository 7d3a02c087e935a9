package asyncio_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

// When the block exits, the loop cancels what is left and lets it finish
// its cancellation, while it still runs: the task's cleanup can await.
// Then OpenLoop returns, and nothing the loop started is left.
func ExampleOpenLoop_teardown() {
	err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		started := make(chan struct{})
		loop.CallSoonThreadsafe(func(ctx context.Context) {
			asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
				close(started)
				err := asyncio.Sleep(ctx, time.Hour)
				fmt.Println("task:", err)
				fmt.Println("cleanup awaits:", asyncio.Sleep(ctx, time.Millisecond))
				return 0, err
			})
		})
		<-started
		fmt.Println("body returns")
		return nil
	})
	fmt.Println("OpenLoop:", err)
	// Output:
	// body returns
	// task: asyncio: cancelled
	// cleanup awaits: <nil>
	// OpenLoop: <nil>
}

// Cancelling the code around OpenLoop reaches only the body; the
// cancellation leaves OpenLoop once the teardown is done, for the scope
// that caused it.
func ExampleOpenLoop_cancelled() {
	movedOn, err := trio.MoveOnAfter(context.Background(), 10*time.Millisecond, func(ctx context.Context) error {
		return asyncio.OpenLoop(ctx, func(ctx context.Context, loop *asyncio.Loop) error {
			err := trio.SleepForever(ctx)
			fmt.Println("body:", err)
			return err
		})
	})
	fmt.Println("moved on:", movedOn, err)
	// Output:
	// body: trio: cancelled: deadline exceeded
	// moved on: true <nil>
}

// Trio code runs a coroutine on the loop and gets its result. A trio
// deadline cancels the task (once) and waits for it; the error is trio's
// cancellation with asyncio's chained, absorbed by the scope that set the
// deadline.
func ExampleRunAsyncio() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		v, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (string, error) {
			if err := asyncio.Sleep(ctx, time.Millisecond); err != nil {
				return "", err
			}
			return "hello from a task", nil
		})
		fmt.Println(v, err)

		movedOn, err := trio.MoveOnAfter(ctx, 10*time.Millisecond, func(ctx context.Context) error {
			_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
				err := asyncio.Sleep(ctx, time.Hour)
				fmt.Println("task:", err)
				return 0, err
			})
			fmt.Println("trio's:", errors.Is(err, trio.ErrCancelled), "asyncio's:", errors.Is(err, asyncio.ErrCancelled))
			return err
		})
		fmt.Println("moved on:", movedOn, err)
		return nil
	})
	// Output:
	// hello from a task <nil>
	// task: asyncio: cancelled: cancelled by trio: deadline exceeded
	// trio's: true asyncio's: true
	// moved on: true <nil>
}

// Trio code waits for a future of the loop.
func ExampleRunFuture() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		fut, _ := asyncio.RunSync(ctx, func(context.Context) (*asyncio.Future[string], error) {
			f := asyncio.NewFuture[string](loop)
			loop.CallLater(time.Millisecond, func(context.Context) { f.SetResult("resolved by a timer") })
			return f, nil
		})
		fmt.Println(asyncio.RunFuture(ctx, fut))
		return nil
	})
	// Output:
	// resolved by a timer <nil>
}

// Trio code reaches loop-confined objects through RunSync: here it looks
// at the loop's tasks and sets an asyncio.Event a task waits for.
func ExampleRunSync() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		var ev asyncio.Event
		tasks := make(chan *asyncio.Task[string], 1)
		loop.CallSoonThreadsafe(func(ctx context.Context) {
			tasks <- asyncio.CreateTask(ctx, func(ctx context.Context) (string, error) {
				if err := ev.Wait(ctx); err != nil {
					return "", err
				}
				return "the task woke", nil
			})
		})
		task := <-tasks
		n, err := asyncio.RunSync(ctx, func(context.Context) (int, error) { return len(asyncio.AllTasks(loop)), nil })
		fmt.Println("tasks:", n, err)
		asyncio.RunSync(ctx, func(context.Context) (struct{}, error) {
			ev.Set()
			return struct{}{}, nil
		})
		fmt.Println(asyncio.RunFuture(ctx, task))
		return nil
	})
	// Output:
	// tasks: 1 <nil>
	// the task woke <nil>
}

// A coroutine runs trio code and awaits it. Cancelling the future cancels
// the trio call's scope; the future stays pending until the trio code has
// unwound, and then is cancelled.
func ExampleRunTrio() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			v, err := asyncio.Await(ctx, asyncio.RunTrio(ctx, func(ctx context.Context) (string, error) {
				return "hello from trio", trio.Sleep(ctx, time.Millisecond)
			}))
			fmt.Println(v, err)

			var unwound error // written before the outcome is posted to the loop
			f := asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
				err := trio.SleepForever(ctx)
				unwound = err
				return 0, err
			})
			asyncio.Sleep(ctx, time.Millisecond)
			ok := f.Cancel("enough")
			fmt.Println("cancel:", ok, "done at once:", f.Done())
			_, err = asyncio.Await(ctx, f)
			fmt.Println("trio code unwound:", unwound)
			fmt.Println("await:", err)
			return 0, nil
		})
		return nil
	})
	// Output:
	// hello from trio <nil>
	// cancel: true done at once: false
	// trio code unwound: trio: cancelled: cancelled by asyncio: enough
	// await: asyncio: cancelled: enough
}

// Rounds of "run until stopped": each WaitStopped waits for a Stop of its
// own. Inside a block, Stop only wakes WaitStopped: the loop keeps
// serving.
func ExampleLoop_WaitStopped() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		for round := 1; round <= 2; round++ {
			loop.CallSoonThreadsafe(func(context.Context) {
				fmt.Println("round", round, "runs")
				loop.Stop()
			})
			if err := loop.WaitStopped(ctx); err != nil {
				return err
			}
			fmt.Println("round", round, "stopped")
		}
		v, err := asyncio.RunAsyncio(ctx, func(context.Context) (string, error) { return "still serving", nil })
		fmt.Println(v, err)
		return nil
	})
	// Output:
	// round 1 runs
	// round 1 stopped
	// round 2 runs
	// round 2 stopped
	// still serving <nil>
}

// A goroutine's work, handed over as a ConcurrentFuture, is awaited on
// the loop through WrapFuture.
func ExampleWrapFuture() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		cf := asyncio.NewConcurrentFuture[int]()
		go func() { cf.SetResult(6 * 7) }()
		v, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			return asyncio.Await(ctx, asyncio.WrapFuture(ctx, cf))
		})
		fmt.Println(v, err)
		return nil
	})
	// Output: 42 <nil>
}

// A TrioExecutor runs RunInExecutor's functions as trio code in the
// loop's nursery, as many at once as its CapacityLimiter admits.
func ExampleTrioExecutor() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		ex := asyncio.NewTrioExecutor(ctx, trio.NewCapacityLimiter(1))
		v, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (string, error) {
			return asyncio.Await(ctx, asyncio.RunInExecutor(ctx, ex, func(ctx context.Context) (string, error) {
				if err := trio.Sleep(ctx, time.Millisecond); err != nil {
					return "", err
				}
				return "done in trio", nil
			}))
		})
		fmt.Println(v, err)
		return nil
	})
	// Output: done in trio <nil>
}

// Trio code ranges over the values an asyncio-flavored producer yields
// on the loop; breaking out cancels the producer and waits for it.
func ExampleIterAsyncio() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		for v, err := range asyncio.IterAsyncio(ctx, func(ctx context.Context, yield func(int) error) error {
			for i := 1; ; i++ {
				if err := asyncio.Sleep(ctx, time.Millisecond); err != nil {
					return err
				}
				if err := yield(i * i); err != nil {
					fmt.Println("producer stopped")
					return err
				}
			}
		}) {
			if err != nil {
				return err
			}
			fmt.Println(v)
			if v >= 9 {
				break
			}
		}
		return nil
	})
	// Output:
	// 1
	// 4
	// 9
	// producer stopped
}

// A coroutine ranges over the values a trio-flavored producer yields.
func ExampleIterTrio() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		sum, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			sum := 0
			for v, err := range asyncio.IterTrio(ctx, func(ctx context.Context, yield func(int) error) error {
				for i := 1; i <= 4; i++ {
					if err := yield(i); err != nil {
						return err
					}
				}
				return nil
			}) {
				if err != nil {
					return 0, err
				}
				sum += v
			}
			return sum, nil
		})
		fmt.Println(sum, err)
		return nil
	})
	// Output: 10 <nil>
}
