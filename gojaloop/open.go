package gojaloop

import (
	"context"
	"errors"
	"fmt"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

// Open runs body with an EventLoop whose loop runs for exactly the duration
// of body (the structured form): a new goja.Runtime, configured by opts as
// NewEventLoop's, on an asyncio loop in an OpenLoop block of its own. body
// is trio-flavored Go code running on the caller's goroutine; it gives the
// loop work with RunOnLoop, Do, Await, SetTimeout and the rest, and its ctx
// carries the asyncio loop (asyncio.GetRunningLoop, RunAsyncio, RunSync).
//
// When body returns, every job still pending (timers, intervals,
// immediates, RunOnLoop jobs, Go calls made with Async, promises awaited
// with Await) is dropped, a script still running is interrupted, and Open
// returns once the loop and every goroutine it started have ended; the loop
// is then terminated for good. With WaitIdle, a body that returns nil with
// its ctx not done first waits until the loop has nothing left to do.
//
// Cancellation: a deadline or cancellation of ctx reaches body, which
// should return (every method of the loop taking a ctx does), and
// interrupts a script that Do or Await runs for it. The cancellation error
// that body returns leaves Open unchanged, so the trio scope that caused it
// (trio.MoveOnAfter, a nursery, a CancelScope) absorbs it.
//
// Errors: Open returns body's error, joined with the first panic of a loop
// callback, as a *trio.PanicError with its stack; such a panic stops the
// loop's jobs and cancels body. A panic in body is re-raised after the
// loop has been torn down.
//
// Within the block Start, StartInForeground and Run panic (the loop is
// running); Stop and Terminate stop the jobs until the block ends without
// waiting for it, and never hang.
func Open(ctx context.Context, body func(ctx context.Context, loop *EventLoop) error, opts ...Option) error {
	l := NewEventLoop(opts...)
	l.structured = true
	return l.block(ctx, body)
}

// block runs the loop of an Open block for the duration of body.
func (l *EventLoop) block(ctx context.Context, body func(ctx context.Context, loop *EventLoop) error) (err error) {
	s := newSession(false)
	var scope trio.CancelScope
	s.cancelBody = scope.Cancel
	l.sess = s

	defer func() {
		if f := l.endSession(s); f != nil {
			err = errors.Join(err, fmt.Errorf("gojaloop: a loop callback panicked: %w", f.err))
		}
	}()
	return asyncio.OpenLoop(ctx, func(ctx context.Context, aloop *asyncio.Loop) error {
		return trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
			if err := l.open(aloop, n, s); err != nil {
				return err
			}
			// However body ends (a panic included), stop the jobs, cancel the
			// Go calls, and interrupt a script still running, which would
			// keep the loop's teardown waiting.
			defer func() {
				var why any = ErrTerminated
				if ctx.Err() != nil {
					why = context.Cause(ctx)
				}
				l.mu.Lock()
				l.terminated = true
				l.requestStop(s)
				l.mu.Unlock()
				n.CancelScope().Cancel()
				l.vm.Interrupt(why)
			}()
			return scope.Run(ctx, func(ctx context.Context) error {
				err := body(ctx, l)
				if err == nil && l.waitIdle && ctx.Err() == nil {
					err = l.awaitIdle(ctx, s)
				}
				return err
			})
		})
	})
}

// awaitIdle waits until the loop of s has no job and no RunOnLoop job left,
// or has stopped, or ctx is done.
func (l *EventLoop) awaitIdle(ctx context.Context, s *session) error {
	s.wantIdle.Store(true)
	l.pushAux(func() {}) // the loop's next drain checks for idleness
	select {
	case <-s.idle:
		return nil
	case <-s.stop:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
