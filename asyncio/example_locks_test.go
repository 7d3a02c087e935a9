package asyncio_test

import (
	"context"
	"fmt"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

func ExampleLock() {
	asyncio.Run(context.Background(), asyncio.NoResult(func(ctx context.Context) error {
		var mu asyncio.Lock // the zero value is an unlocked lock
		balance := 0
		deposit := func(name string) func(ctx context.Context) error {
			return func(ctx context.Context) error {
				if err := mu.Acquire(ctx); err != nil {
					return err
				}
				defer mu.Release()
				b := balance
				// Other tasks run here, but none enters the critical section.
				if err := asyncio.Sleep(ctx, 0); err != nil {
					return err
				}
				balance = b + 10
				fmt.Println(name, "deposited 10, balance", balance)
				return nil
			}
		}
		tasks := []*asyncio.Task[struct{}]{asyncio.CreateTask(ctx, asyncio.NoResult(deposit("a"))), asyncio.CreateTask(ctx, asyncio.NoResult(deposit("b"))), asyncio.CreateTask(ctx, asyncio.NoResult(deposit("c")))}
		for _, task := range tasks {
			if _, err := asyncio.Await(ctx, task); err != nil {
				return err
			}
		}
		fmt.Println("locked at the end:", mu.Locked())
		return nil
	}))
	// Output:
	// a deposited 10, balance 10
	// b deposited 10, balance 20
	// c deposited 10, balance 30
	// locked at the end: false
}

func ExampleEvent() {
	asyncio.Run(context.Background(), asyncio.NoResult(func(ctx context.Context) error {
		var ready asyncio.Event
		waiter := func(name string) func(ctx context.Context) error {
			return func(ctx context.Context) error {
				if err := ready.Wait(ctx); err != nil {
					return err
				}
				fmt.Println(name, "saw the event")
				return nil
			}
		}
		w1, w2 := asyncio.CreateTask(ctx, asyncio.NoResult(waiter("w1"))), asyncio.CreateTask(ctx, asyncio.NoResult(waiter("w2")))
		asyncio.Sleep(ctx, 0) // let them wait
		fmt.Println("setting")
		ready.Set()
		asyncio.Await(ctx, w1)
		asyncio.Await(ctx, w2)
		return nil
	}))
	// Output:
	// setting
	// w1 saw the event
	// w2 saw the event
}

func ExampleCondition() {
	asyncio.Run(context.Background(), asyncio.NoResult(func(ctx context.Context) error {
		var cond asyncio.Condition // with a lock of its own
		var items []string
		consumer := asyncio.CreateTask(ctx, asyncio.NoResult(func(ctx context.Context) error {
			if err := cond.Acquire(ctx); err != nil {
				return err
			}
			defer cond.Release()
			for range 2 {
				// Wait releases the lock while it waits, and holds it again
				// when it returns.
				if err := cond.WaitFor(ctx, func() bool { return len(items) > 0 }); err != nil {
					return err
				}
				fmt.Println("consumed", items[0])
				items = items[1:]
			}
			return nil
		}))
		for _, item := range []string{"x", "y"} {
			if err := cond.Acquire(ctx); err != nil {
				return err
			}
			fmt.Println("produced", item)
			items = append(items, item)
			cond.Notify(1)
			cond.Release()
			asyncio.Sleep(ctx, 0)
		}
		_, err := asyncio.Await(ctx, consumer)
		return err
	}))
	// Output:
	// produced x
	// consumed x
	// produced y
	// consumed y
}

func ExampleSemaphore() {
	asyncio.Run(context.Background(), asyncio.NoResult(func(ctx context.Context) error {
		sem := asyncio.NewSemaphore(2) // at most two at a time
		inside := 0
		worker := func(id int) func(ctx context.Context) error {
			return func(ctx context.Context) error {
				if err := sem.Acquire(ctx); err != nil {
					return err
				}
				defer sem.Release()
				inside++
				fmt.Printf("worker %d in (%d inside)\n", id, inside)
				asyncio.Sleep(ctx, 0)
				inside--
				return nil
			}
		}
		var tasks []*asyncio.Task[struct{}]
		for id := range 4 {
			tasks = append(tasks, asyncio.CreateTask(ctx, asyncio.NoResult(worker(id))))
		}
		for _, task := range tasks {
			asyncio.Await(ctx, task)
		}
		return nil
	}))
	// Output:
	// worker 0 in (1 inside)
	// worker 1 in (2 inside)
	// worker 2 in (1 inside)
	// worker 3 in (2 inside)
}

func ExampleBoundedSemaphore() {
	asyncio.Run(context.Background(), asyncio.NoResult(func(ctx context.Context) error {
		sem := asyncio.NewBoundedSemaphore(1)
		if err := sem.Acquire(ctx); err != nil {
			return err
		}
		sem.Release()
		defer func() { fmt.Println("panic:", recover()) }()
		sem.Release() // one release too many
		return nil
	}))
	// Output:
	// panic: asyncio: BoundedSemaphore released too many times
}

func ExampleBarrier() {
	asyncio.Run(context.Background(), asyncio.NoResult(func(ctx context.Context) error {
		barrier := asyncio.NewBarrier(3)
		party := func(name string) func(ctx context.Context) error {
			return func(ctx context.Context) error {
				fmt.Println(name, "arrives")
				i, err := barrier.Wait(ctx)
				if err != nil {
					return err
				}
				fmt.Println(name, "passes, arrival", i)
				return nil
			}
		}
		tasks := []*asyncio.Task[struct{}]{asyncio.CreateTask(ctx, asyncio.NoResult(party("a"))), asyncio.CreateTask(ctx, asyncio.NoResult(party("b"))), asyncio.CreateTask(ctx, asyncio.NoResult(party("c")))}
		for _, task := range tasks {
			asyncio.Await(ctx, task)
		}
		// A broken barrier fails every wait.
		barrier.Abort(ctx)
		_, err := barrier.Wait(ctx)
		fmt.Println(err)
		return nil
	}))
	// Output:
	// a arrives
	// b arrives
	// c arrives
	// c passes, arrival 2
	// a passes, arrival 0
	// b passes, arrival 1
	// asyncio: broken barrier: barrier aborted
}
