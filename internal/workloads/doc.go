// Package workloads holds the project's benchmark workloads, W1–W7, and
// their Go floors: the same work done with plain Go, the bound each figure
// is measured against. Each workload lives here once; the package's
// benchmarks (go test -bench in asyncio and gojaloop) and the bench
// command (go run ./cmd/trioasyncio bench) both call it.
//
// A workload runs n operations and marks its timed region on a [Timer]
// (a *testing.B is one): the region excludes loop start-up and the
// computation of its inputs. One op is one callback (W1), one timer (W2),
// one one-way switch (W3), one task (W4), one TCP round trip (W5), one
// call across the boundary (W6), one JavaScript callback, timer, round
// trip or promise (W7).
package workloads

// Timer marks a workload's timed region and takes its extra figures.
// *testing.B implements it; so does the bench command's recorder.
type Timer interface {
	// ResetTimer starts the timed region (it may be called on any
	// goroutine, once the inputs are ready).
	ResetTimer()
	// StopTimer ends it.
	StopTimer()
	// ReportMetric records a figure beside ns/op, such as cpu-ns/op.
	ReportMetric(n float64, unit string)
}
