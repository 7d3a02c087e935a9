package asyncio

import (
	"context"
	"sync"

	"github.com/trioasyncio/trioasyncio/trio"
)

// RunCoroutineThreadsafe submits coro to loop from any goroutine
// (asyncio.run_coroutine_threadsafe): a callback on the loop creates the
// task, and the returned ConcurrentFuture follows it. Goroutine-safe; it
// does not block.
//
// If the loop has closed, the future fails with ErrLoopClosed and coro
// never runs; if the loop closes before the task has ended, the future
// fails with ErrLoopClosed then. Cancelling the
// future cancels the task. Calling Result of the future on the loop
// itself would deadlock: from asyncio code, Await the task instead. If
// the loop's task factory panics, the future fails with that panic (a
// *trio.PanicError), which goes on to the loop's exception handler too.
// It panics if loop or coro is nil. Cost: the future (with a channel), a
// task, and two CallSoonThreadsafe calls at most.
func RunCoroutineThreadsafe[T any](loop *Loop, coro func(ctx context.Context) (T, error), opts ...TaskOption) *ConcurrentFuture[T] {
	if loop == nil {
		panic("asyncio: RunCoroutineThreadsafe with a nil loop")
	}
	if coro == nil {
		panic("asyncio: RunCoroutineThreadsafe with a nil coroutine")
	}
	f := &ConcurrentFuture[T]{loop: loop, done: make(chan struct{})}
	var zero T
	// The loop drops its pending callbacks when it closes: then the
	// future fails.
	stop := context.AfterFunc(loop.ctx.Context, func() { f.set(zero, ErrLoopClosed, false) })
	_, err := loop.CallSoonThreadsafe(func(ctx context.Context) {
		if f.Cancelled() {
			stop()
			return // cancelled before it started: never run coro
		}
		defer func() {
			if v := recover(); v != nil {
				// The task factory panicked: the future fails with the
				// panic, and the exception handler gets it too.
				pe := trio.NewPanicError(v)
				stop()
				f.set(zero, pe, false)
				panic(pe)
			}
		}()
		t := CreateTask(ctx, coro, opts...)
		f.task = t
		t.AddDoneCallback(func(context.Context) {
			stop()
			v, err := t.Result()
			if !f.set(v, err, t.Cancelled()) && !t.Cancelled() {
				t.Exception() // the future was cancelled first: mark it retrieved
			}
		})
	})
	if err != nil {
		stop()
		f.set(zero, err, false)
	}
	return f
}

// A ConcurrentFuture is the result of a coroutine submitted from another
// goroutine with RunCoroutineThreadsafe (a concurrent.futures.Future), or
// of any goroutine's work (NewConcurrentFuture; WrapFuture turns it into a
// loop future). Unlike Future, it is goroutine-safe, and it blocks: Result
// waits.
type ConcurrentFuture[T any] struct {
	loop *Loop
	task *Task[T] // loop-confined: set and read on the loop

	done  chan struct{}
	mu    sync.Mutex
	state futState
	v     T
	err   error
	cbs   []func() // guarded by mu: AddDoneCallback's, run once done
}

// set makes the future done, unless it already is; it reports whether it
// did.
func (f *ConcurrentFuture[T]) set(v T, err error, cancelled bool) bool {
	f.mu.Lock()
	if f.state != statePending {
		f.mu.Unlock()
		return false
	}
	f.v, f.err = v, err
	f.state = stateFinished
	if cancelled {
		f.state = stateCancelled
	}
	close(f.done)
	cbs := f.cbs
	f.cbs = nil
	f.mu.Unlock()
	for _, fn := range cbs {
		fn()
	}
	return true
}

// Result waits until the future is done and returns the task's result or
// error (a *CancelledError if it was cancelled); or, if ctx is done
// first, ctx's cause, leaving the future as it is (CPython's
// result(timeout) raising TimeoutError). Goroutine-safe.
//
// In debug mode, a call from the loop's own goroutine (where it would
// deadlock) panics.
func (f *ConcurrentFuture[T]) Result(ctx context.Context) (T, error) {
	if l := f.loop; l != nil && l.debug.Load() {
		if g := goid(); g == l.loopGid.Load() || g == l.curGid.Load() {
			panic("asyncio: ConcurrentFuture.Result called on its own loop, where it would deadlock: Await the task instead (debug-mode check)")
		}
	}
	select {
	case <-f.done:
	case <-ctx.Done():
		var zero T
		return zero, context.Cause(ctx)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.v, f.err
}

// DoneChan returns a channel closed once the future is done, for select.
// Goroutine-safe.
func (f *ConcurrentFuture[T]) DoneChan() <-chan struct{} { return f.done }

// Done reports whether the future is done. Goroutine-safe.
func (f *ConcurrentFuture[T]) Done() bool {
	select {
	case <-f.done:
		return true
	default:
		return false
	}
}

// Cancelled reports whether the future was cancelled. Goroutine-safe.
func (f *ConcurrentFuture[T]) Cancelled() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state == stateCancelled
}

// Cancel cancels the future at once and requests the cancellation of its
// task (Task.Cancel, on the loop, through CallSoonThreadsafe); a task not
// created yet never is. It reports false if the future is already done
// with a result or an error, true if it is (now) cancelled.
// Goroutine-safe.
func (f *ConcurrentFuture[T]) Cancel() bool {
	var zero T
	if !f.set(zero, &CancelledError{}, true) {
		return f.Cancelled()
	}
	if f.loop == nil {
		return true // NewConcurrentFuture's: no task
	}
	f.loop.CallSoonThreadsafe(func(context.Context) { // ErrLoopClosed: nothing to cancel
		if f.task != nil {
			f.task.Cancel("")
		}
	})
	return true
}

// String describes the future for logs.
func (f *ConcurrentFuture[T]) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return "<ConcurrentFuture " + f.state.String() + ">"
}
