package asyncio

import (
	"fmt"
	"runtime"
	"strings"
)

// Debug-mode helpers (CPython's format_helpers.py and the thread checks of
// base_events.py). Nothing here runs outside debug mode, except goid once
// per loop.

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

// frames formats the stack, innermost first, as runtime/debug.Stack does.
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

const pkgPrefix = "github.com/trioasyncio/trioasyncio/asyncio."

// goid returns the current goroutine's id, parsed from runtime.Stack's
// header "goroutine 123 [running]:". It costs about a microsecond: the loop
// calls it once at start, and otherwise only in debug mode.
func goid() int64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	b := buf[:n]
	const prefix = "goroutine "
	if len(b) < len(prefix) {
		return -1
	}
	b = b[len(prefix):]
	var id int64
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + int64(c-'0')
	}
	return id
}

// checkGoroutine panics unless called from the loop's goroutine or from the
// coroutine of the task the loop is running (a coroutine runs on a
// goroutine of its own, in lockstep with the loop). Debug mode only.
//
// A task's coroutine goroutine is recorded when the task starts or resumes
// in debug mode; a task that was running when debug mode was turned on is
// not known yet, so until the loop starts its next batch a call from a
// coroutine goroutine is let through.
func (l *Loop) checkGoroutine(method string) {
	g := goid()
	if g == l.loopGid.Load() || g == l.curGid.Load() {
		return
	}
	if gate := l.gate; gate != nil && gate.Held.Load() {
		return // asynciotest: the loop holds and its caller has the turn
	}
	if l.debugFresh.Load() && l.curGid.Load() == 0 && onCoroutine() {
		return
	}
	panic(fmt.Sprintf("asyncio: %s called from a goroutine other than the loop's: "+
		"asyncio objects are loop-confined; from other goroutines use Loop.CallSoonThreadsafe "+
		"(debug-mode check)", method))
}

// onCoroutine reports whether the current goroutine runs a task's
// coroutine.
func onCoroutine() bool {
	buf := make([]byte, 16<<10)
	n := runtime.Stack(buf, false)
	return strings.Contains(string(buf[:n]), pkgPrefix+"(*Task[")
}
