package asyncio_test

import (
	"context"
	"sync"
	"testing"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// W6, the workload of the project's performance figures that measures
// the boundary: sequential calls from trio-flavored code into the loop
// and from a task out to trio, each beside its Go floors; and the cost of
// an empty OpenLoop block. One op = one call. Run them as
//
//	go test -run '^$' -bench 'W6|OpenLoop' -benchtime 20000x -count 5 ./asyncio/
//
// (20,000 calls each way is the reference size; trio-asyncio's figures
// are 81 µs per aio_as_trio call and 105 µs per trio_as_aio await.)

// W6, trio→asyncio: sequential RunAsyncio(ctx, noop) from trio code.
// A call is a task created on the loop, a step, and the result back: a
// hand-off to the loop goroutine, a coroutine switch, and a hand-off back.
func BenchmarkW6RunAsyncio(b *testing.B) {
	benchLoop(b, func(ctx context.Context, loop *asyncio.Loop) {
		noop := func(context.Context) (int, error) { return 1, nil }
		sum := 0
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			v, err := asyncio.RunAsyncio(ctx, noop)
			if err != nil {
				b.Error(err)
				break
			}
			sum += v
		}
		b.StopTimer()
		if sum != b.N {
			b.Errorf("sum: got %d, want %d", sum, b.N)
		}
	})
}

// W6, asyncio→trio: sequential Await(RunTrio(ctx, noop)) from one
// coroutine. A call is a goroutine of the loop's nursery started and
// ended, and its result posted back to the loop.
func BenchmarkW6RunTrio(b *testing.B) {
	benchLoop(b, func(ctx context.Context, loop *asyncio.Loop) {
		noop := func(context.Context) (int, error) { return 1, nil }
		n := b.N
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			sum := 0
			b.ResetTimer()
			for i := 0; i < n; i++ {
				v, err := asyncio.Await(ctx, asyncio.RunTrio(ctx, noop))
				if err != nil {
					return 0, err
				}
				sum += v
			}
			b.StopTimer()
			if sum != n {
				b.Errorf("sum: got %d, want %d", sum, n)
			}
			return sum, nil
		})
		if err != nil {
			b.Errorf("asyncio.RunAsyncio: got %v, want nil", err)
		}
	})
}

// The Go floor of W6's trio→asyncio call: a round trip between two
// goroutines over unbuffered channels (a request and its answer).
func BenchmarkW6Floor_ChanRoundTrip(b *testing.B) {
	b.ReportAllocs()
	req, resp := make(chan int), make(chan int)
	var wg sync.WaitGroup
	wg.Go(func() {
		for v := range req {
			resp <- v + 1
		}
	})
	b.ResetTimer()
	sum := 0
	for i := 0; i < b.N; i++ {
		req <- 0
		sum += <-resp
	}
	b.StopTimer()
	close(req)
	wg.Wait()
	if sum != b.N {
		b.Errorf("sum: got %d, want %d", sum, b.N)
	}
}

// The Go floor of W6's asyncio→trio call: a goroutine started per call,
// whose result comes back over a channel.
func BenchmarkW6Floor_GoroutinePerCall(b *testing.B) {
	b.ReportAllocs()
	resp := make(chan int)
	sum := 0
	for i := 0; i < b.N; i++ {
		go func() { resp <- 1 }()
		sum += <-resp
	}
	if sum != b.N {
		b.Errorf("sum: got %d, want %d", sum, b.N)
	}
}

// Opening and closing a loop with an empty body: the loop goroutine, its
// nursery and its teardown.
func BenchmarkOpenLoopEmpty(b *testing.B) {
	b.ReportAllocs()
	ctx := context.Background()
	empty := func(context.Context, *asyncio.Loop) error { return nil }
	for i := 0; i < b.N; i++ {
		if err := asyncio.OpenLoop(ctx, empty); err != nil {
			b.Fatalf("asyncio.OpenLoop: got %v, want nil", err)
		}
	}
}
