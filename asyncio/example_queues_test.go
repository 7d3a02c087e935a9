package asyncio_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

func ExampleQueue() {
	asyncio.Run(context.Background(), asyncio.NoResult(func(ctx context.Context) error {
		q := asyncio.NewQueue[int](2) // Put waits while two items are in
		worker := func(name string) func(ctx context.Context) error {
			return func(ctx context.Context) error {
				for {
					job, err := q.Get(ctx)
					if err != nil {
						return err // cancelled below
					}
					fmt.Println(name, "got job", job)
					asyncio.Sleep(ctx, 0) // work on it, letting others run
					q.TaskDone()
				}
			}
		}
		w1, w2 := asyncio.CreateTask(ctx, asyncio.NoResult(worker("w1"))), asyncio.CreateTask(ctx, asyncio.NoResult(worker("w2")))
		for job := range 4 {
			if err := q.Put(ctx, job); err != nil {
				return err
			}
		}
		// Join waits until every job has been marked done.
		if err := q.Join(ctx); err != nil {
			return err
		}
		fmt.Println("all jobs done")
		w1.Cancel("")
		w2.Cancel("")
		return nil
	}))
	// Output:
	// w1 got job 0
	// w2 got job 1
	// w1 got job 2
	// w2 got job 3
	// all jobs done
}

func ExampleQueue_Shutdown() {
	asyncio.Run(context.Background(), asyncio.NoResult(func(ctx context.Context) error {
		var q asyncio.Queue[string] // the zero value is an unbounded queue
		consumer := asyncio.CreateTask(ctx, asyncio.NoResult(func(ctx context.Context) error {
			for {
				item, err := q.Get(ctx)
				if errors.Is(err, asyncio.ErrQueueShutDown) {
					fmt.Println("queue shut down and empty")
					return nil
				}
				if err != nil {
					return err
				}
				fmt.Println("got", item)
			}
		}))
		q.PutNowait("a")
		q.PutNowait("b")
		q.Shutdown(false) // the items put are still got
		fmt.Println("put after shutdown:", q.PutNowait("c"))
		_, err := asyncio.Await(ctx, consumer)
		return err
	}))
	// Output:
	// put after shutdown: asyncio: queue shut down
	// got a
	// got b
	// queue shut down and empty
}

func ExampleLifoQueue() {
	var q asyncio.LifoQueue[string]
	for _, s := range []string{"first", "second", "third"} {
		q.PutNowait(s)
	}
	for !q.Empty() {
		s, _ := q.GetNowait()
		fmt.Println(s)
	}
	_, err := q.GetNowait()
	fmt.Println(err)
	// Output:
	// third
	// second
	// first
	// asyncio: queue empty
}

func ExamplePriorityQueue() {
	type job struct {
		priority int
		name     string
	}
	q := asyncio.NewPriorityQueue(0, func(a, b job) bool { return a.priority < b.priority })
	q.PutNowait(job{3, "sweep"})
	q.PutNowait(job{1, "serve"})
	q.PutNowait(job{2, "log"})
	for !q.Empty() {
		j, _ := q.GetNowait()
		fmt.Println(j.priority, j.name)
	}
	// Output:
	// 1 serve
	// 2 log
	// 3 sweep
}
