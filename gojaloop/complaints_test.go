package gojaloop

// The six open complaints about goja_nodejs's eventloop, each as a test that
// hangs, leaks or loses work with the original design and passes here. The
// synctest bubbles double as leak checks: synctest.Test fails if a goroutine
// started in the bubble is still blocked when the test function returns.

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dop251/goja"
	"github.com/trioasyncio/trioasyncio/trio"
)

// goja_nodejs PR 38: Stop on a stopped loop, or from inside the loop,
// hangs ("all goroutines are asleep - deadlock!").
func TestComplaint38_StopNeverHangs(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		loop := NewEventLoop()
		// Before any start, twice, and every other way.
		if n := loop.Stop(); n != 0 {
			t.Fatalf("Stop on a new loop = %d", n)
		}
		loop.Stop()
		loop.StopNoWait()
		loop.Terminate()
		loop.Terminate()

		loop = NewEventLoop()
		loop.Start()
		loop.Stop()
		loop.Stop() // on a stopped loop: the hang of PR 38
		loop.StopNoWait()

		// From inside the loop: Stop, then Terminate, from a callback.
		loop.Start()
		stopped := make(chan int, 1)
		loop.RunOnLoop(func(*goja.Runtime) {
			stopped <- loop.Stop()
		})
		if n := <-stopped; n != 0 {
			t.Fatalf("Stop from the loop = %d", n)
		}
		loop.Stop()
		loop.Start()
		loop.SetTimeout(func(*goja.Runtime) { loop.Terminate(); loop.Stop(); loop.Terminate() }, time.Second)
		time.Sleep(2 * time.Second)
		loop.Terminate()
		if loop.RunOnLoop(func(*goja.Runtime) {}) {
			t.Fatal("RunOnLoop accepted work after Terminate")
		}

		// Concurrent stops of a starting loop.
		loop = NewEventLoop()
		loop.Start()
		done := make(chan struct{})
		for range 4 {
			go func() {
				loop.Stop()
				loop.StopNoWait()
				loop.Terminate()
				done <- struct{}{}
			}()
		}
		for range 4 {
			<-done
		}

		// In Run, from a timer.
		loop = NewEventLoop()
		var after atomic.Bool
		loop.Run(func(vm *goja.Runtime) {
			loop.SetTimeout(func(*goja.Runtime) { loop.Stop() }, time.Second)
			loop.SetTimeout(func(*goja.Runtime) { after.Store(true) }, 2*time.Second)
		})
		if after.Load() {
			t.Fatal("a job ran after Stop")
		}
		if n := loop.Stop(); n != 1 {
			t.Fatalf("pending jobs after Stop = %d, want 1", n)
		}
		loop.Terminate()
	})
}

// goja_nodejs issue 63: no way to wait for all jobs of a started loop (Run
// panics on a started loop). Open with WaitIdle waits for the timers,
// immediates, promise jobs and Go calls the body started, then ends.
func TestComplaint63_WaitForAllJobs(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var log []string
		err := Open(t.Context(), func(ctx context.Context, loop *EventLoop) error {
			return loop.Do(ctx, func(vm *goja.Runtime) error {
				vm.Set("record", func(s string) { log = append(log, s) })
				vm.Set("work", loop.Async(func(ctx context.Context, args []any) (any, error) {
					if err := trio.Sleep(ctx, 3*time.Second); err != nil {
						return nil, err
					}
					return "go", nil
				}))
				_, err := vm.RunString(`
					setTimeout(() => {
						record("timer");
						setTimeout(() => record("nested timer"), 1000);
					}, 1000);
					setImmediate(() => record("immediate"));
					work().then(v => record(v));
				`)
				return err
			})
		}, WaitIdle())
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"immediate", "timer", "nested timer", "go"}
		if len(log) != len(want) {
			t.Fatalf("log = %q, want %q", log, want)
		}
		for i := range want {
			if log[i] != want[i] {
				t.Fatalf("log = %q, want %q", log, want)
			}
		}
	})
}

// goja_nodejs issue 69: Run never returns when a script forgot a
// setInterval, even though the caller only wanted a promise's value. In an
// Open block the caller awaits the promise and returns; the forgotten
// interval ends with the block.
func TestComplaint69_ForgottenInterval(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var result string
		err := Open(t.Context(), func(ctx context.Context, loop *EventLoop) error {
			v, err := loop.Await(ctx, func(vm *goja.Runtime) (goja.Value, error) {
				return vm.RunString(`
					// Simulated users forget to clear setInterval
					function leak() {
						setInterval(() => {}, 500);
					}
					async function test() {
						leak();
						return await new Promise(resolve => {
							setTimeout(() => resolve("done"), 1000);
						});
					}
					test();
				`)
			})
			if err != nil {
				return err
			}
			result = v.String() // a primitive: safe off the loop
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if result != "done" {
			t.Fatalf("result = %q", result)
		}
	})
}

// goja_nodejs issue 80: a promise to be resolved by Go code once the loop
// has stopped leaves that code (and the runtime) stuck. Here the Go call is
// part of the loop's block: Stop cancels it, a restart rejects its promise
// with the cancellation, and nothing is left behind.
func TestComplaint80_PromisesAfterStop(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		loop := NewEventLoop()
		loop.Start()
		var goErr atomic.Value
		loop.RunOnLoop(func(vm *goja.Runtime) {
			vm.Set("resolveLater", loop.Async(func(ctx context.Context, _ []any) (any, error) {
				err := trio.Sleep(ctx, 500*time.Millisecond)
				goErr.Store(err)
				return "result", err
			}))
			_, _ = vm.RunString(`
				var outcome = "pending";
				resolveLater().then(v => { outcome = v; }, e => { outcome = "rejected: " + e; });
			`)
		})
		time.Sleep(100 * time.Millisecond) // the Go call is under way
		if n := loop.Stop(); n != 1 {
			t.Fatalf("Stop = %d pending jobs, want the Go call", n)
		}
		if err, _ := goErr.Load().(error); !errors.Is(err, context.Canceled) {
			t.Fatalf("the Go call ended with %v, want a cancellation", err)
		}
		var outcome string
		loop.Run(func(vm *goja.Runtime) {}) // settles the promise, then idle
		loop.Run(func(vm *goja.Runtime) { outcome = vm.Get("outcome").String() })
		if want := "rejected: "; len(outcome) < len(want) || outcome[:len(want)] != want {
			t.Fatalf("outcome = %q", outcome)
		}

		// And the issue's own program, with the structured form: the
		// block ends with the promise pending and the Go side gone.
		c := make(chan struct{})
		err := Open(t.Context(), func(ctx context.Context, loop *EventLoop) error {
			return loop.Do(ctx, func(vm *goja.Runtime) error {
				p, resolve, _ := vm.NewPromise()
				vm.Set("p", p)
				go func() {
					time.Sleep(500 * time.Millisecond)
					if !loop.RunOnLoop(func(*goja.Runtime) { _ = resolve("result") }) {
						close(c) // refused: the block is over
					}
				}()
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		<-c
	})
}

// goja_nodejs issue 81: every interval owns a goroutine, and stopping the
// loop can leave it blocked forever; in a loop that creates and stops
// event loops, the goroutine count grows without bound.
//
// Not parallel: it counts the process's goroutines (after synctest.Wait, so
// that goroutines that are returning have returned).
func TestComplaint81_NoIntervalGoroutines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The bubble's goroutines, counted from a dump of all goroutines
		// (runtime.NumGoroutine counts the whole process, where the
		// runtime's cleanup goroutine may be running for another test).
		bubbleGoroutines := func() int {
			synctest.Wait()
			buf := make([]byte, 1<<20)
			for {
				n := runtime.Stack(buf, true)
				if n < len(buf) {
					return strings.Count(string(buf[:n]), ", synctest bubble ")
				}
				buf = make([]byte, 2*len(buf))
			}
		}
		count := bubbleGoroutines
		base := count()
		for range 20 {
			loop := NewEventLoop()
			loop.Start()
			interval := loop.SetInterval(func(vm *goja.Runtime) {}, 10*time.Millisecond)
			time.Sleep(500 * time.Millisecond)
			loop.ClearInterval(interval)
			loop.Stop()
			if n := bubbleGoroutines(); n > base {
				t.Fatalf("%d goroutines after Stop, %d before Start", n, base)
			}
		}
		// And many intervals cost no goroutine while they run.
		loop := NewEventLoop()
		loop.Start()
		time.Sleep(time.Millisecond)
		running := count()
		for range 1000 {
			loop.SetInterval(func(vm *goja.Runtime) {}, 10*time.Millisecond)
		}
		time.Sleep(time.Second)
		if n := bubbleGoroutines(); n > running {
			t.Fatalf("%d goroutines with 1000 intervals, %d with none", n, running)
		}
		if n := loop.Stop(); n != 1000 {
			t.Fatalf("Stop = %d pending, want 1000", n)
		}
		loop.Terminate()
		if n := count(); n > base {
			t.Fatalf("%d goroutines after Terminate, %d before", n, base)
		}
	})
}

// goja_nodejs issue 50: a script in an endless loop cannot be interrupted
// through the event loop. A trio deadline interrupts it, whether it runs
// for Do or in a timer, and the deadline's scope absorbs the cancellation.
// (Real time: a busy script never lets a fake clock advance.)
func TestComplaint50_InterruptLongScript(t *testing.T) {
	t.Parallel()
	var doErr error
	movedOn, err := trio.MoveOnAfter(t.Context(), 50*time.Millisecond, func(ctx context.Context) error {
		return Open(ctx, func(ctx context.Context, loop *EventLoop) error {
			doErr = loop.Do(ctx, func(vm *goja.Runtime) error {
				_, err := vm.RunString(`for (;;) {}`)
				return err
			})
			return doErr
		})
	})
	if err != nil || !movedOn {
		t.Fatalf("MoveOnAfter = %v, %v; want true, nil", movedOn, err)
	}
	if !errors.Is(doErr, ErrInterrupted) || !errors.Is(doErr, trio.ErrCancelled) {
		t.Fatalf("Do = %v, want an interruption by the deadline", doErr)
	}

	// The same script in a timer, while the body sleeps.
	movedOn, err = trio.MoveOnAfter(t.Context(), 50*time.Millisecond, func(ctx context.Context) error {
		return Open(ctx, func(ctx context.Context, loop *EventLoop) error {
			loop.RunOnLoop(func(vm *goja.Runtime) {
				_, _ = vm.RunString(`setTimeout(() => { for (;;) {} }, 0)`)
			})
			return trio.SleepForever(ctx)
		})
	})
	if err != nil || !movedOn {
		t.Fatalf("MoveOnAfter = %v, %v; want true, nil", movedOn, err)
	}
}
