package asyncio

import (
	"fmt"
	"runtime"
	"strings"
)

// Debug-mode helpers (CPython's format_helpers.py and the thread checks of
// base_events.py). Nothing here runs outside debug mode.

// source is where a handle, future or task was created: the call stack of
// its creator, recorded in debug mode (CPython's _source_traceback).
type source struct {
	pcs []uintptr
}

// captureSource records the stack of the caller's caller, skip frames up.
func captureSource(skip int) *source {
	pcs := make([]uintptr, 32)
	n := runtime.Callers(skip+2, pcs)
	return &source{pcs: pcs[:n]}
}

// String formats the stack, innermost first, as runtime/debug.Stack does.
func (s *source) String() string {
	if s == nil {
		return ""
	}
	var b strings.Builder
	fr := runtime.CallersFrames(s.pcs)
	for {
		f, more := fr.Next()
		fmt.Fprintf(&b, "%s()\n\t%s:%d\n", f.Function, f.File, f.Line)
		if !more {
			break
		}
	}
	return b.String()
}

// top is the innermost frame outside this package, "file:line".
func (s *source) top() string {
	fr := runtime.CallersFrames(s.pcs)
	for {
		f, more := fr.Next()
		if !strings.HasPrefix(f.Function, pkgPrefix) || strings.HasSuffix(f.File, "_test.go") {
			return fmt.Sprintf("%s:%d", f.File, f.Line)
		}
		if !more {
			return "?"
		}
	}
}

// unknownGid is curGid while a task whose coroutine is not known yet runs.
const unknownGid = -1

const pkgPrefix = "github.com/trioasyncio/trioasyncio/asyncio."

// checkGoroutine panics unless called from the loop's goroutine or from
// the coroutine of the task the loop is running (a coroutine runs on a
// goroutine of its own, in lockstep with the loop), or by asynciotest's
// caller while the loop is lent to it. Debug mode only.
//
// A task's coroutine is known from its first step in debug mode on; a
// task that was already running when debug mode was turned on is not, so
// while it runs a call from any task coroutine is let through.
func (l *Loop) checkGoroutine(method string) {
	g := goid()
	if g == l.loopGid.Load() || l.blk.held.Load() {
		return
	}
	if cg := l.curGid.Load(); g == cg || (cg <= 0 && onLoopCode()) {
		return
	}
	panic(fmt.Sprintf("asyncio: %s called from a goroutine other than the loop's: "+
		"asyncio objects are loop-confined; from other goroutines use Loop.CallSoonThreadsafe, "+
		"from trio code RunSync (debug-mode check)", method))
}
