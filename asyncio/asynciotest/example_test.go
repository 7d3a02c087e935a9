package asynciotest_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/asyncio/asynciotest"
)

// A test in asyncio's classic style: schedule callbacks between runs, run
// the loop until one of them stops it, look at the results.
func ExampleNewLoop() {
	l := asynciotest.NewLoop()
	defer l.Close()
	loop := l.Loop()

	var log []string
	loop.CallLater(10*time.Millisecond, func(context.Context) {
		log = append(log, "timer")
		loop.Stop()
	})
	loop.CallSoon(func(context.Context) { log = append(log, "soon") })
	if err := l.RunForever(); err != nil {
		fmt.Println(err)
	}
	// The loop is paused: its state can be read without locks.
	fmt.Println(log)
	// Output: [soon timer]
}

// RunUntilComplete runs a coroutine as a task and returns its result.
func ExampleRunUntilComplete() {
	l := asynciotest.NewLoop()
	defer l.Close()

	v, err := asynciotest.RunUntilComplete(l, func(ctx context.Context) (string, error) {
		world := asyncio.CreateTask(ctx, func(ctx context.Context) (string, error) {
			return "world", asyncio.Sleep(ctx, time.Millisecond)
		})
		w, err := asyncio.Await(ctx, world)
		return "hello, " + w, err
	})
	fmt.Println(v, err)

	// Errors come back as they are.
	errBoom := errors.New("boom")
	_, err = asynciotest.RunUntilComplete(l, func(ctx context.Context) (int, error) {
		return 0, errBoom
	})
	fmt.Println(err == errBoom)
	// Output:
	// hello, world <nil>
	// true
}

// RunFutureUntilComplete waits for a future the test made between runs.
func ExampleRunFutureUntilComplete() {
	l := asynciotest.NewLoop()
	defer l.Close()
	loop := l.Loop()

	fut := asyncio.NewFuture[int](loop)
	loop.CallLater(time.Millisecond, func(context.Context) { fut.SetResult(42) })
	v, err := asynciotest.RunFutureUntilComplete(l, fut)
	fmt.Println(v, err)
	// Output: 42 <nil>
}

// Rounds of RunForever: each run ends at the end of the iteration that
// called Stop; what that iteration scheduled runs in the next run, or,
// after the last, in Close's teardown.
func ExampleLoop_RunForever() {
	l := asynciotest.NewLoop()
	defer l.Close()
	loop := l.Loop()

	for round := 1; round <= 3; round++ {
		loop.CallSoon(func(context.Context) {
			fmt.Println("round", round)
			loop.Stop()
			loop.CallSoon(func(context.Context) { fmt.Println("after round", round) })
		})
		if err := l.RunForever(); err != nil {
			fmt.Println(err)
		}
	}
	// Output:
	// round 1
	// after round 1
	// round 2
	// after round 2
	// round 3
	// after round 3
}

// Close cancels the tasks left; their cleanup runs, and may still await.
func ExampleLoop_Close() {
	l := asynciotest.NewLoop()
	asyncio.CreateTask(l.Ctx(), func(ctx context.Context) (int, error) {
		err := asyncio.Sleep(ctx, time.Hour)
		fmt.Println("sleep:", err)
		if err := asyncio.Sleep(ctx, time.Millisecond); err == nil {
			fmt.Println("cleaned up")
		}
		return 0, err
	})
	fmt.Println("close:", l.Close())
	// Output:
	// sleep: asyncio: cancelled
	// cleaned up
	// close: <nil>
}
