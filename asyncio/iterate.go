package asyncio

import (
	"context"
	"iter"

	"github.com/trioasyncio/trioasyncio/trio"
)

// IterAsyncio runs gen, an asyncio-flavored producer, as a task on the
// loop of ctx, and returns an iterator over the values gen yields, for
// trio-flavored code to range over (trio-asyncio's aio_as_trio on an async
// iterator):
//
//	for v, err := range asyncio.IterAsyncio(ctx, gen) {
//		if err != nil { … } // gen's error, or the cancellation
//		use(v)
//	}
//
// gen is a coroutine that calls yield(v) for each value. yield hands v to
// the range loop and waits, as an Await does, until the range loop asks
// for the next value; it returns nil to go on, or a *CancelledError when
// the task is cancelled, which gen should return (after any cleanup it
// needs; it may still await). Values are produced one at a time, as the
// range loop asks for them, as an async generator's are.
//
// The task starts when a range loop starts; each range loop runs gen
// anew. The iteration ends when gen returns: with a nil error, after the
// last value; with an error, which the last iteration yields (with a zero
// value). If the range loop is left early (break), the task is cancelled
// (yield returns the *CancelledError) and the range loop's exit waits
// until gen has returned. If ctx is cancelled while the range loop waits
// for a value, the task is cancelled, and once gen has returned the
// iteration yields trio's cancellation (as RunAsyncio returns it) or, if
// gen ends otherwise, its outcome. A task cancelled by asyncio code (or by
// the loop's teardown) yields its *CancelledError.
//
// Trio-flavored: range over it on a goroutine of trio code, never on the
// loop (the first iteration yields ErrWrongFlavor there). A gen that goes
// on calling yield after it returned an error gets the same error back at
// once. Cost: a task, and per value one CallSoonThreadsafe and a future.
func IterAsyncio[T any](ctx context.Context, gen func(ctx context.Context, yield func(T) error) error) iter.Seq2[T, error] {
	if gen == nil {
		panic("asyncio: IterAsyncio with a nil producer")
	}
	return func(yield func(T, error) bool) {
		var zero T
		type item struct {
			v     T
			final bool
		}
		// items holds at most one value and the end: a value is sent only
		// when the range loop has asked for it.
		items := make(chan item, 2)
		// Loop-confined state of the producer.
		var (
			req         *Future[struct{}] // the producer waits for the next request
			outstanding bool              // a value was sent and not asked past
			stopped     bool              // the range loop has stopped
		)
		task, err := StartTask(ctx, func(tctx context.Context) (struct{}, error) {
			defer func() { items <- item{final: true} }()
			return struct{}{}, gen(tctx, func(v T) error {
				if stopped || outstanding {
					return &CancelledError{Msg: "the range loop over the values has stopped"}
				}
				outstanding = true
				items <- item{v: v}
				req = NewFuture[struct{}](loopOf(tctx))
				_, err := Await(tctx, req)
				req = nil
				return err
			})
		})
		if err != nil {
			yield(zero, err)
			return
		}
		l := task.Loop()
		for {
			select {
			case it := <-items:
				if it.final {
					if _, err := RunFuture(ctx, task); err != nil {
						yield(zero, err)
					}
					return
				}
				if !yield(it.v, nil) {
					// Stop the producer and wait for it to return.
					l.CallSoonThreadsafe(func(context.Context) {
						stopped = true
						task.Cancel("")
					})
					RunFuture(context.WithoutCancel(ctx), task)
					return
				}
				l.CallSoonThreadsafe(func(context.Context) {
					outstanding = false
					if req != nil && !req.Done() {
						req.SetResult(struct{}{})
					}
				})
			case <-ctx.Done():
				// RunFuture cancels the task and waits for it.
				if _, err := RunFuture(ctx, task); err != nil {
					yield(zero, err)
				}
				return
			}
		}
	}
}

// IterTrio runs gen, a trio-flavored producer, in the loop's nursery (as
// RunTrio does) and returns an iterator over the values gen yields, for
// asyncio code (a coroutine) to range over (trio-asyncio's trio_as_aio on
// an async iterator):
//
//	for v, err := range asyncio.IterTrio(ctx, gen) {
//		if err != nil { … } // gen's error, or the cancellation
//		use(v)
//	}
//
// gen is ordinary trio code that calls yield(v) for each value. yield
// hands v to the coroutine and blocks until the coroutine asks for the
// next value; it returns nil to go on, or trio's cancellation when gen's
// ctx is cancelled, which gen should return. Values are produced one at a
// time, as the coroutine asks for them.
//
// The trio call starts when a range loop starts; each range loop runs gen
// anew. The iteration ends when gen returns: with a nil error, after the
// last value; with an error, which the last iteration yields (with a zero
// value; a trio cancellation of gen's own comes as a *CancelledError, as
// RunTrio's future reports it). If the range loop is left early (break),
// gen's ctx is cancelled and the range loop's exit waits (on the loop, as
// an Await) until gen has returned. If the running task is cancelled
// while the range loop waits for a value, gen's ctx is cancelled too, and
// once gen has returned the iteration yields the task's *CancelledError.
//
// A coroutine-level call: range over it in the ctx of the running task
// (else the first iteration yields ErrAwaitOutsideTask). Cost: a RunTrio
// call, and per value one CallSoonThreadsafe and a future.
func IterTrio[T any](ctx context.Context, gen func(ctx context.Context, yield func(T) error) error) iter.Seq2[T, error] {
	if gen == nil {
		panic("asyncio: IterTrio with a nil producer")
	}
	return func(yield func(T, error) bool) {
		var zero T
		c, err := runningTask(ctx, "IterTrio")
		if err != nil {
			yield(zero, err)
			return
		}
		l := c.loop
		type item struct {
			v     T
			final bool
		}
		reqs := make(chan struct{}, 1)
		next := NewFuture[item](l) // loop-confined: the value the coroutine waits for
		fut := RunTrio(ctx, func(tctx context.Context) (struct{}, error) {
			return struct{}{}, gen(tctx, func(v T) error {
				if err := trio.CheckpointIfCancelled(tctx); err != nil {
					return err
				}
				if _, err := l.CallSoonThreadsafe(func(context.Context) {
					if !next.Done() {
						next.SetResult(item{v: v})
					}
				}); err != nil {
					return err
				}
				select {
				case <-reqs:
					return nil
				case <-tctx.Done():
					return trio.CheckpointIfCancelled(tctx)
				}
			})
		})
		fut.AddDoneCallback(func(context.Context) {
			if !next.Done() {
				next.SetResult(item{final: true})
			}
		})
		// finish waits for the trio call to end, whatever cancellations
		// the task gets meanwhile, and returns how it ended.
		finish := func() error {
			for !fut.Done() {
				Await(ctx, fut) // a cancellation of the task cancels fut again: harmless
			}
			_, err := fut.Result()
			return err
		}
		for {
			it, err := Await(ctx, next)
			if err != nil {
				// The task was cancelled (Await cancelled next): stop gen.
				fut.Cancel("")
				finish()
				yield(zero, err)
				return
			}
			if it.final {
				if err := finish(); err != nil {
					yield(zero, err)
				}
				return
			}
			next = NewFuture[item](l)
			if !yield(it.v, nil) {
				fut.Cancel("")
				finish()
				return
			}
			reqs <- struct{}{}
		}
	}
}
