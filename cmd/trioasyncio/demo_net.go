package main

import (
	"context"

	"net"
	"strings"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

// upperProto is an asyncio Protocol (callbacks on the loop): it answers
// each line with the line in capitals.
type upperProto struct {
	asyncio.ProtocolBase
	t   asyncio.Transport
	buf []byte
}

func (p *upperProto) ConnectionMade(t asyncio.Transport) { p.t = t }

func (p *upperProto) DataReceived(data []byte) {
	p.buf = append(p.buf, data...)
	for {
		i := strings.IndexByte(string(p.buf), '\n')
		if i < 0 {
			return
		}
		p.t.Write([]byte(strings.ToUpper(string(p.buf[:i+1]))))
		p.buf = p.buf[i+1:]
	}
}

// demoProtocolServer serves trio clients from an asyncio Protocol server,
// over real TCP, on a loop opened inside the block.
func demoProtocolServer(ctx context.Context, say func(string, ...any)) error {
	return asyncio.OpenLoop(ctx, func(ctx context.Context, loop *asyncio.Loop) error {
		srv, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (*asyncio.Server, error) {
			return asyncio.CreateServer(ctx, func() *upperProto { return &upperProto{} }, "127.0.0.1", 0, nil)
		})
		if err != nil {
			return err
		}
		port := srv.Sockets()[0].(*net.TCPAddr).Port
		say("an asyncio Protocol server listens on port %d", port)
		return trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
			for _, name := range []string{"ann", "bob", "cy"} {
				n.StartSoon(func(ctx context.Context) error {
					s, err := trio.OpenTCPStream(ctx, "127.0.0.1", port)
					if err != nil {
						return err
					}
					defer s.Close()
					if err := s.SendAll(ctx, []byte("hello from "+name+"\n")); err != nil {
						return err
					}
					reply, err := s.ReceiveSome(ctx, 0)
					say("trio client %s got %q", name, strings.TrimSpace(string(reply)))
					return err
				})
			}
			return nil
		})
	})
}

// demoStreamCancel cancels an asyncio stream read from trio code, by a
// deadline, mid-flight; the bytes that arrive later are not lost.
func demoStreamCancel(ctx context.Context, say func(string, ...any)) error {
	return asyncio.OpenLoop(ctx, func(ctx context.Context, loop *asyncio.Loop) error {
		// A server that sends half a record, then, much later, the rest.
		srv, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (*asyncio.Server, error) {
			return asyncio.StartServer(ctx, func(ctx context.Context, r *asyncio.StreamReader, w *asyncio.StreamWriter) error {
				w.Write([]byte("half a rec"))
				asyncio.Sleep(ctx, 300*time.Millisecond)
				w.Write([]byte("ord\n"))
				w.Close()
				return w.WaitClosed(ctx)
			}, "127.0.0.1", 0, nil)
		})
		if err != nil {
			return err
		}
		port := srv.Sockets()[0].(*net.TCPAddr).Port
		type conn struct {
			r *asyncio.StreamReader
			w *asyncio.StreamWriter
		}
		c, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (conn, error) {
			r, w, err := asyncio.OpenConnection(ctx, "127.0.0.1", port, nil)
			return conn{r, w}, err
		})
		if err != nil {
			return err
		}
		movedOn, err := trio.MoveOnAfter(ctx, 100*time.Millisecond, func(ctx context.Context) error {
			_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) ([]byte, error) {
				line, err := c.r.ReadLine(ctx)
				say("the asyncio read is cancelled mid-line: %v", err)
				return line, err
			})
			return err
		})
		say("the trio deadline moved on: %v (err %v); the partial line stays buffered", movedOn, err)
		line, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) ([]byte, error) {
			defer c.w.Close()
			return c.r.ReadLine(ctx)
		})
		say("read again later: %q, %v: no byte lost", line, err)
		return err
	})
}
