package gojaloop

import (
	"context"

	"github.com/dop251/goja"
	"github.com/trioasyncio/trioasyncio/trio"
)

// Async makes fn callable from JavaScript as a function that returns a
// Promise. Set the result on the runtime, on the loop:
//
//	vm.Set("fetch", loop.Async(func(ctx context.Context, args []any) (any, error) {
//		... // an HTTP call with ctx
//	}))
//
// Each call exports its arguments (goja.Value.Export) and starts fn on a
// goroutine of the loop's trio block, with a ctx of its own: fn is
// trio-flavored Go code, may block, and should honour ctx. The ctx carries
// the block's asyncio loop, so fn may run asyncio-flavored code with
// asyncio.RunAsyncio (the loop runs it between the script's callbacks;
// exactly one of them runs at a time). When fn returns, the promise is
// resolved with its result (converted by the runtime's ToValue) or
// rejected with its error (a GoError, whose "value" is the error). A panic
// in fn rejects the promise with a *trio.PanicError.
//
// Cancellation: ctx is cancelled when the loop stops (Stop, Terminate, the
// end of an Open block). After a Stop the promise is rejected with that
// cancellation when the loop starts again; after a Terminate or the end of
// the block it is dropped with the rest of the pending work.
//
// A pending call is a job: Run waits for it, Stop counts it, WaitIdle waits
// for it. Called while the loop is not running (in Run's fn, before the
// loop starts), the call starts with the loop. Cost: one goroutine per call,
// for the duration of fn.
func (l *EventLoop) Async(fn func(ctx context.Context, args []any) (any, error)) func(goja.FunctionCall) goja.Value {
	return func(call goja.FunctionCall) goja.Value {
		args := make([]any, len(call.Arguments))
		for i, a := range call.Arguments {
			args[i] = a.Export()
		}
		p, resolve, reject := l.vm.NewPromise()
		j := new(job)
		l.initJob(j, kindCall, nil)
		l.add(j, 0)
		c := &goCall{loop: l, job: j, fn: fn, args: args, resolve: resolve, reject: reject}
		if s := l.cur; s != nil && s.canRun.Load() {
			c.start(s)
		} else {
			l.pushAux(c.startLater)
		}
		return l.vm.ToValue(p)
	}
}

// A goCall is one call of a function made by Async.
type goCall struct {
	loop            *EventLoop
	job             *job
	fn              func(ctx context.Context, args []any) (any, error)
	args            []any
	resolve, reject func(any) error
}

func (c *goCall) startLater() {
	l := c.loop
	if s := l.cur; s != nil && s.canRun.Load() {
		c.start(s)
		return
	}
	c.settle(nil, ErrNotRunning)
}

// start runs fn on a goroutine of the session's nursery, which delivers
// the result through the RunOnLoop queue: it reaches the promise even when
// the loop stops meanwhile (at the next start). Loop only.
func (c *goCall) start(s *session) {
	l := c.loop
	l.mu.Lock()
	defer l.mu.Unlock()
	if s.stopped || s.nursery == nil {
		l.aux = append(l.aux, c.startLater) // for the next start
		return
	}
	s.nursery.StartSoon(func(ctx context.Context) error {
		id := goid()
		l.addOwner(s, id)
		defer l.removeOwner(s, id)
		v, err := c.run(ctx)
		l.pushAux(func() { c.settle(v, err) })
		return nil
	})
}

// run calls fn, turning a panic into an error.
func (c *goCall) run(ctx context.Context) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, trio.NewPanicError(r)
		}
	}()
	return c.fn(ctx, c.args)
}

// settle resolves or rejects the promise, unless the job was dropped.
// Owner only.
func (c *goCall) settle(v any, err error) {
	l := c.loop
	if c.job.cancelled || l.dropping {
		return
	}
	c.job.cancelled = true
	l.remove(c.job)
	if err != nil {
		_ = c.reject(l.vm.NewGoError(err))
	} else {
		_ = c.resolve(v)
	}
	if s := l.cur; s != nil {
		l.checkIdle(s)
	}
}
