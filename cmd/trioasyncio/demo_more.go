package main

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/gojaloop"
	"github.com/trioasyncio/trioasyncio/trio"
)

// demoTwoLoops opens two loops side by side in one nursery, each serving
// requests from trio code; the first one's block is cancelled mid-way,
// and the second keeps serving, undisturbed.
func demoTwoLoops(ctx context.Context, say func(string, ...any)) error {
	var served [2]atomic.Int64
	serve := func(i int, scope *trio.CancelScope) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			return scope.Run(ctx, func(ctx context.Context) error {
				return asyncio.OpenLoop(ctx, func(ctx context.Context, loop *asyncio.Loop) error {
					for {
						_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
							return 0, asyncio.Sleep(ctx, 10*time.Millisecond) // a request's work
						})
						if err != nil {
							return err
						}
						served[i].Add(1)
					}
				})
			})
		}
	}
	var a, b trio.CancelScope
	b.SetDeadline(time.Now().Add(400 * time.Millisecond))
	err := trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
		n.StartSoon(serve(0, &a))
		n.StartSoon(serve(1, &b))
		trio.Sleep(ctx, 200*time.Millisecond)
		say("loop A has served %d requests, loop B %d; now A's block is cancelled", served[0].Load(), served[1].Load())
		a.Cancel()
		trio.Sleep(ctx, 100*time.Millisecond)
		frozen := served[0].Load()
		say("A closed (served %d); B goes on: %d", frozen, served[1].Load())
		return nil
	})
	say("both blocks ended: A served %d, B served %d (B's own deadline ended it)", served[0].Load(), served[1].Load())
	return err
}

// demoJS runs JavaScript on a loop (gojaloop): a timer, and a promise that
// Go code running in the block's nursery settles; the block's deadline
// bounds it all.
func demoJS(ctx context.Context, say func(string, ...any)) error {
	moved, err := trio.MoveOnAfter(ctx, 2*time.Second, func(ctx context.Context) error {
		return gojaloop.Open(ctx, func(ctx context.Context, loop *gojaloop.EventLoop) error {
			v, err := loop.Await(ctx, func(vm *goja.Runtime) (goja.Value, error) {
				vm.Set("say", func(s string) { say("js: %s", s) })
				vm.Set("fetch", loop.Async(func(ctx context.Context, args []any) (any, error) {
					// trio-flavored Go: any ctx-aware call would do.
					if err := trio.Sleep(ctx, 100*time.Millisecond); err != nil {
						return nil, err
					}
					return "hello from Go", nil
				}))
				return vm.RunString(`
					setTimeout(() => say("a timer fired after 50ms"), 50);
					fetch().then(s => { say("the promise resolved: " + s); return s.length; });
				`)
			})
			say("Await returned %v, %v", v, err)
			return err
		})
	})
	say("the block ended: movedOn=%v err=%v", moved, err)
	if moved {
		return errors.New("demo: the script did not finish in time")
	}
	return err
}
