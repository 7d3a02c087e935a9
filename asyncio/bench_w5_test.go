//go:build unix

package asyncio_test

import (
	"context"
	"io"
	"net"
	"testing"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/internal/workloads"
)

// W5, the network echo: 50 clients × round trips of 64 bytes against an echo
// server, all connected before timing, TCP_NODELAY on both ends. One op =
// one round trip; b.N round trips are spread over the 50 clients; rt/s is
// round trips per second. The bodies live in internal/workloads, which
// the bench command (go run ./cmd/trioasyncio bench) runs too. Run as
//
//	go test -run '^$' -bench W5 -benchtime 100000x ./asyncio/
//
// (100,000 round trips = 50 × 2,000: the reference size).
func BenchmarkW5Echo(b *testing.B) {
	// Both sides Protocols on one loop.
	b.Run("protocols", func(b *testing.B) { bench(b, workloads.W5EchoProtocols) })
	// Both sides streams on one loop.
	b.Run("streams", func(b *testing.B) { bench(b, workloads.W5EchoStreams) })
	// The Go floor: a goroutine per connection on each side.
	b.Run("goroutine-net", func(b *testing.B) { bench(b, workloads.W5FloorGoroutineNet) })
	// The same floor with GOMAXPROCS 1 (restored after): one core's worth
	// of work, as the loop's Protocols have.
	b.Run("goroutine-net-1P", func(b *testing.B) { bench(b, workloads.W5FloorGoroutineNet1P) })
	// Protocols on two loops behind one reuse-port server.
	b.Run("protocols-2-reuseport-loops", func(b *testing.B) { bench(b, workloads.W5EchoProtocols2Loops) })
}

// sinkProto counts what it receives, and finishes at want bytes.
type sinkProto struct {
	asyncio.ProtocolBase
	got, want int64
	done      func()
}

func (p *sinkProto) DataReceived(b []byte) {
	p.got += int64(len(b))
	if p.got == p.want {
		p.done()
	}
}

// pumpProto writes total bytes in chunks, under the transport's flow
// control.
type pumpProto struct {
	asyncio.ProtocolBase
	t      asyncio.Transport
	left   int64
	paused bool
}

var pumpChunk = make([]byte, 256<<10)

func (p *pumpProto) ConnectionMade(t asyncio.Transport) { p.t = t }
func (p *pumpProto) pump() {
	for p.left > 0 && !p.paused {
		n := min(p.left, int64(len(pumpChunk)))
		p.t.Write(pumpChunk[:n])
		p.left -= n
	}
}
func (p *pumpProto) PauseWriting()  { p.paused = true }
func (p *pumpProto) ResumeWriting() { p.paused = false; p.pump() }

// One connection streaming 1 GiB per op, on one loop (both ends), beside
// io.Copy over net.TCPConn. Run as
//
//	go test -run '^$' -bench Throughput -benchtime 3x ./asyncio/
func BenchmarkThroughput(b *testing.B) {
	const total = 1 << 30
	b.Run("protocols", func(b *testing.B) {
		b.SetBytes(total)
		_, err := runMain(b, func(ctx context.Context) (int, error) {
			loop, _ := asyncio.GetRunningLoop(ctx)
			var sink *sinkProto
			var done *asyncio.Future[struct{}]
			srv, err := asyncio.CreateServer(ctx, func() *sinkProto {
				sink = &sinkProto{want: total, done: func() { done.SetResult(struct{}{}) }}
				return sink
			}, "127.0.0.1", 0, nil)
			if err != nil {
				return 0, err
			}
			defer srv.Close()
			tr, p, err := asyncio.CreateConnection(ctx, func() *pumpProto { return &pumpProto{} }, "127.0.0.1", mustAddr(b, srv).Port, nil)
			if err != nil {
				return 0, err
			}
			asyncio.Sleep(ctx, 0)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				done = asyncio.NewFuture[struct{}](loop)
				sink.got = 0
				p.left = total
				p.pump()
				if _, err := asyncio.Await(ctx, done); err != nil {
					return 0, err
				}
			}
			b.StopTimer()
			tr.Close()
			return 0, nil
		})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(total)*float64(b.N)/b.Elapsed().Seconds()/(1<<30), "GiB/s")
	})
	b.Run("io.Copy-net", func(b *testing.B) {
		b.SetBytes(total)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer ln.Close()
		got := make(chan int64)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			buf := make([]byte, 256<<10)
			var n int64
			for {
				k, err := c.Read(buf)
				n += int64(k)
				if n >= total {
					got <- n
					n -= total
				}
				if err != nil {
					return
				}
			}
		}()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			io.Copy(c, io.LimitReader(zeroReader{}, total))
			<-got
		}
		b.StopTimer()
		c.Close()
		b.ReportMetric(float64(total)*float64(b.N)/b.Elapsed().Seconds()/(1<<30), "GiB/s")
	})
}

type zeroReader struct{}

func (zeroReader) Read(b []byte) (int, error) { clear(b); return len(b), nil }
