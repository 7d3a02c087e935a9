package trio_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/trioasyncio/trioasyncio/trio"
)

func TestNewCondition(t *testing.T) {
	if c := trio.NewCondition(nil); c.Locked() || !c.TryAcquire() || !c.Locked() {
		t.Fatal("NewCondition(nil) did not make a working Lock")
	}
	var l trio.Lock
	c := trio.NewCondition(&l)
	l.TryAcquire()
	if !c.Locked() || c.TryAcquire() {
		t.Fatal("the Condition does not use the Lock it was given")
	}
	c.Release()
	if l.Locked() {
		t.Fatal("Condition.Release did not release the Lock")
	}
}

func TestConditionMisusePanics(t *testing.T) {
	c := trio.NewCondition(nil)
	wantPanic(t, "trio: Condition.Wait without holding the lock", func() { _ = c.Wait(context.Background()) })
	wantPanic(t, "trio: Condition.Notify without holding the lock", func() { c.Notify(1) })
	wantPanic(t, "trio: Condition.NotifyAll without holding the lock", c.NotifyAll)
	wantPanic(t, "trio: Release of an unlocked Lock", c.Release)
	if !c.TryAcquire() { // the panics left c usable
		t.Fatal("TryAcquire failed after the panics")
	}
}

// startWaiters starts n goroutines that each take c's lock and Wait, in
// order, and report through the returned channel, while holding the lock,
// Wait's result and whether the lock was held.
func startWaiters(t *testing.T, c *trio.Condition, ctxs ...context.Context) <-chan waitResult {
	results := make(chan waitResult, len(ctxs))
	for i, ctx := range ctxs {
		go func() {
			if err := c.Acquire(t.Context()); err != nil {
				t.Error(err)
				return
			}
			err := c.Wait(ctx)
			results <- waitResult{i, err, c.Locked()}
			c.Release()
		}()
		synctest.Wait()
	}
	return results
}

type waitResult struct {
	who    int
	err    error
	locked bool
}

func wantWoken(t *testing.T, results <-chan waitResult, who ...int) {
	t.Helper()
	synctest.Wait()
	if len(results) != len(who) {
		t.Fatalf("%d waiters returned, want %v", len(results), who)
	}
	for _, want := range who {
		r := <-results
		if r.who != want || r.err != nil || !r.locked {
			t.Fatalf("waiter %d returned %v, lock held: %v; want waiter %d, nil, held", r.who, r.err, r.locked, want)
		}
	}
}

func TestConditionNotify(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := trio.NewCondition(nil)
		ctx := t.Context()
		results := startWaiters(t, c, ctx, ctx, ctx, ctx)

		_ = c.Acquire(ctx)
		c.Notify(1)
		wantWoken(t, results) // not before the notifier releases the lock
		c.Release()
		wantWoken(t, results, 0)

		_ = c.Acquire(ctx)
		c.Notify(0)
		c.Release()
		wantWoken(t, results)

		_ = c.Acquire(ctx)
		c.Notify(2)
		c.Release()
		wantWoken(t, results, 1, 2) // one after the other, oldest first

		_ = c.Acquire(ctx)
		c.NotifyAll()
		c.Release()
		wantWoken(t, results, 3)
	})
}

func TestConditionNotifyAll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := trio.NewCondition(nil)
		ctx := t.Context()
		results := startWaiters(t, c, ctx, ctx, ctx)
		_ = c.Acquire(ctx)
		c.NotifyAll()
		c.Release()
		wantWoken(t, results, 0, 1, 2)
	})
}

// Notified waiters queue for the lock behind the goroutines already
// waiting for it.
func TestConditionNotifiedWaitersQueueForTheLock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := trio.NewCondition(nil)
		results := startWaiters(t, c, t.Context())
		_ = c.Acquire(t.Context())
		acquired, release := make(chan struct{}), make(chan struct{})
		go func() {
			_ = c.Acquire(t.Context())
			close(acquired)
			<-release
			c.Release()
		}()
		synctest.Wait()
		c.Notify(1)
		c.Release()
		<-acquired            // the goroutine that was first in line got the lock
		wantWoken(t, results) // and the notified waiter waits for it
		close(release)
		wantWoken(t, results, 0)
	})
}

// A cancelled Wait re-acquires the lock before it returns the
// cancellation, whether or not it had been notified.
func TestConditionWaitCancelledReacquires(t *testing.T) {
	for _, notified := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			c := trio.NewCondition(nil)
			ctx, cancel := context.WithCancel(t.Context())
			results := startWaiters(t, c, ctx)
			_ = c.Acquire(t.Context())
			if notified {
				c.Notify(1)
			}
			cancel()
			synctest.Wait()
			if len(results) != 0 {
				t.Fatal("the cancelled Wait returned without the lock")
			}
			c.Release()
			synctest.Wait()
			r := <-results
			wantCancelled(t, r.err, context.Canceled)
			if !r.locked {
				t.Fatal("the cancelled Wait returned without the lock")
			}
			if c.Locked() {
				t.Fatal("the lock is still held")
			}
		})
	}
}

// With ctx done on entry, Wait returns at once, keeping the lock.
func TestConditionWaitDoneCtx(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := trio.NewCondition(nil)
		_ = c.Acquire(t.Context())
		acquired := make(chan struct{})
		go func() {
			_ = c.Acquire(t.Context())
			close(acquired)
			c.Release()
		}()
		synctest.Wait()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		wantCancelled(t, c.Wait(ctx), context.Canceled)
		synctest.Wait()
		select {
		case <-acquired:
			t.Fatal("Wait released the lock")
		default:
		}
		c.Release()
		<-acquired
	})
}

// Producers and consumers share a counter under a Condition while the
// consumers' ctxs are cancelled at random: only one goroutine ever holds
// the lock, Wait always returns holding it, and every item is consumed.
func TestConditionStress(t *testing.T) {
	const producers, consumers, items = 4, 8, 300
	c := trio.NewCondition(nil)
	var (
		avail, consumed int  // guarded by c's lock
		closed          bool // guarded by c's lock
		inside          atomic.Int32
		prod, cons      sync.WaitGroup
	)
	enter := func() {
		if inside.Add(1) != 1 {
			t.Error("two goroutines hold the lock")
		}
	}
	leave := func() { inside.Add(-1) }

	for range producers {
		prod.Go(func() {
			for range items {
				_ = c.Acquire(context.Background())
				enter()
				avail++
				c.Notify(1)
				leave()
				c.Release()
			}
		})
	}
	for id := range consumers {
		cons.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(id), 7))
			for stop := false; !stop; {
				ctx, done := randomlyCancelled(rng)
				if err := c.Acquire(ctx); err != nil {
					done()
					continue
				}
				enter()
				for avail == 0 && !closed {
					leave()
					err := c.Wait(ctx)
					enter() // Wait returns holding the lock, cancelled or not
					if err != nil {
						if !trio.IsCancellation(err) {
							t.Errorf("Wait = %v", err)
						}
						break
					}
				}
				if avail > 0 {
					avail--
					consumed++
				}
				stop = closed && avail == 0
				leave()
				c.Release()
				done()
			}
		})
	}
	prod.Wait()
	_ = c.Acquire(context.Background())
	closed = true
	c.NotifyAll()
	c.Release()
	cons.Wait()
	if consumed != producers*items || avail != 0 || c.Locked() {
		t.Fatalf("consumed %d, %d left, locked %v; want %d, 0, false", consumed, avail, c.Locked(), producers*items)
	}
}
