package asyncio_test

// Tests of the boundary between trio-flavored code and the loop
// (bridge.go). First the boundary's contract, as ten numbered clauses,
// one test each, named TestS<n>_…: the numbers are stable, for
// conformance tables to refer to, and each test's comment states its
// clause in full. Then, function by function, the finer cases of
// OpenLoop, GetRunningLoop, Stop/WaitStopped, RunAsyncio, RunFuture,
// RunSync, Synchronize and RunTrio, and how panics and errors leave a
// block. trio-asyncio's own cases, transcribed, are in
// bridge_trioasyncio_test.go; the stress tests in quarantine_test.go.
//
// Code running on the loop or on goroutines a test starts reports with
// t.Error, never t.Fatal (runtime.Goexit there would leak the loop).
// Tests where time matters run in a testing/synctest bubble, where the
// loop, its goroutines and the test all live: times are then exact.

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/asyncio/internal/turns"
	"github.com/trioasyncio/trioasyncio/trio"
)

// ---- helpers

// evlog records what happened, in order, from any goroutine.
type evlog struct {
	mu sync.Mutex
	ev []string
}

func (l *evlog) add(format string, args ...any) {
	l.mu.Lock()
	l.ev = append(l.ev, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *evlog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ev)
}

// index returns the position of the first event that starts with
// prefix, or -1.
func (l *evlog) index(prefix string) int {
	for i, e := range l.all() {
		if strings.HasPrefix(e, prefix) {
			return i
		}
	}
	return -1
}

// inOrder fails the test unless every event (by prefix) was recorded,
// each after the one before it.
func (l *evlog) inOrder(t *testing.T, prefixes ...string) {
	t.Helper()
	last := -1
	for k, p := range prefixes {
		i := l.index(p)
		switch {
		case i < 0:
			t.Errorf("events: got %q, want one starting with %q", l.all(), p)
			return
		case i <= last:
			t.Errorf("events: got %q, want %q after %q", l.all(), p, prefixes[k-1])
			return
		}
		last = i
	}
}

// has fails the test unless an event equal to e was recorded.
func (l *evlog) has(t *testing.T, e string) {
	t.Helper()
	if !slices.Contains(l.all(), e) {
		t.Errorf("events: got %q, want one equal to %q", l.all(), e)
	}
}

// spawnTask creates a task on loop from trio-flavored code. The task is
// loop-confined: look at it on the loop (onLoopValue) or once the loop has
// closed.
func spawnTask[T any](ctx context.Context, loop *asyncio.Loop, coro func(ctx context.Context) (T, error)) *asyncio.Task[T] {
	var task *asyncio.Task[T]
	onLoop(ctx, loop, func(cctx context.Context) { task = asyncio.CreateTask(cctx, coro) })
	return task
}

// onLoopValue evaluates fn on the loop of ctx, from trio-flavored code.
func onLoopValue[T any](t *testing.T, ctx context.Context, fn func() T) T {
	t.Helper()
	v, err := asyncio.RunSync(ctx, func(context.Context) (T, error) { return fn(), nil })
	if err != nil {
		t.Errorf("RunSync: got %v, want nil", err)
	}
	return v
}

// asTask runs coro as a task on the loop of ctx (RunAsyncio) and fails
// the test with its error.
func asTask(t *testing.T, ctx context.Context, coro func(ctx context.Context) error) {
	t.Helper()
	if _, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, coro(ctx)
	}); err != nil {
		t.Errorf("task: got %v, want nil", err)
	}
}

// noLeak fails the test if a goroutine started since ign was taken is
// still alive (goleak retries for a while, so goroutines on their way
// out are waited for).
func noLeak(t *testing.T, ign goleak.Option) {
	t.Helper()
	if err := goleak.Find(ign); err != nil {
		t.Errorf("goroutines left behind: got %v, want nil", err)
	}
}

// stubborn is a coroutine that never ends of itself: it ignores every
// cancellation and waits for a future nothing resolves. The loop stops it
// at close.
func stubborn(loop *asyncio.Loop, started chan<- struct{}) func(ctx context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		if started != nil {
			close(started)
		}
		for {
			asyncio.Await(ctx, asyncio.NewFuture[int](loop))
		}
	}
}

const ms = time.Millisecond

// ---- the contract, clause by clause (TestS1 … TestS10)

// OpenLoop opens a loop for the duration of body; the loop runs at
// once; body runs as trio-flavored code: ordinary Go with the caller's
// ctx values, blocking as it likes, starting goroutines that cross the
// boundary in parallel, not a task; OpenLoop returns body's error once
// the loop has closed.
func TestS1_OpenLoop_body_runs_as_trio_code_while_the_loop_runs(t *testing.T) {
	type key struct{}
	ctx := context.WithValue(context.Background(), key{}, "outer")
	boom := errors.New("boom")
	var loop *asyncio.Loop
	err := asyncio.OpenLoop(ctx, func(ctx context.Context, l *asyncio.Loop) error {
		loop = l
		if ctx.Value(key{}) != "outer" {
			t.Errorf("body does not see the caller's values: got %v, want \"outer\"", ctx.Value(key{}))
		}
		if got, err := asyncio.GetRunningLoop(ctx); got != l || err != nil {
			t.Errorf("got GetRunningLoop(body ctx) = %v, %v; want got == l && err == nil", got, err)
		}
		// The loop runs at once, beside body, which blocks in plain Go.
		ran := make(chan struct{})
		l.CallSoonThreadsafe(func(context.Context) { close(ran) })
		select {
		case <-ran:
		case <-time.After(10 * time.Second):
			t.Error("the loop did not run a callback while body blocked")
		}
		// body is not a task: asyncio-flavored calls are flavor errors.
		fut := onLoopValue(t, ctx, func() *asyncio.Future[int] { return asyncio.NewFuture[int](l) })
		if _, err := asyncio.Await(ctx, fut); !errors.Is(err, asyncio.ErrAwaitOutsideTask) {
			t.Errorf("Await from body: got %v, want an error matching asyncio.ErrAwaitOutsideTask", err)
		}
		onLoop(ctx, l, func(context.Context) { fut.Cancel("") })
		// Trio-flavored: goroutines of a nursery cross the boundary in
		// parallel.
		var sum atomic.Int64
		if err := trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
			for i := 1; i <= 8; i++ {
				n.StartSoon(func(ctx context.Context) error {
					v, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
						return i, asyncio.Sleep(ctx, ms)
					})
					sum.Add(int64(v))
					return err
				})
			}
			return nil
		}); err != nil || sum.Load() != 36 {
			t.Errorf("parallel RunAsyncio: got %v, sum %d; want err == nil && sum.Load() == 36", err, sum.Load())
		}
		if l.IsClosed() {
			t.Errorf("loop closed inside its block: l.IsClosed() got true, want false")
		}
		return boom
	})
	if err != boom {
		t.Errorf("OpenLoop returned: got %v, want body's error", err)
	}
	if !loop.IsClosed() {
		t.Errorf("loop not closed after OpenLoop returned: loop.IsClosed() got false, want true")
	}
}

// The loop is current for everything reached through body's ctx: the
// innermost enclosing block's; a task's, callback's or trio call's own
// loop; without OpenLoop, an error that says so.
func TestS2_current_loop_is_the_innermost_block_and_a_tasks_own(t *testing.T) {
	if _, err := asyncio.GetRunningLoop(context.Background()); !errors.Is(err, asyncio.ErrNoRunningLoop) ||
		!strings.Contains(err.Error(), "OpenLoop") {
		t.Errorf("outside OpenLoop: got %v; want errors.Is(err, asyncio.ErrNoRunningLoop) && strings.Contains(err.Error(), \"OpenLoop\")", err)
	}
	var innerCtx context.Context
	withLoop(t, func(octx context.Context, outer *asyncio.Loop) {
		withLoop(t, func(ictx context.Context, inner *asyncio.Loop) {
			innerCtx = ictx
			if l, _ := asyncio.GetRunningLoop(ictx); l != inner {
				t.Errorf("inner body: not the inner loop: got l != inner, want l == inner")
			}
			if l, _ := asyncio.GetRunningLoop(octx); l != outer {
				t.Errorf("outer body's ctx: not the outer loop: got l != outer, want l == outer")
			}
			// A task and its trio call see the task's loop.
			for _, c := range []struct {
				ctx  context.Context
				want *asyncio.Loop
			}{{ictx, inner}, {octx, outer}} {
				asTask(t, c.ctx, func(ctx context.Context) error {
					if l, _ := asyncio.GetRunningLoop(ctx); l != c.want {
						t.Errorf("task: not its own loop: got l != c.want, want l == c.want")
					}
					l, err := asyncio.Await(ctx, asyncio.RunTrio(ctx, func(ctx context.Context) (*asyncio.Loop, error) {
						return asyncio.GetRunningLoop(ctx)
					}))
					if l != c.want {
						t.Errorf("trio call: got %v, %v; want l == c.want", l, err)
					}
					return nil
				})
			}
			// A callback on the outer loop scheduled from the inner block,
			// with the inner ctx's values, sees the outer loop.
			type key struct{}
			vctx := context.WithValue(ictx, key{}, "v")
			done := make(chan struct{})
			outer.CallSoonThreadsafe(func(cctx context.Context) {
				defer close(done)
				if l, _ := asyncio.GetRunningLoop(cctx); l != outer || cctx.Value(key{}) != "v" {
					t.Errorf("callback on outer: got loop %v, value %v; want l == outer && cctx.Value(key{}) == \"v\"", l, cctx.Value(key{}))
				}
			}, asyncio.WithContext(vctx))
			<-done
		})
		if l, _ := asyncio.GetRunningLoop(octx); l != outer {
			t.Errorf("outer loop lost after the inner block: got l != outer, want l == outer")
		}
		if _, err := asyncio.GetRunningLoop(innerCtx); !errors.Is(err, asyncio.ErrNoRunningLoop) {
			t.Errorf("closed inner loop: got %v, want an error matching asyncio.ErrNoRunningLoop", err)
		}
	})
}

// teardownProbe sets up, inside a block, one of each thing the teardown
// must deal with, and checks afterwards that it did, in order
// (TestS3_exit_order_and_quarantine).
type teardownProbe struct {
	ev       evlog
	taskA    asyncio.AnyTask                 // loop-confined
	ctxC     atomic.Pointer[context.Context] // C's ctx
	ticks    atomic.Int64
	timerRan atomic.Bool
	returned atomic.Bool
	ready    chan struct{}
	ign      goleak.Option
}

func newTeardownProbe() *teardownProbe {
	return &teardownProbe{ready: make(chan struct{}, 8), ign: goleak.IgnoreCurrent()}
}

// start sets up, from body: A, a task whose cleanup awaits and crosses
// the boundary; B, a task awaiting a trio call; C, a trio call nobody
// awaits, whose cleanup reaches the loop; a timer far away; a callback
// that always has a successor pending; a function on the loop's executor.
// It returns once they are all running.
func (p *teardownProbe) start(t *testing.T, ctx context.Context, l *asyncio.Loop) {
	onLoop(ctx, l, func(cctx context.Context) {
		p.taskA = asyncio.CreateTask(cctx, func(ctx context.Context) (int, error) {
			p.ready <- struct{}{}
			err := asyncio.Sleep(ctx, time.Hour)
			p.ev.add("A cancelled: %v", errors.Is(err, asyncio.ErrCancelled))
			if err := asyncio.Sleep(ctx, ms); err != nil {
				p.ev.add("A cleanup could not sleep: %v", err)
			}
			v, err2 := asyncio.Await(ctx, asyncio.RunTrio(ctx, func(context.Context) (string, error) { return "crossed", nil }))
			p.ev.add("A cleanup: %s %v", v, err2)
			return 0, err
		})
		asyncio.CreateTask(cctx, func(ctx context.Context) (int, error) {
			_, err := asyncio.Await(ctx, asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
				p.ready <- struct{}{}
				err := trio.SleepForever(ctx)
				p.ev.add("B's trio call cancelled")
				return 0, err
			}))
			p.ev.add("B cancelled: %v", errors.Is(err, asyncio.ErrCancelled))
			return 0, err
		})
		asyncio.RunTrio(cctx, func(ctx context.Context) (int, error) {
			p.ctxC.Store(&ctx)
			p.ready <- struct{}{}
			err := trio.SleepForever(ctx)
			p.ev.add("C cancelled")
			var shield trio.CancelScope
			shield.SetShield(true)
			shield.Run(ctx, func(ctx context.Context) error {
				v, err := asyncio.RunSync(ctx, func(context.Context) (int, error) { return 5, nil })
				p.ev.add("C cleanup RunSync: %d %v", v, err)
				_, err = asyncio.RunAsyncio(ctx, func(context.Context) (int, error) { return 0, nil })
				p.ev.add("C cleanup RunAsyncio: %v", errors.Is(err, asyncio.ErrLoopClosed))
				return nil
			})
			return 0, err
		})
		l.CallLater(time.Hour, func(context.Context) { p.timerRan.Store(true) })
		var tick func(context.Context)
		tick = func(context.Context) {
			if p.returned.Load() {
				t.Errorf("a callback ran after OpenLoop returned: p.returned.Load() got true, want false")
			}
			p.ticks.Add(1)
			l.CallSoon(tick)
		}
		l.CallSoon(tick)
		asyncio.RunInExecutor(cctx, nil, func(ctx context.Context) (int, error) {
			p.ready <- struct{}{}
			<-ctx.Done()
			p.ev.add("E's ctx cancelled")
			return 0, nil
		})
	})
	for range 4 {
		<-p.ready
	}
	// Scheduled by body before it returns: runs before any cancellation.
	l.CallSoonThreadsafe(func(context.Context) {
		p.ev.add("flush")
		if n := p.taskA.Cancelling(); n != 0 || (*p.ctxC.Load()).Err() != nil {
			p.ev.add("flush ran after the cancellations: A cancelling %d, C's ctx %v", n, (*p.ctxC.Load()).Err())
		}
	})
}

// ended marks OpenLoop's return.
func (p *teardownProbe) ended() {
	p.returned.Store(true)
	p.ev.add("returned")
}

// check checks the teardown's work and the quarantine.
func (p *teardownProbe) check(t *testing.T, loop *asyncio.Loop) {
	t.Helper()
	p.ev.inOrder(t, "flush", "A cancelled: true", "A cleanup: crossed <nil>", "returned")
	p.ev.inOrder(t, "flush", "B's trio call cancelled", "B cancelled: true", "returned")
	p.ev.inOrder(t, "flush", "C cancelled", "C cleanup RunSync: 5 <nil>", "C cleanup RunAsyncio: true", "returned")
	p.ev.inOrder(t, "flush", "E's ctx cancelled", "returned")
	for _, bad := range []string{"A cleanup could not sleep", "flush ran after"} {
		if i := p.ev.index(bad); i >= 0 {
			t.Errorf("p.ev.index: got %v; want i < 0", p.ev.all()[i])
		}
	}
	if !loop.IsClosed() {
		t.Errorf("loop not closed: loop.IsClosed() got false, want true")
	}
	n := p.ticks.Load()
	time.Sleep(20 * ms)
	if p.timerRan.Load() || p.ticks.Load() != n {
		t.Errorf("after OpenLoop returned: got timer ran %v, callbacks ran %d; want !p.timerRan.Load() && p.ticks.Load() == n", p.timerRan.Load(), p.ticks.Load()-n)
	}
	noLeak(t, p.ign)
}

// The loop has no Close: it closes when the block exits, in this
// order: callbacks body scheduled run; every task is cancelled and
// finishes its cancellation while the loop still runs (its cleanup can
// await and cross the boundary); trio calls are cancelled and awaited;
// pending callbacks and timers are dropped; the executor is shut down.
// After OpenLoop returns, nothing it started is alive and no callback of
// it runs.
func TestS3_exit_order_and_quarantine(t *testing.T) {
	p := newTeardownProbe()
	var loop *asyncio.Loop
	err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, l *asyncio.Loop) error {
		loop = l
		p.start(t, ctx, l)
		return nil
	})
	p.ended()
	if err != nil {
		t.Errorf("OpenLoop: got %v, want nil", err)
	}
	p.check(t, loop)
}

// WaitStopped blocks until Stop, and re-arms on every call, so that
// run_forever/stop rounds repeat.
func TestS4_WaitStopped_rearms_on_every_call(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		for round := 1; round <= 3; round++ {
			n := 0
			onLoop(ctx, loop, func(context.Context) {
				var step func(context.Context)
				step = func(context.Context) {
					if n++; n < 5 {
						loop.CallSoon(step)
					} else {
						loop.Stop()
					}
				}
				loop.CallSoon(step)
			})
			if err := loop.WaitStopped(ctx); err != nil {
				t.Errorf("round %d: got %v; want err == nil", round, err)
			}
			if got := onLoopValue(t, ctx, func() int { return n }); got != 5 {
				t.Errorf("round %d: steps before WaitStopped returned: got %d, want 5", round, got)
			}
		}
		// Each call waits for a Stop of its own.
		if moved, err := trio.MoveOnAfter(ctx, 20*ms, loop.WaitStopped); !moved || err != nil {
			t.Errorf("WaitStopped without a new Stop: got moved on %v, %v; want moved && err == nil", moved, err)
		}
	})
}

// RunAsyncio runs a coroutine as a task on the current loop and
// returns its result to trio code; RunFuture waits for a future; RunSync
// runs a plain function on the loop. No loop is passed around: ctx says
// which.
func TestS5_RunAsyncio_RunFuture_RunSync_reach_the_current_loop(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		s, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (string, error) {
			if asyncio.CurrentTask(ctx) == nil {
				return "", errors.New("not a task")
			}
			return "coro", asyncio.Sleep(ctx, ms)
		})
		if s != "coro" || err != nil {
			t.Errorf("RunAsyncio: got %q, %v; want s == \"coro\" && err == nil", s, err)
		}
		fut, err := asyncio.RunSync(ctx, func(context.Context) (*asyncio.Future[float64], error) {
			f := asyncio.NewFuture[float64](loop)
			loop.CallLater(ms, func(context.Context) { f.SetResult(1.5) })
			return f, nil
		})
		if err != nil {
			t.Fatalf("asyncio.RunSync: got %v, want nil", err)
		}
		if v, err := asyncio.RunFuture(ctx, fut); v != 1.5 || err != nil {
			t.Errorf("RunFuture: got %v, %v; want v == 1.5 && err == nil", v, err)
		}
		boom := errors.New("boom")
		if _, err := asyncio.RunSync(ctx, func(context.Context) (int, error) { return 0, boom }); err != boom {
			t.Errorf("RunSync error: got %v, want %v", err, boom)
		}
	})
}

// RunTrio runs trio-flavored fn from asyncio code, in the loop's
// nursery: fn may block without stalling the loop, and the block waits
// for it even if nobody awaits its future.
func TestS6_RunTrio_runs_in_the_loops_nursery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev evlog
		err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
			asTask(t, ctx, func(ctx context.Context) error {
				ticks := 0
				ticker := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
					for asyncio.Sleep(ctx, ms) == nil {
						ticks++
					}
					return ticks, nil
				})
				v, err := asyncio.Await(ctx, asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
					// Blocks its goroutine, not the loop.
					time.Sleep(10 * ms)
					return 42, nil
				}))
				if v != 42 || err != nil || ticks < 9 {
					t.Errorf("RunTrio: got %v, %v; the loop ticked %d times meanwhile; want v == 42 && err == nil && ticks >= 9", v, err, ticks)
				}
				ticker.Cancel("")
				// Fire and forget: the block still waits for it.
				asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
					var shield trio.CancelScope
					shield.SetShield(true)
					shield.Run(ctx, func(ctx context.Context) error { return trio.Sleep(ctx, 50*ms) })
					ev.add("unawaited trio call done")
					return 0, nil
				})
				return nil
			})
			return nil
		})
		ev.add("returned")
		if err != nil {
			t.Errorf("OpenLoop: got %v, want nil", err)
		}
		ev.inOrder(t, "unawaited trio call done", "returned")
	})
}

// Trio→asyncio cancellation. When ctx is cancelled, the task is
// cancelled (once) and waited for: ended cancelled, the caller gets
// trio's cancellation with asyncio's chained, absorbed by the scope that
// caused it; completed anyway, the result; refusing, the caller keeps
// waiting; a CancelledError trio did not cause comes back unchanged.
func TestS7_trio_to_asyncio_cancellation(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		start := time.Now()
		// Honoured.
		var scope trio.CancelScope
		scope.SetDeadline(start.Add(10 * ms))
		var err error
		if e := scope.Run(ctx, func(ctx context.Context) error {
			_, err = asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
				return 0, asyncio.Sleep(ctx, time.Hour)
			})
			return err
		}); e != nil || !scope.CancelledCaught() {
			t.Errorf("honoured: got scope returned %v, caught %v; want e == nil && scope.CancelledCaught()", e, scope.CancelledCaught())
		}
		if !errors.Is(err, trio.ErrCancelled) || !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("honoured: got %v matches trio %v, asyncio %v; want errors.Is(err, trio.ErrCancelled) && errors.Is(err, asyncio.ErrCancelled)", err, errors.Is(err, trio.ErrCancelled), errors.Is(err, asyncio.ErrCancelled))
		}
		// Completes anyway; refuses for a while.
		for _, c := range []struct {
			name    string
			extra   time.Duration
			v       int
			errTrio bool
		}{{"completes anyway", 0, 7, false}, {"refuses", 30 * ms, 0, true}} {
			start := time.Now()
			var v int
			var err error
			moved, _ := trio.MoveOnAfter(ctx, 10*ms, func(ctx context.Context) error {
				v, err = asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
					cerr := asyncio.Sleep(ctx, time.Hour)
					if c.extra == 0 {
						return 7, nil
					}
					asyncio.Sleep(ctx, c.extra)
					return 0, cerr
				})
				if err == nil {
					return trio.Checkpoint(ctx)
				}
				return err
			})
			if v != c.v || errors.Is(err, trio.ErrCancelled) != c.errTrio || !moved || time.Since(start) != 10*ms+c.extra {
				t.Errorf("%s: got %v, %v, moved %v, after %v; want v == c.v && errors.Is(err, trio.ErrCancelled) == c.errTrio && moved && time.Since(start) == 10*ms + c.extra", c.name, v, err, moved, time.Since(start))
			}
		}
		// Spontaneous.
		var s2 trio.CancelScope
		var e2 error
		got := s2.Run(ctx, func(ctx context.Context) error {
			_, e2 = asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
				return 0, &asyncio.CancelledError{Msg: "raw"}
			})
			return e2
		})
		if got != e2 || s2.CancelCalled() || !errors.Is(e2, asyncio.ErrCancelled) || errors.Is(e2, trio.ErrCancelled) {
			t.Errorf("spontaneous: got %v (scope returned %v); want got == e2 && !s2.CancelCalled() && errors.Is(e2, asyncio.ErrCancelled) && !errors.Is(e2, trio.ErrCancelled)", e2, got)
		}
	})
}

// Asyncio→trio cancellation. Each call has its own scope; cancelling
// the future cancels it; fn ending cancelled cancels the future (its
// CancelledError wraps trio's); fn finishing anyway gives it the result.
func TestS8_asyncio_to_trio_cancellation(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		asTask(t, ctx, func(ctx context.Context) error {
			a := asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) { return 0, trio.SleepForever(ctx) })
			b := asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
				var shield trio.CancelScope
				shield.SetShield(true)
				err := shield.Run(ctx, func(ctx context.Context) error { return trio.Sleep(ctx, 10*ms) })
				return 7, err
			})
			asyncio.Sleep(ctx, ms)
			if !a.Cancel("stop") {
				t.Errorf("Cancel of a running trio call returned false: a.Cancel(\"stop\") got false, want true")
			}
			_, err := asyncio.Await(ctx, a)
			var ce *asyncio.CancelledError
			if !a.Cancelled() || !errors.As(err, &ce) || ce.Msg != "stop" || !errors.Is(err, trio.ErrCancelled) {
				t.Errorf("a: got cancelled %v, %v; want a.Cancelled() && errors.As(err, &ce) && ce.Msg == \"stop\" && errors.Is(err, trio.ErrCancelled)", a.Cancelled(), err)
			}
			if b.Done() {
				t.Errorf("b done before the test cancels it: b.Done() got true, want false")
			}
			b.Cancel("stop")
			if v, err := asyncio.Await(ctx, b); v != 7 || err != nil || b.Cancelled() {
				t.Errorf("b (finished anyway): got %v, %v; want v == 7 && err == nil && !b.Cancelled()", v, err)
			}
			return nil
		})
	})
}

// The cancellation of the ctx around OpenLoop reaches only body:
// tasks and trio calls go on until body has returned and the teardown is
// done; a RunAsyncio in flight turns it into Task.Cancel; the
// cancellation then leaves OpenLoop, for the scope that caused it.
func TestS9_outer_cancellation_reaches_only_the_body(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev evlog
		start := time.Now()
		var scope trio.CancelScope
		scope.SetDeadline(start.Add(100 * ms))
		err := scope.Run(context.Background(), func(ctx context.Context) error {
			return asyncio.OpenLoop(ctx, func(ctx context.Context, loop *asyncio.Loop) error {
				onLoop(ctx, loop, func(cctx context.Context) {
					asyncio.CreateTask(cctx, func(ctx context.Context) (int, error) {
						err := asyncio.Sleep(ctx, 300*ms)
						ev.add("task slept until %v: %v", time.Since(start), err)
						return 0, err
					})
					asyncio.RunTrio(cctx, func(ctx context.Context) (int, error) {
						err := trio.Sleep(ctx, 300*ms)
						ev.add("trio call slept until %v: %v", time.Since(start), err)
						return 0, err
					})
				})
				_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
					err := asyncio.Sleep(ctx, time.Hour)
					ev.add("in-flight task: %v at %v", err, time.Since(start))
					return 0, err
				})
				ev.add("body: trio's cancellation %v", errors.Is(err, trio.ErrCancelled))
				var shield trio.CancelScope
				shield.SetShield(true)
				shield.Run(ctx, func(ctx context.Context) error {
					v, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) { return 1, asyncio.Sleep(ctx, 50*ms) })
					ev.add("shielded RunAsyncio: %d %v at %v", v, err, time.Since(start))
					return trio.Sleep(ctx, 200*ms)
				})
				return err
			})
		})
		if err != nil || !scope.CancelledCaught() || time.Since(start) != 350*ms {
			t.Errorf("OpenLoop: got %v, caught %v, returned after %v; want err == nil && scope.CancelledCaught() && time.Since(start) == 350 * ms", err, scope.CancelledCaught(), time.Since(start))
		}
		ev.inOrder(t,
			"in-flight task: asyncio: cancelled: cancelled by trio: deadline exceeded at 100ms",
			"body: trio's cancellation true",
			"shielded RunAsyncio: 1 <nil> at 150ms",
			"task slept until 300ms: <nil>")
		ev.has(t, "trio call slept until 300ms: <nil>")
	})
}

// Any number of loops, nested or side by side, each independent:
// cancelling one part of the tree ends its loops and all they started,
// and touches nothing else.
func TestS10_loops_are_independent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var scopeA trio.CancelScope
		var loopA, loopA2, loopB *asyncio.Loop
		var taskA, taskA2 *asyncio.Task[int]
		aReady, bReady, aDone := make(chan struct{}), make(chan struct{}), make(chan struct{})
		var bTicks atomic.Int64
		var bErr atomic.Pointer[error]
		err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
			n.StartSoon(func(ctx context.Context) error {
				defer close(aDone)
				return scopeA.Run(ctx, func(ctx context.Context) error {
					return asyncio.OpenLoop(ctx, func(ctx context.Context, la *asyncio.Loop) error {
						loopA = la
						taskA = spawnTask(ctx, la, func(ctx context.Context) (int, error) { return 0, asyncio.Sleep(ctx, time.Hour) })
						return asyncio.OpenLoop(ctx, func(ctx context.Context, la2 *asyncio.Loop) error {
							loopA2 = la2
							taskA2 = spawnTask(ctx, la2, func(ctx context.Context) (int, error) { return 0, asyncio.Sleep(ctx, time.Hour) })
							close(aReady)
							return trio.SleepForever(ctx)
						})
					})
				})
			})
			n.StartSoon(func(ctx context.Context) error {
				return asyncio.OpenLoop(ctx, func(ctx context.Context, lb *asyncio.Loop) error {
					loopB = lb
					spawnTask(ctx, lb, func(ctx context.Context) (int, error) {
						for {
							if err := asyncio.Sleep(ctx, ms); err != nil {
								bErr.Store(&err)
								return 0, err
							}
							bTicks.Add(1)
						}
					})
					close(bReady)
					<-aDone
					before := bTicks.Load()
					trio.Sleep(ctx, 10*ms)
					if bTicks.Load() < before+9 || bErr.Load() != nil || lb.IsClosed() {
						t.Errorf("loop B affected by A's end: got %d ticks in 10ms, error %v, closed %v; want bTicks.Load() >= before + 9 && bErr.Load() == nil && !lb.IsClosed()", bTicks.Load()-before, bErr.Load(), lb.IsClosed())
					}
					if v, err := asyncio.RunAsyncio(ctx, func(context.Context) (int, error) { return 2, nil }); v != 2 || err != nil {
						t.Errorf("RunAsyncio on B after A's end: got %v, %v; want v == 2 && err == nil", v, err)
					}
					return nil
				})
			})
			<-aReady
			<-bReady
			trio.Sleep(ctx, 5*ms)
			scopeA.Cancel()
			return nil
		})
		if err != nil || !scopeA.CancelledCaught() {
			t.Errorf("nursery: got %v, A's scope caught %v; want err == nil && scopeA.CancelledCaught()", err, scopeA.CancelledCaught())
		}
		if !loopA.IsClosed() || !loopA2.IsClosed() || !taskA.Cancelled() || !taskA2.Cancelled() {
			t.Errorf("A's part: got closed %v %v, tasks %v %v; want loopA.IsClosed() && loopA2.IsClosed() && taskA.Cancelled() && taskA2.Cancelled()", loopA.IsClosed(), loopA2.IsClosed(), taskA, taskA2)
		}
		if !loopB.IsClosed() {
			t.Errorf("B not closed at its own end: loopB.IsClosed() got false, want true")
		}
	})
}

// turnGate is the smallest turns.Hook: the loop holds at its start and
// after every iteration that processed a Stop, until the block closes.
type turnGate struct {
	paused, resume chan struct{}
	open           atomic.Bool
}

func (g *turnGate) Event(ev turns.Event, err error) {
	switch ev {
	case turns.Started, turns.Stopped:
		if !g.open.Load() {
			g.paused <- struct{}{}
			<-g.resume
		}
	case turns.Closing:
		g.open.Store(true)
	}
}

// The synchronous testing loop (asynciotest) takes turns with its caller
// through a hook: the loop holds at its start and after every iteration
// that processed a Stop; while it holds, the caller may use its
// loop-confined methods, debug mode's checks included.
func TestTurns_hook_takes_turns_with_the_caller(t *testing.T) {
	g := &turnGate{paused: make(chan struct{}), resume: make(chan struct{})}
	loops := make(chan *asyncio.Loop, 1)
	quit := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- turns.OpenLoop(context.Background(), g, func(ctx context.Context) error {
			l, err := asyncio.GetRunningLoop(ctx)
			if err != nil {
				return err
			}
			loops <- l
			<-quit
			return nil
		})
	}()
	<-g.paused // the loop holds at its start
	loop := <-loops
	loop.SetDebug(true) // loop-confined methods check the goroutine: the hook lets the caller in
	var order []string
	for round := 1; round <= 2; round++ {
		loop.CallSoon(func(context.Context) {
			order = append(order, fmt.Sprint("a", round))
			loop.Stop()
		})
		loop.CallSoon(func(context.Context) { order = append(order, fmt.Sprint("b", round)) })
		order = append(order, fmt.Sprint("caller", round))
		g.resume <- struct{}{} // run until stopped
		<-g.paused
		order = append(order, fmt.Sprint("stopped", round))
	}
	if want := []string{"caller1", "a1", "b1", "stopped1", "caller2", "a2", "b2", "stopped2"}; !slices.Equal(order, want) {
		t.Errorf("order: got %v, want %v", order, want)
	}
	close(quit)
	g.resume <- struct{}{}
	if err := <-done; err != nil {
		t.Errorf("OpenLoop: got %v, want nil", err)
	}
}

// ---- OpenLoop

// On every exit of body (normal, error, panic, outer cancellation) the
// teardown does all its work before OpenLoop returns (or re-panics).
func TestOpenLoop_teardown_on_every_exit(t *testing.T) {
	boom := errors.New("boom")
	for _, exit := range []string{"normal", "error", "panic", "cancelled"} {
		t.Run(exit, func(t *testing.T) {
			p := newTeardownProbe()
			var loop *asyncio.Loop
			body := func(ctx context.Context, l *asyncio.Loop) error {
				loop = l
				p.start(t, ctx, l)
				switch exit {
				case "error":
					return boom
				case "panic":
					panic(boom)
				case "cancelled":
					return trio.SleepForever(ctx)
				}
				return nil
			}
			var err error
			var moved bool
			var pv any
			func() {
				defer func() { pv = recover() }()
				if exit == "cancelled" {
					moved, err = trio.MoveOnAfter(context.Background(), 20*ms, func(ctx context.Context) error {
						return asyncio.OpenLoop(ctx, body)
					})
				} else {
					err = asyncio.OpenLoop(context.Background(), body)
				}
			}()
			p.ended()
			switch exit {
			case "normal":
				if err != nil {
					t.Errorf("OpenLoop: got %v, want nil", err)
				}
			case "error":
				if err != boom {
					t.Errorf("OpenLoop: got %v, want body's error", err)
				}
			case "panic":
				pe, ok := pv.(*trio.PanicError)
				if !ok || pe.Value != boom || !strings.Contains(string(pe.Stack), "TestOpenLoop_teardown_on_every_exit") {
					t.Errorf("panic: got %#v, want body's, with its stack", pv)
				}
			case "cancelled":
				if err != nil || !moved {
					t.Errorf("OpenLoop under MoveOnAfter: got %v, moved on %v; want err == nil && moved", err, moved)
				}
			}
			if exit != "panic" && pv != nil {
				t.Errorf("exit %s: got panic %v, want none", exit, pv)
			}
			p.check(t, loop)
		})
	}
}

// Tasks created during the teardown (by cleanup code, or by a callback)
// are cancelled at once and awaited: when OpenLoop returns they are done,
// and, cancelled before they started, never ran (trio-asyncio abandons
// them).
func TestOpenLoop_tasks_created_during_teardown_are_cancelled_and_awaited(t *testing.T) {
	var late, fromCallback *asyncio.Task[int]
	var lateRan atomic.Bool
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		spawnTask(ctx, loop, func(ctx context.Context) (int, error) {
			err := asyncio.Sleep(ctx, time.Hour)
			late = asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
				lateRan.Store(true)
				return 1, nil
			})
			loop.CallSoon(func(cctx context.Context) {
				fromCallback = asyncio.CreateTask(cctx, func(ctx context.Context) (int, error) {
					lateRan.Store(true)
					return 2, nil
				})
			})
			asyncio.Sleep(ctx, 0) // the callback runs
			return 0, err
		})
	})
	if late == nil || fromCallback == nil || !late.Cancelled() || !fromCallback.Cancelled() || lateRan.Load() {
		t.Errorf("late tasks: got %v, %v; one ran: %v; want late != nil && fromCallback != nil && late.Cancelled() && fromCallback.Cancelled() && !lateRan.Load()", late, fromCallback, lateRan.Load())
	}
}

// Trio calls started during the teardown run with their scope cancelled,
// and OpenLoop waits for them.
func TestOpenLoop_trio_calls_started_during_teardown_are_cancelled_and_awaited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev evlog
		start := time.Now()
		err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
			spawnTask(ctx, loop, func(ctx context.Context) (int, error) {
				err := asyncio.Sleep(ctx, time.Hour)
				asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
					ev.add("late trio call: ctx cancelled %v", trio.IsCancellation(trio.Checkpoint(ctx)))
					var shield trio.CancelScope
					shield.SetShield(true)
					shield.Run(ctx, func(ctx context.Context) error { return trio.Sleep(ctx, 30*ms) })
					ev.add("late trio call done at %v", time.Since(start))
					return 0, nil
				})
				return 0, err
			})
			return nil
		})
		ev.add("returned at %v", time.Since(start))
		if err != nil {
			t.Errorf("OpenLoop: got %v, want nil", err)
		}
		ev.inOrder(t, "late trio call: ctx cancelled true", "late trio call done at 30ms", "returned at 30ms")
	})
}

// The cancellation of the ctx around OpenLoop is reported when body and
// the teardown are done (trio-asyncio's test_cancel_loop, with a cleanup
// that takes time).
func TestOpenLoop_outer_cancellation_reported_after_the_teardown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var cleanupAt time.Duration
		moved, err := trio.MoveOnAfter(context.Background(), time.Second, func(ctx context.Context) error {
			return asyncio.OpenLoop(ctx, func(ctx context.Context, loop *asyncio.Loop) error {
				spawnTask(ctx, loop, func(ctx context.Context) (int, error) {
					err := asyncio.Sleep(ctx, time.Hour)
					asyncio.Sleep(ctx, 500*ms) // cleanup
					cleanupAt = time.Since(start)
					return 0, err
				})
				return trio.SleepForever(ctx)
			})
		})
		if !moved || err != nil || cleanupAt != 1500*ms || time.Since(start) != 1500*ms {
			t.Errorf("got moved on %v, %v; cleanup done at %v, returned at %v; want moved && err == nil && cleanupAt == 1500 * ms && time.Since(start) == 1500 * ms", moved, err, cleanupAt, time.Since(start))
		}
	})
}

// OpenLoop with a ctx cancelled before it is called: body sees the
// cancellation; the loop still runs (shielded), for shielded work.
func TestOpenLoop_ctx_cancelled_before_the_call(t *testing.T) {
	var scope trio.CancelScope
	scope.Cancel()
	err := scope.Run(context.Background(), func(ctx context.Context) error {
		return asyncio.OpenLoop(ctx, func(ctx context.Context, loop *asyncio.Loop) error {
			var shield trio.CancelScope
			shield.SetShield(true)
			shield.Run(ctx, func(ctx context.Context) error {
				if v, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) { return 3, asyncio.Sleep(ctx, ms) }); v != 3 || err != nil {
					t.Errorf("shielded RunAsyncio: got %v, %v; want v == 3 && err == nil", v, err)
				}
				return nil
			})
			return trio.Checkpoint(ctx)
		})
	})
	if err != nil || !scope.CancelledCaught() {
		t.Errorf("scope.Run: got %v, caught %v; want err == nil && scope.CancelledCaught()", err, scope.CancelledCaught())
	}
}

// No callback of a loop runs after its OpenLoop returned, though other
// goroutines keep scheduling them until they are refused.
func TestOpenLoop_no_callback_after_return(t *testing.T) {
	ign := goleak.IgnoreCurrent()
	var returned atomic.Bool
	var wg sync.WaitGroup
	for range 5 {
		withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
			for range 4 {
				wg.Go(func() {
					for {
						_, err := loop.CallSoonThreadsafe(func(context.Context) {
							if returned.Load() {
								t.Errorf("callback after OpenLoop returned: returned.Load() got true, want false")
							}
						})
						if err != nil {
							if !errors.Is(err, asyncio.ErrLoopClosed) {
								t.Errorf("err: got %v, want an error matching asyncio.ErrLoopClosed", err)
							}
							return
						}
						runtime.Gosched()
					}
				})
			}
			onLoop(ctx, loop, func(context.Context) {
				loop.CallLater(ms, func(context.Context) {
					if returned.Load() {
						t.Errorf("timer after OpenLoop returned: returned.Load() got true, want false")
					}
				})
			})
		})
		returned.Store(true)
		wg.Wait()
		time.Sleep(5 * ms)
		returned.Store(false)
	}
	noLeak(t, ign)
}

// ---- GetRunningLoop and the current loop

// Without a block, or once its loop has closed, the boundary functions
// say so; they never hang.
func TestGetRunningLoop_without_a_loop_or_after_close(t *testing.T) {
	bg := context.Background()
	if _, err := asyncio.RunAsyncio(bg, func(context.Context) (int, error) { return 0, nil }); !errors.Is(err, asyncio.ErrNoRunningLoop) {
		t.Errorf("RunAsyncio without a loop: got %v, want an error matching asyncio.ErrNoRunningLoop", err)
	}
	if _, err := asyncio.RunSync(bg, func(context.Context) (int, error) { return 0, nil }); !errors.Is(err, asyncio.ErrNoRunningLoop) {
		t.Errorf("RunSync without a loop: got %v, want an error matching asyncio.ErrNoRunningLoop", err)
	}
	if msg := mustPanic(t, func() { asyncio.RunTrio(bg, func(context.Context) (int, error) { return 0, nil }) }); !strings.Contains(msg, "no running event loop") {
		t.Errorf("RunTrio without a loop: got %s, want it to contain %q", msg, "no running event loop")
	}
	var saved context.Context
	var loop *asyncio.Loop
	var fut *asyncio.Future[int]
	withLoop(t, func(ctx context.Context, l *asyncio.Loop) {
		saved, loop = ctx, l
		fut = onLoopValue(t, ctx, func() *asyncio.Future[int] { return asyncio.NewFuture[int](l) })
	})
	if _, err := asyncio.GetRunningLoop(saved); !errors.Is(err, asyncio.ErrNoRunningLoop) {
		t.Errorf("GetRunningLoop after close: got %v, want an error matching asyncio.ErrNoRunningLoop", err)
	}
	for name, err := range map[string]error{
		"RunAsyncio":  second(asyncio.RunAsyncio(saved, func(context.Context) (int, error) { return 0, nil })),
		"RunFuture":   second(asyncio.RunFuture(bg, fut)),
		"RunSync":     second(asyncio.RunSync(saved, func(context.Context) (int, error) { return 0, nil })),
		"Synchronize": loop.Synchronize(bg),
		"WaitStopped": loop.WaitStopped(bg),
	} {
		if !errors.Is(err, asyncio.ErrLoopClosed) {
			t.Errorf("%s after close: got %v; want errors.Is(err, asyncio.ErrLoopClosed)", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

// Loops side by side and nested: each callback, task and trio call sees
// its own loop; work given to one never runs on another.
func TestLoops_side_by_side_and_nested_without_cross_talk(t *testing.T) {
	const n = 4
	var loops [n]*asyncio.Loop
	err := trio.OpenNursery(context.Background(), func(ctx context.Context, nu *trio.Nursery) error {
		for i := range n {
			nu.StartSoon(func(ctx context.Context) error {
				return asyncio.OpenLoop(ctx, func(ctx context.Context, l *asyncio.Loop) error {
					loops[i] = l
					return asyncio.OpenLoop(ctx, func(ictx context.Context, inner *asyncio.Loop) error {
						for range 20 {
							for _, c := range []struct {
								ctx  context.Context
								want *asyncio.Loop
							}{{ctx, l}, {ictx, inner}} {
								got, err := asyncio.RunAsyncio(c.ctx, func(ctx context.Context) (*asyncio.Loop, error) {
									return asyncio.Await(ctx, asyncio.RunTrio(ctx, func(ctx context.Context) (*asyncio.Loop, error) {
										return asyncio.RunSync(ctx, func(context.Context) (*asyncio.Loop, error) { return asyncio.GetRunningLoop(ctx) })
									}))
								})
								if got != c.want || err != nil {
									t.Errorf("loop %d: work ran on: got %p, want %p (%v)", i, got, c.want, err)
								}
							}
						}
						return nil
					})
				})
			})
		}
		return nil
	})
	if err != nil {
		t.Errorf("trio.OpenNursery: got %v, want nil", err)
	}
	for i, l := range loops {
		for j := range i {
			if l == loops[j] {
				t.Errorf("two blocks shared a loop: got l == loops[j], want l != loops[j]")
			}
		}
	}
}

// A task on loop A given a pending future of loop B gets a named error,
// never a hang.
func TestAwait_future_of_another_loop_is_a_named_error(t *testing.T) {
	withLoop(t, func(actx context.Context, a *asyncio.Loop) {
		withLoop(t, func(bctx context.Context, b *asyncio.Loop) {
			futB := onLoopValue(t, bctx, func() *asyncio.Future[int] { return asyncio.NewFuture[int](b) })
			_, err := asyncio.RunAsyncio(actx, func(ctx context.Context) (int, error) { return asyncio.Await(ctx, futB) })
			if !errors.Is(err, asyncio.ErrForeignFuture) || !strings.Contains(err.Error(), "different loop") {
				t.Errorf("Await of another loop's future: got %v; want errors.Is(err, asyncio.ErrForeignFuture) && strings.Contains(err.Error(), \"different loop\")", err)
			}
			// From trio code, any loop's future may be waited for.
			onLoop(bctx, b, func(context.Context) { futB.SetResult(5) })
			if v, err := asyncio.RunFuture(actx, futB); v != 5 || err != nil {
				t.Errorf("RunFuture of B's future from A's block: got %v, %v; want v == 5 && err == nil", v, err)
			}
		})
	})
}

// ---- Stop and WaitStopped

// Inside a block, Stop only wakes WaitStopped: the loop keeps serving, so
// that nothing hangs after a manual Stop (trio-asyncio hangs there, even
// under a timeout).
func TestStop_inside_a_block_only_wakes_WaitStopped(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		loop.Stop()
		if err := loop.WaitStopped(ctx); err != nil {
			t.Errorf("loop.WaitStopped: got %v, want nil", err)
		}
		moved, err := trio.MoveOnAfter(ctx, 200*ms, func(ctx context.Context) error {
			_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) { return 0, asyncio.Sleep(ctx, 10*ms) })
			return err
		})
		if moved || err != nil {
			t.Errorf("RunAsyncio after Stop: got moved on %v, %v; want !moved && err == nil", moved, err)
		}
		fired := make(chan struct{})
		onLoop(ctx, loop, func(context.Context) { loop.CallLater(10*ms, func(context.Context) { close(fired) }) })
		<-fired
	})
}

// A Stop that no WaitStopped has seen counts for the next call at once,
// even if a call before it gave up (cancelled) without one.
func TestWaitStopped_a_cancelled_wait_does_not_eat_the_next_Stop(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		if moved, err := trio.MoveOnAfter(ctx, 10*ms, loop.WaitStopped); !moved || err != nil {
			t.Errorf("WaitStopped without Stop: got moved on %v, %v; want moved && err == nil", moved, err)
		}
		loop.Stop()
		loop.Synchronize(ctx)
		loop.Synchronize(ctx) // the Stop has been processed
		start := time.Now()
		if moved, err := trio.MoveOnAfter(ctx, time.Second, loop.WaitStopped); moved || err != nil || time.Since(start) != 0 {
			t.Errorf("WaitStopped after an unseen Stop: got moved on %v, %v, after %v; want !moved && err == nil && time.Since(start) == 0", moved, err, time.Since(start))
		}
	})
}

// WaitStopped returns ctx's cancellation, ErrLoopClosed once the loop has
// closed, ErrWrongFlavor from the loop's own code; several waiters all
// wake on one Stop.
func TestWaitStopped_cancelled_closed_wrong_flavor_and_many_waiters(t *testing.T) {
	var loop *asyncio.Loop
	withLoop(t, func(ctx context.Context, l *asyncio.Loop) {
		loop = l
		var scope trio.CancelScope
		scope.Cancel()
		if err := scope.Run(ctx, l.WaitStopped); err != nil || !scope.CancelledCaught() {
			t.Errorf("cancelled: got %v; want err == nil && scope.CancelledCaught()", err)
		}
		onLoop(ctx, l, func(cctx context.Context) {
			if err := l.WaitStopped(cctx); !errors.Is(err, asyncio.ErrWrongFlavor) {
				t.Errorf("from a callback: got %v, want an error matching asyncio.ErrWrongFlavor", err)
			}
		})
		asTask(t, ctx, func(ctx context.Context) error {
			if err := l.WaitStopped(ctx); !errors.Is(err, asyncio.ErrWrongFlavor) {
				t.Errorf("from a task: got %v, want an error matching asyncio.ErrWrongFlavor", err)
			}
			return nil
		})
		var woke atomic.Int64
		if err := trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
			for range 3 {
				n.StartSoon(func(ctx context.Context) error {
					err := l.WaitStopped(ctx)
					woke.Add(1)
					return err
				})
			}
			time.Sleep(10 * ms)
			l.Stop()
			// A waiter that came late needs a Stop of its own.
			for woke.Load() < 3 {
				time.Sleep(10 * ms)
				l.Stop()
			}
			return nil
		}); err != nil {
			t.Errorf("trio.OpenNursery: got %v, want nil", err)
		}
		trio.MoveOnAfter(ctx, 10*ms, l.WaitStopped) // consume a Stop left unseen, if any
	})
	if err := loop.WaitStopped(context.Background()); !errors.Is(err, asyncio.ErrLoopClosed) {
		t.Errorf("after close: got %v, want an error matching asyncio.ErrLoopClosed", err)
	}
}

// ---- RunAsyncio and RunFuture

// The coroutine's result or error, unchanged; its ctx carries the
// caller's values, not the caller's cancellation.
func TestRunAsyncio_result_error_and_values(t *testing.T) {
	type key struct{}
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		ctx = context.WithValue(ctx, key{}, "v")
		boom := errors.New("boom")
		v, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (string, error) {
			if ctx.Done() != nil {
				return "", errors.New("the coroutine's ctx has a Done channel")
			}
			return ctx.Value(key{}).(string), nil
		})
		if v != "v" || err != nil {
			t.Errorf("asyncio.RunAsyncio: got %q, %v; want v == \"v\" && err == nil", v, err)
		}
		// The caller's cancellation reaches the coroutine as one
		// CancelledError (Task.Cancel), not through its ctx.
		// (The deadline passes once the coroutine runs, so that a slow
		// machine cannot cancel the task before its first step.)
		var scope trio.CancelScope
		scope.Run(ctx, func(ctx context.Context) error {
			v, err = asyncio.RunAsyncio(ctx, func(ctx context.Context) (string, error) {
				scope.SetDeadline(time.Now())
				cerr := asyncio.Sleep(ctx, time.Hour)
				return fmt.Sprintf("%v; ctx: %v", cerr, ctx.Err()), nil
			})
			return nil
		})
		if want := "asyncio: cancelled: cancelled by trio: deadline exceeded; ctx: <nil>"; v != want || err != nil {
			t.Errorf("cancelled: got %q, %v; want %q, nil", v, err, want)
		}
		if _, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) { return 0, boom }); err != boom {
			t.Errorf("error: got %v, want %v", err, boom)
		}
	})
}

// When ctx is cancelled, the task is cancelled once, and RunAsyncio keeps
// waiting for it.
func TestRunAsyncio_cancels_the_task_once_and_keeps_waiting(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		start := time.Now()
		var v int
		var err error
		trio.MoveOnAfter(ctx, 10*ms, func(ctx context.Context) error {
			v, err = asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
				n := 0
				for range 3 {
					if asyncio.Sleep(ctx, 20*ms) != nil {
						n++
					}
				}
				return n, nil
			})
			return nil
		})
		if v != 1 || err != nil || time.Since(start) != 50*ms {
			t.Errorf("got %d cancellations seen, %v, returned after %v; want v == 1 && err == nil && time.Since(start) == 50 * ms", v, err, time.Since(start))
		}
	})
}

// Ended cancelled: trio's cancellation, with asyncio's CancelledError
// chained (both match errors.Is and errors.As), absorbed by the scope
// that caused it; the coroutine saw one CancelledError.
func TestRunAsyncio_ends_cancelled_trio_cancellation_with_asyncios_chained(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		var scope trio.CancelScope
		scope.SetDeadline(time.Now().Add(10 * ms))
		var err error
		seen := 0
		ret := scope.Run(ctx, func(ctx context.Context) error {
			_, err = asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
				err := asyncio.Sleep(ctx, time.Hour)
				if errors.Is(err, asyncio.ErrCancelled) {
					seen++
				}
				return 0, err
			})
			return err
		})
		var tce *trio.CancelledError
		var ace *asyncio.CancelledError
		switch {
		case ret != nil || !scope.CancelledCaught():
			t.Errorf("scope: got returned %v, caught %v; want nil, true", ret, scope.CancelledCaught())
		case !errors.Is(err, trio.ErrCancelled) || !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, asyncio.ErrCancelled):
			t.Errorf("err: got %v, want one matching trio.ErrCancelled, context.DeadlineExceeded and asyncio.ErrCancelled", err)
		case !errors.As(err, &tce) || tce.Scope != &scope || !errors.As(err, &ace):
			t.Errorf("err %v: got errors.As trio %v (this scope's %v), asyncio %v; want a *trio.CancelledError of this scope and an *asyncio.CancelledError", err, tce, tce != nil && tce.Scope == &scope, ace)
		case seen != 1:
			t.Errorf("CancelledErrors the coroutine saw: got %d, want 1", seen)
		}
	})
}

// Only the scope that caused the cancellation absorbs it: an inner scope
// lets an outer one's through; an outer one is untouched by an inner
// one's.
func TestRunAsyncio_cancellation_absorbed_only_by_the_scope_that_caused_it(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		sleepy := func(ctx context.Context) (int, error) { return 0, asyncio.Sleep(ctx, time.Hour) }
		var outer, inner trio.CancelScope
		outer.SetDeadline(time.Now().Add(10 * ms))
		var innerRet error
		ret := outer.Run(ctx, func(ctx context.Context) error {
			innerRet = inner.Run(ctx, func(ctx context.Context) error { return second(asyncio.RunAsyncio(ctx, sleepy)) })
			return innerRet
		})
		if ret != nil || !outer.CancelledCaught() || inner.CancelledCaught() || !errors.Is(innerRet, trio.ErrCancelled) {
			t.Errorf("outer's cancellation: got outer returned %v (caught %v), inner returned %v (caught %v); want ret == nil && outer.CancelledCaught() && !inner.CancelledCaught() && errors.Is(innerRet, trio.ErrCancelled)", ret, outer.CancelledCaught(), innerRet, inner.CancelledCaught())
		}
		var outer2, inner2 trio.CancelScope
		inner2.SetDeadline(time.Now().Add(10 * ms))
		ret = outer2.Run(ctx, func(ctx context.Context) error {
			innerRet = inner2.Run(ctx, func(ctx context.Context) error { return second(asyncio.RunAsyncio(ctx, sleepy)) })
			return innerRet
		})
		if ret != nil || innerRet != nil || !inner2.CancelledCaught() || outer2.CancelCalled() {
			t.Errorf("inner's cancellation: got outer returned %v (cancel called %v), inner returned %v (caught %v); want ret == nil && innerRet == nil && inner2.CancelledCaught() && !outer2.CancelCalled()", ret, outer2.CancelCalled(), innerRet, inner2.CancelledCaught())
		}
	})
}

// The forwarded cancellation reaches a trio call the task awaits, which
// ends cancelled: the caller's scope still absorbs it, though asyncio's
// CancelledError now chains the trio call's own cancellation.
func TestRunAsyncio_cancellation_through_an_awaited_trio_call_is_absorbed(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		var err error
		moved, ret := trio.MoveOnAfter(ctx, 10*ms, func(ctx context.Context) error {
			_, err = asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
				return asyncio.Await(ctx, asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
					return 0, trio.SleepForever(ctx)
				}))
			})
			return err
		})
		if !moved || ret != nil || !errors.Is(err, trio.ErrCancelled) || !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("moved on %v, scope returned %v; RunAsyncio: got %v; want moved && ret == nil && errors.Is(err, trio.ErrCancelled) && errors.Is(err, asyncio.ErrCancelled)", moved, ret, err)
		}
	})
}

// Completed anyway: RunAsyncio returns the result; the next checkpoint of
// the cancelled scope fails as usual.
func TestRunAsyncio_completes_anyway_returns_the_result(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		var v string
		var err, next error
		moved, ret := trio.MoveOnAfter(ctx, 10*ms, func(ctx context.Context) error {
			v, err = asyncio.RunAsyncio(ctx, func(ctx context.Context) (string, error) {
				if err := asyncio.Sleep(ctx, time.Hour); err == nil {
					return "", errors.New("not cancelled")
				}
				return "swallowed", nil
			})
			next = trio.Checkpoint(ctx)
			return next
		})
		if v != "swallowed" || err != nil || !trio.IsCancellation(next) || !moved || ret != nil {
			t.Errorf("trio.MoveOnAfter: got %q, %v; next checkpoint %v; moved on %v, %v; want v == \"swallowed\" && err == nil && trio.IsCancellation(next) && moved && ret == nil", v, err, next, moved, ret)
		}
	})
}

// Refusing to stop: RunAsyncio keeps waiting, however long (trio-asyncio's
// A2: the caller returns when the task really ends).
func TestRunAsyncio_refuses_to_stop_keeps_waiting(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		start := time.Now()
		var err error
		moved, _ := trio.MoveOnAfter(ctx, 10*ms, func(ctx context.Context) error {
			_, err = asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
				for range 5 { // ignores the cancellation and works on for 80 ms
					asyncio.Sleep(ctx, 20*ms)
				}
				return 0, &asyncio.CancelledError{Msg: "at last"}
			})
			return err
		})
		if time.Since(start) != 90*ms || !moved || !errors.Is(err, trio.ErrCancelled) {
			t.Errorf("got returned after %v, moved on %v, %v; want time.Since(start) == 90 * ms && moved && errors.Is(err, trio.ErrCancelled)", time.Since(start), moved, err)
		}
	})
}

// AbandonOnCancel: RunAsyncio returns the cancellation at once, after
// asking the task to cancel; the task goes on; its result is dropped.
func TestRunAsyncio_AbandonOnCancel(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		start := time.Now()
		var ev evlog
		var err error
		moved, _ := trio.MoveOnAfter(ctx, 10*ms, func(ctx context.Context) error {
			_, err = asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
				cerr := asyncio.Sleep(ctx, time.Hour)
				ev.add("cancel requested at %v: %v", time.Since(start), cerr)
				asyncio.Sleep(ctx, 100*ms)
				ev.add("task done at %v", time.Since(start))
				return 1, nil
			}, asyncio.AbandonOnCancel())
			ev.add("RunAsyncio returned at %v", time.Since(start))
			return err
		})
		if !moved || !errors.Is(err, trio.ErrCancelled) || errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("got moved on %v, %v; want moved && errors.Is(err, trio.ErrCancelled) && !errors.Is(err, asyncio.ErrCancelled)", moved, err)
		}
		trio.Sleep(ctx, 200*ms)
		ev.has(t, "cancel requested at 10ms: asyncio: cancelled: cancelled by trio: deadline exceeded")
		ev.inOrder(t, "RunAsyncio returned at 10ms", "task done at 110ms")
	})
}

// A CancelledError trio did not cause comes back unchanged, as asyncio's
// (not trio's): the coroutine returning one, the task cancelling itself,
// a future cancelled by other asyncio code. The trio scope around is not
// cancelled and lets it through.
func TestRunAsyncio_spontaneous_CancelledError_unchanged(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		for name, coro := range map[string]func(ctx context.Context) (int, error){
			"raw": func(ctx context.Context) (int, error) { return 0, &asyncio.CancelledError{Msg: "raw"} },
			"self": func(ctx context.Context) (int, error) {
				asyncio.CurrentTask(ctx).Cancel("self")
				return 0, asyncio.Sleep(ctx, time.Hour)
			},
			"other": func(ctx context.Context) (int, error) {
				f := asyncio.NewFuture[int](loop)
				loop.CallLater(10*ms, func(context.Context) { f.Cancel("other") })
				return asyncio.Await(ctx, f)
			},
		} {
			var scope trio.CancelScope
			var err error
			ret := scope.Run(ctx, func(ctx context.Context) error {
				_, err = asyncio.RunAsyncio(ctx, coro)
				return err
			})
			var ce *asyncio.CancelledError
			// asyncio's cancellation matches context.Canceled (ordinary Go
			// code sees a cancellation) but is not trio's: the scope does
			// not take it for its own.
			if ret != err || scope.CancelCalled() || errors.Is(err, trio.ErrCancelled) || trio.IsCancellation(err) ||
				!errors.Is(err, context.Canceled) || !errors.As(err, &ce) || ce.Msg != name {
				t.Errorf("%s: got %v (scope returned %v); want ret == err && !scope.CancelCalled() && !errors.Is(err, trio.ErrCancelled) && !trio.IsCancellation(err) && errors.Is(err, context.Canceled) && errors.As(err, &ce) && ce.Msg == name", name, err, ret)
			}
		}
	})
}

// The loop closed, or closing (its block has exited): ErrLoopClosed,
// never a hang; also when the loop closes while the task refuses to end.
func TestRunAsyncio_loop_closed_or_closing(t *testing.T) {
	var saved context.Context
	var ev evlog
	err := trio.OpenNursery(context.Background(), func(octx context.Context, n *trio.Nursery) error {
		return asyncio.OpenLoop(octx, func(ctx context.Context, loop *asyncio.Loop) error {
			saved = ctx
			// Closing: a trio call unwinding in the teardown.
			onLoop(ctx, loop, func(cctx context.Context) {
				asyncio.RunTrio(cctx, func(ctx context.Context) (int, error) {
					err := trio.SleepForever(ctx)
					var shield trio.CancelScope
					shield.SetShield(true)
					shield.Run(ctx, func(ctx context.Context) error {
						_, err := asyncio.RunAsyncio(ctx, func(context.Context) (int, error) {
							ev.add("coroutine ran")
							return 0, nil
						})
						ev.add("during teardown: %v", errors.Is(err, asyncio.ErrLoopClosed))
						return nil
					})
					return 0, err
				})
			})
			// Closes while the task refuses: a caller outside the block.
			started := make(chan struct{})
			n.StartSoon(func(context.Context) error {
				_, err := asyncio.RunAsyncio(ctx, stubborn(loop, started))
				ev.add("refusing task: %v", errors.Is(err, asyncio.ErrLoopClosed))
				return nil
			})
			<-started
			return nil
		})
	})
	if err != nil {
		t.Errorf("trio.OpenNursery: got %v, want nil", err)
	}
	ev.has(t, "during teardown: true")
	ev.has(t, "refusing task: true")
	if ev.index("coroutine ran") >= 0 {
		t.Errorf("a coroutine given to RunAsyncio during the teardown ran: got ev.index(\"coroutine ran\") >= 0, want ev.index(\"coroutine ran\") < 0")
	}
	if _, err := asyncio.RunAsyncio(saved, func(context.Context) (int, error) { return 0, nil }); !errors.Is(err, asyncio.ErrLoopClosed) {
		t.Errorf("closed: got %v, want an error matching asyncio.ErrLoopClosed", err)
	}
}

// From the loop's own tasks and callbacks the blocking boundary calls
// are flavor errors, not deadlocks.
func TestRunAsyncio_from_asyncio_code_is_a_flavor_error(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		check := func(where string, ctx context.Context) {
			fut := asyncio.NewFuture[int](loop)
			for name, err := range map[string]error{
				"RunAsyncio":  second(asyncio.RunAsyncio(ctx, func(context.Context) (int, error) { return 0, nil })),
				"RunFuture":   second(asyncio.RunFuture(ctx, fut)),
				"RunSync":     second(asyncio.RunSync(ctx, func(context.Context) (int, error) { return 0, nil })),
				"Synchronize": loop.Synchronize(ctx),
				"WaitStopped": loop.WaitStopped(ctx),
			} {
				if !errors.Is(err, asyncio.ErrWrongFlavor) || !strings.Contains(err.Error(), name) {
					t.Errorf("%s from %s: got %v; want errors.Is(err, asyncio.ErrWrongFlavor) && strings.Contains(err.Error(), name)", name, where, err)
				}
			}
			fut.Cancel("")
		}
		onLoop(ctx, loop, func(cctx context.Context) { check("a callback", cctx) })
		asTask(t, ctx, func(ctx context.Context) error {
			check("a task", ctx)
			return nil
		})
	})
}

// RunFuture: a future's result or error; cancelled when ctx is (trio's
// cancellation, chained); a CancelledError trio did not cause, unchanged;
// AbandonOnCancel; a future of a closed loop, ErrLoopClosed.
func TestRunFuture_result_error_cancellation_and_closed_loop(t *testing.T) {
	boom := errors.New("boom")
	var saved *asyncio.Future[int]
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		newFut := func() *asyncio.Future[int] {
			return onLoopValue(t, ctx, func() *asyncio.Future[int] { return asyncio.NewFuture[int](loop) })
		}
		f := newFut()
		onLoop(ctx, loop, func(context.Context) { loop.CallLater(ms, func(context.Context) { f.SetResult(3) }) })
		if v, err := asyncio.RunFuture(ctx, f); v != 3 || err != nil {
			t.Errorf("result: got %v, %v; want v == 3 && err == nil", v, err)
		}
		f = newFut()
		onLoop(ctx, loop, func(context.Context) { f.SetException(boom) })
		if _, err := asyncio.RunFuture(ctx, f); err != boom {
			t.Errorf("error: got %v, want %v", err, boom)
		}
		// Cancelled by trio: the future is cancelled.
		f = newFut()
		start := time.Now()
		var err error
		moved, _ := trio.MoveOnAfter(ctx, 20*ms, func(ctx context.Context) error {
			_, err = asyncio.RunFuture(ctx, f)
			return err
		})
		if !moved || time.Since(start) != 20*ms || !errors.Is(err, trio.ErrCancelled) || !errors.Is(err, asyncio.ErrCancelled) ||
			!onLoopValue(t, ctx, f.Cancelled) {
			t.Errorf("cancelled: got moved on %v after %v, %v; want moved && time.Since(start) == 20 * ms && errors.Is(err, trio.ErrCancelled) && errors.Is(err, asyncio.ErrCancelled) && onLoopValue(t, ctx, f.Cancelled)", moved, time.Since(start), err)
		}
		// Cancelled by asyncio code: unchanged.
		f = newFut()
		onLoop(ctx, loop, func(context.Context) { loop.CallLater(10*ms, func(context.Context) { f.Cancel("by asyncio") }) })
		var scope trio.CancelScope
		ret := scope.Run(ctx, func(ctx context.Context) error { _, err = asyncio.RunFuture(ctx, f); return err })
		var ce *asyncio.CancelledError
		if ret != err || errors.Is(err, trio.ErrCancelled) || !errors.As(err, &ce) || ce.Msg != "by asyncio" {
			t.Errorf("spontaneous: got %v; want ret == err && !errors.Is(err, trio.ErrCancelled) && errors.As(err, &ce) && ce.Msg == \"by asyncio\"", err)
		}
		// Abandoned: a task that refuses for a while.
		task := spawnTask(ctx, loop, func(ctx context.Context) (int, error) {
			asyncio.Sleep(ctx, time.Hour)
			return 9, asyncio.Sleep(ctx, 100*ms)
		})
		start = time.Now()
		moved, _ = trio.MoveOnAfter(ctx, 10*ms, func(ctx context.Context) error {
			_, err = asyncio.RunFuture(ctx, task, asyncio.AbandonOnCancel())
			return err
		})
		if !moved || time.Since(start) != 10*ms || !errors.Is(err, trio.ErrCancelled) {
			t.Errorf("abandoned: got moved on %v after %v, %v; want moved && time.Since(start) == 10 * ms && errors.Is(err, trio.ErrCancelled)", moved, time.Since(start), err)
		}
		if v, err := asyncio.RunFuture(ctx, task); v != 9 || err != nil {
			t.Errorf("the abandoned task went on: got %v, %v; want v == 9 && err == nil", v, err)
		}
		saved = newFut()
	})
	if _, err := asyncio.RunFuture(context.Background(), saved); !errors.Is(err, asyncio.ErrLoopClosed) {
		t.Errorf("closed: got %v, want an error matching asyncio.ErrLoopClosed", err)
	}
}

// RunFuture of a future nobody resolves, while the loop closes (a caller
// outside the block): ErrLoopClosed at the close, not a hang.
func TestRunFuture_loop_closing(t *testing.T) {
	var err error
	trio.OpenNursery(context.Background(), func(octx context.Context, n *trio.Nursery) error {
		return asyncio.OpenLoop(octx, func(ctx context.Context, loop *asyncio.Loop) error {
			f := onLoopValue(t, ctx, func() *asyncio.Future[int] { return asyncio.NewFuture[int](loop) })
			n.StartSoon(func(context.Context) error {
				_, err = asyncio.RunFuture(ctx, f)
				return nil
			})
			return nil
		})
	})
	if !errors.Is(err, asyncio.ErrLoopClosed) {
		t.Errorf("err: got %v, want an error matching asyncio.ErrLoopClosed", err)
	}
}

// ---- RunSync and Synchronize

// RunSync runs fn on the loop (loop-confined methods work there, as debug
// mode checks) and returns its result or error; a panic in fn is re-raised
// in the caller, with fn's stack.
func TestRunSync_runs_fn_on_the_loop(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		loop.SetDebug(true)
		defer loop.SetDebug(false)
		v, err := asyncio.RunSync(ctx, func(context.Context) (int, error) {
			loop.CallSoon(func(context.Context) {}) // panics off the loop in debug mode
			return 4, nil
		})
		if v != 4 || err != nil {
			t.Errorf("asyncio.RunSync: got %v, %v; want v == 4 && err == nil", v, err)
		}
		func() {
			defer func() {
				pe, ok := recover().(*trio.PanicError)
				if !ok || pe.Value != "in fn" || !strings.Contains(string(pe.Stack), "TestRunSync_runs_fn_on_the_loop") {
					t.Errorf("panic: got %v; want ok && pe.Value == \"in fn\" && strings.Contains(string(pe.Stack), \"TestRunSync_runs_fn_on_the_loop\")", pe)
				}
			}()
			asyncio.RunSync(ctx, func(context.Context) (int, error) { panic("in fn") })
		}()
		if l, _ := asyncio.GetRunningLoop(ctx); l != loop || loop.IsClosed() {
			t.Errorf("the loop did not survive a panic in RunSync's fn: got l != loop || loop.IsClosed(), want l == loop && !loop.IsClosed()")
		}
	})
}

// Cancelled before fn starts, RunSync returns the cancellation and fn
// never runs; once fn has started, RunSync waits for it.
func TestRunSync_cancelled_before_fn_starts_never_runs_it(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		release := make(chan struct{})
		busy := make(chan struct{})
		loop.CallSoonThreadsafe(func(context.Context) { close(busy); <-release })
		<-busy // the loop is busy: fn cannot start
		var ran atomic.Bool
		var scope trio.CancelScope
		scope.Cancel()
		var err error
		scope.Run(ctx, func(ctx context.Context) error {
			_, err = asyncio.RunSync(ctx, func(context.Context) (int, error) { ran.Store(true); return 0, nil })
			return err
		})
		close(release)
		loop.Synchronize(ctx)
		if !trio.IsCancellation(err) || ran.Load() {
			t.Errorf("got %v, ran %v; want trio.IsCancellation(err) && !ran.Load()", err, ran.Load())
		}
		// Started, then cancelled: waited for.
		var v int
		var s2 trio.CancelScope
		s2.Run(ctx, func(ctx context.Context) error {
			v, err = asyncio.RunSync(ctx, func(context.Context) (int, error) {
				s2.Cancel()
				time.Sleep(10 * ms)
				return 8, nil
			})
			return err
		})
		if v != 8 || err != nil {
			t.Errorf("cancelled once started: got %v, %v; want v == 8 && err == nil", v, err)
		}
	})
}

// Synchronize returns once every callback queued before it has run.
func TestSynchronize_waits_for_the_callbacks_queued_before_it(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		n := 0
		for range 100 {
			loop.CallSoonThreadsafe(func(context.Context) { n++ })
		}
		if err := loop.Synchronize(ctx); err != nil || n != 100 {
			t.Errorf("loop.Synchronize: got %v; %d of 100 callbacks had run; want err == nil && n == 100", err, n)
		}
	})
}

// ---- RunTrio

// fn's result or error; fn's ctx carries the loop and the caller's values
// but no task and none of the task's cancellation; trio code can cross
// back (RunAsyncio, RunSync) from it.
func TestRunTrio_result_error_and_ctx(t *testing.T) {
	type key struct{}
	type ctxKey struct{} // a value that is itself a context, set before the block and again in the task
	boom := errors.New("boom")
	before, cancelBefore := context.WithCancel(context.Background())
	defer cancelBefore()
	octx := context.WithValue(context.Background(), ctxKey{}, before)
	if err := asyncio.OpenLoop(octx, func(ctx context.Context, loop *asyncio.Loop) error {
		asTask(t, ctx, func(ctx context.Context) error {
			ctx = context.WithValue(ctx, key{}, "v")
			inTask, cancelInTask := context.WithCancel(context.Background())
			defer cancelInTask()
			ctx = context.WithValue(ctx, ctxKey{}, inTask)
			v, err := asyncio.Await(ctx, asyncio.RunTrio(ctx, func(tctx context.Context) (string, error) {
				if l, _ := asyncio.GetRunningLoop(tctx); l != loop {
					return "", errors.New("not the loop")
				}
				if tctx.Value(ctxKey{}) != inTask {
					return "", errors.New("a context-valued key: not the task's value")
				}
				if _, err := asyncio.Await(tctx, asyncio.NewFuture[int](loop)); !errors.Is(err, asyncio.ErrAwaitOutsideTask) {
					return "", fmt.Errorf("Await from a trio call: %v", err)
				}
				n, err := asyncio.RunAsyncio(tctx, func(ctx context.Context) (int, error) { return 1, asyncio.Sleep(ctx, 0) })
				m, err2 := asyncio.RunSync(tctx, func(context.Context) (int, error) { return 2, nil })
				return fmt.Sprintf("%v %d %d", tctx.Value(key{}), n, m), errors.Join(err, err2)
			}))
			if v != "v 1 2" || err != nil {
				t.Errorf("asyncio.Await: got %q, %v; want v == \"v 1 2\" && err == nil", v, err)
			}
			if _, err := asyncio.Await(ctx, asyncio.RunTrio(ctx, func(context.Context) (int, error) { return 0, boom })); err != boom {
				t.Errorf("error: got %v, want %v", err, boom)
			}
			return nil
		})
		return nil
	}); err != nil {
		t.Errorf("asyncio.OpenLoop: got %v, want nil", err)
	}
}

// Cancelling the future cancels fn's scope; the future stays pending
// until fn has unwound; fn ending cancelled cancels the future, message
// kept, its CancelledError wrapping trio's cancellation.
func TestRunTrio_cancel_cancels_the_scope_and_waits_for_fn_to_unwind(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		asTask(t, ctx, func(ctx context.Context) error {
			start := time.Now()
			unwound := false
			f := asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
				err := trio.SleepForever(ctx)
				var shield trio.CancelScope
				shield.SetShield(true)
				shield.Run(ctx, func(ctx context.Context) error { return trio.Sleep(ctx, 100*ms) })
				unwound = true
				return 0, err
			})
			asyncio.Sleep(ctx, 10*ms)
			if ok := f.Cancel("my msg"); !ok || f.Done() {
				t.Errorf("Cancel: got %v, done at once %v; want ok && !f.Done()", ok, f.Done())
			}
			_, err := asyncio.Await(ctx, f)
			var ce *asyncio.CancelledError
			var tce *trio.CancelledError
			if !unwound || time.Since(start) != 110*ms || !f.Cancelled() || !errors.As(err, &ce) || ce.Msg != "my msg" ||
				!errors.As(err, &tce) || !errors.Is(err, trio.ErrCancelled) {
				t.Errorf("after %v: got unwound %v, cancelled %v, %v; want unwound && time.Since(start) == 110 * ms && f.Cancelled() && errors.As(err, &ce) && ce.Msg == \"my msg\" && errors.As(err, &tce) && errors.Is(err, trio.ErrCancelled)", time.Since(start), unwound, f.Cancelled(), err)
			}
			return nil
		})
	})
}

// fn finishing anyway (shielded) gives the future its result: the task
// awaiting it resumes with the value and no CancelledError, though it was
// cancelled (and stays "cancelling").
func TestRunTrio_finishes_anyway_the_future_gets_the_result(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		var v, cancelling int
		var err error
		task := spawnTask(ctx, loop, func(ctx context.Context) (int, error) {
			v, err = asyncio.Await(ctx, asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
				var shield trio.CancelScope
				shield.SetShield(true)
				return 7, shield.Run(ctx, func(ctx context.Context) error { return trio.Sleep(ctx, 100*ms) })
			}))
			cancelling = asyncio.CurrentTask(ctx).Cancelling()
			return v, err
		})
		trio.Sleep(ctx, 20*ms)
		if !onLoopValue(t, ctx, func() bool { return task.Cancel("") }) {
			t.Errorf("task.Cancel(\"\") on the loop: got false, want true")
		}
		if got, gerr := asyncio.RunFuture(ctx, task); got != 7 || gerr != nil || v != 7 || err != nil || cancelling != 1 {
			t.Errorf("task: got %v, %v; Await: %v, %v; cancelling %d; want got == 7 && gerr == nil && v == 7 && err == nil && cancelling == 1", got, gerr, v, err, cancelling)
		}
	})
}

// fn failing while it unwinds from the cancellation: the future gets
// that error, not a CancelledError.
func TestRunTrio_fails_while_unwinding_the_future_gets_the_error(t *testing.T) {
	boom := errors.New("while unwinding")
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		asTask(t, ctx, func(ctx context.Context) error {
			f := asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
				trio.SleepForever(ctx)
				return 0, boom
			})
			asyncio.Sleep(ctx, ms)
			f.Cancel("")
			if _, err := asyncio.Await(ctx, f); err != boom || f.Cancelled() {
				t.Errorf("asyncio.Await: got %v, cancelled %v; want err == boom && !f.Cancelled()", err, f.Cancelled())
			}
			return nil
		})
	})
}

// Cancelled before fn started (in the step that called RunTrio): fn never
// runs and the future is cancelled. Cancelled after the future is done:
// Cancel returns false and the result stays.
func TestRunTrio_cancelled_before_fn_started_never_runs_it(t *testing.T) {
	for range 50 { // the start must not race the cancel
		withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
			var ran atomic.Bool
			asTask(t, ctx, func(ctx context.Context) error {
				f := asyncio.RunTrio(ctx, func(context.Context) (int, error) { ran.Store(true); return 1, nil })
				if !f.Cancel("early") || f.Done() {
					t.Errorf("Cancel before the start: got !f.Cancel(\"early\") || f.Done(), want f.Cancel(\"early\") && !f.Done()")
				}
				_, err := asyncio.Await(ctx, f)
				var ce *asyncio.CancelledError
				if !f.Cancelled() || !errors.As(err, &ce) || ce.Msg != "early" || errors.Is(err, trio.ErrCancelled) {
					t.Errorf("got %v; want f.Cancelled() && errors.As(err, &ce) && ce.Msg == \"early\" && !errors.Is(err, trio.ErrCancelled)", err)
				}
				g := asyncio.RunTrio(ctx, func(context.Context) (int, error) { return 2, nil })
				asyncio.Await(ctx, g)
				if g.Cancel("late") {
					t.Errorf("Cancel after done returned true: g.Cancel(\"late\") got true, want false")
				}
				if v, err := g.Result(); v != 2 || err != nil {
					t.Errorf("result after a late Cancel: got %v, %v; want v == 2 && err == nil", v, err)
				}
				return nil
			})
			if ran.Load() {
				t.Errorf("fn ran though cancelled before it started: ran.Load() got true, want false")
			}
		})
	}
}

// ---- panics and errors

// A panic in a callback goes to the exception handler with its stack; the
// default handler makes the block fail with it, after an orderly
// teardown.
func TestPanic_in_a_callback_surfaces_from_OpenLoop_after_the_teardown(t *testing.T) {
	var ev evlog
	err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		spawnTask(ctx, loop, func(ctx context.Context) (int, error) {
			err := asyncio.Sleep(ctx, time.Hour)
			ev.add("task cancelled")
			return 0, err
		})
		loop.CallSoonThreadsafe(func(context.Context) { panic("in a callback") })
		err := trio.SleepForever(ctx) // cancelled by the default handler
		ev.add("body cancelled")
		return err
	})
	ev.add("returned")
	var pe *trio.PanicError
	if !errors.As(err, &pe) || pe.Value != "in a callback" || !strings.Contains(string(pe.Stack), "TestPanic_in_a_callback") {
		t.Errorf("OpenLoop: got %v; want errors.As(err, &pe) && pe.Value == \"in a callback\" && strings.Contains(string(pe.Stack), \"TestPanic_in_a_callback\")", err)
	}
	ev.inOrder(t, "body cancelled", "task cancelled", "returned")
}

// OpenLoop returns body's error joined with what the default exception
// handler received.
func TestOpenLoop_returns_the_body_error_joined_with_the_handlers(t *testing.T) {
	boom := errors.New("boom")
	err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		loop.CallSoonThreadsafe(func(context.Context) { panic("in a callback") })
		trio.SleepForever(ctx)
		return boom
	})
	var pe *trio.PanicError
	if !errors.Is(err, boom) || !errors.As(err, &pe) || pe.Value != "in a callback" {
		t.Errorf("got %v; want errors.Is(err, boom) && errors.As(err, &pe) && pe.Value == \"in a callback\"", err)
	}
}

// A panic in a task fails the task with a *trio.PanicError carrying the
// stack: RunAsyncio returns it; unretrieved (a task nobody awaits), it
// reaches the exception handler and the block fails with it.
func TestPanic_in_a_task_surfaces_from_OpenLoop(t *testing.T) {
	err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) { panic("retrieved") })
		var pe *trio.PanicError
		if !errors.As(err, &pe) || pe.Value != "retrieved" || !strings.Contains(string(pe.Stack), "TestPanic_in_a_task") {
			t.Errorf("RunAsyncio: got %v; want errors.As(err, &pe) && pe.Value == \"retrieved\" && strings.Contains(string(pe.Stack), \"TestPanic_in_a_task\")", err)
		}
		spawnTask(ctx, loop, func(ctx context.Context) (int, error) {
			asyncio.Sleep(ctx, 0)
			panic("fire and forget")
		})
		return nil
	})
	var pe *trio.PanicError
	if !errors.As(err, &pe) || pe.Value != "fire and forget" || !strings.Contains(string(pe.Stack), "TestPanic_in_a_task") {
		t.Errorf("OpenLoop: got %v; want errors.As(err, &pe) && pe.Value == \"fire and forget\" && strings.Contains(string(pe.Stack), \"TestPanic_in_a_task\")", err)
	}
}

// A panic in a trio call fails its future with a *trio.PanicError with
// fn's stack; unretrieved, the block fails with it.
func TestPanic_in_a_trio_call_surfaces_from_OpenLoop(t *testing.T) {
	err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		asTask(t, ctx, func(ctx context.Context) error {
			_, err := asyncio.Await(ctx, asyncio.RunTrio(ctx, func(context.Context) (int, error) { panic("awaited") }))
			var pe *trio.PanicError
			if !errors.As(err, &pe) || pe.Value != "awaited" || !strings.Contains(string(pe.Stack), "TestPanic_in_a_trio_call") {
				t.Errorf("Await: got %v; want errors.As(err, &pe) && pe.Value == \"awaited\" && strings.Contains(string(pe.Stack), \"TestPanic_in_a_trio_call\")", err)
			}
			asyncio.RunTrio(ctx, func(context.Context) (int, error) { panic("not awaited") })
			return nil
		})
		return nil
	})
	var pe *trio.PanicError
	if !errors.As(err, &pe) || pe.Value != "not awaited" || !strings.Contains(string(pe.Stack), "TestPanic_in_a_trio_call") {
		t.Errorf("OpenLoop: got %v; want errors.As(err, &pe) && pe.Value == \"not awaited\" && strings.Contains(string(pe.Stack), \"TestPanic_in_a_trio_call\")", err)
	}
}

// A panic in body is re-raised from OpenLoop once the teardown is done
// (TestOpenLoop_teardown_on_every_exit checks the teardown's work).
func TestPanic_in_the_body_reraised_after_the_teardown(t *testing.T) {
	var task *asyncio.Task[int]
	msg := mustPanic(t, func() {
		asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
			task = spawnTask(ctx, loop, func(ctx context.Context) (int, error) { return 0, asyncio.Sleep(ctx, time.Hour) })
			panic("in the body")
		})
	})
	if !strings.Contains(msg, "in the body") || !task.Cancelled() {
		t.Errorf("got panic %q; task %v; want strings.Contains(msg, \"in the body\") && task.Cancelled()", msg, task)
	}
}

// Never-retrieved errors go to the exception handler: the default one
// makes the block fail with the error; a custom one keeps it going.
func TestExceptionHandler_default_fails_the_block_custom_keeps_it_going(t *testing.T) {
	boom := errors.New("never retrieved")
	gcUntilDone := func(ctx context.Context) {
		for ctx.Err() == nil {
			runtime.GC()
			trio.Sleep(ctx, ms)
		}
	}
	err := trio.FailAfter(context.Background(), 20*time.Second, func(ctx context.Context) error {
		return asyncio.OpenLoop(ctx, func(ctx context.Context, loop *asyncio.Loop) error {
			spawnTask(ctx, loop, func(context.Context) (int, error) { return 0, boom })
			gcUntilDone(ctx) // the default handler cancels the body
			return trio.Checkpoint(ctx)
		})
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "Task exception was never retrieved") {
		t.Errorf("default handler: got OpenLoop returned %v; want errors.Is(err, boom) && strings.Contains(err.Error(), \"Task exception was never retrieved\")", err)
	}
	var handled atomic.Int64
	err = asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		loop.SetExceptionHandler(func(_ *asyncio.Loop, ec asyncio.ExceptionContext) {
			if errors.Is(ec.Err, boom) || ec.Message != "" {
				handled.Add(1)
			}
		})
		loop.CallSoonThreadsafe(func(context.Context) { panic("callback") })
		spawnTask(ctx, loop, func(context.Context) (int, error) { return 0, boom })
		trio.FailAfter(ctx, 20*time.Second, func(ctx context.Context) error {
			for handled.Load() < 2 {
				runtime.GC()
				if err := trio.Sleep(ctx, ms); err != nil {
					return err
				}
			}
			return nil
		})
		return trio.Checkpoint(ctx)
	})
	if err != nil || handled.Load() < 2 {
		t.Errorf("custom handler: got OpenLoop returned %v; handled %d; want err == nil && handled.Load() >= 2", err, handled.Load())
	}
}

// A zero Future is programmer misuse: a clear panic, not a nil pointer.
func TestRunFuture_zero_future_panics_clearly(t *testing.T) {
	msg := mustPanic(t, func() {
		asyncio.RunFuture(context.Background(), &asyncio.Future[int]{})
	})
	if !strings.Contains(msg, "not made by NewFuture") {
		t.Errorf("panic: got %q, want it to contain %q", msg, "not made by NewFuture")
	}
}
