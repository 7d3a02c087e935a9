//go:build unix

package asyncio_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// dgramProto records a datagram endpoint's events.
type dgramProto struct {
	asyncio.ProtocolBase
	tr       asyncio.DatagramTransport
	got      []string
	from     []net.Addr
	errs     []error
	onData   func(p *dgramProto, data []byte, addr net.Addr)
	gotData  *asyncio.Event
	gotErr   *asyncio.Event
	done     *asyncio.Future[struct{}]
	lostErr  error
	state    string
	received int
}

func newDgramProto(l *asyncio.Loop) *dgramProto {
	return &dgramProto{gotData: &asyncio.Event{}, gotErr: &asyncio.Event{}, done: asyncio.NewFuture[struct{}](l), state: "INITIAL"}
}

func (p *dgramProto) ConnectionMade(t asyncio.Transport) {
	p.tr = t.(asyncio.DatagramTransport)
	p.state = "INITIALIZED"
}

func (p *dgramProto) DatagramReceived(data []byte, addr net.Addr) {
	p.received++
	if p.onData != nil {
		p.onData(p, data, addr)
		return
	}
	p.got = append(p.got, string(data))
	p.from = append(p.from, addr)
	p.gotData.Set()
}

func (p *dgramProto) ErrorReceived(err error) {
	p.errs = append(p.errs, err)
	p.gotErr.Set()
}

func (p *dgramProto) ConnectionLost(err error) {
	p.state = "CLOSED"
	p.lostErr = err
	p.done.SetResult(struct{}{})
}

func echoServer(ctx context.Context, network, addr string) (asyncio.DatagramTransport, *dgramProto, error) {
	l, _ := asyncio.GetRunningLoop(ctx)
	sp := newDgramProto(l)
	sp.onData = func(p *dgramProto, data []byte, addr net.Addr) {
		p.tr.SendTo(append([]byte("resp:"), data...), addr)
	}
	tr, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *dgramProto { return sp }, &asyncio.DatagramOptions{Network: network, LocalAddr: addr})
	return tr, sp, err
}

func testDatagramEcho(t *testing.T, network, host string) {
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		str, sp, err := echoServer(ctx, network, net.JoinHostPort(host, "0"))
		if err != nil {
			return 0, err
		}
		saddr := str.GetExtraInfo("sockname").(*net.UDPAddr)
		cp := newDgramProto(l)
		ctr, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *dgramProto { return cp }, &asyncio.DatagramOptions{Network: network, RemoteAddr: saddr.String()})
		if err != nil {
			return 0, err
		}
		if cp.state != "INITIALIZED" {
			t.Errorf("client state %s", cp.state)
		}
		if err := ctr.SendTo([]byte("xxx"), nil); err != nil {
			return 0, err
		}
		if err := cp.gotData.Wait(ctx); err != nil {
			return 0, err
		}
		if len(cp.got) != 1 || cp.got[0] != "resp:xxx" || sp.received != 1 {
			t.Errorf("client got %q, server received %d", cp.got, sp.received)
		}
		if pn := ctr.GetExtraInfo("peername"); pn == nil || pn.(*net.UDPAddr).Port != saddr.Port {
			t.Errorf("peername %v", pn)
		}
		// A connected endpoint sends only to its remote address.
		if err := ctr.SendTo([]byte("x"), &net.UDPAddr{IP: saddr.IP, Port: saddr.Port + 1}); !errors.Is(err, asyncio.ErrDatagramAddress) {
			t.Errorf("SendTo another address: %v", err)
		}
		if err := ctr.WriteEOF(); !errors.Is(err, asyncio.ErrNoEOF) {
			t.Errorf("WriteEOF: %v", err)
		}
		ctr.Close()
		str.Close()
		if _, err := asyncio.Await(ctx, cp.done); err != nil {
			return 0, err
		}
		if _, err := asyncio.Await(ctx, sp.done); err != nil {
			return 0, err
		}
		if cp.state != "CLOSED" || cp.lostErr != nil {
			t.Errorf("client %s %v", cp.state, cp.lostErr)
		}
		if err := ctr.SendTo([]byte("x"), nil); !errors.Is(err, asyncio.ErrTransportClosing) {
			t.Errorf("SendTo after close: %v", err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestEvents_test_create_datagram_endpoint(t *testing.T) {
	testDatagramEcho(t, "udp", "127.0.0.1")
}

func TestEvents_test_create_datagram_endpoint_ipv6(t *testing.T) {
	if !hasIPv6() {
		t.Skip("no IPv6")
	}
	testDatagramEcho(t, "udp6", "::1")
}

func TestEvents_test_create_datagram_endpoint_sock_unix(t *testing.T) {
	dir := t.TempDir()
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		str, sp, err := echoServer(ctx, "unixgram", filepath.Join(dir, "srv"))
		if err != nil {
			return 0, err
		}
		cp := newDgramProto(l)
		ctr, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *dgramProto { return cp },
			&asyncio.DatagramOptions{Network: "unixgram", LocalAddr: filepath.Join(dir, "cli"), RemoteAddr: filepath.Join(dir, "srv")})
		if err != nil {
			return 0, err
		}
		ctr.Write([]byte("hello"))
		if err := cp.gotData.Wait(ctx); err != nil {
			return 0, err
		}
		if cp.got[0] != "resp:hello" || sp.from == nil && sp.received != 1 {
			t.Errorf("got %q", cp.got)
		}
		if a, ok := cp.from[0].(*net.UnixAddr); !ok || a.Name != filepath.Join(dir, "srv") {
			t.Errorf("from %v", cp.from[0])
		}
		ctr.Close()
		str.Close()
		_, err = asyncio.Await(ctx, cp.done)
		return 0, err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestBaseEvents_test_create_datagram_endpoint_reuse_port_and_broadcast(t *testing.T) {
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		opts := &asyncio.DatagramOptions{LocalAddr: "127.0.0.1:0", ReusePort: true, AllowBroadcast: true}
		tr1, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, opts)
		if err != nil {
			return 0, err
		}
		fd := tr1.GetExtraInfo("socket").(int)
		if v, _ := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_BROADCAST); v == 0 {
			t.Error("SO_BROADCAST not set")
		}
		opts2 := *opts
		opts2.LocalAddr = tr1.GetExtraInfo("sockname").(*net.UDPAddr).String()
		tr2, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, &opts2)
		if err != nil {
			t.Errorf("second bind with ReusePort: %v", err)
		} else {
			tr2.Close()
		}
		opts2.ReusePort = false
		if _, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, &opts2); !errors.Is(err, syscall.EADDRINUSE) {
			t.Errorf("bind without ReusePort: %v, want EADDRINUSE", err)
		}
		tr1.Close()
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestBaseEvents_test_create_datagram_endpoint_bad_options(t *testing.T) {
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		f := func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }
		if _, _, err := asyncio.CreateDatagramEndpoint(ctx, f, nil); !errors.Is(err, asyncio.ErrDatagramOptions) {
			t.Errorf("nil options: %v", err)
		}
		if _, _, err := asyncio.CreateDatagramEndpoint(ctx, f, &asyncio.DatagramOptions{Network: "tcp", LocalAddr: "127.0.0.1:0"}); !errors.Is(err, asyncio.ErrDatagramOptions) {
			t.Errorf("tcp: %v", err)
		}
		tr, _, err := asyncio.CreateDatagramEndpoint(ctx, f, &asyncio.DatagramOptions{LocalAddr: "127.0.0.1:0"})
		if err != nil {
			return 0, err
		}
		if err := tr.SendTo([]byte("x"), nil); !errors.Is(err, asyncio.ErrDatagramAddress) {
			t.Errorf("SendTo(nil) unconnected: %v", err)
		}
		if err := tr.SendTo([]byte("x"), &net.UnixAddr{Name: "/x"}); !errors.Is(err, asyncio.ErrDatagramAddress) {
			t.Errorf("SendTo(unix) on UDP: %v", err)
		}
		tr.Close()
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestEvents_test_create_datagram_endpoint_error_received_port_unreachable(t *testing.T) {
	// A port nobody listens on: bind one, note it, close it.
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := c.LocalAddr().String()
	c.Close()
	_, err = runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		p := newDgramProto(l)
		tr, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *dgramProto { return p }, &asyncio.DatagramOptions{RemoteAddr: dead})
		if err != nil {
			return 0, err
		}
		for i := 0; i < 100 && len(p.errs) == 0; i++ {
			tr.Write([]byte("anyone?"))
			_ = asyncio.Timeout(ctx, 100*time.Millisecond, func(ctx context.Context, _ *asyncio.TimeoutScope) error { return p.gotErr.Wait(ctx) })
		}
		if len(p.errs) == 0 || !errors.Is(p.errs[0], syscall.ECONNREFUSED) {
			t.Errorf("errors %v, want ECONNREFUSED", p.errs)
		}
		if tr.IsClosing() {
			t.Error("the endpoint closed on an ICMP error")
		}
		tr.Close()
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// udpDrops reads the kernel's count of datagrams dropped for the IPv4
// UDP socket bound to port (the last column of /proc/net/udp).
func udpDrops(port int) (int, bool) {
	b, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return 0, false
	}
	want := fmt.Sprintf(":%04X", port)
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 12 && strings.HasSuffix(f[1], want) {
			n, err := strconv.Atoi(f[len(f)-1])
			return n, err == nil
		}
	}
	return 0, false
}

// A burst of 10,000 datagrams at a slow reader: the kernel may drop some,
// the loop loses none it read (every datagram read is delivered, in
// order).
func TestDatagram_burst_10000_slow_reader(t *testing.T) {
	const n = 10000
	got, err := runProcLoop(t, func(ctx context.Context) ([2]int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		rp := newDgramProto(l)
		last := -1
		inOrder := true
		rp.onData = func(p *dgramProto, data []byte, addr net.Addr) {
			v := int(data[0])<<8 | int(data[1])
			if v <= last {
				inOrder = false
			}
			last = v
			if p.received%1000 == 0 {
				time.Sleep(time.Millisecond) // a slow reader
			}
		}
		rtr, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *dgramProto { return rp }, &asyncio.DatagramOptions{LocalAddr: "127.0.0.1:0"})
		if err != nil {
			return [2]int{}, err
		}
		raddr := rtr.GetExtraInfo("sockname").(*net.UDPAddr)
		sp := newDgramProto(l)
		str, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *dgramProto { return sp }, &asyncio.DatagramOptions{RemoteAddr: raddr.String()})
		if err != nil {
			return [2]int{}, err
		}
		str.SetWriteBufferLimits(1<<30, -1)
		sent := 0
		for i := 0; i < n; i++ {
			b := make([]byte, 64)
			b[0], b[1] = byte(i>>8), byte(i)
			if err := str.Write(b); err == nil {
				sent++
			}
		}
		// Wait until nothing more arrives.
		prev := -1
		for rp.received != prev {
			prev = rp.received
			if err := asyncio.Sleep(ctx, 200*time.Millisecond); err != nil {
				return [2]int{}, err
			}
		}
		if !inOrder {
			t.Error("datagrams delivered out of order")
		}
		if drops, ok := udpDrops(raddr.Port); ok {
			t.Logf("kernel drops %d", drops)
			if rp.received+drops != sent {
				t.Errorf("received %d + dropped by the kernel %d != sent %d", rp.received, drops, sent)
			}
		}
		return [2]int{sent, rp.received}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sent %d, received %d", got[0], got[1])
	if got[0] != n || got[1] == 0 || got[1] > n {
		t.Fatalf("sent %d received %d", got[0], got[1])
	}
}

// Datagrams the kernel does not take at once are buffered; Abort drops
// them.
func TestDatagram_write_flow_control(t *testing.T) {
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		p := newDgramProto(l)
		tr, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *dgramProto { return p }, &asyncio.DatagramOptions{LocalAddr: "127.0.0.1:0"})
		if err != nil {
			return 0, err
		}
		fd := tr.GetExtraInfo("socket").(int)
		syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_SNDBUF, 4096)
		if low, high := tr.GetWriteBufferLimits(); high != 64*1024 || low != 16*1024 {
			t.Errorf("limits %d %d", low, high)
		}
		self := tr.GetExtraInfo("sockname").(*net.UDPAddr)
		for i := 0; i < 2000; i++ {
			tr.SendTo(make([]byte, 1000), self)
		}
		if tr.GetWriteBufferSize() < 0 {
			t.Error("negative buffer")
		}
		tr.Abort()
		_, err = asyncio.Await(ctx, p.done)
		if tr.GetWriteBufferSize() != 0 {
			t.Errorf("buffer %d after Abort", tr.GetWriteBufferSize())
		}
		return 0, err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDatagram_teardown_closes_endpoints(t *testing.T) {
	runtime.GC()
	fds0, gs0 := openFds(t), runtime.NumGoroutine()
	dir := t.TempDir()
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		f := func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }
		for i := 0; i < 3; i++ {
			if _, _, err := asyncio.CreateDatagramEndpoint(ctx, f, &asyncio.DatagramOptions{LocalAddr: "127.0.0.1:0"}); err != nil {
				return 0, err
			}
		}
		_, _, err := asyncio.CreateDatagramEndpoint(ctx, f, &asyncio.DatagramOptions{Network: "unixgram", LocalAddr: filepath.Join(dir, "u")})
		return 0, err
	})
	if err != nil {
		t.Fatal(err)
	}
	waitGoroutines(t, gs0)
	if fds := openFds(t); fds != fds0 {
		t.Errorf("fds %d before, %d after", fds0, fds)
	}
}

// flowDgram records PauseWriting/ResumeWriting with the buffer size.
type flowDgram struct {
	dgramProto
	marks []int // buffer size at PauseWriting (positive), ResumeWriting (negative)
}

func (p *flowDgram) PauseWriting()  { p.marks = append(p.marks, p.tr.GetWriteBufferSize()) }
func (p *flowDgram) ResumeWriting() { p.marks = append(p.marks, -p.tr.GetWriteBufferSize()) }

// Flow control, made certain with a Unix datagram socket: a receiver that
// does not read makes sendto fail with EAGAIN, so the sender buffers,
// pauses its protocol over the high-water mark and resumes it at the low
// one; every datagram arrives, in order.
func TestDatagram_flow_control_pause_resume_unixgram(t *testing.T) {
	dir := t.TempDir()
	const n = 2000
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		rp := newDgramProto(l)
		next, inOrder := 0, true
		rp.onData = func(p *dgramProto, data []byte, addr net.Addr) {
			v := int(data[0])<<8 | int(data[1])
			if v != next {
				inOrder = false
			}
			next = v + 1
			if v == n-1 {
				p.gotData.Set()
			}
		}
		rtr, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *dgramProto { return rp }, &asyncio.DatagramOptions{Network: "unixgram", LocalAddr: filepath.Join(dir, "r")})
		if err != nil {
			return 0, err
		}
		rtr.PauseReading()
		sp := &flowDgram{dgramProto: *newDgramProto(l)}
		str, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *flowDgram { return sp }, &asyncio.DatagramOptions{Network: "unixgram", RemoteAddr: filepath.Join(dir, "r")})
		if err != nil {
			return 0, err
		}
		str.SetWriteBufferLimits(8*1024, 2*1024)
		for i := 0; i < n; i++ {
			b := make([]byte, 100)
			b[0], b[1] = byte(i>>8), byte(i)
			if err := str.Write(b); err != nil {
				return 0, err
			}
		}
		if len(sp.marks) != 1 || sp.marks[0] <= 8*1024 {
			t.Errorf("marks %v after the burst, want one pause over 8 KiB", sp.marks)
		}
		rtr.ResumeReading()
		if err := rp.gotData.Wait(ctx); err != nil {
			return 0, err
		}
		if len(sp.marks) != 2 || -sp.marks[1] > 2*1024 {
			t.Errorf("marks %v, want a resume at 2 KiB or less", sp.marks)
		}
		if !inOrder || rp.received != n || len(sp.errs) != 0 {
			t.Errorf("received %d of %d, in order %v, errors %v", rp.received, n, inOrder, sp.errs)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestEvents_test_create_datagram_endpoint_sock(t *testing.T) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	addr := conn.LocalAddr().(*net.UDPAddr)
	_, err = runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		p := newDgramProto(l)
		tr, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *dgramProto { return p }, &asyncio.DatagramOptions{Conn: conn})
		if err != nil {
			return 0, err
		}
		if got := tr.GetExtraInfo("sockname").(*net.UDPAddr); got.Port != addr.Port {
			t.Errorf("sockname %v, want %v", got, addr)
		}
		c, err := net.DialUDP("udp", nil, addr)
		if err != nil {
			return 0, err
		}
		defer c.Close()
		c.Write([]byte("to an adopted socket"))
		if err := p.gotData.Wait(ctx); err != nil {
			return 0, err
		}
		if p.got[0] != "to an adopted socket" {
			t.Errorf("got %q", p.got)
		}
		if _, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *dgramProto { return p }, &asyncio.DatagramOptions{Conn: conn, LocalAddr: "127.0.0.1:0"}); !errors.Is(err, asyncio.ErrDatagramOptions) {
			t.Errorf("Conn with an address: %v", err)
		}
		tr.Close()
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
