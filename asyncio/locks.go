package asyncio

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// Synchronisation primitives for tasks of one loop: CPython's
// asyncio/locks.py, following its latest version (3.13, which has the fixes
// for lost wakeups that 3.12.1 lacks).

// A Lock is a mutual exclusion lock for tasks (asyncio.Lock). It is not
// owned by a task: any task or callback may release it. Tasks blocked in
// Acquire get it in FIFO order, and a task cancelled after it was woken
// passes the wakeup on: cancellation never loses one.
//
// What holds for all the primitives of this file (Lock, Event, Condition,
// Semaphore, BoundedSemaphore, Barrier):
//
//   - Flavor: loop-confined, like futures. Zero values are ready to use
//     (except Barrier's) and bind to the loop of the first task that waits
//     on them; a wait from a task of another loop afterwards returns
//     ErrDifferentLoop (calls that do not wait bind nothing, as in
//     asyncio). Waits work only in a task, through Await: from a callback
//     or trio-flavored code they return ErrAwaitOutsideTask. Calls that do
//     not wait (Release, Set, Notify…) may come from callbacks too, and
//     from trio code inside RunSync. A bound object used while its loop
//     waits for work (from trio code, say) panics, saying so; in debug
//     mode (Loop.SetDebug), so does one used from any goroutine other
//     than its loop's.
//   - Cost: an operation that does not wait allocates nothing; a wait
//     allocates one future, which is also its node in the list of waiters.
//   - Misuse that asyncio reports with RuntimeError or ValueError
//     (releasing an unlocked lock, waiting on a condition without holding
//     its lock, releasing a BoundedSemaphore too often) panics with a
//     message saying so. They must not be copied after first use (go vet
//     reports copies).
//
// Python's "async with lock:" is, in Go:
//
//	if err := lock.Acquire(ctx); err != nil {
//		return err
//	}
//	defer lock.Release()
//
// The zero value is an unlocked lock.
type Lock struct {
	_       noCopy
	bound   loopBound
	waiters waitList
	locked  bool
}

// Locked reports whether the lock is held.
func (m *Lock) Locked() bool { return m.locked }

// Acquire takes the lock, waiting until it is released if it is held, or
// if other tasks are already waiting for it: the lock goes to waiters in
// FIFO order.
//
// It returns nil once the lock is held; or the *CancelledError if the task
// is cancelled while it waits (the lock is then not held, and a wakeup it
// had already received passes to the next waiter); or, without waiting,
// ErrAwaitOutsideTask or ErrDifferentLoop if it would have to wait but
// cannot.
func (m *Lock) Acquire(ctx context.Context) error {
	// Fair: take the lock at once only when nobody waits (waiters that
	// are all cancelled are leaving).
	if !m.locked && m.waiters.allCancelled() {
		m.locked = true
		return nil
	}
	w, err := m.bound.newWaiter(ctx, "Lock.Acquire")
	if err != nil {
		return err
	}
	m.waiters.PushBack(w)
	_, err = Await(ctx, &w.fut)
	m.waiters.Remove(w)
	if err != nil {
		// Cancelled. If the lock is free, make sure the first waiter
		// runs: it may be that our wakeup is lost otherwise.
		if !m.locked {
			m.wakeUpFirst()
		}
		return err
	}
	m.locked = true
	return nil
}

// Release releases the lock and wakes the first task waiting for it, if
// any. It panics if the lock is not held (asyncio raises RuntimeError).
func (m *Lock) Release() {
	m.bound.check("Lock", "Release")
	if !m.locked {
		panic("asyncio: Lock.Release of an unlocked lock (Lock is not acquired)")
	}
	m.locked = false
	m.wakeUpFirst()
}

// wakeUpFirst makes sure the first waiter will wake up.
func (m *Lock) wakeUpFirst() {
	if w := m.waiters.Front(); w != nil {
		w.wake()
	}
}

// String describes the lock for logs, e.g. "<Lock [locked, waiters:2]>".
func (m *Lock) String() string {
	return describe("Lock", lockedStr(m.locked), m.waiters.Len())
}

func lockedStr(locked bool) string {
	if locked {
		return "locked"
	}
	return "unlocked"
}

func describe(kind, state string, waiters int) string {
	if waiters > 0 {
		state += ", waiters:" + strconv.Itoa(waiters)
	}
	return "<" + kind + " [" + state + "]>"
}

// An Event is a flag tasks can wait for (asyncio.Event): Set sets it and
// wakes every task waiting in Wait; Clear resets it.
//
// The zero value is a cleared event. An Event must not be copied after
// first use. Loop-confined and bound to a loop as Lock is.
type Event struct {
	_       noCopy
	bound   loopBound
	waiters waitList
	value   bool
}

// IsSet reports whether the flag is set.
func (e *Event) IsSet() bool { return e.value }

// Set sets the flag and wakes every task waiting for it. Tasks that call
// Wait while the flag is set return at once.
func (e *Event) Set() {
	e.bound.check("Event", "Set")
	if e.value {
		return
	}
	e.value = true
	for w := e.waiters.Front(); w != nil; w = e.waiters.Next(w) {
		w.wake()
	}
}

// Clear resets the flag: tasks that call Wait from now on wait for the
// next Set. Tasks already woken by a Set still return nil.
func (e *Event) Clear() {
	e.bound.check("Event", "Clear")
	e.value = false
}

// Wait returns nil at once if the flag is set, or else waits until Set is
// called. It returns the *CancelledError if the task is cancelled
// meanwhile; ErrAwaitOutsideTask or ErrDifferentLoop, without waiting, if
// it cannot wait.
func (e *Event) Wait(ctx context.Context) error { return e.wait(ctx, "Event.Wait") }

func (e *Event) wait(ctx context.Context, what string) error {
	if e.value {
		return nil
	}
	w, err := e.bound.newWaiter(ctx, what)
	if err != nil {
		return err
	}
	e.waiters.PushBack(w)
	_, err = Await(ctx, &w.fut)
	e.waiters.Remove(w)
	return err
}

// String describes the event for logs, e.g. "<Event [unset, waiters:1]>".
func (e *Event) String() string {
	state := "unset"
	if e.value {
		state = "set"
	}
	return describe("Event", state, e.waiters.Len())
}

// A Condition is a condition variable for tasks (asyncio.Condition): tasks
// holding its lock Wait until another task Notifies them.
//
// The zero value is a condition with a lock of its own; NewCondition gives
// it an existing lock. A Condition must not be copied after first use.
// Loop-confined and bound to a loop as Lock is.
type Condition struct {
	_       noCopy
	bound   loopBound
	lock    *Lock // nil: own
	own     Lock
	waiters waitList
}

// NewCondition returns a condition using lock, or a lock of its own if
// lock is nil (asyncio.Condition(lock)). Several conditions may share a
// lock.
func NewCondition(lock *Lock) *Condition {
	return &Condition{lock: lock}
}

func (c *Condition) lk() *Lock {
	if c.lock == nil {
		return &c.own
	}
	return c.lock
}

// Acquire acquires the condition's lock (see Lock.Acquire).
func (c *Condition) Acquire(ctx context.Context) error { return c.lk().Acquire(ctx) }

// Release releases the condition's lock (see Lock.Release).
func (c *Condition) Release() { c.lk().Release() }

// Locked reports whether the condition's lock is held.
func (c *Condition) Locked() bool { return c.lk().locked }

// Wait releases the lock, waits until a Notify or NotifyAll wakes the task,
// and acquires the lock again before it returns, in every case: also when
// the task is cancelled while it waits, or while it re-acquires the lock.
// It then returns the (latest) *CancelledError, and passes a notification
// it may have received to another waiter, so that none is lost. Wait may
// return spuriously: callers re-check their condition (or use WaitFor).
//
// The caller must hold the lock: Wait panics otherwise (asyncio raises
// RuntimeError). If it cannot wait it returns ErrAwaitOutsideTask or
// ErrDifferentLoop without releasing the lock.
func (c *Condition) Wait(ctx context.Context) error {
	lk := c.lk()
	if !lk.locked {
		panic("asyncio: Condition.Wait on an un-acquired lock")
	}
	w, err := c.bound.newWaiter(ctx, "Condition.Wait")
	if err != nil {
		return err
	}
	lk.Release()
	c.waiters.PushBack(w)
	_, err = Await(ctx, &w.fut)
	c.waiters.Remove(w)
	// Re-acquire the lock even if cancelled: cancellations meanwhile
	// replace err; another error (a lock of another loop) ends the loop.
	for {
		aerr := lk.Acquire(ctx)
		if aerr == nil {
			break
		}
		err = aerr
		if !errors.Is(aerr, ErrCancelled) {
			break
		}
	}
	if err != nil {
		// We may have been notified before the error: notify another
		// task instead (a spurious wakeup at worst).
		c.notify(1)
		return err
	}
	return nil
}

// WaitFor waits (with Wait) until predicate returns true, and returns nil
// then; it calls predicate first, and after each wakeup, with the lock
// held. If predicate is true at once, WaitFor needs no lock. Errors are
// Wait's.
func (c *Condition) WaitFor(ctx context.Context, predicate func() bool) error {
	for !predicate() {
		if err := c.Wait(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Notify wakes up to n tasks waiting on the condition, in FIFO order (n <=
// 0 wakes none). A woken task returns from Wait only once it has the lock
// again, which the caller still holds. The caller must hold the lock:
// Notify panics otherwise (asyncio raises RuntimeError).
func (c *Condition) Notify(n int) {
	c.bound.check("Condition", "Notify")
	if !c.lk().locked {
		panic("asyncio: Condition.Notify on an un-acquired lock")
	}
	c.notify(n)
}

// NotifyAll wakes every task waiting on the condition, as Notify does.
func (c *Condition) NotifyAll() { c.Notify(c.waiters.Len()) }

func (c *Condition) notify(n int) {
	for w := c.waiters.Front(); w != nil && n > 0; w = c.waiters.Next(w) {
		if w.wake() {
			n--
		}
	}
}

// String describes the condition for logs, e.g.
// "<Condition [locked, waiters:1]>".
func (c *Condition) String() string {
	return describe("Condition", lockedStr(c.Locked()), c.waiters.Len())
}

// A Semaphore is a counter of tokens for tasks (asyncio.Semaphore):
// Acquire takes one, waiting while none is left, and Release puts one back.
// Waiters get tokens in FIFO order, and a task calling Acquire while others
// wait queues behind them even if a token is free.
//
// The zero value is a semaphore with no token (NewSemaphore(0); asyncio's
// default is 1). A Semaphore must not be copied after first use.
// Loop-confined and bound to a loop as Lock is.
type Semaphore struct {
	_       noCopy
	bound   loopBound
	waiters waitList
	value   int
}

// NewSemaphore returns a semaphore with value tokens. It panics if value
// is negative (asyncio raises ValueError).
func NewSemaphore(value int) *Semaphore {
	if value < 0 {
		panic("asyncio: NewSemaphore: initial value must be >= 0")
	}
	return &Semaphore{value: value}
}

// Locked reports whether Acquire would wait: no token is left, or tasks
// are waiting (that have not been cancelled).
func (s *Semaphore) Locked() bool {
	return s.value == 0 || !s.waiters.allCancelled()
}

// Acquire takes a token, waiting for one in FIFO order if none is free or
// other tasks wait. It returns nil with the token; or the *CancelledError
// if the task is cancelled while it waits (a token it had already been
// given goes to the next waiter); or, without waiting,
// ErrAwaitOutsideTask or ErrDifferentLoop if it cannot wait.
func (s *Semaphore) Acquire(ctx context.Context) error {
	if !s.Locked() {
		s.value--
		return nil
	}
	w, err := s.bound.newWaiter(ctx, "Semaphore.Acquire")
	if err != nil {
		return err
	}
	s.waiters.PushBack(w)
	_, err = Await(ctx, &w.fut)
	s.waiters.Remove(w)
	if err != nil && w.fut.Done() && !w.fut.Cancelled() {
		// We were given a token but were cancelled before we could take
		// it: put it back.
		s.value++
	}
	// Waiters that came while tokens were free had to queue behind us:
	// wake as many as there are tokens.
	for s.value > 0 && s.wakeUpNext() {
	}
	return err
}

// Release puts a token back and gives it to the first waiter, if any.
func (s *Semaphore) Release() {
	s.bound.check("Semaphore", "Release")
	s.value++
	s.wakeUpNext()
}

// wakeUpNext gives a token to the first waiter not yet woken, and reports
// whether there was one.
func (s *Semaphore) wakeUpNext() bool {
	for w := s.waiters.Front(); w != nil; w = s.waiters.Next(w) {
		if w.wake() {
			s.value--
			return true
		}
	}
	return false
}

// String describes the semaphore for logs, e.g.
// "<Semaphore [unlocked, value:1]>".
func (s *Semaphore) String() string { return s.describe("Semaphore") }

func (s *Semaphore) describe(kind string) string {
	state := "locked"
	if !s.Locked() {
		state = "unlocked, value:" + strconv.Itoa(s.value)
	}
	return describe(kind, state, s.waiters.Len())
}

// A BoundedSemaphore is a Semaphore whose Release panics if it would make
// the tokens more than the initial value (asyncio.BoundedSemaphore, which
// raises ValueError): it catches releases without an acquire.
//
// Make one with NewBoundedSemaphore: the zero value has a bound of zero
// tokens (every Release panics). Loop-confined and bound to a loop as
// Lock is.
type BoundedSemaphore struct {
	Semaphore
	limit int
}

// NewBoundedSemaphore returns a bounded semaphore with value tokens, which
// is also its bound. It panics if value is negative.
func NewBoundedSemaphore(value int) *BoundedSemaphore {
	if value < 0 {
		panic("asyncio: NewBoundedSemaphore: initial value must be >= 0")
	}
	return &BoundedSemaphore{Semaphore: Semaphore{value: value}, limit: value}
}

// Release puts a token back, as Semaphore.Release does. It panics if that
// would make the tokens more than the initial value.
func (s *BoundedSemaphore) Release() {
	if s.value >= s.limit {
		panic("asyncio: BoundedSemaphore released too many times")
	}
	s.Semaphore.Release()
}

// String describes the semaphore for logs, e.g.
// "<BoundedSemaphore [locked, waiters:1]>".
func (s *BoundedSemaphore) String() string { return s.Semaphore.describe("BoundedSemaphore") }

// ErrBrokenBarrier is returned by Barrier.Wait when the barrier is broken
// by Abort, or reset by Reset while the task waits (asyncio's
// BrokenBarrierError).
var ErrBrokenBarrier = errors.New("asyncio: broken barrier")

var (
	errBarrierAborted = fmt.Errorf("%w: barrier aborted", ErrBrokenBarrier)
	errBarrierBroken  = fmt.Errorf("%w: abort or reset of barrier", ErrBrokenBarrier)
)

type barrierState uint8

const (
	barrierFilling barrierState = iota
	barrierDraining
	barrierResetting
	barrierBroken
)

var barrierStates = [...]string{"filling", "draining", "resetting", "broken"}

// A Barrier makes a fixed number of tasks, its parties, wait for each
// other (asyncio.Barrier): each calls Wait, and once all parties have,
// they are released together, and the barrier can be used again.
//
// A barrier is filling while tasks arrive; when the last party arrives it
// is draining, and tasks calling Wait then wait until the released ones
// have left; Reset makes the waiting tasks fail with ErrBrokenBarrier
// (resetting, until they have left) and then fills again; Abort breaks it
// for good: every Wait fails with ErrBrokenBarrier.
//
// Make one with NewBarrier: the zero value is not usable (Wait panics).
// A Barrier must not be copied after first use. Loop-confined and bound
// to a loop as Lock is (through its internal Condition).
type Barrier struct {
	_       noCopy
	cond    Condition // notifies every waiting task when the state changes
	parties int
	state   barrierState
	count   int // tasks in the barrier
}

// NewBarrier returns a barrier for parties tasks. It panics if parties < 1
// (asyncio raises ValueError).
func NewBarrier(parties int) *Barrier {
	if parties < 1 {
		panic("asyncio: NewBarrier: parties must be > 0")
	}
	return &Barrier{parties: parties}
}

func (b *Barrier) mustBeMade(method string) {
	if b.parties < 1 {
		panic("asyncio: " + method + " on a Barrier not made by NewBarrier")
	}
}

// Wait waits until all parties have called Wait, and returns a number,
// from 0 to Parties()-1, different for each of them (the order of
// arrival). If the barrier is draining or resetting, it first waits for
// the tasks still in it to leave.
//
// It returns an error matching ErrBrokenBarrier if the barrier is broken
// (Abort) or reset (Reset) before or while the task waits, and the
// *CancelledError if the task is cancelled (the barrier counts one task
// less then; it is not broken). ErrAwaitOutsideTask or ErrDifferentLoop
// come back without waiting if it cannot wait.
func (b *Barrier) Wait(ctx context.Context) (int, error) {
	b.mustBeMade("Barrier.Wait")
	if err := b.cond.Acquire(ctx); err != nil {
		return 0, err
	}
	// Wait while the barrier drains or resets; fail if it is broken.
	err := b.cond.WaitFor(ctx, func() bool {
		return b.state != barrierDraining && b.state != barrierResetting
	})
	if err == nil && b.state == barrierBroken {
		err = errBarrierAborted
	}
	if err != nil {
		b.cond.Release()
		return 0, err
	}
	index := b.count
	b.count++
	if index+1 == b.parties {
		// The last party releases the others.
		b.state = barrierDraining
		b.cond.NotifyAll()
	} else {
		err = b.cond.WaitFor(ctx, func() bool { return b.state != barrierFilling })
		if err == nil && (b.state == barrierBroken || b.state == barrierResetting) {
			err = errBarrierBroken
		}
	}
	b.count--
	// The last task to leave lets in the tasks waiting for the end of
	// draining or resetting.
	if b.count == 0 {
		if b.state == barrierResetting || b.state == barrierDraining {
			b.state = barrierFilling
		}
		b.cond.NotifyAll()
	}
	b.cond.Release()
	if err != nil {
		return 0, err
	}
	return index, nil
}

// Reset returns the barrier to its initial, filling state; the tasks
// waiting in it fail with ErrBrokenBarrier. It waits only for the
// barrier's internal lock: it returns the *CancelledError if the task is
// cancelled meanwhile.
func (b *Barrier) Reset(ctx context.Context) error {
	b.mustBeMade("Barrier.Reset")
	if err := b.cond.Acquire(ctx); err != nil {
		return err
	}
	if b.count > 0 {
		b.state = barrierResetting // back to filling once they have left
	} else {
		b.state = barrierFilling
	}
	b.cond.NotifyAll()
	b.cond.Release()
	return nil
}

// Abort breaks the barrier: the tasks waiting in it, and those calling
// Wait from now on (until Reset), fail with ErrBrokenBarrier. It waits
// only for the barrier's internal lock, as Reset does.
func (b *Barrier) Abort(ctx context.Context) error {
	b.mustBeMade("Barrier.Abort")
	if err := b.cond.Acquire(ctx); err != nil {
		return err
	}
	b.state = barrierBroken
	b.cond.NotifyAll()
	b.cond.Release()
	return nil
}

// Parties returns the number of tasks the barrier waits for.
func (b *Barrier) Parties() int { return b.parties }

// NWaiting returns the number of tasks waiting in the barrier while it
// fills (0 while it drains, resets or is broken).
func (b *Barrier) NWaiting() int {
	if b.state == barrierFilling {
		return b.count
	}
	return 0
}

// Broken reports whether the barrier is broken (Abort).
func (b *Barrier) Broken() bool { return b.state == barrierBroken }

// String describes the barrier for logs, e.g.
// "<Barrier [filling, waiters:2/5]>".
func (b *Barrier) String() string {
	s := "<Barrier [" + barrierStates[b.state]
	if b.state != barrierBroken {
		s += ", waiters:" + strconv.Itoa(b.NWaiting()) + "/" + strconv.Itoa(b.parties)
	}
	return s + "]>"
}
