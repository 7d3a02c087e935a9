package asyncio

import (
	"reflect"
	"runtime"
	"time"
)

// Goroutine identity. Go gives goroutines no identity on purpose; the
// loop needs one in two places only, and pays for it only there:
//
//   - Debug mode checks that loop-confined methods run on the loop
//     goroutine or on the coroutine of the task it is running. It compares
//     goroutine ids (goid), which costs a couple of microseconds a call:
//     debug mode's price.
//   - The blocking boundary functions (RunAsyncio, RunSync…) must not
//     block the loop's own code, which would hang the loop for good. A
//     caller that finds the loop waiting for work cannot be its code, and
//     pays nothing; one that finds the loop busy waits as usual, and only
//     if the loop stays busy for flavorGrace does it look at its own stack
//     for a loop goroutine's or a task coroutine's frame (onLoopCode).

// goid returns the current goroutine's id, which runtime.Stack prints in
// the header of every trace ("goroutine 123 [running]:"), the one place
// the runtime shows it. It costs about two microseconds.
func goid() int64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	b := buf[:n]
	const prefix = "goroutine "
	if len(b) < len(prefix) || string(b[:len(prefix)]) != prefix {
		return -1
	}
	var id int64
	for _, c := range b[len(prefix):] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + int64(c-'0')
	}
	return id
}

// The entry points of the functions at the bottom of every loop
// goroutine (Loop.run) and every task coroutine (taskCore.body). Neither
// is ever inlined, so each is a real frame of its goroutine's stack.
var (
	loopRunEntry  = funcEntry((*Loop).run)
	coroBodyEntry = funcEntry((*coroutine).body)
)

func funcEntry(fn any) uintptr {
	return runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Entry()
}

// onLoopCode reports whether the calling goroutine runs code of a loop:
// it is a loop goroutine or a task's coroutine. It walks the caller's
// stack, comparing the functions' entry points (not their names) with
// Loop.run's and taskCore.body's.
func onLoopCode() bool {
	var pcs [64]uintptr
	for skip := 1; ; skip += len(pcs) {
		n := runtime.Callers(skip, pcs[:])
		frames := runtime.CallersFrames(pcs[:n])
		for {
			f, more := frames.Next()
			if f.Entry == loopRunEntry || f.Entry == coroBodyEntry {
				return true
			}
			if !more {
				break
			}
		}
		if n < len(pcs) {
			return false
		}
	}
}

// flavorGrace is how long a blocking boundary call waits on a busy loop
// before it checks that it is not the loop's own code blocking it.
const flavorGrace = 20 * time.Millisecond

// A flavorGuard catches a blocking boundary call made by the loop's own
// code (a callback or task that captured a trio ctx), which would wait
// for the loop while the loop waits for it. Arm it before blocking: if
// the loop is waiting for work, the caller cannot be its code and the
// guard stays disarmed (C is nil). Otherwise C fires after flavorGrace,
// and the waiter calls blocked.
type flavorGuard struct {
	wakes uint64
	t     *time.Timer
}

func (l *Loop) armFlavorGuard() flavorGuard {
	w := l.wakes.Load()
	if w&1 == 0 || l.blk.held.Load() {
		return flavorGuard{}
	}
	return flavorGuard{wakes: w, t: time.NewTimer(flavorGrace)}
}

// C is the channel to add to the waiter's select.
func (g *flavorGuard) C() <-chan time.Time {
	if g.t == nil {
		return nil
	}
	return g.t.C
}

// stop releases the guard's timer.
func (g *flavorGuard) stop() {
	if g.t != nil {
		g.t.Stop()
	}
}

// blocked is called when C fired. It reports whether the caller is the
// loop's own code: the loop has been busy ever since the guard was armed
// and the caller's stack is a loop goroutine's or a coroutine's. If not,
// it disarms the guard: the caller may wait as long as it likes.
func (l *Loop) blocked(g *flavorGuard) bool {
	g.t = nil
	return l.wakes.Load() == g.wakes && onLoopCode()
}

// confined panics when a loop-confined method is called from outside the
// loop: from any goroutine but the loop's in debug mode (checkGoroutine),
// or, always, while the loop waits for work (checkIdle, an atomic load).
func (l *Loop) confined(method string) {
	if l.debug.Load() {
		l.checkGoroutine(method)
	} else {
		l.checkIdle(method)
	}
}

// checkIdle panics when a loop-confined method is called while the loop
// waits for work: the caller cannot be one of its callbacks or tasks, and
// what it schedules would wait, unseen, until something else wakes the
// loop. It costs an atomic load; debug mode checks more (checkGoroutine).
func (l *Loop) checkIdle(method string) {
	if l.wakes.Load()&1 == 0 && !l.blk.held.Load() && !l.closed.Load() {
		panic("asyncio: " + method + " called from outside its loop (the loop is waiting for work, " +
			"so the caller is not one of its callbacks or tasks): loop-confined objects are used " +
			"from the loop; from trio code, call them inside asyncio.RunSync(ctx, fn); " +
			"from other goroutines, inside Loop.CallSoonThreadsafe")
	}
}
