// Reuseport runs one asyncio loop per core behind one TCP port: each loop
// has its own server on the port (SO_REUSEPORT), the kernel spreads the
// connections among them, and all the loops live in one trio nursery, so
// cancelling it ends them all.
//
//	go run ./examples/reuseport -conns 200
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"runtime"
	"sync/atomic"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

func main() {
	conns := flag.Int("conns", 200, "how many client connections")
	flag.Parse()
	if err := trio.Run(func(ctx context.Context) error {
		return run(ctx, os.Stdout, max(2, runtime.NumCPU()), *conns)
	}); err != nil {
		log.Fatal(err)
	}
}

// serveLoop opens a loop with a server on port (0: pick one) and reports
// the port through started; it serves until ctx is cancelled.
func serveLoop(served *atomic.Int64, port int) func(ctx context.Context, started func(int)) error {
	return func(ctx context.Context, started func(int)) error {
		return asyncio.OpenLoop(ctx, func(ctx context.Context, loop *asyncio.Loop) error {
			srv, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (*asyncio.Server, error) {
				return asyncio.StartServer(ctx, func(ctx context.Context, r *asyncio.StreamReader, w *asyncio.StreamWriter) error {
					served.Add(1)
					w.Write([]byte("hi\n"))
					w.Close()
					return w.WaitClosed(ctx)
				}, "127.0.0.1", port, &asyncio.ServerOptions{ReusePort: true})
			})
			if err != nil {
				return err
			}
			started(srv.Sockets()[0].(*net.TCPAddr).Port)
			return trio.SleepForever(ctx)
		})
	}
}

func run(ctx context.Context, out io.Writer, loops, conns int) error {
	served := make([]atomic.Int64, loops)
	return trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
		port := 0
		for i := range loops {
			p, err := trio.Start(ctx, n, serveLoop(&served[i], port))
			if err != nil {
				return err
			}
			port = p // the first loop picks the port, the others join it
		}
		err := trio.OpenNursery(ctx, func(ctx context.Context, clients *trio.Nursery) error {
			for range conns {
				clients.StartSoon(func(ctx context.Context) error {
					s, err := trio.OpenTCPStream(ctx, "127.0.0.1", port)
					if err != nil {
						return err
					}
					defer s.Close()
					_, err = s.ReceiveSome(ctx, 0)
					return err
				})
			}
			return nil
		})
		total := int64(0)
		for i := range served {
			total += served[i].Load()
			fmt.Fprintf(out, "loop %d served %d connections\n", i, served[i].Load())
		}
		fmt.Fprintf(out, "%d loops served %d connections on port %d\n", loops, total, port)
		n.CancelScope().Cancel() // end the loops
		return err
	})
}
