//go:build unix

package asyncio

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
)

func newStreamSocket(family int) (int, error) {
	fd, err := sysSocket(family, syscall.SOCK_STREAM, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	return fd, nil
}

func familyOf(a netip.Addr) int {
	if a.Is4() || a.Is4In6() {
		return syscall.AF_INET
	}
	return syscall.AF_INET6
}

func resolve(ctx context.Context, network, host string, port int) ([]netip.AddrPort, error) {
	ipnet := "ip"
	switch network {
	case "tcp4":
		ipnet = "ip4"
	case "tcp6":
		ipnet = "ip6"
	}
	aps, err := Getaddrinfo(ctx, ipnet, host, port)
	if err != nil {
		return nil, err
	}
	if len(aps) == 0 {
		return nil, fmt.Errorf("asyncio: getaddrinfo(%q) returned empty list", host)
	}
	return aps, nil
}

// resolveLocal resolves a local address's host name (a variable for the
// tests, which give a name both families).
var resolveLocal = Getaddrinfo

// connectOne makes a socket for ap and connects it; the fd on success.
func connectOne(ctx context.Context, ap netip.AddrPort, local string) (int, error) {
	fam := familyOf(ap.Addr())
	fd, err := newStreamSocket(fam)
	if err != nil {
		return -1, err
	}
	if local != "" {
		var laps []netip.AddrPort
		if lap, err := netip.ParseAddrPort(local); err == nil {
			laps = []netip.AddrPort{lap}
		} else {
			lh, lp, serr := net.SplitHostPort(local)
			if serr != nil {
				syscall.Close(fd)
				return -1, serr
			}
			var port int
			fmt.Sscan(lp, &port)
			var rerr error
			laps, rerr = resolveLocal(ctx, "ip", lh, port)
			if rerr != nil || len(laps) == 0 {
				syscall.Close(fd)
				return -1, fmt.Errorf("asyncio: local address %q: %w", local, rerr)
			}
		}
		// Only a local address of the remote's family can be bound: skip
		// the others (asyncio does the same).
		var lap netip.AddrPort
		for _, a := range laps {
			if familyOf(a.Addr()) == fam {
				lap = a
				break
			}
		}
		if !lap.IsValid() {
			syscall.Close(fd)
			return -1, fmt.Errorf("asyncio: no matching local address with the family of %v found for %q", ap, local)
		}
		if err := syscall.Bind(fd, inetSockaddr(fam, lap)); err != nil {
			syscall.Close(fd)
			return -1, fmt.Errorf("asyncio: error while attempting to bind on address %v: %w", lap, os.NewSyscallError("bind", err))
		}
	}
	if err := connectFd(ctx, fd, inetSockaddr(fam, ap)); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	return fd, nil
}

// interleaveAddrs reorders aps by family: n of the first family, then
// one of the other, and so on (asyncio's _interleave_addrinfos).
func interleaveAddrs(aps []netip.AddrPort, n int) []netip.AddrPort {
	if n <= 0 || len(aps) < 2 {
		return aps
	}
	first := aps[0].Addr().Is4()
	var a, b []netip.AddrPort
	for _, ap := range aps {
		if ap.Addr().Is4() == first {
			a = append(a, ap)
		} else {
			b = append(b, ap)
		}
	}
	out := make([]netip.AddrPort, 0, len(aps))
	for len(a) > 0 || len(b) > 0 {
		k := min(n, len(a))
		out = append(out, a[:k]...)
		a = a[k:]
		if len(b) > 0 {
			out = append(out, b[0])
			b = b[1:]
		}
	}
	return out
}

// connectAddrs connects to one of aps: in order, or raced (happy
// eyeballs); the fd of the connection made.
func connectAddrs(ctx context.Context, l *Loop, aps []netip.AddrPort, opts *ConnectOptions) (int, error) {
	il := opts.Interleave
	if il == 0 && opts.HappyEyeballsDelay > 0 {
		il = 1
	}
	aps = interleaveAddrs(aps, il)
	var errs []error
	joined := func() error {
		if len(errs) == 1 {
			return errs[0]
		}
		return fmt.Errorf("asyncio: multiple exceptions: %w", errors.Join(errs...))
	}
	if opts.HappyEyeballsDelay <= 0 || len(aps) == 1 {
		for _, ap := range aps {
			fd, err := connectOne(ctx, ap, opts.LocalAddr)
			if err == nil {
				return fd, nil
			}
			if errors.Is(err, ErrCancelled) {
				return -1, err
			}
			errs = append(errs, fmt.Errorf("connect to %v: %w", ap, err))
		}
		return -1, joined()
	}
	// Happy eyeballs (asyncio's staggered_race).
	winner := NewFuture[int](l)
	var tasks []*Task[int]
	next, running := 0, 0
	var start func()
	start = func() {
		if next >= len(aps) || winner.Done() {
			return
		}
		ap := aps[next]
		next++
		running++
		task := CreateTask(ctx, func(ctx context.Context) (int, error) { return connectOne(ctx, ap, opts.LocalAddr) })
		tasks = append(tasks, task)
		nextStarted := false // by the timer, or by this attempt's failure
		timer := l.CallLater(opts.HappyEyeballsDelay, func(context.Context) {
			nextStarted = true
			start()
		})
		task.AddDoneCallback(func(context.Context) {
			running--
			fd, err := task.Result()
			if err == nil {
				if winner.Done() {
					syscall.Close(fd)
				} else {
					winner.SetResult(fd)
				}
				return
			}
			if !errors.Is(err, ErrCancelled) {
				errs = append(errs, fmt.Errorf("connect to %v: %w", ap, err))
			}
			if !nextStarted {
				nextStarted = true
				timer.Cancel()
				start()
			}
			if running == 0 && next >= len(aps) && !winner.Done() {
				winner.SetException(joined())
			}
		})
	}
	start()
	fd, err := Await(ctx, winner)
	for _, t := range tasks {
		t.Cancel("")
	}
	if err != nil {
		if winner.Done() && !winner.Cancelled() && winner.Exception() == nil {
			won, _ := winner.Result()
			syscall.Close(won) // we were cancelled just as one connected
		}
		winner.Cancel("") // later winners close their fds
	}
	return fd, err
}

// startTransport makes the transport for a connected fd and waits until
// ConnectionMade has run.
func startTransport[P BaseProtocol](ctx context.Context, l *Loop, fd int, factory func() P, cfg *tls.Config, topts TLSOptions) (Transport, P, error) {
	var zero P
	proto := factory()
	waiter := NewFuture[struct{}](l)
	var rawProto BaseProtocol = proto
	var sp *sslProtocol
	if cfg != nil {
		var err error
		if sp, err = newSSLProtocol(l, proto, cfg, false, topts, waiter); err != nil {
			syscall.Close(fd)
			return nil, zero, err
		}
		rawProto = sp
	}
	rawWaiter := waiter
	if sp != nil {
		rawWaiter = nil
	}
	t, err := newSocketTransport(l, fd, rawProto, nil, rawWaiter)
	if err != nil {
		syscall.Close(fd)
		return nil, zero, err
	}
	if _, err := Await(ctx, waiter); err != nil {
		t.Close()
		if sp != nil {
			sp.stopGoroutines()
		}
		return nil, zero, err
	}
	if sp != nil {
		return sp, proto, nil
	}
	return t, proto, nil
}

// CreateConnection opens a TCP connection to host:port and returns its
// transport and the protocol factory made for it, once the protocol's
// ConnectionMade has run (asyncio's loop.create_connection). The host is
// resolved off the loop (Getaddrinfo); its addresses are tried in order
// until one connects; TCP_NODELAY is set. A coroutine: call it from a task.
//
// Errors: the connect's (*os.SyscallError wrapping ECONNREFUSED,
// ENETUNREACH…); for several addresses all failing, an error joining
// them (errors.Is matches each); ErrTLSOptionWithoutTLS,
// ErrTLSNoServerHostname. Cancelled (during the connect or the TLS
// handshake), it closes what it opened and returns the CancelledError. The transport belongs to the loop: it is
// closed, without callbacks, when the OpenLoop block exits.
func CreateConnection[P BaseProtocol](ctx context.Context, factory func() P, host string, port int, opts *ConnectOptions) (Transport, P, error) {
	var zero P
	l, err := GetRunningLoop(ctx)
	if err != nil {
		return nil, zero, err
	}
	if opts == nil {
		opts = &ConnectOptions{}
	}
	if err := checkTLSOptions(opts.TLS != nil, opts.TLSOptions); err != nil {
		return nil, zero, err
	}
	if opts.TLS != nil && host == "" && opts.ServerHostname == "" && opts.TLS.ServerName == "" {
		return nil, zero, ErrTLSNoServerHostname
	}
	aps, err := resolve(ctx, opts.Network, host, port)
	if err != nil {
		return nil, zero, err
	}
	fd, err := connectAddrs(ctx, l, aps, opts)
	if err != nil {
		return nil, zero, err
	}
	var topts TLSOptions
	if opts.TLS != nil {
		topts = opts.TLSOptions
		if topts.ServerHostname == "" && opts.TLS.ServerName == "" {
			topts.ServerHostname = host
		}
	}
	return startTransport(ctx, l, fd, factory, opts.TLS, topts)
}

// CreateUnixConnection opens a connection to the Unix socket at path
// (asyncio's loop.create_unix_connection); as CreateConnection. Of opts,
// TLS and TLSOptions apply (LocalAddr, Network, HappyEyeballsDelay and
// Interleave do not). A TLS connection has no host name to default to:
// it needs TLSOptions.ServerHostname or the config's ServerName (or a
// config with InsecureSkipVerify), else it returns ErrTLSServerHostname
// before connecting, as asyncio requires server_hostname. An empty path
// is refused with ErrNoPath.
func CreateUnixConnection[P BaseProtocol](ctx context.Context, factory func() P, path string, opts *ConnectOptions) (Transport, P, error) {
	var zero P
	l, err := GetRunningLoop(ctx)
	if err != nil {
		return nil, zero, err
	}
	if path == "" {
		return nil, zero, ErrNoPath
	}
	if opts == nil {
		opts = &ConnectOptions{}
	}
	var topts TLSOptions
	if opts.TLS != nil {
		topts = opts.TLSOptions
		if topts.ServerHostname == "" && opts.TLS.ServerName == "" && !opts.TLS.InsecureSkipVerify {
			return nil, zero, ErrTLSServerHostname
		}
	}
	fd, err := sysSocket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		return nil, zero, os.NewSyscallError("socket", err)
	}
	if err := connectFd(ctx, fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		syscall.Close(fd)
		return nil, zero, err
	}
	return startTransport(ctx, l, fd, factory, opts.TLS, topts)
}

// ConnectAcceptedSocket wraps an accepted (or otherwise connected) conn
// into a transport and protocol (asyncio's loop.connect_accepted_socket).
// The loop takes conn over: it duplicates its socket and closes conn.
// conn is a *net.TCPConn or *net.UnixConn (anything with SyscallConn). A
// coroutine, as CreateConnection. A conn that is not a stream socket (a
// *net.UDPConn…) is refused with ErrNotStreamSocket, and left open.
func ConnectAcceptedSocket[P BaseProtocol](ctx context.Context, factory func() P, conn net.Conn) (Transport, P, error) {
	var zero P
	l, err := GetRunningLoop(ctx)
	if err != nil {
		return nil, zero, err
	}
	fd, err := dupConn(conn)
	if err != nil {
		return nil, zero, err
	}
	return startTransport(ctx, l, fd, factory, nil, TLSOptions{})
}

// dupConn takes a stream socket over from a net.Conn or listener: a
// non-blocking duplicate of its fd; the original is closed. A conn that
// is not a stream socket is left open (ErrNotStreamSocket).
func dupConn(conn any) (int, error) {
	fd, err := dupStream(conn)
	if err != nil {
		return -1, err
	}
	if c, ok := conn.(interface{ Close() error }); ok {
		c.Close()
	}
	return fd, nil
}

// dupStream returns a non-blocking duplicate of conn's stream socket,
// leaving conn open.
func dupStream(conn any) (int, error) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return -1, fmt.Errorf("asyncio: %T has no socket", conn)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	var derr error
	if err := rc.Control(func(u uintptr) {
		r, e := dupCloexec(int(u))
		if e != nil {
			derr = os.NewSyscallError("dup", e)
			return
		}
		fd = r
	}); err != nil {
		return -1, err
	}
	if derr != nil {
		return -1, derr
	}
	if sockType(fd) != syscall.SOCK_STREAM {
		syscall.Close(fd)
		return -1, fmt.Errorf("%w, got %T", ErrNotStreamSocket, conn)
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	return fd, nil
}

func listenFd(family int, sa syscall.Sockaddr, o *ServerOptions) (int, error) {
	fd, err := newStreamSocket(family)
	if err != nil {
		return -1, err
	}
	if family != syscall.AF_UNIX {
		if !o.NoReuseAddress {
			syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
		}
		if o.ReusePort {
			if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, soReusePort, 1); err != nil {
				syscall.Close(fd)
				return -1, os.NewSyscallError("setsockopt SO_REUSEPORT", err)
			}
		}
		if family == syscall.AF_INET6 {
			syscall.SetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, 1)
		}
	}
	if err := syscall.Bind(fd, sa); err != nil {
		syscall.Close(fd)
		return -1, os.NewSyscallError("bind", err)
	}
	if err := syscall.Listen(fd, o.Backlog); err != nil {
		syscall.Close(fd)
		return -1, os.NewSyscallError("listen", err)
	}
	return fd, nil
}

func serverDefaults(opts *ServerOptions) *ServerOptions {
	o := ServerOptions{}
	if opts != nil {
		o = *opts
	}
	if o.Backlog <= 0 {
		o.Backlog = 100
	}
	return &o
}

func startServer(l *Loop, srv *Server, o *ServerOptions) (*Server, error) {
	if !o.NoStartServing {
		srv.StartServing()
	}
	return srv, nil
}

// CreateServer listens for TCP connections on host:port (and on each of
// opts.Hosts) and returns the Server, serving unless NoStartServing
// (asyncio's loop.create_server). For each connection it calls factory
// and gives the protocol its transport. host "" listens on all
// interfaces, IPv4 and IPv6; port 0 picks a free port (one per socket).
// SO_REUSEADDR is set unless NoReuseAddress, IPV6_V6ONLY on IPv6 sockets.
// With opts.Listener it serves that socket instead. A coroutine: call it
// from a task. Errors: the resolver's, or bind's (*os.SyscallError
// wrapping EADDRINUSE…), with every socket opened closed;
// ErrTLSOptionWithoutTLS, ErrListenerWithAddress, ErrNotStreamSocket.
func CreateServer[P BaseProtocol](ctx context.Context, factory func() P, host string, port int, opts *ServerOptions) (*Server, error) {
	l, o, err := serverStart(ctx, opts)
	if err != nil {
		return nil, err
	}
	if o.Listener != nil {
		if host != "" || port != 0 || len(o.Hosts) > 0 {
			return nil, fmt.Errorf("%w (host %q, port %d, Hosts %q)", ErrListenerWithAddress, host, port, o.Hosts)
		}
		return serveListener(l, factory, o, false)
	}
	hosts := append([]string{host}, o.Hosts...)
	var aps []netip.AddrPort
	for _, h := range hosts {
		if h == "" {
			aps = append(aps, netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(port)))
			if ipv6Available() {
				aps = append(aps, netip.AddrPortFrom(netip.IPv6Unspecified(), uint16(port)))
			}
			continue
		}
		r, err := resolve(ctx, "tcp", h, port)
		if err != nil {
			return nil, err
		}
		aps = append(aps, r...)
	}
	srv := newServer(l, serverFactory(l, factory, o), o.Backlog)
	seen := map[netip.AddrPort]bool{}
	for _, ap := range aps {
		if seen[ap] {
			continue
		}
		seen[ap] = true
		fam := familyOf(ap.Addr())
		fd, err := listenFd(fam, inetSockaddr(fam, ap), o)
		if err == nil {
			err = srv.addListener(fd)
			if err != nil {
				syscall.Close(fd)
			}
		}
		if err != nil {
			srv.Close()
			return nil, fmt.Errorf("asyncio: error while attempting to bind on address %v: %w", ap, err)
		}
	}
	return startServer(l, srv, o)
}

// CreateUnixServer listens on the Unix socket path (asyncio's
// loop.create_unix_server); a stale socket file at path is removed first,
// and the file is removed again when the server closes. As CreateServer
// (Hosts and ReusePort do not apply). With opts.Listener (a Unix stream
// socket; path must then be "") it serves that socket, and removes its
// socket file when the server closes. An empty path without a Listener
// is refused with ErrNoPath.
func CreateUnixServer[P BaseProtocol](ctx context.Context, factory func() P, path string, opts *ServerOptions) (*Server, error) {
	l, o, err := serverStart(ctx, opts)
	if err != nil {
		return nil, err
	}
	if path == "" && o.Listener == nil {
		return nil, ErrNoPath
	}
	if o.Listener != nil {
		if path != "" {
			return nil, fmt.Errorf("%w (path %q)", ErrListenerWithAddress, path)
		}
		return serveListener(l, factory, o, true)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		os.Remove(path)
	}
	fd, err := listenFd(syscall.AF_UNIX, &syscall.SockaddrUnix{Name: path}, o)
	if err != nil {
		return nil, fmt.Errorf("asyncio: error while attempting to bind on address %q: %w", path, err)
	}
	srv := newServer(l, serverFactory(l, factory, o), o.Backlog)
	if err := srv.addListener(fd); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	if path != "" && !o.KeepSocketFile {
		fi, _ := os.Stat(path)
		srv.unixPaths = append(srv.unixPaths, unixPath{path: path, file: fi})
	}
	return startServer(l, srv, o)
}

// serverStart is what CreateServer and CreateUnixServer begin with: the
// running loop, ready for I/O, and the options with their defaults,
// checked.
func serverStart(ctx context.Context, opts *ServerOptions) (*Loop, *ServerOptions, error) {
	l, err := GetRunningLoop(ctx)
	if err != nil {
		return nil, nil, err
	}
	if _, err := l.ioState(); err != nil {
		return nil, nil, err
	}
	o := serverDefaults(opts)
	if err := checkTLSOptions(o.TLS != nil, o.TLSOptions); err != nil {
		return nil, nil, err
	}
	return l, o, nil
}

// serveListener makes a server of o.Listener (asyncio's create_server
// and create_unix_server with sock=); unix asks for a Unix socket, whose
// file is removed when the server closes. Refused, the Listener is left
// open; taken, it is closed.
func serveListener[P BaseProtocol](l *Loop, factory func() P, o *ServerOptions, unix bool) (*Server, error) {
	fd, err := dupStream(o.Listener)
	if err != nil {
		return nil, err
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return nil, os.NewSyscallError("getsockname", err)
	}
	sun, isUnix := sa.(*syscall.SockaddrUnix)
	if unix && !isUnix {
		syscall.Close(fd)
		return nil, fmt.Errorf("%w: not a Unix socket", ErrNotStreamSocket)
	}
	if err := syscall.Listen(fd, o.Backlog); err != nil {
		syscall.Close(fd)
		return nil, os.NewSyscallError("listen", err)
	}
	var file os.FileInfo
	if isUnix && sun.Name != "" && sun.Name[0] != '@' && sun.Name[0] != 0 {
		file, _ = os.Stat(sun.Name)
	}
	// A *net.UnixListener would remove its socket file as it closes: the
	// file now belongs to the server.
	if u, ok := o.Listener.(interface{ SetUnlinkOnClose(bool) }); ok {
		u.SetUnlinkOnClose(false)
	}
	o.Listener.Close()
	srv := newServer(l, serverFactory(l, factory, o), o.Backlog)
	if err := srv.addListener(fd); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	if unix && file != nil && !o.KeepSocketFile {
		srv.unixPaths = append(srv.unixPaths, unixPath{path: sun.Name, file: file})
	}
	return startServer(l, srv, o)
}

// serverFactory makes the protocols of a server's connections: the
// application's, under TLS if the server has a TLS config.
func serverFactory[P BaseProtocol](l *Loop, factory func() P, o *ServerOptions) func() (BaseProtocol, error) {
	if o.TLS == nil {
		return func() (BaseProtocol, error) { return factory(), nil }
	}
	cfg, topts := o.TLS, o.TLSOptions
	return func() (BaseProtocol, error) {
		sp, err := newSSLProtocol(l, factory(), cfg, true, topts, nil)
		if err != nil {
			return nil, err
		}
		return sp, nil
	}
}

func ipv6Available() bool {
	fd, err := sysSocket(syscall.AF_INET6, syscall.SOCK_STREAM, 0)
	if err != nil {
		return false
	}
	defer syscall.Close(fd)
	return syscall.Bind(fd, &syscall.SockaddrInet6{Addr: netip.IPv6Loopback().As16()}) == nil
}
