package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/trioasyncio/trioasyncio/trio"
)

// A scene is one part of the demo.
type scene struct {
	name, title string
	run         func(ctx context.Context, say func(string, ...any)) error
}

// scenes are the demo's parts, in the order the full demo runs them.
var scenes = []scene{
	{"workers", "a nursery of workers: the block returns when the last one does", demoWorkers},
	{"deadline", "a deadline cancels the workers still running, and its scope absorbs it", demoDeadline},
	{"shield", "a shielded cleanup finishes even though its surroundings are cancelled", demoShield},
	{"failure", "a failing child cancels its siblings; the nursery returns the failure", demoFailure},
	{"loop", "an asyncio loop inside a block: trio and asyncio code call each other", demoLoop},
	{"cancel", "a trio deadline cancels asyncio code across the boundary, exactly once", demoCrossCancel},
	{"teardown", "when the block ends, everything the loop started ends with it", demoTeardown},
	{"server", "an asyncio Protocol server serves trio clients over real TCP", demoProtocolServer},
	{"stream-cancel", "a trio deadline cancels an asyncio stream read mid-flight; no byte is lost", demoStreamCancel},
	{"two-loops", "two loops side by side: one torn down while the other keeps serving", demoTwoLoops},
	{"js", "JavaScript on the loop: a timer, and a promise settled by Go code", demoJS},
}

// demo walks through structured concurrency in a few seconds, printing
// what happens and when, relative to the start of each part: every scene,
// or those named.
func demo(ctx context.Context, w io.Writer, names ...string) error {
	run := scenes
	if len(names) > 0 {
		run = nil
		for _, name := range names {
			i := slices.IndexFunc(scenes, func(s scene) bool { return s.name == name })
			if i < 0 {
				return fmt.Errorf("demo: no scene %q (go run ./cmd/trioasyncio demo -h lists them)", name)
			}
			run = append(run, scenes[i])
		}
	}
	time.Sleep(time.Millisecond) // the runtime opens its poller's descriptors with the first timer
	goroutines, fds := runtime.NumGoroutine(), openFDs()
	for _, part := range run {
		fmt.Fprintf(w, "\n== %s\n", part.title)
		start := time.Now()
		var mu sync.Mutex
		say := func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(w, "  %5.2fs  %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
		}
		if err := part.run(ctx, say); err != nil {
			return err
		}
	}
	// Goroutines that have returned may take a moment to be counted out.
	for deadline := time.Now().Add(time.Second); runtime.NumGoroutine() > goroutines && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Fprintf(w, "\n== nothing outlived its block: goroutines %d before, %d after; open files %s before, %s after\n",
		goroutines, runtime.NumGoroutine(), fds, openFDs())
	return nil
}

// openFDs counts the process's open file descriptors, where the system
// shows them (/proc/self/fd, /dev/fd).
func openFDs() string {
	for _, dir := range []string{"/proc/self/fd", "/dev/fd"} {
		if es, err := os.ReadDir(dir); err == nil {
			return strconv.Itoa(len(es) - 1) // less the one reading the directory
		}
	}
	return "?"
}

func worker(say func(string, ...any), name string, d time.Duration) func(context.Context) error {
	return func(ctx context.Context) error {
		say("%s starts, needs %v", name, d)
		if err := trio.Sleep(ctx, d); err != nil {
			say("%s cancelled: %v", name, err)
			return err
		}
		say("%s done", name)
		return nil
	}
}

func demoWorkers(ctx context.Context, say func(string, ...any)) error {
	err := trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
		n.StartSoon(worker(say, "worker A", 300*time.Millisecond))
		n.StartSoon(worker(say, "worker B", 100*time.Millisecond))
		n.StartSoon(worker(say, "worker C", 200*time.Millisecond))
		return nil
	})
	say("nursery returned %v", err)
	return err
}

func demoDeadline(ctx context.Context, say func(string, ...any)) error {
	movedOn, err := trio.MoveOnAfter(ctx, 250*time.Millisecond, func(ctx context.Context) error {
		return trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
			n.StartSoon(worker(say, "fast", 100*time.Millisecond))
			n.StartSoon(worker(say, "slow", time.Second))
			n.StartSoon(worker(say, "slower", 2*time.Second))
			return nil
		})
	})
	say("MoveOnAfter(250ms) returned movedOn=%v err=%v", movedOn, err)
	return err
}

func demoShield(ctx context.Context, say func(string, ...any)) error {
	var scope trio.CancelScope
	scope.SetDeadline(time.Now().Add(100 * time.Millisecond))
	err := scope.Run(ctx, func(ctx context.Context) error {
		err := trio.SleepForever(ctx)
		say("work cancelled by the deadline: %v", err)
		var cleanup trio.CancelScope
		cleanup.SetShield(true)
		cleanup.Run(ctx, func(ctx context.Context) error {
			say("cleanup starts (shielded), needs 200ms")
			if err := trio.Sleep(ctx, 200*time.Millisecond); err != nil {
				return err
			}
			say("cleanup done")
			return nil
		})
		return err
	})
	say("scope returned %v, CancelledCaught=%v", err, scope.CancelledCaught())
	return err
}

func demoFailure(ctx context.Context, say func(string, ...any)) error {
	errDisk := errors.New("disk full")
	err := trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
		n.StartSoon(worker(say, "uploader", time.Second))
		n.StartSoon(worker(say, "indexer", time.Second))
		n.StartSoon(func(ctx context.Context) error {
			trio.Sleep(ctx, 150*time.Millisecond)
			say("writer fails: %v", errDisk)
			return errDisk
		})
		return nil
	})
	say("nursery returned %q; errors.Is(err, errDisk) = %v", err, errors.Is(err, errDisk))
	if !errors.Is(err, errDisk) {
		return fmt.Errorf("demo: want the writer's failure, got %v", err)
	}
	return nil
}
