package workloads

import (
	"context"
	"io"
	"net"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

// W5: 50 clients make round trips of 64 bytes against an echo server on
// 127.0.0.1, all connected before timing, TCP_NODELAY on both ends (the
// default of Go's and the loop's TCP). n round trips are spread over the
// 50 clients (n = 100,000 is 2,000 each). One op = one round trip; each
// reports rt/s, round trips per second. The loop's network I/O runs on
// Linux, macOS and the BSDs; on Windows the loop variants fail with
// asyncio.ErrNotSupported.

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

// w5Echo is the server's protocol: it writes back whatever a read returns.
type w5Echo struct {
	asyncio.ProtocolBase
	tr asyncio.Transport
}

func (p *w5Echo) ConnectionMade(t asyncio.Transport) { p.tr = t }
func (p *w5Echo) DataReceived(b []byte)              { p.tr.Write(b) }

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

func w5Port(s *asyncio.Server) int { return s.Sockets()[0].(*net.TCPAddr).Port }

// w5Protocols runs the protocol clients on the loop of ctx: they connect
// to port; begin and end bracket the time from the first write to the
// last echo.
func w5Protocols(ctx context.Context, port int, rounds []int, begin, end func()) error {
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

// rtTimer wraps a Timer to report rt/s over the region it marks.
type rtTimer struct {
	Timer
	mu         sync.Mutex
	start, end time.Time
}

func (t *rtTimer) ResetTimer() {
	// W5 is bound by system calls and sensitive to any background work
	// of the runtime: return what earlier workloads freed (W4's 100,000
	// stacks) now, rather than have the scavenger do it during the timed
	// region (in the bench command's full run, 74,000 rt/s instead of
	// 88,000).
	debug.FreeOSMemory()
	t.Timer.ResetTimer()
	t.mu.Lock()
	t.start = time.Now()
	t.mu.Unlock()
}

func (t *rtTimer) StopTimer() {
	t.mu.Lock()
	t.end = time.Now()
	t.mu.Unlock()
	t.Timer.StopTimer()
}

func (t *rtTimer) report(n int) {
	t.mu.Lock()
	d := t.end.Sub(t.start)
	t.mu.Unlock()
	if d > 0 {
		t.ReportMetric(float64(n)/d.Seconds(), "rt/s")
	}
}

// W5EchoProtocols is W5 with both sides Protocols on one loop (callbacks,
// not streams).
func W5EchoProtocols(t Timer, n int) error {
	rt := &rtTimer{Timer: t}
	_, err := asyncio.Run(context.Background(), func(ctx context.Context) (int, error) {
		srv, err := asyncio.CreateServer(ctx, func() *w5Echo { return &w5Echo{} }, "127.0.0.1", 0, nil)
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		return 0, w5Protocols(ctx, w5Port(srv), w5Split(n), rt.ResetTimer, rt.StopTimer)
	})
	rt.report(n)
	return err
}

// W5EchoStreams is W5 with both sides streams on one loop: a server
// coroutine per connection reads and writes back, a task per client
// writes and reads exactly 64 bytes.
func W5EchoStreams(t Timer, n int) error {
	rt := &rtTimer{Timer: t}
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
		port := w5Port(srv)
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
		rounds := w5Split(n)
		rt.ResetTimer()
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
		rt.StopTimer()
		for _, c := range conns {
			c.w.Close()
		}
		return 0, nil
	})
	rt.report(n)
	return err
}

// W5FloorGoroutineNet1P is W5FloorGoroutineNet with GOMAXPROCS 1, restored
// after: the goroutine echo on one core's worth of work, the floor the
// loop's Protocols (one goroutine doing all the work) are held to.
func W5FloorGoroutineNet1P(t Timer, n int) error {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	return W5FloorGoroutineNet(t, n)
}

// W5FloorGoroutineNet is W5's Go floor: a net echo server with a goroutine
// per connection, and a goroutine per client.
func W5FloorGoroutineNet(t Timer, n int) error {
	rt := &rtTimer{Timer: t}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
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
	defer func() {
		ln.Close()
		wg.Wait()
	}()
	conns := make([]net.Conn, w5Clients)
	for i := range conns {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			for _, c := range conns[:i] {
				c.Close()
			}
			return err
		}
		conns[i] = c
	}
	rounds := w5Split(n)
	rt.ResetTimer()
	var cw sync.WaitGroup
	errs := make([]error, len(conns))
	for i, c := range conns {
		cw.Add(1)
		go func() {
			defer cw.Done()
			buf := make([]byte, w5Size)
			for j := 0; j < rounds[i]; j++ {
				c.Write(w5Msg)
				if _, err := io.ReadFull(c, buf); err != nil {
					errs[i] = err
					return
				}
			}
		}()
	}
	cw.Wait()
	rt.StopTimer()
	for _, c := range conns {
		c.Close()
	}
	rt.report(n)
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// W5EchoProtocols2Loops is W5 with Protocols on two loops, each with a
// reuse-port server on one port and half of the clients; the kernel
// spreads the connections over the two listening sockets.
func W5EchoProtocols2Loops(t Timer, n int) error {
	rt := &rtTimer{Timer: t}
	ready := make(chan int, 1)
	var connected, finished sync.WaitGroup
	connected.Add(2)
	finished.Add(2)
	goCh := make(chan struct{})
	rounds := w5Split(n)
	halves := [][]int{rounds[:w5Clients/2], rounds[w5Clients/2:]}
	err := trio.OpenNursery(context.Background(), func(ctx context.Context, nursery *trio.Nursery) error {
		nursery.StartSoon(func(ctx context.Context) error {
			connected.Wait()
			rt.ResetTimer()
			close(goCh)
			finished.Wait()
			rt.StopTimer()
			return nil
		})
		for i := 0; i < 2; i++ {
			nursery.StartSoon(func(ctx context.Context) error {
				return asyncio.OpenLoop(ctx, func(ctx context.Context, loop *asyncio.Loop) error {
					_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
						p := 0
						if i == 1 {
							p = <-ready
						}
						srv, err := asyncio.CreateServer(ctx, func() *w5Echo { return &w5Echo{} }, "127.0.0.1", p,
							&asyncio.ServerOptions{ReusePort: true})
						if err != nil {
							return 0, err
						}
						defer srv.Close()
						if i == 0 {
							ready <- w5Port(srv)
						}
						// Wait for the other loop off this one: its clients may be
						// served by this loop's server.
						wait := func(fn func()) {
							asyncio.Await(ctx, asyncio.RunTrio(ctx, func(context.Context) (int, error) { fn(); return 0, nil }))
						}
						err = w5Protocols(ctx, w5Port(srv), halves[i],
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
	rt.report(n)
	return err
}
