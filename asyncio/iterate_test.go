package asyncio_test

// Iteration across the boundary: trio-asyncio's
// tests/interop/test_calls.py (test_trio_asyncio_generator*,
// test_trio_asyncio_iterator) and tests/interop/test_adapter.py
// (TestAdapt.test_trio_asyncio_iter, test_asyncio_trio_iter), named
// TestTrioAsyncio_<case>, plus early break and cancellation from either
// side.

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

func collect[T any](seq func(yield func(T, error) bool)) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

func TestTrioAsyncio_test_trio_asyncio_generator(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		res, err := collect(asyncio.IterAsyncio(ctx, func(ctx context.Context, yield func(int) error) error {
			if err := yield(1); err != nil {
				return err
			}
			if err := asyncio.Sleep(ctx, 10*time.Millisecond); err != nil {
				return err
			}
			return yield(2)
		}))
		if !slices.Equal(res, []int{1, 2}) || err != nil {
			t.Errorf("%v, %v", res, err)
		}
	})
}

func TestTrioAsyncio_test_trio_asyncio_generator_with_error(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		res, err := collect(asyncio.IterAsyncio(ctx, func(ctx context.Context, yield func(int) error) error {
			if err := yield(1); err != nil {
				return err
			}
			return errors.New("I has an owie")
		}))
		if !slices.Equal(res, []int{1}) || err == nil || err.Error() != "I has an owie" {
			t.Errorf("%v, %v", res, err)
		}
	})
}

func TestTrioAsyncio_test_trio_asyncio_generator_with_cancellation(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		var flag atomic.Int64
		var genErr, iterErr error
		var hold *asyncio.Event
		onLoop(ctx, loop, func(context.Context) { hold = &asyncio.Event{} })
		var scope *trio.CancelScope
		err := trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
			scope = n.CancelScope()
			n.StartSoon(func(ctx context.Context) error {
				_, iterErr = collect(asyncio.IterAsyncio(ctx, func(ctx context.Context, yield func(int) error) error {
					if err := yield(1); err != nil {
						return err
					}
					flag.Or(1)
					genErr = hold.Wait(ctx)
					return genErr
				}))
				return iterErr
			})
			n.StartSoon(func(ctx context.Context) error {
				trio.Sleep(ctx, 10*time.Millisecond)
				n.CancelScope().Cancel()
				return nil
			})
			return nil
		})
		if err != nil || !scope.CancelCalled() || flag.Load() != 1 {
			t.Errorf("nursery: %v; cancel called %v; flag %d", err, scope.CancelCalled(), flag.Load())
		}
		// The producer saw asyncio's cancellation; the range loop trio's.
		if !errors.Is(genErr, asyncio.ErrCancelled) || !trio.IsCancellation(iterErr) {
			t.Errorf("producer: %v; range loop: %v", genErr, iterErr)
		}
	})
}

func TestTrioAsyncio_test_trio_asyncio_iterator(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		sum := 0
		for n, err := range asyncio.IterAsyncio(ctx, func(ctx context.Context, yield func(int) error) error {
			for n := 1; n <= 5; n++ {
				if err := asyncio.Sleep(ctx, 10*time.Millisecond); err != nil {
					return err
				}
				if err := yield(n); err != nil {
					return err
				}
			}
			return nil
		}) {
			if err != nil {
				t.Fatal(err)
			}
			sum += n
		}
		if sum != 15 {
			t.Errorf("sum %d", sum)
		}
	})
}

func TestTrioAsyncio_test_trio_asyncio_iter(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		var flag atomic.Int64
		n := 0
		for x, err := range asyncio.IterAsyncio(ctx, func(ctx context.Context, yield func(int) error) error {
			if asyncio.CurrentTask(ctx) == nil {
				t.Errorf("the producer does not run as a task")
			}
			for _, v := range []int{1, 2} {
				if err := asyncio.Sleep(ctx, 10*time.Millisecond); err != nil {
					return err
				}
				if err := yield(v); err != nil {
					return err
				}
			}
			asyncio.Sleep(ctx, 10*time.Millisecond)
			flag.Or(1)
			return nil
		}) {
			if err != nil {
				t.Fatal(err)
			}
			n++
			if x != n {
				t.Errorf("got %d, want %d", x, n)
			}
		}
		if n != 2 || flag.Load() != 1 {
			t.Errorf("n %d, flag %d", n, flag.Load())
		}
	})
}

func TestTrioAsyncio_test_asyncio_trio_iter(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		var flag atomic.Int64
		n, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			n := 0
			for x, err := range asyncio.IterTrio(ctx, func(ctx context.Context, yield func(int) error) error {
				if _, err := asyncio.GetRunningLoop(ctx); err != nil {
					t.Errorf("the producer's ctx lacks the loop: %v", err)
				}
				for _, v := range []int{1, 2} {
					if err := trio.Sleep(ctx, 10*time.Millisecond); err != nil {
						return err
					}
					if err := yield(v); err != nil {
						return err
					}
				}
				trio.Sleep(ctx, 10*time.Millisecond)
				flag.Or(1)
				return nil
			}) {
				if err != nil {
					return n, err
				}
				n++
				if x != n {
					t.Errorf("got %d, want %d", x, n)
				}
			}
			return n, nil
		})
		if n != 2 || err != nil || flag.Load() != 1 {
			t.Errorf("n %d, %v, flag %d", n, err, flag.Load())
		}
	})
}

// Early break, trio side: the producer task is cancelled and has
// returned (its cleanup ran) when the range loop is left.
func TestIterAsyncio_break_cancels_and_waits_for_the_producer(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		var cleaned atomic.Bool
		var yieldErr error
		for v, err := range asyncio.IterAsyncio(ctx, func(ctx context.Context, yield func(int) error) error {
			defer func() {
				asyncio.Sleep(ctx, time.Millisecond) // cleanup may still await
				cleaned.Store(true)
			}()
			for i := 0; ; i++ {
				if yieldErr = yield(i); yieldErr != nil {
					return yieldErr
				}
			}
		}) {
			if err != nil || v != 0 {
				t.Errorf("%v, %v", v, err)
			}
			break
		}
		if !cleaned.Load() || !errors.Is(yieldErr, asyncio.ErrCancelled) {
			t.Errorf("after break: cleaned %v, yield returned %v", cleaned.Load(), yieldErr)
		}
	})
}

// A producer cancelled from the asyncio side: the range loop gets its
// CancelledError.
func TestIterAsyncio_producer_cancelled_by_asyncio(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		var got []int
		var last error
		for v, err := range asyncio.IterAsyncio(ctx, func(ctx context.Context, yield func(int) error) error {
			if err := yield(1); err != nil {
				return err
			}
			task := asyncio.CurrentTask(ctx)
			loop.CallSoon(func(context.Context) { task.Cancel("from asyncio") })
			return asyncio.Sleep(ctx, time.Hour)
		}) {
			if err != nil {
				last = err
				break
			}
			got = append(got, v)
		}
		if msg, ok := cancelMsg(last); !slices.Equal(got, []int{1}) || !ok || msg != "from asyncio" || trio.IsCancellation(last) {
			t.Errorf("%v, %v", got, last)
		}
	})
}

// Early break, asyncio side: the trio producer's ctx is cancelled and it
// has returned when the range loop is left.
func TestIterTrio_break_cancels_and_waits_for_the_producer(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		var cleaned atomic.Bool
		var yieldErr error
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			for v, err := range asyncio.IterTrio(ctx, func(ctx context.Context, yield func(int) error) error {
				defer cleaned.Store(true)
				for i := 0; ; i++ {
					if yieldErr = yield(i); yieldErr != nil {
						return yieldErr
					}
				}
			}) {
				if err != nil || v != 0 {
					t.Errorf("%v, %v", v, err)
				}
				break
			}
			if !cleaned.Load() {
				t.Errorf("the producer has not returned after break")
			}
			return 0, nil
		})
		if err != nil || !trio.IsCancellation(yieldErr) {
			t.Errorf("RunAsyncio: %v; yield returned %v", err, yieldErr)
		}
	})
}

// The consuming task cancelled while it waits for a value: the trio
// producer is cancelled, and the iteration yields the task's
// CancelledError once the producer has returned.
func TestIterTrio_consumer_task_cancelled(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		var producerErr, iterErr error
		var returned atomic.Bool
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			task := asyncio.CurrentTask(ctx)
			for v, err := range asyncio.IterTrio(ctx, func(ctx context.Context, yield func(int) error) error {
				defer returned.Store(true)
				if err := yield(1); err != nil {
					return err
				}
				producerErr = trio.SleepForever(ctx)
				return producerErr
			}) {
				if err != nil {
					iterErr = err
					break
				}
				if v == 1 {
					loop.CallSoon(func(context.Context) { task.Cancel("stop") })
				}
			}
			if !returned.Load() {
				t.Errorf("the producer has not returned")
			}
			return 0, iterErr
		})
		if msg, ok := cancelMsg(iterErr); !ok || msg != "stop" || !trio.IsCancellation(producerErr) {
			t.Errorf("iteration: %v; producer: %v", iterErr, producerErr)
		}
		if !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("RunAsyncio: %v", err)
		}
	})
}

// A trio producer's error, and its own cancellation, end the iteration.
func TestIterTrio_producer_error_and_own_cancellation(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		boom := errors.New("boom")
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			res, err := collect(asyncio.IterTrio(ctx, func(ctx context.Context, yield func(int) error) error {
				yield(1)
				return boom
			}))
			if !slices.Equal(res, []int{1}) || err != boom {
				t.Errorf("error: %v, %v", res, err)
			}
			_, err = collect(asyncio.IterTrio(ctx, func(ctx context.Context, yield func(int) error) error {
				var s trio.CancelScope
				return s.Run(ctx, func(ctx context.Context) error {
					s.Cancel()
					return trio.Checkpoint(ctx)
				})
			}))
			if err != nil {
				t.Errorf("a cancellation absorbed inside the producer: %v", err)
			}
			return 0, nil
		})
		if err != nil {
			t.Error(err)
		}
	})
}

// Flavor mistakes are yielded, not hung on.
func TestIter_wrong_flavor(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		for _, err := range asyncio.IterTrio(ctx, func(context.Context, func(int) error) error { return nil }) {
			if !errors.Is(err, asyncio.ErrAwaitOutsideTask) {
				t.Errorf("IterTrio from trio code: %v", err)
			}
		}
		asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			for _, err := range asyncio.IterAsyncio(ctx, func(context.Context, func(int) error) error { return nil }) {
				if !errors.Is(err, asyncio.ErrWrongFlavor) {
					t.Errorf("IterAsyncio from a task: %v", err)
				}
			}
			return 0, nil
		})
	})
}
