package asyncio_test

import (
	"context"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

func TestSmoke(t *testing.T) {
	v, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		f := asyncio.NewFuture[int](loop)
		loop.CallLater(10*time.Millisecond, func(context.Context) { f.SetResult(41) })
		x, err := asyncio.Await(ctx, f)
		if err != nil {
			return 0, err
		}
		if err := asyncio.Sleep(ctx, 0); err != nil {
			return 0, err
		}
		child := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			return 1, asyncio.Sleep(ctx, time.Millisecond)
		})
		y, err := asyncio.Await(ctx, child)
		return x + y, err
	})
	if v != 42 || err != nil {
		t.Fatalf("got %v, %v", v, err)
	}
}
