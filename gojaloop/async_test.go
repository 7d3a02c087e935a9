package gojaloop

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dop251/goja"
	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

func TestAsync(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		boom := errors.New("boom")
		err := Open(t.Context(), func(ctx context.Context, loop *EventLoop) error {
			v, err := loop.Await(ctx, func(vm *goja.Runtime) (goja.Value, error) {
				vm.Set("add", loop.Async(func(ctx context.Context, args []any) (any, error) {
					if err := trio.Sleep(ctx, time.Second); err != nil {
						return nil, err
					}
					return args[0].(int64) + args[1].(int64), nil
				}))
				vm.Set("fail", loop.Async(func(ctx context.Context, args []any) (any, error) {
					return nil, boom
				}))
				vm.Set("crash", loop.Async(func(ctx context.Context, args []any) (any, error) {
					panic("crash")
				}))
				return vm.RunString(`(async () => {
					const sum = await add(40, 2);
					let failed, crashed;
					try { await fail(); } catch (e) { failed = e.message; }
					try { await crash(); } catch (e) { crashed = e.message; }
					return sum + " " + failed + " " + crashed;
				})()`)
			})
			if err != nil {
				return err
			}
			if got := v.String(); !strings.HasPrefix(got, "42 boom trio: panic: crash") {
				t.Errorf("script = %q", got)
			}
			// A Go error rejected from JS reaches Await's caller intact.
			_, err = loop.Await(ctx, func(vm *goja.Runtime) (goja.Value, error) {
				return vm.RunString(`fail()`)
			})
			if !errors.Is(err, boom) {
				t.Errorf("Await = %v, want boom", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// Run waits for the Go calls; the end of a block cancels them.
func TestAsync_RunWaitsBlockCancels(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		loop := NewEventLoop()
		var result string
		loop.Run(func(vm *goja.Runtime) {
			vm.Set("slow", loop.Async(func(ctx context.Context, _ []any) (any, error) {
				return "slow", trio.Sleep(ctx, 5*time.Second)
			}))
			vm.Set("record", func(s string) { result = s })
			_, _ = vm.RunString(`slow().then(record)`)
		})
		if result != "slow" {
			t.Fatalf("result = %q", result)
		}

		cancelled := make(chan error, 1)
		err := Open(t.Context(), func(ctx context.Context, loop *EventLoop) error {
			err := loop.Do(ctx, func(vm *goja.Runtime) error {
				vm.Set("forever", loop.Async(func(ctx context.Context, _ []any) (any, error) {
					err := trio.SleepForever(ctx)
					cancelled <- err
					return nil, err
				}))
				_, err := vm.RunString(`forever()`)
				return err
			})
			if err != nil {
				return err
			}
			return trio.Sleep(ctx, time.Second)
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := <-cancelled; !errors.Is(err, trio.ErrCancelled) {
			t.Fatalf("the Go call ended with %v", err)
		}
	})
}

// The ctx of an Async function carries the asyncio loop, so asyncio-flavored
// Go code runs from it with RunAsyncio.
func TestAsync_AsyncioFlavored(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		err := Open(t.Context(), func(ctx context.Context, loop *EventLoop) error {
			v, err := loop.Await(ctx, func(vm *goja.Runtime) (goja.Value, error) {
				vm.Set("aio", loop.Async(func(ctx context.Context, args []any) (any, error) {
					return asyncio.RunAsyncio(ctx, func(ctx context.Context) (string, error) {
						if err := asyncio.Sleep(ctx, time.Second); err != nil {
							return "", err
						}
						return "from a coroutine", nil
					})
				}))
				return vm.RunString(`aio()`)
			})
			if err == nil && v.String() != "from a coroutine" {
				t.Errorf("Await = %v", v)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// Terminate cancels a pending Go call and drops its promise: no script code
// runs for it during or after the Terminate.
func TestAsync_TerminateDrops(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		loop := NewEventLoop()
		loop.Start()
		var settled atomic.Bool
		started := make(chan struct{})
		loop.RunOnLoop(func(vm *goja.Runtime) {
			vm.Set("settled", func() { settled.Store(true) })
			vm.Set("wait", loop.Async(func(ctx context.Context, _ []any) (any, error) {
				close(started)
				return nil, trio.SleepForever(ctx)
			}))
			_, _ = vm.RunString(`wait().then(settled, settled)`)
		})
		<-started
		loop.Terminate()
		if settled.Load() {
			t.Fatal("the promise of a terminated Go call was settled")
		}
		if n := loop.Stop(); n != 0 {
			t.Fatalf("%d jobs after Terminate", n)
		}
	})
}
