package asyncio_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// Transcribed from CPython's test_timeouts.py (TimeoutTests). Python's
// `async with asyncio.timeout(d) as cm:` is asyncio.Timeout(ctx, d,
// func(ctx, cm) error {…}); timeout(None) is TimeoutAt with the zero time.
//
// Not transcribed:
//   - test_timeout_exception_cause: the TimeoutError does not unwrap to
//     the CancelledError it replaces: if it did, errors.Is(err,
//     ErrCancelled) would hold and a task returning it would end
//     cancelled rather than failed.
//   - test_timeout_already_entered, test_timeout_double_enter,
//     test_timeout_not_entered: Timeout creates and enters its scope in
//     one call; a scope cannot be entered twice or used unentered.

func TestTimeout_test_timeout_basic(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var cm *asyncio.TimeoutScope
		err := asyncio.Timeout(ctx, 10*time.Millisecond, func(ctx context.Context, tm *asyncio.TimeoutScope) error {
			cm = tm
			return asyncio.Sleep(ctx, 10*time.Second)
		})
		var te *asyncio.TimeoutError
		if !errors.As(err, &te) || errors.Is(err, asyncio.ErrCancelled) || !cm.Expired() {
			t.Errorf("got err %v, expired %v; want errors.As(err, &te) && !errors.Is(err, asyncio.ErrCancelled) && cm.Expired()", err, cm.Expired())
		}
		return nil
	})
}

func TestTimeout_test_timeout_at_basic(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var cm *asyncio.TimeoutScope
		deadline := loop.Time().Add(10 * time.Millisecond)
		err := asyncio.TimeoutAt(ctx, deadline, func(ctx context.Context, tm *asyncio.TimeoutScope) error {
			cm = tm
			return asyncio.Sleep(ctx, 10*time.Second)
		})
		if !errors.Is(err, asyncio.ErrTimeout) || !cm.Expired() || !cm.When().Equal(deadline) {
			t.Errorf("got err %v, expired %v, when %v; want errors.Is(err, asyncio.ErrTimeout) && cm.Expired() && cm.When().Equal(deadline)", err, cm.Expired(), cm.When())
		}
		return nil
	})
}

func TestTimeout_test_nested_timeouts(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		cancelled := false
		var cm1, cm2 *asyncio.TimeoutScope
		deadline := loop.Time().Add(10 * time.Millisecond)
		err := asyncio.TimeoutAt(ctx, deadline, func(ctx context.Context, tm *asyncio.TimeoutScope) error {
			cm1 = tm
			// Only the topmost Timeout returns a TimeoutError.
			err := asyncio.TimeoutAt(ctx, deadline, func(ctx context.Context, tm *asyncio.TimeoutScope) error {
				cm2 = tm
				return asyncio.Sleep(ctx, 10*time.Second)
			})
			if errors.Is(err, asyncio.ErrCancelled) {
				cancelled = true
			}
			return err
		})
		if !errors.Is(err, asyncio.ErrTimeout) || !cancelled || !cm1.Expired() || !cm2.Expired() {
			t.Errorf("got err %v, cancelled %v, expired %v %v; want errors.Is(err, asyncio.ErrTimeout) && cancelled && cm1.Expired() && cm2.Expired()", err, cancelled, cm1.Expired(), cm2.Expired())
		}
		return nil
	})
}

func TestTimeout_test_waiter_cancelled(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		cancelled := false
		err := asyncio.Timeout(ctx, 10*time.Millisecond, func(ctx context.Context, _ *asyncio.TimeoutScope) error {
			err := asyncio.Sleep(ctx, 10*time.Second)
			cancelled = errors.Is(err, asyncio.ErrCancelled)
			return err
		})
		if !errors.Is(err, asyncio.ErrTimeout) || !cancelled {
			t.Errorf("got err %v, cancelled %v; want errors.Is(err, asyncio.ErrTimeout) && cancelled", err, cancelled)
		}
		return nil
	})
}

func TestTimeout_test_timeout_not_called(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var cm *asyncio.TimeoutScope
		err := asyncio.Timeout(ctx, 10*time.Second, func(ctx context.Context, tm *asyncio.TimeoutScope) error {
			cm = tm
			return asyncio.Sleep(ctx, 10*time.Millisecond)
		})
		t1 := loop.Time()
		if err != nil || cm.Expired() || !cm.When().After(t1) {
			t.Errorf("got err %v, expired %v, when %v; want err == nil && !cm.Expired() && cm.When().After(t1)", err, cm.Expired(), cm.When())
		}
		return nil
	})
}

// test_timeout_disabled (timeout(None)) and test_timeout_at_disabled
// (timeout_at(None)) are both TimeoutAt with the zero time in Go.
func TestTimeout_test_timeout_at_disabled(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var cm *asyncio.TimeoutScope
		err := asyncio.TimeoutAt(ctx, time.Time{}, func(ctx context.Context, tm *asyncio.TimeoutScope) error {
			cm = tm
			return asyncio.Sleep(ctx, 10*time.Millisecond)
		})
		if err != nil || cm.Expired() || !cm.When().IsZero() {
			t.Errorf("got err %v, expired %v, when %v; want err == nil && !cm.Expired() && cm.When().IsZero()", err, cm.Expired(), cm.When())
		}
		return nil
	})
}

func TestTimeout_test_timeout_zero(t *testing.T) {
	for _, tc := range []struct {
		name  string
		d     time.Duration
		sleep time.Duration
	}{
		{"test_timeout_zero", 0, 10 * time.Second},
		{"test_timeout_zero_sleep_zero", 0, 0},
		{"test_timeout_in_the_past_sleep_zero", -11 * time.Second, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
				var cm *asyncio.TimeoutScope
				t0 := loop.Time()
				err := asyncio.Timeout(ctx, tc.d, func(ctx context.Context, tm *asyncio.TimeoutScope) error {
					cm = tm
					return asyncio.Sleep(ctx, tc.sleep)
				})
				t1 := loop.Time()
				if !errors.Is(err, asyncio.ErrTimeout) || !cm.Expired() {
					t.Errorf("got err %v, expired %v; want errors.Is(err, asyncio.ErrTimeout) && cm.Expired()", err, cm.Expired())
				}
				if tc.d == 0 && (cm.When().Before(t0) || cm.When().After(t1)) {
					t.Errorf("When: got %v, want it in [%v, %v]", cm.When(), t0, t1)
				}
				if tc.d < 0 && cm.When().After(t0) {
					t.Errorf("When: got %v, want it no later than %v", cm.When(), t0)
				}
				return nil
			})
		})
	}
}

func TestTimeout_test_foreign_exception_passed(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		errKey := errors.New("KeyError")
		var cm *asyncio.TimeoutScope
		err := asyncio.Timeout(ctx, 10*time.Millisecond, func(ctx context.Context, tm *asyncio.TimeoutScope) error {
			cm = tm
			return errKey
		})
		if err != errKey || cm.Expired() {
			t.Errorf("got err %v, expired %v; want err == errKey && !cm.Expired()", err, cm.Expired())
		}
		return nil
	})
}

func TestTimeout_test_foreign_exception_on_timeout(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		crash := func(ctx context.Context) error {
			asyncio.Sleep(ctx, time.Second)
			return errZeroDivision // raised in `finally`
		}
		err := asyncio.Timeout(ctx, 10*time.Millisecond, func(ctx context.Context, _ *asyncio.TimeoutScope) error {
			return crash(ctx)
		})
		if err != errZeroDivision {
			t.Errorf("err: got %v, want %v", err, errZeroDivision)
		}
		return nil
	})
}

func TestTimeout_test_foreign_cancel_doesnt_timeout_if_not_expired(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var cm *asyncio.TimeoutScope
		err := asyncio.Timeout(ctx, 10*time.Second, func(ctx context.Context, tm *asyncio.TimeoutScope) error {
			cm = tm
			asyncio.CurrentTask(ctx).Cancel("")
			return asyncio.Sleep(ctx, 10*time.Second)
		})
		if !errors.Is(err, asyncio.ErrCancelled) || cm.Expired() {
			t.Errorf("got err %v, expired %v; want errors.Is(err, asyncio.ErrCancelled) && !cm.Expired()", err, cm.Expired())
		}
		return nil
	})
}

func TestTimeout_test_outer_task_is_not_cancelled(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			err := asyncio.Timeout(ctx, time.Millisecond, func(ctx context.Context, _ *asyncio.TimeoutScope) error {
				return asyncio.Sleep(ctx, 10*time.Second)
			})
			if !errors.Is(err, asyncio.ErrTimeout) {
				t.Errorf("err: got %v, want an error matching asyncio.ErrTimeout", err)
			}
			return 0, nil
		})
		asyncio.Await(ctx, task)
		if task.Cancelled() || !task.Done() {
			t.Errorf("got task %v; want !task.Cancelled() && task.Done()", task)
		}
		return nil
	})
}

func TestTimeout_test_nested_timeouts_concurrent(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		err := asyncio.Timeout(ctx, 2*time.Millisecond, func(ctx context.Context, _ *asyncio.TimeoutScope) error {
			err := asyncio.Timeout(ctx, 100*time.Millisecond, func(ctx context.Context, _ *asyncio.TimeoutScope) error {
				time.Sleep(10 * time.Millisecond) // pretend we crunch some numbers
				return asyncio.Sleep(ctx, time.Second)
			})
			// Python's assertRaises(TimeoutError) around the inner
			// block: the outer's cancellation goes through it.
			if !errors.Is(err, asyncio.ErrCancelled) {
				t.Errorf("inner: got %v, want an error matching asyncio.ErrCancelled", err)
			}
			return err
		})
		if !errors.Is(err, asyncio.ErrTimeout) {
			t.Errorf("outer: got %v, want an error matching asyncio.ErrTimeout", err)
		}
		return nil
	})
}

func TestTimeout_test_nested_timeouts_loop_busy(t *testing.T) {
	// After the inner timeout comes an expensive operation, which the
	// outer timeout stops.
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		t0 := loop.Time()
		err := asyncio.Timeout(ctx, 100*time.Millisecond, func(ctx context.Context, _ *asyncio.TimeoutScope) error { // (1)
			err := asyncio.Timeout(ctx, 10*time.Millisecond, func(ctx context.Context, _ *asyncio.TimeoutScope) error { // (2)
				time.Sleep(100 * time.Millisecond) // pretend the loop is busy for a while
				return asyncio.Sleep(ctx, time.Second)
			})
			// Python's assertRaises(TimeoutError) around (2): the
			// cancellation of (1), which expired too, goes through it.
			if !errors.Is(err, asyncio.ErrTimeout) {
				return err
			}
			// Had (2) taken the cancellation of (1) for its own, this
			// sleep would run to its end.
			return asyncio.Sleep(ctx, 10*time.Second)
		})
		t1 := loop.Time()
		if !errors.Is(err, asyncio.ErrTimeout) || t1.Sub(t0) > time.Second {
			t.Errorf("outer: got %v after %v; want errors.Is(err, asyncio.ErrTimeout) && t1.Sub(t0) <= time.Second", err, t1.Sub(t0))
		}
		return nil
	})
}

func TestTimeout_test_reschedule(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		fut := asyncio.NewFuture[*asyncio.TimeoutScope](loop)
		deadline1 := loop.Time().Add(10 * time.Second)
		deadline2 := deadline1.Add(20 * time.Second)
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			return 0, asyncio.TimeoutAt(ctx, deadline1, func(ctx context.Context, cm *asyncio.TimeoutScope) error {
				fut.SetResult(cm)
				return asyncio.Sleep(ctx, 50*time.Second)
			})
		})
		cm, _ := asyncio.Await(ctx, fut)
		if !cm.When().Equal(deadline1) {
			t.Errorf("got when %v; want cm.When().Equal(deadline1)", cm.When())
		}
		cm.Reschedule(deadline2)
		if !cm.When().Equal(deadline2) {
			t.Errorf("got when %v; want cm.When().Equal(deadline2)", cm.When())
		}
		cm.Reschedule(time.Time{})
		if !cm.When().IsZero() {
			t.Errorf("got when %v; want cm.When().IsZero()", cm.When())
		}
		task.Cancel("")
		if _, err := asyncio.Await(ctx, task); !errors.Is(err, asyncio.ErrCancelled) || cm.Expired() {
			t.Errorf("got err %v, expired %v; want errors.Is(err, asyncio.ErrCancelled) && !cm.Expired()", err, cm.Expired())
		}
		return nil
	})
}

func TestTimeout_test_repr(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		// test_repr_active
		asyncio.Timeout(ctx, 10*time.Second, func(ctx context.Context, cm *asyncio.TimeoutScope) error {
			if !regexp.MustCompile(`^<Timeout \[active\] when=.+>$`).MatchString(cm.String()) {
				t.Errorf("got repr %s; want regexp.MustCompile(`^<Timeout \\[active\\] when=.+>$`).MatchString(cm.String())", cm)
			}
			return nil
		})
		// test_repr_expired
		var cm *asyncio.TimeoutScope
		asyncio.Timeout(ctx, 10*time.Millisecond, func(ctx context.Context, tm *asyncio.TimeoutScope) error {
			cm = tm
			return asyncio.Sleep(ctx, 10*time.Second)
		})
		if s := cm.String(); s != "<Timeout [expired]>" {
			t.Errorf("repr: got %s, want %s", s, "<Timeout [expired]>")
		}
		// test_repr_finished
		asyncio.Timeout(ctx, 10*time.Second, func(ctx context.Context, tm *asyncio.TimeoutScope) error {
			cm = tm
			return asyncio.Sleep(ctx, 0)
		})
		if s := cm.String(); s != "<Timeout [finished]>" {
			t.Errorf("repr: got %s, want %s", s, "<Timeout [finished]>")
		}
		// test_repr_disabled
		asyncio.TimeoutAt(ctx, time.Time{}, func(ctx context.Context, cm *asyncio.TimeoutScope) error {
			if s := cm.String(); s != "<Timeout [active] when=None>" {
				t.Errorf("repr: got %s, want %s", s, "<Timeout [active] when=None>")
			}
			return nil
		})
		return nil
	})
}

func TestTimeout_test_nested_timeout_in_finally(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		err := asyncio.Timeout(ctx, 10*time.Millisecond, func(ctx context.Context, _ *asyncio.TimeoutScope) error {
			err := asyncio.Sleep(ctx, time.Second)
			// finally:
			inner := asyncio.Timeout(ctx, 10*time.Millisecond, func(ctx context.Context, _ *asyncio.TimeoutScope) error {
				return asyncio.Sleep(ctx, 10*time.Second)
			})
			if !errors.Is(inner, asyncio.ErrTimeout) {
				t.Errorf("inner: got %v, want an error matching asyncio.ErrTimeout", inner)
			}
			return err
		})
		if !errors.Is(err, asyncio.ErrTimeout) {
			t.Errorf("outer: got %v, want an error matching asyncio.ErrTimeout", err)
		}
		return nil
	})
}

func TestTimeout_test_timeout_after_cancellation(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		asyncio.CurrentTask(ctx).Cancel("")
		if err := asyncio.Sleep(ctx, time.Second); !errors.Is(err, asyncio.ErrCancelled) { // work which will be cancelled
			t.Errorf("sleep: got %v, want an error matching asyncio.ErrCancelled", err)
		}
		// finally:
		err := asyncio.Timeout(ctx, 0, func(ctx context.Context, _ *asyncio.TimeoutScope) error {
			return asyncio.Sleep(ctx, time.Second) // some cleanup
		})
		if !errors.Is(err, asyncio.ErrTimeout) {
			t.Errorf("err: got %v, want an error matching asyncio.ErrTimeout", err)
		}
		return nil
	})
}

func TestTimeout_test_cancel_in_timeout_after_cancellation(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		asyncio.CurrentTask(ctx).Cancel("")
		if err := asyncio.Sleep(ctx, time.Second); !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("sleep: got %v, want an error matching asyncio.ErrCancelled", err)
		}
		// finally:
		err := asyncio.Timeout(ctx, time.Second, func(ctx context.Context, _ *asyncio.TimeoutScope) error {
			asyncio.CurrentTask(ctx).Cancel("")
			return asyncio.Sleep(ctx, 2*time.Second) // some cleanup
		})
		if !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("err: got %v, want an error matching asyncio.ErrCancelled", err)
		}
		return nil
	})
}

func TestTimeout_test_timeout_finished(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var cm *asyncio.TimeoutScope
		asyncio.Timeout(ctx, 10*time.Millisecond, func(ctx context.Context, tm *asyncio.TimeoutScope) error {
			cm = tm
			return nil
		})
		if p := mustPanic(t, func() { cm.Reschedule(loop.Time().Add(20 * time.Millisecond)) }); !strings.Contains(p, "finished") {
			t.Errorf("Reschedule: got panic %q, want it to contain %q", p, "finished")
		}
		return nil
	})
}

func TestTimeout_test_timeout_expired(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var cm *asyncio.TimeoutScope
		err := asyncio.Timeout(ctx, 10*time.Millisecond, func(ctx context.Context, tm *asyncio.TimeoutScope) error {
			cm = tm
			return asyncio.Sleep(ctx, time.Second)
		})
		if !errors.Is(err, asyncio.ErrTimeout) {
			t.Errorf("err: got %v, want an error matching asyncio.ErrTimeout", err)
		}
		if p := mustPanic(t, func() { cm.Reschedule(loop.Time().Add(20 * time.Millisecond)) }); !strings.Contains(p, "expired") {
			t.Errorf("Reschedule: got panic %q, want it to contain %q", p, "expired")
		}
		return nil
	})
}

func TestTimeout_test_timeout_expiring(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		err := asyncio.Timeout(ctx, 10*time.Millisecond, func(ctx context.Context, cm *asyncio.TimeoutScope) error {
			if err := asyncio.Sleep(ctx, time.Second); !errors.Is(err, asyncio.ErrCancelled) {
				t.Errorf("sleep: got %v, want an error matching asyncio.ErrCancelled", err)
			}
			if p := mustPanic(t, func() { cm.Reschedule(loop.Time().Add(20 * time.Millisecond)) }); !strings.Contains(p, "expiring") {
				t.Errorf("Reschedule: got panic %q, want it to contain %q", p, "expiring")
			}
			return nil
		})
		if err != nil {
			t.Errorf("err: got %v, want nil", err)
		}
		return nil
	})
}

func TestTimeout_test_timeout_without_task(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		ran := false
		body := func(context.Context, *asyncio.TimeoutScope) error { ran = true; return nil }
		// From trio-flavored code, and from a callback.
		err1 := asyncio.Timeout(ctx, 10*time.Millisecond, body)
		var err2 error
		onLoop(ctx, loop, func(ctx context.Context) { err2 = asyncio.Timeout(ctx, 10*time.Millisecond, body) })
		if !errors.Is(err1, asyncio.ErrAwaitOutsideTask) || !errors.Is(err2, asyncio.ErrAwaitOutsideTask) || ran {
			t.Errorf("got errs %v, %v; ran %v; want errors.Is(err1, asyncio.ErrAwaitOutsideTask) && errors.Is(err2, asyncio.ErrAwaitOutsideTask) && !ran", err1, err2, ran)
		}
	})
}

// Go's own: a panic in the body goes through, and the timer is cancelled
// (the timeout never fires into the code that recovered).
func TestTimeout_PanicGoesThrough(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		v := panicValue(t, "Timeout whose body panics", func() {
			asyncio.Timeout(ctx, 10*time.Millisecond, func(ctx context.Context, _ *asyncio.TimeoutScope) error {
				panic("boom")
			})
		})
		if v != "boom" {
			t.Errorf("panic: got %v, want boom", v)
		}
		if err := asyncio.Sleep(ctx, 100*time.Millisecond); err != nil {
			t.Errorf("sleep after the panic: got %v, want nil", err)
		}
		return nil
	})
}
