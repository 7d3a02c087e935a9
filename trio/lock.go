package trio

import (
	"context"
	"fmt"
	"sync"
)

// A Lock is a mutual-exclusion lock whose Acquire can be cancelled through
// its ctx (Trio's trio.Lock). It is strictly fair: goroutines get the lock
// in the order in which they started waiting, because Release hands it
// directly to the oldest waiter, and TryAcquire fails while anyone is
// waiting, so nobody can barge in (Trio's StrictFIFOLock guarantee).
//
// The zero value is an unlocked Lock, ready to use. A Lock must not be
// copied after first use. It is safe for use by multiple goroutines.
//
// Ownership. Go goroutines have no identity, but trio tasks do (see
// [Task]): a Lock acquired through Acquire with the ctx of a task (a
// nursery child, a Start child, Run's main, or anything derived from their
// ctx) is owned by that task, as in Trio, and reported as its Owner by
// Statistics. The owner ending without releasing the Lock breaks it, as in
// Trio: the goroutines waiting for it, and every later Acquire, get an
// error matching [ErrBrokenResource] instead of waiting forever,
// TryAcquire fails, and Release panics. [Condition.Wait] checks that its
// ctx's task owns the lock.
//
// What is not checked, and why: Release takes no ctx, like
// sync.Mutex.Unlock, so it cannot tell who calls it, and any goroutine may
// Release a Lock that another acquired (Trio raises RuntimeError). A task
// Acquiring a Lock it holds waits, as with sync.Mutex, until the Lock is
// released or ctx is done (Trio raises RuntimeError): unlike a Trio task, a Go task may run several goroutines
// that share its ctx (errgroup workers, go statements), which take turns
// on the Lock as any goroutines do, so "the same task" does not mean "the
// same goroutine". TryAcquire by the holder fails, as it does for
// anyone while the Lock is held (Trio raises RuntimeError): it takes no
// ctx either. TryAcquire, and Acquire with a ctx of no task
// (context.Background(), a ctx made outside trio), take the Lock
// anonymously, with no owner and so no checks.
//
// Releasing an unlocked Lock panics.
//
// Cost: an uncontended Acquire or Release takes and drops a sync.Mutex,
// looks the task up in ctx, and allocates nothing, except the first time a
// task holds a Lock (a small record of the Locks it holds); a contended
// Acquire allocates one waiter and one channel. Compared with sync.Mutex, it buys cancellation,
// fairness and these checks with a slower hand-over: use it where waiting
// may be long.
type Lock struct {
	mu     sync.Mutex
	locked bool
	owner  *Task      // the task holding it; nil when not held, or held anonymously
	broken error      // set when the owner ended while holding it
	lot    parkingLot // non-empty only while locked
}

// Acquire takes the lock, waiting in line while it is held. It returns nil
// once the caller holds the lock, or, holding nothing, ctx's cancellation
// (matching [ErrCancelled]) if ctx is done first, or already done on entry
// even if the lock is free. If ctx is cancelled at the moment the lock is
// handed over, Acquire may return nil: the caller then holds the lock and
// must Release it.
//
// If ctx belongs to a task, the task owns the lock once Acquire returns
// nil. Acquire returns an error matching [ErrBrokenResource] if the lock's
// owner ended without releasing it (see the type's doc).
func (l *Lock) Acquire(ctx context.Context) error {
	if err := cancelError(ctx); err != nil {
		return err
	}
	t := CurrentTask(ctx)
	l.mu.Lock()
	if l.broken != nil {
		l.mu.Unlock()
		return l.broken
	}
	if !l.locked {
		l.locked = true
		l.setOwnerLocked(t)
		l.mu.Unlock()
		return nil
	}
	w := l.lot.park(&waiter{task: t})
	l.mu.Unlock()
	return w.wait(ctx, &l.mu, nil)
}

// TryAcquire takes the lock anonymously if it is free (and nobody is
// waiting for it) and reports whether it did (Trio's acquire_nowait).
func (l *Lock) TryAcquire() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.locked {
		return false
	}
	l.locked = true
	return true
}

// Release releases the lock, handing it to the goroutine that has waited
// longest, if any (which then owns it, if it waited with a task's ctx).
// It panics if the lock is not locked, or is broken.
func (l *Lock) Release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.releaseLocked()
}

// releaseLocked is Release with l.mu held.
func (l *Lock) releaseLocked() {
	if !l.locked {
		panic("trio: Release of an unlocked Lock")
	}
	if l.broken != nil {
		panic("trio: Release of a Lock whose owner ended without releasing it")
	}
	if l.owner != nil {
		l.owner.drop(l)
		l.owner = nil
	}
	if w := l.lot.unpark(); w != nil {
		l.setOwnerLocked(w.task) // the lock passes to the woken waiter and stays locked
	} else {
		l.locked = false
	}
}

// setOwnerLocked makes t (nil: nobody) the owner of the locked l.
func (l *Lock) setOwnerLocked(t *Task) {
	l.owner = t
	if t != nil && !t.hold(l) {
		l.breakLocked() // handed to a task that has ended
	}
}

// ownerExited breaks l if t, which has ended, still owns it.
func (l *Lock) ownerExited(t *Task) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.owner == t && l.broken == nil {
		l.breakLocked()
	}
}

// errOwnerExited is the error of a broken Lock.
var errOwnerExited = fmt.Errorf("%w: the task that owned this Lock ended without releasing it", ErrBrokenResource)

// breakLocked breaks l: it stays locked by its dead owner, and every
// waiter, now and later, gets an error.
func (l *Lock) breakLocked() {
	l.broken = errOwnerExited
	l.lot.breakAll(l.broken)
}

// Locked reports whether the lock is held (a broken lock stays held).
func (l *Lock) Locked() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.locked
}

// LockStatistics describes a Lock at one moment (Trio's LockStatistics).
type LockStatistics struct {
	Locked bool // whether the lock is held
	// Owner is the task holding the lock; nil when it is not held, or held
	// anonymously. For a broken lock, the task that ended holding it.
	Owner        *Task
	TasksWaiting int // goroutines blocked in Acquire (and notified Condition waiters)
}

// Statistics describes the lock (Trio's statistics).
func (l *Lock) Statistics() LockStatistics {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.statisticsLocked()
}

func (l *Lock) statisticsLocked() LockStatistics {
	return LockStatistics{Locked: l.locked, Owner: l.owner, TasksWaiting: l.lot.len()}
}
