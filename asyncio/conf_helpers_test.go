package asyncio_test

import (
	"context"
	"testing"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// inTask runs fn as the main task of a fresh loop, in real time, and
// fails the test with the error fn returns. fn runs on the loop: it
// reports with t.Error, never t.Fatal. (mainTask is the same on the fake
// clock.)
func inTask(t *testing.T, fn func(ctx context.Context, loop *asyncio.Loop) error) {
	t.Helper()
	_, err := runMain(t, func(ctx context.Context) (struct{}, error) {
		loop, err := asyncio.GetRunningLoop(ctx)
		if err != nil {
			return struct{}{}, err
		}
		if eagerTestTasks.Load() {
			loop.SetTaskFactory(asyncio.EagerTaskFactory)
		}
		return struct{}{}, fn(ctx, loop)
	})
	if err != nil {
		t.Fatalf("main task: got error %v, want nil", err)
	}
}
