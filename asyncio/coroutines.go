package asyncio

import "context"

// NoResult adapts a coroutine that has no result, func(ctx) error, to the
// form tasks and the boundary take, func(ctx) (struct{}, error):
//
//	task := asyncio.CreateTask(ctx, asyncio.NoResult(worker))
//	_, err := asyncio.RunAsyncio(ctx, asyncio.NoResult(main))
//
// It panics if fn is nil. Cost: one closure.
func NoResult(fn func(ctx context.Context) error) func(ctx context.Context) (struct{}, error) {
	if fn == nil {
		panic("asyncio: NoResult with a nil function")
	}
	return func(ctx context.Context) (struct{}, error) { return struct{}{}, fn(ctx) }
}
