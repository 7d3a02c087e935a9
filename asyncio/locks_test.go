package asyncio_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// The behaviours of CPython 3.13's Lib/test/test_asyncio/test_locks.py,
// one Go test per Python case, named Test<Class>_<case>.
//
// Not transcribed, because Go cannot express them: LockTests.test_lock,
// SemaphoreTests.test_semaphore's first half and BarrierTests.test_barrier's
// (awaiting the primitive itself: a compile error in Go);
// test_lock_doesnt_accept_loop_parameter (no loop= argument);
// test_lock_by_with_statement ("with await lock"). The repr tests check
// String instead; "async with" is Acquire plus a deferred Release.

// ---- Lock

func TestLockTests_test_repr(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var lock asyncio.Lock
		expect(t, lock.String(), "<Lock [unlocked]>", "repr")
		expectNoErr(t, lock.Acquire(ctx), "Acquire")
		expect(t, lock.String(), "<Lock [locked]>", "repr")
		w := spawn(ctx, lock.Acquire)
		tick(t, ctx)
		expect(t, lock.String(), "<Lock [locked, waiters:1]>", "repr")
		lock.Release()
		expectNoErr(t, await(ctx, w), "waiter")
		return nil
	})
}

func TestLockTests_test_acquire(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var lock asyncio.Lock
		var result []int
		expectNoErr(t, lock.Acquire(ctx), "Acquire")
		c := func(n int) func(ctx context.Context) error {
			return func(ctx context.Context) error {
				if err := lock.Acquire(ctx); err != nil {
					return err
				}
				result = append(result, n)
				return nil
			}
		}
		t1 := spawn(ctx, c(1))
		t2 := spawn(ctx, c(2))
		tick(t, ctx)
		expectSlice(t, result, nil, "result")

		lock.Release()
		tick(t, ctx)
		expectSlice(t, result, []int{1}, "result")
		tick(t, ctx)
		expectSlice(t, result, []int{1}, "result")

		t3 := spawn(ctx, c(3))
		lock.Release()
		tick(t, ctx)
		expectSlice(t, result, []int{1, 2}, "result")

		lock.Release()
		tick(t, ctx)
		expectSlice(t, result, []int{1, 2, 3}, "result")

		for _, task := range []*asyncio.Task[struct{}]{t1, t2, t3} {
			_, err := task.Result()
			expect(t, task.Done(), true, "done")
			expectNoErr(t, err, "result")
		}
		return nil
	})
}

func TestLockTests_test_acquire_cancel(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var lock asyncio.Lock
		expectNoErr(t, lock.Acquire(ctx), "Acquire")
		task := spawn(ctx, lock.Acquire)
		callSoonCancel(ctx, task)
		expectErr(t, await(ctx, task), asyncio.ErrCancelled, "await task")
		expect(t, asyncio.LockWaiters(&lock), 0, "waiters")
		return nil
	})
}

func TestLockTests_test_cancel_race(t *testing.T) {
	// A holds the lock, B and C wait. Then, at once, B is cancelled and A
	// releases: the release must pass over B's cancelled waiter to C.
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var lock asyncio.Lock
		lockit := func(blocker *asyncio.Future[struct{}]) func(ctx context.Context) error {
			return func(ctx context.Context) error {
				if err := lock.Acquire(ctx); err != nil {
					return err
				}
				defer lock.Release()
				if blocker != nil {
					_, err := asyncio.Await(ctx, blocker)
					return err
				}
				return nil
			}
		}
		fa := asyncio.NewFuture[struct{}](loop)
		ta := spawn(ctx, lockit(fa))
		tick(t, ctx)
		expect(t, lock.Locked(), true, "locked")
		tb := spawn(ctx, lockit(nil))
		tick(t, ctx)
		expect(t, asyncio.LockWaiters(&lock), 1, "waiters")
		tc := spawn(ctx, lockit(nil))
		tick(t, ctx)
		expect(t, asyncio.LockWaiters(&lock), 2, "waiters")

		fa.SetResult(struct{}{})
		tb.Cancel("")
		expect(t, asyncio.LockFirstWaiterCancelled(&lock), true, "first waiter cancelled")
		tick(t, ctx)
		expect(t, lock.Locked(), false, "locked")
		expect(t, ta.Done(), true, "ta done")
		expect(t, tb.Cancelled(), true, "tb cancelled")
		expectNoErr(t, await(ctx, tc), "tc")
		return nil
	})
}

func TestLockTests_test_cancel_release_race(t *testing.T) {
	// bpo-32734: with 4 acquires, cancelling the second and releasing the
	// first must not let two tasks take the lock.
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var lock asyncio.Lock
		lockCount, callCount := 0, 0
		lockit := func(ctx context.Context) error {
			callCount++
			if err := lock.Acquire(ctx); err != nil {
				return err
			}
			lockCount++
			return nil
		}
		expectNoErr(t, lock.Acquire(ctx), "Acquire")
		t1 := spawn(ctx, lockit)
		t2 := spawn(ctx, lockit)
		t3 := spawn(ctx, lockit)
		tick(t, ctx)

		loop.CallSoon(func(context.Context) {
			t1.Cancel("")
			lock.Release()
		})
		expectErr(t, await(ctx, t1), asyncio.ErrCancelled, "await t1")
		expect(t, lockCount, 1, "lock count")
		expect(t, callCount, 3, "call count")
		expect(t, t1.Cancelled() && t2.Done(), true, "t1 cancelled and t2 done")

		t3.Cancel("")
		tick(t, ctx)
		expect(t, t3.Cancelled(), true, "t3 cancelled")
		return nil
	})
}

func TestLockTests_test_finished_waiter_cancelled(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var lock asyncio.Lock
		expectNoErr(t, lock.Acquire(ctx), "Acquire")
		expect(t, lock.Locked(), true, "locked")
		tb := spawn(ctx, lock.Acquire)
		tick(t, ctx)
		expect(t, asyncio.LockWaiters(&lock), 1, "waiters")

		// A second waiter; wake up the first and cancel it: the second
		// must get the lock.
		tc := spawn(ctx, lock.Acquire)
		tb.Cancel("")
		lock.Release()
		tick(t, ctx)
		expect(t, lock.Locked(), true, "locked")
		expect(t, tb.Cancelled(), true, "tb cancelled")
		expectNoErr(t, await(ctx, tc), "tc")
		return nil
	})
}

func TestLockTests_test_release_not_acquired(t *testing.T) {
	var lock asyncio.Lock
	if msg := mustPanic(t, lock.Release); !strings.Contains(msg, "Lock is not acquired") {
		t.Errorf("lock.Release: got panic %q, want it to contain %q", msg, "Lock is not acquired")
	}
}

func TestLockTests_test_release_no_waiters(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var lock asyncio.Lock
		expectNoErr(t, lock.Acquire(ctx), "Acquire")
		expect(t, lock.Locked(), true, "locked")
		lock.Release()
		expect(t, lock.Locked(), false, "locked")
		return nil
	})
}

func TestLockTests_test_context_manager(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var lock asyncio.Lock
		expect(t, lock.Locked(), false, "locked")
		func() {
			if err := lock.Acquire(ctx); err != nil {
				t.Errorf("lock.Acquire: got %v, want nil", err)
				return
			}
			defer lock.Release()
			expect(t, lock.Locked(), true, "locked inside")
		}()
		expect(t, lock.Locked(), false, "locked after")
		return nil
	})
}

// Beyond CPython's cases: FIFO order under load, and a lock used outside
// a task.

func TestLock_fifo_with_cancellations(t *testing.T) {
	// Ten tasks queue for the lock; every third is cancelled while it
	// waits, some after being woken. The others get the lock in order.
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var lock asyncio.Lock
		var order []int
		expectNoErr(t, lock.Acquire(ctx), "Acquire")
		tasks := make([]*asyncio.Task[struct{}], 10)
		for i := range tasks {
			tasks[i] = spawn(ctx, func(ctx context.Context) error {
				if err := lock.Acquire(ctx); err != nil {
					return err
				}
				order = append(order, i)
				asyncio.Sleep(ctx, 0)
				lock.Release()
				return nil
			})
		}
		tick(t, ctx)
		tasks[0].Cancel("") // woken by the release below, then cancelled
		lock.Release()
		tasks[3].Cancel("")
		tasks[6].Cancel("")
		tasks[9].Cancel("")
		errs := gather(ctx, tasks...)
		for i, err := range errs {
			if i%3 == 0 {
				expectErr(t, err, asyncio.ErrCancelled, "cancelled task")
			} else {
				expectNoErr(t, err, "task")
			}
		}
		expectSlice(t, order, []int{1, 2, 4, 5, 7, 8}, "order")
		expect(t, lock.Locked(), false, "locked")
		expect(t, asyncio.LockWaiters(&lock), 0, "waiters")
		return nil
	})
}

func TestLock_outside_task(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		var lock asyncio.Lock
		// Uncontended, Acquire does not wait: it works anywhere.
		expectNoErr(t, lock.Acquire(ctx), "Acquire")
		// Contended, it must wait, which only a task can do.
		expectErr(t, lock.Acquire(ctx), asyncio.ErrAwaitOutsideTask, "Acquire outside a task")
		onLoop(ctx, loop, func(cbctx context.Context) {
			expectErr(t, lock.Acquire(cbctx), asyncio.ErrAwaitOutsideTask, "Acquire in a callback")
		})
		lock.Release()
	})
}

// ---- Event

func TestEventTests_test_repr(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var ev asyncio.Event
		expect(t, ev.String(), "<Event [unset]>", "repr")
		ev.Set()
		expect(t, ev.String(), "<Event [set]>", "repr")
		ev.Clear()
		w := spawn(ctx, ev.Wait)
		tick(t, ctx)
		expect(t, ev.String(), "<Event [unset, waiters:1]>", "repr")
		ev.Set()
		expectNoErr(t, await(ctx, w), "waiter")
		return nil
	})
}

func TestEventTests_test_wait(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var ev asyncio.Event
		expect(t, ev.IsSet(), false, "is set")
		var result []int
		c := func(n int) func(ctx context.Context) error {
			return func(ctx context.Context) error {
				if err := ev.Wait(ctx); err != nil {
					return err
				}
				result = append(result, n)
				return nil
			}
		}
		t1 := spawn(ctx, c(1))
		t2 := spawn(ctx, c(2))
		tick(t, ctx)
		expectSlice(t, result, nil, "result")

		t3 := spawn(ctx, c(3))
		ev.Set()
		tick(t, ctx)
		expectSlice(t, result, []int{3, 1, 2}, "result")
		for _, task := range []*asyncio.Task[struct{}]{t1, t2, t3} {
			expect(t, task.Done(), true, "done")
		}
		return nil
	})
}

func TestEventTests_test_wait_on_set(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var ev asyncio.Event
		ev.Set()
		expectNoErr(t, ev.Wait(ctx), "Wait")
		return nil
	})
}

func TestEventTests_test_wait_cancel(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var ev asyncio.Event
		wait := spawn(ctx, ev.Wait)
		callSoonCancel(ctx, wait)
		expectErr(t, await(ctx, wait), asyncio.ErrCancelled, "await wait")
		expect(t, asyncio.EventWaiters(&ev), 0, "waiters")
		return nil
	})
}

func TestEventTests_test_clear(t *testing.T) {
	var ev asyncio.Event
	expect(t, ev.IsSet(), false, "is set")
	ev.Set()
	expect(t, ev.IsSet(), true, "is set")
	ev.Clear()
	expect(t, ev.IsSet(), false, "is set")
}

func TestEventTests_test_clear_with_waiters(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var ev asyncio.Event
		var result []int
		task := spawn(ctx, func(ctx context.Context) error {
			if err := ev.Wait(ctx); err != nil {
				return err
			}
			result = append(result, 1)
			return nil
		})
		tick(t, ctx)
		expectSlice(t, result, nil, "result")

		ev.Set()
		ev.Clear()
		expect(t, ev.IsSet(), false, "is set")
		ev.Set()
		ev.Set()
		expect(t, asyncio.EventWaiters(&ev), 1, "waiters")

		tick(t, ctx)
		expectSlice(t, result, []int{1}, "result")
		expect(t, asyncio.EventWaiters(&ev), 0, "waiters")
		expect(t, task.Done(), true, "done")
		return nil
	})
}

// ---- Condition

// condWaiter is CPython's c1/c2/c3 of the Condition tests: acquire, wait,
// record n, and release the lock if release.
func condWaiter(cond *asyncio.Condition, result *[]int, n int, release bool) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if err := cond.Acquire(ctx); err != nil {
			return err
		}
		if err := cond.Wait(ctx); err != nil {
			return err
		}
		*result = append(*result, n)
		if release {
			cond.Release()
		}
		return nil
	}
}

func TestConditionTests_test_wait(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var cond asyncio.Condition
		var result []int
		t1 := spawn(ctx, condWaiter(&cond, &result, 1, false))
		t2 := spawn(ctx, condWaiter(&cond, &result, 2, false))
		t3 := spawn(ctx, condWaiter(&cond, &result, 3, false))
		tick(t, ctx)
		expectSlice(t, result, nil, "result")
		expect(t, cond.Locked(), false, "locked")

		expectNoErr(t, cond.Acquire(ctx), "Acquire")
		cond.Notify(1)
		tick(t, ctx)
		expectSlice(t, result, nil, "result")
		expect(t, cond.Locked(), true, "locked")

		cond.Release()
		tick(t, ctx)
		expectSlice(t, result, []int{1}, "result")
		expect(t, cond.Locked(), true, "locked")

		cond.Notify(2)
		tick(t, ctx)
		expectSlice(t, result, []int{1}, "result")
		expect(t, cond.Locked(), true, "locked")

		cond.Release()
		tick(t, ctx)
		expectSlice(t, result, []int{1, 2}, "result")
		expect(t, cond.Locked(), true, "locked")

		cond.Release()
		tick(t, ctx)
		expectSlice(t, result, []int{1, 2, 3}, "result")
		expect(t, cond.Locked(), true, "locked")

		for _, task := range []*asyncio.Task[struct{}]{t1, t2, t3} {
			expect(t, task.Done(), true, "done")
		}
		return nil
	})
}

func TestConditionTests_test_wait_cancel(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var cond asyncio.Condition
		expectNoErr(t, cond.Acquire(ctx), "Acquire")
		wait := spawn(ctx, cond.Wait)
		callSoonCancel(ctx, wait)
		expectErr(t, await(ctx, wait), asyncio.ErrCancelled, "await wait")
		expect(t, asyncio.ConditionWaiters(&cond), 0, "waiters")
		expect(t, cond.Locked(), true, "locked")
		return nil
	})
}

func TestConditionTests_test_wait_cancel_contested(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var cond asyncio.Condition
		expectNoErr(t, cond.Acquire(ctx), "Acquire")
		expect(t, cond.Locked(), true, "locked")
		waitTask := spawn(ctx, cond.Wait)
		tick(t, ctx)
		expect(t, cond.Locked(), false, "locked")

		// Notify, but contest the lock before cancelling.
		expectNoErr(t, cond.Acquire(ctx), "Acquire")
		expect(t, cond.Locked(), true, "locked")
		cond.Notify(1)
		loop.CallSoon(func(context.Context) { waitTask.Cancel("") })
		loop.CallSoon(func(context.Context) { cond.Release() })
		// Cancelled or not (CPython accepts both), Wait holds the lock.
		await(ctx, waitTask)
		expect(t, cond.Locked(), true, "locked")
		return nil
	})
}

func TestConditionTests_test_wait_cancel_after_notify(t *testing.T) {
	// bpo-32841
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var cond asyncio.Condition
		waited := false
		waiter := spawn(ctx, func(ctx context.Context) error {
			if err := cond.Acquire(ctx); err != nil {
				return err
			}
			defer cond.Release()
			waited = true
			return cond.Wait(ctx)
		})
		tick(t, ctx) // start waiting

		expectNoErr(t, cond.Acquire(ctx), "Acquire")
		cond.Notify(1)
		tick(t, ctx) // get to Acquire
		waiter.Cancel("")
		tick(t, ctx) // activate the cancellation
		cond.Release()
		tick(t, ctx) // the cancellation occurs

		expect(t, waiter.Cancelled(), true, "waiter cancelled")
		expect(t, waited, true, "waited")
		return nil
	})
}

func TestConditionTests_test_wait_unacquired(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var cond asyncio.Condition
		if msg := mustPanic(t, func() { cond.Wait(ctx) }); !strings.Contains(msg, "un-acquired lock") {
			t.Errorf("cond.Wait(ctx): got panic %q, want it to contain %q", msg, "un-acquired lock")
		}
		return nil
	})
}

func TestConditionTests_test_wait_for(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var cond asyncio.Condition
		presult := false
		var result []int
		task := spawn(ctx, func(ctx context.Context) error {
			if err := cond.Acquire(ctx); err != nil {
				return err
			}
			if err := cond.WaitFor(ctx, func() bool { return presult }); err != nil {
				return err
			}
			result = append(result, 1)
			cond.Release()
			return nil
		})
		tick(t, ctx)
		expectSlice(t, result, nil, "result")

		expectNoErr(t, cond.Acquire(ctx), "Acquire")
		cond.Notify(1)
		cond.Release()
		tick(t, ctx)
		expectSlice(t, result, nil, "result")

		presult = true
		expectNoErr(t, cond.Acquire(ctx), "Acquire")
		cond.Notify(1)
		cond.Release()
		tick(t, ctx)
		expectSlice(t, result, []int{1}, "result")
		expect(t, task.Done(), true, "done")
		expectNoErr(t, task.Exception(), "task")
		return nil
	})
}

func TestConditionTests_test_wait_for_unacquired(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var cond asyncio.Condition
		// The predicate can be true at once.
		expectNoErr(t, cond.WaitFor(ctx, func() bool { return true }), "WaitFor")
		if msg := mustPanic(t, func() { cond.WaitFor(ctx, func() bool { return false }) }); !strings.Contains(msg, "un-acquired lock") {
			t.Errorf("cond.WaitFor(ctx, func() bool { return false }): got panic %q, want it to contain %q", msg, "un-acquired lock")
		}
		return nil
	})
}

func TestConditionTests_test_notify(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var cond asyncio.Condition
		var result []int
		t1 := spawn(ctx, condWaiter(&cond, &result, 1, true))
		t2 := spawn(ctx, condWaiter(&cond, &result, 2, true))
		t3 := spawn(ctx, condWaiter(&cond, &result, 3, true))
		tick(t, ctx)
		expectSlice(t, result, nil, "result")

		expectNoErr(t, cond.Acquire(ctx), "Acquire")
		cond.Notify(1)
		cond.Release()
		tick(t, ctx)
		expectSlice(t, result, []int{1}, "result")

		expectNoErr(t, cond.Acquire(ctx), "Acquire")
		cond.Notify(1)
		cond.Notify(2048)
		cond.Release()
		tick(t, ctx)
		expectSlice(t, result, []int{1, 2, 3}, "result")
		for _, task := range []*asyncio.Task[struct{}]{t1, t2, t3} {
			expect(t, task.Done(), true, "done")
		}
		return nil
	})
}

func TestConditionTests_test_notify_all(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var cond asyncio.Condition
		var result []int
		t1 := spawn(ctx, condWaiter(&cond, &result, 1, true))
		t2 := spawn(ctx, condWaiter(&cond, &result, 2, true))
		tick(t, ctx)
		expectSlice(t, result, nil, "result")

		expectNoErr(t, cond.Acquire(ctx), "Acquire")
		cond.NotifyAll()
		cond.Release()
		tick(t, ctx)
		expectSlice(t, result, []int{1, 2}, "result")
		expect(t, t1.Done() && t2.Done(), true, "done")
		return nil
	})
}

func TestConditionTests_test_notify_unacquired(t *testing.T) {
	var cond asyncio.Condition
	if msg := mustPanic(t, func() { cond.Notify(1) }); !strings.Contains(msg, "un-acquired lock") {
		t.Errorf("cond.Notify(1): got panic %q, want it to contain %q", msg, "un-acquired lock")
	}
}

func TestConditionTests_test_notify_all_unacquired(t *testing.T) {
	var cond asyncio.Condition
	if msg := mustPanic(t, cond.NotifyAll); !strings.Contains(msg, "un-acquired lock") {
		t.Errorf("cond.NotifyAll: got panic %q, want it to contain %q", msg, "un-acquired lock")
	}
}

func TestConditionTests_test_repr(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var cond asyncio.Condition
		expect(t, cond.String(), "<Condition [unlocked]>", "repr")
		expectNoErr(t, cond.Acquire(ctx), "Acquire")
		expect(t, cond.String(), "<Condition [locked]>", "repr")
		var result []int
		spawn(ctx, condWaiter(&cond, &result, 1, true))
		spawn(ctx, condWaiter(&cond, &result, 2, true))
		cond.Release()
		tick(t, ctx)
		expectNoErr(t, cond.Acquire(ctx), "Acquire")
		expect(t, cond.String(), "<Condition [locked, waiters:2]>", "repr")
		cond.NotifyAll()
		cond.Release()
		return nil
	})
}

func TestConditionTests_test_context_manager(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var cond asyncio.Condition
		expect(t, cond.Locked(), false, "locked")
		expectNoErr(t, cond.Acquire(ctx), "Acquire")
		expect(t, cond.Locked(), true, "locked")
		cond.Release()
		expect(t, cond.Locked(), false, "locked")
		return nil
	})
}

func TestConditionTests_test_explicit_lock(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		f := func(lock *asyncio.Lock, cond *asyncio.Condition) {
			if lock == nil {
				lock = new(asyncio.Lock)
			}
			if cond == nil {
				cond = asyncio.NewCondition(lock)
			}
			expect(t, asyncio.ConditionLock(cond), lock, "cond._lock")
			expect(t, lock.Locked() || cond.Locked(), false, "locked")
			expectNoErr(t, cond.Acquire(ctx), "cond.Acquire")
			expect(t, lock.Locked() && cond.Locked(), true, "locked")
			cond.Release()
			expect(t, lock.Locked() || cond.Locked(), false, "locked")
			expectNoErr(t, lock.Acquire(ctx), "lock.Acquire")
			expect(t, lock.Locked() && cond.Locked(), true, "locked")
			lock.Release()
			expect(t, lock.Locked() || cond.Locked(), false, "locked")
		}
		// All work the same way.
		f(nil, nil)
		f(new(asyncio.Lock), nil)
		lock := new(asyncio.Lock)
		f(lock, asyncio.NewCondition(lock))
		return nil
	})
}

func TestConditionTests_test_ambiguous_loops(t *testing.T) {
	// CPython sets the private _loop; here the objects are bound by a
	// first loop, for real, and then used on a second one.
	var lock asyncio.Lock
	var cond asyncio.Condition
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		// Contended waits bind the lock and the condition.
		expectNoErr(t, lock.Acquire(ctx), "Acquire")
		w := spawn(ctx, lock.Acquire)
		tick(t, ctx)
		lock.Release()
		expectNoErr(t, await(ctx, w), "waiter")
		lock.Release()

		expectNoErr(t, cond.Acquire(ctx), "cond.Acquire")
		w = spawn(ctx, func(ctx context.Context) error {
			if err := cond.Acquire(ctx); err != nil {
				return err
			}
			cond.Notify(1)
			cond.Release()
			return nil
		})
		expectNoErr(t, cond.Wait(ctx), "cond.Wait")
		cond.Release()
		return await(ctx, w)
	})

	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		// wrong_loop_in_lock: acquired at once, without the loop.
		expectNoErr(t, lock.Acquire(ctx), "Acquire")
		cond2 := asyncio.NewCondition(&lock)
		// Acquiring it again has to wait, which finds the mismatch.
		expectErr(t, cond2.Acquire(ctx), asyncio.ErrDifferentLoop, "cond2.Acquire")
		lock.Release()

		// wrong_loop_in_cond: Wait finds it before releasing the lock.
		expectNoErr(t, cond.Acquire(ctx), "cond.Acquire")
		expectErr(t, cond.Wait(ctx), asyncio.ErrDifferentLoop, "cond.Wait")
		expect(t, cond.Locked(), true, "still locked")
		cond.Release()
		return nil
	})
}

func TestConditionTests_test_timeout_in_block(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var cond asyncio.Condition
		expectNoErr(t, cond.Acquire(ctx), "Acquire")
		err := withTimeout(ctx, 500*time.Millisecond, func() error { return cond.Wait(ctx) })
		expectErr(t, err, asyncio.ErrTimeout, "Wait with a timeout")
		expect(t, cond.Locked(), true, "locked")
		cond.Release()
		return nil
	})
}

// cancelledConsumer is the func of test_cancelled_error_wakeup and
// test_cancelled_error_re_aquire: it records the error WaitFor returns and
// ends with it.
func cancelledConsumer(t *testing.T, cond *asyncio.Condition, wake *bool, raised *error) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if err := cond.Acquire(ctx); err != nil {
			return err
		}
		defer cond.Release()
		err := cond.WaitFor(ctx, func() bool { return *wake })
		expectErr(t, err, asyncio.ErrCancelled, "WaitFor")
		*raised = err
		return err
	}
}

func TestConditionTests_test_cancelled_error_wakeup(t *testing.T) {
	// A cancellation received while waiting for the wakeup is returned
	// unchanged.
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var cond asyncio.Condition
		wake := false
		var raised error
		task := spawn(ctx, cancelledConsumer(t, &cond, &wake, &raised))
		tick(t, ctx)
		task.Cancel("foo")
		err := await(ctx, task)
		var ce *asyncio.CancelledError
		if !errors.As(err, &ce) || ce.Msg != "foo" {
			t.Errorf("await task: got %v, want the CancelledError of Cancel(\"foo\")", err)
		}
		expect(t, err, raised, "the same error")
		return nil
	})
}

func TestConditionTests_test_cancelled_error_re_aquire(t *testing.T) {
	// A cancellation received while re-acquiring the lock is returned
	// unchanged.
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var cond asyncio.Condition
		wake := false
		var raised error
		task := spawn(ctx, cancelledConsumer(t, &cond, &wake, &raised))
		tick(t, ctx)
		expectNoErr(t, cond.Acquire(ctx), "Acquire")
		wake = true
		cond.Notify(1)
		tick(t, ctx)
		// The task now waits to re-acquire the lock: cancel it there.
		task.Cancel("foo")
		cond.Release()
		err := await(ctx, task)
		var ce *asyncio.CancelledError
		if !errors.As(err, &ce) || ce.Msg != "foo" {
			t.Errorf("await task: got %v, want the CancelledError of Cancel(\"foo\")", err)
		}
		expect(t, err, raised, "the same error")
		return nil
	})
}

// consumeState is the consumer of test_cancelled_wakeup(_relock): it takes
// one unit of *state whenever there is one, until *state < 0.
func consumeState(cond *asyncio.Condition, state *int) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if err := cond.Acquire(ctx); err != nil {
			return err
		}
		defer cond.Release()
		for {
			if err := cond.WaitFor(ctx, func() bool { return *state != 0 }); err != nil {
				return err
			}
			if *state < 0 {
				return nil
			}
			*state--
		}
	}
}

func testCancelledWakeup(t *testing.T, relock bool) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var cond asyncio.Condition
		state := 0
		c := spawnN(ctx, 2, consumeState(&cond, &state))
		tick(t, ctx) // let them settle
		expectNoErr(t, cond.Acquire(ctx), "Acquire")
		// Produce one item and wake up one consumer.
		state++
		cond.Notify(1)
		if relock {
			// Let the consumer wake up and wait to re-acquire the lock.
			tick(t, ctx)
		}
		// Cancel it as it is woken: the notification must not be lost.
		c[0].Cancel("")
		err := withTimeout(ctx, 10*time.Millisecond, func() error {
			return cond.WaitFor(ctx, func() bool { return state == 0 })
		})
		if err != nil && !errors.Is(err, asyncio.ErrTimeout) {
			t.Errorf("WaitFor: got %v, want nil or an error matching asyncio.ErrTimeout", err)
		}
		expect(t, state, 0, "state (the item was consumed)")
		// Clean up.
		state = -1
		cond.NotifyAll()
		cond.Release()
		expectNoErr(t, await(ctx, c[1]), "second consumer")
		return nil
	})
}

func TestConditionTests_test_cancelled_wakeup(t *testing.T) { testCancelledWakeup(t, false) }

func TestConditionTests_test_cancelled_wakeup_relock(t *testing.T) { testCancelledWakeup(t, true) }

// ---- Semaphore

func TestSemaphoreTests_test_initial_value_zero(t *testing.T) {
	sem := asyncio.NewSemaphore(0)
	expect(t, sem.Locked(), true, "locked")
	var zero asyncio.Semaphore // the zero value is Semaphore(0)
	expect(t, zero.Locked(), true, "zero value locked")
}

func TestSemaphoreTests_test_repr(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		sem := asyncio.NewSemaphore(1)
		expect(t, sem.String(), "<Semaphore [unlocked, value:1]>", "repr")
		expectNoErr(t, sem.Acquire(ctx), "Acquire")
		expect(t, sem.String(), "<Semaphore [locked]>", "repr")
		w1 := spawn(ctx, sem.Acquire)
		w2 := spawn(ctx, sem.Acquire)
		tick(t, ctx)
		expect(t, sem.String(), "<Semaphore [locked, waiters:2]>", "repr")
		w1.Cancel("")
		w2.Cancel("")
		gather(ctx, w1, w2)
		bs := asyncio.NewBoundedSemaphore(2)
		expect(t, bs.String(), "<BoundedSemaphore [unlocked, value:2]>", "repr")
		return nil
	})
}

func TestSemaphoreTests_test_semaphore(t *testing.T) {
	// (The first half, "await sem" being a TypeError, is a compile error
	// in Go.)
	sem := asyncio.NewSemaphore(1)
	expect(t, asyncio.SemaphoreValue(sem), 1, "value")
	expect(t, sem.Locked(), false, "locked")
}

func TestSemaphoreTests_test_semaphore_value(t *testing.T) {
	if msg := mustPanic(t, func() { asyncio.NewSemaphore(-1) }); !strings.Contains(msg, "must be >= 0") {
		t.Errorf("asyncio.NewSemaphore(-1): got panic %q, want it to contain %q", msg, "must be >= 0")
	}
	if msg := mustPanic(t, func() { asyncio.NewBoundedSemaphore(-1) }); !strings.Contains(msg, "must be >= 0") {
		t.Errorf("asyncio.NewBoundedSemaphore(-1): got panic %q, want it to contain %q", msg, "must be >= 0")
	}
}

func TestSemaphoreTests_test_acquire(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		sem := asyncio.NewSemaphore(3)
		var result []int
		expectNoErr(t, sem.Acquire(ctx), "Acquire")
		expectNoErr(t, sem.Acquire(ctx), "Acquire")
		expect(t, sem.Locked(), false, "locked")
		c := func(n int) func(ctx context.Context) error {
			return func(ctx context.Context) error {
				if err := sem.Acquire(ctx); err != nil {
					return err
				}
				result = append(result, n)
				return nil
			}
		}
		t1 := spawn(ctx, c(1))
		t2 := spawn(ctx, c(2))
		t3 := spawn(ctx, c(3))
		tick(t, ctx)
		expectSlice(t, result, []int{1}, "result")
		expect(t, sem.Locked(), true, "locked")
		expect(t, asyncio.SemaphoreWaiters(sem), 2, "waiters")
		expect(t, asyncio.SemaphoreValue(sem), 0, "value")

		t4 := spawn(ctx, c(4))
		sem.Release()
		sem.Release()
		expect(t, asyncio.SemaphoreValue(sem), 0, "value")

		tick(t, ctx)
		expect(t, asyncio.SemaphoreValue(sem), 0, "value")
		expect(t, len(result), 3, "len(result)")
		expect(t, sem.Locked(), true, "locked")
		expect(t, asyncio.SemaphoreWaiters(sem), 1, "waiters")

		expect(t, t1.Done(), true, "t1 done")
		race := []*asyncio.Task[struct{}]{t2, t3, t4}
		done := 0
		for _, task := range race {
			if task.Done() && task.Exception() == nil {
				done++
			}
		}
		expect(t, done, 2, "tasks done among t2, t3, t4")

		sem.Release() // clean up the locked semaphore
		for _, err := range gather(ctx, race...) {
			expectNoErr(t, err, "race task")
		}
		return nil
	})
}

func TestSemaphoreTests_test_acquire_cancel(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		sem := asyncio.NewSemaphore(1)
		expectNoErr(t, sem.Acquire(ctx), "Acquire")
		acquire := spawn(ctx, sem.Acquire)
		callSoonCancel(ctx, acquire)
		expectErr(t, await(ctx, acquire), asyncio.ErrCancelled, "await acquire")
		expect(t, asyncio.SemaphoreWaitersAllDone(sem), true, "no waiter pending")
		return nil
	})
}

func TestSemaphoreTests_test_acquire_cancel_before_awoken(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		sem := asyncio.NewSemaphore(0)
		ts := spawnN(ctx, 4, sem.Acquire)
		tick(t, ctx)
		ts[0].Cancel("")
		ts[1].Cancel("")
		sem.Release()
		tick(t, ctx)
		tick(t, ctx)
		expect(t, ts[2].Done(), true, "t3 done")
		expect(t, ts[3].Done(), false, "t4 done")
		ts[2].Cancel("")
		ts[3].Cancel("")
		tick(t, ctx)
		return nil
	})
}

func TestSemaphoreTests_test_acquire_hang(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		sem := asyncio.NewSemaphore(0)
		t1 := spawn(ctx, sem.Acquire)
		t2 := spawn(ctx, sem.Acquire)
		tick(t, ctx)
		t1.Cancel("")
		sem.Release()
		tick(t, ctx)
		tick(t, ctx)
		expect(t, sem.Locked(), true, "locked")
		expect(t, t2.Done(), true, "t2 done")
		return nil
	})
}

func TestSemaphoreTests_test_acquire_no_hang(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		sem := asyncio.NewSemaphore(1)
		var t2 *asyncio.Task[struct{}]
		t1 := spawn(ctx, func(ctx context.Context) error {
			if err := sem.Acquire(ctx); err != nil {
				return err
			}
			asyncio.Sleep(ctx, 0)
			sem.Release()
			t2.Cancel("")
			return nil
		})
		t2 = spawn(ctx, func(ctx context.Context) error {
			if err := sem.Acquire(ctx); err != nil {
				return err
			}
			sem.Release()
			t.Error("c2 acquired the semaphore")
			return nil
		})
		errs := gather(ctx, t1, t2)
		expectNoErr(t, errs[0], "t1")
		expectErr(t, errs[1], asyncio.ErrCancelled, "t2")
		expectNoErr(t, withTimeout(ctx, time.Second, func() error { return sem.Acquire(ctx) }), "Acquire")
		return nil
	})
}

func TestSemaphoreTests_test_release_not_acquired(t *testing.T) {
	sem := asyncio.NewBoundedSemaphore(1)
	if msg := mustPanic(t, sem.Release); !strings.Contains(msg, "released too many times") {
		t.Errorf("sem.Release: got panic %q, want it to contain %q", msg, "released too many times")
	}
}

func TestSemaphoreTests_test_release_no_waiters(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		sem := asyncio.NewSemaphore(1)
		expectNoErr(t, sem.Acquire(ctx), "Acquire")
		expect(t, sem.Locked(), true, "locked")
		sem.Release()
		expect(t, sem.Locked(), false, "locked")
		return nil
	})
}

func TestSemaphoreTests_test_acquire_fifo_order(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		sem := asyncio.NewSemaphore(1)
		var result []string
		coro := func(tag string) func(ctx context.Context) error {
			return func(ctx context.Context) error {
				for _, round := range []string{"_1", "_2"} {
					if err := sem.Acquire(ctx); err != nil {
						return err
					}
					result = append(result, tag+round)
					asyncio.Sleep(ctx, 10*time.Millisecond)
					sem.Release()
				}
				return nil
			}
		}
		gather(ctx, spawn(ctx, coro("c1")), spawn(ctx, coro("c2")), spawn(ctx, coro("c3")))
		expectSlice(t, result, []string{"c1_1", "c2_1", "c3_1", "c1_2", "c2_2", "c3_2"}, "result")
		return nil
	})
}

func TestSemaphoreTests_test_acquire_fifo_order_2(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		sem := asyncio.NewSemaphore(1)
		var result []int
		c1 := func(ctx context.Context) error {
			if err := sem.Acquire(ctx); err != nil {
				return err
			}
			result = append(result, 1)
			return nil
		}
		c2 := func(ctx context.Context) error {
			if err := sem.Acquire(ctx); err != nil {
				return err
			}
			result = append(result, 2)
			sem.Release()
			if err := sem.Acquire(ctx); err != nil {
				return err
			}
			result = append(result, 4)
			return nil
		}
		c3 := func(ctx context.Context) error {
			if err := sem.Acquire(ctx); err != nil {
				return err
			}
			result = append(result, 3)
			return nil
		}
		tasks := []*asyncio.Task[struct{}]{spawn(ctx, c1), spawn(ctx, c2), spawn(ctx, c3)}
		tick(t, ctx)
		sem.Release()
		sem.Release()
		for _, err := range gather(ctx, tasks...) {
			expectNoErr(t, err, "task")
		}
		expectSlice(t, result, []int{1, 2, 3, 4}, "result")
		return nil
	})
}

func TestSemaphoreTests_test_acquire_fifo_order_3(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		sem := asyncio.NewSemaphore(0)
		var result []int
		c := func(n int) func(ctx context.Context) error {
			return func(ctx context.Context) error {
				if err := sem.Acquire(ctx); err != nil {
					return err
				}
				result = append(result, n)
				return nil
			}
		}
		t1, t2, t3 := spawn(ctx, c(1)), spawn(ctx, c(2)), spawn(ctx, c(3))
		tick(t, ctx)
		t1.Cancel("")
		tick(t, ctx)
		sem.Release()
		sem.Release()
		gather(ctx, t1, t2, t3)
		expectSlice(t, result, []int{2, 3}, "result")
		return nil
	})
}

func TestSemaphoreTests_test_acquire_fifo_order_4(t *testing.T) {
	// A successful Acquire wakes up the tasks that had to queue behind it
	// by the FIFO rule.
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		sem := asyncio.NewSemaphore(0)
		var result []int
		var t4 *asyncio.Task[struct{}]
		c4 := func(ctx context.Context) error {
			result = append(result, 4)
			return nil
		}
		c1 := func(ctx context.Context) error {
			// The first task waits at once; c2 wakes it up.
			expect(t, asyncio.SemaphoreValue(sem), 0, "value in c1")
			if err := sem.Acquire(ctx); err != nil {
				return err
			}
			// It has woken up all the waiting tasks.
			expect(t, asyncio.SemaphoreValue(sem), 0, "value in c1 after Acquire")
			// A fourth task runs after c3, not c2.
			t4 = spawn(ctx, c4)
			result = append(result, 1)
			return nil
		}
		c2 := func(ctx context.Context) error {
			// Release three times, for c1, c2 and c3.
			sem.Release()
			sem.Release()
			sem.Release()
			expect(t, asyncio.SemaphoreValue(sem), 2, "value in c2")
			// Locked, because c1 has not woken up yet.
			expect(t, sem.Locked(), true, "locked in c2")
			if err := sem.Acquire(ctx); err != nil {
				return err
			}
			result = append(result, 2)
			return nil
		}
		c3 := func(ctx context.Context) error {
			if err := sem.Acquire(ctx); err != nil {
				return err
			}
			expect(t, sem.Locked(), true, "locked in c3")
			result = append(result, 3)
			return nil
		}
		t1, t2, t3 := spawn(ctx, c1), spawn(ctx, c2), spawn(ctx, c3)
		tick(t, ctx)
		// Three tasks queue; the first has not woken up yet.
		expect(t, asyncio.SemaphoreValue(sem), 2, "value")
		expect(t, asyncio.SemaphoreWaiters(sem), 3, "waiters")
		tick(t, ctx)
		for _, err := range gather(ctx, t1, t2, t3, t4) {
			expectNoErr(t, err, "task")
		}
		expectSlice(t, result, []int{1, 2, 3, 4}, "result")
		return nil
	})
}

func TestSemaphore_tokens_survive_cancellation(t *testing.T) {
	// Beyond CPython's cases: twenty tasks compete for three tokens while
	// every other waiter is cancelled, some after being given a token. No
	// token is lost or created, and the survivors get them in FIFO order.
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		sem := asyncio.NewSemaphore(3)
		inside, most := 0, 0
		var order []int
		tasks := make([]*asyncio.Task[struct{}], 20)
		for i := range tasks {
			tasks[i] = spawn(ctx, func(ctx context.Context) error {
				if err := sem.Acquire(ctx); err != nil {
					return err
				}
				order = append(order, i)
				inside++
				most = max(most, inside)
				asyncio.Sleep(ctx, time.Millisecond)
				inside--
				sem.Release()
				return nil
			})
		}
		tick(t, ctx) // 0, 1, 2 hold the tokens; 3…19 wait
		for round := 0; round < 3; round++ {
			asyncio.Sleep(ctx, time.Millisecond) // tokens are handed over…
			for i := range tasks {
				if i%2 == 1 && i > 2 && !tasks[i].Done() {
					tasks[i].Cancel("") // …and some receivers cancelled
					break
				}
			}
		}
		for i := 3; i < len(tasks); i += 2 {
			tasks[i].Cancel("")
		}
		gather(ctx, tasks...)
		expect(t, most, 3, "most tasks inside at once")
		expect(t, asyncio.SemaphoreValue(sem), 3, "tokens at the end")
		expect(t, asyncio.SemaphoreWaiters(sem), 0, "waiters at the end")
		for k := 1; k < len(order); k++ {
			if order[k] < order[k-1] {
				t.Errorf("order of entry: got %v, want FIFO (increasing)", order)
				break
			}
		}
		return nil
	})
}

// ---- Barrier (CPython's BarrierTests use N = 5 unless a test says)

const barrierN = 5

func TestBarrierTests_test_barrier(t *testing.T) {
	barrier := asyncio.NewBarrier(barrierN)
	expect(t, barrier.String(), "<Barrier [filling, waiters:0/5]>", "repr")
}

func TestBarrierTests_test_repr(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		barrier := asyncio.NewBarrier(barrierN)
		expect(t, barrier.String(), "<Barrier [filling, waiters:0/5]>", "repr")
		wait := func(ctx context.Context) error {
			_, err := barrier.Wait(ctx)
			return err
		}
		const incr = 2
		waiters := spawnN(ctx, incr, wait)
		tick(t, ctx)
		expect(t, barrier.String(), "<Barrier [filling, waiters:2/5]>", "repr")

		// The missing waiters.
		waiters = append(waiters, spawnN(ctx, barrier.Parties()-barrier.NWaiting(), wait)...)
		tick(t, ctx)
		expect(t, barrier.String(), "<Barrier [draining, waiters:0/5]>", "repr")

		// Some waiters, and reset.
		waiters = append(waiters, spawnN(ctx, incr, wait)...)
		tick(t, ctx)
		expectNoErr(t, barrier.Reset(ctx), "Reset")
		expect(t, barrier.String(), "<Barrier [resetting, waiters:0/5]>", "repr")

		// Some waiters again, and abort.
		waiters = append(waiters, spawnN(ctx, incr, wait)...)
		tick(t, ctx)
		expectNoErr(t, barrier.Abort(ctx), "Abort")
		expect(t, barrier.String(), "<Barrier [broken]>", "repr")
		expect(t, barrier.Broken(), true, "broken")
		gather(ctx, waiters...)
		return nil
	})
}

func TestBarrierTests_test_barrier_parties(t *testing.T) {
	if msg := mustPanic(t, func() { asyncio.NewBarrier(0) }); !strings.Contains(msg, "parties must be > 0") {
		t.Errorf("asyncio.NewBarrier(0): got panic %q, want it to contain %q", msg, "parties must be > 0")
	}
	if msg := mustPanic(t, func() { asyncio.NewBarrier(-4) }); !strings.Contains(msg, "parties must be > 0") {
		t.Errorf("asyncio.NewBarrier(-4): got panic %q, want it to contain %q", msg, "parties must be > 0")
	}
	expect(t, asyncio.NewBarrier(barrierN).Parties(), barrierN, "parties")
	var zero asyncio.Barrier
	if msg := mustPanic(t, func() { zero.Wait(context.Background()) }); !strings.Contains(msg, "not made by NewBarrier") {
		t.Errorf("zero.Wait(context.Background()): got panic %q, want it to contain %q", msg, "not made by NewBarrier")
	}
}

func TestBarrierTests_test_context_manager(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		const n = 3
		barrier := asyncio.NewBarrier(n)
		seen := make([]bool, n)
		gatherOK(t, ctx, spawnN(ctx, n, func(ctx context.Context) error {
			i, err := barrier.Wait(ctx)
			if err == nil {
				expect(t, seen[i], false, "index seen twice")
				seen[i] = true
			}
			return err
		})...)
		expect(t, count(seen), n, "indices 0…n-1")
		expect(t, barrier.NWaiting(), 0, "n_waiting")
		expect(t, barrier.Broken(), false, "broken")
		return nil
	})
}

func TestBarrierTests_test_filling_one_task(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		barrier := asyncio.NewBarrier(1)
		i, err := barrier.Wait(ctx)
		expectNoErr(t, err, "Wait")
		expect(t, i, 0, "index")
		expect(t, barrier.NWaiting(), 0, "n_waiting")
		expect(t, barrier.Broken(), false, "broken")
		return nil
	})
}

func TestBarrierTests_test_filling_one_task_twice(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		barrier := asyncio.NewBarrier(1)
		t1 := asyncio.CreateTask(ctx, barrier.Wait)
		tick(t, ctx)
		expect(t, barrier.NWaiting(), 0, "n_waiting")
		t2 := asyncio.CreateTask(ctx, barrier.Wait)
		tick(t, ctx)
		r1, err1 := t1.Result()
		r2, err2 := t2.Result()
		expectNoErr(t, err1, "t1")
		expectNoErr(t, err2, "t2")
		expect(t, r1, r2, "results")
		expect(t, t1.Done(), t2.Done(), "done")
		expect(t, barrier.NWaiting(), 0, "n_waiting")
		expect(t, barrier.Broken(), false, "broken")
		return nil
	})
}

func TestBarrierTests_test_filling_task_by_task(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		barrier := asyncio.NewBarrier(3)
		t1 := asyncio.CreateTask(ctx, barrier.Wait)
		tick(t, ctx)
		expect(t, barrier.NWaiting(), 1, "n_waiting")
		expect(t, barrier.String(), "<Barrier [filling, waiters:1/3]>", "repr")
		t2 := asyncio.CreateTask(ctx, barrier.Wait)
		tick(t, ctx)
		expect(t, barrier.NWaiting(), 2, "n_waiting")
		expect(t, barrier.String(), "<Barrier [filling, waiters:2/3]>", "repr")
		t3 := asyncio.CreateTask(ctx, barrier.Wait)
		tick(t, ctx)
		gatherOK(t, ctx, t1, t2, t3)
		expect(t, barrier.NWaiting(), 0, "n_waiting")
		expect(t, barrier.Broken(), false, "broken")
		return nil
	})
}

func TestBarrierTests_test_filling_tasks_wait_twice(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		barrier := asyncio.NewBarrier(barrierN)
		var results []bool
		gatherOK(t, ctx, spawnN(ctx, barrierN, func(ctx context.Context) error {
			if _, err := barrier.Wait(ctx); err != nil {
				return err
			}
			results = append(results, true)
			if _, err := barrier.Wait(ctx); err != nil {
				return err
			}
			results = append(results, false)
			return nil
		})...)
		expect(t, len(results), 2*barrierN, "len(results)")
		expect(t, count(results), barrierN, "trues")
		expect(t, barrier.NWaiting(), 0, "n_waiting")
		expect(t, barrier.Broken(), false, "broken")
		return nil
	})
}

func TestBarrierTests_test_filling_tasks_check_return_value(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		barrier := asyncio.NewBarrier(barrierN)
		results1, results2 := 0, 0
		tasks := make([]*asyncio.Task[int], barrierN)
		for k := range tasks {
			tasks[k] = asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
				if _, err := barrier.Wait(ctx); err != nil {
					return 0, err
				}
				results1++
				i, err := barrier.Wait(ctx)
				if err == nil {
					results2++
				}
				return i, err
			})
		}
		seen := make([]bool, barrierN)
		for _, task := range tasks {
			i, err := asyncio.Await(ctx, task)
			expectNoErr(t, err, "task")
			seen[i] = true
		}
		expect(t, results1, barrierN, "results1")
		expect(t, results2, barrierN, "results2")
		expect(t, count(seen), barrierN, "indices 0…N-1")
		expect(t, barrier.NWaiting(), 0, "n_waiting")
		expect(t, barrier.Broken(), false, "broken")
		return nil
	})
}

func TestBarrierTests_test_draining_state(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		barrier := asyncio.NewBarrier(barrierN)
		var results []bool
		gatherOK(t, ctx, spawnN(ctx, barrierN, func(ctx context.Context) error {
			if _, err := barrier.Wait(ctx); err != nil {
				return err
			}
			// The state goes back to filling when the last task leaves.
			results = append(results, barrier.String() == "<Barrier [draining, waiters:0/5]>")
			return nil
		})...)
		expectSlice(t, results, []bool{true, true, true, true, false}, "draining seen")
		expect(t, barrier.NWaiting(), 0, "n_waiting")
		expect(t, barrier.Broken(), false, "broken")
		return nil
	})
}

func TestBarrierTests_test_blocking_tasks_while_draining(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		const rewait = 2
		barrier := asyncio.NewBarrier(barrierN)
		barrierNowaiting := asyncio.NewBarrier(barrierN - rewait)
		rewaitN := rewait
		// Success means barrierNowaiting was waited for exactly N-rewait
		// times.
		gatherOK(t, ctx, spawnN(ctx, barrierN, func(ctx context.Context) error {
			if _, err := barrier.Wait(ctx); err != nil {
				return err
			}
			if rewaitN > 0 {
				rewaitN--
				// Wait again, only for the rewait tasks.
				_, err := barrier.Wait(ctx)
				return err
			}
			// Wait for the end of draining, then for the other tasks.
			if _, err := barrierNowaiting.Wait(ctx); err != nil {
				return err
			}
			_, err := barrier.Wait(ctx)
			return err
		})...)
		return nil
	})
}

func TestBarrierTests_test_filling_tasks_cancel_one(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		barrier := asyncio.NewBarrier(3)
		results := 0
		coro := func(ctx context.Context) error {
			if _, err := barrier.Wait(ctx); err != nil {
				return err
			}
			results++
			return nil
		}
		t1 := spawn(ctx, coro)
		tick(t, ctx)
		expect(t, barrier.NWaiting(), 1, "n_waiting")
		t2 := spawn(ctx, coro)
		tick(t, ctx)
		expect(t, barrier.NWaiting(), 2, "n_waiting")

		t1.Cancel("")
		tick(t, ctx)
		expect(t, barrier.NWaiting(), 1, "n_waiting after cancel")
		expectErr(t, await(ctx, t1), asyncio.ErrCancelled, "await t1")
		expect(t, t1.Cancelled(), true, "t1 cancelled")

		t3 := spawn(ctx, coro)
		tick(t, ctx)
		expect(t, barrier.NWaiting(), 2, "n_waiting")
		t4 := spawn(ctx, coro)
		gatherOK(t, ctx, t2, t3, t4)
		expect(t, results, 3, "results")
		expect(t, barrier.NWaiting(), 0, "n_waiting")
		expect(t, barrier.Broken(), false, "broken")
		return nil
	})
}

func TestBarrierTests_test_reset_barrier(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		barrier := asyncio.NewBarrier(1)
		spawn(ctx, barrier.Reset)
		tick(t, ctx)
		expect(t, barrier.NWaiting(), 0, "n_waiting")
		expect(t, barrier.Broken(), false, "broken")
		return nil
	})
}

func TestBarrierTests_test_reset_barrier_while_tasks_waiting(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		barrier := asyncio.NewBarrier(barrierN)
		results := 0
		// N-1 tasks wait on a barrier of N parties.
		tasks := spawnN(ctx, barrierN-1, func(ctx context.Context) error {
			_, err := barrier.Wait(ctx)
			if errors.Is(err, asyncio.ErrBrokenBarrier) {
				results++
				return nil
			}
			return err
		})
		tick(t, ctx)
		spawn(ctx, barrier.Reset)
		gatherOK(t, ctx, tasks...)
		expect(t, results, barrierN-1, "broken waits")
		expect(t, barrier.NWaiting(), 0, "n_waiting")
		expect(t, barrier.String(), "<Barrier [filling, waiters:0/5]>", "repr")
		expect(t, barrier.Broken(), false, "broken")
		return nil
	})
}

func TestBarrierTests_test_reset_barrier_when_tasks_half_draining(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		barrier := asyncio.NewBarrier(barrierN)
		results1 := 0
		const restOfTasks = barrierN / 2
		gatherOK(t, ctx, spawnN(ctx, barrierN, func(ctx context.Context) error {
			_, err := barrier.Wait(ctx)
			switch {
			case errors.Is(err, asyncio.ErrBrokenBarrier):
				results1++ // a waiting task
			case err != nil:
				return err
			case asyncio.BarrierCount(barrier) == restOfTasks:
				// A drained task, outside the barrier.
				return barrier.Reset(ctx)
			}
			return nil
		})...)
		expect(t, results1, restOfTasks, "broken waits")
		expect(t, barrier.NWaiting(), 0, "n_waiting")
		expect(t, barrier.String(), "<Barrier [filling, waiters:0/5]>", "repr")
		expect(t, barrier.Broken(), false, "broken")
		return nil
	})
}

func TestBarrierTests_test_reset_barrier_when_tasks_half_draining_half_blocking(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		barrier := asyncio.NewBarrier(barrierN)
		results1, results2 := 0, 0
		const blockingTasks = barrierN / 2
		count := 0
		gatherOK(t, ctx, spawnN(ctx, barrierN, func(ctx context.Context) error {
			_, err := barrier.Wait(ctx)
			if errors.Is(err, asyncio.ErrBrokenBarrier) {
				// A task still waiting: wait again to reach the parties.
				results1++
				_, err = barrier.Wait(ctx)
				return err
			}
			if err != nil {
				return err
			}
			count++
			if count > blockingTasks {
				// Reset: the waiting tasks get ErrBrokenBarrier. Then
				// wait again to reach the parties.
				if err := barrier.Reset(ctx); err != nil {
					return err
				}
				_, err = barrier.Wait(ctx)
				return err
			}
			_, err = barrier.Wait(ctx)
			if errors.Is(err, asyncio.ErrBrokenBarrier) {
				results2++ // never: the blocked tasks go on waiting
				return nil
			}
			return err
		})...)
		expect(t, results1, blockingTasks, "results1")
		expect(t, results2, 0, "results2")
		expect(t, barrier.NWaiting(), 0, "n_waiting")
		expect(t, barrier.String(), "<Barrier [filling, waiters:0/5]>", "repr")
		expect(t, barrier.Broken(), false, "broken")
		return nil
	})
}

func TestBarrierTests_test_reset_barrier_while_tasks_waiting_and_waiting_again(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		barrier := asyncio.NewBarrier(barrierN)
		results1, results2 := 0, 0
		tasks := spawnN(ctx, barrierN-1, func(ctx context.Context) error {
			_, err := barrier.Wait(ctx)
			if errors.Is(err, asyncio.ErrBrokenBarrier) {
				results1++
			} else if err != nil {
				return err
			}
			// CPython's finally:
			if _, err := barrier.Wait(ctx); err != nil {
				return err
			}
			results2++
			return nil
		})
		// Reset: the N-1 waiting tasks get ErrBrokenBarrier.
		spawn(ctx, barrier.Reset)
		tick(t, ctx)
		// Complete the waits of their second round.
		spawn(ctx, func(ctx context.Context) error {
			_, err := barrier.Wait(ctx)
			if err == nil {
				results2++
			}
			return err
		})
		gatherOK(t, ctx, tasks...)
		expect(t, barrier.Broken(), false, "broken")
		expect(t, results1, barrierN-1, "results1")
		expect(t, results2, barrierN, "results2")
		expect(t, barrier.NWaiting(), 0, "n_waiting")
		return nil
	})
}

func TestBarrierTests_test_reset_barrier_while_tasks_draining(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		barrier := asyncio.NewBarrier(barrierN)
		results1, results2, results3 := 0, 0, 0
		count := 0
		gatherOK(t, ctx, spawnN(ctx, barrierN, func(ctx context.Context) error {
			if _, err := barrier.Wait(ctx); err != nil {
				return err
			}
			count++
			if count == barrierN {
				// The last task out of the barrier resets it, and waits
				// to reach the parties.
				if err := barrier.Reset(ctx); err != nil {
					return err
				}
				if _, err := barrier.Wait(ctx); err != nil {
					return err
				}
			} else {
				// Second wait: N-1 tasks get here.
				if _, err := barrier.Wait(ctx); err != nil {
					results2++ // never
				} else {
					results1++
				}
			}
			// Pass the barrier once more: this last wait completes.
			if _, err := barrier.Wait(ctx); err != nil {
				return err
			}
			results3++
			return nil
		})...)
		expect(t, barrier.Broken(), false, "broken")
		expect(t, results1, barrierN-1, "results1")
		expect(t, results2, 0, "results2")
		expect(t, results3, barrierN, "results3")
		expect(t, barrier.NWaiting(), 0, "n_waiting")
		return nil
	})
}

func TestBarrierTests_test_abort_barrier(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		barrier := asyncio.NewBarrier(1)
		spawn(ctx, barrier.Abort)
		tick(t, ctx)
		expect(t, barrier.NWaiting(), 0, "n_waiting")
		expect(t, barrier.Broken(), true, "broken")
		_, err := barrier.Wait(ctx)
		expectErr(t, err, asyncio.ErrBrokenBarrier, "Wait on a broken barrier")
		return nil
	})
}

func TestBarrierTests_test_abort_barrier_when_tasks_half_draining_half_blocking(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		barrier := asyncio.NewBarrier(barrierN)
		results1, results2 := 0, 0
		const blockingTasks = barrierN / 2
		count := 0
		gatherOK(t, ctx, spawnN(ctx, barrierN, func(ctx context.Context) error {
			_, err := barrier.Wait(ctx)
			if errors.Is(err, asyncio.ErrBrokenBarrier) {
				results1++ // tasks waiting to drain
				return nil
			}
			if err != nil {
				return err
			}
			count++
			if count > blockingTasks {
				// Abort: every task gets ErrBrokenBarrier.
				return barrier.Abort(ctx)
			}
			_, err = barrier.Wait(ctx)
			if errors.Is(err, asyncio.ErrBrokenBarrier) {
				results2++ // blocked tasks, already drained
				return nil
			}
			return err
		})...)
		expect(t, barrier.Broken(), true, "broken")
		expect(t, results1, blockingTasks, "results1")
		expect(t, results2, barrierN-blockingTasks-1, "results2")
		expect(t, barrier.NWaiting(), 0, "n_waiting")
		expect(t, barrier.String(), "<Barrier [broken]>", "repr")
		return nil
	})
}

func TestBarrierTests_test_abort_barrier_when_exception(t *testing.T) {
	// From threading.Barrier's lock_tests.test_reset.
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		barrier := asyncio.NewBarrier(barrierN)
		results1, results2 := 0, 0
		gatherOK(t, ctx, spawnN(ctx, barrierN, func(ctx context.Context) error {
			i, err := barrier.Wait(ctx)
			if err == nil {
				if i == barrierN/2 {
					// CPython raises RuntimeError here and aborts in the
					// handler.
					return barrier.Abort(ctx)
				}
				if _, err = barrier.Wait(ctx); err == nil {
					results1++
				}
			}
			if errors.Is(err, asyncio.ErrBrokenBarrier) {
				results2++
				return nil
			}
			return err
		})...)
		expect(t, barrier.Broken(), true, "broken")
		expect(t, results1, 0, "results1")
		expect(t, results2, barrierN-1, "results2")
		expect(t, barrier.NWaiting(), 0, "n_waiting")
		return nil
	})
}

func TestBarrierTests_test_abort_barrier_when_exception_then_resetting(t *testing.T) {
	// From threading.Barrier's lock_tests.test_abort_and_reset.
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		barrier1 := asyncio.NewBarrier(barrierN)
		barrier2 := asyncio.NewBarrier(barrierN)
		results1, results2, results3 := 0, 0, 0
		gatherOK(t, ctx, spawnN(ctx, barrierN, func(ctx context.Context) error {
			i, err := barrier1.Wait(ctx)
			if err == nil {
				if i == barrierN/2 {
					err = barrier1.Abort(ctx) // CPython: raise RuntimeError, abort
					if err != nil {
						return err
					}
				} else if _, err = barrier1.Wait(ctx); err == nil {
					results1++
				}
			}
			if errors.Is(err, asyncio.ErrBrokenBarrier) {
				results2++
			} else if err != nil {
				return err
			}
			// Synchronise and reset barrier1: synchronise first so that
			// everyone has left it when it is reset, and after, so that
			// no one enters it before.
			i, err = barrier2.Wait(ctx)
			if err != nil {
				return err
			}
			if i == barrierN/2 {
				if err := barrier1.Reset(ctx); err != nil {
					return err
				}
			}
			if _, err := barrier2.Wait(ctx); err != nil {
				return err
			}
			if _, err := barrier1.Wait(ctx); err != nil {
				return err
			}
			results3++
			return nil
		})...)
		expect(t, barrier1.Broken(), false, "broken")
		expect(t, results1, 0, "results1")
		expect(t, results2, barrierN-1, "results2")
		expect(t, results3, barrierN, "results3")
		expect(t, barrier1.NWaiting(), 0, "n_waiting")
		return nil
	})
}
