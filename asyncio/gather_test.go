package asyncio_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// Transcribed from CPython's test_tasks.py: GatherTestsBase (run as
// FutureGatherTests, on futures, and CoroutineGatherTests, on tasks that
// await them), FutureGatherTests, CoroutineGatherTests, and the gather
// cases of BaseTaskTests.
//
// Not transcribed:
//   - test_env_var_debug: PYTHONASYNCIODEBUG has no Go counterpart.
//   - test_constructor_empty_sequence_use_global_loop,
//     test_constructor_use_global_loop: Go has no global event loop.
//   - CoroutineGatherTests.test_constructor_without_loop: Gather takes
//     awaitables, not coroutines; the empty case without a loop is
//     TestGather_test_constructor_empty_sequence_without_loop.
//   - test_issue46672: a non-awaitable argument is a compile error in Go.

// wrappers are GatherTestsBase's two subclasses.
var wrappers = []struct {
	name string
	wrap func(ctx context.Context, fs ...*asyncio.Future[int]) []asyncio.AwaitableOf[int]
}{
	{"FutureGatherTests", func(_ context.Context, fs ...*asyncio.Future[int]) []asyncio.AwaitableOf[int] {
		out := make([]asyncio.AwaitableOf[int], len(fs))
		for i, f := range fs {
			out[i] = f
		}
		return out
	}},
	{"CoroutineGatherTests", func(ctx context.Context, fs ...*asyncio.Future[int]) []asyncio.AwaitableOf[int] {
		out := make([]asyncio.AwaitableOf[int], len(fs))
		for i, f := range fs {
			out[i] = waitTask(ctx, f)
		}
		return out
	}},
}

func futures(loop *asyncio.Loop, n int) []*asyncio.Future[int] {
	fs := make([]*asyncio.Future[int], n)
	for i := range fs {
		fs[i] = asyncio.NewFuture[int](loop)
	}
	return fs
}

func values(os []asyncio.Outcome[int]) []int {
	out := make([]int, len(os))
	for i, o := range os {
		out[i] = o.Value
	}
	return out
}

func TestGather_test_success(t *testing.T) {
	for _, w := range wrappers {
		for _, returnExceptions := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/return_exceptions=%v", w.name, returnExceptions), func(t *testing.T) {
				mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
					fs := futures(loop, 3)
					a, b, c := fs[0], fs[1], fs[2]
					var fut asyncio.Awaitable
					var result func() []int
					if returnExceptions {
						g := asyncio.GatherResults(ctx, w.wrap(ctx, a, b, c)...)
						fut, result = g, func() []int { r, _ := g.Result(); return values(r) }
					} else {
						g := asyncio.Gather(ctx, w.wrap(ctx, a, b, c)...)
						fut, result = g, func() []int { r, _ := g.Result(); return r }
					}
					var cb callCount
					fut.AddDoneCallback(cb.cb)
					b.SetResult(1)
					a.SetResult(2)
					runLoop(ctx)
					if cb.n != 0 || fut.Done() {
						t.Errorf("done early: got cb %d, done %v; want cb.n == 0 && !fut.Done()", cb.n, fut.Done())
					}
					c.SetResult(3)
					runLoop(ctx)
					if cb.n != 1 {
						t.Errorf("got callback called %d times; want cb.n == 1", cb.n)
					}
					if got := result(); !slices.Equal(got, []int{2, 1, 3}) {
						t.Errorf("result: got %v, want %v", got, []int{2, 1, 3})
					}
					return nil
				})
			})
		}
	}
}

func TestGather_test_one_exception(t *testing.T) {
	for _, w := range wrappers {
		t.Run(w.name, func(t *testing.T) {
			mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
				fs := futures(loop, 5)
				a, b, c, d, e := fs[0], fs[1], fs[2], fs[3], fs[4]
				fut := asyncio.Gather(ctx, w.wrap(ctx, a, b, c, d, e)...)
				var cb callCount
				fut.AddDoneCallback(cb.cb)
				a.SetResult(1)
				b.SetException(errZeroDivision)
				runLoop(ctx)
				if !fut.Done() || cb.n != 1 {
					t.Errorf("got done %v, cb %d; want fut.Done() && cb.n == 1", fut.Done(), cb.n)
				}
				if err := fut.Exception(); err != errZeroDivision {
					t.Errorf("exception: got %v, want %v", err, errZeroDivision)
				}
				// Does nothing.
				c.SetResult(3)
				d.Cancel("")
				e.SetException(errRuntime)
				e.Exception()
				runLoop(ctx)
				if cb.n != 1 {
					t.Errorf("got callback called %d times; want cb.n == 1", cb.n)
				}
				return nil
			})
		})
	}
}

func TestGather_test_return_exceptions(t *testing.T) {
	for _, w := range wrappers {
		t.Run(w.name, func(t *testing.T) {
			mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
				fs := futures(loop, 4)
				a, b, c, d := fs[0], fs[1], fs[2], fs[3]
				fut := asyncio.GatherResults(ctx, w.wrap(ctx, a, b, c, d)...)
				var cb callCount
				fut.AddDoneCallback(cb.cb)
				b.SetResult(1)
				c.SetException(errZeroDivision)
				a.SetResult(3)
				runLoop(ctx)
				if fut.Done() {
					t.Errorf("done early: fut.Done() got true, want false")
				}
				d.SetException(errRuntime)
				runLoop(ctx)
				if !fut.Done() || cb.n != 1 {
					t.Errorf("got done %v, cb %d; want fut.Done() && cb.n == 1", fut.Done(), cb.n)
				}
				got, err := fut.Result()
				want := []asyncio.Outcome[int]{{Value: 3}, {Value: 1}, {Err: errZeroDivision}, {Err: errRuntime}}
				if err != nil || !slices.Equal(got, want) {
					t.Errorf("got result %v, %v; want err == nil && slices.Equal(got, want)", got, err)
				}
				return nil
			})
		})
	}
}

func TestGather_test_constructor_empty_sequence_without_loop(t *testing.T) {
	v := panicValue(t, "Gather without a loop", func() { asyncio.Gather[int, *asyncio.Task[int]](context.Background()) })
	if err, _ := v.(error); !errors.Is(err, asyncio.ErrNoRunningLoop) {
		t.Errorf("Gather without a loop: got a panic of %T %v, want an error matching ErrNoRunningLoop", v, v)
	}
}

func TestGather_test_constructor_empty_sequence_use_running_loop(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		fut := asyncio.Gather[int, *asyncio.Task[int]](ctx)
		if fut.Loop() != loop {
			t.Errorf("wrong loop: got fut.Loop() != loop, want fut.Loop() == loop")
		}
		runLoop(ctx)
		if got, err := fut.Result(); !fut.Done() || err != nil || got == nil || len(got) != 0 {
			t.Errorf("got result %#v, %v; want fut.Done() && err == nil && got != nil && len(got) == 0", got, err)
		}
		return nil
	})
}

func TestGather_test_constructor_heterogenous_futures(t *testing.T) {
	withLoop(t, func(ctx context.Context, one *asyncio.Loop) {
		withLoop(t, func(ctx context.Context, other *asyncio.Loop) {
			onLoop(ctx, one, func(ctx context.Context) {
				fut1 := asyncio.NewFuture[int](one)
				fut2 := asyncio.NewFuture[int](other)
				panicValue(t, "Gather of futures of two loops", func() { asyncio.Gather(ctx, fut1, fut2) })
			})
		})
	})
}

func TestGather_test_constructor_homogenous_futures(t *testing.T) {
	withLoop(t, func(ctx context.Context, one *asyncio.Loop) {
		withLoop(t, func(ctx context.Context, other *asyncio.Loop) {
			onLoop(ctx, other, func(ctx context.Context) {
				children := futures(other, 3)
				for range 2 {
					fut := asyncio.Gather(ctx, children[0], children[1], children[2])
					if fut.Loop() != other || fut.Done() {
						t.Errorf("got loop %v, done %v; want fut.Loop() == other && !fut.Done()", fut.Loop() == other, fut.Done())
					}
				}
			})
		})
	})
}

func TestGather_test_one_cancellation(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		fs := futures(loop, 5)
		a, b, c, d, e := fs[0], fs[1], fs[2], fs[3], fs[4]
		fut := asyncio.Gather(ctx, a, b, c, d, e)
		var cb callCount
		fut.AddDoneCallback(cb.cb)
		a.SetResult(1)
		b.Cancel("")
		runLoop(ctx)
		if !fut.Done() || cb.n != 1 || fut.Cancelled() {
			t.Errorf("got done %v, cb %d, cancelled %v; want fut.Done() && cb.n == 1 && !fut.Cancelled()", fut.Done(), cb.n, fut.Cancelled())
		}
		if err := fut.Exception(); !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("exception: got %v, want an error matching asyncio.ErrCancelled", err)
		}
		// Does nothing.
		c.SetResult(3)
		d.Cancel("")
		e.SetException(errRuntime)
		e.Exception()
		return nil
	})
}

func TestGather_test_result_exception_one_cancellation(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		fs := futures(loop, 6)
		a, b, c, d, e, f := fs[0], fs[1], fs[2], fs[3], fs[4], fs[5]
		fut := asyncio.GatherResults(ctx, a, b, c, d, e, f)
		var cb callCount
		fut.AddDoneCallback(cb.cb)
		a.SetResult(1)
		b.SetException(errZeroDivision)
		c.Cancel("")
		runLoop(ctx)
		if fut.Done() {
			t.Errorf("done early: fut.Done() got true, want false")
		}
		d.SetResult(3)
		e.Cancel("")
		f.SetException(errRuntime)
		res, err := asyncio.Await(ctx, fut)
		if err != nil || len(res) != 6 {
			t.Errorf("got result %v, %v; want err == nil && len(res) == 6", res, err)
			return nil
		}
		if !errors.Is(res[2].Err, asyncio.ErrCancelled) || !errors.Is(res[4].Err, asyncio.ErrCancelled) {
			t.Errorf("not cancellations: got %v; want errors.Is(res[2].Err, asyncio.ErrCancelled) && errors.Is(res[4].Err, asyncio.ErrCancelled)", res)
		}
		res[2].Err, res[4].Err = nil, nil
		want := []asyncio.Outcome[int]{{Value: 1}, {Err: errZeroDivision}, {}, {Value: 3}, {}, {Err: errRuntime}}
		if !slices.Equal(res, want) || cb.n != 1 {
			t.Errorf("got result %v, cb %d; want slices.Equal(res, want) && cb.n == 1", res, cb.n)
		}
		return nil
	})
}

func TestGather_test_constructor_use_running_loop(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		coro := func(context.Context) (string, error) { return "abc", nil }
		fut := asyncio.Gather(ctx, asyncio.CreateTask(ctx, coro), asyncio.CreateTask(ctx, coro))
		if fut.Loop() != loop {
			t.Errorf("wrong loop: got fut.Loop() != loop, want fut.Loop() == loop")
		}
		if got, err := asyncio.Await(ctx, fut); err != nil || !slices.Equal(got, []string{"abc", "abc"}) {
			t.Errorf("got result %v, %v; want err == nil && slices.Equal(got, []string{\"abc\", \"abc\"})", got, err)
		}
		return nil
	})
}

func TestGather_test_duplicate_coroutines(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		coro := func(s string) func(context.Context) (string, error) {
			return func(context.Context) (string, error) { return s, nil }
		}
		c := asyncio.CreateTask(ctx, coro("abc"))
		fut := asyncio.Gather(ctx, c, c, asyncio.CreateTask(ctx, coro("def")), c)
		runLoop(ctx)
		if got, err := fut.Result(); err != nil || !slices.Equal(got, []string{"abc", "abc", "def", "abc"}) {
			t.Errorf("got result %v, %v; want err == nil && slices.Equal(got, []string{\"abc\", \"abc\", \"def\", \"abc\"})", got, err)
		}
		return nil
	})
}

func TestGather_test_cancellation_broadcast(t *testing.T) {
	// Cancelling outer() cancels all children.
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		proof := 0
		waiter := asyncio.NewFuture[int](loop)
		inner := func(ctx context.Context) (int, error) {
			if _, err := asyncio.Await(ctx, waiter); err != nil {
				return 0, err
			}
			proof++
			return 0, nil
		}
		child1 := asyncio.CreateTask(ctx, inner)
		child2 := asyncio.CreateTask(ctx, inner)
		var gatherer *asyncio.GatheringFuture[int]
		f := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			gatherer = asyncio.Gather(ctx, child1, child2)
			if _, err := asyncio.Await(ctx, gatherer); err != nil {
				return 0, err
			}
			proof += 100
			return 0, nil
		})
		runBriefly(ctx)
		if !f.Cancel("") {
			t.Errorf("Cancel reported false: f.Cancel(\"\") got false, want true")
		}
		if _, err := asyncio.Await(ctx, f); !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("outer: got %v, want an error matching asyncio.ErrCancelled", err)
		}
		if gatherer.Cancel("") {
			t.Errorf("gatherer.Cancel reported true: gatherer.Cancel(\"\") got true, want false")
		}
		if !waiter.Cancelled() || !child1.Cancelled() || !child2.Cancelled() {
			t.Errorf("got waiter %v, child1 %v, child2 %v; want waiter.Cancelled() && child1.Cancelled() && child2.Cancelled()", waiter, child1, child2)
		}
		runBriefly(ctx)
		if proof != 0 {
			t.Errorf("proof: got %d, want %d", proof, 0)
		}
		return nil
	})
}

func TestGather_test_exception_marking(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		inner := func(f *asyncio.Future[int]) func(context.Context) (int, error) {
			return func(ctx context.Context) (int, error) {
				if _, err := asyncio.Await(ctx, f); err != nil {
					return 0, err
				}
				return 0, errRuntime // should not be ignored
			}
		}
		a := asyncio.NewFuture[int](loop)
		b := asyncio.NewFuture[int](loop)
		f := asyncio.CreateTask(ctx, func(ctx context.Context) ([]int, error) {
			return asyncio.Await(ctx, asyncio.Gather(ctx,
				asyncio.CreateTask(ctx, inner(a)), asyncio.CreateTask(ctx, inner(b))))
		})
		runBriefly(ctx)
		a.SetResult(0)
		runBriefly(ctx)
		b.SetResult(0)
		runBriefly(ctx)
		runLoop(ctx)
		if err := f.Exception(); err != errRuntime {
			t.Errorf("exception: got %v, want %v", err, errRuntime)
		}
		return nil
	})
}

// test_tasks.py BaseTaskTests.test_cancel_gather_1: a gathering future
// refuses to be cancelled once all its children are done.
func TestGather_test_cancel_gather_1(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		fut := asyncio.NewFuture[int](loop)
		child := waitTask(ctx, fut)
		gatherFuture := asyncio.Gather(ctx, child)
		runBriefly(ctx)
		var cancelResult *bool
		fut.AddDoneCallback(func(context.Context) {
			r := gatherFuture.Cancel("")
			cancelResult = &r
		})
		fut.SetResult(42) // runs the cancelling callback after fut is done
		got, err := asyncio.Await(ctx, gatherFuture)
		// Python issue #26923: asyncio.gather drops cancellation.
		if cancelResult == nil || *cancelResult || gatherFuture.Cancelled() {
			t.Errorf("got cancel result %v, cancelled %v; want cancelResult != nil && !(*cancelResult) && !gatherFuture.Cancelled()", cancelResult, gatherFuture.Cancelled())
		}
		if err != nil || !slices.Equal(got, []int{42}) {
			t.Errorf("got result %v, %v; want err == nil && slices.Equal(got, []int{42})", got, err)
		}
		return nil
	})
}

// test_tasks.py BaseTaskTests.test_cancel_gather_2: the message of a
// cancellation reaches the gatherer's caller.
func TestGather_test_cancel_gather_2(t *testing.T) {
	for _, msg := range []string{"", "my message"} {
		t.Run(fmt.Sprintf("msg=%q", msg), func(t *testing.T) {
			mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
				test := func(ctx context.Context) (int, error) {
					for elapsed := time.Duration(0); elapsed <= time.Second; elapsed += 50 * time.Millisecond {
						s := sleeper(ctx, 50*time.Millisecond, 0)
						if _, err := asyncio.Await(ctx, asyncio.GatherResults(ctx, s)); err != nil {
							return 0, err
						}
					}
					return 0, nil
				}
				qwe := asyncio.CreateTask(ctx, test)
				asyncio.Sleep(ctx, 200*time.Millisecond)
				qwe.Cancel(msg)
				_, err := asyncio.Await(ctx, qwe)
				var ce *asyncio.CancelledError
				if !errors.As(err, &ce) || ce.Msg != msg {
					t.Errorf("gather() does not propagate the CancelledError to its caller: got %v; want errors.As(err, &ce) && ce.Msg == msg", err)
				}
				return nil
			})
		})
	}
}

func TestGather_test_shield_gather(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		child1 := asyncio.NewFuture[int](loop)
		child2 := asyncio.NewFuture[int](loop)
		parent := asyncio.Gather(ctx, child1, child2)
		outer := asyncio.Shield(parent)
		runBriefly(ctx)
		outer.Cancel("")
		runBriefly(ctx)
		if !outer.Cancelled() {
			t.Errorf("outer not cancelled: outer.Cancelled() got false, want true")
		}
		child1.SetResult(1)
		child2.SetResult(2)
		runBriefly(ctx)
		if got, err := parent.Result(); err != nil || !slices.Equal(got, []int{1, 2}) {
			t.Errorf("got result %v, %v; want err == nil && slices.Equal(got, []int{1, 2})", got, err)
		}
		return nil
	})
}

func TestGather_test_gather_shield(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		child1 := asyncio.NewFuture[int](loop)
		child2 := asyncio.NewFuture[int](loop)
		inner1 := asyncio.Shield(child1)
		inner2 := asyncio.Shield(child2)
		parent := asyncio.Gather(ctx, inner1, inner2)
		runBriefly(ctx)
		parent.Cancel("")
		// This cancels inner1 and inner2 but not child1 and child2.
		runBriefly(ctx)
		if err := parent.Exception(); !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("parent exception: got %v, want an error matching asyncio.ErrCancelled", err)
		}
		if !inner1.Cancelled() || !inner2.Cancelled() || child1.Done() || child2.Done() {
			t.Errorf("got inner1 %v, inner2 %v, child1 %v, child2 %v; want inner1.Cancelled() && inner2.Cancelled() && !child1.Done() && !child2.Done()", inner1, inner2, child1, child2)
		}
		child1.SetResult(1)
		child2.SetResult(2)
		runBriefly(ctx)
		return nil
	})
}

// Go's own: AsAny gathers results of different types.
func TestGather_AsAny(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		i := sleeper(ctx, time.Millisecond, 7)
		s := sleeper(ctx, 2*time.Millisecond, "seven")
		got, err := asyncio.Await(ctx, asyncio.Gather(ctx, asyncio.AsAny(i), asyncio.AsAny(s)))
		if err != nil || len(got) != 2 || got[0] != 7 || got[1] != "seven" {
			t.Errorf("got result %v, %v; want err == nil && len(got) == 2 && got[0] == 7 && got[1] == \"seven\"", got, err)
		}
		bad := asyncio.NewFuture[float64](loop)
		bad.SetException(errRuntime)
		res, err := asyncio.Await(ctx, asyncio.GatherResults(ctx, asyncio.AsAny(i), asyncio.AsAny(bad)))
		if err != nil || res[0].Value != 7 || res[1].Err != errRuntime {
			t.Errorf("got results %v, %v; want err == nil && res[0].Value == 7 && res[1].Err == errRuntime", res, err)
		}
		return nil
	})
}
