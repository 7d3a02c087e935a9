package trio_test

// Transcriptions of cases of Trio's src/trio/_core/_tests/test_run.py (the
// cancel-scope and nursery subset), each named after the Trio test.

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trioasyncio/trioasyncio/trio"
)

// test_nursery_main_block_error_basic: the body's error, with no child,
// is what OpenNursery returns, itself.
func TestNurseryMainBlockErrorBasic(t *testing.T) {
	exc := errors.New("whoops")
	err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		return exc
	})
	if err != exc {
		t.Errorf("OpenNursery = %#v, want the body's error itself", err)
	}
}

// test_nursery_explicit_exception: the body's error comes out of the
// nursery, and cancels it (so a child started before is cancelled, and not
// reported).
func TestNurseryExplicitException(t *testing.T) {
	var childErr error
	err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		n.StartSoon(func(ctx context.Context) error {
			childErr = trio.SleepForever(ctx)
			return childErr
		})
		return errBoom
	})
	if err != errBoom || !errors.Is(childErr, trio.ErrCancelled) {
		t.Errorf("OpenNursery = %v (child got %v); want boom, and the child cancelled", err, childErr)
	}
}

// test_main_and_task_both_crash: the body's error and a child's are both
// returned.
func TestMainAndTaskBothCrash(t *testing.T) {
	errValue, errKey := errors.New("ValueError"), errors.New("KeyError")
	err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		crashed := make(chan struct{})
		n.StartSoon(func(ctx context.Context) error { defer close(crashed); return errValue })
		<-crashed
		return errKey
	})
	if !errors.Is(err, errValue) || !errors.Is(err, errKey) || errors.Is(err, trio.ErrCancelled) {
		t.Errorf("OpenNursery = %v, want both errors and no cancellation", err)
	}
}

// test_precancelled_task: a child started in an already-cancelled nursery
// runs, and gets the cancellation at its first blocking call.
func TestPrecancelledTask(t *testing.T) {
	var record []string
	var mu sync.Mutex
	err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		n.CancelScope().Cancel()
		n.StartSoon(func(ctx context.Context) error {
			mu.Lock()
			record = append(record, "started")
			mu.Unlock()
			err := trio.SleepForever(ctx)
			if errors.Is(err, trio.ErrCancelled) {
				mu.Lock()
				record = append(record, "cancelled")
				mu.Unlock()
			}
			return err
		})
		return nil
	})
	if err != nil || !slices.Equal(record, []string{"started", "cancelled"}) {
		t.Errorf("OpenNursery = %v, record %v; want nil, [started cancelled]", err, record)
	}
}

// test_nursery_start_keeps_nursery_open: pending Start calls keep the
// target nursery open after its body has returned, also when the child
// crashes before started and so never enters it.
func TestNurseryStartKeepsNurseryOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sleepABit := func(ctx context.Context, started func(struct{})) error {
			trio.Sleep(ctx, 2*time.Second)
			started(struct{}{})
			return trio.Sleep(ctx, 3*time.Second)
		}
		bg := context.Background()
		var t0 time.Time
		var nursery2Exited time.Duration
		err := trio.OpenNursery(bg, func(ctx context.Context, nursery1 *trio.Nursery) error {
			t0 = time.Now()
			err := trio.OpenNursery(ctx, func(ctx context.Context, nursery2 *trio.Nursery) error {
				nursery1.StartSoon(func(ctx context.Context) error {
					_, err := trio.Start(ctx, nursery2, sleepABit)
					return err
				})
				trio.Sleep(ctx, time.Second)
				nursery1.StartSoon(func(ctx context.Context) error {
					_, err := trio.Start(ctx, nursery2, sleepABit)
					return err
				})
				// Nothing is in nursery2 yet: only the pending Starts keep it open.
				return nil
			})
			nursery2Exited = time.Since(t0)
			return err
		})
		if err != nil || nursery2Exited != 6*time.Second {
			t.Errorf("OpenNursery = %v; nursery2 exited after %v, want 6s", err, nursery2Exited)
		}

		sleepThenCrash := func(ctx context.Context, started func(struct{})) error {
			trio.Sleep(ctx, 7*time.Second)
			return errBoom
		}
		err = trio.OpenNursery(bg, func(ctx context.Context, nursery1 *trio.Nursery) error {
			t0 = time.Now()
			err := trio.OpenNursery(ctx, func(ctx context.Context, nursery2 *trio.Nursery) error {
				nursery1.StartSoon(func(ctx context.Context) error {
					if _, err := trio.Start(ctx, nursery2, sleepThenCrash); err != errBoom {
						t.Errorf("Start = %v, want boom", err)
					}
					return nil
				})
				synctest.Wait()
				return nil
			})
			nursery2Exited = time.Since(t0)
			return err
		})
		if err != nil || nursery2Exited != 7*time.Second {
			t.Errorf("OpenNursery = %v; nursery2 exited after %v, want 7s", err, nursery2Exited)
		}
	})
}

// test_unshield_while_cancel_propagating: shielding a scope once the
// cancellation of an enclosing one has reached it does not stop that
// cancellation: the outer scope catches it, the inner one does not.
func TestUnshieldWhileCancelPropagating(t *testing.T) {
	var outer, inner trio.CancelScope
	err := outer.Run(context.Background(), func(ctx context.Context) error {
		return inner.Run(ctx, func(ctx context.Context) error {
			outer.Cancel()
			defer inner.SetShield(true)
			return trio.Checkpoint(ctx)
		})
	})
	if err != nil || !outer.CancelledCaught() || inner.CancelledCaught() {
		t.Errorf("outer.Run = %v, outer caught %v, inner caught %v; want nil, true, false",
			err, outer.CancelledCaught(), inner.CancelledCaught())
	}
}

// test_cancel_inheritance: cancelling a nursery reaches the children of
// its children's nurseries.
func TestCancelInheritance(t *testing.T) {
	var mu sync.Mutex
	record := map[string]bool{}
	leaf := func(ident string) func(context.Context) error {
		return func(ctx context.Context) error {
			if err := trio.SleepForever(ctx); errors.Is(err, trio.ErrCancelled) {
				mu.Lock()
				record[ident] = true
				mu.Unlock()
			}
			return nil
		}
	}
	worker := func(ident string) func(context.Context) error {
		return func(ctx context.Context) error {
			return trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
				n.StartSoon(leaf(ident + "-l1"))
				n.StartSoon(leaf(ident + "-l2"))
				return nil
			})
		}
	}
	err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		n.StartSoon(worker("w1"))
		n.StartSoon(worker("w2"))
		n.CancelScope().Cancel()
		return nil
	})
	if err != nil || len(record) != 4 || !record["w1-l1"] || !record["w1-l2"] || !record["w2-l1"] || !record["w2-l2"] {
		t.Errorf("OpenNursery = %v, cancelled leaves %v; want all four", err, record)
	}
}

// test_cancel_shielding: a shield protects from the outer scope, but not
// from a scope inside it, nor from the shielded scope's own Cancel, which
// it absorbs. Unshielding exposes it again. (Trio also re-shields a scope
// already cancelled from outside; a Go context once done stays done, so
// here the shield is raised before the outer cancellation.)
func TestCancelShielding(t *testing.T) {
	var outer, inner trio.CancelScope
	err := outer.Run(context.Background(), func(ctx context.Context) error {
		return inner.Run(ctx, func(ctx context.Context) error {
			if err := trio.Checkpoint(ctx); err != nil {
				t.Errorf("checkpoint before any cancel: %v", err)
			}
			if inner.Shield() {
				t.Error("a new scope is shielded")
			}
			inner.SetShield(true)
			outer.Cancel()
			// The shield protects us from outer.
			if err := trio.Checkpoint(ctx); err != nil {
				t.Errorf("shielded checkpoint: %v", err)
			}
			var innerest trio.CancelScope
			innerestErr := innerest.Run(ctx, func(ctx context.Context) error {
				innerest.Cancel()
				// But not from a scope inside inner.
				err := trio.Checkpoint(ctx)
				if !errors.Is(err, trio.ErrCancelled) {
					t.Errorf("checkpoint in a cancelled scope inside the shield: %v, want the cancellation", err)
				}
				return err
			})
			if innerestErr != nil || !innerest.CancelledCaught() {
				t.Errorf("innerest.Run = %v, caught %v", innerestErr, innerest.CancelledCaught())
			}
			if err := trio.Checkpoint(ctx); err != nil {
				t.Errorf("shielded checkpoint after innerest: %v", err)
			}
			// The shield does not protect us from inner itself.
			inner.Cancel()
			return trio.Checkpoint(ctx) // absorbed by inner
		})
	})
	if err != nil || !inner.CancelledCaught() || outer.CancelledCaught() {
		t.Errorf("outer.Run = %v, inner caught %v, outer caught %v; want nil, true, false",
			err, inner.CancelledCaught(), outer.CancelledCaught())
	}

	// Unshielding exposes the scope to the outer cancellation again.
	var outer2, inner2 trio.CancelScope
	err = outer2.Run(context.Background(), func(ctx context.Context) error {
		inner2.SetShield(true)
		return inner2.Run(ctx, func(ctx context.Context) error {
			outer2.Cancel()
			if err := trio.Checkpoint(ctx); err != nil {
				t.Errorf("shielded checkpoint: %v", err)
			}
			inner2.SetShield(false)
			err := trio.Checkpoint(ctx)
			var ce *trio.CancelledError
			if !errors.As(err, &ce) || ce.Scope != &outer2 {
				t.Errorf("checkpoint after unshielding = %v, want outer's cancellation", err)
			}
			return err
		})
	})
	if err != nil || !outer2.CancelledCaught() || inner2.CancelledCaught() {
		t.Errorf("outer2.Run = %v, outer caught %v, inner caught %v", err, outer2.CancelledCaught(), inner2.CancelledCaught())
	}
}

// test_cancel_scope_exceptiongroup_filtering: a nursery whose own scope
// and an enclosing one are both cancelled returns the cancellation with a
// child's failure; the enclosing scope then absorbs the cancellation
// (every Cancelled reaching the outermost cancelled scope is caught there)
// and only the failure leaves it.
func TestCancelScopeExceptiongroupFiltering(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var outer trio.CancelScope
		var nurseryErr error
		err := outer.Run(context.Background(), func(ctx context.Context) error {
			nurseryErr = trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
				n.StartSoon(trio.SleepForever) // t1
				n.StartSoon(trio.SleepForever) // t2
				n.CancelScope().Cancel()
				synctest.Wait()
				n.StartSoon(trio.SleepForever) // t3
				outer.Cancel()
				n.StartSoon(func(context.Context) error { return errBoom }) // t4
				return nil
			})
			return nurseryErr
		})
		if !errors.Is(nurseryErr, errBoom) || !errors.Is(nurseryErr, trio.ErrCancelled) {
			t.Errorf("OpenNursery = %v, want boom and the cancellation", nurseryErr)
		}
		if err != errBoom || !outer.CancelledCaught() {
			t.Errorf("outer.Run = %v, caught %v; want boom alone, and the cancellation caught", err, outer.CancelledCaught())
		}
	})
}

// An inner scope cancelled before its enclosing scope lets its own
// cancellation pass (its surroundings are cancelled too); the enclosing
// scope catches it, so no cancellation escapes the scopes it came from.
func TestCancelNestedBothCancelledOuterCatchesInner(t *testing.T) {
	var outer, inner trio.CancelScope
	err := outer.Run(context.Background(), func(ctx context.Context) error {
		return inner.Run(ctx, func(ctx context.Context) error {
			inner.Cancel()
			outer.Cancel()
			return trio.Checkpoint(ctx) // the inner scope's cancellation
		})
	})
	if err != nil || !outer.CancelledCaught() || inner.CancelledCaught() {
		t.Errorf("outer.Run = %v, outer caught %v, inner caught %v; want nil, true, false",
			err, outer.CancelledCaught(), inner.CancelledCaught())
	}
	// Another tree's scope is not inside outer: its cancellation passes.
	var outer2 trio.CancelScope
	var otherErr error
	var other2 trio.CancelScope
	other2.Run(context.Background(), func(ctx context.Context) error {
		other2.Cancel()
		otherErr = trio.Checkpoint(ctx)
		return nil
	})
	err = outer2.Run(context.Background(), func(ctx context.Context) error {
		outer2.Cancel()
		return otherErr
	})
	if err != otherErr {
		t.Errorf("outer2.Run = %v, want the unrelated scope's cancellation %v to pass", err, otherErr)
	}
}

// test_very_deep_cancel_scope_nesting: cancelling the outermost of 5000
// nested scopes reaches the innermost, and every scope returns cleanly.
func TestVeryDeepCancelScopeNesting(t *testing.T) {
	var outermost trio.CancelScope
	var innermostErr error
	var nest func(ctx context.Context, depth int) error
	nest = func(ctx context.Context, depth int) error {
		if depth == 0 {
			outermost.Cancel()
			innermostErr = trio.Checkpoint(ctx)
			return innermostErr
		}
		var s trio.CancelScope
		return s.Run(ctx, func(ctx context.Context) error { return nest(ctx, depth-1) })
	}
	err := outermost.Run(context.Background(), func(ctx context.Context) error { return nest(ctx, 5000) })
	if err != nil || !outermost.CancelledCaught() || !errors.Is(innermostErr, trio.ErrCancelled) {
		t.Errorf("outermost.Run = %v, caught %v, innermost checkpoint %v", err, outermost.CancelledCaught(), innermostErr)
	}
}

// test_cancel_unbound, the case the other tests do not check: a scope not
// yet run reports CancelCalled once its deadline has passed, even without
// Cancel, and stays cancelled when the deadline moves later; it then runs
// cancelled by its deadline.
func TestCancelUnbound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var s trio.CancelScope
		s.SetDeadline(time.Now().Add(time.Second))
		if s.CancelCalled() {
			t.Fatal("CancelCalled before the deadline")
		}
		s.SetDeadline(time.Now().Add(-time.Second))
		if !s.CancelCalled() {
			t.Fatal("CancelCalled false with the deadline passed")
		}
		s.SetDeadline(time.Now().Add(time.Hour))
		if !s.CancelCalled() {
			t.Fatal("the scope became un-cancelled")
		}
		var ctxErr error
		err := s.Run(context.Background(), func(ctx context.Context) error {
			ctxErr = ctx.Err()
			return trio.Checkpoint(ctx)
		})
		if err != nil || !s.CancelledCaught() || ctxErr != context.DeadlineExceeded {
			t.Errorf("Run = %v, caught %v, ctx.Err() %v; want nil, true, DeadlineExceeded", err, s.CancelledCaught(), ctxErr)
		}
	})
}

// test_current_effective_deadline: a scope's ctx reports the earliest of
// its deadline and, unless shielded, its surroundings', following moves of
// either deadline and of the shield while it runs. (Trio's -inf for a
// cancelled scope has no Go counterpart: ctx.Err() says it.)
func TestCurrentEffectiveDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
		want := func(ctx context.Context, s int) {
			t.Helper()
			if d, ok := ctx.Deadline(); !ok || !d.Equal(at(s)) {
				t.Errorf("ctx.Deadline() = %v, %v; want t0+%ds", d.Sub(t0), ok, s)
			}
		}
		if _, ok := context.Background().Deadline(); ok {
			t.Fatal("Background has a deadline")
		}
		var scope1, scope2 trio.CancelScope
		scope1.SetDeadline(at(5))
		scope2.SetDeadline(at(10))
		scope1.Run(context.Background(), func(ctx context.Context) error {
			return scope2.Run(ctx, func(ctx context.Context) error {
				want(ctx, 5)
				scope2.SetDeadline(at(3))
				want(ctx, 3)
				scope2.SetDeadline(at(10))
				want(ctx, 5)
				scope2.SetShield(true)
				want(ctx, 10)
				scope2.SetShield(false)
				want(ctx, 5)
				return nil
			})
		})
	})
}

// test_trio_run_strict_before_started (its Go meaning; strict exception
// groups are Python's): an error before started comes out of Start as it
// is, and one after started out of OpenNursery as it is, joined errors
// included.
func TestTrioRunStrictBeforeStarted(t *testing.T) {
	group := errors.Join(errors.New("my group"), errBoom)
	for _, raiserErr := range []error{errBoom, group} {
		for _, afterStarted := range []bool{false, true} {
			var startErr error
			err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
				_, startErr = trio.Start(ctx, n, func(ctx context.Context, started func(struct{})) error {
					if afterStarted {
						started(struct{}{})
					}
					return raiserErr
				})
				return startErr
			})
			if err != raiserErr {
				t.Errorf("after started %v: OpenNursery = %v, want %v itself", afterStarted, err, raiserErr)
			}
			if got := startErr; (got == raiserErr) == afterStarted {
				t.Errorf("after started %v: Start = %v", afterStarted, got)
			}
		}
	}
}

// test_cancel_points: CheckpointIfCancelled, Checkpoint and SleepForever
// fail once the scope is cancelled; a cancel-shielded checkpoint
// (runtime.Gosched in Go) does not, and the next Checkpoint still fails.
func TestCancelPoints(t *testing.T) {
	for _, point := range []struct {
		name string
		fn   func(context.Context) error
	}{
		{"CheckpointIfCancelled", trio.CheckpointIfCancelled},
		{"Checkpoint", trio.Checkpoint},
	} {
		var scope trio.CancelScope
		scope.Run(context.Background(), func(ctx context.Context) error {
			if err := point.fn(ctx); err != nil {
				t.Errorf("%s before Cancel = %v", point.name, err)
			}
			scope.Cancel()
			if err := point.fn(ctx); !errors.Is(err, trio.ErrCancelled) {
				t.Errorf("%s after Cancel = %v, want the cancellation", point.name, err)
			}
			return nil
		})
	}
	var scope3 trio.CancelScope
	scope3.Run(context.Background(), func(ctx context.Context) error {
		scope3.Cancel()
		if err := trio.SleepForever(ctx); !errors.Is(err, trio.ErrCancelled) {
			t.Errorf("SleepForever = %v", err)
		}
		return nil
	})
	var scope4 trio.CancelScope
	scope4.Run(context.Background(), func(ctx context.Context) error {
		scope4.Cancel()
		runtime.Gosched() // cancel_shielded_checkpoint
		runtime.Gosched()
		if err := trio.Checkpoint(ctx); !errors.Is(err, trio.ErrCancelled) {
			t.Errorf("Checkpoint = %v", err)
		}
		return nil
	})
}
