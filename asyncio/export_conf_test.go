package asyncio

// LoopWaits returns how many times the loop goroutine has waited for work
// (a timer or a post): the number of iterations that slept, for
// test_timeout_rounding's count of _run_once calls.
func LoopWaits(l *Loop) uint64 { return l.wakes.Load() / 2 }
