package asyncio_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// A loop lives for the duration of an OpenLoop block. The body is
// trio-flavored: it reaches the loop through CallSoonThreadsafe.
func ExampleOpenLoop() {
	err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		done := make(chan string)
		loop.CallSoonThreadsafe(func(ctx context.Context) {
			done <- "hello from the loop"
		})
		fmt.Println(<-done)
		return nil
	})
	fmt.Println("closed:", err)
	// Output:
	// hello from the loop
	// closed: <nil>
}

// Callbacks run in the order they were scheduled; one scheduled by a
// callback runs in the next iteration, after those already waiting.
func ExampleLoop() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		done := make(chan struct{})
		loop.CallSoonThreadsafe(func(ctx context.Context) {
			loop.CallSoon(func(ctx context.Context) {
				fmt.Println("first")
				loop.CallSoon(func(ctx context.Context) {
					fmt.Println("third")
					close(done)
				})
			})
			loop.CallSoon(func(ctx context.Context) { fmt.Println("second") })
		})
		<-done
		return nil
	})
	// Output:
	// first
	// second
	// third
}

// A cancelled handle does not run.
func ExampleHandle() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		done := make(chan struct{})
		loop.CallSoonThreadsafe(func(ctx context.Context) {
			h := loop.CallSoon(func(ctx context.Context) { fmt.Println("never") })
			h.Cancel()
			fmt.Println("cancelled:", h.Cancelled())
			loop.CallSoon(func(ctx context.Context) { close(done) })
		})
		<-done
		return nil
	})
	// Output:
	// cancelled: true
}

// Timers run in deadline order.
func ExampleTimerHandle() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		done := make(chan struct{})
		loop.CallSoonThreadsafe(func(ctx context.Context) {
			start := loop.Time()
			loop.CallLater(20*time.Millisecond, func(ctx context.Context) {
				fmt.Println("20 ms")
				close(done)
			})
			th := loop.CallLater(10*time.Millisecond, func(ctx context.Context) { fmt.Println("10 ms") })
			fmt.Println("due in", th.When().Sub(start).Round(10*time.Millisecond))
		})
		<-done
		return nil
	})
	// Output:
	// due in 10ms
	// 10 ms
	// 20 ms
}

// WithContext gives a callback a ctx of its own (asyncio's context=).
func ExampleCallOption() {
	type key struct{}
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		done := make(chan struct{})
		vctx := context.WithValue(ctx, key{}, "request-42")
		loop.CallSoonThreadsafe(func(ctx context.Context) {
			fmt.Println(ctx.Value(key{}))
			close(done)
		}, asyncio.WithContext(vctx))
		<-done
		return nil
	})
	// Output:
	// request-42
}

// A coroutine waits for a future that a callback resolves. The done
// callback was added first, so it runs before the task's wakeup.
func ExampleFuture() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		done := make(chan struct{})
		loop.CallSoonThreadsafe(func(ctx context.Context) {
			fut := asyncio.NewFuture[string](loop)
			fut.AddDoneCallback(func(ctx context.Context) {
				v, err := fut.Result()
				fmt.Println("done callback:", v, err)
				close(done)
			})
			asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
				loop.CallLater(time.Millisecond, func(ctx context.Context) { fut.SetResult("ready") })
				v, err := asyncio.Await(ctx, fut)
				fmt.Println("awaited:", v, err)
				return 0, nil
			})
		})
		<-done
		return nil
	})
	// Output:
	// done callback: ready <nil>
	// awaited: ready <nil>
}

// A task runs a coroutine; Await waits for its result.
func ExampleTask() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		done := make(chan struct{})
		loop.CallSoonThreadsafe(func(ctx context.Context) {
			asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
				defer close(done)
				square := func(n int) *asyncio.Task[int] {
					return asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
						if err := asyncio.Sleep(ctx, time.Millisecond); err != nil {
							return 0, err
						}
						return n * n, nil
					})
				}
				a, b := square(3), square(4)
				x, _ := asyncio.Await(ctx, a)
				y, _ := asyncio.Await(ctx, b)
				fmt.Println(x + y)
				return 0, nil
			})
		})
		<-done
		return nil
	})
	// Output:
	// 25
}

// WithName names a task.
func ExampleTaskOption() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		done := make(chan struct{})
		loop.CallSoonThreadsafe(func(ctx context.Context) {
			t := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) { return 0, nil }, asyncio.WithName("worker"))
			fmt.Println(t.Name())
			close(done)
		})
		<-done
		return nil
	})
	// Output:
	// worker
}

// Cancellation is edge-triggered: the coroutine sees one CancelledError
// and may handle it.
func ExampleCancelledError() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		done := make(chan struct{})
		loop.CallSoonThreadsafe(func(ctx context.Context) {
			t := asyncio.CreateTask(ctx, func(ctx context.Context) (string, error) {
				err := asyncio.Sleep(ctx, time.Hour)
				var ce *asyncio.CancelledError
				if errors.As(err, &ce) {
					fmt.Println("caught:", ce.Msg)
				}
				return "cleaned up", nil // the task goes on and ends normally
			})
			loop.CallSoon(func(ctx context.Context) { t.Cancel("shutting down") })
			t.AddDoneCallback(func(ctx context.Context) {
				v, err := t.Result()
				fmt.Println(v, err, t.Cancelled())
				close(done)
			})
		})
		<-done
		return nil
	})
	// Output:
	// caught: shutting down
	// cleaned up <nil> false
}

// Setting the result of a future that is done is an InvalidStateError.
func ExampleInvalidStateError() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		done := make(chan struct{})
		loop.CallSoonThreadsafe(func(ctx context.Context) {
			f := asyncio.NewFuture[int](loop)
			_, err := f.Result()
			fmt.Println(err)
			f.SetResult(1)
			err = f.SetResult(2)
			fmt.Println(errors.Is(err, asyncio.ErrInvalidState))
			close(done)
		})
		<-done
		return nil
	})
	// Output:
	// asyncio: invalid state: Result is not ready.
	// true
}

// TimeoutError is what timeouts report; it matches ErrTimeout.
func ExampleTimeoutError() {
	err := fmt.Errorf("fetch: %w", &asyncio.TimeoutError{Msg: "after 5s"})
	fmt.Println(err, errors.Is(err, asyncio.ErrTimeout))
	// Output:
	// fetch: asyncio: timeout: after 5s true
}

// Functions over Awaitable handle futures and tasks of any result type.
func ExampleAwaitable() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		done := make(chan struct{})
		loop.CallSoonThreadsafe(func(ctx context.Context) {
			f := asyncio.NewFuture[string](loop)
			t := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) { return 1, nil }, asyncio.WithName("one"))
			pending := 0
			for _, a := range []asyncio.Awaitable{f, t} {
				pending++
				a.AddDoneCallback(func(ctx context.Context) {
					pending--
					fmt.Println(a, "done")
					if pending == 0 {
						close(done)
					}
				})
			}
			f.Cancel("")
		})
		<-done
		return nil
	})
	// Output:
	// <Future cancelled> done
	// <Task finished result=1 name=one> done
}

// Await infers the result type from its argument.
func ExampleAwaitableOf() {
	first := func(ctx context.Context, a asyncio.AwaitableOf[string]) string {
		v, err := asyncio.Await(ctx, a)
		if err != nil {
			return err.Error()
		}
		return v
	}
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		done := make(chan struct{})
		loop.CallSoonThreadsafe(func(ctx context.Context) {
			asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
				defer close(done)
				f := asyncio.NewFuture[string](loop)
				f.SetResult("from a future")
				t := asyncio.CreateTask(ctx, func(ctx context.Context) (string, error) { return "from a task", nil })
				fmt.Println(first(ctx, f))
				fmt.Println(first(ctx, t))
				return 0, nil
			})
		})
		<-done
		return nil
	})
	// Output:
	// from a future
	// from a task
}

// CurrentTask returns the running task, whatever its result type.
func ExampleAnyTask() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		done := make(chan struct{})
		loop.CallSoonThreadsafe(func(ctx context.Context) {
			fmt.Println("in a callback:", asyncio.CurrentTask(ctx))
			asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
				var me asyncio.AnyTask = asyncio.CurrentTask(ctx)
				fmt.Println("in a task:", me.Name())
				close(done)
				return 0, nil
			}, asyncio.WithName("main"))
		})
		<-done
		return nil
	})
	// Output:
	// in a callback: <nil>
	// in a task: main
}

// A panic in a callback goes to the exception handler; the loop goes on.
func ExampleExceptionHandler() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		done := make(chan struct{})
		loop.SetExceptionHandler(func(loop *asyncio.Loop, ec asyncio.ExceptionContext) {
			fmt.Println("handler:", ec.Handle != nil, errors.Unwrap(ec.Err) == nil)
		})
		loop.CallSoonThreadsafe(func(ctx context.Context) {
			loop.CallSoon(func(ctx context.Context) { panic("boom") })
			loop.CallSoon(func(ctx context.Context) {
				fmt.Println("the loop goes on")
				close(done)
			})
		})
		<-done
		return nil
	})
	// Output:
	// handler: true true
	// the loop goes on
}

// CallExceptionHandler reports errors nobody else can return.
func ExampleExceptionContext() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		loop.SetExceptionHandler(func(loop *asyncio.Loop, ec asyncio.ExceptionContext) {
			fmt.Printf("%s: %v\n", ec.Message, ec.Err)
		})
		loop.CallExceptionHandler(asyncio.ExceptionContext{
			Message: "connection lost",
			Err:     errors.New("EOF"),
		})
		return nil
	})
	// Output:
	// connection lost: EOF
}

// Sleep(ctx, 0) gives the loop back for one iteration.
func ExampleSleep() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		done := make(chan struct{})
		loop.CallSoonThreadsafe(func(ctx context.Context) {
			asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
				loop.CallSoon(func(ctx context.Context) { fmt.Println("callback") })
				fmt.Println("before")
				asyncio.Sleep(ctx, 0)
				fmt.Println("after")
				close(done)
				return 0, nil
			})
		})
		<-done
		return nil
	})
	// Output:
	// before
	// callback
	// after
}
