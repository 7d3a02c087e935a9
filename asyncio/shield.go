package asyncio

import "context"

// Shield protects aw from cancellation (asyncio.shield): it returns an
// outer future that follows aw (same result, same error, cancelled if aw
// is), while cancelling the outer future leaves aw running. So
//
//	v, err := asyncio.Await(ctx, asyncio.Shield(task))
//
// waits for task as Await(ctx, task) does, except that if the awaiting
// task is cancelled, only the outer future is cancelled: Await returns a
// *CancelledError and task goes on. Keep a reference to task to see its
// end; its error, if the outer future was cancelled first, counts as
// retrieved.
//
// If aw is already done, Shield returns aw itself. Loop-confined: call it
// on aw's loop. It does not block; it panics if aw is nil. Cost: a future
// and two done callbacks.
func Shield[T any](aw AwaitableOf[T]) AwaitableOf[T] {
	checkAwaitable(aw, "Shield")
	if aw.Done() {
		return aw
	}
	outer := NewFuture[T](aw.Loop())
	h := aw.AddDoneCallback(func(context.Context) {
		if outer.Cancelled() {
			if !aw.Cancelled() {
				aw.Exception() // mark it retrieved
			}
			return
		}
		if aw.Cancelled() {
			outer.Cancel("")
			return
		}
		if v, err := aw.Result(); err != nil {
			outer.SetException(err)
		} else {
			outer.SetResult(v)
		}
	})
	outer.AddDoneCallback(func(context.Context) {
		if !aw.Done() {
			aw.RemoveDoneCallback(h)
		}
	})
	return outer
}
