package gojaloop

import (
	"context"

	"github.com/dop251/goja"
	"github.com/trioasyncio/trioasyncio/asyncio"
)

// Run calls fn, then runs the loop until no timer, interval, immediate or
// Go call (see Async) is pending, then stops the loop and returns.
// RunOnLoop jobs do not keep it running. fn runs on the calling goroutine
// before the loop starts; the goja.Runtime and any values derived from it
// must not be used outside fn.
//
// Do not call Run while the loop is running (use RunOnLoop): it panics with
// "Loop is already started". A panic in a callback stops the loop and is
// re-raised by Run with the value it was raised with.
func (l *EventLoop) Run(fn func(*goja.Runtime)) {
	s := l.begin(true)
	ran := false
	defer func() {
		if !ran {
			l.mu.Lock()
			l.requestStop(s)
			l.sess = nil
			close(s.done)
			l.cond.Broadcast()
			l.mu.Unlock()
		}
	}()
	me := goid()
	l.mu.Lock()
	s.owners[me]++
	s.fnGoid = me
	l.mu.Unlock()
	func() {
		l.inJob.Store(true)
		defer l.inJob.Store(false)
		fn(l.vm)
	}()
	l.mu.Lock()
	s.fnGoid = 0
	l.mu.Unlock()
	l.removeOwner(s, me)
	ran = true
	l.runSession(s)
}

// Start starts the loop in the background: on a goroutine of its own,
// which is the loop until Stop, StopNoWait or Terminate. Start panics if
// the loop is already running. If a Stop is still under way (after
// StopNoWait), Start waits for it to finish.
//
// A panic in a callback stops the loop and is re-raised on the loop's
// goroutine, which crashes the program, as with goja_nodejs; use
// StartInForeground to recover from it.
func (l *EventLoop) Start() {
	s := l.begin(false)
	go l.runSession(s)
}

// StartInForeground runs the loop on the calling goroutine until Stop,
// StopNoWait or Terminate. It panics if the loop is already running.
// A panic in a callback stops the loop and is re-raised here, so the
// caller can recover from it.
func (l *EventLoop) StartInForeground() {
	s := l.begin(false)
	l.runSession(s)
}

// Stop stops the loop and returns the number of jobs (timers, intervals,
// immediates and Go calls) still pending. Once Stop returns no job runs
// until the next Run or Start, which resumes the pending ones: timers keep
// their deadlines (use Terminate to drop them). Go calls made from
// JavaScript (Async) are cancelled by a Stop.
//
// Stop never hangs. On a loop that is not running it does nothing. Called
// from the loop's own callbacks (or from a Go call of Async, or from Run's
// fn), it cannot wait for the loop to finish, since the loop is running
// its caller: it stops the loop as StopNoWait does, and no further job runs
// once the current one returns. In an Open block, Stop stops running jobs
// until the block ends and waits only for the job running at the moment.
func (l *EventLoop) Stop() int {
	l.stopAndWait(false)
	return int(l.jobCount.Load())
}

// StopNoWait tells the loop to stop and returns at once: the job running
// now finishes, no other starts. It may be called from anywhere, including
// the loop. On a loop that is not running it does nothing.
func (l *EventLoop) StopNoWait() {
	l.mu.Lock()
	if s := l.sess; s != nil && !s.stopped {
		s.finalDrain = true
		l.requestStop(s)
	}
	l.mu.Unlock()
}

// Terminate stops the loop and drops every timer, interval and immediate;
// afterwards RunOnLoop returns false and SetTimeout and SetInterval return
// nil, until the loop is started again with Start or Run. RunOnLoop jobs
// queued before the Terminate still run (on the goroutine that finishes the
// loop), as with goja_nodejs. When Terminate returns, no goroutine or timer
// of the loop is left, except when it is called from the loop's own
// callbacks: then the loop finishes, and drops its jobs, as soon as the
// current callback returns. Terminate never hangs, and may be called any
// number of times.
func (l *EventLoop) Terminate() {
	l.stopAndWait(true)
}

// stopAndWait requests a stop (terminating when terminate) and waits for
// it, except where waiting could hang. A stopped loop is cleaned up here
// when terminating.
func (l *EventLoop) stopAndWait(terminate bool) {
	me := goid()
	l.mu.Lock()
	if terminate {
		l.terminated = true
	}
	s := l.sess
	if s == nil {
		if !terminate || l.busy {
			l.mu.Unlock()
			return
		}
		l.busy = true
		l.busyOwner = me
		l.mu.Unlock()
		defer func() {
			l.mu.Lock()
			l.busy = false
			l.cond.Broadcast()
			l.mu.Unlock()
		}()
		l.cleanup()
		return
	}
	if terminate {
		s.terminate = true
	}
	if !s.stopped {
		s.finalDrain = true
	}
	l.requestStop(s)
	own := s.owners[me] > 0
	structured := l.structured
	aloop := s.loop
	l.mu.Unlock()
	switch {
	case own:
	case structured:
		l.quiesce(s, aloop)
	default:
		<-s.done
	}
}

// quiesce waits until the loop of s has finished the callback running now.
func (l *EventLoop) quiesce(s *session, aloop *asyncio.Loop) {
	if aloop == nil {
		return
	}
	ch := make(chan struct{})
	if _, err := aloop.CallSoonThreadsafe(func(context.Context) { close(ch) }); err != nil {
		return
	}
	select {
	case <-ch:
	case <-s.done:
	}
}

// cleanup drops every job, after running the queued RunOnLoop jobs (which
// may add or clear some). The caller owns the jobs.
func (l *EventLoop) cleanup() {
	l.dropping = true
	defer func() { l.dropping = false }()
	for {
		l.mu.Lock()
		batch := l.aux
		l.aux = nil
		l.mu.Unlock()
		if len(batch) == 0 {
			break
		}
		for _, fn := range batch {
			fn()
		}
	}
	for _, j := range l.jobs {
		j.cancelled = true
		j.idx = -1
		j.th, j.h = nil, nil
	}
	clear(l.jobs)
	l.jobs = l.jobs[:0]
	l.jobCount.Store(0)
	// Do and Await calls still queued or waiting for a promise: they will
	// never get a result.
	l.mu.Lock()
	calls := make([]*call, 0, len(l.calls))
	for c := range l.calls {
		calls = append(calls, c)
	}
	l.mu.Unlock()
	for _, c := range calls {
		c.complete(nil, ErrTerminated)
	}
}
