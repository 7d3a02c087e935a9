package trio_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/trioasyncio/trioasyncio/trio"
)

func ExampleEvent() {
	var ready trio.Event
	err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		n.StartSoon(func(ctx context.Context) error {
			if err := ready.Wait(ctx); err != nil {
				return err
			}
			fmt.Println("worker: going")
			return nil
		})
		fmt.Println("main: setting up")
		ready.Set()
		return nil
	})
	fmt.Println("done:", err)
	// Output:
	// main: setting up
	// worker: going
	// done: <nil>
}

func ExampleLock() {
	var mu trio.Lock
	total := 0
	err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		for range 10 {
			n.StartSoon(func(ctx context.Context) error {
				if err := mu.Acquire(ctx); err != nil {
					return err
				}
				defer mu.Release()
				total++
				return nil
			})
		}
		return nil
	})
	fmt.Println(total, err)

	// Waiting for a Lock can be given up, like any blocking trio call.
	mu.TryAcquire()
	movedOn, err := trio.MoveOnAfter(context.Background(), 10*time.Millisecond, mu.Acquire)
	fmt.Println(movedOn, err)
	// Output:
	// 10 <nil>
	// true <nil>
}

func ExampleSemaphore() {
	s := trio.NewSemaphore(1, 1) // one permit, and never more
	err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		if err := s.Acquire(ctx); err != nil {
			return err
		}
		fmt.Println("main: took the permit; value", s.Value())
		n.StartSoon(func(ctx context.Context) error {
			if err := s.Acquire(ctx); err != nil { // waits for main's Release
				return err
			}
			fmt.Println("child: took the permit")
			s.Release()
			return nil
		})
		fmt.Println("main: releasing")
		s.Release()
		return nil
	})
	fmt.Println("value", s.Value(), err)
	// Output:
	// main: took the permit; value 0
	// main: releasing
	// child: took the permit
	// value 1 <nil>
}

func ExampleCapacityLimiter() {
	limit := trio.NewCapacityLimiter(2) // at most two jobs at once
	var mu sync.Mutex
	running, most := 0, 0
	err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		for job := range 5 {
			n.StartSoon(func(ctx context.Context) error {
				if err := limit.AcquireOnBehalfOf(ctx, job); err != nil {
					return err
				}
				defer limit.ReleaseOnBehalfOf(job)
				mu.Lock()
				running++
				most = max(most, running)
				mu.Unlock()
				err := trio.Sleep(ctx, time.Millisecond) // the work
				mu.Lock()
				running--
				mu.Unlock()
				return err
			})
		}
		return nil
	})
	fmt.Println("at most two at once:", most <= 2, err)
	fmt.Println("tokens borrowed now:", limit.BorrowedTokens())
	// Output:
	// at most two at once: true <nil>
	// tokens borrowed now: 0
}

func ExampleCondition() {
	c := trio.NewCondition(nil)
	var queue []string // guarded by c's lock
	err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		n.StartSoon(func(ctx context.Context) error { // the consumer
			if err := c.Acquire(ctx); err != nil {
				return err
			}
			defer c.Release() // Wait returns holding the lock, even when cancelled
			for len(queue) < 2 {
				if err := c.Wait(ctx); err != nil {
					return err
				}
			}
			fmt.Println("consumer got", queue)
			return nil
		})
		for _, item := range []string{"a", "b"} { // the producer
			if err := c.Acquire(ctx); err != nil {
				return err
			}
			queue = append(queue, item)
			c.Notify(1)
			c.Release()
		}
		return nil
	})
	fmt.Println(err)
	// Output:
	// consumer got [a b]
	// <nil>
}
