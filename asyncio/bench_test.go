package asyncio_test

import (
	"testing"

	"github.com/trioasyncio/trioasyncio/internal/workloads"
)

// Benchmarks of the loop's core, one per workload, each beside its Go
// floor (the same work done with plain Go, the bound the loop is measured
// against): W1 a chain of callbacks, W2 timers, W3 a ping-pong between
// two tasks, W4 spawning tasks. The W numbers are the names the project's
// performance figures use (W6, the boundary, is in bench_bridge_test.go).
// Workloads scale with b.N; timed regions exclude loop start-up. Their
// bodies live in internal/workloads, which the bench command
// (go run ./cmd/trioasyncio bench) runs too. Run them as
//
//	go test -run '^$' -bench . -benchtime 1000000x ./asyncio/   (W1)
//	go test -run '^$' -bench W2 -benchtime 200000x ./asyncio/   (W2 at its reference size)
//	go test -run '^$' -bench 'W3|W4' ./asyncio/

// bench runs a workload as a benchmark that reports allocations.
func bench(b *testing.B, w func(workloads.Timer, int) error) {
	b.Helper()
	b.ReportAllocs()
	if err := w(b, b.N); err != nil {
		b.Fatal(err)
	}
}

// W1: a callback increments a counter and, while it is below N, schedules
// itself again with CallSoon; the N-th completes a future the timing code
// waits for. One op = one callback.
func BenchmarkW1CallbackChain(b *testing.B) { bench(b, workloads.W1CallbackChain) }

// W1 floor: a plain slice-of-func queue run in batches, as the loop does.
func BenchmarkW1Floor_SliceQueue(b *testing.B) { bench(b, workloads.W1FloorSliceQueue) }

// W2: schedule N timers with CallLater, cancel the odd ones, run until the
// others have fired. One op = one timer (wall); cpu-ns/op is the process's
// CPU time per timer. The delays (workloads.Minstd) spread the timers over
// 500 ns of window per timer: 100 ms at the reference N = 200,000.
func BenchmarkW2Timers(b *testing.B) { bench(b, workloads.W2Timers) }

// W2 floor: one goroutine running a container/heap of timers and sleeping
// on a time.Timer until the next one is due.
func BenchmarkW2Floor_TimerHeap(b *testing.B) { bench(b, workloads.W2FloorTimerHeap) }

// W3: two tasks ping-pong through fresh futures. The ponger awaits box[0];
// the pinger makes a fresh future fa, stores it in box[1], resolves box[0]
// with i and awaits fa; the ponger, woken, makes a fresh box[0] and
// resolves box[1]. One op = one one-way switch.
func BenchmarkW3PingPong(b *testing.B) { bench(b, workloads.W3PingPong) }

// W3 floor: the same ping-pong between two iter.Pull coroutines driven by
// a scheduler loop. One op = one one-way switch (one next()).
func BenchmarkW3Floor_IterPull(b *testing.B) { bench(b, workloads.W3FloorIterPull) }

// W3 floor: two goroutines ping-pong over unbuffered channels. One op =
// one one-way message.
func BenchmarkW3Floor_Chan(b *testing.B) { bench(b, workloads.W3FloorChan) }

// W4: create N tasks, each does Sleep(ctx, 0) once and returns its index;
// gather them all (the main task awaits each in turn). One op = one task.
func BenchmarkW4Spawn(b *testing.B) { bench(b, workloads.W4Spawn) }

// W4 floor: N goroutines and a WaitGroup, with the default GOMAXPROCS.
func BenchmarkW4Floor_Goroutines(b *testing.B) { bench(b, workloads.W4FloorGoroutines) }

// W4 floor: the same with GOMAXPROCS 1.
func BenchmarkW4Floor_Goroutines1P(b *testing.B) { bench(b, workloads.W4FloorGoroutines1P) }
