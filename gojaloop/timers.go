package gojaloop

import (
	"context"
	"slices"
	"time"

	"github.com/dop251/goja"
	"github.com/trioasyncio/trioasyncio/asyncio"
)

// maxDelay is the longest delay in milliseconds that setTimeout and
// setInterval accept (2³¹−1, Node.js's TIMEOUT_MAX); longer ones become 1.
const maxDelay = 1<<31 - 1

type jobKind uint8

const (
	kindTimer jobKind = iota
	kindInterval
	kindImmediate
	kindCall // a Go call of Async, pending until its promise is settled
)

// A job is a pending timer, interval, immediate or Go call. Its state is
// owned by the loop (see EventLoop.jobs).
type job struct {
	loop      *EventLoop
	fn        func()                // a Go callback, or
	jsFn      goja.Callable         // a JavaScript one,
	args      []goja.Value          // called with these arguments
	cb        func(context.Context) // the loop callback that runs fn
	kind      jobKind
	cancelled bool
	idx       int    // in loop.jobs, -1 once removed
	seq       uint64 // creation order, for re-arming immediates in order

	when  time.Time     // next deadline (timers, intervals)
	every time.Duration // period (intervals)

	th *asyncio.TimerHandle // armed on the running loop, or nil
	h  *asyncio.Handle      // immediates armed on the running loop, or nil
}

// A Timer is a pending call made by SetTimeout or JavaScript's setTimeout;
// pass it to ClearTimeout or clearTimeout to cancel it.
//
// In JavaScript, the value setTimeout returns is the Timer itself (an
// object with no properties; Export gives back the *Timer). Its methods
// Get, Set, Has, Delete and Keys are what make it that object (a
// goja.DynamicObject, five times cheaper to make than a reflected Go
// value); they are not meant to be called from Go.
type Timer struct {
	job
}

// An Interval is a repeating call made by SetInterval or JavaScript's
// setInterval; pass it to ClearInterval or clearInterval to stop it. In
// JavaScript it is an object with no properties, as a Timer is.
type Interval struct {
	job
}

// An Immediate is a call made by JavaScript's setImmediate, run in a
// coming turn of the loop after the callbacks already queued; pass it to
// clearImmediate to cancel it. In JavaScript it is an object with no
// properties, as a Timer is.
type Immediate struct {
	job
}

// Get, Set, Has, Delete and Keys make timers, intervals and immediates
// goja.DynamicObjects with no properties: the handles that setTimeout,
// setInterval and setImmediate return to scripts.

// Get returns nil: the object has no properties.
func (j *job) Get(key string) goja.Value { return nil }

// Set refuses every property.
func (j *job) Set(key string, val goja.Value) bool { return false }

// Has reports false: the object has no properties.
func (j *job) Has(key string) bool { return false }

// Delete reports true: there is nothing to delete.
func (j *job) Delete(key string) bool { return true }

// Keys returns nil: the object has no properties.
func (j *job) Keys() []string { return nil }

func (l *EventLoop) initJob(j *job, kind jobKind, fn func()) {
	j.loop = l
	j.kind = kind
	j.fn = fn
	j.idx = -1
	j.cb = j.fire
}

// add makes j pending and, if the loop runs, arms it d from now. Owner only.
func (l *EventLoop) add(j *job, d time.Duration) {
	if j.cancelled {
		return // cleared before the loop took it (SetTimeout, then clearTimeout)
	}
	l.jobSeq++
	j.seq = l.jobSeq
	j.idx = len(l.jobs)
	l.jobs = append(l.jobs, j)
	l.jobCount.Add(1)
	if j.kind == kindInterval {
		// https://nodejs.org/api/timers.html#setintervalcallback-delay-args
		if d <= 0 {
			d = time.Millisecond
		}
		j.every = d
	}
	s := l.cur
	running := s != nil && s.canRun.Load()
	switch j.kind {
	case kindTimer, kindInterval:
		if running {
			j.th = s.loop.CallLater(d, j.cb)
			j.when = j.th.When()
		} else {
			j.when = time.Now().Add(d)
		}
	case kindImmediate:
		if running {
			j.h = s.loop.CallSoon(j.cb)
		}
	}
}

// remove takes j out of the pending jobs. Owner only.
func (l *EventLoop) remove(j *job) {
	idx := j.idx
	if idx < 0 {
		return
	}
	last := len(l.jobs) - 1
	if idx < last {
		l.jobs[idx] = l.jobs[last]
		l.jobs[idx].idx = idx
	}
	l.jobs[last] = nil
	l.jobs = l.jobs[:last]
	j.idx = -1
	l.jobCount.Add(-1)
}

// clear cancels j if it is pending. Owner only.
func (l *EventLoop) clear(j *job) {
	if j.cancelled {
		return
	}
	j.cancelled = true
	if j.th != nil {
		j.th.Cancel()
		j.th = nil
	}
	if j.h != nil {
		j.h.Cancel()
		j.h = nil
	}
	l.remove(j)
	if s := l.cur; s != nil {
		l.checkIdle(s)
	}
}

// fire is the loop callback of a timer, interval or immediate.
func (j *job) fire(context.Context) {
	l := j.loop
	s := l.cur
	if s == nil || !s.canRun.Load() {
		return // stopping: stays pending, re-armed by the next start
	}
	j.th, j.h = nil, nil
	if j.cancelled {
		return
	}
	if j.kind == kindInterval {
		now := s.loop.Time()
		if j.when = j.when.Add(j.every); j.when.Before(now) {
			j.when = now
		}
		j.call()
		if !j.cancelled && j.th == nil && s.canRun.Load() {
			j.th = s.loop.CallAt(j.when, j.cb)
		}
		return
	}
	j.cancelled = true
	l.remove(j)
	j.call()
	l.checkIdle(s)
}

// call runs the job's callback. A JavaScript exception is dropped, as
// goja_nodejs drops it (catch it in the script to see it).
func (j *job) call() {
	j.loop.inJob.Store(true)
	defer j.loop.inJob.Store(false)
	if j.jsFn != nil {
		_, _ = j.jsFn(nil, j.args...)
		return
	}
	j.fn()
}

// rearm arms the pending jobs on the loop of s, which has just started:
// timers and intervals at their deadlines, immediates in creation order.
func (l *EventLoop) rearm(s *session) {
	var imm []*job
	for _, j := range l.jobs {
		switch j.kind {
		case kindTimer, kindInterval:
			j.th = s.loop.CallAt(j.when, j.cb)
		case kindImmediate:
			imm = append(imm, j)
		}
	}
	slices.SortFunc(imm, func(a, b *job) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	for _, j := range imm {
		j.h = s.loop.CallSoon(j.cb)
	}
}

// checkIdle ends a Run once nothing is pending, and tells an Open block
// waiting for idleness. Loop only.
func (l *EventLoop) checkIdle(s *session) {
	if l.jobCount.Load() != 0 || (!s.runMode && !s.wantIdle.Load()) {
		return
	}
	l.mu.Lock()
	switch {
	case s.runMode:
		l.requestStop(s)
	case s.wantIdle.Load() && !s.idleClosed && len(l.aux) == 0:
		s.idleClosed = true
		close(s.idle)
	}
	l.mu.Unlock()
}

func (l *EventLoop) schedule(call goja.FunctionCall, repeating bool) goja.Value {
	fn, ok := goja.AssertFunction(call.Argument(0))
	if !ok {
		return nil
	}
	ms := call.Argument(1).ToInteger()
	if ms > maxDelay {
		ms = 1 // as Node.js does
	}
	delay := time.Duration(ms) * time.Millisecond
	var args []goja.Value
	if len(call.Arguments) > 2 {
		args = append(args, call.Arguments[2:]...)
	}
	if repeating {
		i := new(Interval)
		l.initJob(&i.job, kindInterval, nil)
		i.jsFn, i.args = fn, args
		l.add(&i.job, delay)
		return l.vm.NewDynamicObject(i)
	}
	t := new(Timer)
	l.initJob(&t.job, kindTimer, nil)
	t.jsFn, t.args = fn, args
	l.add(&t.job, delay)
	return l.vm.NewDynamicObject(t)
}

func (l *EventLoop) setTimeout(call goja.FunctionCall) goja.Value {
	return l.schedule(call, false)
}

func (l *EventLoop) setInterval(call goja.FunctionCall) goja.Value {
	return l.schedule(call, true)
}

func (l *EventLoop) setImmediate(call goja.FunctionCall) goja.Value {
	fn, ok := goja.AssertFunction(call.Argument(0))
	if !ok {
		return nil
	}
	var args []goja.Value
	if len(call.Arguments) > 1 {
		args = append(args, call.Arguments[1:]...)
	}
	i := new(Immediate)
	l.initJob(&i.job, kindImmediate, nil)
	i.jsFn, i.args = fn, args
	l.add(&i.job, 0)
	return l.vm.NewDynamicObject(i)
}

func (l *EventLoop) clearTimeout(t *Timer) {
	if t != nil {
		l.clear(&t.job)
	}
}

func (l *EventLoop) clearInterval(i *Interval) {
	if i != nil {
		l.clear(&i.job)
	}
}

func (l *EventLoop) clearImmediate(i *Immediate) {
	if i != nil {
		l.clear(&i.job)
	}
}

// SetTimeout schedules fn to run on the loop once timeout has passed,
// counted from when the loop takes the request (at once if it is running,
// else when it starts). It returns a Timer for ClearTimeout, or nil if the
// loop is terminated. The goja.Runtime passed to fn and values derived from
// it must not be used outside fn. Safe to call from any goroutine,
// including the loop. Cost: no goroutine; one timer on the loop.
func (l *EventLoop) SetTimeout(fn func(*goja.Runtime), timeout time.Duration) *Timer {
	t := new(Timer)
	l.initJob(&t.job, kindTimer, func() { fn(l.vm) })
	if l.addAux(func() { l.add(&t.job, timeout) }) {
		return t
	}
	return nil
}

// ClearTimeout cancels a Timer returned by SetTimeout if it has not run
// yet. Safe to call from any goroutine; it takes effect on the loop, in
// order with RunOnLoop jobs.
func (l *EventLoop) ClearTimeout(t *Timer) {
	if t == nil {
		return
	}
	l.addAux(func() { l.clear(&t.job) })
}

// SetInterval schedules fn to run on the loop every timeout (at least a
// millisecond), until ClearInterval. It returns an Interval, or nil if the
// loop is terminated. When the loop falls behind, missed ticks are dropped
// rather than run in a burst. The goja.Runtime passed to fn must not be
// used outside fn. Safe to call from any goroutine. Cost: no goroutine; one
// timer on the loop, re-armed after each tick.
func (l *EventLoop) SetInterval(fn func(*goja.Runtime), timeout time.Duration) *Interval {
	i := new(Interval)
	l.initJob(&i.job, kindInterval, func() { fn(l.vm) })
	if l.addAux(func() { l.add(&i.job, timeout) }) {
		return i
	}
	return nil
}

// ClearInterval stops an Interval returned by SetInterval. Safe to call
// from any goroutine; it takes effect on the loop, in order with RunOnLoop
// jobs, so a tick already running finishes.
func (l *EventLoop) ClearInterval(i *Interval) {
	if i == nil {
		return
	}
	l.addAux(func() { l.clear(&i.job) })
}
