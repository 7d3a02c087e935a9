package workloads

import (
	"container/heap"
	"context"
	"fmt"
	"iter"
	"runtime"
	"sync"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// Sizes of the reference workloads (the project's published figures use
// these n).
const (
	W1N = 1_000_000
	W2N = 200_000
	W3N = 200_000
	W4N = 100_000
	W5N = 100_000 // 50 clients × 2,000 round trips
	W6N = 20_000
	W7N = 100_000
)

// withLoop runs body inside a fresh OpenLoop.
func withLoop(body func(ctx context.Context, loop *asyncio.Loop) error) error {
	return asyncio.OpenLoop(context.Background(), body)
}

// runTask runs coro as a task on loop, from trio-flavored code, and waits
// for its result.
func runTask[T any](ctx context.Context, loop *asyncio.Loop, coro func(ctx context.Context) (T, error)) (T, error) {
	type res struct {
		v   T
		err error
	}
	ch := make(chan res, 1)
	_, err := loop.CallSoonThreadsafe(func(ctx context.Context) {
		task := asyncio.CreateTask(ctx, coro)
		task.AddDoneCallback(func(context.Context) {
			v, err := task.Result()
			ch <- res{v, err}
		})
	})
	if err != nil {
		var zero T
		return zero, err
	}
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// W1CallbackChain is W1 on the loop: a callback increments a counter and,
// while it is below n, schedules itself again with CallSoon; the n-th
// completes a future the timing code waits for. One op = one callback.
func W1CallbackChain(t Timer, n int) error {
	return withLoop(func(ctx context.Context, loop *asyncio.Loop) error {
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
		ready := make(chan struct{})
		if _, err := loop.CallSoonThreadsafe(func(ctx context.Context) {
			fut = asyncio.NewFuture[int](loop)
			fut.AddDoneCallback(func(context.Context) { close(done) })
			close(ready)
		}); err != nil {
			return err
		}
		<-ready
		t.ResetTimer()
		if _, err := loop.CallSoonThreadsafe(cb); err != nil {
			return err
		}
		<-done
		t.StopTimer()
		return nil
	})
}

// W1FloorSliceQueue is W1's Go floor: a plain slice-of-func queue run in
// batches, as the loop does.
func W1FloorSliceQueue(t Timer, n int) error {
	var ready, spare []func()
	count := 0
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
	return nil
}

// Minstd returns W2's delays: Park–Miller minstd from x0 = 42, delay =
// window · x/(2³¹−1). The reference workload spreads 200,000 timers over
// a 100 ms window; the window is scaled with n (500 ns of window per
// timer) so that the timer density, and so ns/op, do not depend on n; at
// n = 200,000 the workload is exactly the reference one.
func Minstd(n int) []time.Duration {
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

// W2Timers is W2 on the loop: schedule n timers with CallLater, cancel the
// odd ones, run until the others have fired. One op = one timer (wall);
// it reports cpu-ns/op, the process's CPU time per timer.
func W2Timers(t Timer, n int) error {
	delays := Minstd(n)
	return withLoop(func(ctx context.Context, loop *asyncio.Loop) error {
		done := make(chan struct{})
		want := (n + 1) / 2
		fired := 0
		fire := func(context.Context) {
			fired++
			if fired == want {
				close(done)
			}
		}
		cpu0 := CPUTime()
		t.ResetTimer()
		if _, err := loop.CallSoonThreadsafe(func(ctx context.Context) {
			hs := make([]*asyncio.TimerHandle, len(delays))
			for i, d := range delays {
				hs[i] = loop.CallLater(d, fire)
			}
			for i := 1; i < len(hs); i += 2 {
				hs[i].Cancel()
			}
		}); err != nil {
			return err
		}
		<-done
		t.StopTimer()
		t.ReportMetric(float64(CPUTime()-cpu0)/float64(n), "cpu-ns/op")
		return nil
	})
}

// W2FloorTimerHeap is W2's Go floor: one goroutine running a
// container/heap of timers and sleeping on a time.Timer until the next one
// is due. It reports cpu-ns/op as W2Timers does.
func W2FloorTimerHeap(t Timer, n int) error {
	delays := Minstd(n)
	cpu0 := CPUTime()
	t.ResetTimer()
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
	t.StopTimer()
	t.ReportMetric(float64(CPUTime()-cpu0)/float64(n), "cpu-ns/op")
	if fired != (n+1)/2 {
		return fmt.Errorf("fired: got %d, want (n + 1) / 2 = %d", fired, (n+1)/2)
	}
	return nil
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

// W3PingPong is W3 on the loop: two tasks ping-pong through fresh
// futures. The ponger awaits box[0]; the pinger makes a fresh future fa,
// stores it in box[1], resolves box[0] with i and awaits fa; the ponger,
// woken, makes a fresh box[0] and resolves box[1]. One op = one one-way
// switch (n/2 round trips).
func W3PingPong(t Timer, n int) error {
	return withLoop(func(ctx context.Context, loop *asyncio.Loop) error {
		n := n / 2 // round trips; each is two one-way messages
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
		t.ResetTimer()
		_, err := runTask(ctx, loop, main)
		t.StopTimer()
		return err
	})
}

// W3FloorIterPull is a W3 Go floor: the same ping-pong between two
// iter.Pull coroutines driven by a scheduler loop. One op = one one-way
// switch (one next()).
func W3FloorIterPull(t Timer, n int) error {
	n = n / 2
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
	t.ResetTimer()
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
	return nil
}

// W3FloorChan is a W3 Go floor: two goroutines ping-pong over unbuffered
// channels. One op = one one-way message.
func W3FloorChan(t Timer, n int) error {
	n = n / 2
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
	t.ResetTimer()
	for i := 0; i < n; i++ {
		a <- i
		<-c
	}
	wg.Wait()
	return nil
}

// W4Spawn is W4 on the loop: create n tasks, each does Sleep(ctx, 0) once
// and returns its index; gather them all (the main task awaits each in
// turn). One op = one task.
func W4Spawn(t Timer, n int) error { return spawn(t, n, false, true) }

// W4SpawnEager is W4Spawn on a loop whose task factory is
// EagerTaskFactory: each task's first step, up to its Sleep(ctx, 0), runs
// inside CreateTask.
func W4SpawnEager(t Timer, n int) error { return spawn(t, n, true, true) }

// W4SpawnNoSleep is W4Spawn with coroutines that return at once.
func W4SpawnNoSleep(t Timer, n int) error { return spawn(t, n, false, false) }

// W4SpawnNoSleepEager is W4SpawnNoSleep with eager tasks: each completes
// inside CreateTask and is never scheduled.
func W4SpawnNoSleepEager(t Timer, n int) error { return spawn(t, n, true, false) }

func spawn(t Timer, n int, eager, sleep bool) error {
	return withLoop(func(ctx context.Context, loop *asyncio.Loop) error {
		if eager {
			loop.SetTaskFactory(asyncio.EagerTaskFactory)
		}
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
		t.ResetTimer()
		sum, err := runTask(ctx, loop, main)
		t.StopTimer()
		if err != nil {
			return err
		}
		if sum != n*(n-1)/2 {
			return fmt.Errorf("sum: got %d, want n * (n - 1) / 2 = %d", sum, n*(n-1)/2)
		}
		return nil
	})
}

// W4FloorGoroutines is W4's Go floor: n goroutines, each yields once
// (runtime.Gosched) and stores its index, and a WaitGroup, with the
// current GOMAXPROCS.
func W4FloorGoroutines(t Timer, n int) error {
	results := make([]int, n)
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			defer wg.Done()
			runtime.Gosched()
			results[i] = i
		}()
	}
	wg.Wait()
	return nil
}

// W4FloorGoroutines1P is W4FloorGoroutines with GOMAXPROCS 1.
func W4FloorGoroutines1P(t Timer, n int) error {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	return W4FloorGoroutines(t, n)
}

// W6RunAsyncio is W6 trio→asyncio: sequential RunAsyncio(ctx, noop) from
// trio code, inside one OpenLoop. A call is a task created on the loop, a
// step, and the result back: a hand-off to the loop goroutine, a
// coroutine switch, and a hand-off back. One op = one call.
func W6RunAsyncio(t Timer, n int) error {
	return withLoop(func(ctx context.Context, loop *asyncio.Loop) error {
		noop := func(context.Context) (int, error) { return 1, nil }
		sum := 0
		t.ResetTimer()
		for i := 0; i < n; i++ {
			v, err := asyncio.RunAsyncio(ctx, noop)
			if err != nil {
				return err
			}
			sum += v
		}
		t.StopTimer()
		if sum != n {
			return fmt.Errorf("sum: got %d, want %d", sum, n)
		}
		return nil
	})
}

// W6RunTrio is W6 asyncio→trio: sequential Await(RunTrio(ctx, noop)) from
// one coroutine. A call is a goroutine of the loop's nursery started and
// ended, and its result posted back to the loop. One op = one call.
func W6RunTrio(t Timer, n int) error {
	return withLoop(func(ctx context.Context, loop *asyncio.Loop) error {
		noop := func(context.Context) (int, error) { return 1, nil }
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			sum := 0
			t.ResetTimer()
			for i := 0; i < n; i++ {
				v, err := asyncio.Await(ctx, asyncio.RunTrio(ctx, noop))
				if err != nil {
					return 0, err
				}
				sum += v
			}
			t.StopTimer()
			if sum != n {
				return 0, fmt.Errorf("sum: got %d, want %d", sum, n)
			}
			return sum, nil
		})
		return err
	})
}

// W6FloorChanRoundTrip is the Go floor of W6's trio→asyncio call: a round
// trip between two goroutines over unbuffered channels (a request and its
// answer).
func W6FloorChanRoundTrip(t Timer, n int) error {
	req, resp := make(chan int), make(chan int)
	var wg sync.WaitGroup
	wg.Go(func() {
		for v := range req {
			resp <- v + 1
		}
	})
	t.ResetTimer()
	sum := 0
	for i := 0; i < n; i++ {
		req <- 0
		sum += <-resp
	}
	t.StopTimer()
	close(req)
	wg.Wait()
	if sum != n {
		return fmt.Errorf("sum: got %d, want %d", sum, n)
	}
	return nil
}

// W6FloorGoroutinePerCall is the Go floor of W6's asyncio→trio call: a
// goroutine started per call, whose result comes back over a channel.
func W6FloorGoroutinePerCall(t Timer, n int) error {
	resp := make(chan int)
	sum := 0
	for i := 0; i < n; i++ {
		go func() { resp <- 1 }()
		sum += <-resp
	}
	if sum != n {
		return fmt.Errorf("sum: got %d, want %d", sum, n)
	}
	return nil
}
