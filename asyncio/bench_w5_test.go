//go:build linux

package asyncio_test

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

// W5 (BENCH.md): 50 clients × round trips of 64 bytes against an echo
// server, all connected before timing, TCP_NODELAY on both ends. One op =
// one round trip; b.N round trips are spread over the 50 clients. Run as
//
//	go test -run '^$' -bench W5 -benchtime 100000x ./asyncio/
//
// (100,000 round trips = 50 × 2,000, BENCH.md's W5 exactly).

const (
	w5Clients = 50
	w5Size    = 64
)

var w5Msg = make([]byte, w5Size)

// w5Client writes 64 bytes and, whenever 64 have come back, the next.
type w5Client struct {
	asyncio.ProtocolBase
	tr        asyncio.Transport
	got       int
	remaining int
	done      func()
}

func (c *w5Client) ConnectionMade(t asyncio.Transport) { c.tr = t }
func (c *w5Client) DataReceived(b []byte) {
	c.got += len(b)
	for c.got >= w5Size {
		c.got -= w5Size
		c.remaining--
		if c.remaining > 0 {
			c.tr.Write(w5Msg)
		} else if c.remaining == 0 {
			c.done()
		}
	}
}

func w5Split(n int) []int {
	per := make([]int, w5Clients)
	for i := range per {
		per[i] = n / w5Clients
		if i < n%w5Clients {
			per[i]++
		}
	}
	return per
}

// w5Protocols runs the protocol workload on the loop of ctx: clients
// connect to port; the timer runs from the first write to the last echo.
func w5Protocols(ctx context.Context, b *testing.B, port int, rounds []int, begin, end func()) error {
	loop, _ := asyncio.GetRunningLoop(ctx)
	clients := make([]*w5Client, len(rounds))
	all := asyncio.NewFuture[struct{}](loop)
	left := 0
	for i := range clients {
		c := &w5Client{remaining: rounds[i]}
		c.done = func() {
			left--
			if left == 0 {
				all.SetResult(struct{}{})
			}
		}
		if rounds[i] > 0 {
			left++
		}
		if _, _, err := asyncio.CreateConnection(ctx, func() *w5Client { return c }, "127.0.0.1", port, nil); err != nil {
			return err
		}
		clients[i] = c
	}
	begin()
	for _, c := range clients {
		if c.remaining > 0 {
			c.tr.Write(w5Msg)
		}
	}
	if left > 0 {
		if _, err := asyncio.Await(ctx, all); err != nil {
			return err
		}
	}
	end()
	for _, c := range clients {
		c.tr.Close()
	}
	return nil
}

func reportRT(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rt/s")
}

func BenchmarkW5Echo(b *testing.B) {
	b.Run("protocols", func(b *testing.B) {
		b.ReportAllocs()
		_, err := asyncio.Run(context.Background(), func(ctx context.Context) (int, error) {
			srv, err := asyncio.CreateServer(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", 0, nil)
			if err != nil {
				return 0, err
			}
			defer srv.Close()
			return 0, w5Protocols(ctx, b, mustAddr(b, srv).Port, w5Split(b.N), b.ResetTimer, b.StopTimer)
		})
		if err != nil {
			b.Fatal(err)
		}
		reportRT(b)
	})

	b.Run("streams", func(b *testing.B) {
		b.ReportAllocs()
		_, err := asyncio.Run(context.Background(), func(ctx context.Context) (int, error) {
			srv, err := asyncio.StartServer(ctx, func(ctx context.Context, r *asyncio.StreamReader, w *asyncio.StreamWriter) error {
				for {
					msg, err := r.Read(ctx, 4096)
					if err != nil || len(msg) == 0 {
						w.Close()
						return err
					}
					w.Write(msg)
					if err := w.Drain(ctx); err != nil {
						return err
					}
				}
			}, "127.0.0.1", 0, nil)
			if err != nil {
				return 0, err
			}
			defer srv.Close()
			port := mustAddr(b, srv).Port
			type rw struct {
				r *asyncio.StreamReader
				w *asyncio.StreamWriter
			}
			conns := make([]rw, w5Clients)
			for i := range conns {
				r, w, err := asyncio.OpenConnection(ctx, "127.0.0.1", port, nil)
				if err != nil {
					return 0, err
				}
				conns[i] = rw{r, w}
			}
			rounds := w5Split(b.N)
			b.ResetTimer()
			tasks := make([]*asyncio.Task[int], len(conns))
			for i, c := range conns {
				n := rounds[i]
				tasks[i] = asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
					for j := 0; j < n; j++ {
						c.w.Write(w5Msg)
						if err := c.w.Drain(ctx); err != nil {
							return j, err
						}
						if _, err := c.r.ReadExactly(ctx, w5Size); err != nil {
							return j, err
						}
					}
					return n, nil
				})
			}
			for _, t := range tasks {
				if _, err := asyncio.Await(ctx, t); err != nil {
					return 0, err
				}
			}
			b.StopTimer()
			for _, c := range conns {
				c.w.Close()
			}
			return 0, nil
		})
		if err != nil {
			b.Fatal(err)
		}
		reportRT(b)
	})

	b.Run("goroutine-net", func(b *testing.B) {
		b.ReportAllocs()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer c.Close()
					buf := make([]byte, 4096)
					for {
						n, err := c.Read(buf)
						if err != nil {
							return
						}
						if _, err := c.Write(buf[:n]); err != nil {
							return
						}
					}
				}()
			}
		}()
		conns := make([]net.Conn, w5Clients)
		for i := range conns {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			conns[i] = c
		}
		rounds := w5Split(b.N)
		b.ResetTimer()
		var cw sync.WaitGroup
		for i, c := range conns {
			cw.Add(1)
			go func() {
				defer cw.Done()
				buf := make([]byte, w5Size)
				for j := 0; j < rounds[i]; j++ {
					c.Write(w5Msg)
					if _, err := io.ReadFull(c, buf); err != nil {
						return
					}
				}
			}()
		}
		cw.Wait()
		b.StopTimer()
		for _, c := range conns {
			c.Close()
		}
		ln.Close()
		wg.Wait()
		reportRT(b)
	})

	b.Run("protocols-2-reuseport-loops", func(b *testing.B) {
		b.ReportAllocs()
		// Two loops, each with a reuse-port server on one port and half of
		// the clients; the kernel spreads the connections over the two
		// listening sockets.
		ready := make(chan int, 1)
		var connected, finished sync.WaitGroup
		connected.Add(2)
		finished.Add(2)
		goCh := make(chan struct{})
		rounds := w5Split(b.N)
		halves := [][]int{rounds[:w5Clients/2], rounds[w5Clients/2:]}
		err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
			n.StartSoon(func(ctx context.Context) error {
				connected.Wait()
				b.ResetTimer()
				close(goCh)
				finished.Wait()
				b.StopTimer()
				return nil
			})
			for i := 0; i < 2; i++ {
				n.StartSoon(func(ctx context.Context) error {
					return asyncio.OpenLoop(ctx, func(ctx context.Context, loop *asyncio.Loop) error {
						_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
							p := 0
							if i == 1 {
								p = <-ready
							}
							srv, err := asyncio.CreateServer(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", p,
								&asyncio.ServerOptions{ReusePort: true})
							if err != nil {
								return 0, err
							}
							defer srv.Close()
							if i == 0 {
								ready <- mustAddr(b, srv).Port
							}
							// Wait for the other loop off this one: its clients may be
							// served by this loop's server.
							wait := func(fn func()) {
								asyncio.Await(ctx, asyncio.RunTrio(ctx, func(context.Context) (int, error) { fn(); return 0, nil }))
							}
							err = w5Protocols(ctx, b, mustAddr(b, srv).Port, halves[i],
								func() { connected.Done(); wait(func() { <-goCh }) }, finished.Done)
							wait(finished.Wait)
							return 0, err
						})
						return err
					})
				})
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		reportRT(b)
	})
}
