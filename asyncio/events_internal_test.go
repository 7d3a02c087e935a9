package asyncio

// White-box tests of the timer heap's purging (CPython's
// _MIN_SCHEDULED_TIMER_HANDLES and _MIN_CANCELLED_TIMER_HANDLES_FRACTION).

import (
	"context"
	"slices"
	"testing"
	"time"
)

// onLoopInternal runs fn on loop and waits for it.
func onLoopInternal(loop *Loop, fn func(ctx context.Context)) {
	done := make(chan struct{})
	if _, err := loop.CallSoonThreadsafe(func(ctx context.Context) {
		defer close(done)
		fn(ctx)
	}); err != nil {
		panic(err)
	}
	<-done
}

func TestTimers_bulk_purge(t *testing.T) {
	for _, tc := range []struct {
		scheduled, cancelled int
		wantLen              int
	}{
		{200, 101, 99},  // more than half of more than 100: purged in bulk
		{200, 100, 200}, // exactly half: kept (cancelled timers stay until the head)
		{100, 99, 100},  // not more than 100 scheduled: kept
	} {
		err := OpenLoop(context.Background(), func(ctx context.Context, loop *Loop) error {
			onLoopInternal(loop, func(ctx context.Context) {
				hs := make([]*TimerHandle, tc.scheduled)
				for i := range hs {
					// Cancel the later timers, so that the head stays live.
					hs[i] = loop.CallLater(time.Hour+time.Duration(i)*time.Second, func(context.Context) {})
				}
				for _, h := range hs[tc.scheduled-tc.cancelled:] {
					h.Cancel()
				}
				if loop.cancelledTimers != tc.cancelled {
					t.Errorf("%+v: cancelled timers counted: got %d, want %d", tc, loop.cancelledTimers, tc.cancelled)
				}
			})
			onLoopInternal(loop, func(ctx context.Context) {
				if len(loop.timers) != tc.wantLen {
					t.Errorf("%+v: timers in the heap: got %d, want %d", tc, len(loop.timers), tc.wantLen)
				}
				for i, th := range loop.timers {
					if int(th.hpos) != i+1 {
						t.Errorf("timer %d's heap position: got %d, want %d", i, th.hpos, i+1)
					}
				}
				if tc.wantLen < tc.scheduled && loop.cancelledTimers != 0 {
					t.Errorf("%+v: cancelled timers counted after the purge: got %d, want 0", tc, loop.cancelledTimers)
				}
			})
			return nil
		})
		if err != nil {
			t.Fatalf("OpenLoop: got %v, want nil", err)
		}
	}
}

// A cancelled timer at the head of the heap is dropped at the next
// iteration (lazily), and the count follows.
func TestTimers_lazy_head_purge(t *testing.T) {
	err := OpenLoop(context.Background(), func(ctx context.Context, loop *Loop) error {
		onLoopInternal(loop, func(ctx context.Context) {
			a := loop.CallLater(time.Hour, func(context.Context) {})
			b := loop.CallLater(2*time.Hour, func(context.Context) {})
			loop.CallLater(3*time.Hour, func(context.Context) {})
			a.Cancel()
			b.Cancel()
		})
		onLoopInternal(loop, func(ctx context.Context) {
			if len(loop.timers) != 1 || loop.cancelledTimers != 0 {
				t.Errorf("timers in the heap, cancelled: got %d, %d; want 1, 0", len(loop.timers), loop.cancelledTimers)
			}
		})
		return nil
	})
	if err != nil {
		t.Fatalf("OpenLoop: got %v, want nil", err)
	}
}

// The heap keeps (when, seq) order under random pushes and pops.
func TestTimerHeap_order(t *testing.T) {
	var h timerHeap
	x := uint32(1)
	for i := range 1000 {
		x = x*1664525 + 1013904223
		h.push(&TimerHandle{when: int64(x % 50), seq: uint64(i)})
	}
	var prev *TimerHandle
	for len(h) > 0 {
		th := h.pop()
		if prev != nil && timerLess(th, prev) {
			t.Fatalf("pop order: got %+v after %+v, want no timer before the one popped ahead of it", th, prev)
		}
		prev = th
	}
}

// I/O readiness posted to the inbox joins the ready queue at the start of
// the next iteration, behind what the loop's own code scheduled meanwhile,
// even when a CallSoon drains the inbox to keep CallSoonThreadsafe FIFO.
func TestInbox_io_readiness_never_overtakes_CallSoon(t *testing.T) {
	var order []string
	err := OpenLoop(context.Background(), func(ctx context.Context, loop *Loop) error {
		onLoopInternal(loop, func(ctx context.Context) {
			loop.in.postIO(&Handle{run: callback(func(context.Context) { order = append(order, "io") }), ctx: loop.ctxI})
			loop.CallSoonThreadsafe(func(context.Context) { order = append(order, "threadsafe") })
			loop.CallSoon(func(context.Context) { order = append(order, "soon") })
		})
		loop.Synchronize(ctx)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"threadsafe", "soon", "io"}; !slices.Equal(order, want) {
		t.Errorf("order: got %v, want %v", order, want)
	}
}
