package asyncio

import (
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio/internal/turns"
	"github.com/trioasyncio/trioasyncio/trio"
)

// loopCore is the state the loop goroutine owns: the ready queue, the
// timers, the handles' memory, the tasks and the loop's lifecycle. Only
// the loop goroutine, and the task coroutine it is running (the two run in
// lockstep, never at once), touch it, so it needs no locks. The atomics at
// the end publish a little of it to other goroutines.
type loopCore struct {
	ready           []*Handle // callbacks to run in the next iteration, FIFO
	spare           []*Handle // the previous batch's slice, reused
	batch           []*Handle // the batch running
	bi              int       // the index in batch of the handle running
	timers          timerHeap
	cancelledTimers int    // cancelled timers still in the heap
	timerSeq        uint64 // scheduling order of timers
	slab            []Handle
	state           loopState
	current         *taskCore    // the task whose step is running
	tasks           taskList     // the tasks not done, in creation order
	idleCoros       []*coroutine // parked coroutines, for the next tasks
	io              *ioState     // the loop's I/O (selector_events.go); nil until the first I/O call
	panics          []panicked
	timer           *time.Timer

	closed atomic.Bool // state == stateClosed
	// wakes counts the loop goroutine's waits: even while it waits for
	// work (or is lent to asynciotest's caller), odd while it runs. A
	// goroutine that sees it even knows it cannot be running code of the
	// loop, and one that sees it unchanged and odd over a while knows the
	// loop has been busy all that time (see flavorGuard).
	wakes   atomic.Uint64
	loopGid atomic.Int64 // the loop goroutine's id (debug checks)
	curGid  atomic.Int64 // the running task's coroutine's id (debug checks): 0 when no task runs, unknownGid when its coroutine is not known yet

	// taskFactory is the loop's task factory (SetTaskFactory), nil for
	// none: goroutine-safe, read by every CreateTask.
	taskFactory atomic.Pointer[TaskFactory]
	// shutdownTasks are the tasks the teardown cancelled (teardown.go).
	shutdownTasks []*taskCore
}

type loopState uint8

const (
	stateRunning  loopState = iota
	stateDraining           // the body has returned: remaining tasks are cancelled and awaited
	stateClosing            // pending work is dropped and coroutines are stopped
	stateClosed             // OpenLoop is returning or has returned
)

// handleSlab is how many handles CallSoon carves from one allocation.
const handleSlab = 128

// run is the loop goroutine. It is never inlined: goroutine.go finds
// loop goroutines by its frame.
//
//go:noinline
func (l *Loop) run() {
	defer l.notify(turns.Exited, nil)
	l.loopGid.Store(goid())
	l.wakes.Store(1)
	l.timer = time.NewTimer(time.Hour)
	l.timer.Stop()
	l.notify(turns.Started, nil)
	for !l.runIterations() {
	}
	l.close()
}

// runIterations runs iterations until the loop is to close, and reports
// true then. If a callback panics, it reports the panic to the exception
// handler and returns false; run calls it again, and it first finishes
// the interrupted batch. (One deferred recover for many iterations: the
// hot path pays nothing for it.)
//
// The batch loop is the one place where the loop runs handles, debug mode
// or not. A handle is a callback, which is dropped once it has run, a
// task's step, or work of this package's own.
// Entries are cleared as they are done with, so that the slice keeps
// nothing alive once it is reused.
//
// Design note: the batch loop and the task's step are written out here,
// not in helpers: after a switch between goroutines every return to a
// frame entered before the switch is mispredicted, so the hot path keeps
// the loop goroutine's stack shallow at the switch (W3), and W1's
// one-callback iterations pay for no extra call.
func (l *Loop) runIterations() (done bool) {
	defer func() {
		if v := recover(); v != nil {
			if l.batch == nil {
				panic(v) // not a callback's: a bug of the loop itself
			}
			h := l.batch[l.bi]
			l.batch[l.bi] = nil
			l.bi++
			l.callbackPanicked(h, trio.NewPanicError(v))
		}
	}()
	for {
		if l.batch == nil {
			if l.state >= stateClosing {
				return true
			}
			l.prepare()
			if len(l.ready) > 0 {
				l.batch, l.ready, l.bi = l.ready, l.spare, 0
			}
		}
		if batch := l.batch; batch != nil {
			debug := l.debug.Load()
			var t0 time.Time
			for i := l.bi; i < len(batch); i++ {
				l.bi = i
				h := batch[i]
				if debug {
					t0 = time.Now()
				}
				switch r := h.run.(type) {
				case nil: // cancelled and dropped
				case callback:
					if !h.cancelled {
						r(h.ctx)
					}
					h.run = nil
				case *taskCore:
					if c := r; !h.cancelled && c.beginStep() {
						l.current = c
						if debug {
							l.noteRunning(c)
						}
						_, more := c.co.next()
						l.current = nil
						if debug {
							l.curGid.Store(0)
						}
						if !more || c.co.ended {
							c.finish()
						}
					}
				case loopCall:
					if !h.cancelled {
						r.onLoop(h)
					}
				}
				if debug {
					l.reportSlow(h, t0)
				}
				batch[i] = nil
			}
			l.spare = batch[:0]
			l.batch = nil
		}
		if l.blk.stopReq.Load() {
			l.stopped()
		}
		if l.state == stateDraining && l.idle() {
			return true
		}
	}
}

// prepare is the first part of an iteration (CPython's _run_once up to
// running the callbacks): purge cancelled timers; if nothing is ready,
// wait until the next timer or a post to the inbox; move what was posted,
// then the timers that are due, to the ready queue.
func (l *Loop) prepare() {
	if len(l.timers) > 0 {
		l.purgeCancelledTimers()
	}
	if len(l.ready) == 0 && !l.in.pending.Load() {
		switch {
		case len(l.timers) > 0:
			if d := l.timers[0].when - l.now(); d > 0 {
				l.sleep(time.Duration(d))
			}
		case l.state == stateDraining && l.blk.trioCount.Load() == 0:
			// Nothing is ready, no timer is set and no trio call of the
			// loop is unwinding: the remaining tasks wait for something
			// only a goroutine outside the loop's nursery could do. Give
			// up on them rather than hang.
			l.state = stateClosing
			return
		default:
			l.sleep(-1)
		}
	}
	if l.in.pending.Load() {
		l.ready = l.in.drain(l.ready)
	}
	if len(l.timers) > 0 {
		l.dueTimers(l.now())
	}
}

// sleep waits until d has passed (d < 0: forever) or something is posted
// to the inbox. Inside a testing/synctest bubble both are durable blocks
// on the bubble's fake clock.
//
// Design note: the wait watches no ctx. The loop is shielded from the
// cancellation around OpenLoop and learns that its block is over from a
// handle the block posts when its body returns, through the inbox.
func (l *Loop) sleep(d time.Duration) {
	l.wakes.Add(1)
	if d < 0 {
		<-l.in.wake
	} else {
		l.timer.Reset(d)
		select {
		case <-l.in.wake:
			l.timer.Stop()
		case <-l.timer.C:
		}
	}
	l.wakes.Add(1)
}

// reportSlow logs h if it ran for SlowCallbackDuration or longer (debug
// mode).
func (l *Loop) reportSlow(h *Handle, t0 time.Time) {
	if dt := time.Since(t0); dt >= l.SlowCallbackDuration() {
		slog.Warn(fmt.Sprintf("asyncio: executing %v took %.3f seconds", h, dt.Seconds()),
			"handle", h.String(), "duration", dt)
	}
}

func (l *Loop) callbackPanicked(h *Handle, pe *trio.PanicError) {
	ec := ExceptionContext{Message: "Exception in callback " + h.String(), Err: pe, Handle: h}
	if h.dbg != nil {
		ec.SourceTraceback = h.dbg.String()
	}
	h.run = nil
	l.CallExceptionHandler(ec)
}

// close drops what is pending, stops the coroutines and closes the loop.
func (l *Loop) close() {
	pending := l.in.close()
	l.state = stateClosing
	// Reports of errors nobody else will see are not work: deliver them.
	reports := pending[:0]
	for _, h := range pending {
		if h.report {
			reports = append(reports, h)
		}
	}
	if len(reports) > 0 {
		l.batch, l.bi = reports, 0
		for !l.runIterations() {
		}
	}
	for _, th := range l.timers {
		th.hpos = 0
	}
	l.timers, l.cancelledTimers = nil, 0
	l.ready, l.spare = nil, nil
	for c := l.tasks.Front(); c != nil; c = l.tasks.Front() {
		c.abandon()
	}
	for _, co := range l.idleCoros {
		co.stop()
	}
	l.idleCoros = nil
	l.closeIO()
	l.reportShutdownErrors()
	l.reportPanics()
	l.ready, l.slab = nil, nil
	l.timer.Stop()
	l.state = stateClosed
	l.closed.Store(true)
	l.cancel()
	l.shutdownExecutor()
	l.blk.markClosed() // last: the boundary's waiters then see every outcome there will be
}

// now is the loop time: nanoseconds since the epoch, on the monotonic clock.
func (l *Loop) now() int64 { return int64(time.Since(l.epoch)) }

// newHandle returns a zeroed handle carved from the current slab.
func (l *Loop) newHandle() *Handle {
	if len(l.slab) == 0 {
		l.slab = make([]Handle, handleSlab)
	}
	h := &l.slab[0]
	l.slab = l.slab[1:]
	return h
}

// pushReady queues h (a task step or done callback) unless the loop is
// closing, when the work is dropped.
func (l *Loop) pushReady(h *Handle) {
	if l.state > stateDraining {
		return
	}
	l.ready = append(l.ready, h)
}
