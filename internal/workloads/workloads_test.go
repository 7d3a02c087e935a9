package workloads_test

import (
	"runtime"
	"testing"

	"github.com/trioasyncio/trioasyncio/gojaloop"
	"github.com/trioasyncio/trioasyncio/internal/workloads"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// nopTimer is a Timer that records nothing.
type nopTimer struct{ metrics map[string]float64 }

func (nopTimer) ResetTimer() {}
func (nopTimer) StopTimer()  {}
func (t nopTimer) ReportMetric(n float64, unit string) {
	t.metrics[unit] = n
}

// Every workload and floor runs at a small n, and at n = 1, without error.
func TestWorkloads_small(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(workloads.Timer, int) error
	}{
		{"W1CallbackChain", workloads.W1CallbackChain},
		{"W1FloorSliceQueue", workloads.W1FloorSliceQueue},
		{"W2Timers", workloads.W2Timers},
		{"W2FloorTimerHeap", workloads.W2FloorTimerHeap},
		{"W3PingPong", workloads.W3PingPong},
		{"W3FloorIterPull", workloads.W3FloorIterPull},
		{"W3FloorChan", workloads.W3FloorChan},
		{"W4Spawn", workloads.W4Spawn},
		{"W4SpawnEager", workloads.W4SpawnEager},
		{"W4SpawnNoSleep", workloads.W4SpawnNoSleep},
		{"W4SpawnNoSleepEager", workloads.W4SpawnNoSleepEager},
		{"W4FloorGoroutines", workloads.W4FloorGoroutines},
		{"W4FloorGoroutines1P", workloads.W4FloorGoroutines1P},
		{"W6RunAsyncio", workloads.W6RunAsyncio},
		{"W6RunTrio", workloads.W6RunTrio},
		{"W6FloorChanRoundTrip", workloads.W6FloorChanRoundTrip},
		{"W6FloorGoroutinePerCall", workloads.W6FloorGoroutinePerCall},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, n := range []int{1, 1000} {
				if err := tc.run(nopTimer{map[string]float64{}}, n); err != nil {
					t.Errorf("n = %d: got %v, want nil", n, err)
				}
			}
		})
	}
}

// Minstd spreads the timers over 500 ns of window per timer.
func TestMinstd(t *testing.T) {
	ds := workloads.Minstd(200_000)
	for i, d := range ds {
		if d < 0 || d >= 100_000_000 {
			t.Fatalf("delay %d: got %v, want within [0, 100ms)", i, d)
		}
	}
	// The first minstd value from 42 is 48271·42 = 2,027,382.
	window, x, m := 100e6, 2027382.0, float64(1<<31-1)
	if want := int64(window * x / m); int64(ds[0]) != want {
		t.Errorf("first delay: got %d, want %d", ds[0], want)
	}
}

// Every W7 workload runs on gojaloop at a small n without error.
func TestJSWorkloads_small(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(workloads.Timer, workloads.JSLoop, int) error
	}{
		{"W7TimeoutChain", workloads.W7TimeoutChain},
		{"W7PendingTimers", workloads.W7PendingTimers},
		{"W7IntervalGoroutines", workloads.W7IntervalGoroutines},
		{"W7RunOnLoopRoundTrip", workloads.W7RunOnLoopRoundTrip},
		{"W7PromiseChain", workloads.W7PromiseChain},
		{"W7PromiseChainTimeout", workloads.W7PromiseChainTimeout},
		{"W7PromiseChainMicrotasks", workloads.W7PromiseChainMicrotasks},
	} {
		t.Run(tc.name, func(t *testing.T) {
			loop := gojaloop.NewEventLoop(gojaloop.EnableConsole(false))
			if err := tc.run(nopTimer{map[string]float64{}}, loop, 100); err != nil {
				t.Errorf("got %v, want nil", err)
			}
		})
	}
}

// A script that throws is an error, not a hang.
func TestRunJSScript_throws(t *testing.T) {
	loop := gojaloop.NewEventLoop(gojaloop.EnableConsole(false))
	if err := workloads.RunJSScript(nopTimer{map[string]float64{}}, loop, 1, nil, `throw new Error("boom")`); err == nil {
		t.Error("got nil, want the script's error")
	}
}

// Measure times the region the workload marks and counts its allocations.
func TestMeasure(t *testing.T) {
	var sink []*int
	r, err := workloads.Measure(func(tm workloads.Timer, n int) error {
		for range 1000 { // not timed
			sink = append(sink, new(int))
		}
		tm.ResetTimer()
		for range n {
			sink = append(sink, new(int))
		}
		tm.StopTimer()
		tm.ReportMetric(7, "things")
		return nil
	}, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	if r.AllocsPerOp < 1 || r.AllocsPerOp > 1.5 {
		t.Errorf("allocs/op: got %v, want about 1", r.AllocsPerOp)
	}
	if r.NsPerOp <= 0 || r.Metrics["things"] != 7 {
		t.Errorf("got %+v, want ns/op > 0 and things = 7", r)
	}
	_ = sink
}

// Every W5 variant runs at a small n (fewer round trips than clients,
// too) and reports rt/s.
func TestW5_small(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the loop's network I/O needs Unix file descriptors")
	}
	for _, tc := range []struct {
		name string
		run  func(workloads.Timer, int) error
	}{
		{"W5EchoProtocols", workloads.W5EchoProtocols},
		{"W5EchoStreams", workloads.W5EchoStreams},
		{"W5FloorGoroutineNet", workloads.W5FloorGoroutineNet},
		{"W5FloorGoroutineNet1P", workloads.W5FloorGoroutineNet1P},
		{"W5EchoProtocols2Loops", workloads.W5EchoProtocols2Loops},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, n := range []int{7, 500} {
				tm := nopTimer{map[string]float64{}}
				if err := tc.run(tm, n); err != nil {
					t.Errorf("n = %d: got %v, want nil", n, err)
				}
				if tm.metrics["rt/s"] <= 0 {
					t.Errorf("n = %d: rt/s: got %v, want > 0", n, tm.metrics["rt/s"])
				}
			}
		})
	}
}
