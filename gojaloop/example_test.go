package gojaloop_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dop251/goja"
	"github.com/dop251/goja_nodejs/require"
	"github.com/trioasyncio/trioasyncio/gojaloop"
	"github.com/trioasyncio/trioasyncio/trio"
)

// The drop-in form: Run runs a script and returns once its timers have
// fired, as goja_nodejs's eventloop does.
func ExampleEventLoop_Run() {
	loop := gojaloop.NewEventLoop()
	loop.Run(func(vm *goja.Runtime) {
		vm.Set("print", fmt.Println)
		_, _ = vm.RunString(`
			setTimeout(() => print("two"), 20);
			setTimeout(() => print("one"), 10);
			setImmediate(() => print("immediate"));
			print("script");
		`)
	})
	// Output:
	// script
	// immediate
	// one
	// two
}

// The background form: Start, give the loop work from any goroutine, Stop.
func ExampleEventLoop_Start() {
	loop := gojaloop.NewEventLoop()
	loop.Start()
	defer loop.Terminate()

	result := make(chan string)
	loop.RunOnLoop(func(vm *goja.Runtime) {
		v, _ := vm.RunString(`["a", "b", "c"].join("-")`)
		result <- v.String()
	})
	fmt.Println(<-result)
	fmt.Println("pending:", loop.Stop())
	// Output:
	// a-b-c
	// pending: 0
}

// Stop is safe anywhere: on a loop never started, twice, and from the
// loop's own callbacks (where it does not wait, and nothing runs after).
func ExampleEventLoop_Stop() {
	loop := gojaloop.NewEventLoop()
	fmt.Println(loop.Stop(), loop.Stop())

	loop.Run(func(vm *goja.Runtime) {
		loop.SetTimeout(func(*goja.Runtime) { loop.Stop() }, 10*time.Millisecond)
		loop.SetTimeout(func(*goja.Runtime) { fmt.Println("not run") }, time.Hour)
	})
	fmt.Println("pending after the Stop:", loop.Stop())
	loop.Terminate()
	fmt.Println("pending after Terminate:", loop.Stop())
	// Output:
	// 0 0
	// pending after the Stop: 1
	// pending after Terminate: 0
}

// Native timers: a Timer from SetTimeout can be cleared before it fires.
func ExampleTimer() {
	loop := gojaloop.NewEventLoop()
	t := loop.SetTimeout(func(*goja.Runtime) { fmt.Println("cleared: never printed") }, 50*time.Millisecond)
	loop.SetTimeout(func(*goja.Runtime) { fmt.Println("fired") }, 10*time.Millisecond)
	loop.ClearTimeout(t)
	loop.Run(func(*goja.Runtime) {})
	// Output:
	// fired
}

// An Interval repeats until cleared; it costs no goroutine.
func ExampleInterval() {
	loop := gojaloop.NewEventLoop()
	n := 0
	var i *gojaloop.Interval
	i = loop.SetInterval(func(*goja.Runtime) {
		n++
		fmt.Println("tick", n)
		if n == 3 {
			loop.ClearInterval(i)
		}
	}, time.Millisecond)
	loop.Run(func(*goja.Runtime) {})
	// Output:
	// tick 1
	// tick 2
	// tick 3
}

// JavaScript's setImmediate returns an Immediate, which clearImmediate
// cancels.
func ExampleImmediate() {
	loop := gojaloop.NewEventLoop()
	loop.Run(func(vm *goja.Runtime) {
		vm.Set("print", fmt.Println)
		_, _ = vm.RunString(`
			const i = setImmediate(() => print("cancelled: never printed"));
			setImmediate(() => print("ran"));
			clearImmediate(i);
		`)
		var imm *gojaloop.Immediate
		_ = vm.ExportTo(vm.Get("i"), &imm)
		fmt.Println(imm != nil)
	})
	// Output:
	// true
	// ran
}

// Options: no console, and a registry with a native module for require.
func ExampleOption() {
	registry := require.NewRegistry()
	registry.RegisterNativeModule("greeting", func(vm *goja.Runtime, module *goja.Object) {
		_ = module.Get("exports").(*goja.Object).Set("hello", func(name string) string { return "hello, " + name })
	})
	loop := gojaloop.NewEventLoop(gojaloop.EnableConsole(false), gojaloop.WithRegistry(registry))
	loop.Run(func(vm *goja.Runtime) {
		v, _ := vm.RunString(`require("greeting").hello("loop") + " " + typeof console`)
		fmt.Println(v)
	})
	// Output:
	// hello, loop undefined
}

// The structured form: the loop lives for the block. From Go, Await a
// promise; from JavaScript, await a Go function made with Async. The block
// drops what is still pending when it ends (here, a forgotten interval).
func ExampleOpen() {
	err := trio.Run(func(ctx context.Context) error {
		return gojaloop.Open(ctx, func(ctx context.Context, loop *gojaloop.EventLoop) error {
			v, err := loop.Await(ctx, func(vm *goja.Runtime) (goja.Value, error) {
				vm.Set("double", loop.Async(func(ctx context.Context, args []any) (any, error) {
					if err := trio.Sleep(ctx, 10*time.Millisecond); err != nil {
						return nil, err
					}
					return 2 * args[0].(int64), nil
				}))
				return vm.RunString(`
					setInterval(() => {}, 5); // forgotten
					(async () => (await double(20)) + 2)();
				`)
			})
			if err != nil {
				return err
			}
			fmt.Println(v.Export())
			return nil
		})
	})
	fmt.Println(err)
	// Output:
	// 42
	// <nil>
}

// A deadline interrupts a script that never ends, and the deadline's scope
// absorbs the cancellation.
func ExampleOpen_deadline() {
	movedOn, err := trio.MoveOnAfter(context.Background(), 20*time.Millisecond, func(ctx context.Context) error {
		return gojaloop.Open(ctx, func(ctx context.Context, loop *gojaloop.EventLoop) error {
			err := loop.Do(ctx, func(vm *goja.Runtime) error {
				_, err := vm.RunString(`for (;;) {}`)
				return err
			})
			fmt.Println(errors.Is(err, gojaloop.ErrInterrupted))
			return err
		})
	})
	fmt.Println(movedOn, err)
	// Output:
	// true
	// true <nil>
}

// WaitIdle: the block waits for the work the body started.
func ExampleWaitIdle() {
	var out strings.Builder
	err := gojaloop.Open(context.Background(), func(ctx context.Context, loop *gojaloop.EventLoop) error {
		return loop.Do(ctx, func(vm *goja.Runtime) error {
			vm.Set("write", func(s string) { out.WriteString(s) })
			_, err := vm.RunString(`setTimeout(() => write("later"), 10); write("now, ");`)
			return err
		})
	}, gojaloop.WaitIdle())
	fmt.Println(out.String(), err)
	// Output:
	// now, later <nil>
}

// A rejected promise comes back as a *RejectionError.
func ExampleRejectionError() {
	_ = gojaloop.Open(context.Background(), func(ctx context.Context, loop *gojaloop.EventLoop) error {
		_, err := loop.Await(ctx, func(vm *goja.Runtime) (goja.Value, error) {
			return vm.RunString(`Promise.reject(new RangeError("out of range"))`)
		})
		var re *gojaloop.RejectionError
		fmt.Println(errors.As(err, &re), errors.Is(err, gojaloop.ErrRejected))
		fmt.Println(err)
		return nil
	})
	// Output:
	// true true
	// gojaloop: promise rejected: RangeError: out of range
}

// Do runs Go code on the loop from another goroutine and waits for it;
// it works with the background form too.
func ExampleEventLoop_Do() {
	loop := gojaloop.NewEventLoop()
	loop.Start()
	defer loop.Terminate()
	var sum int64
	err := loop.Do(context.Background(), func(vm *goja.Runtime) error {
		v, err := vm.RunString(`[1, 2, 3, 4].reduce((a, b) => a + b)`)
		if err == nil {
			sum = v.ToInteger()
		}
		return err
	})
	fmt.Println(sum, err)
	// Output:
	// 10 <nil>
}

// Async makes a Go function a JavaScript function returning a promise;
// Await waits for a promise from Go.
func ExampleEventLoop_Async() {
	_ = gojaloop.Open(context.Background(), func(ctx context.Context, loop *gojaloop.EventLoop) error {
		v, err := loop.Await(ctx, func(vm *goja.Runtime) (goja.Value, error) {
			vm.Set("upper", loop.Async(func(ctx context.Context, args []any) (any, error) {
				s, _ := args[0].(string)
				return strings.ToUpper(s), nil
			}))
			return vm.RunString(`upper("shout")`)
		})
		fmt.Println(v, err)
		return nil
	})
	// Output:
	// SHOUT <nil>
}
