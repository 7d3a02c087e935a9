//go:build !unix

package workloads

// CPUTime returns the process's user+system CPU time in nanoseconds, or 0
// where it is not measured (here).
func CPUTime() int64 { return 0 }
