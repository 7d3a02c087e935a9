package trio

import (
	"context"
	"sync"

	"github.com/trioasyncio/trioasyncio/internal/ilist"
)

// A parkingLot is the FIFO queue of goroutines waiting for a
// synchronisation primitive (Trio's trio.lowlevel.ParkingLot). Lock,
// Semaphore, CapacityLimiter and Condition are each a little state and a
// parkingLot, guarded by one sync.Mutex that the primitive owns; the
// methods here must be called with that mutex held, except waiter.wait.
// (Misuse panics are raised with it released, by defer, so that a
// recovered panic cannot leave a primitive locked for good.)
//
// The protocol, which keeps every resource accounted for:
//
//   - A goroutine that must wait parks a waiter with park, releases the
//     mutex and calls wait, which blocks on the waiter's channel (never on
//     a mutex, so testing/synctest sees it as durably blocked).
//   - A releasing goroutine, holding the mutex, hands the resource over:
//     it takes the oldest waiter with unpark, which closes its channel,
//     and does the primitive's bookkeeping for it (marks the Lock taken by
//     it, lends it a token…). The resource never becomes free in between,
//     so nobody can barge in ahead of the queue.
//   - A waiter whose ctx is done takes the mutex and looks: if it is still
//     parked, it leaves the queue and returns the cancellation, having
//     taken nothing; if it was unparked meanwhile, the hand-over stands and
//     it returns nil. So a resource is never lost nor given twice, and an
//     operation that returns nil has completed, as in Trio, where a task
//     that was rescheduled cannot be aborted any more.
//
// The queue is an intrusive doubly-linked list, so parking, unparking and
// leaving are O(1); a waiter costs one small allocation and one channel.
type parkingLot struct {
	q ilist.List[waiter, *waiter]
}

// A waiter is one goroutine parked in a parkingLot.
type waiter struct {
	links    ilist.Links[waiter]
	ready    chan struct{} // closed by unpark
	lot      *parkingLot   // the lot holding it, nil once unparked or gone
	borrower any           // CapacityLimiter: who the token is for (nil: anonymous)
	task     *Task         // Lock and Condition: the task waiting, if any
	err      error         // set before ready is closed when the resource broke
}

func (w *waiter) ListLinks() *ilist.Links[waiter] { return &w.links }

// len returns the number of parked waiters.
func (l *parkingLot) len() int { return l.q.Len() }

// push appends w to the queue.
func (l *parkingLot) push(w *waiter) {
	w.lot = l
	l.q.PushBack(w)
}

// remove takes w, which must be parked in l, out of the queue.
func (l *parkingLot) remove(w *waiter) {
	l.q.Remove(w)
	w.lot = nil
}

// unpark removes the oldest waiter, wakes it and returns it, so that the
// caller can do the bookkeeping of the hand-over; it returns nil if the lot
// is empty.
func (l *parkingLot) unpark() *waiter {
	w := l.q.Front()
	if w != nil {
		l.remove(w)
		close(w.ready)
	}
	return w
}

// breakAll wakes every waiter with err instead of the resource (a Lock
// whose owner ended without releasing it).
func (l *parkingLot) breakAll(err error) {
	for w := l.q.Front(); w != nil; w = l.q.Front() {
		l.remove(w)
		w.err = err
		close(w.ready)
	}
}

// repark moves up to n of the oldest waiters, in order, to the back of to,
// without waking them (Condition.Notify moves them to its Lock's queue).
// Both lots must be guarded by the same mutex.
func (l *parkingLot) repark(to *parkingLot, n int) {
	for ; n > 0 && l.q.Len() > 0; n-- {
		w := l.q.Front()
		l.remove(w)
		to.push(w)
	}
}

// park parks w at the back of l and returns it; the caller then releases
// the mutex and calls w.wait.
func (l *parkingLot) park(w *waiter) *waiter {
	w.ready = make(chan struct{})
	l.push(w)
	return w
}

// wait blocks until a releaser unparks w (nil: the resource is now the
// caller's; or the error breakAll gave) or ctx is done (the cancellation:
// the caller has taken nothing). mu is the mutex guarding w's lot; wait
// must be called without it. If ctx wins, abandon (when not nil) runs with
// mu held after w has left its lot, to undo what the caller recorded for
// it.
func (w *waiter) wait(ctx context.Context, mu *sync.Mutex, abandon func()) error {
	select {
	case <-w.ready:
		return w.err
	case <-ctx.Done():
	}
	mu.Lock()
	defer mu.Unlock()
	if w.lot == nil {
		return w.err // unparked while ctx was being cancelled: the hand-over stands
	}
	w.lot.remove(w) // the lot it is in now: Condition.Notify may have moved it
	if abandon != nil {
		abandon()
	}
	return cancelError(ctx)
}
