package asyncio_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

// Run is asyncio.run: a loop for the duration of one call.
func ExampleRun() {
	v, err := asyncio.Run(context.Background(), func(ctx context.Context) (string, error) {
		if err := asyncio.Sleep(ctx, time.Millisecond); err != nil {
			return "", err
		}
		return "hello from the loop", nil
	})
	fmt.Println(v, err)
	// Output:
	// hello from the loop <nil>
}

// StartTask starts a task from trio code and keeps its handle: the task
// runs on in the background; RunFuture waits for it.
func ExampleStartTask() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		task, err := asyncio.StartTask(ctx, func(ctx context.Context) (int, error) {
			return 42, asyncio.Sleep(ctx, time.Millisecond)
		}, asyncio.WithName("answer"))
		if err != nil {
			return err
		}
		fmt.Println("started; trio code goes on")
		v, err := asyncio.RunFuture(ctx, task)
		fmt.Println(v, err)
		return nil
	})
	// Output:
	// started; trio code goes on
	// 42 <nil>
}

// A ConcurrentFuture follows a coroutine submitted from any goroutine.
func ExampleConcurrentFuture() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		f := asyncio.RunCoroutineThreadsafe(loop, func(ctx context.Context) (string, error) {
			return "done on the loop", asyncio.Sleep(ctx, time.Millisecond)
		})
		v, err := f.Result(ctx) // blocks this goroutine, not the loop
		fmt.Println(v, err, f.Done())
		return nil
	})
	// Output:
	// done on the loop <nil> true
}

// An Executor runs blocking functions for RunInExecutor: here a pool of
// two goroutines.
func ExampleExecutor() {
	pool := asyncio.NewPoolExecutor(2)
	defer pool.Shutdown(context.Background())
	var ex asyncio.Executor = pool
	v, err := asyncio.Run(context.Background(), func(ctx context.Context) (int, error) {
		return asyncio.Await(ctx, asyncio.RunInExecutor(ctx, ex, func(ctx context.Context) (int, error) {
			time.Sleep(time.Millisecond) // blocking Go code, off the loop
			return 7, nil
		}))
	})
	fmt.Println(v, err)
	// Output:
	// 7 <nil>
}

// Cancelling a GatheringFuture cancels every child not done.
func ExampleGatheringFuture() {
	asyncio.Run(context.Background(), func(ctx context.Context) (struct{}, error) {
		slow := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) { return 1, asyncio.Sleep(ctx, time.Hour) })
		g := asyncio.Gather(ctx, slow)
		asyncio.Sleep(ctx, 0)
		g.Cancel("enough")
		_, err := asyncio.Await(ctx, g)
		fmt.Println(err, slow.Cancelled())
		return struct{}{}, nil
	})
	// Output:
	// asyncio: cancelled: enough true
}

// GatherResults gives every child's Outcome, failures included.
func ExampleOutcome() {
	outs, _ := asyncio.Run(context.Background(), func(ctx context.Context) ([]asyncio.Outcome[int], error) {
		ok := asyncio.CreateTask(ctx, func(context.Context) (int, error) { return 1, nil })
		bad := asyncio.CreateTask(ctx, func(context.Context) (int, error) { return 0, errors.New("bad") })
		return asyncio.Await(ctx, asyncio.GatherResults(ctx, ok, bad))
	})
	for _, o := range outs {
		fmt.Println(o.Value, o.Err)
	}
	// Output:
	// 1 <nil>
	// 0 bad
}

// Wait returns when the first awaitable is done, with FirstCompleted.
func ExampleReturnWhen() {
	asyncio.Run(context.Background(), func(ctx context.Context) (struct{}, error) {
		fast := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) { return 1, asyncio.Sleep(ctx, time.Millisecond) })
		slow := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) { return 2, asyncio.Sleep(ctx, time.Hour) })
		done, pending, _ := asyncio.Wait(ctx, []*asyncio.Task[int]{fast, slow}, asyncio.FirstCompleted)
		fmt.Println(len(done), len(pending), done[0] == fast)
		slow.Cancel()
		return struct{}{}, nil
	})
	// Output:
	// 1 1 true
}

// WaitOption and TimeoutOption: Wait gives up after WaitTimeout, leaving
// the rest pending.
func ExampleWaitOption() {
	asyncio.Run(context.Background(), func(ctx context.Context) (struct{}, error) {
		slow := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) { return 2, asyncio.Sleep(ctx, time.Hour) })
		opts := []asyncio.WaitOption{asyncio.WaitTimeout(5 * time.Millisecond)}
		done, pending, err := asyncio.Wait(ctx, []*asyncio.Task[int]{slow}, opts...)
		fmt.Println(len(done), len(pending), err)
		slow.Cancel()
		return struct{}{}, nil
	})
	// Output:
	// 0 1 <nil>
}

// AsCompleted takes a TimeoutOption too.
func ExampleTimeoutOption() {
	asyncio.Run(context.Background(), func(ctx context.Context) (struct{}, error) {
		slow := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) { return 2, asyncio.Sleep(ctx, time.Hour) })
		for _, err := range asyncio.AsCompleted(ctx, []*asyncio.Task[int]{slow}, asyncio.WaitTimeout(5*time.Millisecond)) {
			fmt.Println(errors.Is(err, asyncio.ErrTimeout))
			break
		}
		slow.Cancel()
		return struct{}{}, nil
	})
	// Output:
	// true
}

// AbandonOnCancel lets trio code stop waiting for side-effect-free work
// as soon as its own deadline passes.
func ExampleRunOption() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		moved, _ := trio.MoveOnAfter(ctx, 5*time.Millisecond, func(ctx context.Context) error {
			_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
				for { // ignores its cancellation for a while
					if err := asyncio.Sleep(ctx, 20*time.Millisecond); err == nil {
						return 0, nil
					}
				}
			}, asyncio.AbandonOnCancel())
			return err
		})
		fmt.Println("moved on:", moved)
		return nil
	})
	// Output:
	// moved on: true
}

// A TaskGroup waits for its tasks; the first failure cancels the others.
func ExampleTaskGroup() {
	asyncio.Run(context.Background(), func(ctx context.Context) (struct{}, error) {
		err := asyncio.OpenTaskGroup(ctx, func(ctx context.Context, tg *asyncio.TaskGroup) error {
			for i := range 3 {
				asyncio.CreateTaskIn(tg, func(ctx context.Context) (int, error) {
					return i, asyncio.Sleep(ctx, time.Duration(i)*time.Millisecond)
				})
			}
			fmt.Println("tasks in the group:", tg.Len())
			return nil
		})
		fmt.Println("group done:", err)
		return struct{}{}, nil
	})
	// Output:
	// tasks in the group: 3
	// group done: <nil>
}

// A TaskGroupError holds the errors of the tasks that failed.
func ExampleTaskGroupError() {
	asyncio.Run(context.Background(), func(ctx context.Context) (struct{}, error) {
		errDisk := errors.New("disk full")
		err := asyncio.OpenTaskGroup(ctx, func(ctx context.Context, tg *asyncio.TaskGroup) error {
			asyncio.CreateTaskIn(tg, func(ctx context.Context) (int, error) { return 0, errDisk })
			asyncio.CreateTaskIn(tg, func(ctx context.Context) (int, error) { return 0, asyncio.Sleep(ctx, time.Hour) })
			return nil
		})
		var tge *asyncio.TaskGroupError
		fmt.Println(errors.As(err, &tge), len(tge.Errs), errors.Is(err, errDisk))
		return struct{}{}, nil
	})
	// Output:
	// true 1 true
}

// Synchronize waits until the callbacks queued before it have run.
func ExampleLoop_Synchronize() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		ran := 0
		for range 3 {
			loop.CallSoonThreadsafe(func(context.Context) { ran++ })
		}
		if err := loop.Synchronize(ctx); err != nil {
			return err
		}
		fmt.Println("callbacks run:", ran) // they ran before Synchronize returned
		return nil
	})
	// Output: callbacks run: 3
}

// Stop wakes WaitStopped; the loop goes on serving until its block ends.
func ExampleLoop_Stop() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		loop.CallSoonThreadsafe(func(context.Context) { loop.Stop() })
		err := loop.WaitStopped(ctx)
		v, _ := asyncio.RunAsyncio(ctx, func(context.Context) (string, error) { return "still serving", nil })
		fmt.Println(err, v)
		return nil
	})
	// Output: <nil> still serving
}
