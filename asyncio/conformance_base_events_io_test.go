//go:build linux

package asyncio_test

// The I/O cases of CPython's test_base_events.py (addresses, connections,
// servers, datagram endpoints), against real sockets, named
// TestBaseEvents_<case>.

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"

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
