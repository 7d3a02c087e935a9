package asyncio

import (
	"sync"
	"sync/atomic"
)

// The inbox is the one way other goroutines reach a loop: callbacks from
// CallSoonThreadsafe, the boundary's calls from trio code (RunAsyncio,
// RunSync…), results of executors and trio calls, and reports of
// exceptions never retrieved all arrive as handles posted here. The loop
// goroutine moves them to its ready queue at the start of each iteration,
// before the timers that are due, as CPython's call_soon_threadsafe
// callbacks join its _ready deque. I/O readiness arrives here too,
// through postIO: it joins the ready queue only at the start of an
// iteration, as CPython's selector events do, so that it never overtakes
// a callback the loop's own code scheduled earlier (a protocol's
// ConnectionMade before its first DataReceived).
//
// Locking: mu guards items, io and refuse; it is held only to append or
// to swap the slices, never while a callback runs. pending mirrors
// len(items)+len(io) > 0 so that the loop can look without the lock.
type inbox struct {
	mu      sync.Mutex
	items   []*Handle // guarded by mu
	io      []*Handle // guarded by mu: I/O readiness, after items
	refuse  bool      // guarded by mu: the loop has closed to outside work
	spare   []*Handle // loop goroutine only: the previous drain's slice
	ioSpare []*Handle // loop goroutine only

	pending atomic.Bool
	// wake has capacity one: posts coalesce into one wakeup, and a post
	// made while the loop is busy leaves a token that ends its next wait
	// at once, so nothing is missed.
	wake chan struct{}
	// poke is false inside a testing/synctest bubble, where the runtime's
	// cleanup goroutine (outside every bubble) must not touch the bubble's
	// wake channel: reports posted from there wait for the loop's next
	// wakeup instead. testing/synctest documents that a bubble's clock
	// starts at midnight UTC, January 1st 2000, which is how newLoop tells.
	poke bool
}

// post queues h for the loop and wakes it. It returns ErrLoopClosed once
// the loop has closed to outside work. Goroutine-safe.
func (in *inbox) post(h *Handle) error {
	in.mu.Lock()
	if in.refuse {
		in.mu.Unlock()
		return ErrLoopClosed
	}
	in.items = append(in.items, h)
	in.pending.Store(true)
	in.mu.Unlock()
	in.wakeup()
	return nil
}

// postIO queues the handling of I/O readiness, as post does.
func (in *inbox) postIO(h *Handle) error {
	in.mu.Lock()
	if in.refuse {
		in.mu.Unlock()
		return ErrLoopClosed
	}
	in.io = append(in.io, h)
	in.pending.Store(true)
	in.mu.Unlock()
	in.wakeup()
	return nil
}

// postReport queues a report of an exception never retrieved, from the
// runtime's cleanup goroutine. It reports false if the loop has closed:
// the caller then delivers the report itself.
func (in *inbox) postReport(h *Handle) bool {
	in.mu.Lock()
	if in.refuse {
		in.mu.Unlock()
		return false
	}
	in.items = append(in.items, h)
	in.pending.Store(true)
	in.mu.Unlock()
	if in.poke {
		in.wakeup()
	}
	return true
}

// wakeup ends the loop's current or next wait. It never blocks.
func (in *inbox) wakeup() {
	select {
	case in.wake <- struct{}{}:
	default:
	}
}

// drain appends what was posted, I/O readiness last, to ready and
// returns it: the start of an iteration. Loop goroutine only.
func (in *inbox) drain(ready []*Handle) []*Handle {
	in.mu.Lock()
	items, io := in.items, in.io
	in.items, in.io = in.spare, in.ioSpare
	in.pending.Store(false)
	in.mu.Unlock()
	ready = append(ready, items...)
	ready = append(ready, io...)
	clear(items)
	clear(io)
	in.spare, in.ioSpare = items[:0], io[:0]
	return ready
}

// drainCalls appends what was posted, but not I/O readiness, to ready and
// returns it: CallSoon's, which keeps the loop's own CallSoonThreadsafe
// and CallSoon calls in one FIFO order. Loop goroutine only.
func (in *inbox) drainCalls(ready []*Handle) []*Handle {
	in.mu.Lock()
	items := in.items
	in.items = in.spare
	in.pending.Store(len(in.io) > 0)
	in.mu.Unlock()
	ready = append(ready, items...)
	clear(items)
	in.spare = items[:0]
	return ready
}

// close refuses all further posts and returns what was posted and not
// drained. Loop goroutine only.
func (in *inbox) close() []*Handle {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.refuse = true
	items := append(in.items, in.io...)
	in.items, in.io, in.spare, in.ioSpare = nil, nil, nil, nil
	in.pending.Store(false)
	return items
}

// closed reports whether the inbox refuses posts. Goroutine-safe.
func (in *inbox) closed() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.refuse
}
