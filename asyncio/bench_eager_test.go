package asyncio_test

import (
	"testing"

	"github.com/trioasyncio/trioasyncio/internal/workloads"
)

// W4 with eager tasks: BenchmarkW4Spawn's workload on a loop whose task
// factory is EagerTaskFactory, so each task's first step (up to its
// Sleep(ctx, 0)) runs inside CreateTask. Run them side by side as
//
//	go test -run '^$' -bench W4 ./asyncio/
//
// The NoSleep pair is the same without the Sleep: there an eager task
// completes inside CreateTask and is never scheduled.
func BenchmarkW4SpawnEager(b *testing.B) { bench(b, workloads.W4SpawnEager) }

// BenchmarkW4SpawnNoSleep is W4 with coroutines that return at once.
func BenchmarkW4SpawnNoSleep(b *testing.B) { bench(b, workloads.W4SpawnNoSleep) }

// BenchmarkW4SpawnNoSleepEager is the same with eager tasks.
func BenchmarkW4SpawnNoSleepEager(b *testing.B) { bench(b, workloads.W4SpawnNoSleepEager) }
