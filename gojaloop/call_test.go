package gojaloop

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dop251/goja"
	"github.com/trioasyncio/trioasyncio/trio"
)

func TestAwait(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		err := Open(t.Context(), func(ctx context.Context, loop *EventLoop) error {
			// A promise settled by a timer.
			v, err := loop.Await(ctx, func(vm *goja.Runtime) (goja.Value, error) {
				return vm.RunString(`new Promise(r => setTimeout(() => r(6 * 7), 1000))`)
			})
			if err != nil || v.Export() != int64(42) {
				t.Errorf("Await = %v, %v", v, err)
			}
			// Already settled, and not a promise at all.
			v, err = loop.Await(ctx, func(vm *goja.Runtime) (goja.Value, error) {
				return vm.RunString(`Promise.resolve("now")`)
			})
			if err != nil || v.String() != "now" {
				t.Errorf("Await = %v, %v", v, err)
			}
			v, err = loop.Await(ctx, func(vm *goja.Runtime) (goja.Value, error) {
				return vm.ToValue(7), nil
			})
			if err != nil || v.ToInteger() != 7 {
				t.Errorf("Await = %v, %v", v, err)
			}
			// Rejections: a JS error, and an already rejected promise.
			_, err = loop.Await(ctx, func(vm *goja.Runtime) (goja.Value, error) {
				return vm.RunString(`(async () => { await null; throw new TypeError("bad") })()`)
			})
			var re *RejectionError
			if !errors.As(err, &re) || !errors.Is(err, ErrRejected) || err.Error() != "gojaloop: promise rejected: TypeError: bad" {
				t.Errorf("Await = %v", err)
			}
			_, err = loop.Await(ctx, func(vm *goja.Runtime) (goja.Value, error) {
				return vm.RunString(`Promise.reject(1)`)
			})
			if !errors.Is(err, ErrRejected) {
				t.Errorf("Await = %v", err)
			}
			// A rejection with a Go error.
			boom := errors.New("boom")
			_, err = loop.Await(ctx, func(vm *goja.Runtime) (goja.Value, error) {
				p, _, reject := vm.NewPromise()
				_ = reject(vm.NewGoError(boom))
				return vm.ToValue(p), nil
			})
			if !errors.Is(err, boom) {
				t.Errorf("Await = %v, want boom", err)
			}
			// A script error.
			_, err = loop.Await(ctx, func(vm *goja.Runtime) (goja.Value, error) {
				return vm.RunString(`throw new Error("sync")`)
			})
			var ex *goja.Exception
			if !errors.As(err, &ex) {
				t.Errorf("Await = %v, want a *goja.Exception", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// Await's ctx: done while the promise is pending, Await returns its
// cancellation, absorbed by the scope; the promise is left alone.
func TestAwait_Cancelled(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		err := Open(t.Context(), func(ctx context.Context, loop *EventLoop) error {
			movedOn, err := trio.MoveOnAfter(ctx, time.Second, func(ctx context.Context) error {
				_, err := loop.Await(ctx, func(vm *goja.Runtime) (goja.Value, error) {
					return vm.RunString(`new Promise(() => {})`)
				})
				return err
			})
			if !movedOn || err != nil {
				t.Errorf("MoveOnAfter = %v, %v", movedOn, err)
			}
			// The loop goes on.
			return loop.Do(ctx, func(vm *goja.Runtime) error { return nil })
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// An Await pending when the block ends returns ErrTerminated; so does a Do
// queued on a loop that is then terminated.
func TestAwait_Terminated(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		got := make(chan error, 1)
		err := Open(t.Context(), func(ctx context.Context, loop *EventLoop) error {
			go func() {
				_, err := loop.Await(context.Background(), func(vm *goja.Runtime) (goja.Value, error) {
					return vm.RunString(`new Promise(() => {})`)
				})
				got <- err
			}()
			return trio.Sleep(ctx, time.Second)
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := <-got; !errors.Is(err, ErrTerminated) {
			t.Fatalf("Await = %v", err)
		}

		loop := NewEventLoop()
		go func() {
			got <- loop.Do(context.Background(), func(*goja.Runtime) error { return nil })
		}()
		time.Sleep(time.Second) // queued on a stopped loop
		loop.Terminate()        // runs it, as it runs every queued job
		if err := <-got; err != nil {
			t.Fatalf("Do = %v", err)
		}
		if err := loop.Do(context.Background(), func(*goja.Runtime) error { return nil }); !errors.Is(err, ErrTerminated) {
			t.Fatalf("Do on a terminated loop = %v", err)
		}
	})
}

// Do on the background form; a panic in fn reaches Do's caller.
func TestDo_Background(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		loop := NewEventLoop()
		loop.Start()
		defer loop.Terminate()
		var x int64
		err := loop.Do(t.Context(), func(vm *goja.Runtime) error {
			v, err := vm.RunString(`1 + 2`)
			x = v.ToInteger()
			return err
		})
		if err != nil || x != 3 {
			t.Fatalf("Do = %v, %d", err, x)
		}
		func() {
			defer func() {
				if r := recover(); r != "oops" {
					t.Fatalf("recovered %v", r)
				}
			}()
			_ = loop.Do(t.Context(), func(*goja.Runtime) error { panic("oops") })
		}()
		// The loop is still fine.
		if err := loop.Do(t.Context(), func(*goja.Runtime) error { return nil }); err != nil {
			t.Fatal(err)
		}
		// A ctx done before the call: fn never runs.
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := loop.Do(ctx, func(*goja.Runtime) error { panic("ran") }); !errors.Is(err, context.Canceled) {
			t.Fatalf("Do = %v", err)
		}
	})
}

// Do and Await from the loop's own jobs, or from Run's fn, would wait for
// themselves: they return ErrOnLoop instead of hanging.
func TestDo_FromTheLoop(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		loop := NewEventLoop()
		do := func() error {
			return loop.Do(t.Context(), func(*goja.Runtime) error { return nil })
		}
		var fromFn, fromTimer, fromJob, fromDo error
		loop.Run(func(vm *goja.Runtime) {
			fromFn = do()
			loop.SetTimeout(func(*goja.Runtime) { fromTimer = do() }, time.Second)
		})
		loop.Start()
		done := make(chan struct{})
		loop.RunOnLoop(func(*goja.Runtime) { fromJob = do(); close(done) })
		<-done
		_ = loop.Do(t.Context(), func(*goja.Runtime) error { fromDo = do(); return nil })
		loop.Terminate()
		for _, err := range []error{fromFn, fromTimer, fromJob, fromDo} {
			if !errors.Is(err, ErrOnLoop) {
				t.Errorf("Do from the loop = %v, want ErrOnLoop", err)
			}
		}
	})
}
