package trio_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trioasyncio/trioasyncio/trio"
)

// A cancellation of the caller that lands just before started() stays
// with the caller: started does nothing, the child keeps running under
// Start, which returns the child's error (the caller's cancellation,
// absorbed by the caller's scope), and the nursery never sees it.
func TestStartCancelledJustBeforeStarted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var siblingErr error
		err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
			n.StartSoon(func(ctx context.Context) error {
				siblingErr = trio.Sleep(ctx, time.Second)
				return nil
			})
			var caller trio.CancelScope
			var startErr error
			var v int
			callerErr := caller.Run(ctx, func(ctx context.Context) error {
				v, startErr = trio.Start(ctx, n, func(ctx context.Context, started func(int)) error {
					caller.Cancel() // lands just before started
					started(1)
					return trio.Sleep(ctx, time.Hour) // still the caller's, so cancelled
				})
				return startErr
			})
			var ce *trio.CancelledError
			if v != 0 || !errors.As(startErr, &ce) || ce.Scope != &caller {
				t.Errorf("Start = %d, %v; want 0 and the caller's cancellation", v, startErr)
			}
			if callerErr != nil || !caller.CancelledCaught() {
				t.Errorf("caller.Run = %v, caught %v; want nil, true", callerErr, caller.CancelledCaught())
			}
			return nil
		})
		if err != nil || siblingErr != nil {
			t.Errorf("OpenNursery = %v, sibling's Sleep = %v; want nil, nil: the caller's cancellation is not the nursery's", err, siblingErr)
		}
	})
}

// Trio's test_nursery_start, the cases not covered by the other Start
// tests: Start from a cancelled scope (started does nothing; the child's
// outcome comes out of Start), and Start on a closed nursery.
func TestNurseryStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bg := context.Background()
		inCancelledScope := func(fn func(ctx context.Context, n *trio.Nursery, cs *trio.CancelScope)) {
			t.Helper()
			err := trio.OpenNursery(bg, func(ctx context.Context, n *trio.Nursery) error {
				var cs trio.CancelScope
				cs.Cancel()
				cs.Run(ctx, func(ctx context.Context) error { fn(ctx, n, &cs); return nil })
				return nil
			})
			if err != nil {
				t.Errorf("OpenNursery = %v", err)
			}
		}

		// just_started: started, then a checkpoint: Start returns the
		// cancellation.
		inCancelledScope(func(ctx context.Context, n *trio.Nursery, cs *trio.CancelScope) {
			v, err := trio.Start(ctx, n, func(ctx context.Context, started func(string)) error {
				started("hi")
				return trio.Checkpoint(ctx)
			})
			var ce *trio.CancelledError
			if v != "" || !errors.As(err, &ce) || ce.Scope != cs {
				t.Errorf("just_started: Start = %q, %v; want the scope's cancellation", v, err)
			}
		})

		// started_with_no_checkpoint: the child completed, so Start
		// returns its value and no cancellation is caught.
		inCancelledScope(func(ctx context.Context, n *trio.Nursery, cs *trio.CancelScope) {
			v, err := trio.Start(ctx, n, func(ctx context.Context, started func(string)) error {
				started("hi")
				return nil
			})
			if v != "hi" || err != nil {
				t.Errorf("started_with_no_checkpoint: Start = %q, %v; want hi, nil", v, err)
			}
		})

		// raise_keyerror_after_started: the error after started comes out
		// of Start.
		inCancelledScope(func(ctx context.Context, n *trio.Nursery, cs *trio.CancelScope) {
			_, err := trio.Start(ctx, n, func(ctx context.Context, started func(string)) error {
				started("hi")
				return errBoom
			})
			if err != errBoom {
				t.Errorf("raise_keyerror_after_started: Start = %v, want boom", err)
			}
		})

		// Start on a closed nursery panics at once (Trio: RuntimeError).
		var closed *trio.Nursery
		trio.OpenNursery(bg, func(ctx context.Context, n *trio.Nursery) error { closed = n; return nil })
		ran := false
		func() {
			defer func() {
				if r, _ := recover().(string); !strings.Contains(r, "trio: Start on a closed nursery") {
					t.Errorf("recovered %q, want a panic about Start on a closed nursery", r)
				}
			}()
			trio.Start(bg, closed, func(ctx context.Context, started func(int)) error { ran = true; return nil })
		}()
		if ran {
			t.Error("the child ran")
		}
	})
}

// Stress: a caller cancelled from another goroutine at any moment around
// started() never leaks its cancellation into the nursery: either started
// moved the child first (and the child runs on, uncancelled), or started
// did nothing and the cancellation came out of Start.
func TestStartCancelRaceNeverLeaks(t *testing.T) {
	for i := range 300 {
		err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
			var caller trio.CancelScope
			go func() {
				for range i % 7 {
					runtime.Gosched()
				}
				caller.Cancel()
			}()
			return caller.Run(ctx, func(ctx context.Context) error {
				_, err := trio.Start(ctx, n, func(ctx context.Context, started func(int)) error {
					started(i)
					return trio.Checkpoint(ctx)
				})
				return err
			})
		})
		if err != nil {
			t.Fatalf("iteration %d: OpenNursery = %v; the caller's cancellation leaked into the nursery", i, err)
		}
	}
}
