package trio_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/trioasyncio/trioasyncio/trio"
)

// Each nursery child, Start child and Run main is a task of its own; a
// body belongs to the task that opened the nursery; derived contexts keep
// the task.
func TestCurrentTask(t *testing.T) {
	if trio.CurrentTask(context.Background()) != nil {
		t.Error("context.Background() belongs to a task")
	}
	trio.Run(func(ctx context.Context) error {
		main := trio.CurrentTask(ctx)
		if main == nil {
			t.Fatal("Run's main is no task")
		}
		return trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
			if trio.CurrentTask(ctx) != main {
				t.Error("the body is not its opener's task")
			}
			tasks := make(chan *trio.Task, 3)
			for range 2 {
				n.StartSoon(func(ctx context.Context) error {
					var s trio.CancelScope
					s.Run(ctx, func(sctx context.Context) error {
						dctx, cancel := context.WithCancel(sctx)
						defer cancel()
						if trio.CurrentTask(dctx) != trio.CurrentTask(ctx) {
							t.Error("a derived ctx lost the task")
						}
						return nil
					})
					tasks <- trio.CurrentTask(ctx)
					return nil
				})
			}
			trio.Start(ctx, n, func(ctx context.Context, started func(struct{})) error {
				before := trio.CurrentTask(ctx)
				started(struct{}{})
				if trio.CurrentTask(ctx) != before {
					t.Error("a Start child changed task when it moved into the nursery")
				}
				tasks <- before
				return nil
			})
			a, b, c := <-tasks, <-tasks, <-tasks
			if a == nil || b == nil || c == nil || a == b || b == c || a == c || a == main {
				t.Errorf("tasks %p %p %p (main %p); want three distinct new tasks", a, b, c, main)
			}
			return nil
		})
	})
}

// test_lock_acquire_unowned_lock: acquiring a Lock whose owner ended
// without releasing it fails with ErrBrokenResource instead of waiting
// forever.
func TestLockAcquireUnownedLock(t *testing.T) {
	var l trio.Lock
	trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		n.StartSoon(l.Acquire)
		return nil
	})
	err := l.Acquire(context.Background())
	if !errors.Is(err, trio.ErrBrokenResource) || !strings.Contains(err.Error(), "ended without releasing") {
		t.Errorf("Acquire = %v, want ErrBrokenResource saying the owner ended without releasing", err)
	}
	if l.TryAcquire() {
		t.Error("TryAcquire took a broken lock")
	}
	wantPanic(t, "trio: Release of a Lock whose owner ended without releasing it", l.Release)
}

// test_lock_multiple_acquire: a goroutine waiting for a Lock whose owner
// ends without releasing it wakes with ErrBrokenResource.
func TestLockMultipleAcquire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l trio.Lock
		err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
			n.StartSoon(l.Acquire)
			synctest.Wait()
			n.StartSoon(l.Acquire)
			return nil
		})
		if !errors.Is(err, trio.ErrBrokenResource) {
			t.Errorf("OpenNursery = %v, want the second child's ErrBrokenResource", err)
		}
	})
}

// test_lock_handover: Release hands the Lock to the waiting task, which
// becomes its owner; when that task ends holding it, the Lock is broken,
// and its statistics name the task.
func TestLockHandover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l trio.Lock
		var child *trio.Task
		trio.Run(func(ctx context.Context) error {
			if err := l.Acquire(ctx); err != nil {
				t.Fatal(err)
			}
			if o := l.Statistics().Owner; o != trio.CurrentTask(ctx) {
				t.Errorf("owner %p, want the main task %p", o, trio.CurrentTask(ctx))
			}
			return trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
				n.StartSoon(func(ctx context.Context) error {
					child = trio.CurrentTask(ctx)
					return l.Acquire(ctx)
				})
				synctest.Wait()
				l.Release() // hands the lock to the child
				if o := l.Statistics().Owner; o != child {
					t.Errorf("owner after the hand-over %p, want the child %p", o, child)
				}
				return nil
			})
		})
		if st := l.Statistics(); st.Owner != child || !st.Locked {
			t.Errorf("statistics = %+v; want locked, by the child that ended holding it", st)
		}
		if err := l.Acquire(context.Background()); !errors.Is(err, trio.ErrBrokenResource) {
			t.Errorf("Acquire = %v, want ErrBrokenResource", err)
		}
	})
}

// Goroutines that share a task's ctx (errgroup workers, go statements)
// take turns on a Lock the task owns, as any goroutines do: the second
// waits for the first instead of being taken for the owner acquiring
// again. A Lock released before its task ends is not broken; one acquired
// with a ctx of no task has no owner.
func TestLockOwnership(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l trio.Lock
		err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
			n.StartSoon(func(ctx context.Context) error {
				if err := l.Acquire(ctx); err != nil {
					return err
				}
				second := make(chan error, 1)
				go func() { // same task, another goroutine
					err := l.Acquire(ctx)
					if err == nil {
						l.Release()
					}
					second <- err
				}()
				synctest.Wait()
				if st := l.Statistics(); st.TasksWaiting != 1 || st.Owner != trio.CurrentTask(ctx) {
					t.Errorf("statistics = %+v; want the second goroutine waiting, the task owning", st)
				}
				l.Release()
				return <-second
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Acquire(context.Background()); err != nil {
			t.Fatalf("Acquire after the owner released and ended = %v", err)
		}
		if l.Statistics().Owner != nil {
			t.Error("a Lock acquired with a ctx of no task has an owner")
		}
		l.Release()
	})
}

// A Condition waiter gets the lock back as its own task, and Wait checks
// that ctx's task holds the lock.
func TestConditionWaitOwnership(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := trio.NewCondition(nil)
		trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
			n.StartSoon(func(ctx context.Context) error {
				c.Acquire(ctx)
				defer c.Release()
				if err := c.Wait(ctx); err != nil {
					return err
				}
				if o := c.Statistics().LockStatistics.Owner; o != trio.CurrentTask(ctx) {
					t.Errorf("owner after Wait %p, want the waiting task %p", o, trio.CurrentTask(ctx))
				}
				return nil
			})
			synctest.Wait()
			c.Acquire(context.Background())
			c.NotifyAll()
			c.Release()
			synctest.Wait()

			n.StartSoon(func(ctx context.Context) error {
				c.Acquire(ctx)
				defer c.Release()
				n.StartSoon(func(ctx2 context.Context) error {
					wantPanic(t, "trio: Condition.Wait by a task that does not hold the lock", func() { c.Wait(ctx2) })
					return nil
				})
				synctest.Wait()
				return nil
			})
			return nil
		})
	})
}

// Each child of a nursery is a task of its own, which a Lock knows as its
// owner.
func ExampleCurrentTask() {
	trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		tasks := make(chan *trio.Task, 2)
		for range 2 {
			n.StartSoon(func(ctx context.Context) error {
				tasks <- trio.CurrentTask(ctx)
				return nil
			})
		}
		a, b := <-tasks, <-tasks
		fmt.Println(a != nil, b != nil, a != b)
		return nil
	})
	fmt.Println(trio.CurrentTask(context.Background()) == nil)
	// Output:
	// true true true
	// true
}

// A task that ends holding a Lock breaks it, so that nobody waits for it
// forever.
func ExampleTask() {
	var l trio.Lock
	trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		n.StartSoon(func(ctx context.Context) error {
			return l.Acquire(ctx) // and forgets to Release
		})
		return nil
	})
	err := l.Acquire(context.Background())
	fmt.Println(errors.Is(err, trio.ErrBrokenResource))
	fmt.Println(err)
	// Output:
	// true
	// trio: resource broken: the task that owned this Lock ended without releasing it
}

// A Condition waiter whose lock's owner ends without releasing it wakes
// with ErrBrokenResource instead of waiting forever for the lock, whether
// it was notified before the owner ended or after.
func TestConditionWaitLockBroken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := trio.NewCondition(nil)
		waitErrs := make(chan error, 2)
		trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
			for range 2 {
				n.StartSoon(func(ctx context.Context) error {
					if err := c.Acquire(ctx); err != nil {
						return err
					}
					err := c.Wait(ctx)
					if err == nil {
						c.Release()
					}
					waitErrs <- err
					return nil
				})
				synctest.Wait()
			}
			n.StartSoon(func(ctx context.Context) error {
				c.Acquire(ctx)
				c.Notify(1) // the first waiter now queues for the lock
				return nil  // and the owner ends holding it
			})
			synctest.Wait()
			c.NotifyAll() // the second waiter: queued for a broken lock
			return nil
		})
		for range 2 {
			if err := <-waitErrs; !errors.Is(err, trio.ErrBrokenResource) {
				t.Errorf("Wait = %v, want ErrBrokenResource", err)
			}
		}
	})
}
