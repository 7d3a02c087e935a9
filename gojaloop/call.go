package gojaloop

import (
	"context"
	"errors"
	"sync"

	"github.com/dop251/goja"
)

type callState uint8

const (
	callQueued    callState = iota // in the RunOnLoop queue
	callRunning                    // fn runs on the loop
	callWaiting                    // fn returned a pending promise
	callDone                       // result delivered
	callAbandoned                  // the caller's ctx was done first
)

// A call is one Do or Await: a function run on the loop for a caller that
// waits for its result on another goroutine.
type call struct {
	mu          sync.Mutex
	state       callState
	interrupted bool  // Interrupt called for this call
	cause       error // why it was interrupted
	done        chan struct{}

	val      goja.Value
	err      error
	panicked bool
	panicVal any
}

// complete delivers a result, unless the caller has gone.
func (c *call) complete(v goja.Value, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == callDone || c.state == callAbandoned {
		return
	}
	c.state = callDone
	c.val, c.err = v, err
	close(c.done)
}

// Do runs fn on the loop and returns its error. If ctx is done before fn
// starts, fn never runs and Do returns context.Cause(ctx) (in trio code,
// trio's cancellation, which the scope that caused it absorbs). If ctx is
// done while fn runs JavaScript, the script is interrupted
// (goja.Runtime.Interrupt) and Do returns an error matching both
// ErrInterrupted and that cancellation; native Go code called by the
// script is not interrupted, and Do waits for it. A panic in fn is
// re-raised in Do's caller.
//
// Do waits for the loop: on a stopped loop, until it is started again (or
// ctx is done). It returns ErrTerminated at once on a terminated loop, and
// if the loop is terminated (or its Open block ends) before fn runs. From
// the loop's own jobs (and Run's fn), which it would wait for forever, it
// returns ErrOnLoop: there, use the runtime directly. Cost: one RunOnLoop
// job and a channel hand-off (plus 2 µs when called while a job runs).
func (l *EventLoop) Do(ctx context.Context, fn func(vm *goja.Runtime) error) error {
	_, err := l.call(ctx, func(vm *goja.Runtime) (goja.Value, error) {
		return nil, fn(vm)
	}, false)
	return err
}

// Await runs fn on the loop, as Do does, and if fn returns a Promise, waits
// until the promise is settled: it returns the fulfilled value, or, for a
// rejection, a *RejectionError carrying the reason (errors.Is(err,
// ErrRejected)). Any other value is returned as it is. If ctx is done while
// the promise is pending, Await returns context.Cause(ctx) and the promise
// is left to settle unobserved; if the loop is terminated (or its Open
// block ends) first, Await returns ErrTerminated.
//
// The value returned belongs to the loop's runtime: read it on the loop
// (RunOnLoop, Do), or, for a primitive, call Export at once. Errors, ctx,
// interruption and threading as for Do.
func (l *EventLoop) Await(ctx context.Context, fn func(vm *goja.Runtime) (goja.Value, error)) (goja.Value, error) {
	return l.call(ctx, fn, true)
}

func (l *EventLoop) call(ctx context.Context, fn func(*goja.Runtime) (goja.Value, error), await bool) (goja.Value, error) {
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	if l.inJob.Load() && l.onLoop() {
		return nil, ErrOnLoop
	}
	c := &call{done: make(chan struct{})}
	l.mu.Lock()
	if l.calls == nil {
		l.calls = make(map[*call]struct{})
	}
	l.calls[c] = struct{}{}
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		delete(l.calls, c)
		l.mu.Unlock()
	}()
	if !l.addAux(func() { l.runCall(c, fn, await) }) {
		return nil, ErrTerminated
	}
	select {
	case <-c.done:
	case <-ctx.Done():
		c.mu.Lock()
		switch c.state {
		case callQueued, callWaiting:
			c.state = callAbandoned
			c.mu.Unlock()
			return nil, context.Cause(ctx)
		case callRunning:
			c.interrupted = true
			c.cause = context.Cause(ctx)
			l.vm.Interrupt(c.cause)
		}
		c.mu.Unlock()
		<-c.done
	}
	if c.panicked {
		panic(c.panicVal)
	}
	return c.val, c.err
}

// onLoop reports whether the caller is the goroutine running the loop's
// jobs (or Run's fn). It costs a goroutine-id read (about 2 µs), paid only
// when a job is running.
func (l *EventLoop) onLoop() bool {
	me := goid()
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.sess
	return s != nil && (s.loopGoid == me || s.fnGoid == me)
}

// runCall runs the function of c on the loop (or on the goroutine that
// owns the jobs while the loop is stopped, in Terminate).
func (l *EventLoop) runCall(c *call, fn func(*goja.Runtime) (goja.Value, error), await bool) {
	c.mu.Lock()
	if c.state != callQueued {
		c.mu.Unlock()
		return
	}
	c.state = callRunning
	c.mu.Unlock()

	var v goja.Value
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				c.mu.Lock()
				c.panicked, c.panicVal = true, r
				c.mu.Unlock()
			}
			c.mu.Lock()
			if c.interrupted {
				// The interrupt may have come after the last JavaScript
				// instruction: do not let it hit the next job.
				l.vm.ClearInterrupt()
				var ie *goja.InterruptedError
				if errors.As(err, &ie) {
					err = &interruptError{cause: c.cause}
				}
			}
			c.mu.Unlock()
		}()
		v, err = fn(l.vm)
	}()
	if c.panicked || err != nil || !await {
		c.complete(v, err)
		return
	}
	p, ok := exportPromise(v)
	if !ok {
		c.complete(v, nil)
		return
	}
	switch p.State() {
	case goja.PromiseStateFulfilled:
		c.complete(p.Result(), nil)
		return
	case goja.PromiseStateRejected:
		c.complete(nil, newRejectionError(p.Result()))
		return
	}
	c.mu.Lock()
	if c.state == callRunning {
		c.state = callWaiting
	}
	c.mu.Unlock()
	settle := c.complete
	then, _ := goja.AssertFunction(v.ToObject(l.vm).Get("then"))
	_, err = then(v,
		l.vm.ToValue(func(call goja.FunctionCall) goja.Value {
			settle(call.Argument(0), nil)
			return goja.Undefined()
		}),
		l.vm.ToValue(func(call goja.FunctionCall) goja.Value {
			settle(nil, newRejectionError(call.Argument(0)))
			return goja.Undefined()
		}))
	if err != nil {
		settle(nil, err)
	}
}

// exportPromise returns the Promise v is, if it is one.
func exportPromise(v goja.Value) (*goja.Promise, bool) {
	if v == nil {
		return nil, false
	}
	if _, ok := v.(*goja.Object); !ok {
		return nil, false
	}
	p, ok := v.Export().(*goja.Promise)
	return p, ok && p != nil
}
