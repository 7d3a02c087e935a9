package asyncio

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio/internal/testhooks"
	"github.com/trioasyncio/trioasyncio/trio"
)

// A Loop is an asyncio event loop living inside a trio nursery
// (asyncio.AbstractEventLoop, minus run_forever/run_until_complete/close:
// the loop runs for exactly the duration of an OpenLoop block).
//
// One goroutine runs the loop. It runs callbacks and task steps one at a
// time, in CPython's order (see OpenLoop), so code running on the loop
// needs no locks between awaits. Task coroutines run on goroutines of
// their own (runtime coroutines, iter.Pull) but only ever in lockstep with
// the loop goroutine: exactly one of them runs at a time.
//
// Flavor: the scheduling methods (CallSoon, CallLater, CallAt) and the
// loop's objects (handles, futures, tasks) are loop-confined: use them
// only from the loop's callbacks and tasks. From other goroutines use
// CallSoonThreadsafe. In debug mode (SetDebug) a loop-confined method
// called from another goroutine panics with a message saying so; otherwise
// it is a data race. The goroutine-safe methods say so.
type Loop struct {
	// Loop-confined state: the loop goroutine and the coroutines it resumes.
	ready           []*Handle // callbacks to run, FIFO
	spare           []*Handle // the previous batch's slice, reused
	batch           []*Handle // the batch running, and the index of its callback running
	bi              int
	timers          timerHeap
	cancelledTimers int    // cancelled timers still in the heap
	timerSeq        uint64 // scheduling order of timers
	slab            []Handle
	state           loopState
	current         *taskCore // the task whose step is running
	tasks           taskList  // tasks not done
	timer           *time.Timer

	// Immutable after newLoop.
	epoch  time.Time // loop time 0, with a monotonic reading
	ctx    *loopCtx  // the ctx callbacks get by default
	ctxI   context.Context
	cancel context.CancelFunc
	poke   bool // cleanups may wake the loop (see reportUnretrieved)
	wake   chan struct{}

	// Goroutine-safe state.
	mu         sync.Mutex
	inbox      []*Handle        // from CallSoonThreadsafe, guarded by mu
	inboxSpare []*Handle        // loop-confined
	refuse     bool             // guarded by mu: closed to CallSoonThreadsafe
	handler    ExceptionHandler // guarded by mu
	hasInbox   atomic.Bool
	closed     atomic.Bool
	debug      atomic.Bool
	debugFresh atomic.Bool // debug mode turned on, and no batch has run in it yet
	slow       atomic.Int64
	loopGid    atomic.Int64
	curGid     atomic.Int64 // the goroutine of the running task (debug mode)

	// The boundary (bridge.go).
	nursery     *trio.Nursery          // the loop's nursery: the loop goroutine and RunTrio calls
	nctx        context.Context        // the nursery's ctx
	bodyScope   trio.CancelScope       // the OpenLoop body's scope, cancelled by a loop failure
	gate        *testhooks.Gate        // asynciotest's turn-taking; nil for OpenLoop
	closedCh    chan struct{}          // closed once the loop has closed
	trioCalls   map[*trioCall]struct{} // guarded by mu: RunTrio calls not finished
	trioCount   atomic.Int32           // len(trioCalls), for the loop goroutine's idle check
	failures    []error                // guarded by mu: what the default exception handler got
	stopReq     atomic.Bool            // Stop was called; acted on at the end of the iteration
	stopCh      chan struct{}          // guarded by mu: closed by the next stop, for WaitStopped
	stopSeen    bool                   // guarded by mu: a stop no WaitStopped has seen yet
	stopWaiters int                    // guarded by mu: the WaitStopped calls waiting on stopCh
	exec        atomic.Pointer[loopExecutors]
	panics      []panicked // futures failed by a panic, not yet retrieved (futures.go)
	io          *ioState   // the loop's I/O (selector_events.go); nil until the first I/O call
}

type loopState uint8

const (
	stateRunning  loopState = iota
	stateDraining           // the body has returned: remaining tasks are cancelled and awaited
	stateClosing            // pending work is dropped and coroutines are stopped
	stateClosed             // OpenLoop is returning or has returned
)

// CPython's base_events constants: cancelled timers are purged in bulk when
// they are more than half (_MIN_CANCELLED_TIMER_HANDLES_FRACTION) of a heap
// of more than 100 (_MIN_SCHEDULED_TIMER_HANDLES).
const (
	minScheduledTimerHandles = 100
	handleSlab               = 128
	defaultSlowCallback      = 100 * time.Millisecond
)

type loopKey struct{}

// loopCtx carries the loop in a context.
type loopCtx struct {
	context.Context
	loop *Loop
}

func (c *loopCtx) Value(key any) any {
	switch key.(type) {
	case loopKey:
		return c.loop
	case taskKey:
		return nil // a callback never runs inside a task
	}
	return c.Context.Value(key)
}

func newLoop(parent context.Context) *Loop {
	l := &Loop{epoch: time.Now(), wake: make(chan struct{}, 1), closedCh: make(chan struct{})}
	base, cancel := context.WithCancel(context.WithoutCancel(parent))
	l.ctx = &loopCtx{Context: base, loop: l}
	l.ctxI = l.ctx
	l.cancel = cancel
	l.slow.Store(int64(defaultSlowCallback))
	// A synctest bubble's fake clock starts in 2000: waking a bubbled loop
	// from the runtime's cleanup goroutine (outside every bubble) would be
	// a fatal error, so cleanups only wake loops whose clock looks real.
	l.poke = l.epoch.Year() >= 2010
	return l
}

// GetRunningLoop returns the loop ctx carries: the loop of the OpenLoop
// block, callback or task ctx comes from. Without one, or once that loop
// has closed, it returns ErrNoRunningLoop. Goroutine-safe.
func GetRunningLoop(ctx context.Context) (*Loop, error) {
	if ctx != nil {
		if l, _ := ctx.Value(loopKey{}).(*Loop); l != nil && !l.closed.Load() {
			return l, nil
		}
	}
	return nil, ErrNoRunningLoop
}

// run is the loop goroutine.
func (l *Loop) run() {
	if g := l.gate; g != nil && g.Exited != nil {
		defer close(g.Exited)
	}
	l.loopGid.Store(goid())
	l.timer = time.NewTimer(time.Hour)
	l.timer.Stop()
	l.hold()
	for !l.runLoop() {
	}
	l.close()
}

// runLoop runs iterations until the loop is to close, and reports true
// then. If a callback panics, it reports the panic to the exception
// handler and returns false; run calls it again, and it first finishes the
// interrupted batch. (One deferred recover for many iterations: the hot
// path pays nothing for it.)
//
// The batch loop and the resumption of tasks are written out here rather
// than in helpers: after a switch from a coroutine every return to a frame
// entered before the switch is a mispredicted return, so the hot path
// keeps the loop goroutine's stack shallow at the switch.
func (l *Loop) runLoop() (done bool) {
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
	if l.batch != nil {
		// Finish the iteration the panic interrupted, and end it as usual.
		l.runBatch(l.bi)
		if l.stopReq.Load() {
			l.stopped()
		}
		if l.state == stateDraining && l.tasks.Len() == 0 && l.trioCount.Load() == 0 {
			return true
		}
	}
	for l.state < stateClosing {
		l.prepare()
		if batch := l.ready; len(batch) > 0 {
			l.ready = l.spare
			l.batch = batch
			if l.debug.Load() {
				l.runBatch(0)
			} else {
				for i := 0; i < len(batch); i++ {
					l.bi = i
					h := batch[i]
					if !h.cancelled {
						if fn := h.fn; fn != nil {
							fn(h.ctx)
							h.fn, h.ctx = nil, nil
						} else if c := h.ctx.(*taskCtx).t; c.beginStep() {
							l.current = c
							_, more := c.next()
							l.current = nil
							if !more {
								c.finish()
							}
						}
					}
					batch[i] = nil
				}
				l.spare = batch[:0]
				l.batch = nil
			}
		}
		if l.stopReq.Load() {
			l.stopped()
		}
		if l.state == stateDraining && l.tasks.Len() == 0 && l.trioCount.Load() == 0 {
			break
		}
	}
	return true
}

// prepare is the first part of an iteration (CPython's _run_once up to
// running the callbacks): purge cancelled timers; if nothing is ready,
// sleep until the next timer or a CallSoonThreadsafe; append the
// threadsafe callbacks, then the timers that are due, to the ready queue.
func (l *Loop) prepare() {
	// Purge cancelled timers: in bulk if they are too many, else from the head.
	if n := len(l.timers); n > minScheduledTimerHandles && 2*l.cancelledTimers > n {
		l.purgeTimers()
	} else {
		for len(l.timers) > 0 && l.timers[0].cancelled {
			l.timers.pop()
			l.cancelledTimers--
		}
	}

	if len(l.ready) == 0 && !l.hasInbox.Load() {
		switch {
		case len(l.timers) > 0:
			if d := l.timers[0].when - l.now(); d > 0 {
				l.sleep(time.Duration(d))
			}
		case l.state == stateDraining && l.trioCount.Load() == 0:
			// Nothing is ready, no timer is set and no trio call of the
			// loop is unwinding: the remaining tasks wait for something
			// only a goroutine outside the loop's nursery could do. Give
			// up on them rather than hang.
			l.state = stateClosing
			return
		default:
			<-l.wake
		}
	}

	if l.hasInbox.Load() {
		l.drainInbox()
	}
	if len(l.timers) > 0 {
		now := l.now()
		for len(l.timers) > 0 && l.timers[0].when <= now {
			th := l.timers.pop()
			if th.cancelled {
				l.cancelledTimers--
				continue
			}
			l.ready = append(l.ready, &th.Handle)
		}
	}
}

// sleep blocks until d has passed or CallSoonThreadsafe pokes the loop.
// Inside a testing/synctest bubble both are durable blocks on the bubble's
// fake clock.
//
// Design note: the wait watches no ctx. The loop is shielded from the
// cancellation around OpenLoop (the design's S9) and learns that its block
// is over from a callback the block posts when its body returns, through
// the same inbox as CallSoonThreadsafe.
func (l *Loop) sleep(d time.Duration) {
	l.timer.Reset(d)
	select {
	case <-l.wake:
		l.timer.Stop()
	case <-l.timer.C:
	}
}

func (l *Loop) purgeTimers() {
	h := l.timers
	keep := h[:0]
	for _, th := range h {
		if th.cancelled {
			th.hpos = 0
		} else {
			keep = append(keep, th)
		}
	}
	clear(h[len(keep):])
	keep.heapify()
	l.timers = keep
	l.cancelledTimers = 0
}

func (l *Loop) drainInbox() {
	l.mu.Lock()
	in := l.inbox
	l.inbox = l.inboxSpare
	l.hasInbox.Store(false)
	l.mu.Unlock()
	l.ready = append(l.ready, in...)
	clear(in)
	l.inboxSpare = in[:0]
}

// runBatch runs l.batch[i:], as runLoop does: after a recovered panic,
// and in debug mode. l.bi tells runLoop's recover which callback
// panicked. Entries are cleared as they are done with, so that the slice
// keeps nothing alive once it is reused.
func (l *Loop) runBatch(i int) {
	batch := l.batch
	if l.debug.Load() {
		if l.debugFresh.Load() {
			l.debugFresh.Store(false)
		}
		for ; i < len(batch); i++ {
			l.bi = i
			l.runDebug(batch[i])
			batch[i] = nil
		}
	} else {
		for ; i < len(batch); i++ {
			l.bi = i
			h := batch[i]
			if !h.cancelled {
				if fn := h.fn; fn != nil {
					fn(h.ctx)
					h.fn, h.ctx = nil, nil
				} else {
					h.ctx.(*taskCtx).t.step()
				}
			}
			batch[i] = nil
		}
	}
	l.spare = batch[:0]
	l.batch = nil
}

// runDebug runs h and reports it if it was slow.
func (l *Loop) runDebug(h *Handle) {
	if h.cancelled {
		return
	}
	t0 := time.Now()
	step := h.stepOf()
	if step != nil {
		step.step()
	} else {
		h.fn(h.ctx)
	}
	if dt := time.Since(t0); dt >= l.SlowCallbackDuration() {
		slog.Warn(fmt.Sprintf("asyncio: executing %v took %.3f seconds", h, dt.Seconds()),
			"handle", h.String(), "duration", dt)
	}
	if step == nil {
		h.fn, h.ctx = nil, nil
	}
}

func (l *Loop) callbackPanicked(h *Handle, pe *trio.PanicError) {
	ec := ExceptionContext{Message: "Exception in callback " + h.String(), Err: pe, Handle: h}
	if h.dbg != nil {
		ec.SourceTraceback = h.dbg.String()
	}
	if h.stepOf() == nil {
		h.fn, h.ctx = nil, nil
	}
	l.CallExceptionHandler(ec)
}

// close drops what is pending, stops the coroutines and closes the loop.
func (l *Loop) close() {
	l.mu.Lock()
	l.refuse = true
	inbox := l.inbox
	l.inbox = nil
	l.mu.Unlock()
	l.state = stateClosing
	for _, h := range inbox {
		if h.report {
			// Reports of unretrieved exceptions are not work: deliver them.
			h.fn(h.ctx)
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
	l.closeIO()
	l.reportPanics()
	l.ready, l.slab = nil, nil
	l.timer.Stop()
	l.state = stateClosed
	l.closed.Store(true)
	l.cancel()
	l.shutdownExecutor()
	close(l.closedCh) // last: bridge waiters then see every outcome there will be
}

// now is the loop time: nanoseconds since the epoch, on the monotonic clock.
func (l *Loop) now() int64 { return int64(time.Since(l.epoch)) }

// Time returns the loop's current time: time.Now(), which carries a
// monotonic clock reading (asyncio's loop.time()). Inside a
// testing/synctest bubble it is the bubble's fake clock. Goroutine-safe.
//
// Design note: loop times are time.Time values rather than asyncio's float
// seconds, so that CallAt(loop.Time().Add(d)) reads as Go; internally the
// loop keeps int64 nanoseconds since its start.
func (l *Loop) Time() time.Time { return time.Now() }

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

// callCtx is the ctx a callback will get.
func (l *Loop) callCtx(opts []CallOption) context.Context {
	if len(opts) == 0 {
		return l.ctxI
	}
	ctx := l.ctxI
	for _, o := range opts {
		if o.ctx != nil {
			ctx = o.ctx
		}
	}
	if ctx != l.ctxI {
		if cl, _ := ctx.Value(loopKey{}).(*Loop); cl != l {
			ctx = &loopCtx{Context: ctx, loop: l}
		}
	}
	return ctx
}

// refused is what the scheduling methods do once the loop stops accepting
// work: while it closes (stopping coroutines, whose deferred calls may
// still schedule things) they return a handle that is cancelled and will
// never run; once it has closed, they panic.
func (l *Loop) refused(h *Handle, method string) {
	if l.state == stateClosed {
		panic(fmt.Sprintf("%v (%s after its OpenLoop block returned)", ErrLoopClosed, method))
	}
	h.cancelled = true
}

// pushReady queues h (a task step or done callback) unless the loop is
// closing, when the work is dropped.
func (l *Loop) pushReady(h *Handle) {
	if l.state > stateDraining {
		return
	}
	l.ready = append(l.ready, h)
}

// CallSoon schedules cb to run in a coming iteration, after the callbacks
// already scheduled (asyncio's call_soon). cb gets the loop's ctx, or the
// one given WithContext. A panic in cb goes to the exception handler, with
// its stack, and the loop goes on.
//
// Loop-confined. Cost: amortized, one allocation per 128 calls (see
// Handle).
// It panics if cb is nil or if the loop has closed.
func (l *Loop) CallSoon(cb func(ctx context.Context), opts ...CallOption) *Handle {
	if cb == nil {
		panic("asyncio: Loop.CallSoon with a nil callback")
	}
	debug := l.debug.Load()
	if debug {
		l.checkGoroutine("Loop.CallSoon")
	}
	h := l.newHandle()
	h.fn = cb
	h.ctx = l.callCtx(opts)
	if l.state > stateDraining {
		l.refused(h, "Loop.CallSoon")
		return h
	}
	if debug {
		h.dbg = captureSource(1)
	}
	l.ready = append(l.ready, h)
	return h
}

// CallLater schedules cb to run once d has passed (asyncio's call_later);
// d <= 0 means as soon as possible, after the callbacks already ready.
// Timers run in deadline order, ties in scheduling order. Loop-confined;
// panics as CallSoon does. Cost: one allocation and a heap insertion.
func (l *Loop) CallLater(d time.Duration, cb func(ctx context.Context), opts ...CallOption) *TimerHandle {
	now := l.now()
	when := now + int64(d)
	if d > 0 && when < now {
		when = math.MaxInt64
	}
	return l.callAt(when, cb, opts, "Loop.CallLater")
}

// CallAt schedules cb to run at t (asyncio's call_at), as CallLater does.
// t is compared with the loop's clock on the monotonic clock when t carries
// a monotonic reading (as Time() and time.Now() values do), else on the
// wall clock.
func (l *Loop) CallAt(t time.Time, cb func(ctx context.Context), opts ...CallOption) *TimerHandle {
	return l.callAt(int64(t.Sub(l.epoch)), cb, opts, "Loop.CallAt")
}

func (l *Loop) callAt(when int64, cb func(ctx context.Context), opts []CallOption, method string) *TimerHandle {
	if cb == nil {
		panic("asyncio: " + method + " with a nil callback")
	}
	debug := l.debug.Load()
	if debug {
		l.checkGoroutine(method)
	}
	th := &TimerHandle{when: when, seq: l.timerSeq}
	l.timerSeq++
	th.fn = cb
	th.ctx = l.callCtx(opts)
	th.loop = l
	if l.state > stateDraining {
		l.refused(&th.Handle, method)
		return th
	}
	if debug {
		th.dbg = captureSource(2)
	}
	l.timers.push(th)
	return th
}

// CallSoonThreadsafe schedules cb as CallSoon does, from any goroutine
// (asyncio's call_soon_threadsafe). It never blocks: it appends to the
// loop's inbox under a short lock and pokes the loop through a channel of
// capacity one, so wakeups coalesce and nothing is dropped. Callbacks from
// one goroutine run in the order they were scheduled.
//
// It returns ErrLoopClosed once the loop has begun dropping its pending
// work (after the shutdown described in OpenLoop); a callback accepted just
// before that is dropped with the rest of the pending work. The Handle it
// returns is loop-confined like any other: cancel it from the loop.
func (l *Loop) CallSoonThreadsafe(cb func(ctx context.Context), opts ...CallOption) (*Handle, error) {
	if cb == nil {
		panic("asyncio: Loop.CallSoonThreadsafe with a nil callback")
	}
	h := &Handle{fn: cb, ctx: l.callCtx(opts), loop: l}
	if l.debug.Load() {
		h.dbg = captureSource(1)
	}
	if err := l.enqueue(h); err != nil {
		return nil, err
	}
	return h, nil
}

func (l *Loop) enqueue(h *Handle) error {
	l.mu.Lock()
	if l.refuse {
		l.mu.Unlock()
		return ErrLoopClosed
	}
	l.inbox = append(l.inbox, h)
	l.hasInbox.Store(true)
	l.mu.Unlock()
	l.wakeup()
	return nil
}

func (l *Loop) wakeup() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// IsClosed reports whether the loop has closed. Goroutine-safe.
func (l *Loop) IsClosed() bool { return l.closed.Load() }

// SetDebug turns debug mode on or off (asyncio's set_debug). In debug
// mode loop-confined methods check their goroutine, handles, futures and
// tasks record where they were created, and callbacks that run longer
// than SlowCallbackDuration are logged (slog, level Warn). It costs a
// stack walk per scheduled callback. Goroutine-safe.
func (l *Loop) SetDebug(on bool) {
	if !l.debug.Swap(on) && on {
		l.debugFresh.Store(true)
	}
}

// GetDebug reports whether debug mode is on. Goroutine-safe.
func (l *Loop) GetDebug() bool { return l.debug.Load() }

// SlowCallbackDuration is the duration from which debug mode reports a
// callback or task step as slow; 100 ms unless set. Goroutine-safe.
func (l *Loop) SlowCallbackDuration() time.Duration { return time.Duration(l.slow.Load()) }

// SetSlowCallbackDuration sets SlowCallbackDuration (asyncio's
// loop.slow_callback_duration). Goroutine-safe.
func (l *Loop) SetSlowCallbackDuration(d time.Duration) { l.slow.Store(int64(d)) }

// String describes the loop for logs. Goroutine-safe.
func (l *Loop) String() string {
	return fmt.Sprintf("<Loop closed=%v debug=%v>", l.IsClosed(), l.GetDebug())
}
