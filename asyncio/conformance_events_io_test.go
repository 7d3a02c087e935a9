//go:build linux

package asyncio_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// The I/O cases of CPython's test_events.py (EventLoopTestsMixin and
// TestServer), each against real sockets, pipes, ptys and signals.

// test_events.py: test_reader_callback: a reader added with AddReader
// collects what the peer sends, in two rounds; at the peer's close it
// reads b"" and removes itself (RemoveReader reports true).
func TestEvents_test_reader_callback(t *testing.T) {
	r, w := socketpair(t)
	fd := rawFd(r)
	got, err := runMain(t, func(ctx context.Context) (string, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		var read []byte
		grew := &asyncio.Event{}
		removed := asyncio.NewFuture[bool](loop)
		if err := loop.AddReader(fd, func(context.Context) {
			buf := make([]byte, 1024)
			n, err := syscall.Read(fd, buf)
			if err == syscall.EAGAIN {
				return // a spurious readiness
			}
			if n > 0 {
				read = append(read, buf[:n]...)
				grew.Set()
				return
			}
			ok, err := loop.RemoveReader(fd)
			if err != nil {
				t.Errorf("RemoveReader: %v", err)
			}
			removed.SetResult(ok)
		}); err != nil {
			return "", err
		}
		for i, chunk := range []string{"abc", "def"} {
			w.Write([]byte(chunk))
			for len(read) < 3*(i+1) {
				grew.Clear()
				if err := grew.Wait(ctx); err != nil {
					return "", err
				}
			}
		}
		w.Close()
		if ok, err := asyncio.Await(ctx, removed); err != nil || !ok {
			t.Errorf("RemoveReader at EOF = %v, %v; want true", ok, err)
		}
		return string(read), nil
	})
	if err != nil || got != "abcdef" {
		t.Fatalf("read %q, %v; want \"abcdef\"", got, err)
	}
}

// test_events.py: test_writer_callback: a writer added with AddWriter runs
// once the socket is writable and sends its data; RemoveWriter then
// reports true, and false the second time; the peer gets the data.
func TestEvents_test_writer_callback(t *testing.T) {
	r, w := socketpair(t)
	fd := rawFd(w)
	data := bytes.Repeat([]byte("x"), 1024)
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		sent := asyncio.NewFuture[int](loop)
		if err := loop.AddWriter(fd, func(context.Context) {
			if sent.Done() {
				return
			}
			n, err := syscall.Write(fd, data)
			if err != nil {
				t.Errorf("write: %v", err)
			}
			sent.SetResult(n)
		}); err != nil {
			return 0, err
		}
		if n, err := asyncio.Await(ctx, sent); err != nil || n != len(data) {
			t.Errorf("sent %d, %v", n, err)
		}
		if ok, err := loop.RemoveWriter(fd); !ok || err != nil {
			t.Errorf("RemoveWriter = %v, %v; want true", ok, err)
		}
		if ok, err := loop.RemoveWriter(fd); ok || err != nil {
			t.Errorf("second RemoveWriter = %v, %v; want false", ok, err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	var got bytes.Buffer
	buf := make([]byte, 2*len(data))
	for {
		n, err := r.Read(buf)
		got.Write(buf[:n])
		if err != nil || n == 0 {
			break
		}
	}
	if !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("peer read %d bytes, want the %d written", got.Len(), len(data))
	}
}

// test_events.py: test_add_signal_handler: signal numbers out of range
// are refused by AddSignalHandler and RemoveSignalHandler (ValueError
// upstream), SIGKILL cannot be caught (RuntimeError) and removing it
// reports false; a SIGINT handler runs when the process gets SIGINT;
// removing it reports true, then false.
func TestEvents_test_add_signal_handler(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		caught := 0
		got := &asyncio.Event{}
		handler := func(context.Context) { caught++; got.Set() }
		for _, sig := range []syscall.Signal{65, 0, -1} {
			if err := loop.AddSignalHandler(sig, handler); !errors.Is(err, asyncio.ErrInvalidSignal) {
				t.Errorf("AddSignalHandler(%d) = %v, want ErrInvalidSignal", int(sig), err)
			}
			if _, err := loop.RemoveSignalHandler(sig); !errors.Is(err, asyncio.ErrInvalidSignal) {
				t.Errorf("RemoveSignalHandler(%d) = %v, want ErrInvalidSignal", int(sig), err)
			}
		}
		if err := loop.AddSignalHandler(syscall.SIGKILL, handler); !errors.Is(err, asyncio.ErrUncatchableSignal) {
			t.Errorf("AddSignalHandler(SIGKILL) = %v, want ErrUncatchableSignal", err)
		}
		if ok, err := loop.RemoveSignalHandler(syscall.SIGKILL); ok || err != nil {
			t.Errorf("RemoveSignalHandler(SIGKILL) = %v, %v; want false", ok, err)
		}
		if err := loop.AddSignalHandler(syscall.SIGINT, handler); err != nil {
			return 0, err
		}
		raise(syscall.SIGINT)
		if err := got.Wait(ctx); err != nil {
			return 0, err
		}
		if ok, err := loop.RemoveSignalHandler(syscall.SIGINT); !ok || err != nil {
			t.Errorf("RemoveSignalHandler(SIGINT) = %v, %v; want true", ok, err)
		}
		if ok, err := loop.RemoveSignalHandler(syscall.SIGINT); ok || err != nil {
			t.Errorf("second RemoveSignalHandler(SIGINT) = %v, %v; want false", ok, err)
		}
		return caught, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// sigalrmWhileWaiting installs handler for SIGALRM, then, once the loop
// is idle waiting for done (in its poller), has the process get SIGALRM
// from another goroutine; it returns when done is set.
func sigalrmWhileWaiting(ctx context.Context, loop *asyncio.Loop, handler func(context.Context), done *asyncio.Future[struct{}]) error {
	if err := loop.AddSignalHandler(syscall.SIGALRM, handler); err != nil {
		return err
	}
	defer loop.RemoveSignalHandler(syscall.SIGALRM)
	tm := time.AfterFunc(50*time.Millisecond, func() { raise(syscall.SIGALRM) })
	defer tm.Stop()
	_, err := asyncio.WaitFor[struct{}](ctx, done, 30*time.Second)
	return err
}

// test_events.py: test_signal_handling_while_selecting: a signal that
// arrives while the loop waits for I/O (here: for nothing but the
// signal) runs its handler.
func TestEvents_test_signal_handling_while_selecting(t *testing.T) {
	caught, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		caught := 0
		done := asyncio.NewFuture[struct{}](loop)
		err := sigalrmWhileWaiting(ctx, loop, func(context.Context) {
			caught++
			done.SetResult(struct{}{})
		}, done)
		return caught, err
	})
	if err != nil || caught != 1 {
		t.Fatalf("caught %d, %v; want 1", caught, err)
	}
}

// test_events.py: test_signal_handling_args: the handler gets its
// arguments (bound in a closure in Go) and runs once for one signal.
func TestEvents_test_signal_handling_args(t *testing.T) {
	type args struct{ n int }
	caught, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		caught := 0
		done := asyncio.NewFuture[struct{}](loop)
		handler := func(a args) func(context.Context) {
			return func(context.Context) {
				caught++
				if a.n != 42 {
					t.Errorf("handler got %d, want 42", a.n)
				}
				if !done.Done() {
					done.SetResult(struct{}{})
				}
			}
		}
		err := sigalrmWhileWaiting(ctx, loop, handler(args{42}), done)
		if err == nil {
			runBriefly(ctx)
		}
		return caught, err
	})
	if err != nil || caught != 1 {
		t.Fatalf("caught %d, %v; want 1", caught, err)
	}
}

// test_events.py: test_create_connection_local_addr_nomatch_family: the
// local address has no address of the remote's family; the connection
// fails with an error saying so, without binding the wrong family.
func TestEvents_test_create_connection_local_addr_nomatch_family(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	_, err = runMain(t, func(ctx context.Context) (int, error) {
		_, _, err := asyncio.CreateConnection(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", port,
			&asyncio.ConnectOptions{LocalAddr: "[::1]:0"})
		if err == nil || !strings.Contains(err.Error(), "no matching local address") {
			t.Errorf("IPv6 LocalAddr for an IPv4 remote: err = %v, want \"no matching local address\"", err)
		}
		if hasIPv6() {
			ln6, err := net.Listen("tcp6", "[::1]:0")
			if err != nil {
				return 0, err
			}
			defer ln6.Close()
			_, _, err = asyncio.CreateConnection(ctx, func() *echoProto { return &echoProto{} }, "::1", ln6.Addr().(*net.TCPAddr).Port,
				&asyncio.ConnectOptions{LocalAddr: "127.0.0.1:0"})
			if err == nil || !strings.Contains(err.Error(), "no matching local address") {
				t.Errorf("IPv4 LocalAddr for an IPv6 remote: err = %v, want \"no matching local address\"", err)
			}
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_events.py: test_create_connection_local_addr_skip_different_family:
// the local host name resolves to an IPv6 and an IPv4 address (a
// resolver given for the test, as upstream mocks getaddrinfo); for an
// IPv4 remote the IPv4 one is bound, the IPv6 one skipped.
func TestEvents_test_create_connection_local_addr_skip_different_family(t *testing.T) {
	restore := asyncio.SetResolveLocal(func(ctx context.Context, network, host string, port int) ([]netip.AddrPort, error) {
		if host != "dual.test" {
			return nil, fmt.Errorf("unexpected local host %q", host)
		}
		return []netip.AddrPort{
			netip.AddrPortFrom(netip.IPv6Loopback(), uint16(port)),
			netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(port)),
		}, nil
	})
	defer restore()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
	}()
	_, err = runMain(t, func(ctx context.Context) (int, error) {
		tr, _, err := asyncio.CreateConnection(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", ln.Addr().(*net.TCPAddr).Port,
			&asyncio.ConnectOptions{LocalAddr: "dual.test:0"})
		if err != nil {
			return 0, err
		}
		defer tr.Close()
		if a, _ := tr.GetExtraInfo("sockname").(*net.TCPAddr); a == nil || !a.IP.Equal(net.IPv4(127, 0, 0, 1)) {
			t.Errorf("sockname %v, want 127.0.0.1", tr.GetExtraInfo("sockname"))
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_events.py: test_create_connection_local_addr_in_use: binding the
// local address of a listening socket fails with EADDRINUSE.
func TestEvents_test_create_connection_local_addr_in_use(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		srv, err := asyncio.CreateServer(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", 0, nil)
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		addr := mustAddr(t, srv)
		_, _, err = asyncio.CreateConnection(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", addr.Port,
			&asyncio.ConnectOptions{LocalAddr: addr.String()})
		if !errors.Is(err, syscall.EADDRINUSE) {
			t.Errorf("err = %v, want EADDRINUSE", err)
		}
		if err == nil || !strings.Contains(err.Error(), addr.String()) {
			t.Errorf("the error %v does not name the address %s", err, addr)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_events.py: test_create_server_addr_in_use: a second server on the
// port of a listening one fails with EADDRINUSE.
func TestEvents_test_create_server_addr_in_use(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		srv, err := asyncio.CreateServer(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", 0, nil)
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		_, err = asyncio.CreateServer(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", mustAddr(t, srv).Port, nil)
		if !errors.Is(err, syscall.EADDRINUSE) {
			t.Errorf("second server: err = %v, want EADDRINUSE", err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_events.py: test_create_server_dual_stack: a server for every
// interface (host "") on one port takes IPv4 and IPv6 clients.
func TestEvents_test_create_server_dual_stack(t *testing.T) {
	if !hasIPv6() {
		t.Skip("no IPv6")
	}
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		conns := asyncio.NewQueue[*recProto](0)
		// One port for both families, as upstream: a free one, retried
		// if taken meanwhile.
		var srv *asyncio.Server
		var port int
		for try := 0; srv == nil; try++ {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return 0, err
			}
			port = ln.Addr().(*net.TCPAddr).Port
			ln.Close()
			srv, err = asyncio.CreateServer(ctx, func() *recProto {
				p := newRecProto(t, loop)
				p.onMade = func(p *recProto) { conns.PutNowait(p) }
				return p
			}, "", port, nil)
			if err != nil && (!errors.Is(err, syscall.EADDRINUSE) || try == 5) {
				return 0, err
			}
		}
		defer srv.Close()
		for _, host := range []string{"127.0.0.1", "::1"} {
			c, err := asyncio.ToThread(ctx, func(context.Context) (net.Conn, error) {
				return net.Dial("tcp", net.JoinHostPort(host, fmt.Sprint(port)))
			})
			if err != nil {
				return 0, err
			}
			c.Write([]byte("xxx"))
			p, err := asyncio.Await(ctx, asyncio.CreateTask(ctx, conns.Get))
			if err != nil {
				c.Close()
				return 0, err
			}
			p.transport.Close()
			c.Close()
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_events.py: test_server_close: once the server is closed, its
// port refuses connections.
func TestEvents_test_server_close(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		srv, err := asyncio.CreateServer(ctx, func() *echoProto { return &echoProto{} }, "0.0.0.0", 0, nil)
		if err != nil {
			return 0, err
		}
		port := mustAddr(t, srv).Port
		dial := func(context.Context) (net.Conn, error) { return net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)) }
		c, err := asyncio.ToThread(ctx, dial)
		if err != nil {
			return 0, err
		}
		c.Write([]byte("xxx"))
		c.Close()
		srv.Close()
		if _, err := asyncio.ToThread(ctx, dial); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("connecting after Close: %v, want ECONNREFUSED", err)
		}
		return 0, srv.WaitClosed(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_events.py: test_datagram_send_to_non_listening_address: after a
// datagram sent to an address nobody listens on, the endpoint still
// receives.
func TestEvents_test_datagram_send_to_non_listening_address(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		open := func() (asyncio.DatagramTransport, *dgramProto, error) {
			p := newDgramProto(loop)
			tr, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *dgramProto { return p }, &asyncio.DatagramOptions{LocalAddr: "127.0.0.1:0"})
			return tr, p, err
		}
		recv := func(p *dgramProto) string {
			if _, err := asyncio.WaitFor(ctx, asyncio.CreateTask(ctx, func(ctx context.Context) (struct{}, error) {
				return struct{}{}, p.gotData.Wait(ctx)
			}), 10*time.Second); err != nil {
				t.Errorf("no datagram: %v", err)
				return ""
			}
			p.gotData.Clear()
			s := p.got[len(p.got)-1]
			return s
		}
		t1, p1, err := open()
		if err != nil {
			return 0, err
		}
		defer t1.Close()
		t2, p2, err := open()
		if err != nil {
			return 0, err
		}
		defer t2.Close()
		t3, _, err := open()
		if err != nil {
			return 0, err
		}
		addr3 := t3.GetExtraInfo("sockname").(net.Addr)
		t3.Abort()
		t1.SendTo([]byte("a"), t2.GetExtraInfo("sockname").(net.Addr))
		if s := recv(p2); s != "a" {
			t.Errorf("endpoint 2 got %q", s)
		}
		t2.SendTo([]byte("b"), t1.GetExtraInfo("sockname").(net.Addr))
		if s := recv(p1); s != "b" {
			t.Errorf("endpoint 1 got %q", s)
		}
		t1.SendTo([]byte("c"), addr3)
		asyncio.Sleep(ctx, 0)
		t2.SendTo([]byte("d"), t1.GetExtraInfo("sockname").(net.Addr))
		if s := recv(p1); s != "d" {
			t.Errorf("endpoint 1 got %q after sending to a dead address", s)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_events.py: test_write_pipe: a write pipe transport writes what it
// is given, in order; Close ends the pipe (the reader sees EOF) and the
// protocol's ConnectionLost(nil) follows.
func TestEvents_test_write_pipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := make(chan []byte, 1)
	go func() {
		var all bytes.Buffer
		all.ReadFrom(r)
		got <- all.Bytes()
	}()
	_, err = runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, loop)
		tr, _, err := asyncio.ConnectWritePipe(ctx, func() *recProto { return p }, w)
		if err != nil {
			return 0, err
		}
		if p.state != "CONNECTED" || p.transport != tr {
			t.Errorf("state %s after ConnectWritePipe", p.state)
		}
		tr.Write([]byte("1"))
		tr.Write([]byte("2345"))
		tr.Close()
		if _, err := asyncio.Await(ctx, p.done); err != nil {
			return 0, err
		}
		if p.state != "CLOSED" || p.lostErr != nil {
			t.Errorf("state %s, lost with %v", p.state, p.lostErr)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-got:
		if string(b) != "12345" {
			t.Fatalf("reader got %q", b)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the reader saw no EOF")
	}
}

// test_events.py: test_write_pipe_disconnect_on_close: the reading end
// (a socket here, as upstream) closes; the write pipe transport notices
// and its protocol gets ConnectionLost.
func TestEvents_test_write_pipe_disconnect_on_close(t *testing.T) {
	r, w := socketpair(t)
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, loop)
		tr, _, err := asyncio.ConnectWritePipe(ctx, func() *recProto { return p }, w)
		if err != nil {
			return 0, err
		}
		tr.Write([]byte("1"))
		if b, err := asyncio.SockRecv(ctx, r, 1024); err != nil || string(b) != "1" {
			t.Errorf("SockRecv = %q, %v", b, err)
		}
		r.Close()
		if _, err := asyncio.WaitFor[struct{}](ctx, p.done, 30*time.Second); err != nil {
			return 0, err
		}
		if p.state != "CLOSED" {
			t.Errorf("state %s", p.state)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// openPTY opens a pseudo-terminal pair (os.openpty): the master and the
// slave, closed at the end of the test unless closed before.
func openPTY(t *testing.T, raw bool) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	var zero int32
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&zero))); e != 0 {
		m.Close()
		t.Skipf("unlockpt: %v", e)
	}
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		m.Close()
		t.Skipf("ptsname: %v", e)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("no pty slave: %v", err)
	}
	if raw { // tty.setraw
		var tio syscall.Termios
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, s.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&tio))); e != 0 {
			t.Fatalf("tcgetattr: %v", e)
		}
		tio.Iflag &^= syscall.IGNBRK | syscall.BRKINT | syscall.PARMRK | syscall.ISTRIP | syscall.INLCR | syscall.IGNCR | syscall.ICRNL | syscall.IXON
		tio.Oflag &^= syscall.OPOST
		tio.Lflag &^= syscall.ECHO | syscall.ECHONL | syscall.ICANON | syscall.ISIG | syscall.IEXTEN
		tio.Cflag &^= syscall.CSIZE | syscall.PARENB
		tio.Cflag |= syscall.CS8
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, s.Fd(), syscall.TCSETS, uintptr(unsafe.Pointer(&tio))); e != 0 {
			t.Fatalf("tcsetattr: %v", e)
		}
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// readAtLeast reads f (blocking, off the loop) until it has n bytes.
func readAtLeast(ctx context.Context, f *os.File, n int) (string, error) {
	return asyncio.ToThread(ctx, func(context.Context) (string, error) {
		var got []byte
		buf := make([]byte, 1024)
		for len(got) < n {
			k, err := f.Read(buf)
			got = append(got, buf[:k]...)
			if err != nil {
				return string(got), err
			}
		}
		return string(got), nil
	})
}

// test_events.py: test_read_pty_output: a read pipe transport on a pty's
// master gets what is written on the slave; Close ends it with
// ConnectionLost.
func TestEvents_test_read_pty_output(t *testing.T) {
	master, slave := openPTY(t, false)
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, loop)
		tr, _, err := asyncio.ConnectReadPipe(ctx, func() *recProto { return p }, master)
		if err != nil {
			return 0, err
		}
		if p.state != "CONNECTED" {
			t.Errorf("state %s", p.state)
		}
		slave.Write([]byte("1"))
		if err := waitData(ctx, p, 1); err != nil {
			return 0, err
		}
		slave.Write([]byte("2345"))
		if err := waitData(ctx, p, 5); err != nil {
			return 0, err
		}
		if p.data.String() != "12345" {
			t.Errorf("read %q", p.data.String())
		}
		slave.Close()
		tr.Close()
		if _, err := asyncio.WaitFor[struct{}](ctx, p.done, 30*time.Second); err != nil {
			return 0, err
		}
		if p.state != "CLOSED" {
			t.Errorf("state %s", p.state)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_events.py: test_write_pty: a write pipe transport on a (raw)
// pty's slave; the master reads what it writes; Close ends it.
func TestEvents_test_write_pty(t *testing.T) {
	master, slave := openPTY(t, true)
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, loop)
		tr, _, err := asyncio.ConnectWritePipe(ctx, func() *recProto { return p }, slave)
		if err != nil {
			return 0, err
		}
		tr.Write([]byte("1"))
		if s, err := readAtLeast(ctx, master, 1); err != nil || s != "1" {
			t.Errorf("master read %q, %v", s, err)
		}
		tr.Write([]byte("2345"))
		if s, err := readAtLeast(ctx, master, 4); err != nil || s != "2345" {
			t.Errorf("master read %q, %v", s, err)
		}
		tr.Close()
		if _, err := asyncio.WaitFor[struct{}](ctx, p.done, 30*time.Second); err != nil {
			return 0, err
		}
		if p.state != "CLOSED" || p.lostErr != nil {
			t.Errorf("state %s, lost with %v", p.state, p.lostErr)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_events.py: test_bidirectional_pty: a read and a write pipe
// transport on one pty master (the writer on a duplicate of its fd): what
// the slave writes is read, what the writer writes reaches the slave.
func TestEvents_test_bidirectional_pty(t *testing.T) {
	master, slave := openPTY(t, true)
	dup, err := syscall.Dup(int(master.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	masterW := os.NewFile(uintptr(dup), "master-w")
	defer masterW.Close()
	_, err = runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		rp := newRecProto(t, loop)
		rtr, _, err := asyncio.ConnectReadPipe(ctx, func() *recProto { return rp }, master)
		if err != nil {
			return 0, err
		}
		wp := newRecProto(t, loop)
		wtr, _, err := asyncio.ConnectWritePipe(ctx, func() *recProto { return wp }, masterW)
		if err != nil {
			return 0, err
		}
		slave.Write([]byte("1"))
		if err := waitData(ctx, rp, 1); err != nil {
			return 0, err
		}
		wtr.Write([]byte("2"))
		if s, err := readAtLeast(ctx, slave, 1); err != nil || s != "2" {
			t.Errorf("slave read %q, %v", s, err)
		}
		slave.Write([]byte("3"))
		if err := waitData(ctx, rp, 2); err != nil {
			return 0, err
		}
		if rp.data.String() != "13" {
			t.Errorf("master read %q", rp.data.String())
		}
		wtr.Write([]byte("4"))
		if s, err := readAtLeast(ctx, slave, 1); err != nil || s != "4" {
			t.Errorf("slave read %q, %v", s, err)
		}
		wtr.Close()
		rtr.Close()
		for _, p := range []*recProto{rp, wp} {
			if _, err := asyncio.WaitFor[struct{}](ctx, p.done, 30*time.Second); err != nil {
				return 0, err
			}
			if p.state != "CLOSED" {
				t.Errorf("state %s", p.state)
			}
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_events.py: test_prompt_cancellation: a SockRecv task cancelled
// while it waits ends cancelled at once, and so does its awaiter.
func TestEvents_test_prompt_cancellation(t *testing.T) {
	r, _ := socketpair(t)
	res, err := runMain(t, func(ctx context.Context) (string, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		f := asyncio.CreateTask(ctx, func(ctx context.Context) ([]byte, error) { return asyncio.SockRecv(ctx, r, 1) })
		main := asyncio.CreateTask(ctx, func(ctx context.Context) (string, error) {
			loop.CallSoon(func(context.Context) { f.Cancel() })
			if _, err := asyncio.Await(ctx, f); errors.Is(err, asyncio.ErrCancelled) {
				return "cancelled", nil
			}
			return "", nil
		})
		res, err := asyncio.Await(ctx, main)
		if !f.Cancelled() {
			t.Error("the SockRecv task is not cancelled")
		}
		return res, err
	})
	if err != nil || res != "cancelled" {
		t.Fatalf("got %q, %v; want \"cancelled\"", res, err)
	}
}

// test_events.py: test_remove_fds_after_closing: once the loop is
// closed, RemoveReader and RemoveWriter report false (no error).
func TestEvents_test_remove_fds_after_closing(t *testing.T) {
	r, w := socketpair(t)
	var loop *asyncio.Loop
	withLoop(t, func(ctx context.Context, l *asyncio.Loop) {
		loop = l
		onLoop(ctx, l, func(context.Context) {
			if err := l.AddReader(rawFd(r), func(context.Context) {}); err != nil {
				t.Errorf("AddReader: %v", err)
			}
			if err := l.AddWriter(rawFd(w), func(context.Context) {}); err != nil {
				t.Errorf("AddWriter: %v", err)
			}
		})
	})
	if ok, err := loop.RemoveReader(rawFd(r)); ok || err != nil {
		t.Errorf("RemoveReader after close = %v, %v; want false", ok, err)
	}
	if ok, err := loop.RemoveWriter(rawFd(w)); ok || err != nil {
		t.Errorf("RemoveWriter after close = %v, %v; want false", ok, err)
	}
}

// test_events.py: test_add_fds_after_closing: once the loop is closed,
// AddReader and AddWriter fail with ErrLoopClosed (RuntimeError).
func TestEvents_test_add_fds_after_closing(t *testing.T) {
	r, w := socketpair(t)
	var loop *asyncio.Loop
	withLoop(t, func(ctx context.Context, l *asyncio.Loop) { loop = l })
	if err := loop.AddReader(rawFd(r), func(context.Context) {}); !errors.Is(err, asyncio.ErrLoopClosed) {
		t.Errorf("AddReader after close = %v, want ErrLoopClosed", err)
	}
	if err := loop.AddWriter(rawFd(w), func(context.Context) {}); !errors.Is(err, asyncio.ErrLoopClosed) {
		t.Errorf("AddWriter after close = %v, want ErrLoopClosed", err)
	}
}

// test_events.py TestServer: test_get_loop: a server's Loop is the loop
// that made it.
func TestEvents_test_get_loop(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		srv, err := asyncio.CreateServer(ctx, func() *echoProto { return &echoProto{} }, "0.0.0.0", 0, nil)
		if err != nil {
			return 0, err
		}
		if srv.Loop() != loop {
			t.Error("Server.Loop is not the server's loop")
		}
		srv.Close()
		return 0, srv.WaitClosed(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// tlsServerAt starts a TLS server of recProtos with cfg on a TCP port
// (network "tcp") or a Unix socket path (network "unix"); it returns the
// server and a future set to the first connection's protocol.
func tlsServerAt(t *testing.T, ctx context.Context, network string, cfg *tls.Config) (*asyncio.Server, string, int, *asyncio.Future[*recProto]) {
	loop, _ := asyncio.GetRunningLoop(ctx)
	first := asyncio.NewFuture[*recProto](loop)
	factory := func() *recProto {
		p := newRecProto(t, loop)
		p.onMade = func(p *recProto) {
			if !first.Done() {
				first.SetResult(p)
			}
		}
		p.onData = func(p *recProto, b []byte) { p.transport.Write(b) }
		return p
	}
	opts := &asyncio.ServerOptions{TLS: cfg}
	if network == "unix" {
		path := filepath.Join(t.TempDir(), "tls.sock")
		srv, err := asyncio.CreateUnixServer(ctx, factory, path, opts)
		if err != nil {
			t.Errorf("CreateUnixServer: %v", err)
			return nil, "", 0, first
		}
		return srv, path, 0, first
	}
	srv, err := asyncio.CreateServer(ctx, factory, "127.0.0.1", 0, opts)
	if err != nil {
		t.Errorf("CreateServer: %v", err)
		return nil, "", 0, first
	}
	return srv, "127.0.0.1", mustAddr(t, srv).Port, first
}

// tlsConnect connects a recProto to a TLS server over TCP
// (CreateConnection) or a Unix socket (CreateUnixConnection), with TLS.
func tlsConnect(t *testing.T, ctx context.Context, network, host string, port int, cfg *tls.Config, serverName string) (asyncio.Transport, *recProto, error) {
	loop, _ := asyncio.GetRunningLoop(ctx)
	p := newRecProto(t, loop)
	opts := &asyncio.ConnectOptions{TLS: cfg, TLSOptions: asyncio.TLSOptions{ServerHostname: serverName}}
	if network == "unix" {
		tr, _, err := asyncio.CreateUnixConnection(ctx, func() *recProto { return p }, host, opts)
		return tr, p, err
	}
	tr, _, err := asyncio.CreateConnection(ctx, func() *recProto { return p }, host, port, opts)
	return tr, p, err
}

// tlsEcho checks a TLS connection end to end: extra info, then a line
// echoed by the server, then a clean close on both sides.
func tlsEcho(t *testing.T, ctx context.Context, tr asyncio.Transport, p *recProto, first *asyncio.Future[*recProto]) error {
	if cert, _ := tr.GetExtraInfo("peercert").(*x509.Certificate); cert == nil || cert.Subject.CommonName != "localhost" {
		t.Errorf("client peercert %v", tr.GetExtraInfo("peercert"))
	}
	if tr.GetExtraInfo("sslcontext") == nil || tr.GetExtraInfo("cipher") == nil {
		t.Error("client sslcontext or cipher missing")
	}
	tr.Write([]byte("hello\n"))
	if err := waitData(ctx, p, 6); err != nil {
		return err
	}
	if p.data.String() != "hello\n" {
		t.Errorf("echo %q", p.data.String())
	}
	sp, err := asyncio.Await(ctx, first)
	if err != nil {
		return err
	}
	if sp.transport.GetExtraInfo("sslcontext") == nil {
		t.Error("server side sslcontext missing")
	}
	tr.Close()
	if _, err := asyncio.WaitFor[struct{}](ctx, p.done, 30*time.Second); err != nil {
		return err
	}
	_, err = asyncio.WaitFor[struct{}](ctx, sp.done, 30*time.Second)
	return err
}

// verifyFailed connects a client that does not trust the server's CA; the
// connection fails with a certificate verification error and the
// server's protocol never sees a connection.
func verifyFailed(t *testing.T, network string) {
	serverCfg, _ := testCerts()
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		srv, host, port, first := tlsServerAt(t, ctx, network, serverCfg)
		if srv == nil {
			return 0, nil
		}
		defer srv.Close()
		_, _, err := tlsConnect(t, ctx, network, host, port, &tls.Config{}, "localhost")
		var verr *tls.CertificateVerificationError
		if !errors.As(err, &verr) {
			t.Errorf("err = %v, want a certificate verification error", err)
		}
		asyncio.Sleep(ctx, 50*time.Millisecond)
		if first.Done() {
			t.Error("the server's protocol got a connection whose handshake failed")
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_events.py: test_create_server_ssl_verify_failed.
func TestEvents_test_create_server_ssl_verify_failed(t *testing.T) {
	verifyFailed(t, "tcp")
}

// test_events.py: test_create_server_ssl_match_failed: the client trusts
// the CA but asks for another host name: the connection fails with a
// host name mismatch, and the server's protocol never sees it.
func TestEvents_test_create_server_ssl_match_failed(t *testing.T) {
	serverCfg, clientCfg := testCerts()
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		srv, host, port, first := tlsServerAt(t, ctx, "tcp", serverCfg)
		if srv == nil {
			return 0, nil
		}
		defer srv.Close()
		_, _, err := tlsConnect(t, ctx, "tcp", host, port, clientCfg, "not-localhost.example")
		var herr x509.HostnameError
		if !errors.As(err, &herr) {
			t.Errorf("err = %v, want an x509.HostnameError", err)
		}
		asyncio.Sleep(ctx, 50*time.Millisecond)
		if first.Done() {
			t.Error("the server's protocol got a connection whose handshake failed")
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// verified connects a client that trusts the server's CA and checks the
// host name: the connection works end to end.
func verified(t *testing.T, network string) {
	serverCfg, clientCfg := testCerts()
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		srv, host, port, first := tlsServerAt(t, ctx, network, serverCfg)
		if srv == nil {
			return 0, nil
		}
		defer srv.Close()
		tr, p, err := tlsConnect(t, ctx, network, host, port, clientCfg, "localhost")
		if err != nil {
			return 0, err
		}
		return 0, tlsEcho(t, ctx, tr, p, first)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_events.py: test_create_server_ssl_verified.
func TestEvents_test_create_server_ssl_verified(t *testing.T) {
	verified(t, "tcp")
}

// addReplace is trio-asyncio's check_add_replace: a second callback for
// the same fd and direction replaces the first (only the second runs),
// removing reports true, and removing again false.
func addReplace(t *testing.T, write bool) {
	r, w := socketpair(t)
	fd := rawFd(r)
	add, remove := "AddReader", "RemoveReader"
	if write {
		fd, add, remove = rawFd(w), "AddWriter", "RemoveWriter"
	}
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		addFn, removeFn := loop.AddReader, loop.RemoveReader
		if write {
			addFn, removeFn = loop.AddWriter, loop.RemoveWriter
		}
		var ran []string
		second := &asyncio.Event{}
		if ok, err := removeFn(fd); ok || err != nil {
			t.Errorf("%s before any %s = %v, %v; want false", remove, add, ok, err)
		}
		if err := addFn(fd, func(context.Context) { ran = append(ran, "func") }); err != nil {
			return 0, err
		}
		if err := addFn(fd, func(context.Context) { ran = append(ran, "func2"); second.Set() }); err != nil {
			return 0, err
		}
		if !write {
			w.Write([]byte("x")) // make r readable
		}
		if err := second.Wait(ctx); err != nil {
			return 0, err
		}
		if ok, err := removeFn(fd); !ok || err != nil {
			t.Errorf("%s = %v, %v; want true", remove, ok, err)
		}
		n := len(ran)
		runBriefly(ctx)
		if len(ran) != n {
			t.Errorf("the callback ran after %s", remove)
		}
		for _, who := range ran {
			if who != "func2" {
				t.Errorf("the replaced callback ran (%v)", ran)
				break
			}
		}
		if ok, err := removeFn(fd); ok || err != nil {
			t.Errorf("second %s = %v, %v; want false", remove, ok, err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// trio-asyncio aiotest test_add_reader.py: test_add_reader_replace.
func TestAddReader_test_add_reader_replace(t *testing.T) { addReplace(t, false) }

// trio-asyncio aiotest test_add_reader.py: test_add_writer_replace.
func TestAddReader_test_add_writer_replace(t *testing.T) { addReplace(t, true) }

// tcpHelloProto is trio-asyncio's TcpEchoClientProtocol: it sends its
// message on ConnectionMade and records the states it goes through.
type tcpHelloProto struct {
	asyncio.ProtocolBase
	message  []byte
	states   []string
	received []byte
	lost     *asyncio.Future[struct{}]
}

func (p *tcpHelloProto) ConnectionMade(tr asyncio.Transport) {
	p.states = append(p.states, "ping")
	tr.Write(p.message)
}

func (p *tcpHelloProto) DataReceived(b []byte) {
	if len(p.states) == 0 || p.states[len(p.states)-1] != "pong" {
		p.states = append(p.states, "pong")
	}
	p.received = append(p.received, b...)
}

func (p *tcpHelloProto) ConnectionLost(error) {
	p.states = append(p.states, "closed")
	p.lost.SetResult(struct{}{})
}

// trio-asyncio aiotest test_network.py: test_tcp_hello: a client protocol
// sends "Hello World!" to an echo server running in another goroutine (a
// thread upstream), gets it back, and sees the connection close: its
// states go new → ping → pong → closed.
func TestNetwork_test_tcp_hello(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		defer ln.Close()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 100)
		n, _ := c.Read(buf)
		c.Write(buf[:n])
	}()
	defer func() { ln.Close(); <-served }()
	message := []byte("Hello World!")
	p, err := runMain(t, func(ctx context.Context) (*tcpHelloProto, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := &tcpHelloProto{message: message, lost: asyncio.NewFuture[struct{}](loop)}
		if _, _, err := asyncio.CreateConnection(ctx, func() *tcpHelloProto { return p }, "127.0.0.1", ln.Addr().(*net.TCPAddr).Port, nil); err != nil {
			return nil, err
		}
		_, err := asyncio.WaitFor[struct{}](ctx, p.lost, 30*time.Second)
		return p, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(p.states) != "[ping pong closed]" || !bytes.Equal(p.received, message) {
		t.Fatalf("states %v, received %q", p.states, p.received)
	}
}

// test_events.py: test_create_server_sock: CreateServer serves a socket
// it is given (ServerOptions.Listener): it listens on that socket's
// address, and a client's connection reaches the protocol.
func TestEvents_test_create_server_sock(t *testing.T) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{}); err != nil {
		syscall.Close(fd)
		t.Fatal(err)
	}
	sock := os.NewFile(uintptr(fd), "sock")
	defer sock.Close()
	_, err = runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		made := asyncio.NewFuture[*recProto](loop)
		if _, err := asyncio.CreateServer(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", 0,
			&asyncio.ServerOptions{Listener: sock}); !errors.Is(err, asyncio.ErrListenerWithAddress) {
			t.Errorf("Socket with a host: err = %v, want ErrListenerWithAddress", err)
		}
		srv, err := asyncio.CreateServer(ctx, func() *recProto {
			p := newRecProto(t, loop)
			p.onMade = func(p *recProto) { made.SetResult(p) }
			return p
		}, "", 0, &asyncio.ServerOptions{Listener: sock})
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		addr := mustAddr(t, srv)
		if !addr.IP.Equal(net.IPv4zero) || len(srv.Sockets()) != 1 {
			t.Errorf("listening on %v, want the socket's 0.0.0.0", srv.Sockets())
		}
		c, err := asyncio.ToThread(ctx, func(context.Context) (net.Conn, error) {
			return net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", addr.Port))
		})
		if err != nil {
			return 0, err
		}
		defer c.Close()
		c.Write([]byte("xxx"))
		p, err := asyncio.WaitFor[*recProto](ctx, made, 30*time.Second)
		if err != nil {
			return 0, err
		}
		if err := waitData(ctx, p, 3); err != nil {
			return 0, err
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_events.py: test_create_unix_server_path_socket_error: a path and
// a Listener together are refused (ErrListenerWithAddress).
func TestEvents_test_create_unix_server_path_socket_error(t *testing.T) {
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	sock := os.NewFile(uintptr(fd), "sock")
	defer sock.Close()
	_, err = runMain(t, func(ctx context.Context) (int, error) {
		_, err := asyncio.CreateUnixServer(ctx, func() *echoProto { return &echoProto{} }, "/test", &asyncio.ServerOptions{Listener: sock})
		if !errors.Is(err, asyncio.ErrListenerWithAddress) {
			t.Errorf("err = %v, want ErrListenerWithAddress", err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
