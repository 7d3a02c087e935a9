package gojaloop

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dop251/goja"
	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

// When the body returns, pending work is dropped: nothing runs afterwards,
// and the loop refuses new work.
func TestOpen_DropsPendingWork(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var ended, ran atomic.Bool
		var l *EventLoop
		err := Open(t.Context(), func(ctx context.Context, loop *EventLoop) error {
			l = loop
			mark := func() {
				if ended.Load() {
					ran.Store(true)
				}
			}
			loop.SetTimeout(func(*goja.Runtime) { mark() }, time.Second)
			return loop.Do(ctx, func(vm *goja.Runtime) error {
				vm.Set("mark", mark)
				_, err := vm.RunString(`
					setTimeout(mark, 10); setInterval(mark, 10); setImmediate(mark);
					Promise.resolve().then(() => {});
				`)
				return err
			})
		})
		ended.Store(true)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		if ran.Load() {
			t.Fatal("a job of the block ran")
		}
		if l.RunOnLoop(func(*goja.Runtime) {}) || l.SetTimeout(func(*goja.Runtime) {}, 0) != nil {
			t.Fatal("the loop of a finished block took work")
		}
		if err := l.Do(t.Context(), func(*goja.Runtime) error { return nil }); !errors.Is(err, ErrTerminated) {
			t.Fatalf("Do after the block = %v", err)
		}
		if n := l.Stop(); n != 0 {
			t.Fatalf("Stop after the block = %d", n)
		}
		l.Terminate()
	})
}

// The body's ctx carries the asyncio loop, which the script's loop runs on.
func TestOpen_BodyCtxCarriesLoop(t *testing.T) {
	t.Parallel()
	err := Open(t.Context(), func(ctx context.Context, loop *EventLoop) error {
		if _, err := asyncio.GetRunningLoop(ctx); err != nil {
			return err
		}
		v, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			return 42, nil
		})
		if v != 42 {
			t.Errorf("RunAsyncio = %d, %v", v, err)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A body error leaves Open as it is; a cancellation of the block's ctx is
// absorbed by the scope that caused it.
func TestOpen_Errors(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		boom := errors.New("boom")
		if err := Open(t.Context(), func(context.Context, *EventLoop) error { return boom }); !errors.Is(err, boom) {
			t.Fatalf("Open = %v, want boom", err)
		}
		var scope trio.CancelScope
		err := scope.Run(t.Context(), func(ctx context.Context) error {
			return Open(ctx, func(ctx context.Context, loop *EventLoop) error {
				loop.SetTimeout(func(*goja.Runtime) { scope.Cancel() }, time.Second)
				return trio.SleepForever(ctx)
			})
		})
		if err != nil || !scope.CancelledCaught() {
			t.Fatalf("scope.Run = %v, caught %v", err, scope.CancelledCaught())
		}
	})
}

// A panic in a loop callback stops the jobs, cancels the body, and comes
// out of Open as a *trio.PanicError.
func TestOpen_CallbackPanic(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		err := Open(t.Context(), func(ctx context.Context, loop *EventLoop) error {
			loop.SetTimeout(func(*goja.Runtime) { panic("oops") }, time.Second)
			return trio.SleepForever(ctx)
		})
		var pe *trio.PanicError
		if !errors.As(err, &pe) || pe.Value != "oops" {
			t.Fatalf("Open = %v, want the panic", err)
		}
	})
}

// With WaitIdle, a cancellation while waiting ends the wait (and a
// forgotten interval is why one should put a deadline on it).
func TestOpen_WaitIdleDeadline(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ticks := 0
		movedOn, err := trio.MoveOnAfter(t.Context(), 5*time.Second, func(ctx context.Context) error {
			return Open(ctx, func(ctx context.Context, loop *EventLoop) error {
				loop.SetInterval(func(*goja.Runtime) { ticks++ }, time.Second)
				return nil
			}, WaitIdle())
		})
		if err != nil || !movedOn {
			t.Fatalf("MoveOnAfter = %v, %v", movedOn, err)
		}
		if ticks != 4 && ticks != 5 {
			t.Fatalf("%d ticks in 5 s", ticks)
		}
	})
}

// Stop, StopNoWait and Terminate in a block stop the jobs without waiting
// for the block, from the body and from the loop; Start and Run panic.
func TestOpen_StopInBlock(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ran := false
		err := Open(t.Context(), func(ctx context.Context, loop *EventLoop) error {
			loop.SetTimeout(func(*goja.Runtime) { ran = true }, 2*time.Second)
			loop.SetTimeout(func(*goja.Runtime) { loop.Stop(); loop.Terminate() }, time.Second)
			if err := trio.Sleep(ctx, 3*time.Second); err != nil {
				return err
			}
			if n := loop.Stop(); n != 1 {
				t.Errorf("Stop = %d, want 1", n)
			}
			loop.StopNoWait()
			loop.Terminate()
			for _, start := range []func(){loop.Start, loop.StartInForeground, func() { loop.Run(func(*goja.Runtime) {}) }} {
				func() {
					defer func() {
						if recover() == nil {
							t.Error("starting the loop of a block did not panic")
						}
					}()
					start()
				}()
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if ran {
			t.Fatal("a timer ran after Stop")
		}
	})
}

// A panic in body is re-raised after the teardown, which interrupts a
// script still running instead of waiting for it.
func TestOpen_BodyPanic(t *testing.T) {
	t.Parallel()
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("no panic")
		}
	}()
	_ = Open(t.Context(), func(ctx context.Context, loop *EventLoop) error {
		started := make(chan struct{})
		loop.RunOnLoop(func(vm *goja.Runtime) {
			close(started)
			_, _ = vm.RunString(`for (;;) {}`)
		})
		<-started
		panic("body")
	})
}
