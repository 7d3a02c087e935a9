package gojaloop

import (
	"context"

	"github.com/dop251/goja"
)

// RunOnLoop schedules fn to run on the loop as soon as possible. Jobs run
// in the order of the RunOnLoop calls that queued them. If the loop is not
// running, fn waits for the next Run or Start; a Stop leaves the jobs not
// yet run queued for the next start. The goja.Runtime passed to fn must
// not be used outside fn. Safe to call from any goroutine, including the
// loop. It returns false, and drops fn, if the loop is terminated.
//
// Cost: no goroutine; an append under a short lock, and, when the queue
// was empty, one CallSoonThreadsafe that wakes the loop for the whole batch.
func (l *EventLoop) RunOnLoop(fn func(*goja.Runtime)) bool {
	return l.addAux(func() { fn(l.vm) })
}

// addAux queues fn for the loop unless the loop is terminated.
func (l *EventLoop) addAux(fn func()) bool {
	l.mu.Lock()
	if l.terminated {
		l.mu.Unlock()
		return false
	}
	l.aux = append(l.aux, fn)
	s := l.wakeLocked()
	l.mu.Unlock()
	l.wake(s)
	return true
}

// pushAux queues fn for the loop even if it is terminated (cleanup runs it).
func (l *EventLoop) pushAux(fn func()) {
	l.mu.Lock()
	l.aux = append(l.aux, fn)
	s := l.wakeLocked()
	l.mu.Unlock()
	l.wake(s)
}

// wakeLocked returns the session to wake for a new RunOnLoop job, if any.
func (l *EventLoop) wakeLocked() *session {
	s := l.sess
	if s == nil || !s.live || l.drainQueued {
		return nil
	}
	l.drainQueued = true
	return s
}

func (l *EventLoop) wake(s *session) {
	if s != nil {
		// An error means the loop is closing: its session has stopped,
		// and the next one drains the queue when it starts.
		_, _ = s.loop.CallSoonThreadsafe(l.drainCb)
	}
}

// drain runs the queued RunOnLoop jobs, stopping as soon as the loop is
// told to stop: the jobs not run stay queued, in order.
func (l *EventLoop) drain(context.Context) {
	s := l.cur
	if s == nil || !s.canRun.Load() {
		return
	}
	l.runBatch(s, false)
	l.checkIdle(s)
}

// runBatch runs the RunOnLoop jobs queued now; unless final, it stops as
// soon as the loop is told to stop, leaving the rest queued, in order.
func (l *EventLoop) runBatch(s *session, final bool) {
	l.mu.Lock()
	batch := l.aux
	l.aux, l.auxSpare = l.auxSpare, nil
	l.drainQueued = false
	l.mu.Unlock()
	next := 0 // the first job not started
	defer func() {
		if next < len(batch) {
			// Stopped, or a job panicked: keep the rest, in front.
			rest := append([]func(){}, batch[next:]...)
			l.mu.Lock()
			l.aux = append(rest, l.aux...)
			l.mu.Unlock()
			return
		}
		l.mu.Lock()
		if l.auxSpare == nil {
			l.auxSpare = batch[:0]
		}
		l.mu.Unlock()
	}()
	l.inJob.Store(true)
	defer l.inJob.Store(false)
	for next < len(batch) {
		if !final && !s.canRun.Load() {
			return
		}
		fn := batch[next]
		batch[next] = nil
		next++
		fn()
	}
}
