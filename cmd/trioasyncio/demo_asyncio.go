package main

import (
	"context"
	"errors"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

// The asyncio parts of the demo: a loop that lives inside a block.

func demoLoop(ctx context.Context, say func(string, ...any)) error {
	return asyncio.OpenLoop(ctx, func(ctx context.Context, loop *asyncio.Loop) error {
		// trio code runs a coroutine as an asyncio task and gets its result.
		n, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			say("coroutine runs on the loop, sleeps 100ms the asyncio way")
			if err := asyncio.Sleep(ctx, 100*time.Millisecond); err != nil {
				return 0, err
			}
			// and asyncio code runs trio code in the loop's nursery.
			return asyncio.Await(ctx, asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
				say("trio code called from the coroutine, sleeps 100ms the trio way")
				return 42, trio.Sleep(ctx, 100*time.Millisecond)
			}))
		})
		say("RunAsyncio returned %d, %v", n, err)
		return err
	})
}

func demoCrossCancel(ctx context.Context, say func(string, ...any)) error {
	return asyncio.OpenLoop(ctx, func(ctx context.Context, loop *asyncio.Loop) error {
		movedOn, err := trio.MoveOnAfter(ctx, 150*time.Millisecond, func(ctx context.Context) error {
			_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (struct{}, error) {
				err := asyncio.Sleep(ctx, time.Hour)
				say("the asyncio task sees %v; it cleans up, still awaiting", err)
				asyncio.Sleep(ctx, 50*time.Millisecond) // edge-triggered: the next await works
				return struct{}{}, err
			})
			say("trio sees %v", err)
			say("  errors.Is trio.ErrCancelled: %v, asyncio.ErrCancelled: %v",
				errors.Is(err, trio.ErrCancelled), errors.Is(err, asyncio.ErrCancelled))
			return err
		})
		say("the trio deadline's scope absorbed it: movedOn=%v err=%v", movedOn, err)
		return err
	})
}

func demoTeardown(ctx context.Context, say func(string, ...any)) error {
	var loopRef *asyncio.Loop
	moved, err := trio.MoveOnAfter(ctx, 100*time.Millisecond, func(ctx context.Context) error {
		return asyncio.OpenLoop(ctx, func(ctx context.Context, loop *asyncio.Loop) error {
			loopRef = loop
			asyncio.RunSync(ctx, func(ctx context.Context) (struct{}, error) {
				asyncio.CreateTask(ctx, func(ctx context.Context) (struct{}, error) {
					err := asyncio.Sleep(ctx, time.Hour)
					say("a forgotten task is cancelled by the teardown: %v", err)
					return struct{}{}, err
				})
				loop.CallLater(time.Hour, func(context.Context) { say("never printed: timers are dropped") })
				asyncio.RunTrio(ctx, func(ctx context.Context) (struct{}, error) {
					err := trio.SleepForever(ctx)
					say("a forgotten trio call is cancelled too: %v", err)
					return struct{}{}, err
				})
				return struct{}{}, nil
			})
			say("the block's body waits forever…")
			return trio.SleepForever(ctx)
		})
	})
	say("OpenLoop returned after its teardown: movedOn=%v err=%v, loop closed: %v", moved, err, loopRef.IsClosed())
	return err
}
