package trio_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/trioasyncio/trioasyncio/trio"
)

func semaphoreResource(s *trio.Semaphore) resource {
	return resource{s.Acquire, s.TryAcquire, s.Release}
}

func heldSemaphore() resource {
	s := trio.NewSemaphore(1, 1)
	s.TryAcquire()
	return semaphoreResource(s)
}

func TestNewSemaphoreBadArguments(t *testing.T) {
	for _, args := range [][2]int{{-1, 0}, {0, -1}, {3, 2}, {-1, -1}} {
		want := fmt.Sprintf("trio: NewSemaphore(%d, %d): want 0 <= initial and 0 <= max, and initial <= max when max > 0", args[0], args[1])
		wantPanic(t, want, func() { trio.NewSemaphore(args[0], args[1]) })
	}
}

func TestSemaphoreCounts(t *testing.T) {
	s := trio.NewSemaphore(2, 3)
	if s.Value() != 2 || s.Max() != 3 {
		t.Fatalf("Value, Max = %d, %d; want 2, 3", s.Value(), s.Max())
	}
	if err := s.Acquire(context.Background()); err != nil {
		t.Fatalf("Acquire = %v", err)
	}
	if !s.TryAcquire() || s.TryAcquire() {
		t.Fatal("TryAcquire: want one success, then a failure at 0")
	}
	if s.Value() != 0 {
		t.Fatalf("Value = %d, want 0", s.Value())
	}
	for range 3 {
		s.Release()
	}
	if s.Value() != 3 {
		t.Fatalf("Value = %d, want 3", s.Value())
	}
	wantPanic(t, "trio: Semaphore released too many times", s.Release)
	if s.Value() != 3 || !s.TryAcquire() { // the panic left s usable
		t.Fatalf("Value = %d after the panic, want 3", s.Value())
	}
}

func TestSemaphoreUnbounded(t *testing.T) {
	s := trio.NewSemaphore(0, 0)
	if s.Max() != 0 || s.TryAcquire() {
		t.Fatal("want Max 0 (unbounded) and nothing to acquire")
	}
	for range 100 {
		s.Release()
	}
	if s.Value() != 100 {
		t.Fatalf("Value = %d, want 100", s.Value())
	}
}

func TestSemaphoreFIFO(t *testing.T) { testFIFO(t, heldSemaphore) }

func TestSemaphoreAcquireCancelled(t *testing.T) { testCancel(t, heldSemaphore) }

func TestSemaphoreStress(t *testing.T) {
	s := trio.NewSemaphore(3, 3)
	stressResource(t, 3, func(int) resource { return semaphoreResource(s) })
	if s.Value() != 3 {
		t.Fatalf("Value = %d after the stress, want 3", s.Value())
	}
}
