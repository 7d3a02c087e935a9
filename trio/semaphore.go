package trio

import (
	"context"
	"fmt"
	"sync"
)

// A Semaphore holds a count that Release increments and Acquire
// decrements, never below zero: Acquire waits while the count is zero
// (Trio's trio.Semaphore). It may be bounded: Release beyond the bound is
// a programming error and panics. Like Lock, it is strictly fair: Release
// hands its unit to the oldest waiter, and TryAcquire fails while anyone
// is waiting.
//
// To limit how many goroutines do something at once, prefer
// [CapacityLimiter], which also checks that only holders give tokens back.
//
// Make Semaphores with [NewSemaphore]. A Semaphore must not be copied
// after first use. It is safe for use by multiple goroutines.
//
// Cost: as for [Lock]. Unlike golang.org/x/sync/semaphore.Weighted, units
// are acquired one at a time.
type Semaphore struct {
	mu    sync.Mutex
	value int
	max   int        // 0: unbounded
	lot   parkingLot // non-empty only while value == 0
}

// NewSemaphore returns a Semaphore whose count starts at initial. If max is
// positive, the count may never exceed it (Trio's max_value); 0 means
// unbounded. It panics if initial or max is negative, or if initial
// exceeds a positive max.
func NewSemaphore(initial, max int) *Semaphore {
	if initial < 0 || max < 0 || (max > 0 && initial > max) {
		panic(fmt.Sprintf("trio: NewSemaphore(%d, %d): want 0 <= initial and 0 <= max, and initial <= max when max > 0", initial, max))
	}
	return &Semaphore{value: initial, max: max}
}

// Acquire decrements the count, waiting in line while it is zero. It
// returns nil once it has decremented the count, or, having taken nothing,
// ctx's cancellation (matching [ErrCancelled]) if ctx is done first, or
// already done on entry. If ctx is cancelled at the moment a unit is
// handed over, Acquire may return nil: the caller then holds the unit.
func (s *Semaphore) Acquire(ctx context.Context) error {
	if err := cancelError(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	if s.value > 0 {
		s.value--
		s.mu.Unlock()
		return nil
	}
	w := s.lot.park(&waiter{})
	s.mu.Unlock()
	return w.wait(ctx, &s.mu, nil)
}

// TryAcquire decrements the count if it is positive and reports whether
// it did (Trio's acquire_nowait).
func (s *Semaphore) TryAcquire() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.value == 0 {
		return false
	}
	s.value--
	return true
}

// Release increments the count, or rather hands the unit directly to the
// goroutine that has waited longest, if any. It panics if the Semaphore is
// bounded and the count is at its bound.
func (s *Semaphore) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lot.unpark() != nil {
		return
	}
	if s.max > 0 && s.value == s.max {
		panic("trio: Semaphore released too many times")
	}
	s.value++
}

// Value returns the current count.
func (s *Semaphore) Value() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.value
}

// Max returns the bound given to NewSemaphore; 0 means unbounded.
func (s *Semaphore) Max() int {
	return s.max
}

// SemaphoreStatistics describes a Semaphore at one moment (Trio's
// ParkingLotStatistics, which Semaphore.statistics returns).
type SemaphoreStatistics struct {
	TasksWaiting int // goroutines blocked in Acquire
}

// Statistics describes the semaphore (Trio's statistics).
func (s *Semaphore) Statistics() SemaphoreStatistics {
	s.mu.Lock()
	defer s.mu.Unlock()
	return SemaphoreStatistics{TasksWaiting: s.lot.len()}
}
