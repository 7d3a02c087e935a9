package gojaloop

// Side-by-side benchmarks: this package and goja_nodejs's own eventloop, in
// the same run, on the same scripts. Each benchmark's op is one callback,
// timer, round trip or promise, so -benchtime=100000x gives the workloads
// of 100,000 that the project's figures use:
//
//	go test -run '^$' -bench . -benchtime=100000x ./gojaloop/
//
// The timed region excludes creating and starting the loops.

import (
	"runtime"
	"testing"

	"github.com/dop251/goja"
	nodeloop "github.com/dop251/goja_nodejs/eventloop"
)

// jsLoop is the API the two packages share.
type jsLoop interface {
	Start()
	Stop() int
	Terminate()
	RunOnLoop(func(*goja.Runtime)) bool
}

var impls = []struct {
	name string
	new  func() jsLoop
}{
	{"gojaloop", func() jsLoop { return NewEventLoop(EnableConsole(false)) }},
	{"goja_nodejs", func() jsLoop { return nodeloop.NewEventLoop(nodeloop.EnableConsole(false)) }},
}

// runScript starts loop, defines n and done() in its runtime, and times
// the script from its start until it calls done().
func runScript(b *testing.B, loop jsLoop, setup func(vm *goja.Runtime), script string) {
	b.Helper()
	prg := goja.MustCompile("bench.js", script, false)
	loop.Start()
	defer loop.Terminate()
	done := make(chan struct{})
	ready := make(chan struct{})
	loop.RunOnLoop(func(vm *goja.Runtime) {
		vm.Set("n", b.N)
		vm.Set("done", func() { close(done) })
		if setup != nil {
			setup(vm)
		}
		close(ready)
	})
	<-ready
	runtime.GC()
	cpu0 := cpuTime()
	b.ResetTimer()
	loop.RunOnLoop(func(vm *goja.Runtime) {
		if _, err := vm.RunProgram(prg); err != nil {
			panic(err)
		}
	})
	<-done
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// A setTimeout(f, 0) chain: each callback schedules the next.
func BenchmarkTimeoutChain(b *testing.B) {
	for _, impl := range impls {
		b.Run(impl.name, func(b *testing.B) {
			runScript(b, impl.new(), nil, `
				let i = 0;
				function f() {
					if (++i < n) setTimeout(f, 0); else done();
				}
				setTimeout(f, 0);
			`)
		})
	}
}

// n pending setTimeouts with pseudo-random delays up to 100 ms (minstd,
// x0 = 42, computed before timing), scheduled and fired. Reports the
// goroutines alive once all are scheduled, beyond those before.
func BenchmarkPendingTimers(b *testing.B) {
	for _, impl := range impls {
		b.Run(impl.name, func(b *testing.B) {
			delays := make([]float64, b.N)
			x := uint64(42)
			for i := range delays {
				x = x * 48271 % (1<<31 - 1)
				delays[i] = 100 * float64(x) / (1<<31 - 1)
			}
			base := runtime.NumGoroutine()
			var peak int
			runScript(b, impl.new(), func(vm *goja.Runtime) {
				vm.Set("delays", delays)
				vm.Set("sample", func() {
					peak = max(peak, runtime.NumGoroutine()-base)
				})
			}, `
				let fired = 0;
				function f() {
					if (fired % 1000 == 0) sample();
					if (++fired == n) done();
				}
				for (let i = 0; i < n; i++) setTimeout(f, delays[i]);
				sample();
			`)
			b.ReportMetric(float64(peak), "goroutines")
		})
	}
}

// Goroutines per interval: 1,000 setIntervals pending.
func BenchmarkIntervalGoroutines(b *testing.B) {
	for _, impl := range impls {
		b.Run(impl.name, func(b *testing.B) {
			base := runtime.NumGoroutine()
			var extra int
			runScript(b, impl.new(), func(vm *goja.Runtime) {
				vm.Set("count", func() { extra = runtime.NumGoroutine() - base })
			}, `
				for (let i = 0; i < 1000; i++) setInterval(() => {}, 60000);
				count();
				done();
			`)
			b.ReportMetric(float64(extra)/1000, "goroutines/interval")
		})
	}
}

// RunOnLoop round trips from another goroutine: queue a job, wait for it.
func BenchmarkRunOnLoopRoundTrip(b *testing.B) {
	for _, impl := range impls {
		b.Run(impl.name, func(b *testing.B) {
			loop := impl.new()
			loop.Start()
			defer loop.Terminate()
			ch := make(chan struct{})
			job := func(*goja.Runtime) { ch <- struct{}{} }
			loop.RunOnLoop(job)
			<-ch
			b.ResetTimer()
			for range b.N {
				loop.RunOnLoop(job)
				<-ch
			}
		})
	}
}

// A chain of promises, each resolved by a callback of the loop
// (setImmediate): one loop turn and one promise resolution per step.
func BenchmarkPromiseChain(b *testing.B) {
	for _, impl := range impls {
		b.Run(impl.name, func(b *testing.B) {
			runScript(b, impl.new(), nil, `
				(async () => {
					for (let i = 0; i < n; i++) {
						await new Promise(resolve => setImmediate(resolve));
					}
					done();
				})();
			`)
		})
	}
}

// A chain of promises, each resolved by a setTimeout(resolve, 0).
func BenchmarkPromiseChainTimeout(b *testing.B) {
	for _, impl := range impls {
		b.Run(impl.name, func(b *testing.B) {
			runScript(b, impl.new(), nil, `
				(async () => {
					for (let i = 0; i < n; i++) {
						await new Promise(resolve => setTimeout(resolve, 0));
					}
					done();
				})();
			`)
		})
	}
}

// The same chain with promise jobs only (await of a settled value): no
// loop turn at all, goja's own job queue; the two packages should tie.
func BenchmarkPromiseChainMicrotasks(b *testing.B) {
	for _, impl := range impls {
		b.Run(impl.name, func(b *testing.B) {
			runScript(b, impl.new(), nil, `
				(async () => {
					for (let i = 0; i < n; i++) await i;
					done();
				})();
			`)
		})
	}
}
