package trio_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trioasyncio/trioasyncio/trio"
)

func TestNurseryWaitsForChildren(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var done atomic.Int32
		start := time.Now()
		err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
			for i := 1; i <= 3; i++ {
				n.StartSoon(func(ctx context.Context) error {
					trio.Sleep(ctx, time.Duration(i)*time.Second)
					done.Add(1)
					return nil
				})
			}
			return nil
		})
		if err != nil || done.Load() != 3 || time.Since(start) != 3*time.Second {
			t.Errorf("err %v, %d children done after %v; want all 3 after 3s", err, done.Load(), time.Since(start))
		}
	})
}

func TestNurseryErrorAggregation(t *testing.T) {
	errA, errB := errors.New("a"), errors.New("b")
	err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		ready := make(chan struct{})
		n.StartSoon(func(ctx context.Context) error { <-ready; return errA })
		n.StartSoon(func(ctx context.Context) error { <-ready; return errB })
		for range 3 {
			n.StartSoon(trio.SleepForever) // cancelled by the failures; not reported
		}
		close(ready)
		return trio.SleepForever(ctx)
	})
	if !errors.Is(err, errA) || !errors.Is(err, errB) {
		t.Fatalf("err = %v; want both a and b", err)
	}
	if errors.Is(err, trio.ErrCancelled) {
		t.Errorf("err = %v contains the nursery's own cancellation", err)
	}
	if j, ok := err.(interface{ Unwrap() []error }); !ok || len(j.Unwrap()) != 2 {
		t.Errorf("err = %#v; want a join of exactly the two failures", err)
	}

	// One failure is returned as itself.
	err = trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		n.StartSoon(func(ctx context.Context) error { return errA })
		return trio.SleepForever(ctx)
	})
	if err != errA {
		t.Errorf("err = %#v; want a itself", err)
	}
}

func TestNurserySiblingCancellation(t *testing.T) {
	var sawCancel atomic.Bool
	err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		n.StartSoon(func(ctx context.Context) error {
			err := trio.SleepForever(ctx)
			var ce *trio.CancelledError
			if errors.As(err, &ce) && strings.Contains(ce.Reason, "boom") {
				sawCancel.Store(true)
			}
			return err
		})
		n.StartSoon(func(ctx context.Context) error { return errBoom })
		return nil
	})
	if err != errBoom || !sawCancel.Load() {
		t.Errorf("err = %v, sibling saw the failure as its cancellation cause: %v", err, sawCancel.Load())
	}
}

func TestNurseryOuterCancellationPropagates(t *testing.T) {
	var outer trio.CancelScope
	var nurseryErr error
	err := outer.Run(context.Background(), func(ctx context.Context) error {
		nurseryErr = trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
			n.StartSoon(trio.SleepForever)
			n.StartSoon(trio.SleepForever)
			outer.Cancel()
			return trio.SleepForever(ctx)
		})
		return nurseryErr
	})
	var ce *trio.CancelledError
	if !errors.As(nurseryErr, &ce) || ce.Scope != &outer {
		t.Errorf("nursery returned %v; want the outer scope's cancellation", nurseryErr)
	}
	if _, joined := nurseryErr.(interface{ Unwrap() []error }); joined {
		t.Errorf("nursery returned %v; want one cancellation, not one per child", nurseryErr)
	}
	if err != nil || !outer.CancelledCaught() {
		t.Errorf("outer.Run = %v, caught %v", err, outer.CancelledCaught())
	}
}

func TestNurseryCancelScope(t *testing.T) {
	err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		n.StartSoon(trio.SleepForever)
		n.CancelScope().Cancel()
		return trio.SleepForever(ctx)
	})
	if err != nil {
		t.Errorf("nursery cancelled by its own scope returned %v, want nil", err)
	}
}

func childThatPanics(ctx context.Context) error {
	panic("kaboom")
}

func TestNurseryPanicPropagation(t *testing.T) {
	var siblingDone atomic.Bool
	defer func() {
		r := recover()
		p, ok := r.(*trio.PanicError)
		if !ok {
			t.Fatalf("recovered %#v, want *trio.PanicError", r)
		}
		if p.Value != "kaboom" || !strings.Contains(string(p.Stack), "childThatPanics") {
			t.Errorf("panic value %v, stack without the child's frame:\n%s", p.Value, p.Stack)
		}
		if !siblingDone.Load() {
			t.Error("re-panicked before the sibling had ended")
		}
	}()
	trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		n.StartSoon(func(ctx context.Context) error {
			defer siblingDone.Store(true)
			return trio.SleepForever(ctx)
		})
		n.StartSoon(childThatPanics)
		return nil
	})
	t.Fatal("OpenNursery returned instead of panicking")
}

func TestNurseryBodyPanicWaitsForChildren(t *testing.T) {
	var childDone atomic.Bool
	defer func() {
		if p, ok := recover().(*trio.PanicError); !ok || p.Value != "body" || !childDone.Load() {
			t.Errorf("recovered %v, child done %v", p, childDone.Load())
		}
	}()
	trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		n.StartSoon(func(ctx context.Context) error {
			defer childDone.Store(true)
			return trio.SleepForever(ctx)
		})
		panic("body")
	})
}

func TestNurseryStartSoonWhenClosedPanics(t *testing.T) {
	var saved *trio.Nursery
	trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		saved = n
		return nil
	})
	defer func() {
		if r, _ := recover().(string); !strings.Contains(r, "closed nursery") {
			t.Errorf("recovered %q, want a panic about the closed nursery", r)
		}
	}()
	saved.StartSoon(func(context.Context) error { return nil })
}

// A nursery is a resource other goroutines may use while it is open: a
// child started from another goroutine is waited for too.
func TestNurseryUsedFromAnotherGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var late atomic.Bool
		err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
			handOff := make(chan *trio.Nursery, 1)
			n.StartSoon(func(ctx context.Context) error {
				nn := <-handOff
				trio.Sleep(ctx, time.Second)
				// The body has long returned; the nursery is still open.
				nn.StartSoon(func(ctx context.Context) error {
					trio.Sleep(ctx, time.Second)
					late.Store(true)
					return nil
				})
				return nil
			})
			handOff <- n
			return nil
		})
		if err != nil || !late.Load() {
			t.Errorf("err %v, late child done %v", err, late.Load())
		}
	})
}

func TestStartSuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var finished atomic.Bool
		err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
			v, err := trio.Start(ctx, n, func(ctx context.Context, started func(string)) error {
				trio.Sleep(ctx, time.Second)
				started("ready")
				trio.Sleep(ctx, time.Second)
				finished.Store(true)
				return nil
			})
			if v != "ready" || err != nil || finished.Load() {
				t.Errorf("Start = %q, %v (finished %v); want ready, nil, still running", v, err, finished.Load())
			}
			return nil
		})
		if err != nil || !finished.Load() {
			t.Errorf("err %v, finished %v", err, finished.Load())
		}
	})
}

func TestStartFailureGoesToCaller(t *testing.T) {
	var siblingSurvived atomic.Bool
	err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		n.StartSoon(func(ctx context.Context) error {
			trio.Sleep(ctx, 10*time.Millisecond)
			siblingSurvived.Store(ctx.Err() == nil)
			return nil
		})
		_, err := trio.Start(ctx, n, func(ctx context.Context, started func(int)) error { return errBoom })
		if err != errBoom {
			t.Errorf("Start = %v, want boom", err)
		}
		_, err = trio.Start(ctx, n, func(ctx context.Context, started func(int)) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "without calling started") {
			t.Errorf("Start = %v, want an error saying started was never called", err)
		}
		return nil
	})
	if err != nil || !siblingSurvived.Load() {
		t.Errorf("nursery err %v, sibling survived %v: an early failure must not touch the nursery", err, siblingSurvived.Load())
	}
}

func TestStartPanicBeforeStartedGoesToCaller(t *testing.T) {
	trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		defer func() {
			if p, ok := recover().(*trio.PanicError); !ok || p.Value != "early" {
				t.Errorf("caller recovered %v, want the child's early panic", p)
			}
		}()
		trio.Start(ctx, n, func(ctx context.Context, started func(int)) error { panic("early") })
		return nil
	})
}

// Until started, the child is cancelled by its caller's ctx; afterwards it
// belongs to the nursery and the caller's cancellation no longer reaches it.
func TestStartCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
			// Cancelled before started: the caller's scope absorbs it.
			moved, err := trio.MoveOnAfter(ctx, time.Second, func(ctx context.Context) error {
				_, err := trio.Start(ctx, n, func(ctx context.Context, started func(int)) error {
					return trio.SleepForever(ctx)
				})
				return err
			})
			if !moved || err != nil {
				t.Errorf("MoveOnAfter around Start = %v, %v; want true, nil", moved, err)
			}

			// Started: the caller's later cancellation does not reach it.
			var childErr error
			childDone := make(chan struct{})
			var caller trio.CancelScope
			caller.Run(ctx, func(cctx context.Context) error {
				_, err := trio.Start(cctx, n, func(ctx context.Context, started func(int)) error {
					started(1)
					defer close(childDone)
					childErr = trio.Sleep(ctx, 5*time.Second)
					return nil
				})
				caller.Cancel()
				return err
			})
			<-childDone
			if childErr != nil {
				t.Errorf("started child was cancelled by its former caller: %v", childErr)
			}
			return nil
		})
		if err != nil {
			t.Error(err)
		}
	})
}

// Trio: the nursery's cancellation reaches a child only once it has
// started; a child that has not started yet is the caller's.
func TestStartNurseryCancelledBeforeStarted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var sleptFully, cancelledAfterStart atomic.Bool
		trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
			n.CancelScope().Cancel()
			_, err := trio.Start(context.Background(), n, func(ctx context.Context, started func(int)) error {
				sleptFully.Store(trio.Sleep(ctx, time.Second) == nil)
				started(1)
				cancelledAfterStart.Store(ctx.Err() != nil)
				return nil
			})
			if err != nil {
				t.Errorf("Start = %v", err)
			}
			return nil
		})
		if !sleptFully.Load() || !cancelledAfterStart.Load() {
			t.Errorf("slept fully before started: %v; cancelled once moved into the nursery: %v", sleptFully.Load(), cancelledAfterStart.Load())
		}
	})
}

func TestStartedTwicePanics(t *testing.T) {
	defer func() {
		p, ok := recover().(*trio.PanicError)
		if !ok || !strings.Contains(p.Value.(string), "started called twice") {
			t.Errorf("recovered %v", p)
		}
	}()
	trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		trio.Start(ctx, n, func(ctx context.Context, started func(int)) error {
			started(1)
			started(2)
			return nil
		})
		return nil
	})
}

// A child's cancellation from a context of its own is a failure like any
// other: the nursery's cancelling itself in response must not swallow it.
func TestNurseryKeepsChildsForeignCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
			n.StartSoon(func(ctx context.Context) error {
				ctx, cancel := context.WithTimeout(ctx, time.Second)
				defer cancel()
				return trio.SleepForever(ctx)
			})
			return nil
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("OpenNursery = %v, want the child's own timeout", err)
		}
	})
}
