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

var errBoom = errors.New("boom")

// TestCancelMatrix runs an inner scope nested in an outer one through every
// way a scope can be cancelled (or not), with fn ending in each of the
// three ways, and checks each scope's CancelledCaught and returned error.
func TestCancelMatrix(t *testing.T) {
	type scenario struct {
		name string
		// run runs fn in the inner scope, doing whatever the scenario does.
		run func(t *testing.T, ctx context.Context, outer, inner *trio.CancelScope, fn func(context.Context) error) error
		// Who cancelled the inner scope's ctx by the time fn returns.
		innerOwn, outerCancel, deadline bool
	}
	sleepThen := func(d time.Duration, fn func(context.Context) error) func(context.Context) error {
		return func(ctx context.Context) error {
			trio.Sleep(ctx, d)
			return fn(ctx)
		}
	}
	scenarios := []scenario{
		{name: "own cancel", innerOwn: true,
			run: func(t *testing.T, ctx context.Context, outer, inner *trio.CancelScope, fn func(context.Context) error) error {
				return inner.Run(ctx, func(ctx context.Context) error { inner.Cancel(); return fn(ctx) })
			}},
		{name: "outer cancel", outerCancel: true,
			run: func(t *testing.T, ctx context.Context, outer, inner *trio.CancelScope, fn func(context.Context) error) error {
				return inner.Run(ctx, func(ctx context.Context) error { outer.Cancel(); return fn(ctx) })
			}},
		{name: "deadline", innerOwn: true, deadline: true,
			run: func(t *testing.T, ctx context.Context, outer, inner *trio.CancelScope, fn func(context.Context) error) error {
				inner.SetDeadline(time.Now().Add(time.Second))
				start := time.Now()
				err := inner.Run(ctx, sleepThen(time.Hour, fn))
				if got := time.Since(start); got != time.Second {
					t.Errorf("deadline fired after %v, want 1s", got)
				}
				return err
			}},
		{name: "shield",
			run: func(t *testing.T, ctx context.Context, outer, inner *trio.CancelScope, fn func(context.Context) error) error {
				inner.SetShield(true)
				return inner.Run(ctx, func(ctx context.Context) error {
					outer.Cancel()
					if err := trio.Sleep(ctx, time.Second); err != nil {
						t.Errorf("shielded sleep: %v", err)
					}
					return fn(ctx)
				})
			}},
		{name: "cancel before Run", innerOwn: true,
			run: func(t *testing.T, ctx context.Context, outer, inner *trio.CancelScope, fn func(context.Context) error) error {
				inner.Cancel()
				return inner.Run(ctx, fn)
			}},
		{name: "cancel after Run",
			run: func(t *testing.T, ctx context.Context, outer, inner *trio.CancelScope, fn func(context.Context) error) error {
				err := inner.Run(ctx, fn)
				inner.Cancel()
				if !inner.CancelCalled() {
					t.Error("CancelCalled false after Cancel")
				}
				return err
			}},
		{name: "deadline moved later",
			run: func(t *testing.T, ctx context.Context, outer, inner *trio.CancelScope, fn func(context.Context) error) error {
				inner.SetDeadline(time.Now().Add(time.Second))
				return inner.Run(ctx, func(ctx context.Context) error {
					trio.Sleep(ctx, time.Second/2)
					later := time.Now().Add(2 * time.Second)
					inner.SetDeadline(later)
					if d, ok := ctx.Deadline(); !ok || !d.Equal(later) {
						t.Errorf("ctx.Deadline() = %v, %v; want %v", d, ok, later)
					}
					if err := trio.Sleep(ctx, time.Second); err != nil {
						t.Errorf("sleep past the old deadline: %v", err)
					}
					return fn(ctx)
				})
			}},
		{name: "deadline moved earlier", innerOwn: true, deadline: true,
			run: func(t *testing.T, ctx context.Context, outer, inner *trio.CancelScope, fn func(context.Context) error) error {
				inner.SetDeadline(time.Now().Add(time.Hour))
				start := time.Now()
				err := inner.Run(ctx, func(ctx context.Context) error {
					inner.SetDeadline(time.Now().Add(time.Second))
					return sleepThen(time.Hour, fn)(ctx)
				})
				if got := time.Since(start); got != time.Second {
					t.Errorf("deadline fired after %v, want 1s", got)
				}
				return err
			}},
	}
	type ending struct {
		name string
		fn   func(ctx context.Context) error
	}
	endings := []ending{
		{"returns nil", func(ctx context.Context) error { return nil }},
		{"returns the cancellation", trio.Checkpoint},
		{"returns another error", func(ctx context.Context) error { return errBoom }},
	}
	for _, sc := range scenarios {
		for _, end := range endings {
			t.Run(sc.name+"/"+end.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					var outer, inner trio.CancelScope
					var innerErr error
					outerErr := outer.Run(context.Background(), func(ctx context.Context) error {
						innerErr = sc.run(t, ctx, &outer, &inner, end.fn)
						return innerErr
					})
					cancelled := end.name == "returns the cancellation" && (sc.innerOwn || sc.outerCancel)

					// The inner scope.
					wantInnerCaught := cancelled && sc.innerOwn
					if inner.CancelledCaught() != wantInnerCaught {
						t.Errorf("inner.CancelledCaught() = %v, want %v", inner.CancelledCaught(), wantInnerCaught)
					}
					switch {
					case end.name == "returns another error":
						if innerErr != errBoom {
							t.Errorf("inner.Run = %v, want boom", innerErr)
						}
					case cancelled && sc.outerCancel:
						var ce *trio.CancelledError
						if !errors.As(innerErr, &ce) || ce.Scope != &outer {
							t.Errorf("inner.Run = %v, want the outer scope's cancellation", innerErr)
						}
						if !errors.Is(innerErr, trio.ErrCancelled) || !errors.Is(innerErr, context.Canceled) {
							t.Errorf("inner.Run = %v: does not match ErrCancelled and context.Canceled", innerErr)
						}
					default:
						if innerErr != nil {
							t.Errorf("inner.Run = %v, want nil", innerErr)
						}
					}

					// The outer scope.
					wantOuterCaught := cancelled && sc.outerCancel
					if outer.CancelledCaught() != wantOuterCaught {
						t.Errorf("outer.CancelledCaught() = %v, want %v", outer.CancelledCaught(), wantOuterCaught)
					}
					wantOuter := error(nil)
					if end.name == "returns another error" {
						wantOuter = errBoom
					}
					if outerErr != wantOuter {
						t.Errorf("outer.Run = %v, want %v", outerErr, wantOuter)
					}
					if sc.deadline && !inner.CancelCalled() {
						t.Error("inner.CancelCalled() false after its deadline")
					}
				})
			})
		}
	}
}

func TestCancelDeadlineErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var s trio.CancelScope
		s.SetDeadline(time.Now().Add(time.Second))
		var sleepErr, ctxErr, causeErr error
		s.Run(context.Background(), func(ctx context.Context) error {
			sleepErr = trio.SleepForever(ctx)
			ctxErr = ctx.Err()
			causeErr = context.Cause(ctx)
			return sleepErr
		})
		if !errors.Is(sleepErr, trio.ErrCancelled) || !errors.Is(sleepErr, context.DeadlineExceeded) || errors.Is(sleepErr, context.Canceled) {
			t.Errorf("Sleep error %v should match ErrCancelled and DeadlineExceeded only", sleepErr)
		}
		if ctxErr != context.DeadlineExceeded {
			t.Errorf("ctx.Err() = %v, want DeadlineExceeded", ctxErr)
		}
		var ce *trio.CancelledError
		if !errors.As(causeErr, &ce) || ce.Scope != &s || !ce.Deadline {
			t.Errorf("context.Cause = %#v, want this scope's deadline", causeErr)
		}
		if !s.CancelledCaught() {
			t.Error("CancelledCaught false")
		}
	})
}

// An outer scope's cancellation passes through an inner scope that has also
// been cancelled, and is level-triggered: each checkpoint fails again.
func TestCancelOuterPassesThroughCancelledInner(t *testing.T) {
	var outer, inner trio.CancelScope
	var again error
	err := outer.Run(context.Background(), func(ctx context.Context) error {
		err := inner.Run(ctx, func(ctx context.Context) error {
			inner.Cancel()
			outer.Cancel()
			return trio.Checkpoint(ctx)
		})
		if err == nil {
			t.Error("inner absorbed a cancellation its surroundings also carry")
		}
		again = trio.Checkpoint(ctx)
		return again
	})
	if err != nil || !outer.CancelledCaught() || inner.CancelledCaught() {
		t.Errorf("outer.Run = %v, outer caught %v, inner caught %v", err, outer.CancelledCaught(), inner.CancelledCaught())
	}
	if again == nil {
		t.Error("second checkpoint in a cancelled scope succeeded")
	}
}

func TestCancelShieldKeepsOwnDeadlineAndDropsParentDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		var s trio.CancelScope
		s.SetShield(true)
		s.SetDeadline(time.Now().Add(5 * time.Second))
		start := time.Now()
		s.Run(parent, func(ctx context.Context) error {
			if d, _ := ctx.Deadline(); !d.Equal(start.Add(5 * time.Second)) {
				t.Errorf("shielded ctx.Deadline() = %v, want its own", d)
			}
			return trio.SleepForever(ctx)
		})
		if time.Since(start) != 5*time.Second || !s.CancelledCaught() {
			t.Errorf("shielded scope ended after %v (caught %v), want its own 5s deadline", time.Since(start), s.CancelledCaught())
		}

		var u trio.CancelScope
		u.SetDeadline(time.Now().Add(time.Hour))
		p2, cancel2 := context.WithTimeout(context.Background(), time.Second)
		defer cancel2()
		u.Run(p2, func(ctx context.Context) error {
			if d, _ := ctx.Deadline(); !d.Equal(time.Now().Add(time.Second)) {
				t.Errorf("ctx.Deadline() = %v, want the parent's earlier one", d)
			}
			return nil
		})
	})
}

func TestCancelUnshieldWhileParentCancelled(t *testing.T) {
	var outer, inner trio.CancelScope
	inner.SetShield(true)
	outer.Run(context.Background(), func(ctx context.Context) error {
		return inner.Run(ctx, func(ctx context.Context) error {
			outer.Cancel()
			if ctx.Err() != nil {
				t.Fatal("shield let the outer cancellation in")
			}
			inner.SetShield(false)
			if ctx.Err() == nil {
				t.Fatal("unshielding did not expose the outer cancellation")
			}
			return trio.Checkpoint(ctx)
		})
	})
	if !outer.CancelledCaught() || inner.CancelledCaught() {
		t.Errorf("outer caught %v, inner caught %v; want the outer to own it", outer.CancelledCaught(), inner.CancelledCaught())
	}
}

func TestCancelFromForeignContextAndGoroutine(t *testing.T) {
	parent, cancel := context.WithCancelCause(context.Background())
	var s trio.CancelScope
	done := make(chan error)
	go func() {
		done <- s.Run(parent, trio.SleepForever)
	}()
	cancel(errors.New("shutting down"))
	err := <-done
	var ce *trio.CancelledError
	if !errors.As(err, &ce) || ce.Scope != nil || !strings.Contains(ce.Error(), "shutting down") {
		t.Errorf("got %v, want a foreign cancellation naming its cause", err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("%v does not match context.Canceled", err)
	}

	// Cancel from another goroutine while Run blocks.
	var s2 trio.CancelScope
	running := make(chan struct{})
	go func() {
		<-running
		s2.Cancel()
	}()
	err = s2.Run(context.Background(), func(ctx context.Context) error {
		close(running)
		return trio.SleepForever(ctx)
	})
	if err != nil || !s2.CancelledCaught() {
		t.Errorf("Run = %v, caught %v", err, s2.CancelledCaught())
	}
}

// A context.DeadlineExceeded from a timeout the code set itself is not the
// scope's cancellation and must not be swallowed.
func TestCancelForeignDeadlineNotAbsorbed(t *testing.T) {
	var s trio.CancelScope
	err := s.Run(context.Background(), func(ctx context.Context) error {
		s.Cancel()
		return context.DeadlineExceeded
	})
	if err != context.DeadlineExceeded || s.CancelledCaught() {
		t.Errorf("Run = %v, caught %v; want the foreign DeadlineExceeded kept", err, s.CancelledCaught())
	}
}

func TestCancelScopeRunTwicePanics(t *testing.T) {
	var s trio.CancelScope
	s.Run(context.Background(), func(context.Context) error { return nil })
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "twice") {
			t.Errorf("recover() = %v, want a panic about running twice", r)
		}
	}()
	s.Run(context.Background(), func(context.Context) error { return nil })
}

// User code deriving contexts from a scope's ctx costs no goroutine: the
// scope ctx exposes a standard cancelCtx (and AfterFunc), so context does
// not start a watcher per child; nor do scopes nested in derived contexts.
func TestCancelDerivedContextsCostNoGoroutine(t *testing.T) {
	var outer trio.CancelScope
	outer.Run(context.Background(), func(ctx context.Context) error {
		before := runtime.NumGoroutine()
		var stops []func() bool
		for range 100 {
			c, cancel := context.WithCancel(ctx)
			defer cancel()
			c, cancel = context.WithTimeout(c, time.Hour)
			defer cancel()
			stops = append(stops, context.AfterFunc(c, func() {}))
		}
		var nest func(ctx context.Context, depth int) error
		nest = func(ctx context.Context, depth int) error {
			if depth == 100 {
				// Goroutines of other tests may still be exiting: a watcher
				// per context would show as hundreds.
				if n := runtime.NumGoroutine() - before; n > 10 {
					t.Errorf("100 derived contexts and 100 nested scopes cost %d goroutines", n)
				}
				return nil
			}
			c, cancel := context.WithCancel(ctx)
			defer cancel()
			var s trio.CancelScope
			return s.Run(c, func(ctx context.Context) error { return nest(ctx, depth+1) })
		}
		nest(ctx, 0)
		for _, stop := range stops {
			stop()
		}
		return nil
	})
}

func TestMoveOnAndFailAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		moved, err := trio.MoveOnAfter(context.Background(), time.Second, trio.SleepForever)
		if !moved || err != nil {
			t.Errorf("MoveOnAfter = %v, %v; want true, nil", moved, err)
		}
		moved, err = trio.MoveOnAfter(context.Background(), time.Second, func(context.Context) error { return errBoom })
		if moved || err != errBoom {
			t.Errorf("MoveOnAfter = %v, %v; want false, boom", moved, err)
		}
		if err := trio.FailAfter(context.Background(), time.Second, trio.SleepForever); err != trio.ErrTooSlow {
			t.Errorf("FailAfter = %v, want ErrTooSlow", err)
		}
		if err := trio.FailAt(context.Background(), time.Now().Add(time.Second), func(ctx context.Context) error {
			return trio.Sleep(ctx, time.Second/2)
		}); err != nil {
			t.Errorf("FailAt = %v, want nil", err)
		}
	})
}

func TestCheckpointAndSleep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		if err := trio.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		trio.Sleep(ctx, 3*time.Second)
		trio.SleepUntil(ctx, start.Add(5*time.Second))
		if got := time.Since(start); got != 5*time.Second {
			t.Errorf("slept %v, want 5s", got)
		}
		c, cancel := context.WithCancel(ctx)
		cancel()
		for _, err := range []error{trio.Checkpoint(c), trio.Sleep(c, time.Hour), trio.Sleep(c, 0), trio.SleepForever(c)} {
			if !errors.Is(err, trio.ErrCancelled) || !errors.Is(err, context.Canceled) {
				t.Errorf("got %v, want a cancellation", err)
			}
		}
	})
}

// The zero time.Time given to MoveOnAt or FailAt is a deadline that has
// passed, as for context.WithDeadline: fn runs with its ctx already done
// (a deadline computed from an unset field must not silently disable the
// timeout). SetDeadline, by contrast, takes the zero Time to mean none.
func TestMoveOnAtAndFailAtZeroDeadlineHasPassed(t *testing.T) {
	synctest.Test(t, testZeroDeadline)
}

func testZeroDeadline(t *testing.T) {
	// A watchdog, so that a regression fails instead of hanging.
	bg, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	var sawDeadline bool
	moved, err := trio.MoveOnAt(bg, time.Time{}, func(ctx context.Context) error {
		_, sawDeadline = ctx.Deadline()
		return trio.SleepForever(ctx)
	})
	if !moved || err != nil || !sawDeadline {
		t.Errorf("MoveOnAt(zero) = %v, %v (ctx has a deadline: %v); want true, nil, true", moved, err, sawDeadline)
	}
	if err := trio.FailAt(bg, time.Time{}, trio.SleepForever); err != trio.ErrTooSlow {
		t.Errorf("FailAt(zero) = %v, want ErrTooSlow", err)
	}
	var ctxErr error
	moved, err = trio.MoveOnAfter(context.Background(), -time.Second, func(ctx context.Context) error {
		ctxErr = ctx.Err()
		return nil
	})
	if moved || err != nil || ctxErr != context.DeadlineExceeded {
		t.Errorf("MoveOnAfter(-1s) = %v, %v with ctx.Err() = %v; want false, nil, DeadlineExceeded (fn runs, cancelled, and returned nil)", moved, err, ctxErr)
	}

	var s trio.CancelScope
	s.SetDeadline(time.Now().Add(-time.Second))
	s.SetDeadline(time.Time{}) // removes it
	err = s.Run(context.Background(), func(ctx context.Context) error {
		if _, ok := ctx.Deadline(); ok {
			t.Error("ctx has a deadline after SetDeadline(zero)")
		}
		return trio.Checkpoint(ctx)
	})
	if err != nil || s.CancelCalled() {
		t.Errorf("scope with the deadline removed: Run = %v, CancelCalled %v", err, s.CancelCalled())
	}
}

// CancelWithReason's reason reaches the scope's ctx as its cause.
func TestCancelWithReason(t *testing.T) {
	var s trio.CancelScope
	err := s.Run(context.Background(), func(ctx context.Context) error {
		s.CancelWithReason("bye")
		var ce *trio.CancelledError
		if !errors.As(context.Cause(ctx), &ce) || ce.Reason != "bye" || !strings.Contains(ce.Error(), "bye") {
			t.Errorf("cause: got %v, want a *trio.CancelledError with reason bye", context.Cause(ctx))
		}
		return trio.Checkpoint(ctx)
	})
	if err != nil || !s.CancelledCaught() {
		t.Errorf("Run: got %v (caught %v), want nil, caught", err, s.CancelledCaught())
	}
}
