// Aioecho is an asyncio echo server written both ways asyncio offers — as
// a Protocol (callbacks) and over streams (a coroutine per connection) —
// on a loop opened inside a trio block, serving trio clients over TCP.
// When the clients are done the block ends, and the servers, their
// connections and the loop with them.
//
//	go run ./examples/aioecho            # both styles
//	go run ./examples/aioecho -style streams
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

func main() {
	style := flag.String("style", "both", "protocol, streams or both")
	clients := flag.Int("clients", 3, "how many trio clients per server")
	flag.Parse()
	if err := trio.Run(func(ctx context.Context) error { return run(ctx, os.Stdout, *style, *clients) }); err != nil {
		log.Fatal(err)
	}
}

// echoProtocol is the Protocol style: callbacks on the loop.
type echoProtocol struct {
	asyncio.ProtocolBase
	t asyncio.Transport
}

func (p *echoProtocol) ConnectionMade(t asyncio.Transport) { p.t = t }
func (p *echoProtocol) DataReceived(data []byte)           { p.t.Write(data) }
func (p *echoProtocol) EOFReceived() bool                  { return false } // close when the client does

// echoStreams is the streams style: one coroutine per connection.
func echoStreams(ctx context.Context, r *asyncio.StreamReader, w *asyncio.StreamWriter) error {
	defer w.Close()
	for {
		data, err := r.Read(ctx, 64<<10)
		if err != nil || len(data) == 0 { // EOF
			return err
		}
		w.Write(data)
		if err := w.Drain(ctx); err != nil { // respect the peer's pace
			return err
		}
	}
}

func run(ctx context.Context, out io.Writer, style string, clients int) error {
	return asyncio.OpenLoop(ctx, func(ctx context.Context, loop *asyncio.Loop) error {
		for _, s := range []string{"protocol", "streams"} {
			if style != "both" && style != s {
				continue
			}
			srv, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (*asyncio.Server, error) {
				if s == "protocol" {
					return asyncio.CreateServer(ctx, func() *echoProtocol { return &echoProtocol{} }, "127.0.0.1", 0, nil)
				}
				return asyncio.StartServer(ctx, echoStreams, "127.0.0.1", 0, nil)
			})
			if err != nil {
				return err
			}
			port := srv.Sockets()[0].(*net.TCPAddr).Port
			err = trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
				for i := range clients {
					n.StartSoon(func(ctx context.Context) error { return client(ctx, port, fmt.Sprintf("%s client %d", s, i)) })
				}
				return nil
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "%s server: %d clients echoed\n", s, clients)
		}
		return nil // the servers close with the block
	})
}

// client is trio code: it sends a message, reads it back, closes.
func client(ctx context.Context, port int, msg string) error {
	s, err := trio.OpenTCPStream(ctx, "127.0.0.1", port)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.SendAll(ctx, []byte(msg)); err != nil {
		return err
	}
	if err := s.SendEOF(ctx); err != nil {
		return err
	}
	var got []byte
	for {
		b, err := s.ReceiveSome(ctx, 0)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		got = append(got, b...)
	}
	if string(got) != msg {
		return fmt.Errorf("%s: got back %q", msg, got)
	}
	return nil
}
