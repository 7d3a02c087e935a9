package asyncio_test

import (
	"context"
	"testing"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/internal/workloads"
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
func BenchmarkW6RunAsyncio(b *testing.B) { bench(b, workloads.W6RunAsyncio) }

// W6, asyncio→trio: sequential Await(RunTrio(ctx, noop)) from one
// coroutine. A call is a goroutine of the loop's nursery started and
// ended, and its result posted back to the loop.
func BenchmarkW6RunTrio(b *testing.B) { bench(b, workloads.W6RunTrio) }

// The Go floor of W6's trio→asyncio call: a round trip between two
// goroutines over unbuffered channels (a request and its answer).
func BenchmarkW6Floor_ChanRoundTrip(b *testing.B) { bench(b, workloads.W6FloorChanRoundTrip) }

// The Go floor of W6's asyncio→trio call: a goroutine started per call,
// whose result comes back over a channel.
func BenchmarkW6Floor_GoroutinePerCall(b *testing.B) { bench(b, workloads.W6FloorGoroutinePerCall) }

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
