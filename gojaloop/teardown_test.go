package gojaloop

import (
	"context"
	"runtime"
	"testing"

	"github.com/dop251/goja"
	"go.uber.org/goleak"
)

// A script with 100,000 timers and 1,000 intervals, torn down by the end of
// its block: while they are pending they cost no goroutine, and afterwards
// no goroutine, timer or heap is left. Not parallel: it counts the
// process's goroutines and heap.
func TestTeardown100kTimers1kIntervals(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates about 100 MB")
	}
	heapInUse := func() uint64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heapInUse()
	goroutinesBefore := runtime.NumGoroutine()
	var pending int32
	var goroutinesDuring int
	err := Open(t.Context(), func(ctx context.Context, loop *EventLoop) error {
		return loop.Do(ctx, func(vm *goja.Runtime) error {
			_, err := vm.RunString(`
				var fired = 0;
				for (let i = 0; i < 100000; i++) {
					setTimeout(() => { fired++; }, 60000 + i);
				}
				for (let i = 0; i < 1000; i++) {
					setInterval(() => { fired++; }, 60000);
				}
			`)
			pending = loop.jobCount.Load()
			goroutinesDuring = runtime.NumGoroutine()
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if pending != 101000 {
		t.Fatalf("%d jobs pending in the block, want 101000", pending)
	}
	// The loop's own goroutines (the asyncio loop and the block's), and
	// none per timer or interval.
	if extra := goroutinesDuring - goroutinesBefore; extra > 8 {
		t.Fatalf("%d more goroutines with 101,000 timers pending", extra)
	}
	goleak.VerifyNone(t)
	after := heapInUse()
	if after > before+8<<20 {
		t.Fatalf("heap: %d bytes before the block, %d after", before, after)
	}
	t.Logf("goroutines: %d before, %d during; heap: %d KB before, %d KB after",
		goroutinesBefore, goroutinesDuring, before>>10, after>>10)
}
