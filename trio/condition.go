package trio

import (
	"context"
	"errors"
)

// A Condition is a condition variable (Trio's trio.Condition): a [Lock],
// and a queue where goroutines holding the lock Wait, releasing it, until
// another goroutine holding it wakes them with Notify or NotifyAll. It is
// sync.Cond with a cancellable Wait. As with any condition variable, check
// the condition again in a loop after Wait returns.
//
// Notified waiters are moved, in order, to the back of the Lock's queue,
// so they get the lock one at a time, oldest first, after the notifier
// releases it; nobody else can take it in between.
//
// Wait, Notify and NotifyAll must be called with the lock held, and panic
// if it is not locked; Wait, which takes a ctx, also panics if the lock is
// owned by a task other than ctx's (see [Lock] on ownership). Notify and
// NotifyAll, like Release, cannot tell who calls them.
//
// Make Conditions with [NewCondition]. A Condition must not be copied
// after first use. It is safe for use by multiple goroutines.
//
// Cost: Wait allocates one waiter and one channel; Notify is O(n).
type Condition struct {
	lock *Lock
	lot  parkingLot // guarded by lock.mu
}

// NewCondition returns a Condition using lock, or a new Lock if lock is
// nil. Several Conditions may share a Lock.
func NewCondition(lock *Lock) *Condition {
	if lock == nil {
		lock = new(Lock)
	}
	return &Condition{lock: lock}
}

// Acquire acquires the Condition's Lock; see [Lock.Acquire].
func (c *Condition) Acquire(ctx context.Context) error { return c.lock.Acquire(ctx) }

// TryAcquire tries to acquire the Condition's Lock; see [Lock.TryAcquire].
func (c *Condition) TryAcquire() bool { return c.lock.TryAcquire() }

// Release releases the Condition's Lock; see [Lock.Release].
func (c *Condition) Release() { c.lock.Release() }

// Locked reports whether the Condition's Lock is held.
func (c *Condition) Locked() bool { return c.lock.Locked() }

// Wait releases the lock, waits until Notify or NotifyAll wakes it, and
// re-acquires the lock before returning nil. The caller must hold the
// lock; Wait panics if it is not locked.
//
// If ctx is done, Wait still re-acquires the lock, waiting for it as long
// as it takes (Trio re-acquires it shielded from cancellation), and then
// returns ctx's cancellation (matching [ErrCancelled]); so the caller
// holds the lock whenever Wait returns, and can always Release it. If ctx
// is done on entry, Wait returns at once, without releasing the lock.
// A waiter that Notify picked and that then sees its ctx done before it
// gets the lock returns the cancellation, and its notification is used up
// (as in Trio and with sync.Cond, a notification is a hint, not a token);
// once it has the lock, it returns nil, even if ctx is done by then.
//
// The one case where Wait returns without the lock: the lock broke (its
// owner ended without releasing it) while Wait waited to get it back;
// Wait then returns an error matching [ErrBrokenResource], as Trio does.
func (c *Condition) Wait(ctx context.Context) error {
	w, err := c.releaseAndPark(ctx)
	if w == nil {
		return err
	}
	if err = w.wait(ctx, &c.lock.mu, nil); err != nil && !errors.Is(err, ErrBrokenResource) {
		// Cancelled: get the lock back; this fails only if it broke.
		if aerr := c.lock.Acquire(context.WithoutCancel(ctx)); aerr != nil {
			return aerr
		}
	}
	return err
}

// releaseAndPark checks that the lock is held and ctx is not done, and
// then, atomically, releases the lock and parks a waiter in c's queue.
func (c *Condition) releaseAndPark(ctx context.Context) (*waiter, error) {
	l := c.lock
	l.mu.Lock()
	defer l.mu.Unlock()
	c.mustBeLockedLocked("Wait")
	t := CurrentTask(ctx)
	if t != nil && l.owner != nil && l.owner != t {
		panic("trio: Condition.Wait by a task that does not hold the lock")
	}
	if err := cancelError(ctx); err != nil {
		return nil, err
	}
	l.releaseLocked()
	return c.lot.park(&waiter{task: t}), nil
}

// Notify wakes the n goroutines that have waited longest (fewer if fewer
// are waiting; none if n <= 0). They return from Wait one by one, as they
// get the lock. The caller must hold the lock; Notify panics if it is not
// locked.
func (c *Condition) Notify(n int) {
	l := c.lock
	l.mu.Lock()
	defer l.mu.Unlock()
	c.mustBeLockedLocked("Notify")
	c.lot.repark(&l.lot, n)
	c.wakeIfBrokenLocked()
}

// NotifyAll wakes every goroutine waiting in Wait. The caller must hold
// the lock; NotifyAll panics if it is not locked.
func (c *Condition) NotifyAll() {
	l := c.lock
	l.mu.Lock()
	defer l.mu.Unlock()
	c.mustBeLockedLocked("NotifyAll")
	c.lot.repark(&l.lot, c.lot.len())
	c.wakeIfBrokenLocked()
}

// wakeIfBrokenLocked fails the waiters just moved to a broken lock's
// queue, which nobody will ever release.
func (c *Condition) wakeIfBrokenLocked() {
	if l := c.lock; l.broken != nil {
		l.lot.breakAll(l.broken)
	}
}

func (c *Condition) mustBeLockedLocked(method string) {
	if !c.lock.locked {
		panic("trio: Condition." + method + " without holding the lock")
	}
}

// ConditionStatistics describes a Condition at one moment (Trio's
// ConditionStatistics).
type ConditionStatistics struct {
	TasksWaiting   int            // goroutines in Wait, not yet notified
	LockStatistics LockStatistics // the Condition's Lock's Statistics
}

// Statistics describes the condition (Trio's statistics). Waiters that
// Notify has woken and that now queue for the lock count in the lock's
// statistics, not in TasksWaiting.
func (c *Condition) Statistics() ConditionStatistics {
	l := c.lock
	l.mu.Lock()
	defer l.mu.Unlock()
	return ConditionStatistics{TasksWaiting: c.lot.len(), LockStatistics: l.statisticsLocked()}
}
