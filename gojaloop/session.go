package gojaloop

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/dop251/goja"

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
	l.inJob.Store(true)
	fn(l.vm)
	l.inJob.Store(false)
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
