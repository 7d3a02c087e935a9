package trio_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/trioasyncio/trioasyncio/trio"
)

// A cancelled ReceiveSome loses nothing: the stream stays usable.
func ExampleSocketStream() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	server, err := ln.Accept()
	ln.Close()
	if err != nil {
		fmt.Println(err)
		return
	}
	a := trio.NewSocketStream(client)
	defer a.Close()
	b := trio.NewSocketStream(server)
	defer b.Close()
	ctx := context.Background()

	// Nothing was sent yet: stop waiting after 10ms.
	movedOn, err := trio.MoveOnAfter(ctx, 10*time.Millisecond, func(ctx context.Context) error {
		_, err := b.ReceiveSome(ctx, 0)
		return err
	})
	fmt.Println("moved on:", movedOn, err)

	if err := a.SendAll(ctx, []byte("ping")); err != nil {
		fmt.Println(err)
		return
	}
	if err := a.SendEOF(ctx); err != nil { // half-close: b sees EOF after "ping"
		fmt.Println(err)
		return
	}
	var got []byte
	for {
		data, err := b.ReceiveSome(ctx, 0)
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		got = append(got, data...)
	}
	fmt.Printf("received %q, then EOF\n", got)
	// Output:
	// moved on: true <nil>
	// received "ping", then EOF
}

func ExampleOpenTCPStream() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port

	err = trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		// A server that greets one client and hangs up.
		n.StartSoon(func(ctx context.Context) error {
			conn, err := ln.Accept()
			if err != nil {
				return err
			}
			defer conn.Close()
			_, err = conn.Write([]byte("220 ready\r\n"))
			return err
		})

		s, err := trio.OpenTCPStream(ctx, "127.0.0.1", port)
		if err != nil {
			ln.Close() // or the server would wait for a client forever
			return err
		}
		defer s.Close()
		var got []byte
		for {
			data, err := s.ReceiveSome(ctx, 0)
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			got = append(got, data...)
		}
		fmt.Printf("%q\n", got)
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// "220 ready\r\n"
}

func ExampleServeTCP() {
	// echo sends back what it receives, until the client's EOF.
	echo := func(ctx context.Context, s *trio.SocketStream) error {
		for {
			data, err := s.ReceiveSome(ctx, 0)
			if err == io.EOF {
				return nil // ServeTCP closes s
			}
			if err != nil {
				return err
			}
			if err := s.SendAll(ctx, data); err != nil {
				return err
			}
		}
	}

	err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		// Start returns once the server listens, with its listener.
		ls, err := trio.Start(ctx, n, func(ctx context.Context, started func([]net.Listener)) error {
			return trio.ServeTCP(ctx, echo, "127.0.0.1", 0, started)
		})
		if err != nil {
			return err
		}
		port := ls[0].Addr().(*net.TCPAddr).Port

		s, err := trio.OpenTCPStream(ctx, "127.0.0.1", port)
		if err != nil {
			return err
		}
		defer s.Close()
		if err := s.SendAll(ctx, []byte("hello, trio")); err != nil {
			return err
		}
		if err := s.SendEOF(ctx); err != nil {
			return err
		}
		var got []byte
		for {
			data, err := s.ReceiveSome(ctx, 0)
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			got = append(got, data...)
		}
		fmt.Printf("echoed %q\n", got)

		n.CancelScope().Cancel() // stop the server
		return nil
	})
	fmt.Println("server stopped, err:", err)
	// Output:
	// echoed "hello, trio"
	// server stopped, err: <nil>
}
