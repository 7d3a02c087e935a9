package trio_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/trioasyncio/trioasyncio/trio"
)

func limiterResource(c *trio.CapacityLimiter) resource {
	return resource{c.Acquire, c.TryAcquire, c.Release}
}

func limiterResourceFor(c *trio.CapacityLimiter, b any) resource {
	return resource{
		func(ctx context.Context) error { return c.AcquireOnBehalfOf(ctx, b) },
		func() bool { return c.TryAcquireOnBehalfOf(b) },
		func() { c.ReleaseOnBehalfOf(b) },
	}
}

func heldLimiter() resource {
	c := trio.NewCapacityLimiter(1)
	c.TryAcquire()
	return limiterResource(c)
}

func wantTokens(t *testing.T, c *trio.CapacityLimiter, total, borrowed int) {
	t.Helper()
	if c.TotalTokens() != total || c.BorrowedTokens() != borrowed || c.AvailableTokens() != total-borrowed {
		t.Fatalf("total, borrowed, available = %d, %d, %d; want %d, %d, %d",
			c.TotalTokens(), c.BorrowedTokens(), c.AvailableTokens(), total, borrowed, total-borrowed)
	}
}

const (
	msgAlreadyBorrowing = "trio: this borrower is already holding (or waiting for) one of this CapacityLimiter's tokens"
	msgNotBorrowing     = "trio: this borrower isn't holding any of this CapacityLimiter's tokens"
)

func TestCapacityLimiterCounts(t *testing.T) {
	c := trio.NewCapacityLimiter(3)
	wantTokens(t, c, 3, 0)
	if err := c.Acquire(context.Background()); err != nil {
		t.Fatalf("Acquire = %v", err)
	}
	if err := c.AcquireOnBehalfOf(context.Background(), "a"); err != nil {
		t.Fatalf("AcquireOnBehalfOf = %v", err)
	}
	if !c.TryAcquireOnBehalfOf("b") {
		t.Fatal("TryAcquireOnBehalfOf failed with a token free")
	}
	wantTokens(t, c, 3, 3)
	if c.TryAcquire() || c.TryAcquireOnBehalfOf("c") {
		t.Fatal("TryAcquire succeeded with no token free")
	}
	c.ReleaseOnBehalfOf("a")
	c.Release()
	wantTokens(t, c, 3, 1)
	c.ReleaseOnBehalfOf("b")
	wantTokens(t, c, 3, 0)
}

func TestCapacityLimiterMisusePanics(t *testing.T) {
	wantPanic(t, "trio: CapacityLimiter total tokens must be >= 0, not -1", func() { trio.NewCapacityLimiter(-1) })

	c := trio.NewCapacityLimiter(2)
	wantPanic(t, "trio: CapacityLimiter total tokens must be >= 0, not -10", func() { c.SetTotalTokens(-10) })
	wantPanic(t, "trio: CapacityLimiter borrower must not be nil", func() { c.TryAcquireOnBehalfOf(nil) })
	wantPanic(t, "trio: CapacityLimiter.Release without an anonymous token out", c.Release)
	wantPanic(t, msgNotBorrowing, func() { c.ReleaseOnBehalfOf("a") })

	c.TryAcquireOnBehalfOf("a")
	wantPanic(t, msgAlreadyBorrowing, func() { c.TryAcquireOnBehalfOf("a") })
	wantPanic(t, msgAlreadyBorrowing, func() { _ = c.AcquireOnBehalfOf(context.Background(), "a") })
	c.TryAcquire()
	wantPanic(t, msgNotBorrowing, func() { c.ReleaseOnBehalfOf("b") }) // anonymous tokens are not b's

	// The panics left c consistent and unlocked.
	wantTokens(t, c, 2, 2)
	c.ReleaseOnBehalfOf("a")
	c.Release()
	wantTokens(t, c, 2, 0)
}

// A borrower waiting for a token counts as borrowing: asking again for it
// is misuse; once its wait is cancelled, it may ask again.
func TestCapacityLimiterWaitingBorrower(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := trio.NewCapacityLimiter(1)
		c.TryAcquire()
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- c.AcquireOnBehalfOf(ctx, "w") }()
		synctest.Wait()
		wantPanic(t, msgAlreadyBorrowing, func() { c.TryAcquireOnBehalfOf("w") })
		wantPanic(t, msgNotBorrowing, func() { c.ReleaseOnBehalfOf("w") })
		cancel()
		wantCancelled(t, <-done, context.Canceled)
		wantTokens(t, c, 1, 1)

		go func() { done <- c.AcquireOnBehalfOf(t.Context(), "w") }()
		synctest.Wait()
		c.Release() // hands the token to "w"
		if err := <-done; err != nil {
			t.Fatalf("AcquireOnBehalfOf = %v", err)
		}
		wantTokens(t, c, 1, 1)
		c.ReleaseOnBehalfOf("w")
		wantTokens(t, c, 1, 0)
	})
}

func TestCapacityLimiterFIFO(t *testing.T) { testFIFO(t, heldLimiter) }

func TestCapacityLimiterAcquireCancelled(t *testing.T) { testCancel(t, heldLimiter) }

// Raising the total hands the new tokens to the waiters at once, oldest
// first, recording each borrower; lowering it takes nothing back but
// admits nobody until enough tokens have come back.
func TestCapacityLimiterSetTotalTokens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := trio.NewCapacityLimiter(1)
		c.TryAcquire()
		got := make(chan int, 3)
		for i := range 3 {
			go func() {
				if err := c.AcquireOnBehalfOf(t.Context(), i); err != nil {
					t.Error(err)
					return
				}
				got <- i
			}()
			synctest.Wait()
		}

		c.SetTotalTokens(3)
		synctest.Wait()
		if len(got) != 2 {
			t.Fatalf("raising the total by 2 admitted %d waiters", len(got))
		}
		if a, b := <-got, <-got; min(a, b) != 0 || max(a, b) != 1 { // they report in either order
			t.Fatalf("raising the total admitted waiters %d and %d, want 0 and 1", a, b)
		}
		wantTokens(t, c, 3, 3)

		c.SetTotalTokens(1)
		wantTokens(t, c, 1, 3)
		c.ReleaseOnBehalfOf(0)
		c.ReleaseOnBehalfOf(1)
		synctest.Wait()
		if len(got) != 0 {
			t.Fatal("a waiter was admitted while the tokens out were not below the total")
		}
		wantTokens(t, c, 1, 1)
		c.Release()
		synctest.Wait()
		if len(got) != 1 || <-got != 2 {
			t.Fatal("the last waiter was not admitted once a token was free")
		}
		c.ReleaseOnBehalfOf(2)
		wantTokens(t, c, 1, 0)
	})
}

func TestCapacityLimiterStress(t *testing.T) {
	c := trio.NewCapacityLimiter(3)
	stressResource(t, 3, func(id int) resource {
		if id%2 == 0 {
			return limiterResource(c)
		}
		return limiterResourceFor(c, id)
	})
	wantTokens(t, c, 3, 0)
}

// The stress again, while another goroutine keeps moving the total
// between 1 and 4.
func TestCapacityLimiterStressSetTotalTokens(t *testing.T) {
	c := trio.NewCapacityLimiter(3)
	stop := make(chan struct{})
	var mover sync.WaitGroup
	mover.Go(func() {
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			c.SetTotalTokens(1 + n%4)
			runtime.Gosched()
		}
	})
	stressResource(t, 4, func(id int) resource {
		if id%2 == 0 {
			return limiterResource(c)
		}
		return limiterResourceFor(c, id)
	})
	close(stop)
	mover.Wait()
	c.SetTotalTokens(3)
	wantTokens(t, c, 3, 0)
}
