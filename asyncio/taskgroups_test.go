package asyncio_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

// Transcribed from CPython's test_taskgroups.py (TestTaskGroup). Python's
// `async with TaskGroup() as g:` is asyncio.OpenTaskGroup(ctx, func(ctx,
// g) error {…}); g.create_task(c) is asyncio.CreateTaskIn(g, c); an
// ExceptionGroup is a *asyncio.TaskGroupError; `finally: raise X` is a
// coroutine returning X whatever its Await returned; KeyboardInterrupt
// (CPython's "base error") is a panic.
//
// Not transcribed:
//   - test_taskgroup_20a, test_taskgroup_21a: Go has no
//     Exception/BaseException split (BaseExceptionGroup); a panic is the
//     base error, see test_taskgroup_20 and _21.
//   - test_taskgroup_task_context: Go contexts are immutable; a task
//     cannot set a value its creator then sees.
//   - test_taskgroup_already_entered, test_taskgroup_double_enter,
//     test_taskgroup_not_entered: OpenTaskGroup makes and enters its
//     group in one call.

// kinds describes the members of a *TaskGroupError: "TaskGroupError" for
// a nested one, else the error's text. nil if err is not one.
func kinds(err error) map[string]bool {
	var tge *asyncio.TaskGroupError
	if !errors.As(err, &tge) || tge != err {
		return nil
	}
	out := map[string]bool{}
	for _, e := range tge.Errs {
		if _, ok := e.(*asyncio.TaskGroupError); ok {
			out["TaskGroupError"] = true
		} else {
			out[e.Error()] = true
		}
	}
	return out
}

func isKinds(err error, want ...string) bool {
	got := kinds(err)
	w := map[string]bool{}
	for _, k := range want {
		w[k] = true
	}
	return got != nil && maps.Equal(got, w)
}

// nested returns the only member of a *TaskGroupError.
func nested(err error) error {
	if tge, ok := err.(*asyncio.TaskGroupError); ok && len(tge.Errs) == 1 {
		return tge.Errs[0]
	}
	return nil
}

// spawnIn is CreateTaskIn for tests, which report its error.
func spawnIn[T any](t *testing.T, tg *asyncio.TaskGroup, coro func(ctx context.Context) (T, error), opts ...asyncio.TaskOption) *asyncio.Task[T] {
	task, err := asyncio.CreateTaskIn(tg, coro, opts...)
	if err != nil {
		t.Errorf("CreateTaskIn: got %v, want nil", err)
	}
	return task
}

func sleepThen[T any](d time.Duration, v T, err error) func(ctx context.Context) (T, error) {
	return func(ctx context.Context) (T, error) {
		if e := asyncio.Sleep(ctx, d); e != nil {
			var zero T
			return zero, e
		}
		return v, err
	}
}

// sleepFinally sleeps d and then returns err whatever happened (a
// coroutine whose `finally:` raises err).
func sleepFinally(d time.Duration, err error) func(ctx context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		asyncio.Sleep(ctx, d)
		return 0, err
	}
}

func TestTaskGroup_test_taskgroup_01(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var t1, t2 *asyncio.Task[int]
		err := asyncio.OpenTaskGroup(ctx, func(ctx context.Context, g *asyncio.TaskGroup) error {
			t1 = spawnIn(t, g, sleepThen(100*time.Millisecond, 42, nil))
			t2 = spawnIn(t, g, sleepThen(200*time.Millisecond, 11, nil))
			return nil
		})
		v1, _ := t1.Result()
		v2, _ := t2.Result()
		if err != nil || v1 != 42 || v2 != 11 {
			t.Errorf("got err %v, results %v %v; want err == nil && v1 == 42 && v2 == 11", err, v1, v2)
		}
		return nil
	})
}

func TestTaskGroup_test_taskgroup_02(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var t1, t2 *asyncio.Task[int]
		err := asyncio.OpenTaskGroup(ctx, func(ctx context.Context, g *asyncio.TaskGroup) error {
			t1 = spawnIn(t, g, sleepThen(100*time.Millisecond, 42, nil))
			asyncio.Sleep(ctx, 150*time.Millisecond)
			t2 = spawnIn(t, g, sleepThen(200*time.Millisecond, 11, nil))
			return nil
		})
		v1, _ := t1.Result()
		v2, _ := t2.Result()
		if err != nil || v1 != 42 || v2 != 11 {
			t.Errorf("got err %v, results %v %v; want err == nil && v1 == 42 && v2 == 11", err, v1, v2)
		}
		return nil
	})
}

func TestTaskGroup_test_taskgroup_03(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var t1, t2 *asyncio.Task[int]
		err := asyncio.OpenTaskGroup(ctx, func(ctx context.Context, g *asyncio.TaskGroup) error {
			t1 = spawnIn(t, g, sleepThen(time.Second, 42, nil))
			asyncio.Sleep(ctx, 150*time.Millisecond)
			// Cancel t1 explicitly: everything goes on as expected.
			t1.Cancel("")
			t2 = spawnIn(t, g, sleepThen(200*time.Millisecond, 11, nil))
			return nil
		})
		v2, _ := t2.Result()
		if err != nil || !t1.Cancelled() || v2 != 11 {
			t.Errorf("got err %v, t1 %v, t2 %v; want err == nil && t1.Cancelled() && v2 == 11", err, t1, v2)
		}
		return nil
	})
}

func TestTaskGroup_test_taskgroup_04(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		num := 0
		t2Cancel := false
		var t2 *asyncio.Task[int]
		foo2 := func(ctx context.Context) (int, error) {
			if err := asyncio.Sleep(ctx, time.Second); err != nil {
				t2Cancel = true
				return 0, err
			}
			num++
			return 0, nil
		}
		runner := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			err := asyncio.OpenTaskGroup(ctx, func(ctx context.Context, g *asyncio.TaskGroup) error {
				spawnIn(t, g, sleepThen(100*time.Millisecond, 0, errZeroDivision))
				t2 = spawnIn(t, g, foo2)
				return nil
			})
			if err != nil {
				return 0, err
			}
			num += 10
			return 0, nil
		})
		_, err := asyncio.Await(ctx, runner)
		if !isKinds(err, errZeroDivision.Error()) || num != 0 || !t2Cancel || !t2.Cancelled() {
			t.Errorf("got err %v, num %d, t2 cancel %v, t2 %v; want isKinds(err, errZeroDivision.Error()) && num == 0 && t2Cancel && t2.Cancelled()", err, num, t2Cancel, t2)
		}
		return nil
	})
}

func TestTaskGroup_test_cancel_children_on_child_error(t *testing.T) {
	// When a child task fails, the other children are cancelled and the
	// errors are gathered into a TaskGroupError.
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		num := 0
		t2Cancel, runnerCancel := false, false
		foo2 := func(ctx context.Context) (int, error) {
			if err := asyncio.Sleep(ctx, 5*time.Second); err != nil {
				t2Cancel = true
				return 0, err
			}
			num++
			return 0, nil
		}
		runner := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			err := asyncio.OpenTaskGroup(ctx, func(ctx context.Context, g *asyncio.TaskGroup) error {
				for range 3 {
					spawnIn(t, g, sleepThen(100*time.Millisecond, 0, errZeroDivision))
				}
				spawnIn(t, g, foo2)
				if err := asyncio.Sleep(ctx, 10*time.Second); err != nil {
					runnerCancel = true
					return err
				}
				return nil
			})
			if err != nil {
				return 0, err
			}
			num += 10
			return 0, nil
		})
		_, err := asyncio.Await(ctx, runner)
		if !isKinds(err, errZeroDivision.Error()) || num != 0 || !t2Cancel || !runnerCancel {
			t.Errorf("got err %v, num %d, t2 cancel %v, runner cancel %v; want isKinds(err, errZeroDivision.Error()) && num == 0 && t2Cancel && runnerCancel", err, num, t2Cancel, runnerCancel)
		}
		return nil
	})
}

// cancelAfter runs runner as a task, cancels it after d, and returns how
// it ended.
func cancelAfter(ctx context.Context, t *testing.T, d time.Duration, runner func(ctx context.Context) (int, error)) error {
	r := asyncio.CreateTask(ctx, runner)
	asyncio.Sleep(ctx, d)
	if r.Done() {
		t.Errorf("runner done before it was cancelled: got %v; want !r.Done()", r)
	}
	r.Cancel("")
	_, err := asyncio.Await(ctx, r)
	return err
}

// countCancel sleeps d, counting a cancellation into *num.
func countCancel(num *int, d time.Duration, add int) func(ctx context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		err := asyncio.Sleep(ctx, d)
		if errors.Is(err, asyncio.ErrCancelled) {
			*num += add
		}
		return 0, err
	}
}

func TestTaskGroup_test_cancellation(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		num := 0
		err := cancelAfter(ctx, t, 100*time.Millisecond, func(ctx context.Context) (int, error) {
			return 0, asyncio.OpenTaskGroup(ctx, func(ctx context.Context, g *asyncio.TaskGroup) error {
				for range 5 {
					spawnIn(t, g, countCancel(&num, 5*time.Second, 1))
				}
				return nil
			})
		})
		if !errors.Is(err, asyncio.ErrCancelled) || num != 5 {
			t.Errorf("got err %v, num %d; want errors.Is(err, asyncio.ErrCancelled) && num == 5", err, num)
		}
		return nil
	})
}

func TestTaskGroup_test_taskgroup_07(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		num := 0
		err := cancelAfter(ctx, t, 100*time.Millisecond, func(ctx context.Context) (int, error) {
			return 0, asyncio.OpenTaskGroup(ctx, func(ctx context.Context, g *asyncio.TaskGroup) error {
				for range 5 {
					spawnIn(t, g, countCancel(&num, 5*time.Second, 1))
				}
				_, err := countCancel(&num, 10*time.Second, 10)(ctx)
				return err
			})
		})
		if !errors.Is(err, asyncio.ErrCancelled) || num != 15 {
			t.Errorf("got err %v, num %d; want errors.Is(err, asyncio.ErrCancelled) && num == 15", err, num)
		}
		return nil
	})
}

func TestTaskGroup_test_taskgroup_08(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		err := cancelAfter(ctx, t, 100*time.Millisecond, func(ctx context.Context) (int, error) {
			return 0, asyncio.OpenTaskGroup(ctx, func(ctx context.Context, g *asyncio.TaskGroup) error {
				for range 5 {
					spawnIn(t, g, sleepFinally(10*time.Second, errZeroDivision))
				}
				return asyncio.Sleep(ctx, 10*time.Second)
			})
		})
		if !isKinds(err, errZeroDivision.Error()) {
			t.Errorf("got err %v; want isKinds(err, errZeroDivision.Error())", err)
		}
		return nil
	})
}

func TestTaskGroup_test_taskgroup_09(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var t1, t2 *asyncio.Task[int]
		err := asyncio.OpenTaskGroup(ctx, func(ctx context.Context, g *asyncio.TaskGroup) error {
			t1 = spawnIn(t, g, sleepThen(time.Second, 42, nil))
			t2 = spawnIn(t, g, sleepThen(2*time.Second, 11, nil))
			asyncio.Sleep(ctx, 100*time.Millisecond)
			return errZeroDivision
		})
		if !isKinds(err, errZeroDivision.Error()) || !t1.Cancelled() || !t2.Cancelled() {
			t.Errorf("got err %v, t1 %v, t2 %v; want isKinds(err, errZeroDivision.Error()) && t1.Cancelled() && t2.Cancelled()", err, t1, t2)
		}
		return nil
	})
}

func TestTaskGroup_test_taskgroup_10(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var t1, t2 *asyncio.Task[int]
		err := asyncio.OpenTaskGroup(ctx, func(ctx context.Context, g *asyncio.TaskGroup) error {
			t1 = spawnIn(t, g, sleepThen(time.Second, 42, nil))
			t2 = spawnIn(t, g, sleepThen(2*time.Second, 11, nil))
			return errZeroDivision
		})
		if !isKinds(err, errZeroDivision.Error()) || !t1.Cancelled() || !t2.Cancelled() {
			t.Errorf("got err %v, t1 %v, t2 %v; want isKinds(err, errZeroDivision.Error()) && t1.Cancelled() && t2.Cancelled()", err, t1, t2)
		}
		return nil
	})
}

func TestTaskGroup_test_taskgroup_11(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		err := cancelAfter(ctx, t, 100*time.Millisecond, func(ctx context.Context) (int, error) {
			return 0, asyncio.OpenTaskGroup(ctx, func(ctx context.Context, _ *asyncio.TaskGroup) error {
				return asyncio.OpenTaskGroup(ctx, func(ctx context.Context, g2 *asyncio.TaskGroup) error {
					for range 5 {
						spawnIn(t, g2, sleepFinally(10*time.Second, errZeroDivision))
					}
					return asyncio.Sleep(ctx, 10*time.Second)
				})
			})
		})
		if !isKinds(err, "TaskGroupError") || !isKinds(nested(err), errZeroDivision.Error()) {
			t.Errorf("got err %v; want isKinds(err, \"TaskGroupError\") && isKinds(nested(err), errZeroDivision.Error())", err)
		}
		return nil
	})
}

func TestTaskGroup_test_taskgroup_12(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		err := cancelAfter(ctx, t, 100*time.Millisecond, func(ctx context.Context) (int, error) {
			return 0, asyncio.OpenTaskGroup(ctx, func(ctx context.Context, g1 *asyncio.TaskGroup) error {
				spawnIn(t, g1, sleepThen(10*time.Second, 0, nil))
				return asyncio.OpenTaskGroup(ctx, func(ctx context.Context, g2 *asyncio.TaskGroup) error {
					for range 5 {
						spawnIn(t, g2, sleepFinally(10*time.Second, errZeroDivision))
					}
					return asyncio.Sleep(ctx, 10*time.Second)
				})
			})
		})
		if !isKinds(err, "TaskGroupError") || !isKinds(nested(err), errZeroDivision.Error()) {
			t.Errorf("got err %v; want isKinds(err, \"TaskGroupError\") && isKinds(nested(err), errZeroDivision.Error())", err)
		}
		return nil
	})
}

var errValue = errors.New("ValueError")

func TestTaskGroup_test_taskgroup_13(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		r := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			return 0, asyncio.OpenTaskGroup(ctx, func(ctx context.Context, g1 *asyncio.TaskGroup) error {
				spawnIn(t, g1, sleepThen(100*time.Millisecond, 0, errValue))
				return asyncio.OpenTaskGroup(ctx, func(ctx context.Context, g2 *asyncio.TaskGroup) error {
					spawnIn(t, g2, sleepThen(10*time.Second, 0, errValue))
					return nil
				})
			})
		})
		if _, err := asyncio.Await(ctx, r); !isKinds(err, errValue.Error()) {
			t.Errorf("got err %v; want isKinds(err, errValue.Error())", err)
		}
		return nil
	})
}

func TestTaskGroup_test_taskgroup_14(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		r := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			return 0, asyncio.OpenTaskGroup(ctx, func(ctx context.Context, g1 *asyncio.TaskGroup) error {
				spawnIn(t, g1, sleepThen(10*time.Second, 0, errValue))
				return asyncio.OpenTaskGroup(ctx, func(ctx context.Context, g2 *asyncio.TaskGroup) error {
					spawnIn(t, g2, sleepThen(100*time.Millisecond, 0, errValue))
					return nil
				})
			})
		})
		if _, err := asyncio.Await(ctx, r); !isKinds(err, "TaskGroupError") || !isKinds(nested(err), errValue.Error()) {
			t.Errorf("got err %v; want isKinds(err, \"TaskGroupError\") && isKinds(nested(err), errValue.Error())", err)
		}
		return nil
	})
}

// catchThenSleep sleeps 10 s; if cancelled, sleeps 0.5 s more and
// returns the cancellation.
func catchThenSleep(ctx context.Context) error {
	err := asyncio.Sleep(ctx, 10*time.Second)
	if errors.Is(err, asyncio.ErrCancelled) {
		asyncio.Sleep(ctx, 500*time.Millisecond)
	}
	return err
}

func TestTaskGroup_test_taskgroup_15(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		err := cancelAfter(ctx, t, 100*time.Millisecond, func(ctx context.Context) (int, error) {
			return 0, asyncio.OpenTaskGroup(ctx, func(ctx context.Context, g1 *asyncio.TaskGroup) error {
				spawnIn(t, g1, sleepThen(300*time.Millisecond, 0, errZeroDivision))
				return catchThenSleep(ctx)
			})
		})
		if !isKinds(err, errZeroDivision.Error()) {
			t.Errorf("got err %v; want isKinds(err, errZeroDivision.Error())", err)
		}
		return nil
	})
}

func TestTaskGroup_test_taskgroup_16(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		nestedRunner := func(ctx context.Context) (int, error) {
			return 0, asyncio.OpenTaskGroup(ctx, func(ctx context.Context, g1 *asyncio.TaskGroup) error {
				spawnIn(t, g1, sleepThen(300*time.Millisecond, 0, errZeroDivision))
				return catchThenSleep(ctx)
			})
		}
		err := cancelAfter(ctx, t, 100*time.Millisecond, func(ctx context.Context) (int, error) {
			return asyncio.Await(ctx, asyncio.CreateTask(ctx, nestedRunner))
		})
		if !isKinds(err, errZeroDivision.Error()) {
			t.Errorf("got err %v; want isKinds(err, errZeroDivision.Error())", err)
		}
		return nil
	})
}

func TestTaskGroup_test_taskgroup_17(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		num := 0
		err := cancelAfter(ctx, t, 100*time.Millisecond, func(ctx context.Context) (int, error) {
			return 0, asyncio.OpenTaskGroup(ctx, func(ctx context.Context, _ *asyncio.TaskGroup) error {
				_, err := countCancel(&num, 10*time.Second, 10)(ctx)
				return err
			})
		})
		if !errors.Is(err, asyncio.ErrCancelled) || num != 10 {
			t.Errorf("got err %v, num %d; want errors.Is(err, asyncio.ErrCancelled) && num == 10", err, num)
		}
		return nil
	})
}

func TestTaskGroup_test_taskgroup_18(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		num := 0
		err := cancelAfter(ctx, t, 100*time.Millisecond, func(ctx context.Context) (int, error) {
			return 0, asyncio.OpenTaskGroup(ctx, func(ctx context.Context, _ *asyncio.TaskGroup) error {
				if _, err := countCancel(&num, 10*time.Second, 10)(ctx); err != nil {
					// Not a good idea, but a case to support.
					return errMy
				}
				return nil
			})
		})
		if !isKinds(err, errMy.Error()) || num != 10 {
			t.Errorf("got err %v, num %d; want isKinds(err, errMy.Error()) && num == 10", err, num)
		}
		return nil
	})
}

func TestTaskGroup_test_taskgroup_19(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		r := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			return 0, asyncio.OpenTaskGroup(ctx, func(ctx context.Context, g *asyncio.TaskGroup) error {
				spawnIn(t, g, sleepThen(100*time.Millisecond, 0, errZeroDivision))
				_, err := sleepFinally(10*time.Second, errMy)(ctx)
				return err
			})
		})
		if _, err := asyncio.Await(ctx, r); !isKinds(err, errMy.Error(), errZeroDivision.Error()) {
			t.Errorf("got err %v; want isKinds(err, errMy.Error(), errZeroDivision.Error())", err)
		}
		return nil
	})
}

func TestTaskGroup_test_taskgroup_20(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		runner := func(ctx context.Context) error {
			return asyncio.OpenTaskGroup(ctx, func(ctx context.Context, g *asyncio.TaskGroup) error {
				spawnIn(t, g, sleepThen(100*time.Millisecond, 0, errZeroDivision))
				asyncio.Sleep(ctx, 10*time.Second)
				panic("KeyboardInterrupt") // in `finally`
			})
		}
		v := panicValue(t, "runner", func() { runner(ctx) })
		if pe, ok := v.(*trio.PanicError); !ok || pe.Value != "KeyboardInterrupt" {
			t.Errorf("runner: got a panic of %T %v, want a *trio.PanicError of \"KeyboardInterrupt\"", v, v)
		}
		return nil
	})
}

// CPython disables _test_taskgroup_21 (its loop cannot carry a
// KeyboardInterrupt out of a task); in Go a task's panic is its error,
// and the group panics with it once its tasks have ended.
func TestTaskGroup__test_taskgroup_21(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		runner := func(ctx context.Context) error {
			return asyncio.OpenTaskGroup(ctx, func(ctx context.Context, g *asyncio.TaskGroup) error {
				spawnIn(t, g, func(ctx context.Context) (int, error) {
					asyncio.Sleep(ctx, 100*time.Millisecond)
					panic("KeyboardInterrupt")
				})
				_, err := sleepFinally(10*time.Second, errors.New("TypeError"))(ctx)
				return err
			})
		}
		v := panicValue(t, "runner", func() { runner(ctx) })
		if pe, ok := v.(*trio.PanicError); !ok || pe.Value != "KeyboardInterrupt" {
			t.Errorf("runner: got a panic of %T %v, want a *trio.PanicError of \"KeyboardInterrupt\"", v, v)
		}
		return nil
	})
}

func TestTaskGroup_test_taskgroup_22(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		err := cancelAfter(ctx, t, 50*time.Millisecond, func(ctx context.Context) (int, error) {
			return 0, asyncio.OpenTaskGroup(ctx, func(ctx context.Context, g *asyncio.TaskGroup) error {
				spawnIn(t, g, sleepThen(time.Second, 42, nil))
				spawnIn(t, g, sleepThen(2*time.Second, 11, nil))
				return nil
			})
		})
		if !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("err: got %v, want an error matching asyncio.ErrCancelled", err)
		}
		return nil
	})
}

func TestTaskGroup_test_taskgroup_23(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		err := asyncio.OpenTaskGroup(ctx, func(ctx context.Context, g *asyncio.TaskGroup) error {
			for count := range 10 {
				asyncio.Sleep(ctx, 100*time.Millisecond)
				spawnIn(t, g, sleepThen(300*time.Millisecond, 0, nil))
				if count == 5 && g.Len() >= 5 {
					t.Errorf("tasks at count 5: got %d, want fewer than 5", g.Len())
				}
			}
			asyncio.Sleep(ctx, 1350*time.Millisecond)
			if g.Len() != 0 {
				t.Errorf("got %d tasks left; want g.Len() == 0", g.Len())
			}
			return nil
		})
		if err != nil {
			t.Errorf("asyncio.OpenTaskGroup: got %v, want nil", err)
		}
		return nil
	})
}

func TestTaskGroup_test_taskgroup_24(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		err := asyncio.OpenTaskGroup(ctx, func(ctx context.Context, g *asyncio.TaskGroup) error {
			spawnIn(t, g, func(ctx context.Context) (int, error) { // root(g)
				asyncio.Sleep(ctx, 100*time.Millisecond)
				spawnIn(t, g, sleepThen(100*time.Millisecond, 0, nil))
				spawnIn(t, g, sleepThen(200*time.Millisecond, 0, nil))
				return 0, nil
			})
			return nil
		})
		if err != nil {
			t.Errorf("asyncio.OpenTaskGroup: got %v, want nil", err)
		}
		return nil
	})
}

func TestTaskGroup_test_taskgroup_25(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		nhydras := 0
		var hydra func(g *asyncio.TaskGroup) func(ctx context.Context) (int, error)
		hydra = func(g *asyncio.TaskGroup) func(ctx context.Context) (int, error) {
			return func(ctx context.Context) (int, error) {
				nhydras++
				if err := asyncio.Sleep(ctx, 10*time.Millisecond); err != nil {
					return 0, err
				}
				for range 2 {
					if _, err := asyncio.CreateTaskIn(g, hydra(g)); err != nil {
						return 0, err
					}
				}
				return 0, nil
			}
		}
		hercules := func(ctx context.Context) (int, error) {
			for nhydras < 10 {
				if err := asyncio.Sleep(ctx, 15*time.Millisecond); err != nil {
					return 0, err
				}
			}
			return 0, errZeroDivision
		}
		err := asyncio.OpenTaskGroup(ctx, func(ctx context.Context, g *asyncio.TaskGroup) error {
			spawnIn(t, g, hydra(g))
			spawnIn(t, g, hercules)
			return nil
		})
		if !isKinds(err, errZeroDivision.Error()) || nhydras < 10 {
			t.Errorf("got err %v, nhydras %d; want isKinds(err, errZeroDivision.Error()) && nhydras >= 10", err, nhydras)
		}
		return nil
	})
}

func TestTaskGroup_test_taskgroup_task_name(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		asyncio.OpenTaskGroup(ctx, func(ctx context.Context, g *asyncio.TaskGroup) error {
			task := spawnIn(t, g, sleepThen(0, 0, nil), asyncio.WithName("yolo"))
			if task.Name() != "yolo" {
				t.Errorf("name: got %q, want %q", task.Name(), "yolo")
			}
			return nil
		})
		return nil
	})
}

func TestTaskGroup_test_taskgroup_no_create_task_after_failure(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		coro1 := sleepThen(time.Millisecond, 0, errZeroDivision)
		err := asyncio.OpenTaskGroup(ctx, func(ctx context.Context, g *asyncio.TaskGroup) error {
			spawnIn(t, g, coro1)
			spawnIn(t, g, func(ctx context.Context) (int, error) { // coro2(g)
				err := asyncio.Sleep(ctx, time.Second)
				if errors.Is(err, asyncio.ErrCancelled) {
					if _, e := asyncio.CreateTaskIn(g, coro1); !errors.Is(e, asyncio.ErrTaskGroupClosed) ||
						!strings.Contains(e.Error(), "shutting down") {
						t.Errorf("CreateTaskIn while shutting down: got %v; want errors.Is(e, asyncio.ErrTaskGroupClosed) && strings.Contains(e.Error(), \"shutting down\")", e)
					}
				}
				return 0, err
			})
			return nil
		})
		if !isKinds(err, errZeroDivision.Error()) {
			t.Errorf("got err %v; want isKinds(err, errZeroDivision.Error())", err)
		}
		return nil
	})
}

func TestTaskGroup_test_taskgroup_context_manager_exit_raises(t *testing.T) {
	// https://github.com/python/cpython/issues/95289
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		errCustom := errors.New("CustomException")
		main := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			task := asyncio.CurrentTask(ctx)
			err := asyncio.OpenTaskGroup(ctx, func(ctx context.Context, tg *asyncio.TaskGroup) error {
				// async with database(): … finally: raise CustomException
				spawnIn(t, tg, func(context.Context) (int, error) { return 0, errCustom })
				asyncio.Sleep(ctx, time.Second)
				return errCustom
			})
			var tge *asyncio.TaskGroupError
			if !errors.As(err, &tge) || len(tge.Errs) != 2 || tge.Errs[0] != errCustom || tge.Errs[1] != errCustom {
				t.Errorf("got err %v; want errors.As(err, &tge) && len(tge.Errs) == 2 && tge.Errs[0] == errCustom && tge.Errs[1] == errCustom", err)
			}
			if n := task.Cancelling(); n != 0 {
				t.Errorf("cancelling: got %d, want %d", n, 0)
			}
			return 0, nil
		})
		asyncio.Await(ctx, main)
		return nil
	})
}

func TestTaskGroup_test_taskgroup_finished(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var tg *asyncio.TaskGroup
		asyncio.OpenTaskGroup(ctx, func(ctx context.Context, g *asyncio.TaskGroup) error {
			tg = g
			return nil
		})
		ran := false
		_, err := asyncio.CreateTaskIn(tg, func(context.Context) (int, error) { ran = true; return 0, nil })
		if !errors.Is(err, asyncio.ErrTaskGroupClosed) || !strings.Contains(err.Error(), "is finished") {
			t.Errorf("got err %v; want errors.Is(err, asyncio.ErrTaskGroupClosed) && strings.Contains(err.Error(), \"is finished\")", err)
		}
		runBriefly(ctx)
		if ran {
			t.Errorf("the coroutine ran: ran got true, want false")
		}
		return nil
	})
}

func TestTaskGroup_test_taskgroup_without_parent_task(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		ran := false
		body := func(context.Context, *asyncio.TaskGroup) error { ran = true; return nil }
		var err error
		onLoop(ctx, loop, func(ctx context.Context) { err = asyncio.OpenTaskGroup(ctx, body) })
		if !errors.Is(err, asyncio.ErrAwaitOutsideTask) || ran {
			t.Errorf("got err %v, ran %v; want errors.Is(err, asyncio.ErrAwaitOutsideTask) && !ran", err, ran)
		}
	})
}

// Go's own: a panic in the body cancels the tasks, waits for them, and
// goes on up once they have ended; errors.Is and errors.As see every
// member of a TaskGroupError.
func TestTaskGroup_BodyPanic(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var child *asyncio.Task[int]
		childEnded := false
		v := panicValue(t, "OpenTaskGroup whose body panics", func() {
			asyncio.OpenTaskGroup(ctx, func(ctx context.Context, g *asyncio.TaskGroup) error {
				child = spawnIn(t, g, func(ctx context.Context) (int, error) {
					defer func() { childEnded = true }()
					return 0, asyncio.Sleep(ctx, time.Hour)
				})
				asyncio.Sleep(ctx, 0)
				panic("boom")
			})
		})
		if pe, ok := v.(*trio.PanicError); !ok || pe.Value != "boom" || !childEnded || !child.Cancelled() {
			t.Errorf("got panic %T %v, child ended %v, child %v; want a *trio.PanicError of \"boom\" after the child ended cancelled", v, v, childEnded, child)
		}
		return nil
	})
}

func TestTaskGroup_ErrorsIsAs(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		err := asyncio.OpenTaskGroup(ctx, func(ctx context.Context, g *asyncio.TaskGroup) error {
			spawnIn(t, g, sleepThen(time.Millisecond, 0, &asyncio.TimeoutError{Msg: "child"}))
			return asyncio.Sleep(ctx, time.Hour)
		})
		var te *asyncio.TimeoutError
		if !errors.Is(err, asyncio.ErrTimeout) || !errors.As(err, &te) || te.Msg != "child" || errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("got err %v; want errors.Is(err, asyncio.ErrTimeout) && errors.As(err, &te) && te.Msg == \"child\" && !errors.Is(err, asyncio.ErrCancelled)", err)
		}
		if !strings.HasPrefix(err.Error(), "asyncio: unhandled errors in a TaskGroup (1 sub-error)") {
			t.Errorf("message: got %q, want it to begin with %q", err.Error(), "asyncio: unhandled errors in a TaskGroup (1 sub-error)")
		}
		if task := asyncio.CurrentTask(ctx); task.Cancelling() != 0 {
			t.Errorf("the group's cancellation of its parent was not taken back: got %v; want task.Cancelling() == 0", task)
		}
		return nil
	})
}
