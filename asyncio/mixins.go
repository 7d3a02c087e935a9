package asyncio

import (
	"context"
	"errors"
	"fmt"

	"github.com/trioasyncio/trioasyncio/internal/ilist"
)

// What the synchronisation primitives (locks.go) and the queues
// (queues.go) share: CPython's mixins._LoopBoundMixin, and the FIFO lists
// of futures their tasks wait on.

// ErrDifferentLoop is returned by a wait on a lock, event, condition,
// semaphore, barrier or queue that is bound to another loop: such objects
// bind to the loop of the first task that waits on them (CPython: "… is
// bound to a different event loop").
var ErrDifferentLoop = errors.New("asyncio: object is bound to a different event loop")

// loopBound binds an object to a loop lazily, at its first wait, as
// CPython's _LoopBoundMixin does since 3.10: objects are created without a
// loop (their zero values work), and calls that never wait need none.
type loopBound struct {
	loop *Loop
}

// newWaiter returns a pending future for the running task of ctx to wait
// on, binding b to the task's loop if it is not bound yet (CPython's
// self._get_loop().create_future()). what names the operation in errors:
// ErrAwaitOutsideTask if ctx is not the running task's, ErrDifferentLoop
// if b is bound to another loop.
func (b *loopBound) newWaiter(ctx context.Context, what string) (*waiter, error) {
	c, err := runningTask(ctx, what)
	if err != nil {
		return nil, err
	}
	l := c.loop
	if b.loop == nil {
		b.loop = l
	} else if b.loop != l {
		return nil, fmt.Errorf("%w (%s)", ErrDifferentLoop, what)
	}
	// What NewFuture does, with the future inside the list node: one
	// allocation per wait.
	w := &waiter{}
	w.fut.core.loop = l
	if l.debug.Load() {
		w.fut.core.extra().dbg = captureSource(2)
	}
	return w, nil
}

// check panics when a method that takes no ctx is called from outside
// its loop: while the loop waits for work, or, in debug mode, from any
// goroutine other than its loop's (see Loop.SetDebug). It checks nothing
// before the object is bound.
// (kind and method are apart so that the hot path builds no string.)
func (b *loopBound) check(kind, method string) {
	if l := b.loop; l != nil {
		l.confined(kind + "." + method)
	}
}

// A waiter is a future a task waits on, and its node in a waitList.
type waiter struct {
	fut   Future[struct{}]
	links ilist.Links[waiter]
}

func (w *waiter) ListLinks() *ilist.Links[waiter] { return &w.links }

// wake sets the waiter's future's result unless it is done, and reports
// whether it did.
func (w *waiter) wake() bool {
	if w.fut.Done() {
		return false
	}
	w.fut.SetResult(struct{}{})
	return true
}

// waitList is a FIFO list of waiters (CPython's deque of futures) with
// O(1) removal of any waiter. Its zero value is an empty list.
type waitList struct {
	ilist.List[waiter, *waiter]
}

// allCancelled reports whether every waiter's future is cancelled (true
// for an empty list).
func (ls *waitList) allCancelled() bool {
	for w := ls.Front(); w != nil; w = ls.Next(w) {
		if !w.fut.Cancelled() {
			return false
		}
	}
	return true
}

// noCopy makes go vet's copylocks check report copies of the structs that
// hold one: a copied lock or queue would share its waiters' nodes.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}
