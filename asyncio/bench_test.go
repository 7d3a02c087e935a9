package asyncio_test

import (
	"container/heap"
	"context"
	"iter"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// Benchmarks of the loop's core, one per workload, each beside its Go
// floor (the same work done with plain Go, the bound the loop is measured
// against): W1 a chain of callbacks, W2 timers, W3 a ping-pong between
// two tasks, W4 spawning tasks. The W numbers are the names the project's
// performance figures use (W6, the boundary, is in bench_bridge_test.go).
// Workloads scale with b.N; timed regions exclude loop start-up. Run them
// as
//
//	go test -run '^$' -bench . -benchtime 1000000x ./asyncio/   (W1)
//	go test -run '^$' -bench W2 -benchtime 200000x ./asyncio/   (W2 at its reference size)
//	go test -run '^$' -bench 'W3|W4' ./asyncio/

// benchLoop is withLoop for a benchmark that reports allocations; body
// times what it wants.
func benchLoop(b *testing.B, body func(ctx context.Context, loop *asyncio.Loop)) {
	b.Helper()
	b.ReportAllocs()
	withLoop(b, body)
}

// W1: a callback increments a counter and, while it is below N, schedules
// itself again with CallSoon; the N-th completes a future the timing code
// waits for. One op = one callback.
func BenchmarkW1CallbackChain(b *testing.B) {
	benchLoop(b, func(ctx context.Context, loop *asyncio.Loop) {
		n := b.N
		done := make(chan struct{})
		count := 0
		var fut *asyncio.Future[int]
		var cb func(ctx context.Context)
		cb = func(ctx context.Context) {
			count++
			if count < n {
				loop.CallSoon(cb)
				return
			}
			fut.SetResult(count)
		}
		onLoop(ctx, loop, func(ctx context.Context) {
			fut = asyncio.NewFuture[int](loop)
			fut.AddDoneCallback(func(context.Context) { close(done) })
		})
		b.ResetTimer()
		loop.CallSoonThreadsafe(cb)
		<-done
		b.StopTimer()
	})
}

// W1 floor: a plain slice-of-func queue run in batches, as the loop does.
func BenchmarkW1Floor_SliceQueue(b *testing.B) {
	b.ReportAllocs()
	var ready, spare []func()
	n, count := b.N, 0
	var cb func()
	cb = func() {
		count++
		if count < n {
			ready = append(ready, cb)
		}
	}
	ready = append(ready, cb)
	for len(ready) > 0 {
		batch := ready
		ready = spare[:0]
		for _, f := range batch {
			f()
		}
		clear(batch)
		spare = batch[:0]
	}
}

// minstd returns the W2 delays: Park–Miller minstd from x0 = 42, delay =
// window · x/(2³¹−1). The reference workload spreads N = 200,000 timers
// over a 100 ms window; the window is scaled with N (500 ns of window per
// timer) so that the timer density, and so ns/op, do not depend on b.N;
// at N = 200,000 the workload is exactly the reference one.
func minstd(n int) []time.Duration {
	const m = 1<<31 - 1
	window := float64(n) * 500 // ns
	ds := make([]time.Duration, n)
	x := int64(42)
	for i := range ds {
		x = 48271 * x % m
		ds[i] = time.Duration(window * float64(x) / m)
	}
	return ds
}

// W2: schedule N timers with CallLater, cancel the odd ones, run until the
// others have fired. One op = one timer (wall); cpu-ns/op is the process's
// CPU time per timer.
func BenchmarkW2Timers(b *testing.B) {
	delays := minstd(b.N)
	benchLoop(b, func(ctx context.Context, loop *asyncio.Loop) {
		done := make(chan struct{})
		want := (b.N + 1) / 2
		fired := 0
		fire := func(context.Context) {
			fired++
			if fired == want {
				close(done)
			}
		}
		cpu0 := cpuTime()
		b.ResetTimer()
		loop.CallSoonThreadsafe(func(ctx context.Context) {
			hs := make([]*asyncio.TimerHandle, len(delays))
			for i, d := range delays {
				hs[i] = loop.CallLater(d, fire)
			}
			for i := 1; i < len(hs); i += 2 {
				hs[i].Cancel()
			}
		})
		<-done
		b.StopTimer()
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	})
}

// W2 floor: one goroutine running a container/heap of timers and sleeping
// on a time.Timer until the next one is due.
func BenchmarkW2Floor_TimerHeap(b *testing.B) {
	b.ReportAllocs()
	delays := minstd(b.N)
	cpu0 := cpuTime()
	b.ResetTimer()
	start := time.Now()
	h := &floorHeap{}
	items := make([]*floorTimer, len(delays))
	for i, d := range delays {
		items[i] = &floorTimer{when: start.Add(d), seq: i}
		heap.Push(h, items[i])
	}
	for i := 1; i < len(items); i += 2 {
		items[i].cancelled = true
	}
	fired := 0
	tm := time.NewTimer(time.Hour)
	for h.Len() > 0 {
		top := (*h)[0]
		if top.cancelled {
			heap.Pop(h)
			continue
		}
		if d := time.Until(top.when); d > 0 {
			tm.Reset(d)
			<-tm.C
			continue
		}
		heap.Pop(h)
		fired++
	}
	tm.Stop()
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	if fired != (b.N+1)/2 {
		b.Fatalf("fired: got %d, want (b.N + 1) / 2", fired)
	}
}

type floorTimer struct {
	when      time.Time
	seq       int
	cancelled bool
}

type floorHeap []*floorTimer

func (h floorHeap) Len() int { return len(h) }
func (h floorHeap) Less(i, j int) bool {
	return h[i].when.Before(h[j].when) || (h[i].when.Equal(h[j].when) && h[i].seq < h[j].seq)
}
func (h floorHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *floorHeap) Push(x any)   { *h = append(*h, x.(*floorTimer)) }
func (h *floorHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// W3: two tasks ping-pong through fresh futures. The ponger awaits box[0];
// the pinger makes a fresh future fa, stores it in box[1], resolves box[0]
// with i and awaits fa; the ponger, woken, makes a fresh box[0] and
// resolves box[1]. One op = one one-way switch.
func BenchmarkW3PingPong(b *testing.B) {
	benchLoop(b, func(ctx context.Context, loop *asyncio.Loop) {
		n := b.N / 2 // round trips; each is two one-way messages
		if n == 0 {
			n = 1
		}
		var box [2]*asyncio.Future[int]
		main := func(ctx context.Context) (int, error) {
			box[0] = asyncio.NewFuture[int](loop)
			ponger := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
				for i := 0; i < n; i++ {
					if _, err := asyncio.Await(ctx, box[0]); err != nil {
						return 0, err
					}
					box[0] = asyncio.NewFuture[int](loop)
					box[1].SetResult(i)
				}
				return 0, nil
			})
			pinger := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
				for i := 0; i < n; i++ {
					fa := asyncio.NewFuture[int](loop)
					box[1] = fa
					box[0].SetResult(i)
					if _, err := asyncio.Await(ctx, fa); err != nil {
						return 0, err
					}
				}
				return 0, nil
			})
			if _, err := asyncio.Await(ctx, ponger); err != nil {
				return 0, err
			}
			return asyncio.Await(ctx, pinger)
		}
		b.ResetTimer()
		if _, err := runTask(ctx, loop, main); err != nil {
			b.Fatalf("runTask: got %v, want nil", err)
		}
		b.StopTimer()
	})
}

// W3 floor: the same ping-pong between two iter.Pull coroutines driven by
// a scheduler loop. One op = one one-way switch (one next()).
func BenchmarkW3Floor_IterPull(b *testing.B) {
	b.ReportAllocs()
	n := b.N / 2
	var box int
	ping := func(yield func(int) bool) {
		for i := 0; i < n; i++ {
			box = i
			if !yield(i) {
				return
			}
		}
	}
	pong := func(yield func(int) bool) {
		for i := 0; i < n; i++ {
			if box != i || !yield(i) {
				return
			}
		}
	}
	b.ResetTimer()
	nextA, stopA := iter.Pull(ping)
	nextB, stopB := iter.Pull(pong)
	for {
		_, okA := nextA()
		_, okB := nextB()
		if !okA || !okB {
			break
		}
	}
	stopA()
	stopB()
}

// W3 floor: two goroutines ping-pong over unbuffered channels. One op =
// one one-way message.
func BenchmarkW3Floor_Chan(b *testing.B) {
	b.ReportAllocs()
	n := b.N / 2
	a, c := make(chan int), make(chan int)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			<-a
			c <- i
		}
	}()
	b.ResetTimer()
	for i := 0; i < n; i++ {
		a <- i
		<-c
	}
	wg.Wait()
}

// W4: create N tasks, each does Sleep(ctx, 0) once and returns its index;
// gather them all (the main task awaits each in turn). One op = one task.
func BenchmarkW4Spawn(b *testing.B) {
	benchLoop(b, func(ctx context.Context, loop *asyncio.Loop) {
		n := b.N
		main := func(ctx context.Context) (int, error) {
			tasks := make([]*asyncio.Task[int], n)
			for i := range tasks {
				tasks[i] = asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
					return i, asyncio.Sleep(ctx, 0)
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
			b.Fatalf("got %v %v; want err == nil && sum == n * (n - 1) / 2", sum, err)
		}
	})
}

// W4 floor: N goroutines and a WaitGroup, with the default GOMAXPROCS.
func BenchmarkW4Floor_Goroutines(b *testing.B) { floorGoroutines(b) }

// W4 floor: the same with GOMAXPROCS 1.
func BenchmarkW4Floor_Goroutines1P(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	floorGoroutines(b)
}

func floorGoroutines(b *testing.B) {
	b.ReportAllocs()
	results := make([]int, b.N)
	var wg sync.WaitGroup
	wg.Add(b.N)
	for i := 0; i < b.N; i++ {
		go func() {
			defer wg.Done()
			runtime.Gosched()
			results[i] = i
		}()
	}
	wg.Wait()
}
