package asyncio_test

// trio-asyncio's behaviours at the boundary, checked against this port.
// They come from a catalogue of what trio-asyncio does (gathered from its
// documentation and source, with stable identifiers that conformance
// tables refer to) and from trio-asyncio's own tests:
//
//   - TestTrioToAsyncio_T<n>_…: trio code awaiting asyncio code
//     (aio_as_trio), one test per outcome of the callee: completes,
//     fails, is cancelled, refuses the cancellation, …;
//   - TestAsyncioToTrio_A<n>_…: asyncio code awaiting trio code
//     (trio_as_aio), likewise;
//   - TestAppendixA_<id>_…: end-to-end scenarios with timings, run in a
//     synctest bubble where the timings are exact: A<n> trio → asyncio,
//     B<n> asyncio → trio, c<n> the loop's lifecycle and errors;
//   - TestTrioAsyncio_<test>: tests/interop/test_calls.py,
//     tests/test_trio_asyncio.py, tests/test_concurrent.py and
//     tests/test_misc.py of trio-asyncio's repository, case by case.
//
// Each test's comment states the behaviour it checks, so none of them
// needs the catalogue to be read.
//
// Python's aio_as_trio is RunAsyncio (RunFuture for a future),
// trio_as_aio / trio_as_future / run_trio_task is RunTrio (awaited or
// not), trio.Cancelled is an error matching trio.ErrCancelled,
// asyncio.CancelledError one matching asyncio.ErrCancelled, an exception
// group errors.Join. Where this project deliberately differs from
// trio-asyncio (tasks created during teardown are cancelled and awaited
// rather than abandoned; nothing hangs after a manual Stop), the test says
// so and checks the project's behaviour. Not transcribed, having no Go
// counterpart: async generators and async context managers across the
// boundary (T9–T11, A12: in Go they are plain sequences of calls),
// KeyboardInterrupt (T8: in Go, trio.Run's SIGINT cancels the root ctx,
// which is T2), loop.close()/run_forever()/new_event_loop() inside a
// block (test_close_no_stop, c6: the Loop has no such methods), and
// TaskGroup.create_task of a future (A13: a compile-time error in Go).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

// errValue (taskgroups_test.go) stands for ValueError.
var (
	errKey  = errors.New("KeyError")
	errOwie = errors.New("RuntimeError: I has an owie")
)

// ---- trio → asyncio: the outcomes of an awaited asyncio callee (T1–T8)

// T1: the callee completes normally: its value.
func TestTrioToAsyncio_T1_completes(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		if v, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) { return 4, asyncio.Sleep(ctx, ms) }); v != 4 || err != nil {
			t.Errorf("asyncio.RunAsyncio: got %v, %v; want v == 4 && err == nil", v, err)
		}
	})
}

// T1: the callee fails: its error, unchanged.
func TestTrioToAsyncio_T1_errors(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		if _, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) { return 0, errOwie }); err != errOwie {
			t.Errorf("asyncio.RunAsyncio: got %v, want %v", err, errOwie)
		}
	})
}

// T2: the trio scope is cancelled and the callee honours its
// CancelledError: trio's cancellation, caught by the cancelling scope;
// the callee saw exactly one CancelledError.
func TestTrioToAsyncio_T2_cancelled(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		var seen atomic.Int64
		var scope trio.CancelScope
		var err error
		go func() { time.Sleep(10 * ms); scope.Cancel() }()
		ret := scope.Run(ctx, func(ctx context.Context) error {
			_, err = asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
				err := asyncio.Sleep(ctx, time.Hour)
				if errors.Is(err, asyncio.ErrCancelled) {
					seen.Add(1)
				}
				return 0, err
			})
			return err
		})
		if ret != nil || !scope.CancelledCaught() || !errors.Is(err, trio.ErrCancelled) || seen.Load() != 1 {
			t.Errorf("got scope returned %v, caught %v; %v; CancelledErrors seen %d; want ret == nil && scope.CancelledCaught() && errors.Is(err, trio.ErrCancelled) && seen.Load() == 1", ret, scope.CancelledCaught(), err, seen.Load())
		}
	})
}

// T3: the callee refuses to stop (catches CancelledError, keeps working):
// the trio caller keeps waiting until the task really finishes; no second
// cancel.
func TestTrioToAsyncio_T3_refuses(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		start := time.Now()
		var cancels atomic.Int64
		moved, err := trio.MoveOnAfter(ctx, 50*ms, func(ctx context.Context) error {
			_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
				for range 10 {
					if asyncio.Sleep(ctx, 20*ms) != nil {
						cancels.Add(1)
					}
				}
				return 0, &asyncio.CancelledError{}
			})
			return err
		})
		// Cancelled at 50 ms in its third sleep, it works 7 × 20 ms more.
		if !moved || err != nil || cancels.Load() != 1 || time.Since(start) != 190*ms {
			t.Errorf("got moved on %v, %v; cancels %d; returned after %v; want moved && err == nil && cancels.Load() == 1 && time.Since(start) == 190 * ms", moved, err, cancels.Load(), time.Since(start))
		}
	})
}

// T4: the callee completes anyway after the cancel: the caller gets the
// value; the scope, still cancelled, fails the next checkpoint.
func TestTrioToAsyncio_T4_completes_anyway(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		var v string
		var next error
		moved, err := trio.MoveOnAfter(ctx, 10*ms, func(ctx context.Context) error {
			var err error
			v, err = asyncio.RunAsyncio(ctx, func(ctx context.Context) (string, error) {
				asyncio.Sleep(ctx, time.Hour)
				return "value", nil
			})
			if err != nil {
				return err
			}
			next = trio.Sleep(ctx, 0)
			return next
		})
		if v != "value" || !trio.IsCancellation(next) || !moved || err != nil {
			t.Errorf("trio.MoveOnAfter: got %q; next checkpoint %v; moved on %v, %v; want v == \"value\" && trio.IsCancellation(next) && moved && err == nil", v, next, moved, err)
		}
	})
}

// T5: the callee raises another error after the cancel: that error.
func TestTrioToAsyncio_T5_other_error_after_the_cancel(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		moved, err := trio.MoveOnAfter(ctx, 10*ms, func(ctx context.Context) error {
			_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
				asyncio.Sleep(ctx, time.Hour)
				return 0, errKey
			})
			return err
		})
		if err != errKey || moved {
			t.Errorf("trio.MoveOnAfter: got %v, moved on %v; want err == errKey && !moved", err, moved)
		}
	})
}

// T6: a spontaneous CancelledError (another asyncio caller cancelled the
// future, the task cancelled itself, a "sync" callee returned one) while
// the trio scope is not cancelled: asyncio's CancelledError, unchanged,
// not trio's; the scope's cancel_called stays false.
func TestTrioToAsyncio_T6_spontaneous_CancelledError(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		f := onLoopValue(t, ctx, func() *asyncio.Future[int] {
			f := asyncio.NewFuture[int](loop)
			loop.CallLater(10*ms, func(context.Context) { f.Cancel("by other code") })
			return f
		})
		for name, call := range map[string]func(ctx context.Context) error{
			"future": func(ctx context.Context) error { return second(asyncio.RunFuture(ctx, f)) },
			"self": func(ctx context.Context) error {
				return second(asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
					asyncio.CurrentTask(ctx).Cancel("self")
					return 0, asyncio.Sleep(ctx, 0)
				}))
			},
			"sync": func(ctx context.Context) error {
				return second(asyncio.RunAsyncio(ctx, func(context.Context) (int, error) {
					return 0, &asyncio.CancelledError{Msg: "raw"}
				}))
			},
			// The task was cancelled by a trio call it awaited, which ended
			// cancelled: asyncio's CancelledError chains that call's trio
			// cancellation, which must not reach the trio caller as its own.
			"from a trio call": func(ctx context.Context) error {
				return second(asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
					f := asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) { return 0, trio.SleepForever(ctx) })
					loop.CallLater(ms, func(context.Context) { f.Cancel("") })
					return asyncio.Await(ctx, f)
				}))
			},
		} {
			var scope trio.CancelScope
			var err error
			ret := scope.Run(ctx, func(ctx context.Context) error { err = call(ctx); return err })
			if ret != err || scope.CancelCalled() || !errors.Is(err, asyncio.ErrCancelled) ||
				errors.Is(err, trio.ErrCancelled) || trio.IsCancellation(err) {
				t.Errorf("%s: got %v (trio's: %v); scope returned %v; want ret == err && !scope.CancelCalled() && errors.Is(err, asyncio.ErrCancelled) && !errors.Is(err, trio.ErrCancelled) && !trio.IsCancellation(err)", name, err, trio.IsCancellation(err), ret)
			}
		}
	})
}

// T7: a plain future (not a task) awaited while trio cancels: the future
// is cancelled, and the caller gets trio's cancellation.
func TestTrioToAsyncio_T7_plain_future(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		f := onLoopValue(t, ctx, func() *asyncio.Future[int] { return asyncio.NewFuture[int](loop) })
		moved, err := trio.MoveOnAfter(ctx, 10*ms, func(ctx context.Context) error { return second(asyncio.RunFuture(ctx, f)) })
		if !moved || err != nil || !onLoopValue(t, ctx, f.Cancelled) {
			t.Errorf("got moved on %v, %v; future cancelled %v; want moved && err == nil && onLoopValue(t, ctx, f.Cancelled)", moved, err, onLoopValue(t, ctx, f.Cancelled))
		}
	})
}

// T8 (Go's counterpart: a deadline rather than KeyboardInterrupt) and
// "also verified": trio.fail_after around aio_as_trio(asyncio.sleep)(10)
// raises TooSlowError.
func TestTrioToAsyncio_T8_fail_after_raises_TooSlow(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		err := trio.FailAfter(ctx, 10*ms, func(ctx context.Context) error {
			return second(asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) { return 0, asyncio.Sleep(ctx, 10*time.Second) }))
		})
		if !errors.Is(err, trio.ErrTooSlow) {
			t.Errorf("trio.FailAfter: got %v, want an error matching trio.ErrTooSlow", err)
		}
	})
}

// ---- asyncio → trio: the outcomes of an awaited trio callee (A1–A13)

// A1: the trio callee returns: the future's result.
func TestAsyncioToTrio_A1_result(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		asTask(t, ctx, func(ctx context.Context) error {
			v, err := asyncio.Await(ctx, asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) { return 8, trio.Sleep(ctx, ms) }))
			if v != 8 || err != nil {
				t.Errorf("asyncio.Await: got %v, %v; want v == 8 && err == nil", v, err)
			}
			return nil
		})
	})
}

// A2: the trio callee fails: the future's exception; a failure joined
// with trio's cancellation (an exception group) loses the cancellation.
func TestAsyncioToTrio_A2_error(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		asTask(t, ctx, func(ctx context.Context) error {
			if _, err := asyncio.Await(ctx, asyncio.RunTrio(ctx, func(context.Context) (int, error) { return 0, errValue })); err != errValue {
				t.Errorf("asyncio.Await: got %v, want %v", err, errValue)
			}
			f := asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
				return 0, trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
					n.StartSoon(trio.SleepForever)
					return errValue
				})
			})
			if _, err := asyncio.Await(ctx, f); !errors.Is(err, errValue) || trio.IsCancellation(err) || f.Cancelled() {
				t.Errorf("group: got %v; want errors.Is(err, errValue) && !trio.IsCancellation(err) && !f.Cancelled()", err)
			}
			return nil
		})
	})
}

// A3: asyncio cancels the future (directly, or by cancelling the task
// awaiting it) while the callee runs: Cancel returns true without
// completing the future; it completes once the callee has exited.
func TestAsyncioToTrio_A3_cancel_leaves_the_future_pending_until_the_callee_exits(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		var exited atomic.Bool
		slowExit := func(ctx context.Context) (int, error) {
			err := trio.SleepForever(ctx)
			var shield trio.CancelScope
			shield.SetShield(true)
			shield.Run(ctx, func(ctx context.Context) error { return trio.Sleep(ctx, 50*ms) })
			exited.Store(true)
			return 0, err
		}
		asTask(t, ctx, func(ctx context.Context) error {
			f := asyncio.RunTrio(ctx, slowExit)
			asyncio.Sleep(ctx, ms)
			if !f.Cancel("") || f.Done() {
				t.Errorf("direct: Cancel: got !f.Cancel(\"\") || f.Done(), want f.Cancel(\"\") && !f.Done()")
			}
			asyncio.Sleep(ctx, 10*ms)
			if f.Done() {
				t.Errorf("direct: done before the callee exited: f.Done() got true, want false")
			}
			asyncio.Await(ctx, f)
			if !exited.Load() || !f.Cancelled() {
				t.Errorf("direct: cancelled before the callee exited: got !exited.Load() || !f.Cancelled(), want exited.Load() && f.Cancelled()")
			}
			return nil
		})
		exited.Store(false)
		var inner *asyncio.Future[int]
		task := spawnTask(ctx, loop, func(ctx context.Context) (int, error) {
			inner = asyncio.RunTrio(ctx, slowExit)
			return asyncio.Await(ctx, inner)
		})
		trio.Sleep(ctx, ms)
		onLoop(ctx, loop, func(context.Context) {
			if !task.Cancel("") || inner.Done() {
				t.Errorf("through the task: Cancel: got !task.Cancel(\"\") || inner.Done(), want task.Cancel(\"\") && !inner.Done()")
			}
		})
		if _, err := asyncio.RunFuture(ctx, task); !exited.Load() || !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("through the task: got exited %v, %v; want exited.Load() && errors.Is(err, asyncio.ErrCancelled)", exited.Load(), err)
		}
	})
}

// A4: the callee honours the cancel: the awaiting code gets
// CancelledError(msg), after the callee's cleanup ran.
func TestAsyncioToTrio_A4_cancel_honoured(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		asTask(t, ctx, func(ctx context.Context) error {
			cleaned := false
			f := asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
				defer func() { cleaned = true }()
				return 0, trio.Sleep(ctx, time.Hour)
			})
			asyncio.Sleep(ctx, ms)
			f.Cancel("msg")
			_, err := asyncio.Await(ctx, f)
			var ce *asyncio.CancelledError
			if !cleaned || !errors.As(err, &ce) || ce.Msg != "msg" {
				t.Errorf("got cleaned %v; %v; want cleaned && errors.As(err, &ce) && ce.Msg == \"msg\"", cleaned, err)
			}
			return nil
		})
	})
}

// A5: the callee refuses (shielded) or completes anyway: the awaiting
// task resumes with the value and no CancelledError; its Cancelling stays
// 1; an asyncio Timeout around it therefore raises nothing.
func TestAsyncioToTrio_A5_cancel_refused(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		shielded := func(ctx context.Context) (int, error) {
			var shield trio.CancelScope
			shield.SetShield(true)
			return 5, shield.Run(ctx, func(ctx context.Context) error { return trio.Sleep(ctx, 30*ms) })
		}
		asTask(t, ctx, func(ctx context.Context) error {
			var v int
			err := asyncio.Timeout(ctx, 10*ms, func(ctx context.Context, _ *asyncio.TimeoutScope) error {
				var err error
				v, err = asyncio.Await(ctx, asyncio.RunTrio(ctx, shielded))
				return err
			})
			if v != 5 || err != nil {
				t.Errorf("under a Timeout: got %v, %v; want v == 5 && err == nil", v, err)
			}
			return nil
		})
	})
}

// A6: the callee fails while unwinding from the cancel: that error, not
// CancelledError.
func TestAsyncioToTrio_A6_error_while_unwinding(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		asTask(t, ctx, func(ctx context.Context) error {
			f := asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
				trio.SleepForever(ctx)
				return 0, errValue
			})
			asyncio.Sleep(ctx, ms)
			f.Cancel("")
			if _, err := asyncio.Await(ctx, f); err != errValue {
				t.Errorf("asyncio.Await: got %v, want %v", err, errValue)
			}
			return nil
		})
	})
}

// A7: cancelled before the callee started (trio-asyncio's #161, where the
// future stayed pending forever): never runs, CancelledError.
func TestAsyncioToTrio_A7_cancel_before_start(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		var ran atomic.Bool
		asTask(t, ctx, func(ctx context.Context) error {
			f := asyncio.RunTrio(ctx, func(context.Context) (int, error) { ran.Store(true); return 0, nil })
			ok := f.Cancel("")
			_, err := asyncio.Await(ctx, f)
			if !ok || !f.Cancelled() || !errors.Is(err, asyncio.ErrCancelled) {
				t.Errorf("got Cancel %v; %v; want ok && f.Cancelled() && errors.Is(err, asyncio.ErrCancelled)", ok, err)
			}
			return nil
		})
		if ran.Load() {
			t.Errorf("ran: ran.Load() got true, want false")
		}
	})
}

// A8: cancelled after the future is done: false, result kept.
func TestAsyncioToTrio_A8_cancel_after_done(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		asTask(t, ctx, func(ctx context.Context) error {
			f := asyncio.RunTrio(ctx, func(context.Context) (int, error) { return 3, nil })
			asyncio.Await(ctx, f)
			if f.Cancel("") {
				t.Errorf("Cancel returned true: f.Cancel(\"\") got true, want false")
			}
			if v, err := f.Result(); v != 3 || err != nil {
				t.Errorf("f.Result: got %v, %v; want v == 3 && err == nil", v, err)
			}
			return nil
		})
	})
}

// A9: the callee cancels its own call (Go has no handle on the current
// scope: the callee cancels its future, which cancels its scope): caught
// by the call's scope; the awaiting code gets CancelledError.
func TestAsyncioToTrio_A9_callee_cancels_its_own_scope(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		var flag atomic.Int64
		asTask(t, ctx, func(ctx context.Context) error {
			self := make(chan *asyncio.Future[int], 1)
			f := asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
				flag.Or(1)
				trio.Sleep(ctx, 10*ms)
				f := <-self
				asyncio.RunSync(ctx, func(context.Context) (bool, error) { return f.Cancel(""), nil })
				flag.Or(2)
				if err := trio.Sleep(ctx, 10*ms); err != nil {
					return 0, err
				}
				flag.Or(4)
				return 0, nil
			})
			self <- f
			_, err := asyncio.Await(ctx, f)
			if !errors.Is(err, asyncio.ErrCancelled) || flag.Load() != 3 {
				t.Errorf("asyncio.Await: got %v; flag %d; want errors.Is(err, asyncio.ErrCancelled) && flag.Load() == 3", err, flag.Load())
			}
			return nil
		})
	})
}

// A10: the callee is cancelled by the loop's teardown: its future is
// cancelled, or gets the non-cancellation rest of its error; asyncio
// never sees trio's cancellation as an error of its own (#76).
// (TestTrioAsyncio_test_cancel_loop_throw_another is the same case.)
func TestAsyncioToTrio_A10_outer_teardown(t *testing.T) {
	for _, throw := range []bool{false, true} {
		var f *asyncio.Future[int]
		withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
			onLoop(ctx, loop, func(cctx context.Context) {
				f = asyncio.RunTrio(cctx, func(ctx context.Context) (int, error) {
					err := trio.SleepForever(ctx)
					if throw {
						return 0, errors.Join(errValue, err)
					}
					return 0, err
				})
			})
		})
		err := f.Exception()
		if throw && (f.Cancelled() || !errors.Is(err, errValue) || trio.IsCancellation(err)) ||
			!throw && !f.Cancelled() {
			t.Errorf("throw %v: got cancelled %v, %v; want errValue (not a trio cancellation), not cancelled, if throw; else cancelled", throw, f.Cancelled(), err)
		}
	}
	// The callee ends with the cancellation of a scope outside its own
	// (here, of the code around the block, whose ctx it waited on): the
	// future is cancelled too, never failed with trio's cancellation.
	var f *asyncio.Future[int]
	synctest.Test(t, func(t *testing.T) {
		trio.MoveOnAfter(context.Background(), 10*ms, func(octx context.Context) error {
			return asyncio.OpenLoop(octx, func(ctx context.Context, loop *asyncio.Loop) error {
				onLoop(ctx, loop, func(cctx context.Context) {
					f = asyncio.RunTrio(cctx, func(context.Context) (int, error) { return 0, trio.SleepForever(octx) })
				})
				return trio.SleepForever(ctx)
			})
		})
	})
	if err := f.Exception(); !f.Cancelled() || !errors.Is(err, trio.ErrCancelled) {
		t.Errorf("outer scope's cancellation: got cancelled %v, %v; want f.Cancelled() && errors.Is(err, trio.ErrCancelled)", f.Cancelled(), err)
	}
}

// A11: the whole block is cancelled: trio calls started from asyncio are
// not cancelled by it; only when their caller is, or when body ends
// (#135, #140).
func TestAsyncioToTrio_A11_block_cancelled_trio_calls_go_on(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var ev evlog
		moved, err := trio.MoveOnAfter(context.Background(), 10*ms, func(ctx context.Context) error {
			return asyncio.OpenLoop(ctx, func(ctx context.Context, loop *asyncio.Loop) error {
				onLoop(ctx, loop, func(cctx context.Context) {
					asyncio.RunTrio(cctx, func(ctx context.Context) (int, error) {
						err := trio.Sleep(ctx, time.Hour)
						ev.add("trio call cancelled at %v", time.Since(start))
						return 0, err
					})
				})
				trio.SleepForever(ctx)
				var shield trio.CancelScope
				shield.SetShield(true)
				shield.Run(ctx, func(ctx context.Context) error { return trio.Sleep(ctx, 40*ms) })
				ev.add("body returns at %v", time.Since(start))
				return trio.Checkpoint(ctx)
			})
		})
		if !moved || err != nil {
			t.Errorf("got moved on %v, %v; want moved && err == nil", moved, err)
		}
		ev.inOrder(t, "body returns at 50ms", "trio call cancelled at 50ms")
	})
}

// A13: a RunTrio future works with the functions over awaitables:
// WaitFor, Shield, Gather (trio-asyncio: ensure_future, wait_for, shield,
// gather accept it).
func TestAsyncioToTrio_A13_future_with_WaitFor_Shield_Gather(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		asTask(t, ctx, func(ctx context.Context) error {
			val := func(v int) func(ctx context.Context) (int, error) {
				return func(ctx context.Context) (int, error) { return v, trio.Sleep(ctx, ms) }
			}
			if v, err := asyncio.WaitFor[int](ctx, asyncio.RunTrio(ctx, val(1)), time.Second); v != 1 || err != nil {
				t.Errorf("WaitFor: got %v, %v; want v == 1 && err == nil", v, err)
			}
			if v, err := asyncio.Await(ctx, asyncio.Shield[int](asyncio.RunTrio(ctx, val(2)))); v != 2 || err != nil {
				t.Errorf("Shield: got %v, %v; want v == 2 && err == nil", v, err)
			}
			vs, err := asyncio.Await(ctx, asyncio.Gather(ctx, asyncio.RunTrio(ctx, val(3)), asyncio.RunTrio(ctx, val(4))))
			if !slices.Equal(vs, []int{3, 4}) || err != nil {
				t.Errorf("Gather: got %v, %v; want slices.Equal(vs, []int{3, 4}) && err == nil", vs, err)
			}
			return nil
		})
	})
}

// ---- scenarios with timings: trio → asyncio

// A1: deadline 0.05 s; the callee catches CancelledError and returns
// "swallowed": the caller gets "swallowed", the next trio.sleep(0) raises
// Cancelled, the scope caught it.
func TestAppendixA_A1_swallowed(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		start := time.Now()
		var v string
		var next error
		moved, _ := trio.MoveOnAfter(ctx, 50*ms, func(ctx context.Context) error {
			v, _ = asyncio.RunAsyncio(ctx, func(ctx context.Context) (string, error) {
				if err := asyncio.Sleep(ctx, time.Hour); errors.Is(err, asyncio.ErrCancelled) {
					return "swallowed", nil
				}
				return "", nil
			})
			next = trio.Sleep(ctx, 0)
			return next
		})
		if v != "swallowed" || !trio.IsCancellation(next) || !moved || time.Since(start) != 50*ms {
			t.Errorf("trio.MoveOnAfter: got %q; next %v; moved on %v after %v; want v == \"swallowed\" && trio.IsCancellation(next) && moved && time.Since(start) == 50 * ms", v, next, moved, time.Since(start))
		}
	})
}

// A2: the callee catches CancelledError, sleeps 0.2 s, re-raises: the
// caller returns after 0.25 s, the scope caught it.
func TestAppendixA_A2_refuses_then_reraises(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		start := time.Now()
		moved, err := trio.MoveOnAfter(ctx, 50*ms, func(ctx context.Context) error {
			return second(asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
				err := asyncio.Sleep(ctx, time.Hour)
				asyncio.Sleep(ctx, 200*ms)
				return 0, err
			}))
		})
		if !moved || err != nil || time.Since(start) != 250*ms {
			t.Errorf("got moved on %v, %v, after %v; want moved && err == nil && time.Since(start) == 250 * ms", moved, err, time.Since(start))
		}
	})
}

// A3: the callee raises KeyError after the cancel: the caller gets
// KeyError.
func TestAppendixA_A3_other_error_after_cancel(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		_, err := trio.MoveOnAfter(ctx, 50*ms, func(ctx context.Context) error {
			return second(asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
				asyncio.Sleep(ctx, time.Hour)
				return 0, errKey
			}))
		})
		if err != errKey {
			t.Errorf("trio.MoveOnAfter: got %v, want %v", err, errKey)
		}
	})
}

// A4: the task cancels itself, or raises CancelledError("raw"): the
// caller gets asyncio's CancelledError, message kept.
func TestAppendixA_A4_self_cancel_and_raw_CancelledError(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		for _, msg := range []string{"self", "raw"} {
			_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
				if msg == "raw" {
					return 0, &asyncio.CancelledError{Msg: "raw"}
				}
				asyncio.CurrentTask(ctx).Cancel("self")
				return 0, asyncio.Sleep(ctx, time.Hour)
			})
			var ce *asyncio.CancelledError
			if !errors.As(err, &ce) || ce.Msg != msg || errors.Is(err, trio.ErrCancelled) {
				t.Errorf("%s: got %v; want errors.As(err, &ce) && ce.Msg == msg && !errors.Is(err, trio.ErrCancelled)", msg, err)
			}
		}
	})
}

// A5: a plain cancel: inside the scope, trio's cancellation with asyncio's
// CancelledError as its cause; the scope caught it.
func TestAppendixA_A5_plain_cancel(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		var err error
		moved, ret := trio.MoveOnAfter(ctx, 50*ms, func(ctx context.Context) error {
			_, err = asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) { return 0, asyncio.Sleep(ctx, time.Hour) })
			return err
		})
		var tce *trio.CancelledError
		var ace *asyncio.CancelledError
		if !moved || ret != nil || !errors.As(err, &tce) || !errors.As(err, &ace) {
			t.Errorf("moved on %v, %v; inside: got %v; want moved && ret == nil && errors.As(err, &tce) && errors.As(err, &ace)", moved, ret, err)
		}
	})
}

// A6: run_aio_future(f) where loop.call_later(0.01, f.cancel):
// asyncio.CancelledError.
func TestAppendixA_A6_future_cancelled_by_the_loop(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		f := onLoopValue(t, ctx, func() *asyncio.Future[int] {
			f := asyncio.NewFuture[int](loop)
			loop.CallLater(10*ms, func(context.Context) { f.Cancel("") })
			return f
		})
		if _, err := asyncio.RunFuture(ctx, f); !errors.Is(err, asyncio.ErrCancelled) || errors.Is(err, trio.ErrCancelled) {
			t.Errorf("asyncio.RunFuture: got %v; want errors.Is(err, asyncio.ErrCancelled) && !errors.Is(err, trio.ErrCancelled)", err)
		}
	})
}

// A7: run_aio_future(f) on a never-resolved future under
// move_on_after(0.02): returns after the timeout; f is cancelled.
func TestAppendixA_A7_never_resolved_future_under_move_on_after(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		start := time.Now()
		f := onLoopValue(t, ctx, func() *asyncio.Future[int] { return asyncio.NewFuture[int](loop) })
		moved, err := trio.MoveOnAfter(ctx, 20*ms, func(ctx context.Context) error { return second(asyncio.RunFuture(ctx, f)) })
		if !moved || err != nil || time.Since(start) != 20*ms || !onLoopValue(t, ctx, f.Cancelled) {
			t.Errorf("got moved on %v, %v, after %v; want moved && err == nil && time.Since(start) == 20 * ms && onLoopValue(t, ctx, f.Cancelled)", moved, err, time.Since(start))
		}
	})
}

// ---- scenarios with timings: asyncio → trio

// B1: the trio callee is shielded for 0.1 s; the awaiting task is
// cancelled after 0.02 s: Cancel returns true, the future stays pending,
// then resolves to the value; the task continues without CancelledError,
// Cancelling() == 1.
func TestAppendixA_B1_shielded_callee_task_cancelled(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		var f *asyncio.Future[string]
		var v string
		var err error
		var cancelling int
		var at time.Duration
		start := time.Now()
		task := spawnTask(ctx, loop, func(ctx context.Context) (int, error) {
			f = asyncio.RunTrio(ctx, shieldedFor(100*ms, "value"))
			v, err = asyncio.Await(ctx, f)
			at, cancelling = time.Since(start), asyncio.CurrentTask(ctx).Cancelling()
			return 0, nil
		})
		trio.Sleep(ctx, 20*ms)
		onLoop(ctx, loop, func(context.Context) {
			if !task.Cancel("") || f.Done() {
				t.Errorf("Cancel: got !task.Cancel(\"\") || f.Done(), want task.Cancel(\"\") && !f.Done()")
			}
		})
		asyncio.RunFuture(ctx, task)
		if v != "value" || err != nil || cancelling != 1 || at != 100*ms {
			t.Errorf("got %q, %v; cancelling %d; at %v; want v == \"value\" && err == nil && cancelling == 1 && at == 100 * ms", v, err, cancelling, at)
		}
	})
}

// B1b: the same, cancelling the future itself.
func TestAppendixA_B1b_shielded_callee_future_cancelled(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		asTask(t, ctx, func(ctx context.Context) error {
			start := time.Now()
			f := asyncio.RunTrio(ctx, shieldedFor(100*ms, "value"))
			asyncio.Sleep(ctx, 20*ms)
			if !f.Cancel("") || f.Done() {
				t.Errorf("Cancel: got !f.Cancel(\"\") || f.Done(), want f.Cancel(\"\") && !f.Done()")
			}
			if v, err := asyncio.Await(ctx, f); v != "value" || err != nil || time.Since(start) != 100*ms || f.Cancelled() {
				t.Errorf("asyncio.Await: got %q, %v after %v; want v == \"value\" && err == nil && time.Since(start) == 100 * ms && !f.Cancelled()", v, err, time.Since(start))
			}
			return nil
		})
	})
}

func shieldedFor(d time.Duration, v string) func(ctx context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		var shield trio.CancelScope
		shield.SetShield(true)
		return v, shield.Run(ctx, func(ctx context.Context) error { return trio.Sleep(ctx, d) })
	}
}

// B2: the callee's cleanup takes 0.1 s (shielded): Cancel returns true,
// the future is not done; the CancelledError arrives only after the
// unwinding.
func TestAppendixA_B2_unwinding_before_cancelled(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		asTask(t, ctx, func(ctx context.Context) error {
			start := time.Now()
			f := asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
				defer func() {
					var shield trio.CancelScope
					shield.SetShield(true)
					shield.Run(ctx, func(ctx context.Context) error { return trio.Sleep(ctx, 100*ms) })
				}()
				return 0, trio.SleepForever(ctx)
			})
			asyncio.Sleep(ctx, 10*ms)
			if !f.Cancel("") || f.Done() {
				t.Errorf("Cancel: got !f.Cancel(\"\") || f.Done(), want f.Cancel(\"\") && !f.Done()")
			}
			if _, err := asyncio.Await(ctx, f); !errors.Is(err, asyncio.ErrCancelled) || time.Since(start) != 110*ms {
				t.Errorf("asyncio.Await: got %v after %v; want errors.Is(err, asyncio.ErrCancelled) && time.Since(start) == 110 * ms", err, time.Since(start))
			}
			return nil
		})
	})
}

// B3: the callee raises ValueError in its cleanup after the cancel: the
// asyncio caller gets ValueError.
func TestAppendixA_B3_error_in_cleanup(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			f := asyncio.RunTrio(ctx, func(ctx context.Context) (_ int, err error) {
				defer func() { err = errValue }()
				return 0, trio.SleepForever(ctx)
			})
			asyncio.Sleep(ctx, 10*ms)
			f.Cancel("")
			return asyncio.Await(ctx, f)
		})
		if err != errValue {
			t.Errorf("asyncio.RunAsyncio: got %v, want %v", err, errValue)
		}
	})
}

// B4: the callee cancels its own call: asyncio CancelledError (see A9).
func TestAppendixA_B4_callee_cancels_itself(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			self := make(chan *asyncio.Future[int], 1)
			f := asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
				f := <-self
				asyncio.RunSync(ctx, func(context.Context) (bool, error) { return f.Cancel(""), nil })
				return 0, trio.Checkpoint(ctx)
			})
			self <- f
			return asyncio.Await(ctx, f)
		})
		if !errors.Is(err, asyncio.ErrCancelled) || trio.IsCancellation(err) {
			t.Errorf("asyncio.RunAsyncio: got %v; want errors.Is(err, asyncio.ErrCancelled) && !trio.IsCancellation(err)", err)
		}
	})
}

// B6: f.Cancel("my msg"): the CancelledError's message is "my msg".
func TestAppendixA_B6_message_kept(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		asTask(t, ctx, func(ctx context.Context) error {
			f := asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) { return 0, trio.SleepForever(ctx) })
			asyncio.Sleep(ctx, 0)
			f.Cancel("my msg")
			_, err := asyncio.Await(ctx, f)
			var ce *asyncio.CancelledError
			if !errors.As(err, &ce) || ce.Msg != "my msg" {
				t.Errorf("got %v; want errors.As(err, &ce) && ce.Msg == \"my msg\"", err)
			}
			return nil
		})
	})
}

// B7: cancel before the callee started: Cancel returns true, then
// CancelledError, the future is cancelled. (See also A7.)
func TestAppendixA_B7_cancel_before_start(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		asTask(t, ctx, func(ctx context.Context) error {
			f := asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) { return 1, nil })
			ok := f.Cancel("")
			_, err := asyncio.Await(ctx, f)
			if !ok || !errors.Is(err, asyncio.ErrCancelled) || !f.Cancelled() {
				t.Errorf("asyncio.Await: got %v, %v; want ok && errors.Is(err, asyncio.ErrCancelled) && f.Cancelled()", ok, err)
			}
			return nil
		})
	})
}

// B8: cancel after completion: false, result kept. (See also A8.)
func TestAppendixA_B8_cancel_after_completion(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		asTask(t, ctx, func(ctx context.Context) error {
			f := asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) { return 1, nil })
			asyncio.Await(ctx, f)
			if f.Cancel("") || f.Cancelled() {
				t.Errorf("Cancel after completion: got f.Cancel(\"\") || f.Cancelled(), want !f.Cancel(\"\") && !f.Cancelled()")
			}
			if v, _ := f.Result(); v != 1 {
				t.Errorf("f.Result: got %v, want %v", v, 1)
			}
			return nil
		})
	})
}

// asyncio.timeout(0.05) around trio_as_aio(trio.sleep)(10): TimeoutError,
// Cancelling() == 0; asyncio.wait_for(..., 0.05): TimeoutError;
// asyncio.shield keeps the trio call running after the outer wait times
// out.
func TestAppendixA_B_timeout_wait_for_shield(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		sleep10 := func(ctx context.Context) (int, error) { return 0, trio.Sleep(ctx, 10*time.Second) }
		asTask(t, ctx, func(ctx context.Context) error {
			start := time.Now()
			err := asyncio.Timeout(ctx, 50*ms, func(ctx context.Context, _ *asyncio.TimeoutScope) error {
				return second(asyncio.Await(ctx, asyncio.RunTrio(ctx, sleep10)))
			})
			if !errors.Is(err, asyncio.ErrTimeout) || asyncio.CurrentTask(ctx).Cancelling() != 0 || time.Since(start) != 50*ms {
				t.Errorf("Timeout: got %v, cancelling %d, after %v; want errors.Is(err, asyncio.ErrTimeout) && asyncio.CurrentTask(ctx).Cancelling() == 0 && time.Since(start) == 50 * ms", err, asyncio.CurrentTask(ctx).Cancelling(), time.Since(start))
			}
			if _, err := asyncio.WaitFor[int](ctx, asyncio.RunTrio(ctx, sleep10), 50*ms); !errors.Is(err, asyncio.ErrTimeout) {
				t.Errorf("WaitFor: got %v, want an error matching asyncio.ErrTimeout", err)
			}
			inner := asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) { return 6, trio.Sleep(ctx, 100*ms) })
			if _, err := asyncio.WaitFor(ctx, asyncio.Shield[int](inner), 50*ms); !errors.Is(err, asyncio.ErrTimeout) || inner.Done() {
				t.Errorf("WaitFor(Shield): got %v, inner done %v; want errors.Is(err, asyncio.ErrTimeout) && !inner.Done()", err, inner.Done())
			}
			if v, err := asyncio.Await(ctx, inner); v != 6 || err != nil {
				t.Errorf("shielded trio call: got %v, %v; want v == 6 && err == nil", v, err)
			}
			return nil
		})
	})
}

// ---- scenarios with timings: the loop's lifecycle and errors

// c1: move_on_after(0.1) around open_loop with an asyncio task, an asyncio
// task awaiting a trio call, a run_trio_task call, a 5 s call_later, and a
// call_soon issued from the body's cancellation handler: the body sees
// the cancellation; the late callback runs; the trio calls and the tasks
// are cancelled, and the tasks can still await in their cleanup; the
// outer scope caught the cancellation; the loop is closed; the timer
// never fired.
func TestAppendixA_c1_teardown_order(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev evlog
		var timerFired atomic.Bool
		var loop *asyncio.Loop
		var aioTask asyncio.AnyTask // loop-confined
		var trioCtx atomic.Pointer[context.Context]
		start := time.Now()
		moved, err := trio.MoveOnAfter(context.Background(), 100*ms, func(ctx context.Context) error {
			return asyncio.OpenLoop(ctx, func(ctx context.Context, l *asyncio.Loop) error {
				loop = l
				onLoop(ctx, l, func(cctx context.Context) {
					aioTask = asyncio.CreateTask(cctx, func(ctx context.Context) (int, error) {
						err := asyncio.Sleep(ctx, time.Hour)
						ev.add("aio task: %v", err)
						if err := asyncio.Sleep(ctx, 10*ms); err != nil {
							ev.add("aio task cleanup failed: %v", err)
						}
						ev.add("aio task cleaned up at %v", time.Since(start))
						return 0, err
					})
					asyncio.CreateTask(cctx, func(ctx context.Context) (int, error) {
						_, err := asyncio.Await(ctx, asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
							err := trio.SleepForever(ctx)
							ev.add("trio call under aio: %v", trio.IsCancellation(err))
							return 0, err
						}))
						ev.add("aio task awaiting trio: %v", err)
						return 0, err
					})
					asyncio.RunTrio(cctx, func(ctx context.Context) (int, error) {
						trioCtx.Store(&ctx)
						err := trio.SleepForever(ctx)
						ev.add("run_trio_task: %v", trio.IsCancellation(err))
						return 0, err
					})
					l.CallLater(5*time.Second, func(context.Context) { timerFired.Store(true) })
				})
				err := trio.SleepForever(ctx)
				ev.add("body cancelled at %v", time.Since(start))
				l.CallSoonThreadsafe(func(context.Context) {
					// Before any cancellation of the teardown's.
					ev.add("late call_soon: task cancelling %d, trio call cancelled %v",
						aioTask.Cancelling(), (*trioCtx.Load()).Err() != nil)
				})
				return err
			})
		})
		if !moved || err != nil || !loop.IsClosed() || timerFired.Load() {
			t.Errorf("got moved on %v, %v; closed %v; timer fired %v; want moved && err == nil && loop.IsClosed() && !timerFired.Load()", moved, err, loop.IsClosed(), timerFired.Load())
		}
		ev.has(t, "late call_soon: task cancelling 0, trio call cancelled false")
		ev.inOrder(t, "body cancelled at 100ms", "late call_soon", "aio task: asyncio: cancelled", "aio task cleaned up at 110ms")
		ev.inOrder(t, "late call_soon", "trio call under aio: true", "aio task awaiting trio: asyncio: cancelled")
		ev.inOrder(t, "late call_soon", "run_trio_task: true")
		if i := ev.index("aio task cleanup failed"); i >= 0 {
			t.Errorf("ev.index: got %v; want i < 0", ev.all()[i])
		}
	})
}

// c2: a call_soon callback raising ValueError interrupts the body, and
// open_loop raises ValueError (a panic, in Go).
func TestAppendixA_c2_failing_callback_fails_the_block(t *testing.T) {
	err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		loop.CallSoonThreadsafe(func(context.Context) { panic(errValue) })
		return trio.SleepForever(ctx)
	})
	if !errors.Is(err, errValue) {
		t.Errorf("asyncio.OpenLoop: got %v, want an error matching errValue", err)
	}
}

// c3: a fire-and-forget task raising ValueError interrupts the body, and
// open_loop raises ValueError (once the task is collected: CPython
// reports at once by reference counting).
func TestAppendixA_c3_failing_task_fails_the_block(t *testing.T) {
	err := trio.FailAfter(context.Background(), 20*time.Second, func(ctx context.Context) error {
		return asyncio.OpenLoop(ctx, func(ctx context.Context, loop *asyncio.Loop) error {
			spawnTask(ctx, loop, func(context.Context) (int, error) { return 0, errValue })
			for trio.Checkpoint(ctx) == nil {
				runtime.GC()
				trio.Sleep(ctx, ms)
			}
			return trio.Checkpoint(ctx)
		})
	})
	if !errors.Is(err, errValue) || errors.Is(err, trio.ErrTooSlow) {
		t.Errorf("trio.FailAfter: got %v; want errors.Is(err, errValue) && !errors.Is(err, trio.ErrTooSlow)", err)
	}
}

// c4: with a custom exception handler, a failing callback is only
// reported to the handler.
func TestAppendixA_c4_custom_handler(t *testing.T) {
	var got []error
	err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		loop.SetExceptionHandler(func(_ *asyncio.Loop, ec asyncio.ExceptionContext) { got = append(got, ec.Err) })
		loop.CallSoonThreadsafe(func(context.Context) { panic(errValue) })
		return loop.Synchronize(ctx)
	})
	if err != nil || len(got) != 1 || !errors.Is(got[0], errValue) {
		t.Errorf("%v; handler got %v; want err == nil && len(got) == 1 && errors.Is(got[0], errValue)", err, got)
	}
}

// c5: after exit, call_soon raises "Event loop is closed" (panics, for a
// loop-confined method, in Go; CallSoonThreadsafe returns it);
// aio_as_trio outside any loop fails (ErrNoRunningLoop, not an
// AttributeError). (Loop.Time keeps working: it is time.Now.)
func TestAppendixA_c5_after_exit(t *testing.T) {
	var loop *asyncio.Loop
	var saved context.Context
	withLoop(t, func(ctx context.Context, l *asyncio.Loop) { loop, saved = l, ctx })
	if msg := mustPanic(t, func() { loop.CallSoon(func(context.Context) {}) }); !strings.Contains(msg, "event loop is closed") {
		t.Errorf("CallSoon: got %s, want it to contain %q", msg, "event loop is closed")
	}
	if _, err := loop.CallSoonThreadsafe(func(context.Context) {}); !errors.Is(err, asyncio.ErrLoopClosed) {
		t.Errorf("CallSoonThreadsafe: got %v, want an error matching asyncio.ErrLoopClosed", err)
	}
	if _, err := asyncio.RunAsyncio(saved, func(context.Context) (int, error) { return 0, nil }); !errors.Is(err, asyncio.ErrLoopClosed) {
		t.Errorf("RunAsyncio with the old ctx: got %v, want an error matching asyncio.ErrLoopClosed", err)
	}
	if _, err := asyncio.RunAsyncio(context.Background(), func(context.Context) (int, error) { return 0, nil }); !errors.Is(err, asyncio.ErrNoRunningLoop) {
		t.Errorf("RunAsyncio outside any loop: got %v, want an error matching asyncio.ErrNoRunningLoop", err)
	}
}

// c6: inside the block, get_event_loop() is the loop (GetRunningLoop).
func TestAppendixA_c6_current_loop(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		if l, err := asyncio.GetRunningLoop(ctx); l != loop || err != nil {
			t.Errorf("asyncio.GetRunningLoop: got %v, %v; want l == loop && err == nil", l, err)
		}
	})
}

// Ordering: call_soon(a); call_at(loop.time()-1, t); call_soon(b) runs
// a, t, b on trio-asyncio and a, b, t on plain asyncio. This loop follows
// asyncio.
func TestAppendixA_ordering_due_timer_after_ready_callbacks(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		var order []string
		done := make(chan struct{})
		onLoop(ctx, loop, func(context.Context) {
			loop.CallSoon(func(context.Context) { order = append(order, "a") })
			loop.CallAt(loop.Time().Add(-time.Second), func(context.Context) { order = append(order, "t"); close(done) })
			loop.CallSoon(func(context.Context) { order = append(order, "b") })
		})
		<-done
		if !slices.Equal(order, []string{"a", "b", "t"}) {
			t.Errorf("order: got %v, want %v", order, []string{"a", "b", "t"})
		}
	})
}

// Manual stop: after loop.stop() inside the body, aio_as_trio under
// move_on_after(0.2) never returns on trio-asyncio. Here the loop keeps
// serving: it returns at once.
func TestAppendixA_manual_stop_does_not_hang(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		loop.Stop()
		loop.WaitStopped(ctx)
		start := time.Now()
		moved, err := trio.MoveOnAfter(ctx, 200*ms, func(ctx context.Context) error {
			return second(asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) { return 0, asyncio.Sleep(ctx, 0) }))
		})
		if moved || err != nil || time.Since(start) != 0 {
			t.Errorf("got moved on %v, %v, after %v; want !moved && err == nil && time.Since(start) == 0", moved, err, time.Since(start))
		}
	})
}

// Nested loops: callbacks on each loop see their own loop; a call on the
// outer loop runs there; a task on the outer loop whose ctx has the inner
// block's values still crosses to its own loop (trio-asyncio: "attached
// to a different loop", as the context var names the inner loop).
func TestAppendixA_nested_loops(t *testing.T) {
	withLoop(t, func(octx context.Context, outer *asyncio.Loop) {
		withLoop(t, func(ictx context.Context, inner *asyncio.Loop) {
			for _, c := range []struct {
				ctx  context.Context
				loop *asyncio.Loop
			}{{octx, outer}, {ictx, inner}} {
				done := make(chan *asyncio.Loop)
				c.loop.CallSoonThreadsafe(func(cctx context.Context) {
					l, _ := asyncio.GetRunningLoop(cctx)
					done <- l
				})
				if l := <-done; l != c.loop {
					t.Errorf("callback on another loop: got l != c.loop, want l == c.loop")
				}
			}
			got, err := asyncio.RunAsyncio(octx, func(ctx context.Context) (*asyncio.Loop, error) { return asyncio.GetRunningLoop(ctx) })
			if got != outer || err != nil {
				t.Errorf("RunAsyncio(outer): got %v; want got == outer && err == nil", err)
			}
			// A task on outer created with the inner block's values.
			res := make(chan error, 1)
			outer.CallSoonThreadsafe(func(cctx context.Context) {
				task := asyncio.CreateTask(cctx, func(ctx context.Context) (*asyncio.Loop, error) {
					return asyncio.Await(ctx, asyncio.RunTrio(ctx, func(ctx context.Context) (*asyncio.Loop, error) {
						return asyncio.GetRunningLoop(ctx)
					}))
				})
				task.AddDoneCallback(func(context.Context) {
					l, err := task.Result()
					if l != outer {
						err = errors.Join(err, errors.New("trio call on the wrong loop"))
					}
					res <- err
				})
			}, asyncio.WithContext(ictx))
			if err := <-res; err != nil {
				t.Errorf("err: got %v, want nil", err)
			}
		})
	})
}

// ---- tests/interop/test_calls.py

func TestTrioAsyncio_test_call_at(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		start := time.Now()
		when := loop.Time().Add(100 * ms)
		asTask(t, ctx, func(ctx context.Context) error {
			done := asyncio.NewFuture[struct{}](loop)
			loop.CallAt(when, func(context.Context) { done.SetResult(struct{}{}) })
			return second(asyncio.Await(ctx, done))
		})
		if time.Since(start) != 100*ms {
			t.Errorf("after: got %v, want %v", time.Since(start), 100*ms)
		}
	})
}

// Call asyncio from trio, which calls trio.
func TestTrioAsyncio_test_asyncio_trio(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		var flag atomic.Int64
		res, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			return asyncio.Await(ctx, asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
				trio.Sleep(ctx, 10*ms)
				flag.Or(2)
				return 8, nil
			}))
		})
		if res != 8 || err != nil || flag.Load() != 2 {
			t.Errorf("asyncio.RunAsyncio: got %v, %v, flag %d; want res == 8 && err == nil && flag.Load() == 2", res, err, flag.Load())
		}
	})
}

// Asyncio code calls a synchronous trio function directly.
func TestTrioAsyncio_test_asyncio_trio_sync(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		flag := 0
		dlyTrio := func() int { flag |= 2; return 8 }
		res, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) { return dlyTrio(), nil })
		if res != 8 || err != nil || flag != 2 {
			t.Errorf("asyncio.RunAsyncio: got %v, %v, flag %d; want res == 8 && err == nil && flag == 2", res, err, flag)
		}
	})
}

func TestTrioAsyncio_test_trio_asyncio(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		flag := 0
		res, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			asyncio.Sleep(ctx, 10*ms)
			flag |= 1
			return 4, nil
		})
		if res != 4 || err != nil || flag != 1 {
			t.Errorf("asyncio.RunAsyncio: got %v, %v, flag %d; want res == 4 && err == nil && flag == 1", res, err, flag)
		}
	})
}

func TestTrioAsyncio_test_asyncio_trio_error(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		owie := errors.New("I has another owie")
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			return asyncio.Await(ctx, asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
				trio.Sleep(ctx, 10*ms)
				return 0, owie
			}))
		})
		if err != owie {
			t.Errorf("asyncio.RunAsyncio: got %v, want %v", err, owie)
		}
	})
}

func TestTrioAsyncio_test_asyncio_trio_sync_error(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		owie := errors.New("I has more owie")
		errTrioSync := func() error {
			loop.Time() // the loop is running
			return owie
		}
		if _, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) { return 0, errTrioSync() }); err != owie {
			t.Errorf("asyncio.RunAsyncio: got %v, want %v", err, owie)
		}
	})
}

func TestTrioAsyncio_test_trio_asyncio_error(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			asyncio.Sleep(ctx, 10*ms)
			return 0, errOwie
		})
		if err != errOwie {
			t.Errorf("asyncio.RunAsyncio: got %v, want %v", err, errOwie)
		}
	})
}

// The trio callee cancels its own call: the asyncio caller, and the trio
// code above it, get asyncio's CancelledError; the callee ran until its
// next checkpoint.
func TestTrioAsyncio_test_asyncio_trio_cancel_out(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		var flag atomic.Int64
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			self := make(chan *asyncio.Future[int], 1)
			f := asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
				flag.Or(1)
				trio.Sleep(ctx, 10*ms)
				f := <-self
				asyncio.RunSync(ctx, func(context.Context) (bool, error) { return f.Cancel(""), nil })
				flag.Or(2)
				if err := trio.Sleep(ctx, 10*ms); err != nil {
					return 0, err
				}
				flag.Or(4)
				return 0, nil
			})
			self <- f
			return asyncio.Await(ctx, f)
		})
		if !errors.Is(err, asyncio.ErrCancelled) || trio.IsCancellation(err) || flag.Load() != 3 {
			t.Errorf("asyncio.RunAsyncio: got %v; flag %d; want errors.Is(err, asyncio.ErrCancelled) && !trio.IsCancellation(err) && flag.Load() == 3", err, flag.Load())
		}
	})
}

// A CancelledError from asyncio (a cancelled future's result, returned
// by a coroutine or by a plain function) is asyncio's in trio: the trio
// scope around is not cancelled.
func TestTrioAsyncio_test_trio_asyncio_cancel_out(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		cancelledAsyncio := func(ctx context.Context) (int, error) {
			asyncio.Sleep(ctx, 10*ms)
			f := asyncio.NewFuture[int](loop)
			f.Cancel("")
			return f.Result()
		}
		cancelledFuture := func(context.Context) (int, error) {
			f := asyncio.NewFuture[int](loop)
			f.Cancel("")
			return f.Result()
		}
		for name, proc := range map[string]func(context.Context) (int, error){"future": cancelledFuture, "asyncio": cancelledAsyncio} {
			var scope trio.CancelScope
			var err error
			scope.Run(ctx, func(ctx context.Context) error { _, err = asyncio.RunAsyncio(ctx, proc); return err })
			if !errors.Is(err, asyncio.ErrCancelled) || trio.IsCancellation(err) || scope.CancelCalled() {
				t.Errorf("%s: got %v, cancel called %v; want errors.Is(err, asyncio.ErrCancelled) && !trio.IsCancellation(err) && !scope.CancelCalled()", name, err, scope.CancelCalled())
			}
		}
	})
}

// asyncio cancels a task awaiting a trio call: the trio callee sees
// trio's cancellation, runs its cleanup; the task gets CancelledError.
func TestTrioAsyncio_test_asyncio_trio_cancel_in(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		var flag atomic.Int64
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			var started asyncio.Event
			f := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
				return asyncio.Await(ctx, asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
					asyncio.RunSync(ctx, func(context.Context) (int, error) { started.Set(); return 0, nil })
					defer flag.Or(2)
					if err := trio.Sleep(ctx, time.Second); trio.IsCancellation(err) {
						flag.Or(1)
						return 0, err
					}
					flag.Or(4)
					return 0, nil
				}))
			})
			started.Wait(ctx)
			f.Cancel("")
			if _, err := asyncio.Await(ctx, f); !errors.Is(err, asyncio.ErrCancelled) {
				t.Errorf("await f: got %v, want an error matching asyncio.ErrCancelled", err)
			}
			flag.Or(8)
			return 0, nil
		})
		if err != nil || flag.Load() != 1|2|8 {
			t.Errorf("asyncio.RunAsyncio: got %v; flag %d; want err == nil && flag.Load() == 1 | 2 | 8", err, flag.Load())
		}
	})
}

// trio cancels a nursery whose child awaits asyncio code: the asyncio
// code sees CancelledError (not trio's cancellation); the nursery absorbs
// its own cancellation.
func TestTrioAsyncio_test_trio_asyncio_cancel_in(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		var flag atomic.Int64
		var started trio.Event
		err := trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
			n.StartSoon(func(ctx context.Context) error {
				return second(asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
					started.Set()
					defer flag.Or(2)
					err := asyncio.Sleep(ctx, 9999*time.Second)
					switch {
					case trio.IsCancellation(err):
						flag.Or(16)
					case errors.Is(err, asyncio.ErrCancelled):
						flag.Or(1)
					default:
						flag.Or(4)
					}
					return 0, err
				}))
			})
			started.Wait(ctx)
			n.CancelScope().Cancel()
			return nil
		})
		flag.Or(8)
		if err != nil || flag.Load() != 1|2|8 {
			t.Errorf("got %v; flag %d; want err == nil && flag.Load() == 1 | 2 | 8", err, flag.Load())
		}
	})
}

// A "sync" asyncio callee raising CancelledError in a nursery child:
// the nursery fails with asyncio's CancelledError (trio-asyncio: inside an
// exception group).
func TestTrioAsyncio_test_trio_asyncio_cancel_direct(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		var flag atomic.Int64
		var started trio.Event
		err := func() error {
			defer flag.Or(8)
			return trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
				n.StartSoon(func(ctx context.Context) error {
					return second(asyncio.RunAsyncio(ctx, func(context.Context) (int, error) {
						flag.Or(1)
						return 0, &asyncio.CancelledError{}
					}))
				})
				if err := started.Wait(ctx); err != nil {
					return err
				}
				n.CancelScope().Cancel()
				return nil
			})
		}()
		if !errors.Is(err, asyncio.ErrCancelled) || trio.IsCancellation(err) || flag.Load() != 1|8 {
			t.Errorf("got %v; flag %d; want errors.Is(err, asyncio.ErrCancelled) && !trio.IsCancellation(err) && flag.Load() == 1 | 8", err, flag.Load())
		}
	})
}

func TestTrioAsyncio_test_trio_asyncio_error_direct(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		if _, err := asyncio.RunAsyncio(ctx, func(context.Context) (int, error) { return 0, errOwie }); err != errOwie {
			t.Errorf("asyncio.RunAsyncio: got %v, want %v", err, errOwie)
		}
	})
}

// Not test_call_asyncio_ctx (Go has no async context managers; that case
// is not transferable): what trio-asyncio does for one, __aenter__ and
// __aexit__ as two separate RunAsyncio calls whose effects are seen in
// order by the trio code between them (T10).
func TestTrioAsyncio_enter_and_exit_as_two_RunAsyncio_calls(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		didIt := 0
		asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			if didIt != 0 {
				t.Errorf("enter: did_it: got %v, want %v", didIt, 0)
			}
			didIt = 1
			asyncio.Sleep(ctx, 10*ms)
			didIt = 2
			return 0, nil
		})
		if didIt != 2 {
			t.Errorf("body: did_it: got %v, want %v", didIt, 2)
		}
		didIt = 3
		asyncio.RunAsyncio(ctx, func(context.Context) (int, error) {
			if didIt != 3 {
				t.Errorf("exit: did_it: got %v, want %v", didIt, 3)
			}
			didIt = 4
			return 0, nil
		})
		if didIt != 4 {
			t.Errorf("after: did_it: got %v, want %v", didIt, 4)
		}
	})
}

// Not test_call_trio_ctx (no async context managers in Go): the two
// separate trio calls trio-asyncio makes for one, in order (A12).
func TestTrioAsyncio_enter_and_exit_as_two_RunTrio_calls(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		asTask(t, ctx, func(ctx context.Context) error {
			didIt := 0
			asyncio.Await(ctx, asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
				didIt = 1
				trio.Sleep(ctx, 10*ms)
				didIt = 2
				return 0, nil
			}))
			if didIt != 2 {
				t.Errorf("body: did_it: got %v, want %v", didIt, 2)
			}
			didIt = 3
			asyncio.Await(ctx, asyncio.RunTrio(ctx, func(context.Context) (int, error) {
				if didIt != 3 {
					t.Errorf("exit: did_it: got %v, want %v", didIt, 3)
				}
				didIt = 4
				return 0, nil
			}))
			if didIt != 4 {
				t.Errorf("after: did_it: got %v, want %v", didIt, 4)
			}
			return nil
		})
	})
}

// ---- tests/test_trio_asyncio.py

func TestTrioAsyncio_test_no_fixture(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		if _, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) { return 0, asyncio.Sleep(ctx, 0) }); err != nil {
			t.Errorf("asyncio.RunAsyncio: got %v, want nil", err)
		}
	})
}

func TestTrioAsyncio_test_get_running_loop(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		if l, _ := asyncio.GetRunningLoop(ctx); l != loop {
			t.Errorf("asyncio.GetRunningLoop: got %v, want %v", l, loop)
		}
	})
}

// The exception handler of a closed loop still logs.
func TestTrioAsyncio_test_exception_after_closed(t *testing.T) {
	var loop *asyncio.Loop
	withLoop(t, func(ctx context.Context, l *asyncio.Loop) { loop = l })
	var buf bytes.Buffer
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	loop.CallExceptionHandler(asyncio.ExceptionContext{Message: "Test exception after loop closed"})
	if n := strings.Count(buf.String(), "Test exception after loop closed"); n != 1 {
		t.Errorf("%d records: got %s; want n == 1", n, buf.String())
	}
}

// Tasks are cancelled at exit, their cleanup still running on the loop
// (a suspension works); trio calls are cancelled too, including those
// started by that cleanup. Tasks started by the cleanup: trio-asyncio
// abandons them (not done); this loop cancels them before they start and
// waits for them (done, cancelled, never ran).
func TestTrioAsyncio_test_tasks_get_cancelled(t *testing.T) {
	var ev evlog
	var tasks []*asyncio.Task[int]
	var aioSleeper func(key string) func(ctx context.Context) (int, error)
	trioSleeper := func(key string) func(ctx context.Context) (int, error) {
		return func(ctx context.Context) (int, error) {
			err := trio.SleepForever(ctx)
			ev.add("%s", key)
			return 0, err
		}
	}
	aioSleeper = func(key string) func(ctx context.Context) (int, error) {
		return func(ctx context.Context) (int, error) {
			err := asyncio.Sleep(ctx, 10*time.Second)
			if err == nil {
				ev.add("expired")
			}
			asyncio.Sleep(ctx, 0) // still running on the loop, not some GC pass
			ev.add("%s", key)
			if strings.Contains(key, "early") {
				tasks = append(tasks, asyncio.CreateTask(ctx, aioSleeper("aio late")))
				asyncio.RunTrio(ctx, trioSleeper("trio late"))
			}
			return 0, err
		}
	}
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		onLoop(ctx, loop, func(cctx context.Context) {
			tasks = append(tasks, asyncio.CreateTask(cctx, aioSleeper("aio early")))
			asyncio.RunTrio(cctx, trioSleeper("trio early"))
		})
	})
	got := ev.all()
	slices.Sort(got)
	if !slices.Equal(got, []string{"aio early", "trio early", "trio late"}) {
		t.Errorf("got: got %v, want %v", got, []string{"aio early", "trio early", "trio late"})
	}
	if len(tasks) != 2 || !tasks[0].Done() || !tasks[1].Done() || !tasks[1].Cancelled() {
		t.Errorf("got %v; want len(tasks) == 2 && tasks[0].Done() && tasks[1].Done() && tasks[1].Cancelled()", tasks)
	}
}

func TestTrioAsyncio_test_cancel_loop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		moved, err := trio.MoveOnAfter(context.Background(), time.Second, func(ctx context.Context) error {
			return asyncio.OpenLoop(ctx, func(ctx context.Context, loop *asyncio.Loop) error { return trio.SleepForever(ctx) })
		})
		if !moved || err != nil || time.Since(start) != time.Second {
			t.Errorf("got moved on %v, %v, after %v; want moved && err == nil && time.Since(start) == time.Second", moved, err, time.Since(start))
		}
	})
}

// move_on_after(1.25) around open_loop whose body's nursery is shielded
// until 1.5 s; an asyncio task sleeps 1 s then awaits a trio task that
// sleeps 1 s (shielded or not); the body raises ValueError or not.
func TestTrioAsyncio_test_cancel_loop_with_tasks(t *testing.T) {
	for _, shield := range []bool{false, true} {
		for _, bodyRaises := range []bool{false, true} {
			t.Run(fmt.Sprintf("shield=%v,body_raises=%v", shield, bodyRaises), func(t *testing.T) {
				cancelLoopWithTasks(t, shield, bodyRaises)
			})
		}
	}
}

func cancelLoopWithTasks(t *testing.T, shield, bodyRaises bool) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var ev evlog
		moved, err := trio.MoveOnAfter(context.Background(), 1250*ms, func(ctx context.Context) error {
			return asyncio.OpenLoop(ctx, func(ctx context.Context, loop *asyncio.Loop) error {
				trioTask := func(ctx context.Context) (int, error) {
					defer func() { ev.add("trio_task done at %v", time.Since(start)) }()
					var s trio.CancelScope
					s.SetShield(shield)
					return 0, s.Run(ctx, func(ctx context.Context) error { return trio.Sleep(ctx, time.Second) })
				}
				aioTask := func(ctx context.Context) (int, error) {
					defer ev.add("aio_task done")
					asyncio.Sleep(ctx, time.Second)
					_, err := asyncio.Await(ctx, asyncio.RunTrio(ctx, trioTask))
					switch {
					case trio.IsCancellation(err) && !errors.Is(err, asyncio.ErrCancelled):
						t.Errorf("aio_task: got %v, trio's cancellation, want asyncio's", err)
					case errors.Is(err, asyncio.ErrCancelled) == shield:
						t.Errorf("shield %v: aio_task got %v, want cancelled %v", shield, err, !shield)
					}
					return 0, err
				}
				defer ev.add("toplevel done")
				var ns trio.CancelScope
				ns.SetShield(true)
				return ns.Run(ctx, func(ctx context.Context) error {
					return trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
						n.StartSoon(func(ctx context.Context) error {
							trio.Sleep(ctx, 1500*ms)
							ns.SetShield(false)
							return nil
						})
						n.StartSoon(func(ctx context.Context) error { return second(asyncio.RunAsyncio(ctx, aioTask)) })
						if bodyRaises {
							trio.SleepForever(ctx)
							return errValue
						}
						return nil
					})
				})
			})
		})
		want := 1500 * ms
		if shield {
			want = 2000 * ms
		}
		if bodyRaises != errors.Is(err, errValue) || trio.IsCancellation(err) {
			t.Errorf("body raises %v: got %v; want bodyRaises == errors.Is(err, errValue) && !trio.IsCancellation(err)", bodyRaises, err)
		}
		if got := ev.all(); !slices.Equal(got, []string{fmt.Sprintf("trio_task done at %v", want), "aio_task done", "toplevel done"}) {
			t.Errorf("ev.all: got %q, want %q", got, []string{fmt.Sprintf("trio_task done at %v", want), "aio_task done", "toplevel done"})
		}
		if time.Since(start) != want || moved != !shield {
			t.Errorf("got ended at %v, moved on %v; want time.Since(start) == want && moved == !shield", time.Since(start), moved)
		}
	})
}

// RunInExecutor on a TrioExecutor bounded by a one-token CapacityLimiter,
// from a RunAsyncio: the function takes the token once (trio-asyncio once
// took it twice, and hung).
func TestTrioAsyncio_test_executor_limiter_deadlock(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		ex := asyncio.NewTrioExecutor(ctx, trio.NewCapacityLimiter(1))
		moved, err := trio.MoveOnAfter(ctx, 10*time.Second, func(ctx context.Context) error {
			return second(asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
				return asyncio.Await(ctx, asyncio.RunInExecutor(ctx, ex, func(context.Context) (int, error) { return 0, nil }))
			}))
		})
		if moved || err != nil {
			t.Errorf("got moved on %v, %v; want !moved && err == nil", moved, err)
		}
	})
}

// ---- tests/test_concurrent.py

func TestTrioAsyncio_test_parallel(t *testing.T) {
	var loops [2]*asyncio.Loop
	err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		genLoop := func(i int) func(ctx context.Context, started func(struct{})) error {
			return func(ctx context.Context, started func(struct{})) error {
				started(struct{}{})
				return asyncio.OpenLoop(ctx, func(ctx context.Context, l *asyncio.Loop) error { loops[i] = l; return nil })
			}
		}
		if _, err := asyncio.GetRunningLoop(ctx); err == nil {
			t.Errorf("a loop outside any block: got err == nil, want err != nil")
		}
		trio.Start(ctx, n, genLoop(0))
		trio.Start(ctx, n, genLoop(1))
		return nil
	})
	if err != nil || loops[0] == nil || loops[1] == nil || loops[0] == loops[1] {
		t.Errorf("trio.OpenNursery: got %v; %p %p; want err == nil && loops[0] != nil && loops[1] != nil && loops[0] != loops[1]", err, loops[0], loops[1])
	}
}

func TestTrioAsyncio_test_nested(t *testing.T) {
	var loops [2]*asyncio.Loop
	err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		var genLoop func(i int) func(ctx context.Context, started func(struct{})) error
		genLoop = func(i int) func(ctx context.Context, started func(struct{})) error {
			return func(ctx context.Context, started func(struct{})) error {
				started(struct{}{})
				return asyncio.OpenLoop(ctx, func(ctx context.Context, l *asyncio.Loop) error {
					loops[i] = l
					if i > 0 {
						_, err := trio.Start(ctx, n, genLoop(i-1))
						return err
					}
					return nil
				})
			}
		}
		_, err := trio.Start(ctx, n, genLoop(1))
		return err
	})
	if err != nil || loops[0] == nil || loops[1] == nil || loops[0] == loops[1] {
		t.Errorf("trio.OpenNursery: got %v; %p %p; want err == nil && loops[0] != nil && loops[1] != nil && loops[0] != loops[1]", err, loops[0], loops[1])
	}
}

// Two loops open in the same goroutine: a callback on each sees its own.
func TestTrioAsyncio_test_same_task(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx1 context.Context, loop1 *asyncio.Loop) {
		withLoop(t, func(ctx2 context.Context, loop2 *asyncio.Loop) {
			var seen atomic.Int64
			for _, l := range []*asyncio.Loop{loop1, loop2} {
				l.CallSoonThreadsafe(func(context.Context) {
					l.CallLater(100*ms, func(cctx context.Context) {
						if got, _ := asyncio.GetRunningLoop(cctx); got != l {
							t.Errorf("callback on another loop: got got != l, want got == l")
						}
						seen.Add(1)
					})
				})
			}
			trio.Sleep(ctx2, 200*ms)
			if seen.Load() != 2 {
				t.Errorf("got %d callbacks ran; want seen.Load() == 2", seen.Load())
			}
		})
	})
}

// ---- tests/test_misc.py

// A manual Stop inside the block does not deadlock its exit (#58).
func TestTrioAsyncio_test_too_many_stops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		moved, err := trio.MoveOnAfter(context.Background(), time.Second, func(ctx context.Context) error {
			return asyncio.OpenLoop(ctx, func(ctx context.Context, loop *asyncio.Loop) error {
				trio.Checkpoint(ctx)
				loop.Stop()
				return nil
			})
		})
		if moved || err != nil {
			t.Errorf("possible deadlock after a manual Stop: got moved on %v, %v; want !moved && err == nil", moved, err)
		}
	})
}

func TestTrioAsyncio_test_err1(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		foo := errors.New("Foo")
		if _, err := asyncio.RunAsyncio(ctx, func(context.Context) (int, error) { return 0, foo }); err != foo {
			t.Errorf("asyncio.RunAsyncio: got %v, want %v", err, foo)
		}
	})
}

func TestTrioAsyncio_test_err2(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		hello := errors.New("Hello")
		var owch atomic.Bool
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			_, err := asyncio.Await(ctx, asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
				return asyncio.RunAsyncio(ctx, func(context.Context) (int, error) {
					owch.Store(true)
					return 0, hello
				})
			}))
			if err != hello {
				t.Errorf("call_more_nested: got %v, want %v", err, hello)
			}
			return 0, nil
		})
		if err != nil || !owch.Load() {
			t.Errorf("asyncio.RunAsyncio: got %v, owch %v; want err == nil && owch.Load()", err, owch.Load())
		}
	})
}

func TestTrioAsyncio_test_err3(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		hello := errors.New("Hello")
		var owch atomic.Bool
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			_, err := asyncio.Await(ctx, asyncio.RunTrio(ctx, func(context.Context) (int, error) {
				owch.Store(true)
				return 0, hello
			}))
			if err != hello {
				t.Errorf("call_nested: got %v, want %v", err, hello)
			}
			return 0, nil
		})
		if err != nil || !owch.Load() {
			t.Errorf("asyncio.RunAsyncio: got %v, owch %v; want err == nil && owch.Load()", err, owch.Load())
		}
	})
}

func TestTrioAsyncio_test_run(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		var owch atomic.Bool
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			return asyncio.Await(ctx, asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
				err := trio.Sleep(ctx, 10*ms)
				owch.Store(true)
				return 0, err
			}))
		})
		if err != nil || !owch.Load() {
			t.Errorf("asyncio.RunAsyncio: got %v, owch %v; want err == nil && owch.Load()", err, owch.Load())
		}
	})
}

// trio_asyncio.run(…): a trio program with a loop around main.
func TestTrioAsyncio_test_run2(t *testing.T) {
	var owch atomic.Bool
	err := trio.Run(func(ctx context.Context) error {
		return asyncio.OpenLoop(ctx, func(ctx context.Context, loop *asyncio.Loop) error {
			return second(asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
				return asyncio.Await(ctx, asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
					owch.Store(true)
					return 0, trio.Sleep(ctx, 10*ms)
				}))
			}))
		})
	})
	if err != nil || !owch.Load() {
		t.Errorf("trio.Run: got %v, owch %v; want err == nil && owch.Load()", err, owch.Load())
	}
}

func TestTrioAsyncio_test_run3(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		var owch atomic.Bool
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			return asyncio.Await(ctx, asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
				return asyncio.RunAsyncio(ctx, func(context.Context) (int, error) {
					owch.Store(true)
					return 0, nil
				})
			}))
		})
		if err != nil || !owch.Load() {
			t.Errorf("asyncio.RunAsyncio: got %v, owch %v; want err == nil && owch.Load()", err, owch.Load())
		}
	})
}

// run_trio_task outside a loop fails; inside, the block waits for it.
func TestTrioAsyncio_test_run_task(t *testing.T) {
	var owch atomic.Int64
	nest := func(x int64) func(context.Context) (int, error) {
		return func(context.Context) (int, error) { owch.Add(x); return 0, nil }
	}
	if msg := mustPanic(t, func() { asyncio.RunTrio(context.Background(), nest(100)) }); !strings.Contains(msg, "no running event loop") {
		t.Errorf("outside a loop: got %s, want it to contain %q", msg, "no running event loop")
	}
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		onLoop(ctx, loop, func(cctx context.Context) { asyncio.RunTrio(cctx, nest(1)) })
	})
	if owch.Load() != 1 {
		t.Errorf("owch: got %d, want %d", owch.Load(), 1)
	}
}

func TestTrioAsyncio_test_cancel_sleep(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		var owch atomic.Bool
		asTask(t, ctx, func(ctx context.Context) error {
			h := loop.CallLater(200*ms, func(context.Context) { owch.Store(true) })
			asyncio.Sleep(ctx, 10*ms)
			h.Cancel()
			return asyncio.Sleep(ctx, 300*ms)
		})
		if owch.Load() {
			t.Errorf("a cancelled timer ran: owch.Load() got true, want false")
		}
	})
}

// A trio task started into an outer nursery from inside the block (Go
// passes the block's ctx explicitly) crosses the boundary before and
// after the block ends: the late call gets an answer, never a hang.
func TestTrioAsyncio_test_wrong_context_manager_order(t *testing.T) {
	var takeDown trio.Event
	work := func(ctx context.Context) (int, error) { return 0, asyncio.Sleep(ctx, 0) }
	var lateErr error
	err := trio.OpenNursery(context.Background(), func(octx context.Context, n *trio.Nursery) error {
		return asyncio.OpenLoop(octx, func(ctx context.Context, loop *asyncio.Loop) error {
			runner := func(_ context.Context, started func(struct{})) error {
				if _, err := asyncio.RunAsyncio(ctx, work); err != nil {
					return err
				}
				defer func() { _, lateErr = asyncio.RunAsyncio(ctx, work) }()
				started(struct{}{})
				return takeDown.Wait(context.Background())
			}
			if _, err := trio.Start(octx, n, runner); err != nil {
				return err
			}
			takeDown.Set()
			return nil
		})
	})
	if err != nil || lateErr != nil && !errors.Is(lateErr, asyncio.ErrLoopClosed) {
		t.Errorf("%v; late call: got %v; want err == nil && !(lateErr != nil && !errors.Is(lateErr, asyncio.ErrLoopClosed))", err, lateErr)
	}
}

// A trio task outside the block, shielded until the loop has closed,
// calls asyncio in its cleanup: "Event loop is closed" (ErrLoopClosed).
// (KeyboardInterrupt is, in Go, the cancellation of the ctx around the
// block.)
func TestTrioAsyncio_test_keyboard_interrupt_teardown(t *testing.T) {
	work := func(ctx context.Context) (int, error) { return 0, asyncio.Sleep(ctx, 0) }
	var loopClosed trio.Event
	var lateErr error
	var outer trio.CancelScope
	err := trio.OpenNursery(context.Background(), func(octx context.Context, n *trio.Nursery) error {
		_, err := trio.Start(octx, n, func(_ context.Context, started func(struct{})) error {
			defer loopClosed.Set()
			return outer.Run(octx, func(sctx context.Context) error {
				return asyncio.OpenLoop(sctx, func(ctx context.Context, loop *asyncio.Loop) error {
					if _, err := trio.Start(octx, n, func(wctx context.Context, started func(struct{})) error {
						if _, err := asyncio.RunAsyncio(ctx, work); err != nil {
							return err
						}
						defer func() { _, lateErr = asyncio.RunAsyncio(ctx, work) }()
						var shield trio.CancelScope
						shield.SetShield(true)
						return shield.Run(wctx, func(wctx context.Context) error {
							started(struct{}{})
							return loopClosed.Wait(wctx)
						})
					}); err != nil {
						return err
					}
					started(struct{}{})
					return trio.SleepForever(ctx)
				})
			})
		})
		if err != nil {
			return err
		}
		outer.Cancel() // the "KeyboardInterrupt"
		return nil
	})
	if err != nil || !errors.Is(lateErr, asyncio.ErrLoopClosed) {
		t.Errorf("%v; late call: got %v; want err == nil && errors.Is(lateErr, asyncio.ErrLoopClosed)", err, lateErr)
	}
}

// Regression test for trio-asyncio's issue #76: cancelling the block does not make a trio
// call's future yield trio's cancellation: it is cancelled, or fails with
// the rest of the error (throw_another).
func TestTrioAsyncio_test_cancel_loop_throw_another(t *testing.T) {
	for _, throwAnother := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			type handles struct {
				ctx   context.Context
				scope *trio.CancelScope
			}
			trioTask := func(ctx context.Context) (int, error) {
				return 0, trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
					n.StartSoon(trio.SleepForever)
					err := trio.SleepForever(ctx)
					if throwAnother {
						return errValue
					}
					return err
				})
			}
			var fut *asyncio.Future[int]
			err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
				h, err := trio.Start(ctx, n, func(ctx context.Context, started func(handles)) error {
					var scope trio.CancelScope
					defer func() {
						if !scope.CancelledCaught() {
							t.Errorf("manage_loop: scope did not catch the cancellation: scope.CancelledCaught() got false, want true")
						}
					}()
					return scope.Run(ctx, func(ctx context.Context) error {
						return asyncio.OpenLoop(ctx, func(ctx context.Context, loop *asyncio.Loop) error {
							started(handles{ctx, &scope})
							return trio.SleepForever(ctx)
						})
					})
				})
				if err != nil {
					return err
				}
				fut, err = asyncio.RunSync(h.ctx, func(context.Context) (*asyncio.Future[int], error) { return asyncio.RunTrio(h.ctx, trioTask), nil })
				synctest.Wait() // trio.testing.wait_all_tasks_blocked
				h.scope.Cancel()
				return err
			})
			if err != nil || !fut.Done() {
				t.Fatalf("trio.OpenNursery: got %v, done %v; want err == nil && fut.Done()", err, fut.Done())
			}
			ferr := fut.Exception()
			if throwAnother && (fut.Cancelled() || !errors.Is(ferr, errValue) || trio.IsCancellation(ferr)) ||
				!throwAnother && !fut.Cancelled() {
				t.Errorf("throw_another %v: got cancelled %v, %v; want errValue (not a trio cancellation), not cancelled, if throw_another; else cancelled", throwAnother, fut.Cancelled(), ferr)
			}
		})
	}
}

// A cancelled trio_as_future future whose trio task raises while it
// unwinds: the error propagates.
func TestTrioAsyncio_test_trio_as_fut_throws_after_cancelled(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		fut := onLoopValue(t, ctx, func() *asyncio.Future[int] {
			return asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
				trio.SleepForever(ctx)
				return 0, errValue
			})
		})
		synctest.Wait()
		onLoop(ctx, loop, func(context.Context) { fut.Cancel("") })
		if _, err := asyncio.RunFuture(ctx, fut); err != errValue {
			t.Errorf("asyncio.RunFuture: got %v, want %v", err, errValue)
		}
	})
}

// run_trio_task: cancelled before it starts, it never runs; cancelled
// while it runs, it ends; its errors go to the exception handler (here:
// once its future is collected, the way never-retrieved errors go).
func TestTrioAsyncio_test_run_trio_task_errors(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		var ran atomic.Bool
		onLoop(ctx, loop, func(cctx context.Context) {
			asyncio.RunTrio(cctx, func(context.Context) (int, error) { ran.Store(true); return 0, nil }).Cancel("")
		})
		f := onLoopValue(t, ctx, func() *asyncio.Future[int] {
			return asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) { return 0, trio.SleepForever(ctx) })
		})
		onLoop(ctx, loop, func(context.Context) { f.Cancel("") })
		if _, err := asyncio.RunFuture(ctx, f); !errors.Is(err, asyncio.ErrCancelled) || ran.Load() {
			t.Errorf("asyncio.RunFuture: got %v, ran %v; want errors.Is(err, asyncio.ErrCancelled) && !ran.Load()", err, ran.Load())
		}
	})
	lo := errors.New("ValueError: lo")
	for _, raised := range []error{errValue, errors.Join(lo, errKey)} {
		var got []error
		err := trio.FailAfter(context.Background(), 20*time.Second, func(ctx context.Context) error {
			return asyncio.OpenLoop(ctx, func(ctx context.Context, loop *asyncio.Loop) error {
				reports := make(chan error, 1)
				loop.SetExceptionHandler(func(_ *asyncio.Loop, ec asyncio.ExceptionContext) { reports <- ec.Err })
				onLoop(ctx, loop, func(cctx context.Context) {
					asyncio.RunTrio(cctx, func(context.Context) (int, error) { return 0, raised })
				})
				for {
					runtime.GC()
					select {
					case e := <-reports:
						got = append(got, e)
						return nil
					case <-time.After(ms):
					}
					if err := trio.Checkpoint(ctx); err != nil {
						return err
					}
				}
			})
		})
		if err != nil || len(got) != 1 || got[0] != raised {
			t.Errorf("%v: handler got %v (%v); want err == nil && len(got) == 1 && got[0] == raised", raised, got, err)
		}
	}
}

// Context values: the asyncio side sees the trio caller's; the trio side
// sees the asyncio caller's; neither can change the other's.
func TestTrioAsyncio_test_contextvars(t *testing.T) {
	type cvar struct{}
	ctx0 := context.WithValue(context.Background(), cvar{}, "outer")
	err := asyncio.OpenLoop(ctx0, func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			if ctx.Value(cvar{}) != "outer" {
				t.Errorf("in aio: got %v, want %v", ctx.Value(cvar{}), "outer")
			}
			ctx = context.WithValue(ctx, cvar{}, "middle")
			asyncio.Await(ctx, asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
				if ctx.Value(cvar{}) != "middle" {
					t.Errorf("in trio: got %v, want %v", ctx.Value(cvar{}), "middle")
				}
				ctx = context.WithValue(ctx, cvar{}, "inner")
				_ = ctx
				return 0, nil
			}))
			if ctx.Value(cvar{}) != "middle" {
				t.Errorf("back in aio: got %v, want %v", ctx.Value(cvar{}), "middle")
			}
			return 0, nil
		})
		if ctx.Value(cvar{}) != "outer" {
			t.Errorf("back in trio: got %v, want %v", ctx.Value(cvar{}), "outer")
		}
		return err
	})
	if err != nil {
		t.Errorf("asyncio.OpenLoop: got %v, want nil", err)
	}
}
