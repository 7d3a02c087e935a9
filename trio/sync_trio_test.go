package trio_test

// Transcriptions of cases of Trio's src/trio/_tests/test_sync.py, each
// named after the Trio test (the parts the other tests of this package do
// not check already).

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trioasyncio/trioasyncio/trio"
)

// borrowers returns the sorted named borrowers of c's statistics; the
// tests' borrowers are ints.
func borrowers(c *trio.CapacityLimiter) []int {
	var ids []int
	for _, b := range c.Statistics().Borrowers {
		ids = append(ids, b.(int))
	}
	slices.Sort(ids)
	return ids
}

func wantBorrowers(t *testing.T, c *trio.CapacityLimiter, waiting int, want ...int) {
	t.Helper()
	if got := borrowers(c); !slices.Equal(got, want) {
		t.Fatalf("borrowers = %v, want %v", got, want)
	}
	if got := c.Statistics().TasksWaiting; got != waiting {
		t.Fatalf("TasksWaiting = %d, want %d", got, waiting)
	}
}

// test_Event: statistics().tasks_waiting counts the goroutines in Wait.
func TestEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var e trio.Event
		if n := e.Statistics().TasksWaiting; n != 0 {
			t.Fatalf("TasksWaiting = %d, want 0", n)
		}
		for range 2 {
			go e.Wait(t.Context())
		}
		synctest.Wait()
		if n := e.Statistics().TasksWaiting; n != 2 {
			t.Fatalf("TasksWaiting = %d, want 2", n)
		}
		e.Set()
		if n := e.Statistics().TasksWaiting; n != 0 { // at once, as Trio's
			t.Fatalf("TasksWaiting after Set = %d, want 0", n)
		}
	})
}

// test_CapacityLimiter: the statistics (borrowed and total tokens,
// borrowers, waiting tasks), and fairness when a named token comes back.
func TestCapacityLimiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		if n := trio.NewCapacityLimiter(0).TotalTokens(); n != 0 {
			t.Fatalf("NewCapacityLimiter(0).TotalTokens() = %d", n)
		}
		c := trio.NewCapacityLimiter(2)
		c.TryAcquireOnBehalfOf(0)
		st := c.Statistics()
		if st.BorrowedTokens != 1 || st.TotalTokens != 2 || !slices.Equal(st.Borrowers, []any{0}) || st.TasksWaiting != 0 {
			t.Fatalf("statistics = %+v; want 1 of 2 borrowed, by [0], nobody waiting", st)
		}
		c.TryAcquire() // anonymous: counted, not listed
		st = c.Statistics()
		if st.BorrowedTokens != 2 || len(st.Borrowers) != 1 {
			t.Fatalf("statistics = %+v; want 2 borrowed, 1 named", st)
		}
		c.Release()
		c.ReleaseOnBehalfOf(0)

		c.TryAcquireOnBehalfOf(1)
		c.TryAcquireOnBehalfOf(2)
		done := make(chan error, 1)
		go func() { done <- c.AcquireOnBehalfOf(t.Context(), 3) }()
		synctest.Wait()
		wantBorrowers(t, c, 1, 1, 2)
		c.ReleaseOnBehalfOf(2)
		// Fairness: the token went to 3, not back into the sack.
		if c.BorrowedTokens() != 2 || c.TryAcquire() {
			t.Fatalf("a released token did not go to the waiting borrower")
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		wantBorrowers(t, c, 0, 1, 3)
		c.ReleaseOnBehalfOf(3)
		c.ReleaseOnBehalfOf(1)
	})
}

// test_CapacityLimiter_inf: an unlimited limiter lends at once, counts
// what it lends, and has unlimited tokens available.
func TestCapacityLimiterInf(t *testing.T) {
	c := trio.NewCapacityLimiter(trio.UnlimitedTokens)
	if c.TotalTokens() != trio.UnlimitedTokens || c.BorrowedTokens() != 0 || c.AvailableTokens() != trio.UnlimitedTokens {
		t.Fatalf("total, borrowed, available = %d, %d, %d", c.TotalTokens(), c.BorrowedTokens(), c.AvailableTokens())
	}
	wantPanic(t, "trio: CapacityLimiter.Release without an anonymous token out", c.Release)
	for i := range 1000 {
		if !c.TryAcquireOnBehalfOf(i) {
			t.Fatalf("TryAcquireOnBehalfOf(%d) failed on an unlimited limiter", i)
		}
	}
	if err := c.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c.BorrowedTokens() != 1001 || c.AvailableTokens() != trio.UnlimitedTokens {
		t.Fatalf("borrowed, available = %d, %d; want 1001, unlimited", c.BorrowedTokens(), c.AvailableTokens())
	}
}

// test_CapacityLimiter_zero_limit_tokens: a total of 0 admits nobody
// until raised; lowering to 0 while tokens are out admits nobody new.
func TestCapacityLimiterZeroLimitTokens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := trio.NewCapacityLimiter(5)
		c.SetTotalTokens(0)
		acquire := func(b int) {
			t.Helper()
			go func() {
				if err := c.AcquireOnBehalfOf(t.Context(), b); err != nil {
					t.Error(err)
				}
			}()
			synctest.Wait()
		}
		for i := range 5 {
			acquire(i)
		}
		wantBorrowers(t, c, 5)
		c.SetTotalTokens(5)
		synctest.Wait()
		wantBorrowers(t, c, 0, 0, 1, 2, 3, 4)
		acquire(5)
		wantBorrowers(t, c, 1, 0, 1, 2, 3, 4)
		for i := range 5 {
			c.ReleaseOnBehalfOf(i)
		}
		synctest.Wait()
		wantBorrowers(t, c, 0, 5)
		c.ReleaseOnBehalfOf(5)

		// A zero-limit limiter lets nobody through.
		c.SetTotalTokens(0)
		if c.TryAcquire() {
			t.Fatal("TryAcquire succeeded with a total of 0")
		}
		acquire(6)
		wantBorrowers(t, c, 1)
		c.SetTotalTokens(1)
		synctest.Wait()
		wantBorrowers(t, c, 0, 6)
		c.ReleaseOnBehalfOf(6)

		if err := c.AcquireOnBehalfOf(t.Context(), 0); err != nil { // total is 1
			t.Fatal(err)
		}
		acquire(1)
		c.SetTotalTokens(0)
		wantBorrowers(t, c, 1, 0)
		c.ReleaseOnBehalfOf(0)
		synctest.Wait()
		wantBorrowers(t, c, 1)
		c.SetTotalTokens(1)
		synctest.Wait()
		wantBorrowers(t, c, 0, 1)
		c.ReleaseOnBehalfOf(1)
		c.SetTotalTokens(0)
		if c.TotalTokens() != 0 || len(c.Statistics().Borrowers) != 0 {
			t.Fatalf("total %d, borrowers %v", c.TotalTokens(), c.Statistics().Borrowers)
		}
	})
}

// test_Semaphore: statistics().tasks_waiting, and fairness.
func TestSemaphore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := trio.NewSemaphore(1, 0)
		if n := s.Statistics().TasksWaiting; n != 0 {
			t.Fatalf("TasksWaiting = %d", n)
		}
		s.TryAcquire()
		done := make(chan error, 1)
		go func() { done <- s.Acquire(t.Context()) }()
		synctest.Wait()
		if n := s.Statistics().TasksWaiting; n != 1 {
			t.Fatalf("TasksWaiting = %d, want 1", n)
		}
		s.Release()
		if s.Value() != 0 || s.TryAcquire() { // fairness: the unit went to the waiter
			t.Fatal("a released unit did not go to the waiter")
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if n := s.Statistics().TasksWaiting; n != 0 {
			t.Fatalf("TasksWaiting = %d, want 0", n)
		}
	})
}

// test_Lock_and_StrictFIFOLock: statistics() reports whether the lock is
// held, by which task, and how many wait for it. Trio's RuntimeErrors, as
// far as Go can check them (see Lock's doc): releasing a Lock the caller
// does not hold because nobody does panics; the owner trying again with
// TryAcquire fails without blocking (Trio raises); the owner Acquiring
// again with its task's ctx waits, like any other goroutine of the task,
// until its ctx ends (Trio raises at once). Releasing a Lock another task
// holds is not checked: Release takes no ctx.
func TestLockAndStrictFIFOLock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l trio.Lock
		if st := l.Statistics(); st.Locked || st.TasksWaiting != 0 {
			t.Fatalf("statistics of a new lock = %+v", st)
		}
		l.TryAcquire()
		done := make(chan error, 1)
		go func() { done <- l.Acquire(t.Context()) }()
		synctest.Wait()
		if st := l.Statistics(); !st.Locked || st.TasksWaiting != 1 {
			t.Fatalf("statistics = %+v; want locked, 1 waiting", st)
		}
		l.Release()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if st := l.Statistics(); !st.Locked || st.TasksWaiting != 0 {
			t.Fatalf("statistics after the hand-over = %+v; want locked, 0 waiting", st)
		}
		l.Release()
		if st := l.Statistics(); st.Locked {
			t.Fatalf("statistics after Release = %+v", st)
		}
		wantPanic(t, "trio: Release of an unlocked Lock", l.Release)

		owner := func(ctx context.Context) error { // a task: it owns what it Acquires
			if err := l.Acquire(ctx); err != nil {
				return err
			}
			if l.TryAcquire() {
				t.Errorf("TryAcquire by the owner: got true, want false")
			}
			wctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			start := time.Now()
			if err := l.Acquire(wctx); !errors.Is(err, trio.ErrCancelled) || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Acquire by the owner: got %v, want it to wait until its ctx's deadline", err)
			}
			if d := time.Since(start); d != time.Second {
				t.Errorf("Acquire by the owner returned after %v, want 1s (its ctx's deadline)", d)
			}
			if st := l.Statistics(); !st.Locked || st.Owner == nil || st.Owner != trio.CurrentTask(ctx) || st.TasksWaiting != 0 {
				t.Errorf("statistics after the owner's second Acquire = %+v; want still locked by the task, nobody waiting", st)
			}
			l.Release()
			return nil
		}
		err := trio.OpenNursery(t.Context(), func(ctx context.Context, n *trio.Nursery) error {
			n.StartSoon(owner)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if st := l.Statistics(); st != (trio.LockStatistics{}) {
			t.Fatalf("statistics after the owner released = %+v; want unlocked", st)
		}

		// The owner is the task holding the lock.
		holderTasks := make(chan *trio.Task, 2)
		holder := func(ctx context.Context) error {
			holderTasks <- trio.CurrentTask(ctx)
			if err := l.Acquire(ctx); err != nil {
				return err
			}
			defer l.Release()
			return trio.SleepForever(ctx)
		}
		trio.OpenNursery(t.Context(), func(ctx context.Context, n *trio.Nursery) error {
			n.StartSoon(holder)
			synctest.Wait()
			holderTask := <-holderTasks
			if l.TryAcquire() {
				t.Fatal("TryAcquire took a lock another task holds")
			}
			if st := l.Statistics(); !st.Locked || st.Owner != holderTask || st.TasksWaiting != 0 {
				t.Fatalf("statistics = %+v; want locked by the holder (%p), nobody waiting", st, holderTask)
			}
			n.StartSoon(holder)
			synctest.Wait()
			if st := l.Statistics(); st.TasksWaiting != 1 {
				t.Fatalf("statistics = %+v; want 1 waiting", st)
			}
			n.CancelScope().Cancel()
			return nil
		})
		if st := l.Statistics(); st != (trio.LockStatistics{}) {
			t.Fatalf("statistics at the end = %+v; want unlocked, no owner, nobody waiting", st)
		}
	})
}

// test_Condition: statistics() counts the waiters and includes the lock's.
func TestConditionStatistics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := trio.NewCondition(nil)
		done := make(chan error, 2)
		for range 2 {
			go func() {
				if err := c.Acquire(t.Context()); err != nil {
					done <- err
					return
				}
				err := c.Wait(t.Context())
				c.Release()
				done <- err
			}()
			synctest.Wait()
		}
		if st := c.Statistics(); st.TasksWaiting != 2 || st.LockStatistics.Locked {
			t.Fatalf("statistics = %+v; want 2 waiting, unlocked", st)
		}
		c.Acquire(t.Context())
		c.Notify(1)
		if st := c.Statistics(); st.TasksWaiting != 1 || !st.LockStatistics.Locked || st.LockStatistics.TasksWaiting != 1 {
			t.Fatalf("statistics after Notify(1) = %+v; want 1 waiting, locked, 1 waiting for the lock", st)
		}
		c.NotifyAll()
		c.Release()
		for range 2 {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
		if st := c.Statistics(); st.TasksWaiting != 0 || st.LockStatistics != (trio.LockStatistics{}) {
			t.Fatalf("statistics at the end = %+v", st)
		}
	})
}

// Trio's acquire borrows on behalf of the current task: in Go, a task
// borrows as itself with CurrentTask, and the limiter then refuses a
// second token to the same task and lists the task among the borrowers.
func TestCapacityLimiterOnBehalfOfCurrentTask(t *testing.T) {
	c := trio.NewCapacityLimiter(2)
	trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		n.StartSoon(func(ctx context.Context) error {
			me := trio.CurrentTask(ctx)
			if err := c.AcquireOnBehalfOf(ctx, me); err != nil {
				return err
			}
			defer c.ReleaseOnBehalfOf(me)
			if b := c.Statistics().Borrowers; len(b) != 1 || b[0] != me {
				t.Errorf("borrowers = %v, want the task", b)
			}
			wantPanic(t, msgAlreadyBorrowing, func() { c.TryAcquireOnBehalfOf(me) })
			return nil
		})
		return nil
	})
	if c.BorrowedTokens() != 0 {
		t.Errorf("borrowed = %d after the task released", c.BorrowedTokens())
	}
}

// A waiter that gives up (its ctx cancelled) no longer counts.
func TestEventStatisticsCancelledWaiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var e trio.Event
		ctx, cancel := context.WithCancel(t.Context())
		go e.Wait(ctx)
		go e.Wait(t.Context())
		synctest.Wait()
		cancel()
		synctest.Wait()
		if n := e.Statistics().TasksWaiting; n != 1 {
			t.Fatalf("TasksWaiting = %d, want 1", n)
		}
		e.Set()
		synctest.Wait()
	})
}
