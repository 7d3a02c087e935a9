package asyncio

import "context"

// postFromGoroutine queues fn on the loop from any goroutine (the child
// watcher, the signal relay). It returns ErrLoopClosed once the loop has
// stopped accepting work: fn then never runs. Goroutine-safe.
//
// This is the only place where subprocesses and signals reach the loop
// from other goroutines.
func (l *Loop) postFromGoroutine(fn func(ctx context.Context)) error {
	_, err := l.CallSoonThreadsafe(fn)
	return err
}
