// Tothread calls a blocking Go library from asyncio code without
// stalling the loop: ToThread runs the call on a goroutine of the loop's
// executor while the loop keeps serving other tasks (a ticker here), and
// the call's ctx is cancelled if the awaiting task is.
//
//	go run ./examples/tothread
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

func main() {
	if err := trio.Run(func(ctx context.Context) error { return run(ctx, os.Stdout) }); err != nil {
		log.Fatal(err)
	}
}

// slowLookup stands for a blocking library call (a database driver, a
// cgo library…): it honours ctx, as Go code should.
func slowLookup(ctx context.Context, key string) (string, error) {
	select {
	case <-time.After(60 * time.Millisecond):
		return "value of " + key, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func run(ctx context.Context, out io.Writer) error {
	_, err := asyncio.Run(ctx, func(ctx context.Context) (struct{}, error) {
		ticks := 0
		ticker := asyncio.CreateTask(ctx, asyncio.NoResult(func(ctx context.Context) error {
			for {
				if err := asyncio.Sleep(ctx, 10*time.Millisecond); err != nil {
					return err
				}
				ticks++
			}
		}))
		v, err := asyncio.ToThread(ctx, func(ctx context.Context) (string, error) { return slowLookup(ctx, "k") })
		fmt.Fprintf(out, "lookup: %q, %v; the loop ticked %d times meanwhile\n", v, err, min(ticks, 3))
		ticker.Cancel()
		return struct{}{}, err
	})
	return err
}
