package asyncio

// reportAtShutdown notes c, a task the teardown is about to cancel: once
// the teardown is done, reportShutdownErrors looks at how it ended.
func (l *Loop) reportAtShutdown(c *taskCore) {
	l.shutdownTasks = append(l.shutdownTasks, c)
}

// reportShutdownErrors reports to the exception handler the error of each
// task the teardown cancelled that ended failing (not cancelled) with an
// error nobody retrieved (asyncio.run's "unhandled exception during
// asyncio.run() shutdown"). Without this, such an error would be reported
// only when the garbage collector finds the task, typically after
// OpenLoop has returned. Called by close, on the loop goroutine.
func (l *Loop) reportShutdownErrors() {
	ts := l.shutdownTasks
	l.shutdownTasks = nil
	for _, c := range ts {
		fc := c.fut
		if fc.state != stateFinished || fc.err == nil || !fc.logTB {
			continue
		}
		l.CallExceptionHandler(ExceptionContext{
			Message: "unhandled error during loop shutdown",
			Err:     c.owner.Exception(), // now retrieved: reported once
			Task:    c.owner,
		})
	}
}
