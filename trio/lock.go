package trio

import (
	"context"
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
// Go goroutines have no identity, so a Lock does not know who holds it.
// As with sync.Mutex, any goroutine may Release a Lock that another one
// acquired; and a goroutine that Acquires a Lock it already holds does not
// fail, as in Trio, but waits for itself until its ctx is done.
// Releasing an unlocked Lock panics.
//
// Cost: an uncontended Acquire or Release takes and drops a sync.Mutex and
// allocates nothing; a contended Acquire allocates one waiter and one
// channel. Compared with sync.Mutex, it buys cancellation and fairness
// with a slower hand-over: use it where waiting may be long.
type Lock struct {
	mu     sync.Mutex
	locked bool
	lot    parkingLot // non-empty only while locked
}

// Acquire takes the lock, waiting in line while it is held. It returns nil
// once the caller holds the lock, or, holding nothing, ctx's cancellation
// (matching [ErrCancelled]) if ctx is done first, or already done on entry
// even if the lock is free. If ctx is cancelled at the moment the lock is
// handed over, Acquire may return nil: the caller then holds the lock and
// must Release it.
func (l *Lock) Acquire(ctx context.Context) error {
	if err := cancelError(ctx); err != nil {
		return err
	}
	l.mu.Lock()
	if !l.locked {
		l.locked = true
		l.mu.Unlock()
		return nil
	}
	w := l.lot.park(&waiter{})
	l.mu.Unlock()
	return w.wait(ctx, &l.mu, nil)
}

// TryAcquire takes the lock if it is free (and nobody is waiting for it)
// and reports whether it did (Trio's acquire_nowait).
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
// longest, if any. It panics if the lock is not locked.
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
	if l.lot.unpark() == nil {
		l.locked = false
	} // else the lock passes to the woken waiter and stays locked
}

// Locked reports whether the lock is held.
func (l *Lock) Locked() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.locked
}

// LockStatistics describes a Lock at one moment (Trio's LockStatistics).
type LockStatistics struct {
	Locked       bool // whether the lock is held
	TasksWaiting int  // goroutines blocked in Acquire (and notified Condition waiters)
}

// Statistics describes the lock (Trio's statistics).
func (l *Lock) Statistics() LockStatistics {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.statisticsLocked()
}

func (l *Lock) statisticsLocked() LockStatistics {
	return LockStatistics{Locked: l.locked, TasksWaiting: l.lot.len()}
}
