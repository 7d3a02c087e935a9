package asyncio_test

import (
	"context"
	"fmt"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// A task factory sees every task the loop makes: this one counts them
// and names them.
func ExampleTaskFactory() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		n := 0
		loop.SetTaskFactory(func(ctx context.Context, coro asyncio.AnyCoroutine, opts ...asyncio.TaskOption) asyncio.AnyTask {
			n++
			return asyncio.NewTask(ctx, coro, append(opts, asyncio.WithName(fmt.Sprintf("job-%d", n)))...)
		})
		name, _ := asyncio.RunAsyncio(ctx, func(ctx context.Context) (string, error) {
			return asyncio.CurrentTask(ctx).Name(), nil
		})
		fmt.Println(name, n)
		return nil
	})
	// Output: job-1 1
}

// A factory receives the coroutine as an AnyCoroutine, which it can only
// hand on to NewTask: here, to start some tasks eagerly and others not.
func ExampleAnyCoroutine() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		type eagerKey struct{}
		loop.SetTaskFactory(func(ctx context.Context, coro asyncio.AnyCoroutine, opts ...asyncio.TaskOption) asyncio.AnyTask {
			eager := ctx.Value(eagerKey{}) != nil
			return asyncio.NewTask(ctx, coro, append(opts, asyncio.WithEagerStart(eager))...)
		})
		asyncio.RunAsyncio(ctx, func(ctx context.Context) (struct{}, error) {
			coro := func(context.Context) (int, error) { return 1, nil }
			lazy := asyncio.CreateTask(ctx, coro)
			eager := asyncio.CreateTask(context.WithValue(ctx, eagerKey{}, true), coro)
			fmt.Println(lazy.Done(), eager.Done())
			return struct{}{}, nil
		})
		return nil
	})
	// Output: false true
}

// With eager start, a coroutine runs inside CreateTask up to its first
// suspension; one that never suspends is done when CreateTask returns.
func ExampleEagerTaskFactory() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		loop.SetTaskFactory(asyncio.EagerTaskFactory)
		asyncio.RunAsyncio(ctx, func(ctx context.Context) (struct{}, error) {
			t := asyncio.CreateTask(ctx, func(ctx context.Context) (string, error) {
				fmt.Println("first step")
				return "result", nil
			})
			fmt.Println("CreateTask returned; done:", t.Done())
			v, _ := t.Result()
			fmt.Println(v)
			return struct{}{}, nil
		})
		return nil
	})
	// Output:
	// first step
	// CreateTask returned; done: true
	// result
}
