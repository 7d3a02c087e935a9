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
	running         *Handle   // the handle running (for a panic's report)
	timers          timerHeap
	cancelledTimers int    // cancelled timers still in the heap
	timerSeq        uint64 // scheduling order of timers
	slab            []Handle
	state           loopState
	current         *taskCore // the task whose step is running
	tasks           taskList  // the tasks not done, in creation order
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
	curGid  atomic.Int64 // the running task's coroutine's id (debug checks; 0 if unknown)
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
func (l *Loop) runIterations() (done bool) {
	defer func() {
		if v := recover(); v != nil {
			h := l.running
			if h == nil {
				panic(v) // not a callback's: a bug of the loop itself
			}
			l.running = nil
			l.bi++
			l.callbackPanicked(h, trio.NewPanicError(v))
		}
	}()
	if l.batch != nil {
		// Finish the iteration the panic interrupted, and end it as usual.
		l.runBatch(l.bi)
		if l.endIteration() {
			return true
		}
	}
	for l.state < stateClosing {
		l.prepare()
		if len(l.ready) > 0 {
			l.batch, l.ready = l.ready, l.spare
			l.runBatch(0)
		}
		if l.endIteration() {
			break
		}
	}
	return true
}

// prepare is the first part of an iteration (CPython's _run_once up to
// running the callbacks): purge cancelled timers; if nothing is ready,
// wait until the next timer or a post to the inbox; move what was posted,
// then the timers that are due, to the ready queue.
func (l *Loop) prepare() {
	l.purgeCancelledTimers()
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

// endIteration acts on a Stop and reports whether the loop may close now:
// its block's body has returned and nothing of it is left.
func (l *Loop) endIteration() bool {
	if l.blk.stopReq.Load() {
		l.stopped()
	}
	return l.state == stateDraining && l.idle()
}

// runBatch runs l.batch[i:]. Entries are cleared as they are taken, so
// that the slice keeps nothing alive once it is reused.
func (l *Loop) runBatch(i int) {
	batch := l.batch
	debug := l.debug.Load()
	for ; i < len(batch); i++ {
		l.bi = i
		h := batch[i]
		batch[i] = nil
		l.running = h
		if debug {
			l.dispatchTimed(h)
		} else {
			l.dispatch(h)
		}
	}
	l.running = nil
	l.spare = batch[:0]
	l.batch = nil
}

// dispatch runs one handle: a task's step, work of this package's own,
// or a callback, which is dropped once it has run. Every path of the loop
// runs handles through here.
func (l *Loop) dispatch(h *Handle) {
	switch {
	case h.cancelled:
	case h.task != nil:
		h.task.step()
	case h.call != nil:
		h.call.onLoop(h)
	default:
		h.fn(h.ctx)
		h.fn, h.ctx = nil, nil
	}
}

// dispatchTimed is dispatch in debug mode: it logs a slow callback.
func (l *Loop) dispatchTimed(h *Handle) {
	t0 := time.Now()
	l.dispatch(h)
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
	h.fn, h.ctx = nil, nil
	l.CallExceptionHandler(ec)
}

// close drops what is pending, stops the coroutines and closes the loop.
func (l *Loop) close() {
	pending := l.in.close()
	l.state = stateClosing
	for _, h := range pending {
		if h.report {
			// Reports of errors nobody else will see are not work:
			// deliver them.
			l.dispatch(h)
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
	h.loop = l
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
