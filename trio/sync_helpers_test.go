package trio_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/trioasyncio/trioasyncio/trio"
)

// A resource is what the shared tests below need of a primitive that hands
// out units: a Lock, a Semaphore, a CapacityLimiter (anonymous or on
// behalf of a borrower).
type resource struct {
	acquire    func(ctx context.Context) error
	tryAcquire func() bool
	release    func()
}

// wantCancelled fails t unless err is a trio cancellation that also
// matches context.Canceled.
// wantPanic fails t unless fn panics with the message want.
func wantPanic(t *testing.T, want string, fn func()) {
	t.Helper()
	defer func() {
		t.Helper()
		if got := recover(); got != want {
			t.Fatalf("panic value = %v, want %q", got, want)
		}
	}()
	fn()
}

// testFIFO checks that waiters get the unit of a resource of capacity 1 in
// the order in which they started waiting, and that TryAcquire cannot
// barge in ahead of them. newHeld makes the resource, its unit taken.
func testFIFO(t *testing.T, newHeld func() resource) {
	synctest.Test(t, func(t *testing.T) {
		r := newHeld()
		const n = 5
		got := make(chan int)
		next := make(chan struct{})
		for i := range n {
			go func() {
				if err := r.acquire(t.Context()); err != nil {
					t.Error(err)
					return
				}
				got <- i
				<-next
				r.release()
			}()
			synctest.Wait() // waiter i is parked before waiter i+1 starts
		}
		r.release()
		for want := range n {
			if r.tryAcquire() {
				t.Fatalf("TryAcquire took the unit while waiter %d was due to get it", want)
			}
			if g := <-got; g != want {
				t.Fatalf("waiter %d got the unit, want waiter %d", g, want)
			}
			next <- struct{}{}
		}
		synctest.Wait()
		if !r.tryAcquire() {
			t.Fatal("the unit did not come back after the last waiter released it")
		}
		r.release()
	})
}

// testCancel checks, for a resource of capacity 1 (newHeld makes it, its
// unit taken), that cancelling a blocked acquire returns the cancellation,
// takes nothing, and leaves the other waiters in line; and that an acquire
// with a done ctx fails even when the unit is free.
func testCancel(t *testing.T, newHeld func() resource) {
	synctest.Test(t, func(t *testing.T) {
		r := newHeld()
		type result struct {
			who int
			err error
		}
		results := make(chan result, 3)
		var cancels [3]context.CancelFunc
		for i := range cancels {
			ctx, cancel := context.WithCancel(t.Context())
			cancels[i] = cancel
			go func() {
				err := r.acquire(ctx)
				results <- result{i, err}
				if err == nil {
					r.release()
				}
			}()
			synctest.Wait()
		}
		cancels[1]()
		synctest.Wait()
		res := <-results
		if res.who != 1 {
			t.Fatalf("waiter %d returned when waiter 1 was cancelled", res.who)
		}
		wantCancelled(t, res.err, context.Canceled)
		if r.tryAcquire() {
			t.Fatal("the cancelled waiter freed the unit that it never had")
		}

		r.release()
		synctest.Wait()
		for _, want := range []int{0, 2} {
			if res := <-results; res.who != want || res.err != nil {
				t.Fatalf("got waiter %d (err %v), want waiter %d with nil", res.who, res.err, want)
			}
		}
		for _, cancel := range cancels {
			cancel()
		}

		// The unit is free now, but a done ctx still fails, taking nothing.
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		wantCancelled(t, r.acquire(ctx), context.Canceled)
		if !r.tryAcquire() {
			t.Fatal("the unit was lost")
		}
		r.release()
	})
}

// stressResource runs goroutines that acquire units and give them back many
// times, their ctxs cancelled at random moments (before the acquire, while
// it waits, as a unit is handed to it, or never), and checks that at most
// capacity units are out at once and that every acquire either succeeds
// or returns a cancellation. worker(id) gives goroutine id its view of the
// primitive. The caller checks afterwards that every unit came back.
func stressResource(t *testing.T, capacity int64, worker func(id int) resource) {
	const goroutines, rounds = 16, 300
	var (
		out       atomic.Int64
		acquired  atomic.Int64
		cancelled atomic.Int64
		wg        sync.WaitGroup
	)
	for id := range goroutines {
		r := worker(id)
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(id), 42))
			for range rounds {
				ctx, done := randomlyCancelled(rng)
				err := r.acquire(ctx)
				switch {
				case err == nil:
					acquired.Add(1)
					if n := out.Add(1); n > capacity {
						t.Errorf("%d units out, capacity %d", n, capacity)
					}
					runtime.Gosched()
					out.Add(-1)
					r.release()
				case errors.Is(err, trio.ErrCancelled) && errors.Is(err, context.Canceled):
					cancelled.Add(1)
				default:
					t.Errorf("acquire: %v", err)
				}
				done()
			}
		})
	}
	wg.Wait()
	t.Logf("%d acquired, %d cancelled", acquired.Load(), cancelled.Load())
}

// randomlyCancelled returns a ctx that is cancelled already, or will be
// soon by another goroutine, or never (until done), a third of the time
// each. Call done when finished with ctx: it waits for that goroutine.
func randomlyCancelled(rng *rand.Rand) (ctx context.Context, done func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var canceller sync.WaitGroup
	switch rng.IntN(3) {
	case 0:
		cancel()
	case 1:
		spins := rng.IntN(50)
		canceller.Go(func() {
			for range spins {
				runtime.Gosched()
			}
			cancel()
		})
	}
	return ctx, func() {
		canceller.Wait()
		cancel()
	}
}
