package trio_test

import (
	"context"
	"fmt"
	"time"

	"github.com/trioasyncio/trioasyncio/trio"
)

func ExampleEventStatistics() {
	var e trio.Event
	trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		for range 3 {
			n.StartSoon(e.Wait)
		}
		for e.Statistics().TasksWaiting < 3 {
			trio.Sleep(ctx, time.Millisecond)
		}
		fmt.Println("waiting:", e.Statistics().TasksWaiting)
		e.Set()
		return nil
	})
	fmt.Println("waiting:", e.Statistics().TasksWaiting)
	// Output:
	// waiting: 3
	// waiting: 0
}

func ExampleLockStatistics() {
	var l trio.Lock
	trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		n.StartSoon(func(ctx context.Context) error {
			if err := l.Acquire(ctx); err != nil {
				return err
			}
			defer l.Release()
			st := l.Statistics()
			fmt.Println(st.Locked, st.Owner == trio.CurrentTask(ctx), st.TasksWaiting)
			return nil
		})
		return nil
	})
	fmt.Printf("%+v\n", l.Statistics())
	// Output:
	// true true 0
	// {Locked:false Owner:<nil> TasksWaiting:0}
}

func ExampleSemaphoreStatistics() {
	s := trio.NewSemaphore(0, 0)
	trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		n.StartSoon(s.Acquire)
		for s.Statistics().TasksWaiting < 1 {
			trio.Sleep(ctx, time.Millisecond)
		}
		fmt.Printf("%+v\n", s.Statistics())
		s.Release()
		return nil
	})
	// Output: {TasksWaiting:1}
}

func ExampleConditionStatistics() {
	c := trio.NewCondition(nil)
	trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		n.StartSoon(func(ctx context.Context) error {
			c.Acquire(ctx)
			defer c.Release()
			return c.Wait(ctx)
		})
		for c.Statistics().TasksWaiting < 1 {
			trio.Sleep(ctx, time.Millisecond)
		}
		fmt.Printf("%+v\n", c.Statistics())
		c.Acquire(ctx)
		c.NotifyAll()
		c.Release()
		return nil
	})
	// Output: {TasksWaiting:1 LockStatistics:{Locked:false Owner:<nil> TasksWaiting:0}}
}

func ExampleCapacityLimiterStatistics() {
	c := trio.NewCapacityLimiter(2)
	c.TryAcquireOnBehalfOf("job 1")
	c.TryAcquire() // anonymous: counted, not listed
	fmt.Printf("%+v\n", c.Statistics())
	// Output: {BorrowedTokens:2 TotalTokens:2 Borrowers:[job 1] TasksWaiting:0}
}

// An unlimited CapacityLimiter admits everybody, and still counts them.
func ExampleUnlimitedTokens() {
	c := trio.NewCapacityLimiter(trio.UnlimitedTokens)
	for range 1000 {
		c.TryAcquire()
	}
	fmt.Println(c.BorrowedTokens(), c.AvailableTokens() == trio.UnlimitedTokens)
	// Output: 1000 true
}

// A channel's Statistics: what is buffered, and who holds handles.
func ExampleMemoryChannelStatistics() {
	tx, rx := trio.OpenMemoryChannel[int](2)
	ctx := context.Background()
	tx.Send(ctx, 1)
	tx.Send(ctx, 2)
	rx.Receive(ctx)
	s := tx.Statistics()
	fmt.Println(s.CurrentBufferUsed, s.MaxBufferSize, s.PeakBufferUsed, s.OpenSendChannels, s.OpenReceiveChannels)
	// Output:
	// 1 2 2 1 1
}
