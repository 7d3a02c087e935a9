package trio_test

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/trioasyncio/trioasyncio/trio"
)

func lockResource(l *trio.Lock) resource {
	return resource{l.Acquire, l.TryAcquire, l.Release}
}

func heldLock() resource {
	l := new(trio.Lock)
	l.TryAcquire()
	return lockResource(l)
}

func TestLockZeroValue(t *testing.T) {
	var l trio.Lock
	if l.Locked() {
		t.Fatal("a new Lock is locked")
	}
	if !l.TryAcquire() {
		t.Fatal("TryAcquire failed on a new Lock")
	}
	if !l.Locked() || l.TryAcquire() {
		t.Fatal("TryAcquire succeeded on a locked Lock")
	}
	l.Release()
	if err := l.Acquire(context.Background()); err != nil {
		t.Fatalf("Acquire = %v", err)
	}
	if !l.Locked() {
		t.Fatal("Acquire did not lock the Lock")
	}
	l.Release()
	if l.Locked() {
		t.Fatal("Release did not unlock the Lock")
	}
}

func TestLockReleaseUnlockedPanics(t *testing.T) {
	var l trio.Lock
	wantPanic(t, "trio: Release of an unlocked Lock", l.Release)
	if !l.TryAcquire() { // the panic left the Lock usable
		t.Fatal("TryAcquire failed after the panic")
	}
}

func TestLockFIFO(t *testing.T) { testFIFO(t, heldLock) }

func TestLockAcquireCancelled(t *testing.T) { testCancel(t, heldLock) }

// Release hands the lock to the oldest waiter: the Lock stays locked, with
// no moment at which another goroutine could take it.
func TestLockReleaseHandsOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l trio.Lock
		l.TryAcquire()
		got := make(chan error)
		go func() { got <- l.Acquire(t.Context()) }()
		synctest.Wait()
		l.Release()
		if !l.Locked() {
			t.Fatal("the Lock was free after Release although a goroutine was waiting")
		}
		if err := <-got; err != nil {
			t.Fatalf("Acquire = %v", err)
		}
		l.Release()
	})
}

func TestLockStress(t *testing.T) {
	var l trio.Lock
	stressResource(t, 1, func(int) resource { return lockResource(&l) })
	if l.Locked() {
		t.Fatal("the Lock is still locked after the stress")
	}
}

// The uncontended path allocates nothing, as the doc says.
func TestLockUncontendedAllocs(t *testing.T) {
	var l trio.Lock
	ctx := context.Background()
	if n := testing.AllocsPerRun(100, func() {
		_ = l.Acquire(ctx)
		l.Release()
	}); n != 0 {
		t.Fatalf("Acquire+Release allocates %v times, want 0", n)
	}
}

func BenchmarkLockUncontended(b *testing.B) {
	var l trio.Lock
	ctx := context.Background()
	for b.Loop() {
		_ = l.Acquire(ctx)
		l.Release()
	}
}

func BenchmarkLockContended(b *testing.B) {
	var l trio.Lock
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = l.Acquire(ctx)
			l.Release()
		}
	})
}
