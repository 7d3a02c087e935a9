package trio

import (
	"context"
	"sync"
)

// An Event is a flag that goroutines can wait for (Trio's trio.Event). It
// starts unset; Set sets it for good and wakes every goroutine in Wait.
// An Event cannot be cleared: for a series of happenings, use a new Event
// for each (they are cheap) or a channel.
//
// Because the flag stays set, it does not matter whether Set is called just
// before or just after Wait: no wake-up is lost.
//
// The zero value is an unset Event, ready to use. An Event must not be
// copied after first use. It is safe for use by multiple goroutines.
//
// Cost: Set and IsSet take a mutex; the first Wait on an unset Event makes
// one channel, which every waiter shares, so Set is O(1) whatever the
// number of waiters. (Event needs no queue and no hand-over, so unlike the
// other primitives it does not use a parking lot.)
type Event struct {
	mu      sync.Mutex
	set     bool
	ch      chan struct{} // made by the first Wait, closed by Set
	waiting int           // goroutines blocked in Wait
}

// EventStatistics describes an Event at one moment (Trio's
// EventStatistics).
type EventStatistics struct {
	TasksWaiting int // goroutines blocked in Wait
}

// Statistics describes the event (Trio's statistics).
func (e *Event) Statistics() EventStatistics {
	e.mu.Lock()
	defer e.mu.Unlock()
	return EventStatistics{TasksWaiting: e.waiting}
}

// Set sets the event and wakes every goroutine waiting for it. Setting a
// set event does nothing.
func (e *Event) Set() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.set {
		return
	}
	e.set = true
	e.waiting = 0 // every waiter is woken
	if e.ch != nil {
		close(e.ch)
	}
}

// IsSet reports whether Set has been called.
func (e *Event) IsSet() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.set
}

// Wait blocks until the event is set and returns nil (at once if it is set
// already), or until ctx is done and returns its cancellation (matching
// [ErrCancelled]). Like Trio's Event.wait, it is a checkpoint: with ctx
// done on entry, it returns the cancellation even if the event is set.
func (e *Event) Wait(ctx context.Context) error {
	if err := cancelError(ctx); err != nil {
		return err
	}
	e.mu.Lock()
	if e.set {
		e.mu.Unlock()
		return nil
	}
	if e.ch == nil {
		e.ch = make(chan struct{})
	}
	ch := e.ch
	e.waiting++
	e.mu.Unlock()
	select {
	case <-ch:
		return nil // Set has zeroed the count
	case <-ctx.Done():
	}
	e.mu.Lock()
	if !e.set {
		e.waiting--
	}
	e.mu.Unlock()
	return cancelError(ctx)
}
