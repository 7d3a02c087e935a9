//go:build unix

package asyncio_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// recProto is test_events.py's MyBaseProto: it checks the order of the
// callbacks (INITIAL → CONNECTED → EOF → CLOSED) and records the data.
type recProto struct {
	t         testing.TB
	loop      *asyncio.Loop
	state     string
	transport asyncio.Transport
	data      bytes.Buffer
	lostErr   error
	keepOpen  bool
	connected *asyncio.Future[struct{}]
	done      *asyncio.Future[struct{}]
	gotData   *asyncio.Event
	onData    func(p *recProto, b []byte)
	onMade    func(p *recProto)
	pauses    []int // write buffer sizes at PauseWriting (positive) and ResumeWriting (negative)
}

func newRecProto(t testing.TB, loop *asyncio.Loop) *recProto {
	return &recProto{t: t, loop: loop, state: "INITIAL",
		connected: asyncio.NewFuture[struct{}](loop), done: asyncio.NewFuture[struct{}](loop), gotData: &asyncio.Event{}}
}

func (p *recProto) ConnectionMade(tr asyncio.Transport) {
	if p.state != "INITIAL" {
		p.t.Errorf("ConnectionMade in state %s", p.state)
	}
	p.state = "CONNECTED"
	p.transport = tr
	p.connected.SetResult(struct{}{})
	if p.onMade != nil {
		p.onMade(p)
	}
}

func (p *recProto) DataReceived(b []byte) {
	if p.state != "CONNECTED" {
		p.t.Errorf("DataReceived in state %s", p.state)
	}
	p.data.Write(b)
	p.gotData.Set()
	if p.onData != nil {
		p.onData(p, b)
	}
}

func (p *recProto) EOFReceived() bool {
	if p.state != "CONNECTED" {
		p.t.Errorf("EOFReceived in state %s", p.state)
	}
	p.state = "EOF"
	return p.keepOpen
}

func (p *recProto) ConnectionLost(err error) {
	if p.state != "CONNECTED" && p.state != "EOF" {
		p.t.Errorf("ConnectionLost in state %s", p.state)
	}
	p.state = "CLOSED"
	p.lostErr = err
	p.done.SetResult(struct{}{})
}

func (p *recProto) PauseWriting()  { p.pauses = append(p.pauses, p.transport.GetWriteBufferSize()) }
func (p *recProto) ResumeWriting() { p.pauses = append(p.pauses, -p.transport.GetWriteBufferSize()) }

// echoProto echoes what it receives.
type echoProto struct {
	asyncio.ProtocolBase
	tr asyncio.Transport
}

func (p *echoProto) ConnectionMade(t asyncio.Transport) { p.tr = t }
func (p *echoProto) DataReceived(b []byte)              { p.tr.Write(b) }

func mustAddr(t testing.TB, s *asyncio.Server) *net.TCPAddr {
	a := s.Sockets()[0].(*net.TCPAddr)
	return a
}

func hasIPv6() bool {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// test_events.py: test_create_server. A plain client talks to a protocol
// server; the callbacks come in order; extra info is there.
func TestEvents_test_create_server(t *testing.T) {
	for _, host := range []string{"127.0.0.1", "::1"} {
		t.Run(host, func(t *testing.T) {
			if host == "::1" && !hasIPv6() {
				t.Skip("no IPv6")
			}
			_, err := runMain(t, func(ctx context.Context) (int, error) {
				loop, _ := asyncio.GetRunningLoop(ctx)
				proto := newRecProto(t, loop)
				srv, err := asyncio.CreateServer(ctx, func() *recProto { return proto }, host, 0, nil)
				if err != nil {
					return 0, err
				}
				if n := len(srv.Sockets()); n != 1 {
					t.Errorf("%d sockets", n)
				}
				addr := mustAddr(t, srv)
				client, err := net.Dial("tcp", addr.String())
				if err != nil {
					return 0, err
				}
				defer client.Close()
				client.Write([]byte("xxx"))
				asyncio.Await(ctx, proto.connected)
				if _, err := asyncio.Await(ctx, asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) { return 0, nil })); err != nil {
					return 0, err
				}
				for proto.data.Len() < 3 {
					proto.gotData.Clear()
					proto.gotData.Wait(ctx)
				}
				if got := proto.data.String(); got != "xxx" {
					t.Errorf("data %q", got)
				}
				if proto.transport.GetExtraInfo("sockname") == nil {
					t.Error("no sockname")
				}
				if pn := proto.transport.GetExtraInfo("peername").(*net.TCPAddr); pn.IP.String() != host {
					t.Errorf("peername %v", pn)
				}
				proto.transport.Close()
				asyncio.Await(ctx, proto.done)
				if proto.state != "CLOSED" || proto.lostErr != nil {
					t.Errorf("state %s, err %v", proto.state, proto.lostErr)
				}
				srv.Close()
				if srv.Sockets() != nil || srv.IsServing() {
					t.Error("closed server still has sockets or serves")
				}
				return 0, srv.WaitClosed(ctx)
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// test_events.py: test_create_connection and trio-asyncio's
// test_network.py echo: a protocol client and an echo protocol server on
// one loop; the client's EOF closes its side (EOFReceived false).
func TestEvents_test_create_connection(t *testing.T) {
	for _, host := range []string{"127.0.0.1", "::1", "localhost"} {
		t.Run(host, func(t *testing.T) {
			if host == "::1" && !hasIPv6() {
				t.Skip("no IPv6")
			}
			_, err := runMain(t, func(ctx context.Context) (int, error) {
				loop, _ := asyncio.GetRunningLoop(ctx)
				srv, err := asyncio.CreateServer(ctx, func() *echoProto { return &echoProto{} }, host, 0, nil)
				if err != nil {
					return 0, err
				}
				defer srv.Close()
				port := mustAddr(t, srv).Port
				proto := newRecProto(t, loop)
				tr, p, err := asyncio.CreateConnection(ctx, func() *recProto { return proto }, host, port, nil)
				if err != nil {
					return 0, err
				}
				if p != proto || proto.state != "CONNECTED" {
					t.Errorf("protocol %p state %s", p, proto.state)
				}
				tr.Write([]byte("hello "))
				tr.WriteLines([][]byte{[]byte("wor"), []byte("ld")})
				for proto.data.Len() < 11 {
					proto.gotData.Clear()
					proto.gotData.Wait(ctx)
				}
				if got := proto.data.String(); got != "hello world" {
					t.Errorf("echo %q", got)
				}
				if !tr.CanWriteEOF() {
					t.Error("CanWriteEOF false")
				}
				tr.WriteEOF()
				if err := tr.Write([]byte("x")); !errors.Is(err, asyncio.ErrWriteAfterEOF) {
					t.Errorf("Write after WriteEOF = %v", err)
				}
				asyncio.Await(ctx, proto.done)
				if proto.state != "CLOSED" || proto.lostErr != nil {
					t.Errorf("state %s, lost %v", proto.state, proto.lostErr)
				}
				if err := tr.Write([]byte("x")); err == nil {
					t.Error("Write on a closed transport = nil")
				}
				return 0, nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// test_events.py: test_create_connection_local_addr.
func TestEvents_test_create_connection_local_addr(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		srv, err := asyncio.CreateServer(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", 0, nil)
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		free := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		tr, _, err := asyncio.CreateConnection(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", mustAddr(t, srv).Port,
			&asyncio.ConnectOptions{LocalAddr: fmt.Sprintf("127.0.0.1:%d", free)})
		if err != nil {
			return 0, err
		}
		defer tr.Close()
		if got := tr.GetExtraInfo("sockname").(*net.TCPAddr).Port; got != free {
			t.Errorf("local port %d, want %d", got, free)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_events.py: test_create_connection_connection_refused (the
// connection refused error, and an unreachable address).
func TestEvents_test_create_connection_refused(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		_, _, err := asyncio.CreateConnection(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", port, nil)
		return 0, err
	})
	var se *os.SyscallError
	if !errors.Is(err, syscall.ECONNREFUSED) || !errors.As(err, &se) {
		t.Fatalf("err = %v, want ECONNREFUSED", err)
	}
	if !hasIPv6() {
		t.Skip("no IPv6 for the unreachable address")
	}
	_, err = runMain(t, func(ctx context.Context) (int, error) {
		// 100::/64 is the discard prefix: no route leads there.
		var err error
		if terr := asyncio.Timeout(ctx, 5*time.Second, func(ctx context.Context, _ *asyncio.TimeoutScope) error {
			_, _, err = asyncio.CreateConnection(ctx, func() *echoProto { return &echoProto{} }, "100::1", 9, nil)
			return err
		}); terr != nil && err == nil {
			err = terr
		}
		return 0, err
	})
	if !errors.Is(err, syscall.ENETUNREACH) && !errors.Is(err, syscall.EHOSTUNREACH) && !errors.Is(err, asyncio.ErrTimeout) {
		t.Fatalf("err = %v, want unreachable", err)
	}
	t.Logf("unreachable: %v", err)
}

// test_events.py: test_create_unix_server and
// test_create_unix_connection.
func TestEvents_test_create_unix_server(t *testing.T) {
	path := t.TempDir() + "/sock"
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		srv, err := asyncio.CreateUnixServer(ctx, func() *echoProto { return &echoProto{} }, path, nil)
		if err != nil {
			return 0, err
		}
		if a := srv.Sockets()[0].(*net.UnixAddr); a.Name != path {
			t.Errorf("socket %v", a)
		}
		proto := newRecProto(t, loop)
		tr, _, err := asyncio.CreateUnixConnection(ctx, func() *recProto { return proto }, path, nil)
		if err != nil {
			return 0, err
		}
		tr.Write([]byte("unix"))
		for proto.data.Len() < 4 {
			proto.gotData.Clear()
			proto.gotData.Wait(ctx)
		}
		if proto.data.String() != "unix" {
			t.Errorf("got %q", proto.data.String())
		}
		tr.Close()
		asyncio.Await(ctx, proto.done)
		srv.Close()
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("socket file left: %v", err)
		}
		return 0, srv.WaitClosed(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_selector_events.py: SelectorSocketTransportTests
// test_write_eof / eof_received returning true keeps the transport open
// for writing (half close).
func TestSelectorEvents_test_eof_received_keep_open(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		server := newRecProto(t, loop)
		server.keepOpen = true
		srv, err := asyncio.CreateServer(ctx, func() *recProto { return server }, "127.0.0.1", 0, nil)
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		client := newRecProto(t, loop)
		tr, _, err := asyncio.CreateConnection(ctx, func() *recProto { return client }, "127.0.0.1", mustAddr(t, srv).Port, nil)
		if err != nil {
			return 0, err
		}
		tr.Write([]byte("request"))
		tr.WriteEOF()
		for server.state != "EOF" {
			asyncio.Sleep(ctx, time.Millisecond)
		}
		if server.transport.IsClosing() {
			t.Error("EOFReceived true, yet the transport closes")
		}
		server.transport.Write([]byte("reply after eof"))
		server.transport.Close()
		asyncio.Await(ctx, client.done)
		asyncio.Await(ctx, server.done)
		if client.data.String() != "reply after eof" || server.data.String() != "request" {
			t.Errorf("client got %q, server %q", client.data.String(), server.data.String())
		}
		if client.state != "CLOSED" {
			t.Errorf("client state %s", client.state)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// acceptedConn starts a TCP server whose connection gets the protocol
// server, connects a plain net.Conn to it and returns once server's
// ConnectionMade has run; closeSrv closes the server.
func acceptedConn(ctx context.Context, t *testing.T, server *recProto) (c net.Conn, closeSrv func(), err error) {
	srv, err := asyncio.CreateServer(ctx, func() *recProto { return server }, "127.0.0.1", 0, nil)
	if err != nil {
		return nil, nil, err
	}
	c, err = net.Dial("tcp", mustAddr(t, srv).String())
	if err != nil {
		srv.Close()
		return nil, nil, err
	}
	if _, err := asyncio.Await(ctx, server.connected); err != nil {
		c.Close()
		srv.Close()
		return nil, nil, err
	}
	return c, srv.Close, nil
}

// test_selector_events.py: test_read_ready_conn_reset / peer reset: the
// peer closes with SO_LINGER 0; ConnectionLost gets ECONNRESET.
func TestSelectorEvents_test_read_ready_conn_reset(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		server := newRecProto(t, loop)
		c, closeSrv, err := acceptedConn(ctx, t, server)
		if err != nil {
			return 0, err
		}
		defer closeSrv()
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
		asyncio.Await(ctx, server.done)
		if !errors.Is(server.lostErr, syscall.ECONNRESET) {
			t.Errorf("ConnectionLost(%v), want ECONNRESET", server.lostErr)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_selector_events.py: test_write_ready_exception / abrupt close
// mid-write: the peer resets while the transport has a buffer; the
// write error closes the transport with the error.
func TestSelectorEvents_test_abrupt_close_mid_write(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		server := newRecProto(t, loop)
		c, closeSrv, err := acceptedConn(ctx, t, server)
		if err != nil {
			return 0, err
		}
		defer closeSrv()
		server.transport.SetWriteBufferLimits(1<<30, -1)
		server.transport.Write(make([]byte, 8<<20))
		if server.transport.GetWriteBufferSize() == 0 {
			t.Error("8 MiB went out at once")
		}
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
		asyncio.Await(ctx, server.done)
		if server.lostErr == nil {
			t.Error("ConnectionLost(nil) after a reset mid-write")
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_selector_events.py: test_transport_close / test_force_close
// (Abort drops the buffer; ConnectionLost(nil) as in asyncio).
func TestSelectorEvents_test_abort(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		srv, err := asyncio.CreateServer(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, "127.0.0.1", 0, &asyncio.ServerOptions{})
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		client := newRecProto(t, loop)
		tr, _, err := asyncio.CreateConnection(ctx, func() *recProto { return client }, "127.0.0.1", mustAddr(t, srv).Port, nil)
		if err != nil {
			return 0, err
		}
		tr.SetWriteBufferLimits(1<<30, -1)
		tr.Write(make([]byte, 32<<20))
		tr.Abort()
		if !tr.IsClosing() || tr.IsReading() {
			t.Error("aborted transport not closing")
		}
		if tr.GetWriteBufferSize() != 0 {
			t.Error("Abort kept the buffer")
		}
		asyncio.Await(ctx, client.done)
		if client.lostErr != nil {
			t.Errorf("ConnectionLost(%v) after Abort", client.lostErr)
		}
		tr.Close() // no second ConnectionLost
		asyncio.Sleep(ctx, 0)
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Flow control: a slow reader makes PauseWriting fire when the buffer
// goes over the high-water mark and ResumeWriting when it drains to the
// low one.
func TestFlowControl_pause_resume_writing_at_marks(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		server := newRecProto(t, loop)
		srv, err := asyncio.CreateServer(ctx, func() *recProto { return server }, "127.0.0.1", 0, nil)
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		client := newRecProto(t, loop)
		tr, _, err := asyncio.CreateConnection(ctx, func() *recProto { return client }, "127.0.0.1", mustAddr(t, srv).Port, nil)
		if err != nil {
			return 0, err
		}
		asyncio.Await(ctx, server.connected)
		server.transport.PauseReading()
		if low, high := tr.GetWriteBufferLimits(); high != 64*1024 || low != 16*1024 {
			t.Errorf("default limits low %d high %d", low, high)
		}
		if err := tr.SetWriteBufferLimits(1000, 2000); !errors.Is(err, asyncio.ErrWriteBufferLimits) {
			t.Errorf("SetWriteBufferLimits(1000, 2000) = %v", err)
		}
		chunk := make([]byte, 4096)
		// Fill the kernel's buffers, then the transport's, 4 KiB at a time.
		for len(client.pauses) == 0 {
			tr.Write(chunk)
		}
		if n := client.pauses[0]; n <= 64*1024 || n > 64*1024+4096 {
			t.Errorf("PauseWriting at %d bytes, want just over 64 KiB", n)
		}
		server.transport.ResumeReading()
		for len(client.pauses) < 2 {
			asyncio.Sleep(ctx, time.Millisecond)
		}
		if n := -client.pauses[1]; n > 16*1024 {
			t.Errorf("ResumeWriting at %d bytes, want at most 16 KiB", n)
		}
		tr.Close()
		asyncio.Await(ctx, client.done)
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Nothing lost: 64 MiB written at once, then Close, arrive whole at the
// peer before the connection closes.
func TestTransport_write_64MiB_then_close_arrives_whole(t *testing.T) {
	data := make([]byte, 64<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		var b bytes.Buffer
		b.ReadFrom(c)
		got <- b.Bytes()
	}()
	_, err = runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		client := newRecProto(t, loop)
		tr, _, err := asyncio.CreateConnection(ctx, func() *recProto { return client }, "127.0.0.1", ln.Addr().(*net.TCPAddr).Port, nil)
		if err != nil {
			return 0, err
		}
		tr.Write(data)
		tr.Close()
		_, err = asyncio.Await(ctx, client.done)
		return 0, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if b := <-got; !bytes.Equal(b, data) {
		t.Fatalf("peer got %d bytes, want %d (equal %v)", len(b), len(data), bytes.Equal(b, data[:len(b)]))
	}
}

// An fd owned by a transport is refused to AddReader/RemoveReader.
func TestAddReader_transport_fd_refused(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		srv, err := asyncio.CreateServer(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", 0, nil)
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		tr, _, err := asyncio.CreateConnection(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", mustAddr(t, srv).Port, nil)
		if err != nil {
			return 0, err
		}
		defer tr.Close()
		fd := tr.GetExtraInfo("socket").(int)
		if err := loop.AddReader(fd, func(context.Context) {}); !errors.Is(err, asyncio.ErrFdInUse) {
			t.Errorf("AddReader = %v, want ErrFdInUse", err)
		}
		if _, err := loop.RemoveWriter(fd); !errors.Is(err, asyncio.ErrFdInUse) {
			t.Errorf("RemoveWriter = %v, want ErrFdInUse", err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// bufProto is test_buffered_proto.py's ReceiveStuffProto.
type bufProto struct {
	asyncio.ProtocolBase
	buf  []byte
	got  bytes.Buffer
	done *asyncio.Future[struct{}]
}

func (p *bufProto) GetBuffer(int) []byte { return p.buf }
func (p *bufProto) BufferUpdated(n int)  { p.got.Write(p.buf[:n]) }
func (p *bufProto) ConnectionLost(error) { p.done.SetResult(struct{}{}) }

// test_buffered_proto.py: test_buffered_proto_create_connection. The
// transport receives into the protocol's own small buffer.
func TestBufferedProto_test_buffered_proto_create_connection(t *testing.T) {
	data := bytes.Repeat([]byte("buffered"), 10000)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Write(data)
			c.Close()
		}
	}()
	got, err := runMain(t, func(ctx context.Context) ([]byte, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := &bufProto{buf: make([]byte, 100), done: asyncio.NewFuture[struct{}](loop)}
		if _, _, err := asyncio.CreateConnection(ctx, func() *bufProto { return p }, "127.0.0.1", ln.Addr().(*net.TCPAddr).Port, nil); err != nil {
			return nil, err
		}
		_, err := asyncio.Await(ctx, p.done)
		return p.got.Bytes(), err
	})
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("got %d bytes, %v", len(got), err)
	}
}

// test_server.py: test_start_server_1 / serve_forever: ServeForever runs
// until cancelled, then the server is closed; a second ServeForever is
// refused; StartServing on a closed server too.
func TestServer_test_serve_forever(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		srv, err := asyncio.CreateServer(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", 0, &asyncio.ServerOptions{NoStartServing: true})
		if err != nil {
			return 0, err
		}
		if srv.IsServing() {
			t.Error("serving with NoStartServing")
		}
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) { return 0, srv.ServeForever(ctx) })
		asyncio.Sleep(ctx, 0)
		if !srv.IsServing() {
			t.Error("ServeForever does not serve")
		}
		if err := srv.ServeForever(ctx); !errors.Is(err, asyncio.ErrServeForeverBusy) {
			t.Errorf("second ServeForever = %v", err)
		}
		// a client round trip while serving
		c, err := asyncio.RunTrio(ctx, func(ctx context.Context) (string, error) {
			c, err := net.Dial("tcp", srv.Sockets()[0].String())
			if err != nil {
				return "", err
			}
			defer c.Close()
			c.Write([]byte("ping"))
			b := make([]byte, 4)
			_, err = c.Read(b)
			return string(b), err
		}), error(nil)
		s, err := asyncio.Await(ctx, c)
		if err != nil || s != "ping" {
			t.Errorf("round trip %q, %v", s, err)
		}
		task.Cancel("")
		if _, err := asyncio.Await(ctx, task); !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("ServeForever = %v, want cancelled", err)
		}
		if srv.IsServing() || srv.Sockets() != nil {
			t.Error("server not closed by cancelled ServeForever")
		}
		if err := srv.StartServing(); !errors.Is(err, asyncio.ErrServerClosed) {
			t.Errorf("StartServing on closed = %v", err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_server.py: test_wait_closed_basic / close_clients / abort_clients
// (3.12/3.13): WaitClosed waits for the connections to end.
func TestServer_test_wait_closed_and_close_clients(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		srv, err := asyncio.CreateServer(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", 0, nil)
		if err != nil {
			return 0, err
		}
		port := mustAddr(t, srv).Port
		var clients []*recProto
		for i := 0; i < 3; i++ {
			p := newRecProto(t, loop)
			if _, _, err := asyncio.CreateConnection(ctx, func() *recProto { return p }, "127.0.0.1", port, nil); err != nil {
				return 0, err
			}
			clients = append(clients, p)
		}
		// let the server accept them all
		for i := 0; i < 3; i++ {
			clients[i].transport.Write([]byte("x"))
		}
		for _, p := range clients {
			for p.data.Len() == 0 {
				p.gotData.Clear()
				p.gotData.Wait(ctx)
			}
		}
		srv.Close()
		waited := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) { return 0, srv.WaitClosed(ctx) })
		asyncio.Sleep(ctx, 10*time.Millisecond)
		if waited.Done() {
			t.Error("WaitClosed returned with connections open")
		}
		srv.CloseClients()
		if _, err := asyncio.Await(ctx, waited); err != nil {
			return 0, err
		}
		for _, p := range clients {
			asyncio.Await(ctx, p.done)
		}
		return 0, srv.WaitClosed(ctx) // again: at once
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_events.py: test_create_server_reuse_port: with ReusePort two
// servers listen on one port.
func TestEvents_test_create_server_reuse_port(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		o := &asyncio.ServerOptions{ReusePort: true}
		s1, err := asyncio.CreateServer(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", 0, o)
		if err != nil {
			return 0, err
		}
		defer s1.Close()
		s2, err := asyncio.CreateServer(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", mustAddr(t, s1).Port, o)
		if err != nil {
			return 0, err
		}
		defer s2.Close()
		_, err = asyncio.CreateServer(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", mustAddr(t, s1).Port, nil)
		if !errors.Is(err, syscall.EADDRINUSE) {
			t.Errorf("bind without reuse-port = %v, want EADDRINUSE", err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_events.py: test_create_server_multiple_hosts (and host "" for all
// interfaces).
func TestEvents_test_create_server_multiple_hosts(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		hosts := []string{}
		if hasIPv6() {
			hosts = append(hosts, "::1")
		}
		srv, err := asyncio.CreateServer(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", 0, &asyncio.ServerOptions{Hosts: hosts})
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		if n := len(srv.Sockets()); n != 1+len(hosts) {
			t.Errorf("%d sockets for %d hosts", n, 1+len(hosts))
		}
		all, err := asyncio.CreateServer(ctx, func() *echoProto { return &echoProto{} }, "", 0, nil)
		if err != nil {
			return 0, err
		}
		defer all.Close()
		var names []string
		for _, a := range all.Sockets() {
			names = append(names, a.String())
		}
		if !strings.HasPrefix(names[0], "0.0.0.0:") {
			t.Errorf("host \"\" listens on %v", names)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_events.py: test_connect_accepted_socket.
func TestEvents_test_connect_accepted_socket(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	reply := make(chan string, 1)
	go func() {
		defer wg.Done()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			reply <- err.Error()
			return
		}
		defer c.Close()
		c.Write([]byte("accepted"))
		b := make([]byte, 8)
		n, _ := c.Read(b)
		reply <- string(b[:n])
	}()
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	_, err = runMain(t, func(ctx context.Context) (int, error) {
		tr, _, err := asyncio.ConnectAcceptedSocket(ctx, func() *echoProto { return &echoProto{} }, conn)
		if err != nil {
			return 0, err
		}
		_, err = asyncio.Await(ctx, asyncio.RunTrio(ctx, func(ctx context.Context) (string, error) { return <-reply, nil }))
		tr.Close()
		return 0, err
	})
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
}

// test_selector_events.py: test_pause_resume_reading. The peer's data
// and end of stream arrive while reading is paused; after ResumeReading
// the protocol gets the data, then EOFReceived.
func TestSelectorEvents_test_pause_resume_reading_eof_while_paused(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		server := newRecProto(t, loop)
		server.onMade = func(p *recProto) { p.transport.PauseReading() }
		srv, err := asyncio.CreateServer(ctx, func() *recProto { return server }, "127.0.0.1", 0, nil)
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		data := bytes.Repeat([]byte("z"), 300_000)
		_, err = asyncio.Await(ctx, asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
			c, err := net.Dial("tcp", mustAddr(t, srv).String())
			if err != nil {
				return 0, err
			}
			c.Write(data)
			return 0, c.Close()
		}))
		if err != nil {
			return 0, err
		}
		asyncio.Await(ctx, server.connected)
		if server.transport.IsReading() {
			t.Error("IsReading after PauseReading")
		}
		asyncio.Sleep(ctx, 50*time.Millisecond) // the edges come and go while paused
		if server.data.Len() != 0 {
			t.Error("data while paused")
		}
		server.transport.ResumeReading()
		asyncio.Await(ctx, server.done)
		if server.data.Len() != len(data) {
			t.Errorf("got %d bytes, want %d", server.data.Len(), len(data))
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Flow control: a protocol that writes more from ResumeWriting (as a pump
// does) keeps the stream going: 64 MiB arrive whole.
func TestFlowControl_resume_writing_refills(t *testing.T) {
	const total = 64 << 20
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		done := asyncio.NewFuture[struct{}](loop)
		srv, err := asyncio.CreateServer(ctx, func() *sinkProto {
			return &sinkProto{want: total, done: func() { done.SetResult(struct{}{}) }}
		}, "127.0.0.1", 0, nil)
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		tr, p, err := asyncio.CreateConnection(ctx, func() *pumpProto { return &pumpProto{} }, "127.0.0.1", mustAddr(t, srv).Port, nil)
		if err != nil {
			return 0, err
		}
		defer tr.Close()
		p.left = total
		p.pump()
		return 0, asyncio.Timeout(ctx, 60*time.Second, func(ctx context.Context, _ *asyncio.TimeoutScope) error {
			_, err := asyncio.Await(ctx, done)
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_selector_events.py: test_set_protocol / get_protocol, and
// Server.AbortClients (3.13): the new protocol gets the data and the
// ConnectionLost; an aborted client's peer sees the connection end.
func TestSelectorEvents_test_set_protocol_and_abort_clients(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		first := newRecProto(t, loop)
		second := newRecProto(t, loop)
		second.state = "CONNECTED"
		srv, err := asyncio.CreateServer(ctx, func() *recProto { return first }, "127.0.0.1", 0, nil)
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		client := newRecProto(t, loop)
		tr, _, err := asyncio.CreateConnection(ctx, func() *recProto { return client }, "127.0.0.1", mustAddr(t, srv).Port, nil)
		if err != nil {
			return 0, err
		}
		asyncio.Await(ctx, first.connected)
		st := first.transport
		if st.GetProtocol() != asyncio.BaseProtocol(first) {
			t.Error("GetProtocol")
		}
		st.SetProtocol(second)
		second.transport = st
		tr.Write([]byte("to the second"))
		for second.data.Len() < 13 {
			second.gotData.Clear()
			second.gotData.Wait(ctx)
		}
		if first.data.Len() != 0 {
			t.Error("the first protocol got data after SetProtocol")
		}
		if st.GetExtraInfo("no such key") != nil {
			t.Error("unknown extra info key")
		}
		srv.AbortClients()
		asyncio.Await(ctx, second.done)
		asyncio.Await(ctx, client.done)
		if first.state != "CONNECTED" || second.state != "CLOSED" || client.state != "CLOSED" {
			t.Errorf("states %s %s %s", first.state, second.state, client.state)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// waitData waits until p has received n bytes.
func waitData(ctx context.Context, p *recProto, n int) error {
	for p.data.Len() < n {
		p.gotData.Clear()
		if _, err := asyncio.WaitFor(ctx, asyncio.CreateTask(ctx, func(ctx context.Context) (struct{}, error) {
			return struct{}{}, p.gotData.Wait(ctx)
		}), 30*time.Second); err != nil {
			return err
		}
	}
	return nil
}
