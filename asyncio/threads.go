package asyncio

import "context"

// ToThread runs fn on a goroutine of the loop's default executor and
// waits for its result (asyncio.to_thread): RunInExecutor(ctx, nil, fn)
// awaited. fn gets ctx's values (as to_thread copies the contextvars) and
// a cancellation of its own.
//
// If the running task is cancelled meanwhile, fn's ctx is cancelled and
// ToThread returns a *CancelledError at once, without waiting for fn;
// the loop waits for fn when it closes.
//
// Call it only from a coroutine, with its ctx (else
// ErrAwaitOutsideTask, and fn does not run). It panics if fn is nil.
func ToThread[T any](ctx context.Context, fn func(ctx context.Context) (T, error)) (T, error) {
	if _, err := runningTask(ctx, "ToThread"); err != nil {
		var zero T
		return zero, err
	}
	return Await(ctx, RunInExecutor(ctx, nil, fn))
}
