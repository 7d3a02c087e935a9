//go:build unix

package asyncio_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// Figures of issue 9: spawn + wait per child beside os/exec; Communicate
// throughput through cat beside exec.Cmd with io.Copy; UDP datagrams per
// second on one loop beside a goroutine net.UDPConn loop. The Paired
// benchmarks alternate both ways within one run and report the ratio:
// read those on a shared machine. Run with
//
//	go test -run '^$' -bench 'Paired' -benchtime 4x ./asyncio/       (Communicate)
//	go test -run '^$' -bench 'SpawnWaitPaired|UDPEchoPaired' ./asyncio/

func BenchmarkSubprocessSpawnWait(b *testing.B) {
	b.Run("exec.Command.Run", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if err := exec.Command(trueBin).Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("loop", func(b *testing.B) {
		err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
			_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					p, err := asyncio.CreateSubprocessExec(ctx, nil, trueBin)
					if err != nil {
						return 0, err
					}
					if _, err := p.Wait(ctx); err != nil {
						return 0, err
					}
				}
				return 0, nil
			})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkSubprocessSpawnWaitPaired alternates the two ways in one run
// (one op = one child each way, in turn first), so that the load of a
// shared machine weighs on both alike; it reports each way's time per child and their
// ratio (target: loop/exec <= 1.2).
func BenchmarkSubprocessSpawnWaitPaired(b *testing.B) {
	var tExec, tLoop time.Duration
	err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			b.ResetTimer()
			runExec := func() error {
				t0 := time.Now()
				err := exec.Command(trueBin).Run()
				tExec += time.Since(t0)
				return err
			}
			runLoop := func() error {
				t0 := time.Now()
				p, err := asyncio.CreateSubprocessExec(ctx, nil, trueBin)
				if err == nil {
					_, err = p.Wait(ctx)
				}
				tLoop += time.Since(t0)
				return err
			}
			for i := 0; i < b.N; i++ {
				// Each way goes first every other time: what one child's
				// exit leaves the scheduler to do does not weigh on one
				// way only.
				first, second := runExec, runLoop
				if i%2 == 1 {
					first, second = runLoop, runExec
				}
				if err := first(); err != nil {
					return 0, err
				}
				if err := second(); err != nil {
					return 0, err
				}
			}
			return 0, nil
		})
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(tExec.Nanoseconds())/float64(b.N), "ns-exec/child")
	b.ReportMetric(float64(tLoop.Nanoseconds())/float64(b.N), "ns-loop/child")
	b.ReportMetric(float64(tLoop)/float64(tExec), "loop/exec")
}

const communicateSize = 256 << 20

func BenchmarkCommunicateCat(b *testing.B) {
	input := bytes.Repeat([]byte("0123456789abcdef"), communicateSize/16)
	b.Run("exec.Cmd+io.Copy", func(b *testing.B) {
		b.SetBytes(communicateSize)
		for i := 0; i < b.N; i++ {
			cmd := exec.Command("cat")
			in, _ := cmd.StdinPipe()
			out, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				in.Write(input)
				in.Close()
			}()
			var buf bytes.Buffer
			io.Copy(&buf, out)
			wg.Wait()
			if err := cmd.Wait(); err != nil || buf.Len() != communicateSize {
				b.Fatal(err, buf.Len())
			}
		}
	})
	b.Run("loop", func(b *testing.B) {
		b.SetBytes(communicateSize)
		err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
			_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					p, err := asyncio.CreateSubprocessExec(ctx, &asyncio.SubprocessOptions{Stdin: asyncio.StdioPipe, Stdout: asyncio.StdioPipe}, "cat")
					if err != nil {
						return 0, err
					}
					out, _, err := p.Communicate(ctx, input)
					if err != nil || len(out) != communicateSize {
						b.Error(err, len(out))
						return 0, err
					}
				}
				return 0, nil
			})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	})
}

// execCat pipes input through cat with exec.Cmd and io.Copy.
func execCat(b *testing.B, input []byte) {
	cmd := exec.Command("cat")
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		in.Write(input)
		in.Close()
	}()
	var buf bytes.Buffer
	io.Copy(&buf, out)
	wg.Wait()
	if err := cmd.Wait(); err != nil || buf.Len() != len(input) {
		b.Fatal(err, buf.Len())
	}
}

// BenchmarkCommunicateCatPaired alternates exec.Cmd+io.Copy and
// Process.Communicate, 256 MiB through cat each, and reports each way's
// throughput and their ratio (target: loop/exec >= 0.9).
func BenchmarkCommunicateCatPaired(b *testing.B) {
	input := bytes.Repeat([]byte("0123456789abcdef"), communicateSize/16)
	var tExec, tLoop time.Duration
	err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				execCat(b, input)
				t1 := time.Now()
				p, err := asyncio.CreateSubprocessExec(ctx, &asyncio.SubprocessOptions{Stdin: asyncio.StdioPipe, Stdout: asyncio.StdioPipe}, "cat")
				if err != nil {
					return 0, err
				}
				out, _, err := p.Communicate(ctx, input)
				if err != nil || len(out) != communicateSize {
					b.Error(err, len(out))
					return 0, err
				}
				tExec += t1.Sub(t0)
				tLoop += time.Since(t1)
			}
			return 0, nil
		})
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	mb := float64(communicateSize) * float64(b.N) / 1e6
	b.ReportMetric(mb/tExec.Seconds(), "MB/s-exec")
	b.ReportMetric(mb/tLoop.Seconds(), "MB/s-loop")
	b.ReportMetric(tExec.Seconds()/tLoop.Seconds(), "loop/exec")
}

// udpClients runs 4 clients doing n round trips in all against addr and
// reports datagrams per second (each round trip is two datagrams).
func udpClients(b *testing.B, addr string) {
	const clients = 4
	var wg sync.WaitGroup
	b.ResetTimer()
	t0 := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(n int) {
			defer wg.Done()
			conn, err := net.Dial("udp", addr)
			if err != nil {
				b.Error(err)
				return
			}
			defer conn.Close()
			msg := make([]byte, 64)
			buf := make([]byte, 256)
			for i := 0; i < n; i++ {
				conn.Write(msg)
				conn.SetReadDeadline(time.Now().Add(time.Second))
				if _, err := conn.Read(buf); err != nil {
					continue // lost: the next round trip goes on
				}
			}
		}(b.N/clients + 1)
	}
	wg.Wait()
	b.ReportMetric(float64(2*b.N)/time.Since(t0).Seconds(), "dgrams/s")
}

func BenchmarkUDPEcho(b *testing.B) {
	b.Run("goroutine-UDPConn", func(b *testing.B) {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			buf := make([]byte, 2048)
			for {
				n, addr, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				pc.WriteTo(buf[:n], addr)
			}
		}()
		udpClients(b, pc.LocalAddr().String())
		pc.Close()
		<-done
	})
	b.Run("loop", func(b *testing.B) {
		err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
			tr, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (asyncio.DatagramTransport, error) {
				tr, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *exampleUDPEchoRaw { return &exampleUDPEchoRaw{} },
					&asyncio.DatagramOptions{LocalAddr: "127.0.0.1:0"})
				return tr, err
			})
			if err != nil {
				return err
			}
			addr, _ := asyncio.RunSync(ctx, func(context.Context) (string, error) { return tr.GetExtraInfo("sockname").(net.Addr).String(), nil })
			udpClients(b, addr)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	})
}

// exampleUDPEchoRaw echoes each datagram as is.
type exampleUDPEchoRaw struct {
	asyncio.ProtocolBase
	t asyncio.DatagramTransport
}

func (e *exampleUDPEchoRaw) ConnectionMade(t asyncio.Transport) { e.t = t.(asyncio.DatagramTransport) }
func (e *exampleUDPEchoRaw) DatagramReceived(data []byte, addr net.Addr) {
	e.t.SendTo(data, addr)
}

// BenchmarkUDPEchoPaired runs both echo servers at once; each of 4
// clients alternates blocks of 200 round trips between them, each server
// first every other time (one op = one round trip each way), so the
// machine's load weighs on both alike. It
// reports each server's datagrams per second and their ratio (target:
// loop/goroutine >= 0.9).
func BenchmarkUDPEchoPaired(b *testing.B) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(buf[:n], addr)
		}
	}()
	defer func() { pc.Close(); <-done }()
	err = asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		loopAddr, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (string, error) {
			tr, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *exampleUDPEchoRaw { return &exampleUDPEchoRaw{} },
				&asyncio.DatagramOptions{LocalAddr: "127.0.0.1:0"})
			if err != nil {
				return "", err
			}
			return tr.GetExtraInfo("sockname").(net.Addr).String(), nil
		})
		if err != nil {
			return err
		}
		const clients, block = 4, 200
		var mu sync.Mutex
		var tG, tL time.Duration
		var wg sync.WaitGroup
		b.ResetTimer()
		for c := 0; c < clients; c++ {
			wg.Add(1)
			go func(n int) {
				defer wg.Done()
				var conns [2]net.Conn
				for i, a := range []string{pc.LocalAddr().String(), loopAddr} {
					conns[i], _ = net.Dial("udp", a)
					defer conns[i].Close()
				}
				msg, buf := make([]byte, 64), make([]byte, 256)
				var spent [2]time.Duration
				for done := 0; done < n; done += block {
					for j := range conns {
						// Each server goes first every other block.
						i := j ^ (done / block % 2)
						conn := conns[i]
						t0 := time.Now()
						for k := 0; k < block; k++ {
							conn.Write(msg)
							conn.SetReadDeadline(time.Now().Add(time.Second))
							conn.Read(buf)
						}
						spent[i] += time.Since(t0)
					}
				}
				mu.Lock()
				tG += spent[0]
				tL += spent[1]
				mu.Unlock()
			}(b.N/clients + 1)
		}
		wg.Wait()
		b.StopTimer()
		// Datagrams each client exchanged with each server; the clients
		// ran side by side, so a server's wall time is its summed time
		// over the clients.
		n := b.N/clients + 1
		perClient := float64(2 * ((n + block - 1) / block) * block)
		b.ReportMetric(perClient*clients/(tG.Seconds()/clients), "dgrams/s-goroutine")
		b.ReportMetric(perClient*clients/(tL.Seconds()/clients), "dgrams/s-loop")
		b.ReportMetric(tG.Seconds()/tL.Seconds(), "loop/goroutine")
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
