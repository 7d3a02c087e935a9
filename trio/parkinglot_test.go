package trio

import (
	"context"
	"errors"
	"sync"
	"testing"
)

// ids lists the borrowers of the waiters in l, front to back, checking
// that each knows its lot, and the count.
func ids(t *testing.T, l *parkingLot) []any {
	t.Helper()
	var out []any
	for w := l.q.Front(); w != nil; w = l.q.Next(w) {
		if w.lot != l {
			t.Fatalf("waiter %v does not know its lot", w.borrower)
		}
		out = append(out, w.borrower)
	}
	if l.len() != len(out) {
		t.Fatalf("tail or count wrong: len %d, %d waiters", l.len(), len(out))
	}
	return out
}

func wantIDs(t *testing.T, l *parkingLot, want ...any) {
	t.Helper()
	got := ids(t, l)
	if len(got) != len(want) {
		t.Fatalf("lot holds %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("lot holds %v, want %v", got, want)
		}
	}
}

func TestParkingLotQueue(t *testing.T) {
	var a, b parkingLot
	ws := make([]*waiter, 6)
	for i := range ws {
		ws[i] = a.park(&waiter{borrower: i})
	}
	wantIDs(t, &a, 0, 1, 2, 3, 4, 5)

	a.remove(ws[2]) // middle
	a.remove(ws[0]) // head
	a.remove(ws[5]) // tail
	wantIDs(t, &a, 1, 3, 4)

	if w := a.unpark(); w != ws[1] || w.lot != nil {
		t.Fatalf("unpark returned %v, want waiter 1, out of any lot", w.borrower)
	}
	select {
	case <-ws[1].ready:
	default:
		t.Fatal("unpark did not wake the waiter")
	}

	b.park(&waiter{borrower: "b"})
	a.repark(&b, 0)
	wantIDs(t, &a, 3, 4)
	a.repark(&b, 1)
	wantIDs(t, &a, 4)
	wantIDs(t, &b, "b", 3)
	a.repark(&b, 5)
	wantIDs(t, &a)
	wantIDs(t, &b, "b", 3, 4)
	select {
	case <-ws[3].ready:
		t.Fatal("repark woke a waiter")
	default:
	}

	for _, want := range []any{"b", 3, 4} {
		if w := b.unpark(); w.borrower != want {
			t.Fatalf("unpark returned %v, want %v", w.borrower, want)
		}
	}
	if w := b.unpark(); w != nil {
		t.Fatalf("unpark of an empty lot returned %v", w.borrower)
	}
	wantIDs(t, &b)
}

func TestParkingLotWaitCancelled(t *testing.T) {
	var mu sync.Mutex
	var l parkingLot
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	abandoned := false
	mu.Lock()
	w := l.park(&waiter{borrower: 1})
	l.park(&waiter{borrower: 2})
	mu.Unlock()
	err := w.wait(ctx, &mu, func() { abandoned = true })
	if !errors.Is(err, ErrCancelled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("wait = %v, want the cancellation", err)
	}
	if !abandoned {
		t.Fatal("abandon did not run")
	}
	wantIDs(t, &l, 2)
}

// A waiter unparked by the time it sees its ctx done keeps what it was
// handed: wait returns nil, whichever way its select went.
func TestParkingLotWaitHandOverWins(t *testing.T) {
	var mu sync.Mutex
	var l parkingLot
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 100 {
		w := l.park(&waiter{})
		l.unpark()
		if err := w.wait(ctx, &mu, func() { t.Fatal("abandon ran for a waiter that was handed over") }); err != nil {
			t.Fatalf("wait = %v, want nil", err)
		}
	}
}

// Condition.Notify moves a waiter to another lot; cancellation must take
// it out of the lot it is in then.
func TestParkingLotWaitCancelledAfterRepark(t *testing.T) {
	var mu sync.Mutex
	var a, b parkingLot
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := a.park(&waiter{borrower: 1})
	a.repark(&b, 1)
	err := w.wait(ctx, &mu, nil)
	if !errors.Is(err, ErrCancelled) {
		t.Fatalf("wait = %v, want the cancellation", err)
	}
	wantIDs(t, &a)
	wantIDs(t, &b)
}
