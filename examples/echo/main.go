// Echo is a TCP echo server and three clients in one structured program:
// the server reports its address through trio.Start, the clients run in a
// nursery, and when they are done the whole tree is cancelled and every
// goroutine, listener and connection is gone before main returns.
//
//	go run ./examples/echo
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"

	"github.com/trioasyncio/trioasyncio/trio"
)

func main() {
	if err := trio.Run(run); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	return trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
		listeners, err := trio.Start(ctx, n, func(ctx context.Context, started func([]net.Listener)) error {
			return trio.ServeTCP(ctx, echo, "127.0.0.1", 0, started)
		})
		if err != nil {
			return err
		}
		addr := listeners[0].Addr().(*net.TCPAddr)
		err = trio.OpenNursery(ctx, func(ctx context.Context, clients *trio.Nursery) error {
			for i := range 3 {
				clients.StartSoon(func(ctx context.Context) error { return client(ctx, addr.Port, i) })
			}
			return nil
		})
		n.CancelScope().Cancel() // stop the server; OpenNursery waits for it
		return err
	})
}

// echo sends back whatever it receives until the peer closes its side.
func echo(ctx context.Context, s *trio.SocketStream) error {
	for {
		data, err := s.ReceiveSome(ctx, 0)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.SendAll(ctx, data); err != nil {
			return err
		}
	}
}

func client(ctx context.Context, port, i int) error {
	s, err := trio.OpenTCPStream(ctx, "127.0.0.1", port)
	if err != nil {
		return err
	}
	defer s.Close()
	msg := fmt.Sprintf("hello from client %d", i)
	if err := s.SendAll(ctx, []byte(msg)); err != nil {
		return err
	}
	if err := s.SendEOF(ctx); err != nil {
		return err
	}
	var got []byte
	for {
		data, err := s.ReceiveSome(ctx, 0)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		got = append(got, data...)
	}
	fmt.Printf("client %d got %q back\n", i, got)
	return nil
}
