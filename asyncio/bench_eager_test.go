package asyncio_test

import (
	"context"
	"testing"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// W4 with eager tasks: BenchmarkW4Spawn's workload on a loop whose task
// factory is EagerTaskFactory, so each task's first step (up to its
// Sleep(ctx, 0)) runs inside CreateTask. Run them side by side as
//
//	go test -run '^$' -bench W4 ./asyncio/
//
// The NoSleep pair is the same without the Sleep: there an eager task
// completes inside CreateTask and is never scheduled.
func BenchmarkW4SpawnEager(b *testing.B) { benchSpawn(b, true, true) }

// BenchmarkW4SpawnNoSleep is W4 with coroutines that return at once.
func BenchmarkW4SpawnNoSleep(b *testing.B) { benchSpawn(b, false, false) }

// BenchmarkW4SpawnNoSleepEager is the same with eager tasks.
func BenchmarkW4SpawnNoSleepEager(b *testing.B) { benchSpawn(b, true, false) }

func benchSpawn(b *testing.B, eager, sleep bool) {
	benchLoop(b, func(ctx context.Context, loop *asyncio.Loop) {
		if eager {
			loop.SetTaskFactory(asyncio.EagerTaskFactory)
		}
		n := b.N
		main := func(ctx context.Context) (int, error) {
			tasks := make([]*asyncio.Task[int], n)
			for i := range tasks {
				tasks[i] = asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
					if sleep {
						return i, asyncio.Sleep(ctx, 0)
					}
					return i, nil
				})
			}
			sum := 0
			for _, t := range tasks {
				v, err := asyncio.Await(ctx, t)
				if err != nil {
					return 0, err
				}
				sum += v
			}
			return sum, nil
		}
		b.ResetTimer()
		sum, err := runTask(ctx, loop, main)
		b.StopTimer()
		if err != nil || sum != n*(n-1)/2 {
			b.Fatal(sum, err)
		}
	})
}
