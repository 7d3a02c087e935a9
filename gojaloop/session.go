package gojaloop

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

// A session is one run of the loop: from Run, Start, StartInForeground or
// Open until it stops. It is one asyncio loop in one OpenLoop block.
type session struct {
	loop   *asyncio.Loop // set before the loop runs any callback of ours
	canRun atomic.Bool   // cleared by a stop request: no job runs after

	runMode  bool        // Run: stop once no job is pending
	wantIdle atomic.Bool // Open with WaitIdle: close idle once idle

	// Guarded by EventLoop.mu.
	live       bool            // started and not stopping: wake it for RunOnLoop
	stopped    bool            // stop requested (stop is closed)
	terminate  bool            // Terminate: drop every job at the end
	finalDrain bool            // stopped by a Stop: run the queued jobs first
	idleClosed bool            // idle is closed
	owners     map[int64]int   // goroutines running on behalf of the session
	loopGoid   int64           // the loop's goroutine
	fnGoid     int64           // the goroutine running Run's fn, during fn
	failure    *sessionFailure // the first panic of a callback
	cancelBody func()          // Open: cancels the body on a failure
	nursery    *trio.Nursery   // where the Go calls of Async run

	stop chan struct{} // closed by the first stop request
	idle chan struct{} // closed once idle, when wantIdle
	done chan struct{} // closed once the session has ended
}

// A sessionFailure is a panic in one of the loop's callbacks.
type sessionFailure struct {
	value any   // the value panicked with
	err   error // as the loop reported it, with the stack
}

func newSession(runMode bool) *session {
	s := &session{
		runMode: runMode,
		owners:  make(map[int64]int),
		stop:    make(chan struct{}),
		idle:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	s.canRun.Store(true)
	return s
}

// requestStop asks s to stop; no job starts afterwards. l.mu held.
func (l *EventLoop) requestStop(s *session) {
	if s.stopped {
		return
	}
	s.stopped = true
	s.live = false
	s.canRun.Store(false)
	close(s.stop)
}

func (l *EventLoop) addOwner(s *session, id int64) {
	l.mu.Lock()
	s.owners[id]++
	l.mu.Unlock()
}

func (l *EventLoop) removeOwner(s *session, id int64) {
	l.mu.Lock()
	if s.owners[id]--; s.owners[id] <= 0 {
		delete(s.owners, id)
	}
	l.mu.Unlock()
}

// begin claims the loop for a new session, waiting for a session that is
// stopping (or a Terminate cleaning up) to finish first. It panics, as
// goja_nodejs does, if the loop is running.
func (l *EventLoop) begin(runMode bool) *session {
	me := goid()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.structured {
		panic("gojaloop: the loop of an Open block runs for the block; it cannot be started")
	}
	for l.sess != nil || l.busy {
		if s := l.sess; s != nil && (!s.stopped || s.owners[me] > 0) {
			panic("Loop is already started")
		}
		if l.busy && l.busyOwner == me {
			panic("gojaloop: the loop cannot be started by a job that Terminate is running")
		}
		l.cond.Wait()
	}
	l.terminated = false
	s := newSession(runMode)
	l.sess = s
	return s
}

// runSession runs s in an OpenLoop block on the calling goroutine until it
// stops, then re-raises a panic of one of its callbacks.
func (l *EventLoop) runSession(s *session) {
	// This goroutine finishes the session, and runs the queued jobs when
	// it is terminated: a Start from one of them must not wait for it.
	l.addOwner(s, goid())
	defer func() {
		if f := l.endSession(s); f != nil {
			panic(f.value)
		}
	}()
	var root trio.CancelScope
	_ = root.Run(context.Background(), func(ctx context.Context) error {
		return asyncio.OpenLoop(ctx, func(ctx context.Context, aloop *asyncio.Loop) error {
			return trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
				if err := l.open(aloop, n, s); err != nil {
					return err
				}
				<-s.stop
				l.finish(aloop, s)
				n.CancelScope().Cancel() // the Go calls of Async
				return nil
			})
		})
	})
}

// open hands the loop over to s: it installs the exception handler and
// schedules the start of s on the loop.
func (l *EventLoop) open(aloop *asyncio.Loop, n *trio.Nursery, s *session) error {
	l.mu.Lock()
	s.loop = aloop
	s.nursery = n
	l.mu.Unlock()
	aloop.SetExceptionHandler(func(_ *asyncio.Loop, ec asyncio.ExceptionContext) {
		l.onException(s, ec)
	})
	_, err := aloop.CallSoonThreadsafe(func(ctx context.Context) { l.startOnLoop(ctx, s) })
	return err
}

// finish runs, on the loop, the RunOnLoop jobs queued before a Stop,
// StopNoWait or Terminate, as goja_nodejs's loop does before it stops.
func (l *EventLoop) finish(aloop *asyncio.Loop, s *session) {
	l.mu.Lock()
	final := s.finalDrain && s.failure == nil
	l.mu.Unlock()
	if !final {
		return
	}
	done := make(chan struct{})
	_, err := aloop.CallSoonThreadsafe(func(context.Context) {
		defer close(done)
		if l.cur == s {
			l.runBatch(s, true)
		}
	})
	if err == nil {
		<-done
	}
}

// startOnLoop is the session's first callback: it takes the jobs over,
// re-arms those that a previous session left pending, and runs the
// RunOnLoop jobs queued meanwhile.
func (l *EventLoop) startOnLoop(ctx context.Context, s *session) {
	id := goid()
	l.mu.Lock()
	s.owners[id]++
	s.loopGoid = id
	if s.stopped {
		l.mu.Unlock()
		return
	}
	s.live = true
	l.drainQueued = false
	l.mu.Unlock()
	l.cur = s
	l.rearm(s)
	l.drain(ctx)
	l.checkIdle(s)
}

// onException receives what the asyncio loop could not return to anyone:
// a panic in one of the loop's callbacks. The first one stops the session
// and is re-raised by the goroutine that runs it.
func (l *EventLoop) onException(s *session, ec asyncio.ExceptionContext) {
	var v any = ec.Err
	var pe *trio.PanicError
	if errors.As(ec.Err, &pe) {
		v = pe.Value
	}
	if v == nil {
		v = ec.Message
	}
	l.mu.Lock()
	if s.failure == nil {
		s.failure = &sessionFailure{value: v, err: ec.Err}
	}
	l.requestStop(s)
	cancel := s.cancelBody
	l.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// endSession runs on the session's goroutine once its OpenLoop block has
// returned: no callback of it runs any more. It returns the session's
// failure, if any.
func (l *EventLoop) endSession(s *session) *sessionFailure {
	l.cur = nil
	for _, j := range l.jobs {
		j.th, j.h = nil, nil
	}
	l.mu.Lock()
	l.requestStop(s)
	drop := s.terminate || l.structured
	if l.structured {
		l.aux = nil
	}
	l.mu.Unlock()
	if drop {
		l.cleanup()
	}
	l.mu.Lock()
	l.sess = nil
	failure := s.failure
	close(s.done)
	l.cond.Broadcast()
	l.mu.Unlock()
	return failure
}
