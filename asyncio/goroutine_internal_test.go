package asyncio

import (
	"context"
	"testing"
)

// goid reads the id the runtime prints in a trace's header: stable within
// a goroutine, different between goroutines.
func TestGoid(t *testing.T) {
	a, b := goid(), goid()
	if a <= 0 || a != b {
		t.Fatalf("goid twice on one goroutine: got %d and %d, want one positive id", a, b)
	}
	other := make(chan int64)
	go func() { other <- goid() }()
	if o := <-other; o <= 0 || o == a {
		t.Errorf("goid on another goroutine: got %d, want a positive id other than %d", o, a)
	}
}

// onLoopCode finds a loop goroutine's and a task coroutine's frames by
// their functions' entry points, and nothing in other goroutines.
func TestOnLoopCode(t *testing.T) {
	if onLoopCode() {
		t.Error("onLoopCode in a test goroutine: got true, want false")
	}
	var inCallback, inTask, inTrio bool
	err := OpenLoop(context.Background(), func(ctx context.Context, loop *Loop) error {
		RunSync(ctx, func(context.Context) (int, error) { inCallback = onLoopCode(); return 0, nil })
		RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			inTask = onLoopCode()
			return Await(ctx, RunTrio(ctx, func(context.Context) (int, error) { inTrio = onLoopCode(); return 0, nil }))
		})
		return nil
	})
	if err != nil {
		t.Fatalf("OpenLoop: got %v, want nil", err)
	}
	if !inCallback || !inTask || inTrio {
		t.Errorf("onLoopCode: in a callback %v, in a task %v, in a RunTrio function %v; want true, true, false", inCallback, inTask, inTrio)
	}
}
