package workloads

import (
	"runtime"
	"sync"
	"time"
)

// A Result is one run of a workload, per op.
type Result struct {
	NsPerOp     float64            // wall time of the timed region
	AllocsPerOp float64            // heap allocations in the timed region
	BytesPerOp  float64            // bytes allocated in the timed region
	Metrics     map[string]float64 // what the workload reported (cpu-ns/op, ...)
}

// Measure runs a workload once at size n, after a GC, as a benchmark
// would: it times the region the workload marks (from ResetTimer, or the
// start, to StopTimer, or the end) and counts its allocations.
func Measure(run func(Timer, int) error, n int) (Result, error) {
	runtime.GC()
	r := &recorder{metrics: map[string]float64{}}
	r.ResetTimer()
	err := run(r, n)
	r.StopTimer()
	nf := float64(max(n, 1))
	return Result{
		NsPerOp:     float64(r.elapsed.Nanoseconds()) / nf,
		AllocsPerOp: float64(r.allocs) / nf,
		BytesPerOp:  float64(r.bytes) / nf,
		Metrics:     r.metrics,
	}, err
}

// recorder is the Timer of Measure.
type recorder struct {
	mu      sync.Mutex
	running bool
	start   time.Time
	elapsed time.Duration
	m0, m1  runtime.MemStats
	allocs  uint64
	bytes   uint64
	metrics map[string]float64
}

func (r *recorder) ResetTimer() {
	r.mu.Lock()
	defer r.mu.Unlock()
	runtime.ReadMemStats(&r.m0)
	r.running = true
	r.start = time.Now()
}

func (r *recorder) StopTimer() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.running {
		return
	}
	r.elapsed = time.Since(r.start)
	runtime.ReadMemStats(&r.m1)
	r.running = false
	r.allocs = r.m1.Mallocs - r.m0.Mallocs
	r.bytes = r.m1.TotalAlloc - r.m0.TotalAlloc
}

func (r *recorder) ReportMetric(n float64, unit string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.metrics[unit] = n
}
