// Shutdown serves until SIGINT or SIGTERM, then shuts down gracefully:
// trio.Run turns the signal into the cancellation of main's ctx; the
// OpenLoop body sees it, stops accepting, and, in a shielded scope with a
// deadline of its own, lets the requests in flight finish before the
// block closes the loop.
//
//	go run ./examples/shutdown     # then press Ctrl-C
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

func main() {
	err := trio.Run(func(ctx context.Context) error { return run(ctx, os.Stdout, nil) })
	if err != nil && !trio.IsCancellation(err) {
		log.Fatal(err)
	}
	fmt.Println("bye")
}

// run serves until ctx is cancelled; ready, if not nil, gets the port once
// the server listens.
func run(ctx context.Context, out io.Writer, ready chan<- int) error {
	return asyncio.OpenLoop(ctx, func(ctx context.Context, loop *asyncio.Loop) error {
		srv, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (*asyncio.Server, error) {
			return asyncio.StartServer(ctx, func(ctx context.Context, r *asyncio.StreamReader, w *asyncio.StreamWriter) error {
				defer w.Close()
				if _, err := r.ReadLine(ctx); err != nil {
					return err
				}
				w.Write([]byte("working\n"))
				asyncio.Sleep(ctx, 100*time.Millisecond) // a request that takes a while
				w.Write([]byte("done\n"))
				return w.Drain(ctx)
			}, "127.0.0.1", 0, nil)
		})
		if err != nil {
			return err
		}
		port := srv.Sockets()[0].(*net.TCPAddr).Port
		fmt.Fprintf(out, "serving on 127.0.0.1:%d; interrupt to stop\n", port)
		if ready != nil {
			ready <- port
		}
		<-ctx.Done() // SIGINT or SIGTERM, through trio.Run
		fmt.Fprintln(out, "interrupted: no new connections; finishing the requests in flight")
		var grace trio.CancelScope
		grace.SetShield(true) // the surroundings are cancelled; this cleanup is not
		grace.SetDeadline(time.Now().Add(5 * time.Second))
		grace.Run(ctx, func(ctx context.Context) error {
			_, err := asyncio.RunAsyncio(ctx, asyncio.NoResult(func(actx context.Context) error {
				srv.Close()
				return srv.WaitClosed(actx)
			}))
			return err
		})
		fmt.Fprintln(out, "every request answered; closing the loop")
		return ctx.Err()
	})
}
