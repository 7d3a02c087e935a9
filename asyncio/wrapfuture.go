package asyncio

import (
	"context"
)

// NewConcurrentFuture returns a pending ConcurrentFuture that belongs to
// no loop: the goroutine doing the work completes it with SetResult or
// SetException (concurrent.futures.Future()). Pass it to WrapFuture to
// await it from asyncio code. Goroutine-safe.
func NewConcurrentFuture[T any]() *ConcurrentFuture[T] {
	return &ConcurrentFuture[T]{done: make(chan struct{})}
}

// SetResult completes the future with v and runs its done callbacks on
// the caller's goroutine. If the future is already done (cancelled, say),
// it returns an *InvalidStateError and changes nothing. Goroutine-safe.
func (f *ConcurrentFuture[T]) SetResult(v T) error {
	if !f.set(v, nil, false) {
		return f.alreadyDone()
	}
	return nil
}

// SetException completes the future with err, as SetResult does. It
// panics if err is nil. Goroutine-safe.
func (f *ConcurrentFuture[T]) SetException(err error) error {
	if err == nil {
		panic("asyncio: ConcurrentFuture.SetException(nil)")
	}
	var zero T
	if !f.set(zero, err, false) {
		return f.alreadyDone()
	}
	return nil
}

func (f *ConcurrentFuture[T]) alreadyDone() error {
	f.mu.Lock()
	st := f.state.String()
	f.mu.Unlock()
	return errAlreadyDone(st, f)
}

// AddDoneCallback arranges for fn to run once the future is done: on the
// goroutine that completes it (SetResult, SetException, Cancel), or at
// once on the caller's if it is already done (concurrent.futures'
// add_done_callback). fn must not block for long: it delays whoever
// completes the future. Goroutine-safe; it panics if fn is nil.
func (f *ConcurrentFuture[T]) AddDoneCallback(fn func()) {
	if fn == nil {
		panic("asyncio: ConcurrentFuture.AddDoneCallback with a nil callback")
	}
	f.mu.Lock()
	if f.state == statePending {
		f.cbs = append(f.cbs, fn)
		f.mu.Unlock()
		return
	}
	f.mu.Unlock()
	fn()
}

// WrapFuture returns a future of the loop of ctx that follows cf
// (asyncio.wrap_future): it gets cf's result or error, or is cancelled,
// once cf is done. Cancellation propagates both ways: cancelling the
// returned future cancels cf (and, for a future of RunCoroutineThreadsafe,
// its task), and cf being cancelled cancels the returned future. A cf
// completed before the loop future was cancelled keeps its result.
//
// Loop-confined: call it from a callback or a task of the loop (from trio
// code, inside RunSync). It panics if cf is nil, or if ctx carries no loop
// (ErrNoRunningLoop; asyncio's "no current event loop"). If the loop
// closes before cf is done, the returned future stays pending, as every
// future of a closed loop does. Cost: the loop future, a done callback
// on each side, and one CallSoonThreadsafe when cf completes.
func WrapFuture[T any](ctx context.Context, cf *ConcurrentFuture[T]) *Future[T] {
	if cf == nil {
		panic("asyncio: WrapFuture with a nil future")
	}
	l := loopOf(ctx)
	if l == nil {
		panic(ErrNoRunningLoop)
	}
	f := NewFuture[T](l)
	f.AddDoneCallback(func(context.Context) {
		if f.Cancelled() {
			cf.Cancel()
		}
	})
	cf.AddDoneCallback(func() {
		// ErrLoopClosed: the loop future is gone with its loop.
		l.CallSoonThreadsafe(func(context.Context) {
			if f.Done() {
				return
			}
			cf.mu.Lock()
			v, err, st := cf.v, cf.err, cf.state
			cf.mu.Unlock()
			switch {
			case st == stateCancelled:
				msg := ""
				if ce, ok := err.(*CancelledError); ok {
					msg = ce.Msg
				}
				f.Cancel(msg)
			case err != nil:
				f.SetException(err)
			default:
				f.SetResult(v)
			}
		})
	})
	return f
}
