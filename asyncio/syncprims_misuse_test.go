package asyncio_test

import (
	"context"
	"strings"
	"testing"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// Flavor mistakes and costs of the locks and queues, beyond CPython's
// tests.

func TestSyncPrims_different_loop(t *testing.T) {
	// Every kind binds at its first wait; a wait from a second loop is
	// ErrDifferentLoop, whatever the kind.
	var ev asyncio.Event
	var q asyncio.Queue[int]
	sem := asyncio.NewSemaphore(0)
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		w1 := spawn(ctx, ev.Wait)
		w2 := asyncio.CreateTask(ctx, q.Get)
		w3 := spawn(ctx, sem.Acquire)
		tick(t, ctx)
		ev.Set()
		q.PutNowait(1)
		sem.Release()
		gatherOK(t, ctx, w1, w3)
		_, err := asyncio.Await(ctx, w2)
		return err
	})
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		ev.Clear()
		expectErr(t, ev.Wait(ctx), asyncio.ErrDifferentLoop, "Event.Wait")
		_, err := q.Get(ctx)
		expectErr(t, err, asyncio.ErrDifferentLoop, "Queue.Get")
		expectErr(t, sem.Acquire(ctx), asyncio.ErrDifferentLoop, "Semaphore.Acquire")
		// Calls that do not wait still work (as in asyncio).
		expectNoErr(t, q.PutNowait(2), "PutNowait")
		v, err := q.GetNowait()
		expect(t, v, 2, "GetNowait")
		expectNoErr(t, err, "GetNowait")
		return nil
	})
}

func TestSyncPrims_foreign_goroutine_in_debug_mode(t *testing.T) {
	// In debug mode a bound object used from a goroutine other than its
	// loop's panics, naming the mistake, instead of racing.
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		loop.SetDebug(true)
		var lock asyncio.Lock
		var q asyncio.Queue[int]
		runTask(ctx, loop, func(ctx context.Context) (struct{}, error) {
			// Bind both with a contested wait.
			lock.Acquire(ctx)
			w := spawn(ctx, lock.Acquire)
			g := asyncio.CreateTask(ctx, q.Get)
			tick(t, ctx)
			lock.Release()
			q.PutNowait(1)
			gatherOK(t, ctx, w)
			_, err := asyncio.Await(ctx, g)
			return struct{}{}, err
		})
		// This is the OpenLoop body's goroutine, not the loop's.
		if msg := mustPanic(t, lock.Release); !strings.Contains(msg, "goroutine other than the loop's") {
			t.Errorf("lock.Release: got panic %q, want it to contain %q", msg, "goroutine other than the loop's")
		}
		if msg := mustPanic(t, func() { q.PutNowait(2) }); !strings.Contains(msg, "goroutine other than the loop's") {
			t.Errorf("q.PutNowait(2): got panic %q, want it to contain %q", msg, "goroutine other than the loop's")
		}
		onLoop(ctx, loop, func(context.Context) { lock.Release() })
	})
}

func TestSyncPrims_no_allocation_without_waiting(t *testing.T) {
	ctx := context.Background() // never used: nothing waits
	var lock asyncio.Lock
	var ev asyncio.Event
	sem := asyncio.NewSemaphore(1)
	var cond asyncio.Condition
	q := asyncio.NewQueue[int](0)
	q.PutNowait(0) // the ring's first allocation
	q.GetNowait()
	allocs := testing.AllocsPerRun(100, func() {
		lock.Acquire(ctx)
		lock.Release()
		ev.Set()
		ev.Wait(ctx)
		ev.Clear()
		sem.Acquire(ctx)
		sem.Release()
		cond.Acquire(ctx)
		cond.NotifyAll()
		cond.Release()
		q.PutNowait(1)
		q.GetNowait()
		q.TaskDone()
	})
	expect(t, allocs, 0.0, "allocations per run")
}
