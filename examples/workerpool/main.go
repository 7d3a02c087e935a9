// Workerpool feeds a pool of trio goroutines from an asyncio Queue: an
// asyncio producer puts jobs on the loop, trio workers take them through
// the boundary (RunAsyncio around Queue.Get), do blocking Go work in
// parallel, and report back (RunSync around Queue.TaskDone). When the
// producer is done it shuts the queue down, which ends the workers.
//
//	go run ./examples/workerpool -jobs 20 -workers 4
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

func main() {
	jobs := flag.Int("jobs", 20, "how many jobs")
	workers := flag.Int("workers", 4, "how many trio workers")
	flag.Parse()
	if err := trio.Run(func(ctx context.Context) error { return run(ctx, os.Stdout, *jobs, *workers) }); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, out io.Writer, jobs, workers int) error {
	return asyncio.OpenLoop(ctx, func(ctx context.Context, loop *asyncio.Loop) error {
		q := asyncio.NewQueue[int](workers) // bounded: the producer waits for the workers
		var sum atomic.Int64
		var mu sync.Mutex // the workers print from several goroutines
		say := func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(out, format, args...)
		}
		return trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
			for w := range workers {
				n.StartSoon(func(ctx context.Context) error {
					done := 0
					for {
						job, err := asyncio.RunAsyncio(ctx, q.Get)
						if errors.Is(err, asyncio.ErrQueueShutDown) {
							say("worker %d: did %d jobs\n", w, done)
							return nil
						}
						if err != nil {
							return err
						}
						time.Sleep(time.Millisecond) // blocking Go work, in parallel
						sum.Add(int64(job * job))
						done++
						asyncio.RunSync(ctx, func(context.Context) (struct{}, error) { q.TaskDone(); return struct{}{}, nil })
					}
				})
			}
			// The producer is asyncio code.
			_, err := asyncio.RunAsyncio(ctx, asyncio.NoResult(func(ctx context.Context) error {
				for i := 1; i <= jobs; i++ {
					if err := q.Put(ctx, i); err != nil {
						return err
					}
				}
				if err := q.Join(ctx); err != nil { // every job done
					return err
				}
				q.Shutdown(false)
				return nil
			}))
			say("sum of squares 1..%d: %d\n", jobs, sum.Load())
			return err
		})
	})
}
