package gojaloop

// Side-by-side benchmarks: this package and goja_nodejs's own eventloop, in
// the same run, on the same scripts (W7 of the project's figures). Each
// benchmark's op is one callback, timer, round trip or promise, so
// -benchtime=100000x gives the workloads of 100,000 that the project's
// figures use:
//
//	go test -run '^$' -bench . -benchtime=100000x ./gojaloop/
//
// The timed region excludes creating and starting the loops. The bodies
// live in internal/workloads, which the bench command
// (go run ./cmd/trioasyncio bench) runs too.

import (
	"testing"

	nodeloop "github.com/dop251/goja_nodejs/eventloop"
	"github.com/trioasyncio/trioasyncio/internal/workloads"
)

var impls = []struct {
	name string
	new  func() workloads.JSLoop
}{
	{"gojaloop", func() workloads.JSLoop { return NewEventLoop(EnableConsole(false)) }},
	{"goja_nodejs", func() workloads.JSLoop { return nodeloop.NewEventLoop(nodeloop.EnableConsole(false)) }},
}

// benchJS runs w on each implementation, as a sub-benchmark named after it.
func benchJS(b *testing.B, w func(workloads.Timer, workloads.JSLoop, int) error) {
	for _, impl := range impls {
		b.Run(impl.name, func(b *testing.B) {
			if err := w(b, impl.new(), b.N); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// A setTimeout(f, 0) chain: each callback schedules the next.
func BenchmarkTimeoutChain(b *testing.B) { benchJS(b, workloads.W7TimeoutChain) }

// n pending setTimeouts with pseudo-random delays up to 100 ms (minstd,
// x0 = 42, computed before timing), scheduled and fired. Reports the
// goroutines alive once all are scheduled, beyond those before.
func BenchmarkPendingTimers(b *testing.B) { benchJS(b, workloads.W7PendingTimers) }

// Goroutines per interval: 1,000 setIntervals pending.
func BenchmarkIntervalGoroutines(b *testing.B) { benchJS(b, workloads.W7IntervalGoroutines) }

// RunOnLoop round trips from another goroutine: queue a job, wait for it.
func BenchmarkRunOnLoopRoundTrip(b *testing.B) { benchJS(b, workloads.W7RunOnLoopRoundTrip) }

// A chain of promises, each resolved by a callback of the loop
// (setImmediate): one loop turn and one promise resolution per step.
func BenchmarkPromiseChain(b *testing.B) { benchJS(b, workloads.W7PromiseChain) }

// A chain of promises, each resolved by a setTimeout(resolve, 0).
func BenchmarkPromiseChainTimeout(b *testing.B) { benchJS(b, workloads.W7PromiseChainTimeout) }

// The same chain with promise jobs only (await of a settled value): no
// loop turn at all, goja's own job queue; the two packages should tie.
func BenchmarkPromiseChainMicrotasks(b *testing.B) { benchJS(b, workloads.W7PromiseChainMicrotasks) }
