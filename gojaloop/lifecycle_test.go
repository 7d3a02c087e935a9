package gojaloop

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dop251/goja"
)

// Stop and Terminate from a Go call of Async (a goroutine of the loop's
// block, which the loop's end waits for) do not wait, so do not hang.
func TestStopFromAsyncCall(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		for _, terminate := range []bool{false, true} {
			loop := NewEventLoop()
			loop.Start()
			returned := make(chan struct{})
			loop.RunOnLoop(func(vm *goja.Runtime) {
				vm.Set("stop", loop.Async(func(context.Context, []any) (any, error) {
					if terminate {
						loop.Terminate()
					} else {
						loop.Stop()
					}
					close(returned)
					return nil, nil
				}))
				_, _ = vm.RunString(`stop()`)
			})
			<-returned
			loop.Stop()
			loop.Terminate()
		}
	})
}

// Start after StopNoWait waits for the stop to finish instead of
// panicking; starting a running loop panics, as goja_nodejs's does.
func TestStartAfterStopNoWait(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		loop := NewEventLoop()
		loop.Start()
		func() {
			defer func() {
				if r := recover(); r != "Loop is already started" {
					t.Errorf("Start on a running loop: recovered %v", r)
				}
			}()
			loop.Start()
		}()
		for range 10 {
			loop.StopNoWait()
			loop.Start()
		}
		ran := make(chan struct{})
		loop.RunOnLoop(func(*goja.Runtime) { close(ran) })
		<-ran
		loop.Terminate()
	})
}

// A panic in Run's fn, or in a callback under Run or StartInForeground,
// reaches the caller, and the loop can run again.
func TestPanicsReachTheCaller(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		loop := NewEventLoop()
		recovered := func(f func()) (r any) {
			defer func() { r = recover() }()
			f()
			return nil
		}
		if r := recovered(func() { loop.Run(func(*goja.Runtime) { panic("in fn") }) }); r != "in fn" {
			t.Fatalf("recovered %v", r)
		}
		if r := recovered(func() {
			loop.Run(func(*goja.Runtime) {
				loop.SetTimeout(func(*goja.Runtime) { panic("in a timer") }, time.Second)
			})
		}); r != "in a timer" {
			t.Fatalf("recovered %v", r)
		}
		loop.RunOnLoop(func(*goja.Runtime) { panic("in a job") })
		if r := recovered(loop.StartInForeground); r != "in a job" {
			t.Fatalf("recovered %v", r)
		}
		var v int64
		loop.Run(func(vm *goja.Runtime) {
			val, _ := vm.RunString(`6 * 7`)
			v = val.ToInteger()
		})
		if v != 42 {
			t.Fatal(v)
		}
	})
}

// Pending timers survive a Stop and fire at their original deadlines after
// a restart; immediates keep their order.
func TestStopKeepsTimers(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		loop := NewEventLoop()
		start := time.Now()
		var firedAt time.Duration
		var log []string
		loop.Start()
		loop.RunOnLoop(func(vm *goja.Runtime) {
			vm.Set("fired", func() { firedAt = time.Since(start) })
			vm.Set("record", func(s string) { log = append(log, s) })
			vm.Set("loopStop", loop.StopNoWait)
			_, _ = vm.RunString(`
				setTimeout(fired, 3000);
				loopStop();
				setImmediate(record, "a"); setImmediate(record, "b"); setImmediate(record, "c");
			`)
		})
		time.Sleep(time.Second)
		loop.Stop()
		time.Sleep(time.Second)
		loop.Run(func(*goja.Runtime) {})
		if firedAt != 3*time.Second {
			t.Fatalf("fired at %v, want 3s", firedAt)
		}
		if len(log) != 3 || log[0] != "a" || log[1] != "b" || log[2] != "c" {
			t.Fatalf("immediates ran as %q", log)
		}
	})
}

// The handles scripts get are objects that export to *Timer, *Interval and
// *Immediate; clearing undefined is a no-op, as in goja_nodejs.
func TestHandles(t *testing.T) {
	t.Parallel()
	loop := NewEventLoop()
	loop.Run(func(vm *goja.Runtime) {
		v, err := vm.RunString(`
			const t = setTimeout(() => {}, 0), i = setInterval(() => {}, 1), m = setImmediate(() => {});
			clearTimeout(t); clearInterval(i); clearImmediate(m);
			clearTimeout(undefined); clearInterval(); clearImmediate(null);
			t.x = 1;
			[typeof t, typeof i, typeof m, Object.keys(t).length, t.x].join(",")
		`)
		if err != nil {
			t.Fatal(err)
		}
		if v.String() != "object,object,object,0," {
			t.Errorf("handles: %s", v)
		}
		if _, ok := vm.Get("t").Export().(*Timer); !ok {
			t.Errorf("setTimeout's handle exports to %T", vm.Get("t").Export())
		}
		if _, ok := vm.Get("i").Export().(*Interval); !ok {
			t.Errorf("setInterval's handle exports to %T", vm.Get("i").Export())
		}
		if _, ok := vm.Get("m").Export().(*Immediate); !ok {
			t.Errorf("setImmediate's handle exports to %T", vm.Get("m").Export())
		}
	})
}

// Jobs queued behind one that panics are not lost: they run at the next
// start. An Async call made before the loop starts (in Run's fn) starts
// with it.
func TestNothingLost(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		loop := NewEventLoop()
		var ran []string
		loop.RunOnLoop(func(*goja.Runtime) { ran = append(ran, "a"); panic("a") })
		loop.RunOnLoop(func(*goja.Runtime) { ran = append(ran, "b") })
		loop.RunOnLoop(func(*goja.Runtime) { ran = append(ran, "c") })
		func() {
			defer func() { _ = recover() }()
			loop.StartInForeground()
		}()
		var result string
		loop.Run(func(vm *goja.Runtime) {
			vm.Set("later", loop.Async(func(ctx context.Context, args []any) (any, error) {
				return "started with the loop", nil
			}))
			vm.Set("record", func(s string) { result = s })
			_, _ = vm.RunString(`later().then(record)`)
		})
		if len(ran) != 3 || ran[1] != "b" || ran[2] != "c" {
			t.Fatalf("ran %q", ran)
		}
		if result != "started with the loop" {
			t.Fatalf("result = %q", result)
		}
	})
}

// A job that Terminate runs (it runs those still queued) and that starts
// the loop panics instead of hanging.
func TestStartFromTerminatingJob(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		for _, running := range []bool{false, true} {
			loop := NewEventLoop()
			recovered := make(chan any, 1)
			if running {
				loop.Start()
				loop.StopNoWait() // the job below stays queued
			}
			loop.RunOnLoop(func(*goja.Runtime) {
				defer func() { recovered <- recover() }()
				loop.Start()
			})
			loop.Terminate()
			if r := <-recovered; r == nil {
				t.Fatal("Start from a terminating job did not panic")
			}
		}
	})
}

// A Timer from SetTimeout cleared by a script before the loop took it does
// not fire and is not counted.
func TestClearBeforeTheLoopTookIt(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		loop := NewEventLoop()
		fired := false
		var timer *Timer
		loop.Run(func(vm *goja.Runtime) {
			timer = loop.SetTimeout(func(*goja.Runtime) { fired = true }, time.Second)
			vm.Set("timer", timer)
			_, _ = vm.RunString(`clearTimeout(timer)`)
		})
		if fired {
			t.Fatal("a cleared timer fired")
		}
		if n := loop.Stop(); n != 0 {
			t.Fatalf("%d jobs pending", n)
		}
	})
}
