//go:build linux

package asyncio_test

// The I/O cases of CPython's test_base_events.py (addresses, connections,
// servers, datagram endpoints), against real sockets, named
// TestBaseEvents_<case>.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// test_base_events.py: test_ipaddr_info (and test_create_connection_ip_addr,
// test_create_datagram_endpoint_ip_addr): a numeric host is used as it
// is, without a lookup in the executor (here one that refuses all work),
// and an address of the wrong family is refused.
func TestBaseEvents_test_ipaddr_info(t *testing.T) {
	pp := newPlainPeer(t)
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		loop.SetDefaultExecutor(dummyExecutor{})
		aps, err := asyncio.Getaddrinfo(ctx, "ip", "1.2.3.4", 1)
		if err != nil || len(aps) != 1 || aps[0] != netip.MustParseAddrPort("1.2.3.4:1") {
			t.Errorf("Getaddrinfo(1.2.3.4) = %v, %v", aps, err)
		}
		aps, err = asyncio.Getaddrinfo(ctx, "ip6", "::3", 1)
		if err != nil || len(aps) != 1 || aps[0] != netip.MustParseAddrPort("[::3]:1") {
			t.Errorf("Getaddrinfo(::3) = %v, %v", aps, err)
		}
		if _, err := asyncio.Getaddrinfo(ctx, "ip6", "1.2.3.4", 1); err == nil {
			t.Error("IPv4 address with family ip6: no error")
		}
		if _, err := asyncio.Getaddrinfo(ctx, "ip4", "::3", 1); err == nil {
			t.Error("IPv6 address with family ip4: no error")
		}
		tr, _, err := asyncio.CreateConnection(ctx, func() *recProto { return newRecProto(t, loop) }, "127.0.0.1", pp.port(), nil)
		if err != nil {
			t.Errorf("CreateConnection(127.0.0.1) with no executor: %v", err)
		} else {
			tr.Close()
		}
		dt, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, &asyncio.DatagramOptions{LocalAddr: "127.0.0.1:0"})
		if err != nil {
			t.Errorf("CreateDatagramEndpoint(127.0.0.1) with no executor: %v", err)
		} else {
			dt.Close()
		}
		return nil
	})
}

// test_base_events.py: test_getnameinfo: the host name (or the address)
// and the port of an address, looked up in the executor.
func TestBaseEvents_test_getnameinfo(t *testing.T) {
	streamsMain(t, func(ctx context.Context) error {
		host, port, err := asyncio.Getnameinfo(ctx, netip.MustParseAddrPort("127.0.0.1:123"))
		if err != nil || host == "" || port != "123" {
			t.Errorf("Getnameinfo = %q, %q, %v", host, port, err)
		}
		return nil
	})
}

// test_base_events.py: test_create_connection_no_getaddrinfo: a host with
// no address of the family asked for fails, without a socket left open.
func TestBaseEvents_test_create_connection_no_getaddrinfo(t *testing.T) {
	fds0 := openFds(t)
	streamsMain(t, func(ctx context.Context) error {
		_, _, err := asyncio.CreateConnection(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, "127.0.0.1", 80, &asyncio.ConnectOptions{Network: "tcp6"})
		if err == nil {
			t.Error("CreateConnection with no address of the family: no error")
		}
		return nil
	})
	if fds := openFds(t); fds != fds0 {
		t.Errorf("open fds %d before, %d after", fds0, fds)
	}
}

// test_base_events.py: test_create_connection_multiple_errors_local_addr
// (and test_create_connection_no_local_addr): the local address cannot be
// bound (its port is a listener's; or its family is not the remote's):
// the error says so and the socket is closed.
func TestBaseEvents_test_create_connection_multiple_errors_local_addr(t *testing.T) {
	pp := newPlainPeer(t)
	fds0 := openFds(t)
	streamsMain(t, func(ctx context.Context) error {
		f := func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }
		_, _, err := asyncio.CreateConnection(ctx, f, "127.0.0.1", pp.port(), &asyncio.ConnectOptions{LocalAddr: pp.ln.Addr().String()})
		if !errors.Is(err, syscall.EADDRINUSE) {
			t.Errorf("local address in use: %v, want EADDRINUSE", err)
		}
		if hasIPv6() {
			if _, _, err := asyncio.CreateConnection(ctx, f, "::1", pp.port(), &asyncio.ConnectOptions{LocalAddr: "127.0.0.1:0"}); err == nil {
				t.Error("IPv4 local address for an IPv6 remote: no error")
			}
		}
		return nil
	})
	if fds := openFds(t); fds != fds0 {
		t.Errorf("open fds %d before, %d after", fds0, fds)
	}
}

// test_base_events.py: test_create_server_cant_bind: a port in use fails
// CreateServer with EADDRINUSE, closing what it opened.
func TestBaseEvents_test_create_server_cant_bind(t *testing.T) {
	pp := newPlainPeer(t)
	fds0 := openFds(t)
	streamsMain(t, func(ctx context.Context) error {
		_, err := asyncio.CreateServer(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, "127.0.0.1", pp.port(), nil)
		if !errors.Is(err, syscall.EADDRINUSE) {
			t.Errorf("CreateServer on a port in use: %v, want EADDRINUSE", err)
		}
		return nil
	})
	if fds := openFds(t); fds != fds0 {
		t.Errorf("open fds %d before, %d after", fds0, fds)
	}
}

// test_base_events.py: test_create_server_empty_host: host "" listens on
// every interface (0.0.0.0, and :: with IPv6).
func TestBaseEvents_test_create_server_empty_host(t *testing.T) {
	streamsMain(t, func(ctx context.Context) error {
		srv, err := asyncio.CreateServer(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, "", 0, nil)
		if err != nil {
			return err
		}
		defer srv.Close()
		var v4, v6 bool
		for _, a := range srv.Sockets() {
			ip := a.(*net.TCPAddr).IP
			v4 = v4 || ip.Equal(net.IPv4zero)
			v6 = v6 || ip.Equal(net.IPv6unspecified) && ip.To4() == nil
		}
		if !v4 || (hasIPv6() && !v6) {
			t.Errorf("sockets %v: want the unspecified addresses", srv.Sockets())
		}
		return nil
	})
}

// test_base_events.py: test_create_server_ipv6: a server on ::1.
func TestBaseEvents_test_create_server_ipv6(t *testing.T) {
	if !hasIPv6() {
		t.Skip("no IPv6")
	}
	streamsMain(t, func(ctx context.Context) error {
		srv, err := asyncio.CreateServer(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, "::1", 0, nil)
		if err != nil {
			return err
		}
		defer srv.Close()
		if len(srv.Sockets()) == 0 || srv.Sockets()[0].(*net.TCPAddr).IP.To4() != nil {
			t.Errorf("sockets %v", srv.Sockets())
		}
		return nil
	})
}

// test_base_events.py: test_create_datagram_endpoint_sockopts: no
// SO_REUSEADDR, SO_REUSEPORT or SO_BROADCAST unless asked for; set when
// asked for.
func TestBaseEvents_test_create_datagram_endpoint_sockopts(t *testing.T) {
	streamsMain(t, func(ctx context.Context) error {
		f := func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }
		opt := func(tr asyncio.Transport, o int) int {
			v, _ := syscall.GetsockoptInt(tr.GetExtraInfo("socket").(int), syscall.SOL_SOCKET, o)
			return v
		}
		tr, _, err := asyncio.CreateDatagramEndpoint(ctx, f, &asyncio.DatagramOptions{LocalAddr: "127.0.0.1:0"})
		if err != nil {
			return err
		}
		if opt(tr, 0xf) != 0 || opt(tr, syscall.SO_BROADCAST) != 0 || opt(tr, syscall.SO_REUSEADDR) != 0 {
			t.Error("socket options set without being asked for")
		}
		tr.Close()
		tr, _, err = asyncio.CreateDatagramEndpoint(ctx, f, &asyncio.DatagramOptions{LocalAddr: "127.0.0.1:0", ReusePort: true, AllowBroadcast: true})
		if err != nil {
			return err
		}
		if opt(tr, 0xf) == 0 || opt(tr, syscall.SO_BROADCAST) == 0 || opt(tr, syscall.SO_REUSEADDR) != 0 {
			t.Error("SO_REUSEPORT/SO_BROADCAST not set, or SO_REUSEADDR set")
		}
		tr.Close()
		return nil
	})
}

// test_base_events.py: test_create_datagram_endpoint_addr_error,
// test_create_datagram_endpoint_connect_err and
// test_create_datagram_endpoint_sock_sockopts: an address without a
// port, a remote that cannot be connected, and Conn with addresses are
// errors.
func TestBaseEvents_test_create_datagram_endpoint_addr_error(t *testing.T) {
	dir := t.TempDir()
	streamsMain(t, func(ctx context.Context) error {
		f := func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }
		for _, o := range []*asyncio.DatagramOptions{
			{LocalAddr: "localhost"},
			{Network: "unixgram", RemoteAddr: dir + "/nobody"},
		} {
			if tr, _, err := asyncio.CreateDatagramEndpoint(ctx, f, o); err == nil {
				t.Errorf("%+v: no error", *o)
				tr.Close()
			}
		}
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return err
		}
		defer c.Close()
		if _, _, err := asyncio.CreateDatagramEndpoint(ctx, f, &asyncio.DatagramOptions{Conn: c, LocalAddr: "127.0.0.1:0"}); !errors.Is(err, asyncio.ErrDatagramOptions) {
			t.Errorf("Conn with LocalAddr: %v, want ErrDatagramOptions", err)
		}
		return nil
	})
}

// stillOpen reports whether c's socket is still open.
func stillOpen(c syscall.Conn) bool {
	rc, err := c.SyscallConn()
	return err == nil && rc.Control(func(uintptr) {}) == nil
}

// test_base_events.py: test_create_connection_ssl_timeout_for_plain_socket:
// a TLS handshake or shutdown timeout without TLS is refused
// (ErrTLSOptionWithoutTLS) before anything is connected, by
// CreateConnection and OpenConnection.
func TestBaseEvents_test_create_connection_ssl_timeout_for_plain_socket(t *testing.T) {
	pp := newPlainPeer(t)
	streamsMain(t, func(ctx context.Context) error {
		f := func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }
		for _, o := range []asyncio.TLSOptions{{HandshakeTimeout: time.Second}, {ShutdownTimeout: time.Second}} {
			if _, _, err := asyncio.CreateConnection(ctx, f, "127.0.0.1", pp.port(), &asyncio.ConnectOptions{TLSOptions: o}); !errors.Is(err, asyncio.ErrTLSOptionWithoutTLS) {
				t.Errorf("CreateConnection with %+v and no TLS: %v, want ErrTLSOptionWithoutTLS", o, err)
			}
			if _, _, err := asyncio.OpenConnection(ctx, "127.0.0.1", pp.port(), &asyncio.ConnectOptions{TLSOptions: o}); !errors.Is(err, asyncio.ErrTLSOptionWithoutTLS) {
				t.Errorf("OpenConnection with %+v and no TLS: %v, want ErrTLSOptionWithoutTLS", o, err)
			}
		}
		// Nothing was connected: the peer's listener has accepted nothing.
		tr, _, err := asyncio.CreateConnection(ctx, f, "127.0.0.1", pp.port(), nil)
		if err != nil {
			return err
		}
		defer tr.Close()
		peer := pp.peer(ctx)
		if peer == nil || peer.RemoteAddr().String() != tr.GetExtraInfo("sockname").(net.Addr).String() {
			t.Errorf("the first connection accepted is %v, want the plain one %v", peer.RemoteAddr(), tr.GetExtraInfo("sockname"))
		}
		return nil
	})
}

// test_base_events.py: test_create_server_ssl_timeout_for_plain_socket:
// TLS options without TLS are refused by CreateServer, CreateUnixServer,
// StartServer and StartUnixServer, with nothing left listening.
func TestBaseEvents_test_create_server_ssl_timeout_for_plain_socket(t *testing.T) {
	dir := t.TempDir()
	fds0 := openFds(t)
	streamsMain(t, func(ctx context.Context) error {
		f := func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }
		cb := func(context.Context, *asyncio.StreamReader, *asyncio.StreamWriter) error { return nil }
		for _, o := range []asyncio.TLSOptions{{HandshakeTimeout: time.Second}, {ShutdownTimeout: time.Second}, {ServerHostname: "example.com"}} {
			opts := &asyncio.ServerOptions{TLSOptions: o}
			if _, err := asyncio.CreateServer(ctx, f, "127.0.0.1", 0, opts); !errors.Is(err, asyncio.ErrTLSOptionWithoutTLS) {
				t.Errorf("CreateServer with %+v and no TLS: %v", o, err)
			}
			if _, err := asyncio.StartServer(ctx, cb, "127.0.0.1", 0, opts); !errors.Is(err, asyncio.ErrTLSOptionWithoutTLS) {
				t.Errorf("StartServer with %+v and no TLS: %v", o, err)
			}
			if _, err := asyncio.CreateUnixServer(ctx, f, dir+"/s", opts); !errors.Is(err, asyncio.ErrTLSOptionWithoutTLS) {
				t.Errorf("CreateUnixServer with %+v and no TLS: %v", o, err)
			}
			if _, err := asyncio.StartUnixServer(ctx, cb, dir+"/s", opts); !errors.Is(err, asyncio.ErrTLSOptionWithoutTLS) {
				t.Errorf("StartUnixServer with %+v and no TLS: %v", o, err)
			}
		}
		if _, err := os.Stat(dir + "/s"); err == nil {
			t.Error("a Unix server refused left its socket file")
		}
		// With TLS the same options are taken.
		srvCfg, _ := testCerts()
		srv, err := asyncio.CreateServer(ctx, f, "127.0.0.1", 0, &asyncio.ServerOptions{TLS: srvCfg, TLSOptions: asyncio.TLSOptions{HandshakeTimeout: time.Second}})
		if err != nil {
			return err
		}
		srv.Close()
		return nil
	})
	if fds := openFds(t); fds != fds0 {
		t.Errorf("open fds %d before, %d after", fds0, fds)
	}
}

// test_base_events.py: test_create_connection_no_ssl_server_hostname_errors:
// a ServerHostname without TLS is refused (ErrTLSOptionWithoutTLS). (An
// empty ServerHostname is no server hostname in Go: asyncio's
// empty server_hostname case has no counterpart.)
func TestBaseEvents_test_create_connection_no_ssl_server_hostname_errors(t *testing.T) {
	pp := newPlainPeer(t)
	streamsMain(t, func(ctx context.Context) error {
		f := func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }
		opts := &asyncio.ConnectOptions{TLSOptions: asyncio.TLSOptions{ServerHostname: "python.org"}}
		if _, _, err := asyncio.CreateConnection(ctx, f, "127.0.0.1", pp.port(), opts); !errors.Is(err, asyncio.ErrTLSOptionWithoutTLS) {
			t.Errorf("CreateConnection with a ServerHostname and no TLS: %v, want ErrTLSOptionWithoutTLS", err)
		}
		if _, _, err := asyncio.OpenConnection(ctx, "127.0.0.1", pp.port(), opts); !errors.Is(err, asyncio.ErrTLSOptionWithoutTLS) {
			t.Errorf("OpenConnection with a ServerHostname and no TLS: %v, want ErrTLSOptionWithoutTLS", err)
		}
		return nil
	})
}

// test_base_events.py: test_create_connection_ssl_server_hostname_errors:
// TLS to an empty host needs a name to check the certificate against:
// without ServerHostname or the config's ServerName it is refused
// (ErrTLSNoServerHostname); with either it goes on (to the connect).
// asyncio's sock= case has no counterpart (ConnectAcceptedSocket takes no
// TLS).
func TestBaseEvents_test_create_connection_ssl_server_hostname_errors(t *testing.T) {
	streamsMain(t, func(ctx context.Context) error {
		f := func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }
		_, cli := testCerts()
		if _, _, err := asyncio.CreateConnection(ctx, f, "", 80, &asyncio.ConnectOptions{TLS: cli}); !errors.Is(err, asyncio.ErrTLSNoServerHostname) {
			t.Errorf("TLS to host \"\": %v, want ErrTLSNoServerHostname", err)
		}
		if _, _, err := asyncio.OpenConnection(ctx, "", 80, &asyncio.ConnectOptions{TLS: cli}); !errors.Is(err, asyncio.ErrTLSNoServerHostname) {
			t.Errorf("OpenConnection with TLS to host \"\": %v, want ErrTLSNoServerHostname", err)
		}
		named := cli.Clone()
		named.ServerName = "example.com"
		for _, o := range []*asyncio.ConnectOptions{
			{TLS: cli, TLSOptions: asyncio.TLSOptions{ServerHostname: "example.com"}},
			{TLS: named},
		} {
			tr, _, err := asyncio.CreateConnection(ctx, f, "", 1, o)
			if err == nil {
				tr.Close()
			}
			if errors.Is(err, asyncio.ErrTLSNoServerHostname) {
				t.Errorf("TLS to host \"\" with a server name: %v", err)
			}
		}
		return nil
	})
}

// test_base_events.py: test_create_connection_wrong_sock:
// ConnectAcceptedSocket given a datagram socket refuses it
// (ErrNotStreamSocket) and leaves it open.
func TestBaseEvents_test_create_connection_wrong_sock(t *testing.T) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	streamsMain(t, func(ctx context.Context) error {
		_, _, err := asyncio.ConnectAcceptedSocket(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, c)
		if !errors.Is(err, asyncio.ErrNotStreamSocket) {
			t.Errorf("ConnectAcceptedSocket(UDP socket): %v, want ErrNotStreamSocket", err)
		}
		return nil
	})
	if !stillOpen(c) {
		t.Error("the refused socket was closed")
	}
}

// test_base_events.py: test_create_server_wrong_sock: a server over an
// existing socket (ServerOptions.Listener, asyncio's sock=) refuses a
// datagram socket (ErrNotStreamSocket), and a Unix server refuses a TCP
// listener, leaving them open.
func TestBaseEvents_test_create_server_wrong_sock(t *testing.T) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	streamsMain(t, func(ctx context.Context) error {
		f := func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }
		if _, err := asyncio.CreateServer(ctx, f, "", 0, &asyncio.ServerOptions{Listener: c}); !errors.Is(err, asyncio.ErrNotStreamSocket) {
			t.Errorf("CreateServer over a UDP socket: %v, want ErrNotStreamSocket", err)
		}
		if _, err := asyncio.CreateUnixServer(ctx, f, "", &asyncio.ServerOptions{Listener: ln}); !errors.Is(err, asyncio.ErrNotStreamSocket) {
			t.Errorf("CreateUnixServer over a TCP listener: %v, want ErrNotStreamSocket", err)
		}
		return nil
	})
	if !stillOpen(c) || !stillOpen(ln) {
		t.Error("a refused socket was closed")
	}
}

// test_base_events.py: test_create_server_host_port_sock: a Listener
// with an address to listen on is refused (ErrListenerWithAddress).
func TestBaseEvents_test_create_server_host_port_sock(t *testing.T) {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	streamsMain(t, func(ctx context.Context) error {
		f := func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }
		for _, c := range []struct {
			host string
			port int
			o    asyncio.ServerOptions
		}{
			{"0.0.0.0", 0, asyncio.ServerOptions{Listener: ln}},
			{"", 8080, asyncio.ServerOptions{Listener: ln}},
			{"", 0, asyncio.ServerOptions{Listener: ln, Hosts: []string{"127.0.0.1"}}},
		} {
			if _, err := asyncio.CreateServer(ctx, f, c.host, c.port, &c.o); !errors.Is(err, asyncio.ErrListenerWithAddress) {
				t.Errorf("CreateServer(%q, %d, Hosts %q) with a Listener: %v, want ErrListenerWithAddress", c.host, c.port, c.o.Hosts, err)
			}
		}
		if _, err := asyncio.CreateUnixServer(ctx, f, "/tmp/x", &asyncio.ServerOptions{Listener: ln}); !errors.Is(err, asyncio.ErrListenerWithAddress) {
			t.Errorf("CreateUnixServer with a path and a Listener: %v, want ErrListenerWithAddress", err)
		}
		return nil
	})
	if !stillOpen(ln) {
		t.Error("the refused listener was closed")
	}
}

// A server over an existing listener (ServerOptions.Listener, asyncio's
// create_server(sock=)): a TCP listener, a Unix listener (its socket file
// removed when the server closes) and a bound socket not yet listening
// are served; the loop takes them over and closes the originals.
func TestBaseEvents_create_server_listener(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: dir + "/s", Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ul.Close()
	bfd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(bfd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	bound := os.NewFile(uintptr(bfd), "bound")
	defer bound.Close()
	echo := func() *echoProto { return &echoProto{} }
	ping := func(ctx context.Context, r *asyncio.StreamReader, w *asyncio.StreamWriter) {
		defer w.Close()
		w.Write([]byte("ping"))
		if b, err := r.ReadExactly(ctx, 4); err != nil || string(b) != "ping" {
			t.Errorf("echo: %q, %v", b, err)
		}
	}
	streamsMain(t, func(ctx context.Context) error {
		want := ln.Addr().String()
		srv, err := asyncio.CreateServer(ctx, echo, "", 0, &asyncio.ServerOptions{Listener: ln})
		if err != nil {
			return err
		}
		if s := srv.Sockets(); len(s) != 1 || s[0].String() != want {
			t.Errorf("Sockets() = %v, want [%s]", s, want)
		}
		if stillOpen(ln) {
			t.Error("the Listener taken over is still open")
		}
		host, port := tcpHostPort(srv.Sockets()[0])
		r, w, err := asyncio.OpenConnection(ctx, host, port, nil)
		if err != nil {
			return err
		}
		ping(ctx, r, w)
		srv.Close()

		usrv, err := asyncio.CreateUnixServer(ctx, echo, "", &asyncio.ServerOptions{Listener: ul})
		if err != nil {
			return err
		}
		r, w, err = asyncio.OpenUnixConnection(ctx, dir+"/s", nil)
		if err != nil {
			return err
		}
		ping(ctx, r, w)
		usrv.Close()
		if _, err := os.Stat(dir + "/s"); err == nil {
			t.Error("the Unix server's socket file is still there after Close")
		}

		bsrv, err := asyncio.CreateServer(ctx, echo, "", 0, &asyncio.ServerOptions{Listener: bound})
		if err != nil {
			return err
		}
		host, port = tcpHostPort(bsrv.Sockets()[0])
		r, w, err = asyncio.OpenConnection(ctx, host, port, nil)
		if err != nil {
			return err
		}
		ping(ctx, r, w)
		bsrv.Close()
		return nil
	})
}

// test_base_events.py: test_create_datagram_endpoint_wrong_sock: Conn
// given a stream socket is refused (ErrDatagramOptions) and left open.
func TestBaseEvents_test_create_datagram_endpoint_wrong_sock(t *testing.T) {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	streamsMain(t, func(ctx context.Context) error {
		_, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, &asyncio.DatagramOptions{Conn: ln})
		if !errors.Is(err, asyncio.ErrDatagramOptions) {
			t.Errorf("Conn a TCP listener: %v, want ErrDatagramOptions", err)
		}
		return nil
	})
	if !stillOpen(ln) {
		t.Error("the refused socket was closed")
	}
}

// waitEvent waits for e, failing after a generous bound (so that a
// datagram that never comes fails the test rather than hanging it).
func waitEvent(ctx context.Context, e *asyncio.Event) error {
	_, err := asyncio.WaitFor(ctx, asyncio.CreateTask(ctx, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, e.Wait(ctx)
	}), 30*time.Second)
	return err
}

// readUDP reads one datagram from c, off the loop.
func readUDP(ctx context.Context, c *net.UDPConn) string {
	return offLoop(ctx, func() string {
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		b := make([]byte, 100)
		n, _, err := c.ReadFrom(b)
		if err != nil {
			return err.Error()
		}
		return string(b[:n])
	})
}

// test_base_events.py: test_create_datagram_endpoint_allow_broadcast: with
// AllowBroadcast the endpoint is not connected to its remote address: it
// sends there by default, refuses other destinations, and receives from
// anyone.
func TestBaseEvents_test_create_datagram_endpoint_allow_broadcast(t *testing.T) {
	remote, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer remote.Close()
	other, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	streamsMain(t, func(ctx context.Context) error {
		l, _ := asyncio.GetRunningLoop(ctx)
		p := newDgramProto(l)
		tr, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *dgramProto { return p },
			&asyncio.DatagramOptions{RemoteAddr: remote.LocalAddr().String(), AllowBroadcast: true})
		if err != nil {
			return err
		}
		if pn := tr.GetExtraInfo("peername"); pn != nil {
			t.Errorf("peername %v: the endpoint is connected", pn)
		}
		if v, _ := syscall.GetsockoptInt(tr.GetExtraInfo("socket").(int), syscall.SOL_SOCKET, syscall.SO_BROADCAST); v == 0 {
			t.Error("SO_BROADCAST not set")
		}
		if err := tr.SendTo([]byte("a"), nil); err != nil {
			t.Errorf("SendTo(nil): %v", err)
		}
		if got := readUDP(ctx, remote); got != "a" {
			t.Errorf("remote got %q, want a", got)
		}
		if err := tr.Write([]byte("b")); err != nil {
			t.Errorf("Write: %v", err)
		}
		if got := readUDP(ctx, remote); got != "b" {
			t.Errorf("remote got %q, want b", got)
		}
		if err := tr.SendTo([]byte("c"), remote.LocalAddr()); err != nil {
			t.Errorf("SendTo(remote): %v", err)
		}
		if got := readUDP(ctx, remote); got != "c" {
			t.Errorf("remote got %q, want c", got)
		}
		if err := tr.SendTo([]byte("x"), other.LocalAddr()); !errors.Is(err, asyncio.ErrDatagramAddress) {
			t.Errorf("SendTo(another address): %v, want ErrDatagramAddress", err)
		}
		// Not connected: a datagram from another socket than the remote
		// one arrives.
		port := tr.GetExtraInfo("sockname").(*net.UDPAddr).Port
		if _, err := other.WriteTo([]byte("hi"), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}); err != nil {
			return err
		}
		if err := waitEvent(ctx, p.gotData); err != nil {
			return err
		}
		if p.got[0] != "hi" || p.from[0].String() != other.LocalAddr().String() {
			t.Errorf("got %q from %v, want hi from %v", p.got, p.from, other.LocalAddr())
		}
		tr.Close()
		if _, err := asyncio.Await(ctx, p.done); err != nil {
			return err
		}
		if p.state != "CLOSED" {
			t.Errorf("state %s, want CLOSED", p.state)
		}
		return nil
	})
}

// test_base_events.py: test_create_datagram_endpoint_no_matching_family:
// an IPv4 remote address with an IPv6 local address (or an address of
// another family than the network's) is refused, without a socket.
func TestBaseEvents_test_create_datagram_endpoint_no_matching_family(t *testing.T) {
	fds0 := openFds(t)
	streamsMain(t, func(ctx context.Context) error {
		f := func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }
		for _, o := range []*asyncio.DatagramOptions{
			{RemoteAddr: "127.0.0.1:9", LocalAddr: "[::1]:0"},
			{RemoteAddr: "[::1]:9", LocalAddr: "127.0.0.1:0"},
			{Network: "udp4", LocalAddr: "[::1]:0"},
			{Network: "udp6", RemoteAddr: "127.0.0.1:9"},
		} {
			if tr, _, err := asyncio.CreateDatagramEndpoint(ctx, f, o); !errors.Is(err, asyncio.ErrDatagramOptions) {
				t.Errorf("%+v: %v, want ErrDatagramOptions", *o, err)
				if err == nil {
					tr.Close()
				}
			}
		}
		return nil
	})
	if fds := openFds(t); fds != fds0 {
		t.Errorf("open fds %d before, %d after", fds0, fds)
	}
}

// test_base_events.py: test_create_datagram_endpoint_sock_unix: an
// endpoint with no address, of the family its network says (asyncio's
// family=AF_UNIX alone): an unbound Unix datagram socket, which sends
// where it is told; the same for "udp4".
func TestBaseEvents_test_create_datagram_endpoint_sock_unix(t *testing.T) {
	dir := t.TempDir()
	srv, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: dir + "/srv", Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	usrv, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer usrv.Close()
	streamsMain(t, func(ctx context.Context) error {
		l, _ := asyncio.GetRunningLoop(ctx)
		p := newDgramProto(l)
		tr, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *dgramProto { return p }, &asyncio.DatagramOptions{Network: "unixgram"})
		if err != nil {
			return err
		}
		if sa, err := syscall.Getsockname(tr.GetExtraInfo("socket").(int)); err != nil {
			t.Errorf("getsockname: %v", err)
		} else if _, ok := sa.(*syscall.SockaddrUnix); !ok {
			t.Errorf("socket address %T, want a Unix one", sa)
		}
		if err := tr.SendTo([]byte("hi"), srv.LocalAddr()); err != nil {
			t.Errorf("SendTo: %v", err)
		}
		got := offLoop(ctx, func() string {
			srv.SetReadDeadline(time.Now().Add(30 * time.Second))
			b := make([]byte, 10)
			n, _, err := srv.ReadFrom(b)
			if err != nil {
				return err.Error()
			}
			return string(b[:n])
		})
		if got != "hi" {
			t.Errorf("server got %q, want hi", got)
		}
		tr.Close()
		if _, err := asyncio.Await(ctx, p.done); err != nil {
			return err
		}
		if p.state != "CLOSED" {
			t.Errorf("state %s, want CLOSED", p.state)
		}

		tr, _, err = asyncio.CreateDatagramEndpoint(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, &asyncio.DatagramOptions{Network: "udp4"})
		if err != nil {
			return err
		}
		defer tr.Close()
		if err := tr.SendTo([]byte("udp"), usrv.LocalAddr()); err != nil {
			t.Errorf("SendTo: %v", err)
		}
		if got := readUDP(ctx, usrv); got != "udp" {
			t.Errorf("UDP server got %q, want udp", got)
		}
		return nil
	})
}

// test_base_events.py: test_create_datagram_endpoint_existing_sock_unix:
// a stale socket file at a Unix datagram endpoint's local address is
// removed before binding; a file that is not a socket is left alone (the
// bind fails).
func TestBaseEvents_test_create_datagram_endpoint_existing_sock_unix(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/stale"
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	syscall.Close(fd)
	if fi, err := os.Stat(path); err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("no stale socket file: %v", err)
	}
	plain := dir + "/plain"
	if err := os.WriteFile(plain, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	streamsMain(t, func(ctx context.Context) error {
		l, _ := asyncio.GetRunningLoop(ctx)
		p := newDgramProto(l)
		tr, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *dgramProto { return p }, &asyncio.DatagramOptions{Network: "unixgram", LocalAddr: path})
		if err != nil {
			t.Errorf("endpoint at a stale socket file: %v", err)
		} else {
			tr.Close()
			if _, err := asyncio.Await(ctx, p.done); err != nil {
				return err
			}
		}
		if tr, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, &asyncio.DatagramOptions{Network: "unixgram", LocalAddr: plain}); !errors.Is(err, syscall.EADDRINUSE) {
			t.Errorf("endpoint at a plain file: %v, want EADDRINUSE", err)
			if err == nil {
				tr.Close()
			}
		}
		return nil
	})
	if b, err := os.ReadFile(plain); err != nil || string(b) != "keep" {
		t.Errorf("the plain file: %q, %v", b, err)
	}
}

// A nil *net.UDPAddr or *net.UnixAddr given to SendTo is no address: a
// connected endpoint sends to its remote address, an unconnected one
// refuses it (ErrDatagramAddress), without a panic.
func TestBaseEvents_datagram_sendto_typed_nil(t *testing.T) {
	dir := t.TempDir()
	remote, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer remote.Close()
	streamsMain(t, func(ctx context.Context) error {
		f := func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }
		send := func(tr asyncio.DatagramTransport, addr net.Addr) (err error) {
			defer func() {
				if v := recover(); v != nil {
					t.Errorf("SendTo(%T nil) panicked: %v", addr, v)
				}
			}()
			return tr.SendTo([]byte("nil"), addr)
		}
		ctr, _, err := asyncio.CreateDatagramEndpoint(ctx, f, &asyncio.DatagramOptions{RemoteAddr: remote.LocalAddr().String()})
		if err != nil {
			return err
		}
		defer ctr.Close()
		if err := send(ctr, (*net.UDPAddr)(nil)); err != nil {
			t.Errorf("connected SendTo(nil *net.UDPAddr): %v", err)
		}
		if got := readUDP(ctx, remote); got != "nil" {
			t.Errorf("remote got %q, want nil", got)
		}
		utr, _, err := asyncio.CreateDatagramEndpoint(ctx, f, &asyncio.DatagramOptions{LocalAddr: "127.0.0.1:0"})
		if err != nil {
			return err
		}
		defer utr.Close()
		if err := send(utr, (*net.UDPAddr)(nil)); !errors.Is(err, asyncio.ErrDatagramAddress) {
			t.Errorf("unconnected SendTo(nil *net.UDPAddr): %v, want ErrDatagramAddress", err)
		}
		xtr, _, err := asyncio.CreateDatagramEndpoint(ctx, f, &asyncio.DatagramOptions{Network: "unixgram", LocalAddr: dir + "/u"})
		if err != nil {
			return err
		}
		defer xtr.Close()
		if err := send(xtr, (*net.UnixAddr)(nil)); !errors.Is(err, asyncio.ErrDatagramAddress) {
			t.Errorf("unconnected SendTo(nil *net.UnixAddr): %v, want ErrDatagramAddress", err)
		}
		return nil
	})
}

// test_base_events.py: test_create_connection_timeout: a CreateConnection
// timed out (or cancelled) while its TCP connect is under way closes its
// socket. The connect goes to a listener whose accept queue is full: the
// kernel drops the SYNs, so it never completes.
func TestBaseEvents_test_create_connection_timeout(t *testing.T) {
	lfd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(lfd)
	if err := syscall.Bind(lfd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(lfd, 0); err != nil {
		t.Fatal(err)
	}
	sa, _ := syscall.Getsockname(lfd)
	port := sa.(*syscall.SockaddrInet4).Port
	filler, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer filler.Close()
	fds0 := openFds(t)
	streamsMain(t, func(ctx context.Context) error {
		connect := func(ctx context.Context) (asyncio.Transport, error) {
			tr, _, err := asyncio.CreateConnection(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, "127.0.0.1", port, nil)
			return tr, err
		}
		tr, err := asyncio.WaitFor(ctx, asyncio.CreateTask(ctx, connect), 200*time.Millisecond)
		if err == nil {
			tr.Close()
			t.Error("connected to a listener whose accept queue is full")
		} else if !errors.Is(err, asyncio.ErrTimeout) {
			t.Errorf("CreateConnection under WaitFor: %v, want ErrTimeout", err)
		}
		task := asyncio.CreateTask(ctx, connect)
		runBriefly(ctx) // the connect is under way
		task.Cancel("")
		if _, err := asyncio.Await(ctx, task); !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("cancelled CreateConnection: %v, want ErrCancelled", err)
		}
		return nil
	})
	if fds := openFds(t); fds != fds0 {
		t.Errorf("open fds %d before, %d after: a socket left open", fds0, fds)
	}
}

// test_base_events.py: test_accept_connection_exception: a server whose
// accept fails for want of fds (EMFILE, provoked by lowering
// RLIMIT_NOFILE) reports it to the exception handler, keeps its
// listening socket, pauses accepting, and accepts the waiting connection
// once fds are free again.
func TestBaseEvents_test_accept_connection_exception(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		rec := newRecorder(loop)
		var srv *asyncio.Server
		port, err := runTask(ctx, loop, func(ctx context.Context) (int, error) {
			var err error
			srv, err = asyncio.CreateServer(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", 0, nil)
			if err != nil {
				return 0, err
			}
			return srv.Sockets()[0].(*net.TCPAddr).Port, nil
		})
		if err != nil {
			t.Error(err)
			return
		}
		defer onLoop(ctx, loop, func(context.Context) { srv.Close() })
		// The client's socket, made while there are fds.
		cfd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Error(err)
			return
		}
		client := os.NewFile(uintptr(cfd), "client")
		defer client.Close()
		// No fd left: the limit is the lowest free fd.
		free, err := syscall.Open("/dev/null", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			t.Error(err)
			return
		}
		syscall.Close(free)
		restored := false
		restore := func() {
			if !restored {
				restored = true
				if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
					t.Errorf("restoring RLIMIT_NOFILE: %v", err)
				}
			}
		}
		defer restore()
		low := lim
		low.Cur = uint64(free)
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
			t.Error(err)
			return
		}
		// The kernel completes the connection; the server's accept fails.
		if err := syscall.Connect(cfd, &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
			t.Errorf("connect: %v", err)
			return
		}
		var ec asyncio.ExceptionContext
		select {
		case ec = <-rec.ch:
		case <-time.After(30 * time.Second):
			t.Error("no report of the failed accept")
			return
		}
		restore()
		if ec.Message != "socket.accept() out of system resource" || !errors.Is(ec.Err, syscall.EMFILE) {
			t.Errorf("report %q, %v; want the out of resource message and EMFILE", ec.Message, ec.Err)
		}
		serving, _ := runTask(ctx, loop, func(context.Context) (bool, error) { return srv.IsServing() && len(srv.Sockets()) == 1, nil })
		if !serving {
			t.Error("the server stopped serving, or lost its socket")
		}
		// The waiting connection is accepted after the pause.
		conn, err := net.FileConn(client)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		if _, err := conn.Write([]byte("ping")); err != nil {
			t.Errorf("write: %v", err)
		}
		b := make([]byte, 4)
		if _, err := io.ReadFull(conn, b); err != nil || string(b) != "ping" {
			t.Errorf("echo %q, %v; want ping", b, err)
		}
		select {
		case ec := <-rec.ch:
			t.Errorf("another report: %q, %v", ec.Message, ec.Err)
		default:
		}
	})
}

// test_base_events.py BaseLoopSockSendfileTests: test_nonstream_socket:
// SockSendfile over a datagram socket is refused (ErrNotStreamSocket),
// the file's offset untouched.
func TestBaseEvents_test_nonstream_socket(t *testing.T) {
	f, _ := sendfileData(t, 100)
	sock := newSock(t, syscall.AF_INET, syscall.SOCK_DGRAM)
	_, err := runMain(t, func(ctx context.Context) (int64, error) { return asyncio.SockSendfile(ctx, sock, f, 0, 0) })
	if !errors.Is(err, asyncio.ErrNotStreamSocket) {
		t.Errorf("SockSendfile over UDP: %v, want ErrNotStreamSocket", err)
	}
	if pos, _ := f.Seek(0, io.SeekCurrent); pos != 0 {
		t.Errorf("file position %d, want 0", pos)
	}
}

// sockSendfileRefused checks that SockSendfile(offset, count) over a
// connected stream socket fails with want and sends nothing.
func sockSendfileRefused(t *testing.T, blocking bool, offset, count int64, want error) {
	t.Helper()
	f, _ := sendfileData(t, 100)
	flags := syscall.SOCK_STREAM | syscall.SOCK_CLOEXEC
	if !blocking {
		flags |= syscall.SOCK_NONBLOCK
	}
	fds, err := syscall.Socketpair(syscall.AF_UNIX, flags, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := os.NewFile(uintptr(fds[0]), "a"), os.NewFile(uintptr(fds[1]), "b")
	defer b.Close()
	_, err = runMain(t, func(ctx context.Context) (int64, error) { return asyncio.SockSendfile(ctx, a, f, offset, count) })
	if !errors.Is(err, want) {
		t.Errorf("SockSendfile(offset %d, count %d): %v, want %v", offset, count, err, want)
	}
	a.Close()
	if got, _ := io.ReadAll(b); len(got) != 0 {
		t.Errorf("the peer got %d bytes, want none", len(got))
	}
	if pos, _ := f.Seek(0, io.SeekCurrent); pos != 0 {
		t.Errorf("file position %d, want 0", pos)
	}
}

// test_base_events.py BaseLoopSockSendfileTests: test_negative_count.
func TestBaseEvents_test_negative_count(t *testing.T) {
	sockSendfileRefused(t, false, 0, -1, asyncio.ErrSendfileRange)
}

// test_base_events.py BaseLoopSockSendfileTests: test_negative_offset.
func TestBaseEvents_test_negative_offset(t *testing.T) {
	sockSendfileRefused(t, false, -1, 0, asyncio.ErrSendfileRange)
}

// test_base_events.py BaseLoopSockSendfileTests: test_blocking_socket:
// SockSendfile over a socket in blocking mode is refused
// (ErrBlockingSocket).
func TestBaseEvents_test_blocking_socket(t *testing.T) {
	sockSendfileRefused(t, true, 0, 0, asyncio.ErrBlockingSocket)
}

// test_base_events.py BaseLoopSockSendfileTests:
// test_sock_sendfile_fallback_offset_and_count: a file sendfile(2)
// refuses (EINVAL: here /proc/self/cmdline, as the kernel has no splice
// for it) is read and sent instead, from offset, count bytes, and its
// offset is left after them.
func TestBaseEvents_test_sock_sendfile_fallback_offset_and_count(t *testing.T) {
	const path = "/proc/self/cmdline"
	data, err := os.ReadFile(path)
	if err != nil || len(data) < 3 {
		t.Skipf("%s: %d bytes, %v", path, len(data), err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	count := int64(len(data) - 2)
	addr, got := sockSendfileSink(t)
	sock := newSock(t, syscall.AF_INET, syscall.SOCK_STREAM)
	n, err := runMain(t, func(ctx context.Context) (int64, error) {
		if err := asyncio.SockConnect(ctx, sock, addr); err != nil {
			return 0, err
		}
		return asyncio.SockSendfile(ctx, sock, f, 1, count)
	})
	sock.Close()
	b := <-got
	if err != nil || n != count {
		t.Fatalf("SockSendfile = %d, %v; want %d, nil", n, err, count)
	}
	if !bytes.Equal(b, data[1:1+count]) {
		t.Errorf("peer got %q, want %q", b, data[1:1+count])
	}
	if pos, _ := f.Seek(0, io.SeekCurrent); pos != 1+count {
		t.Errorf("file position %d, want %d", pos, 1+count)
	}
}

// linkLocal returns a link-local IPv6 address of this machine and its
// interface, or skips the test.
func linkLocal(t *testing.T) (netip.Addr, *net.Interface) {
	ifs, _ := net.Interfaces()
	for i := range ifs {
		addrs, _ := ifs[i].Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() == nil && n.IP.IsLinkLocalUnicast() {
				ip, _ := netip.AddrFromSlice(n.IP)
				return ip, &ifs[i]
			}
		}
	}
	t.Skip("no link-local IPv6 address")
	return netip.Addr{}, nil
}

// test_base_events.py: test_create_connection_ipv6_scope: a link-local
// IPv6 host with its zone, as the interface's name or its index
// ("fe80::1%1"), is connected to through that interface.
func TestBaseEvents_test_create_connection_ipv6_scope(t *testing.T) {
	ip, ifi := linkLocal(t)
	ln, err := net.ListenTCP("tcp6", &net.TCPAddr{IP: ip.AsSlice(), Zone: ifi.Name})
	if err != nil {
		t.Skipf("listen on %s%%%s: %v", ip, ifi.Name, err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	streamsMain(t, func(ctx context.Context) error {
		for _, zone := range []string{ifi.Name, strconv.Itoa(ifi.Index)} {
			host := ip.String() + "%" + zone
			tr, _, err := asyncio.CreateConnection(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, host, port, nil)
			if err != nil {
				t.Errorf("CreateConnection(%s): %v", host, err)
				continue
			}
			pn, _ := tr.GetExtraInfo("peername").(*net.TCPAddr)
			if pn == nil || !pn.IP.Equal(ip.AsSlice()) || pn.Port != port || pn.Zone != ifi.Name {
				t.Errorf("CreateConnection(%s): peername %v, want [%s%%%s]:%d", host, pn, ip, ifi.Name, port)
			}
			tr.Close()
		}
		return nil
	})
}
