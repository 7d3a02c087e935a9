package workloads

import (
	"runtime"

	"github.com/dop251/goja"
)

// JSLoop is the API that gojaloop's EventLoop and goja_nodejs's eventloop
// share: W7 runs on either, so the two can be set side by side.
type JSLoop interface {
	Start()
	Stop() int
	Terminate()
	RunOnLoop(func(*goja.Runtime)) bool
}

// W7's scripts. Each sees n (the number of ops) and calls done() when
// the last op has run; the pending-timers script also reads delays (ms)
// and may call sample(). They are plain JavaScript, so Node can run the
// same text.
const (
	// JSTimeoutChain is a setTimeout(f, 0) chain: each callback
	// schedules the next.
	JSTimeoutChain = `
let i = 0;
function f() {
	if (++i < n) setTimeout(f, 0); else done();
}
setTimeout(f, 0);
`
	// JSPendingTimers schedules n setTimeouts with the delays given and
	// waits until all have fired.
	JSPendingTimers = `
let fired = 0;
function f() {
	if (fired % 1000 == 0) sample();
	if (++fired == n) done();
}
for (let i = 0; i < n; i++) setTimeout(f, delays[i]);
sample();
`
	// JSPromiseChain is a chain of promises, each resolved by a callback
	// of the loop (setImmediate): one loop turn and one promise
	// resolution per step.
	JSPromiseChain = `
(async () => {
	for (let i = 0; i < n; i++) {
		await new Promise(resolve => setImmediate(resolve));
	}
	done();
})();
`
	// JSPromiseChainTimeout is the chain with setTimeout(resolve, 0).
	JSPromiseChainTimeout = `
(async () => {
	for (let i = 0; i < n; i++) {
		await new Promise(resolve => setTimeout(resolve, 0));
	}
	done();
})();
`
	// JSPromiseChainMicrotasks is the chain with promise jobs only (await
	// of a settled value): no loop turn at all.
	JSPromiseChainMicrotasks = `
(async () => {
	for (let i = 0; i < n; i++) await i;
	done();
})();
`
	// jsIntervals leaves 1,000 setIntervals pending.
	jsIntervals = `
for (let i = 0; i < 1000; i++) setInterval(() => {}, 60000);
count();
done();
`
)

// JSDelays returns n pseudo-random delays in ms up to 100 (minstd,
// x0 = 42), the delays of JSPendingTimers.
func JSDelays(n int) []float64 {
	delays := make([]float64, n)
	x := uint64(42)
	for i := range delays {
		x = x * 48271 % (1<<31 - 1)
		delays[i] = 100 * float64(x) / (1<<31 - 1)
	}
	return delays
}

// RunJSScript starts loop, defines n and done() in its runtime (and what
// setup adds), and times the script from its start until it calls done();
// it reports cpu-ns/op. It terminates the loop before returning.
func RunJSScript(t Timer, loop JSLoop, n int, setup func(vm *goja.Runtime), script string) error {
	prg, err := goja.Compile("bench.js", script, false)
	if err != nil {
		return err
	}
	loop.Start()
	defer loop.Terminate()
	done := make(chan struct{})
	ready := make(chan struct{})
	loop.RunOnLoop(func(vm *goja.Runtime) {
		vm.Set("n", n)
		vm.Set("done", func() { close(done) })
		if setup != nil {
			setup(vm)
		}
		close(ready)
	})
	<-ready
	runtime.GC()
	cpu0 := CPUTime()
	failed := make(chan error, 1)
	t.ResetTimer()
	loop.RunOnLoop(func(vm *goja.Runtime) {
		if _, err := vm.RunProgram(prg); err != nil {
			failed <- err
		}
	})
	select {
	case <-done:
	case err := <-failed:
		t.StopTimer()
		return err
	}
	t.StopTimer()
	t.ReportMetric(float64(CPUTime()-cpu0)/float64(n), "cpu-ns/op")
	return nil
}

// W7TimeoutChain runs JSTimeoutChain on loop. One op = one callback.
func W7TimeoutChain(t Timer, loop JSLoop, n int) error {
	return RunJSScript(t, loop, n, nil, JSTimeoutChain)
}

// W7PendingTimers runs JSPendingTimers on loop with JSDelays (computed
// before timing). One op = one timer. It reports the goroutines alive
// once all are scheduled, beyond those before.
func W7PendingTimers(t Timer, loop JSLoop, n int) error {
	delays := JSDelays(n)
	base := runtime.NumGoroutine()
	var peak int
	err := RunJSScript(t, loop, n, func(vm *goja.Runtime) {
		vm.Set("delays", delays)
		vm.Set("sample", func() {
			peak = max(peak, runtime.NumGoroutine()-base)
		})
	}, JSPendingTimers)
	t.ReportMetric(float64(peak), "goroutines")
	return err
}

// W7IntervalGoroutines leaves 1,000 setIntervals pending on loop and
// reports the goroutines each costs (goroutines/interval); n is unused.
func W7IntervalGoroutines(t Timer, loop JSLoop, n int) error {
	base := runtime.NumGoroutine()
	var extra int
	err := RunJSScript(t, loop, n, func(vm *goja.Runtime) {
		vm.Set("count", func() { extra = runtime.NumGoroutine() - base })
	}, jsIntervals)
	t.ReportMetric(float64(extra)/1000, "goroutines/interval")
	return err
}

// W7RunOnLoopRoundTrip makes n RunOnLoop round trips from another
// goroutine: queue a job, wait for it. One op = one round trip.
func W7RunOnLoopRoundTrip(t Timer, loop JSLoop, n int) error {
	loop.Start()
	defer loop.Terminate()
	ch := make(chan struct{})
	job := func(*goja.Runtime) { ch <- struct{}{} }
	loop.RunOnLoop(job)
	<-ch
	t.ResetTimer()
	for range n {
		loop.RunOnLoop(job)
		<-ch
	}
	t.StopTimer()
	return nil
}

// W7PromiseChain runs JSPromiseChain on loop. One op = one promise.
func W7PromiseChain(t Timer, loop JSLoop, n int) error {
	return RunJSScript(t, loop, n, nil, JSPromiseChain)
}

// W7PromiseChainTimeout runs JSPromiseChainTimeout on loop.
func W7PromiseChainTimeout(t Timer, loop JSLoop, n int) error {
	return RunJSScript(t, loop, n, nil, JSPromiseChainTimeout)
}

// W7PromiseChainMicrotasks runs JSPromiseChainMicrotasks on loop.
func W7PromiseChainMicrotasks(t Timer, loop JSLoop, n int) error {
	return RunJSScript(t, loop, n, nil, JSPromiseChainMicrotasks)
}

// A JSCase is one of W7's workloads, by the name the bench command and
// its peers use.
type JSCase struct {
	ID     string // e.g. "W7-timeout-chain"
	Title  string
	Op     string // what one op is
	Run    func(Timer, JSLoop, int) error
	Script string // the JavaScript it runs, if it is a script
}

// W7 lists the workloads of W7 the project's figures show.
var W7 = []JSCase{
	{"W7-timeout-chain", "W7 JS setTimeout chain", "callback", W7TimeoutChain, JSTimeoutChain},
	{"W7-pending-timers", "W7 JS pending timers", "timer", W7PendingTimers, JSPendingTimers},
	{"W7-runonloop", "W7 JS RunOnLoop round trip", "round trip", W7RunOnLoopRoundTrip, ""},
	{"W7-promise-chain", "W7 JS promise chain", "promise", W7PromiseChain, JSPromiseChain},
}
