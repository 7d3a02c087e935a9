package trio_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trioasyncio/trioasyncio/trio"
)

func TestEventZeroValue(t *testing.T) {
	var e trio.Event
	if e.IsSet() {
		t.Fatal("a new Event is set")
	}
	e.Set()
	e.Set() // setting again does nothing
	if !e.IsSet() {
		t.Fatal("Set did not set the Event")
	}
	if err := e.Wait(context.Background()); err != nil {
		t.Fatalf("Wait on a set Event = %v", err)
	}
}

func TestEventSetWakesEveryWaiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var e trio.Event
		const n = 4
		woken := make(chan error, n)
		for range n {
			go func() { woken <- e.Wait(t.Context()) }()
		}
		synctest.Wait()
		if len(woken) != 0 {
			t.Fatal("Wait returned before Set")
		}
		e.Set()
		for range n {
			if err := <-woken; err != nil {
				t.Fatalf("Wait = %v", err)
			}
		}
	})
}

func TestEventWaitCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var e trio.Event
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- e.Wait(ctx) }()
		synctest.Wait()
		cancel()
		wantCancelled(t, <-done, context.Canceled)
		if e.IsSet() {
			t.Fatal("cancelling a waiter set the Event")
		}
		go func() { done <- e.Wait(t.Context()) }()
		synctest.Wait()
		e.Set()
		if err := <-done; err != nil {
			t.Fatalf("Wait after a cancelled Wait = %v", err)
		}
	})
}

// Wait is a checkpoint, as in Trio: a done ctx fails it even once the
// Event is set.
func TestEventWaitDoneCtxOnSetEvent(t *testing.T) {
	var e trio.Event
	e.Set()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	wantCancelled(t, e.Wait(ctx), context.Canceled)
}

func TestEventWaitDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var e trio.Event
		start := time.Now()
		err := trio.FailAfter(t.Context(), time.Second, e.Wait)
		if !errors.Is(err, trio.ErrTooSlow) {
			t.Fatalf("FailAfter(Wait) = %v, want ErrTooSlow", err)
		}
		if d := time.Since(start); d != time.Second {
			t.Fatalf("Wait gave up after %v, want 1s", d)
		}
	})
}
