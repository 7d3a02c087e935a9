package asyncio_test

// Quarantine under stress: thousands of OpenLoop blocks in a row, each
// leaving work behind, and a hundred loops side by side, cancelled one at
// a time. After an OpenLoop returns, nothing it started may be alive and
// nothing of it may be left in memory; a loop's end touches no other.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

// quarantineLoops is the number of blocks TestQuarantine_loops_in_a_row
// opens: 10,000 (about 3 s on 2 cores, 15 s with -race), or 1,000 with
// -short.
func quarantineLoops() int {
	if testing.Short() {
		return 1_000
	}
	return 10_000
}

// leaveBehind fills a block with work that is still going when body
// returns: tasks (one waiting, one ignoring its cancellation for a while,
// one awaiting a trio call), a trio call nobody awaits, timers, callbacks
// always pending, a function on the executor, a coroutine submitted with
// RunCoroutineThreadsafe, and goroutines outside the block calling into
// the loop (CallSoonThreadsafe, RunAsyncio) until it refuses.
func leaveBehind(ctx context.Context, loop *asyncio.Loop, callers *atomic.Int64) {
	ready := make(chan struct{})
	loop.CallSoonThreadsafe(func(cctx context.Context) {
		asyncio.CreateTask(cctx, func(ctx context.Context) (int, error) { return 0, asyncio.Sleep(ctx, time.Hour) })
		asyncio.CreateTask(cctx, func(ctx context.Context) (int, error) {
			asyncio.Sleep(ctx, time.Hour)
			return 0, asyncio.Sleep(ctx, 0)
		})
		asyncio.CreateTask(cctx, func(ctx context.Context) (int, error) {
			return asyncio.Await(ctx, asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) { return 0, trio.SleepForever(ctx) }))
		})
		asyncio.RunTrio(cctx, func(ctx context.Context) (int, error) { return 0, trio.SleepForever(ctx) })
		loop.CallLater(time.Hour, func(context.Context) {})
		loop.CallLater(time.Millisecond, func(context.Context) {})
		var tick func(context.Context)
		tick = func(context.Context) { loop.CallSoon(tick) }
		loop.CallSoon(tick)
		asyncio.RunInExecutor(cctx, nil, func(ctx context.Context) (int, error) {
			<-ctx.Done()
			return 0, nil
		})
		close(ready)
	})
	<-ready
	cf := asyncio.RunCoroutineThreadsafe(loop, func(ctx context.Context) (int, error) { return 0, asyncio.Sleep(ctx, time.Hour) })
	callers.Add(2)
	go func() {
		defer callers.Add(-1)
		cf.Result(context.Background())
		for {
			if _, err := loop.CallSoonThreadsafe(func(context.Context) {}); err != nil {
				return
			}
			runtime.Gosched()
		}
	}()
	go func() {
		defer callers.Add(-1)
		for {
			_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) { return 0, asyncio.Sleep(ctx, time.Millisecond) })
			if errors.Is(err, asyncio.ErrLoopClosed) {
				return
			}
		}
	}()
}

// heapInUse returns the bytes of live heap objects after a full
// collection (twice: cleanups and weak pointers need a second cycle).
func heapInUse() uint64 {
	var ms runtime.MemStats
	for range 3 {
		runtime.GC()
	}
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// 10,000 OpenLoop blocks in a row, each leaving running tasks, pending
// timers, trio calls and thread-safe callers behind: afterwards no extra
// goroutine is alive and the heap is back to where it started.
func TestQuarantine_loops_in_a_row(t *testing.T) {
	n := quarantineLoops()
	var callers atomic.Int64
	block := func() {
		var loop *asyncio.Loop
		if err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, l *asyncio.Loop) error {
			loop = l
			leaveBehind(ctx, l, &callers)
			return nil
		}); err != nil {
			t.Fatalf("OpenLoop: got %v, want nil", err)
		}
		if !loop.IsClosed() {
			t.Fatalf("loop not closed: loop.IsClosed() got false, want true")
		}
	}
	// Warm up (pools, the runtime's own structures), then measure.
	for range 50 {
		block()
	}
	waitCallers(t, &callers)
	ign := goleak.IgnoreCurrent()
	before := heapInUse()
	start := time.Now()
	for range n {
		block()
	}
	elapsed := time.Since(start)
	waitCallers(t, &callers)
	noLeak(t, ign)
	after := heapInUse()
	t.Logf("%d blocks in %v (%v each); heap %d → %d bytes", n, elapsed, elapsed/time.Duration(n), before, after)
	// Whatever a block left behind would show as at least n small
	// objects: allow a quarter of a kilobyte of noise per hundred blocks.
	if slack := uint64(256*1024 + n*2); after > before+slack {
		t.Errorf("got heap grew by %d bytes over %d blocks (%d per block); want after <= before + slack", after-before, n, (after-before)/uint64(n))
	}
}

// waitCallers waits for the goroutines leaveBehind started outside the
// blocks to notice their loop is closed and return.
func waitCallers(t *testing.T, callers *atomic.Int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for callers.Load() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("got %d callers outside the blocks still running; want !time.Now().After(deadline)", callers.Load())
		}
		time.Sleep(time.Millisecond)
	}
}

// 100 loops open side by side; each round one, picked at random, is
// cancelled (the scope around its OpenLoop): it closes with everything it
// started; the others keep working, undisturbed; then the slot gets a
// new loop.
func TestQuarantine_loops_side_by_side(t *testing.T) {
	const slots = 100
	rounds := 30
	if testing.Short() {
		rounds = 10
	}
	type slot struct {
		scope    *trio.CancelScope
		loop     *asyncio.Loop
		progress atomic.Int64
		failed   atomic.Pointer[error]
		ended    chan error // OpenLoop's error, once it has returned
	}
	ign := goleak.IgnoreCurrent()
	rng := rand.New(rand.NewPCG(1, 2))
	err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		var s [slots]*slot
		open := func(i int) {
			sl := &slot{scope: new(trio.CancelScope), ended: make(chan error, 1)}
			s[i] = sl
			started := make(chan struct{})
			n.StartSoon(func(ctx context.Context) error {
				sl.ended <- sl.scope.Run(ctx, func(ctx context.Context) error {
					return asyncio.OpenLoop(ctx, func(ctx context.Context, loop *asyncio.Loop) error {
						sl.loop = loop
						close(started)
						// Work crossing the boundary both ways, all the time.
						for {
							v, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
								return asyncio.Await(ctx, asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
									return 1, trio.Sleep(ctx, time.Millisecond)
								}))
							})
							if err != nil {
								if !trio.IsCancellation(err) || !sl.scope.CancelCalled() {
									sl.failed.Store(&err)
								}
								return err
							}
							sl.progress.Add(int64(v))
						}
					})
				})
				return nil
			})
			<-started
		}
		for i := range slots {
			open(i)
		}
		// waitProgress waits until every live slot but skip has moved on
		// from snap.
		waitProgress := func(snap []int64, skip int) error {
			deadline := time.Now().Add(30 * time.Second)
			for i, sl := range s {
				for i != skip && sl.progress.Load() <= snap[i] {
					if time.Now().After(deadline) {
						return fmt.Errorf("slot %d made no progress", i)
					}
					time.Sleep(time.Millisecond)
				}
			}
			return nil
		}
		snapshot := func() []int64 {
			snap := make([]int64, slots)
			for i, sl := range s {
				snap[i] = sl.progress.Load()
			}
			return snap
		}
		for round := range rounds {
			victim := rng.IntN(slots)
			snap := snapshot()
			s[victim].scope.Cancel()
			if err := <-s[victim].ended; err != nil {
				return fmt.Errorf("round %d: cancelled slot %d: OpenLoop returned %v", round, victim, err)
			}
			if !s[victim].loop.IsClosed() || !s[victim].scope.CancelledCaught() {
				return fmt.Errorf("round %d: slot %d: closed %v, caught %v", round, victim, s[victim].loop.IsClosed(), s[victim].scope.CancelledCaught())
			}
			if err := waitProgress(snap, victim); err != nil {
				return fmt.Errorf("round %d, after cancelling slot %d: %w", round, victim, err)
			}
			for i, sl := range s {
				if p := sl.failed.Load(); p != nil {
					return fmt.Errorf("round %d: slot %d failed: %v", round, i, *p)
				}
				if i != victim && sl.loop.IsClosed() {
					return fmt.Errorf("round %d: slot %d closed with slot %d", round, i, victim)
				}
			}
			open(victim)
		}
		for _, sl := range s {
			sl.scope.Cancel()
		}
		return nil
	})
	if err != nil {
		t.Errorf("trio.OpenNursery: got %v, want nil", err)
	}
	noLeak(t, ign)
}
