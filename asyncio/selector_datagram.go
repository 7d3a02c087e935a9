//go:build unix

package asyncio

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"unsafe"

	"github.com/trioasyncio/trioasyncio/trio"
)

// maxDatagramsPerEvent bounds how many datagrams one readiness event
// reads before the loop runs other callbacks (fairness); the rest are
// read in the next iteration.
const maxDatagramsPerEvent = 64

// CreateDatagramEndpoint makes a datagram socket as opts says and returns
// its transport and the protocol factory made, once the protocol's
// ConnectionMade has run (asyncio's loop.create_datagram_endpoint). The
// protocol's DatagramReceived gets each datagram with its sender;
// ErrorReceived gets the errors the kernel reports (ECONNREFUSED for an
// ICMP port unreachable on a connected endpoint, as asyncio on Linux);
// the endpoint stays open. Close sends what is buffered, then calls
// ConnectionLost(nil); Abort drops it.
//
// The transport belongs to the loop: it is closed, without callbacks,
// when the OpenLoop block exits. A coroutine: call it from a task (host
// names are resolved off the loop). Errors: ErrDatagramOptions, the
// socket's, bind's and connect's (*os.SyscallError: EADDRINUSE…).
func CreateDatagramEndpoint[P DatagramProtocol](ctx context.Context, factory func() P, opts *DatagramOptions) (DatagramTransport, P, error) {
	var zero P
	l, err := GetRunningLoop(ctx)
	if err != nil {
		return nil, zero, err
	}
	if opts != nil && opts.Conn != nil {
		if opts.LocalAddr != "" || opts.RemoteAddr != "" || opts.ReusePort || opts.AllowBroadcast || opts.Network != "" {
			return nil, zero, fmt.Errorf("%w: Conn with other options", ErrDatagramOptions)
		}
		return datagramFromConn(ctx, l, factory, opts.Conn)
	}
	if opts == nil {
		opts = &DatagramOptions{}
	}
	var fam int
	var local, remote syscall.Sockaddr
	if opts.LocalAddr == "" && opts.RemoteAddr == "" {
		// An endpoint with no address: its family must be known.
		switch opts.Network {
		case "unixgram", "udp4", "udp6":
		default:
			return nil, zero, fmt.Errorf("%w: neither a local nor a remote address, and no family", ErrDatagramOptions)
		}
	}
	switch opts.Network {
	case "unixgram":
		fam = syscall.AF_UNIX
		if opts.LocalAddr != "" {
			local = &syscall.SockaddrUnix{Name: opts.LocalAddr}
			removeStaleSocket(opts.LocalAddr)
		}
		if opts.RemoteAddr != "" {
			remote = &syscall.SockaddrUnix{Name: opts.RemoteAddr}
		}
	case "", "udp", "udp4", "udp6":
		var lap, rap netip.AddrPort
		if opts.RemoteAddr != "" {
			if rap, err = resolveUDP(ctx, opts.Network, opts.RemoteAddr, 0); err != nil {
				return nil, zero, err
			}
			fam = familyOf(rap.Addr())
		}
		if opts.LocalAddr != "" {
			if lap, err = resolveUDP(ctx, opts.Network, opts.LocalAddr, fam); err != nil {
				return nil, zero, err
			}
			if fam == 0 {
				fam = familyOf(lap.Addr())
			}
			local = inetSockaddr(fam, lap)
		}
		if opts.RemoteAddr != "" {
			remote = inetSockaddr(fam, rap)
		}
		if fam == 0 {
			fam = syscall.AF_INET
			if opts.Network == "udp6" {
				fam = syscall.AF_INET6
			}
		}
	default:
		return nil, zero, fmt.Errorf("%w: network %q", ErrDatagramOptions, opts.Network)
	}
	fd, err := sysSocket(fam, syscall.SOCK_DGRAM, 0)
	if err != nil {
		return nil, zero, os.NewSyscallError("socket", err)
	}
	fail := func(err error) (DatagramTransport, P, error) {
		syscall.Close(fd)
		return nil, zero, err
	}
	if opts.ReusePort {
		if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, soReusePort, 1); err != nil {
			return fail(os.NewSyscallError("setsockopt SO_REUSEPORT", err))
		}
	}
	if opts.AllowBroadcast {
		if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_BROADCAST, 1); err != nil {
			return fail(os.NewSyscallError("setsockopt SO_BROADCAST", err))
		}
	}
	if local != nil {
		if err := syscall.Bind(fd, local); err != nil {
			return fail(fmt.Errorf("asyncio: bind %s: %w", opts.LocalAddr, os.NewSyscallError("bind", err)))
		}
	}
	// A broadcasting endpoint is not connected (asyncio's): it receives
	// from anyone, and sends to the remote address by default.
	connected := remote != nil && !opts.AllowBroadcast
	if connected {
		// A datagram connect does not block.
		if err := syscall.Connect(fd, remote); err != nil {
			return fail(fmt.Errorf("asyncio: connect %s: %w", opts.RemoteAddr, os.NewSyscallError("connect", err)))
		}
	}
	var p P
	if perr := protectCall(func() { p = factory() }); perr != nil {
		return fail(perr)
	}
	waiter := NewFuture[struct{}](l)
	t, err := newDatagramTransport(l, fd, fam, p, remote, connected, waiter)
	if err != nil {
		return fail(err)
	}
	if _, err := Await(ctx, waiter); err != nil {
		t.Abort()
		return nil, zero, err
	}
	return t, p, nil
}

// datagramFromConn takes an existing datagram socket over.
func datagramFromConn[P DatagramProtocol](ctx context.Context, l *Loop, factory func() P, conn interface {
	SyscallConn() (syscall.RawConn, error)
	Close() error
}) (DatagramTransport, P, error) {
	var zero P
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil, zero, err
	}
	fd := -1
	var derr error
	if cerr := rc.Control(func(ofd uintptr) {
		r, e := dupCloexec(int(ofd))
		if e != nil {
			derr = os.NewSyscallError("fcntl", e)
			return
		}
		fd = r
	}); cerr != nil {
		return nil, zero, cerr
	}
	if derr != nil {
		return nil, zero, derr
	}
	if sockType(fd) != syscall.SOCK_DGRAM {
		syscall.Close(fd)
		return nil, zero, fmt.Errorf("%w: Conn is not a datagram socket", ErrDatagramOptions)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return nil, zero, os.NewSyscallError("getsockname", err)
	}
	fam := syscall.AF_INET
	switch sa.(type) {
	case *syscall.SockaddrInet6:
		fam = syscall.AF_INET6
	case *syscall.SockaddrUnix:
		fam = syscall.AF_UNIX
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, zero, os.NewSyscallError("fcntl", err)
	}
	peer, perr := syscall.Getpeername(fd)
	if perr != nil {
		peer = nil
	}
	conn.Close()
	var p P
	if ferr := protectCall(func() { p = factory() }); ferr != nil {
		syscall.Close(fd)
		return nil, zero, ferr
	}
	waiter := NewFuture[struct{}](l)
	t, err := newDatagramTransport(l, fd, fam, p, peer, peer != nil, waiter)
	if err != nil {
		syscall.Close(fd)
		return nil, zero, err
	}
	if _, err := Await(ctx, waiter); err != nil {
		t.Abort()
		return nil, zero, err
	}
	return t, p, nil
}

// removeStaleSocket removes the socket file at path, if there is one, so
// that a Unix datagram endpoint can bind there (as asyncio does); other
// files, and abstract addresses, are left alone (bind then fails).
func removeStaleSocket(path string) {
	if path == "" || path[0] == '@' || path[0] == 0 {
		return
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		os.Remove(path)
	}
}

// protectCall runs fn, turning its panic into an error.
func protectCall(fn func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = trio.NewPanicError(v)
		}
	}()
	fn()
	return nil
}

// resolveUDP resolves "host:port" (a literal address at once, a name off
// the loop); wantFam, if not 0, picks an address of that family.
func resolveUDP(ctx context.Context, network, hostport string, wantFam int) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(hostport); err == nil {
		fam := familyOf(ap.Addr())
		if (wantFam != 0 && fam != wantFam) || (network == "udp4" && fam != syscall.AF_INET) || (network == "udp6" && fam != syscall.AF_INET6) {
			return netip.AddrPort{}, fmt.Errorf("%w: %s is not of the family of the endpoint's other address or network", ErrDatagramOptions, hostport)
		}
		return ap, nil
	}
	host, ps, err := net.SplitHostPort(hostport)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%w: %v", ErrDatagramOptions, err)
	}
	port, err := strconv.Atoi(ps)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%w: port %q", ErrDatagramOptions, ps)
	}
	ipnet := "ip"
	switch network {
	case "udp4":
		ipnet = "ip4"
	case "udp6":
		ipnet = "ip6"
	}
	aps, err := Getaddrinfo(ctx, ipnet, host, port)
	if err != nil {
		return netip.AddrPort{}, err
	}
	for _, ap := range aps {
		if wantFam == 0 || familyOf(ap.Addr()) == wantFam {
			return ap, nil
		}
	}
	return netip.AddrPort{}, fmt.Errorf("asyncio: getaddrinfo(%q) returned no usable address", host)
}

type pendingDatagram struct {
	data []byte
	to   syscall.Sockaddr
}

// datagramTransport is asyncio's _SelectorDatagramTransport.
type datagramTransport struct {
	loop      *Loop
	io        *ioState
	fd        int
	fam       int
	ent       *fdEntry
	proto     DatagramProtocol
	remote    syscall.Sockaddr // the default destination, or nil
	connected bool             // the socket is connected to remote
	extra     map[string]any

	made    bool
	closing bool
	readSide
	connLost int
	closedFd bool
	queue    []pendingDatagram
	qhead    int
	bufSize  int
	writeFlow

	// Address caches, so that a steady exchange with the same peers
	// allocates nothing per datagram: received sender -> net.Addr, and
	// destination -> sockaddr. Bounded (cleared when full).
	fromCache map[netip.AddrPort]net.Addr
	toCache   map[netip.AddrPort]syscall.Sockaddr
	rsa       syscall.RawSockaddrAny
}

// addrCacheMax bounds the datagram transports' address caches.
const addrCacheMax = 1024

var _ DatagramTransport = (*datagramTransport)(nil)

func newDatagramTransport(l *Loop, fd, fam int, p DatagramProtocol, remote syscall.Sockaddr, connected bool, waiter *Future[struct{}]) (*datagramTransport, error) {
	s, err := l.ioState()
	if err != nil {
		return nil, err
	}
	t := &datagramTransport{loop: l, io: s, fd: fd, fam: fam, proto: p, remote: remote, connected: connected,
		writeFlow: newWriteFlow()}
	t.initRead(l, &t.closing, t.readReady)
	e, err := s.own(fd, t.readReady, t.writeReady)
	if err != nil {
		return nil, err
	}
	t.ent = e
	s.owned[t] = struct{}{}
	t.made = true
	scheduleStart(l, func() { t.proto.ConnectionMade(t) }, &t.readSide, waiter)
	return t, nil
}

func (t *datagramTransport) String() string {
	return fmt.Sprintf("<datagramTransport fd=%d closing=%v bufsize=%d>", t.fd, t.closing, t.bufSize)
}

func (t *datagramTransport) GetExtraInfo(name string) any {
	if v, ok := t.extra[name]; ok {
		return v
	}
	if t.closedFd {
		return nil
	}
	switch name {
	case "sockname":
		if sa, err := syscall.Getsockname(t.fd); err == nil {
			return dgramAddr(sa)
		}
	case "peername":
		if sa, err := syscall.Getpeername(t.fd); err == nil {
			return dgramAddr(sa)
		}
	case "socket":
		return t.fd
	}
	return nil
}

// dgramAddr converts a datagram socket's address.
func dgramAddr(sa syscall.Sockaddr) net.Addr {
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		return &net.UDPAddr{IP: net.IP(append([]byte(nil), sa.Addr[:]...)), Port: sa.Port}
	case *syscall.SockaddrInet6:
		a := &net.UDPAddr{IP: net.IP(append([]byte(nil), sa.Addr[:]...)), Port: sa.Port}
		if sa.ZoneId != 0 {
			if ifi, err := net.InterfaceByIndex(int(sa.ZoneId)); err == nil {
				a.Zone = ifi.Name
			}
		}
		return a
	case *syscall.SockaddrUnix:
		return &net.UnixAddr{Name: sa.Name, Net: "unixgram"}
	}
	return nil
}

// sockaddrOf converts addr for sendto on a socket of family fam.
func sockaddrOf(fam int, addr net.Addr) (syscall.Sockaddr, error) {
	switch a := addr.(type) {
	case *net.UDPAddr:
		if fam == syscall.AF_UNIX {
			break
		}
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			break
		}
		if fam == syscall.AF_INET && !(ip.Is4() || ip.Is4In6()) {
			break
		}
		return inetSockaddr(fam, netip.AddrPortFrom(ip.WithZone(a.Zone), uint16(a.Port))), nil
	case *net.UnixAddr:
		if fam == syscall.AF_UNIX {
			return &syscall.SockaddrUnix{Name: a.Name}, nil
		}
	}
	return nil, fmt.Errorf("%w: %v", ErrDatagramAddress, addr)
}

func (t *datagramTransport) IsClosing() bool { return t.closing }

func (t *datagramTransport) SetProtocol(p BaseProtocol) {
	t.loop.confined("DatagramTransport.SetProtocol")
	dp, ok := p.(DatagramProtocol)
	if !ok {
		panic(fmt.Errorf("%w: %T is not a DatagramProtocol", ErrNotAProtocol, p))
	}
	t.proto = dp
}

func (t *datagramTransport) GetProtocol() BaseProtocol { return t.proto }

func (t *datagramTransport) readReady(uint32) {
	if t.io.rbuf == nil {
		t.io.rbuf = make([]byte, maxReadSize)
	}
	buf := t.io.rbuf
	for i := 0; i < maxDatagramsPerEvent; i++ {
		if t.connLost > 0 || !t.IsReading() {
			return
		}
		n, addr, err := t.recvfrom(buf)
		if err != nil {
			if err == syscall.EAGAIN {
				return
			}
			if err == syscall.EINTR {
				continue
			}
			// ICMP errors (ECONNREFUSED…): the protocol hears of them,
			// the endpoint stays open.
			e := os.NewSyscallError("recvfrom", err)
			if perr := protect(func() { t.proto.ErrorReceived(e) }); perr != nil {
				t.fatalError(perr, "Fatal error: protocol.error_received() call failed.")
				return
			}
			continue
		}
		if perr := protect(func() { t.proto.DatagramReceived(buf[:n], addr) }); perr != nil {
			t.fatalError(perr, "Fatal error: protocol.datagram_received() call failed.")
			return
		}
	}
	// More may be waiting, and no new edge will say so.
	t.scheduleRead()
}

// recvfrom reads one datagram and its sender, without allocating for a
// sender seen before.
func (t *datagramTransport) recvfrom(buf []byte) (int, net.Addr, error) {
	n, e := rawRecvfrom(t.fd, buf, &t.rsa)
	if e != nil {
		return 0, nil, e
	}
	var ap netip.AddrPort
	switch t.rsa.Addr.Family {
	case syscall.AF_INET:
		sa := (*syscall.RawSockaddrInet4)(unsafe.Pointer(&t.rsa))
		pb := (*[2]byte)(unsafe.Pointer(&sa.Port))
		ap = netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(pb[0])<<8|uint16(pb[1]))
	case syscall.AF_INET6:
		sa := (*syscall.RawSockaddrInet6)(unsafe.Pointer(&t.rsa))
		if sa.Scope_id != 0 {
			return n, t.slowFrom(), nil
		}
		pb := (*[2]byte)(unsafe.Pointer(&sa.Port))
		ap = netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(pb[0])<<8|uint16(pb[1]))
	default:
		return n, t.slowFrom(), nil
	}
	if a, ok := t.fromCache[ap]; ok {
		return n, a, nil
	}
	if t.fromCache == nil || len(t.fromCache) >= addrCacheMax {
		t.fromCache = map[netip.AddrPort]net.Addr{}
	}
	a := net.UDPAddrFromAddrPort(ap)
	t.fromCache[ap] = a
	return n, a, nil
}

// slowFrom converts the sender of the last datagram (Unix sockets, scoped
// IPv6 addresses).
func (t *datagramTransport) slowFrom() net.Addr {
	switch t.rsa.Addr.Family {
	case syscall.AF_UNIX:
		sa := (*syscall.RawSockaddrUnix)(unsafe.Pointer(&t.rsa))
		n := 0
		for n < len(sa.Path) && sa.Path[n] != 0 {
			n++
		}
		if n == 0 {
			return nil // an unbound sender
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(sa.Path[i])
		}
		return &net.UnixAddr{Name: string(b), Net: "unixgram"}
	case syscall.AF_INET6:
		sa := (*syscall.RawSockaddrInet6)(unsafe.Pointer(&t.rsa))
		pb := (*[2]byte)(unsafe.Pointer(&sa.Port))
		return dgramAddr(&syscall.SockaddrInet6{Port: int(pb[0])<<8 | int(pb[1]), ZoneId: sa.Scope_id, Addr: sa.Addr})
	}
	return nil
}

// sockaddrFor converts a destination, cached for UDP addresses.
func (t *datagramTransport) sockaddrFor(addr net.Addr) (syscall.Sockaddr, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok || ua.Zone != "" || t.fam == syscall.AF_UNIX {
		return sockaddrOf(t.fam, addr)
	}
	ip, ok := netip.AddrFromSlice(ua.IP)
	if !ok {
		return sockaddrOf(t.fam, addr)
	}
	key := netip.AddrPortFrom(ip, uint16(ua.Port))
	if sa, ok := t.toCache[key]; ok {
		return sa, nil
	}
	sa, err := sockaddrOf(t.fam, addr)
	if err != nil {
		return nil, err
	}
	if t.toCache == nil || len(t.toCache) >= addrCacheMax {
		t.toCache = map[netip.AddrPort]syscall.Sockaddr{}
	}
	t.toCache[key] = sa
	return sa, nil
}

func (t *datagramTransport) Write(data []byte) error { return t.SendTo(data, nil) }

func (t *datagramTransport) WriteLines(lines [][]byte) error {
	t.loop.confined("DatagramTransport.WriteLines")
	for _, b := range lines {
		if err := t.SendTo(b, nil); err != nil {
			return err
		}
	}
	return nil
}

func (t *datagramTransport) SendTo(data []byte, addr net.Addr) error {
	t.loop.confined("DatagramTransport.SendTo")
	// A typed nil (a nil *net.UDPAddr in a net.Addr) is no address.
	switch a := addr.(type) {
	case *net.UDPAddr:
		if a == nil {
			addr = nil
		}
	case *net.UnixAddr:
		if a == nil {
			addr = nil
		}
	}
	to := t.remote
	if addr != nil {
		sa, err := t.sockaddrFor(addr)
		if err != nil {
			return err
		}
		if t.remote != nil && dgramAddr(t.remote).String() != dgramAddr(sa).String() {
			return fmt.Errorf("%w: must be nil or %v", ErrDatagramAddress, dgramAddr(t.remote))
		}
		to = sa
	} else if t.remote == nil {
		return fmt.Errorf("%w: no address and no remote address", ErrDatagramAddress)
	}
	if t.connected {
		to = nil // sent with write(2), to the peer
	}
	if t.connLost > 0 {
		t.connLost++ // counts sends to a lost endpoint, as asyncio's _conn_lost
		return ErrTransportClosing
	}
	if t.closing {
		return ErrTransportClosing // refused; what is buffered still goes
	}
	if len(t.queue) == t.qhead {
		err := t.send(data, to)
		if err == nil {
			return nil
		}
		if err != syscall.EAGAIN {
			e := os.NewSyscallError("sendto", err)
			if perr := protect(func() { t.proto.ErrorReceived(e) }); perr != nil {
				t.fatalError(perr, "Fatal error: protocol.error_received() call failed.")
			}
			return nil
		}
	}
	t.queue = append(t.queue, pendingDatagram{data: append([]byte(nil), data...), to: to})
	t.bufSize += len(data)
	t.maybePauseProtocol()
	return nil
}

func (t *datagramTransport) send(data []byte, to syscall.Sockaddr) error {
	for {
		var err error
		if to == nil {
			_, err = syscall.Write(t.fd, data)
		} else {
			err = syscall.Sendto(t.fd, data, 0, to)
		}
		if err != syscall.EINTR {
			return err
		}
	}
}

func (t *datagramTransport) writeReady() {
	for t.qhead < len(t.queue) && t.connLost == 0 {
		d := t.queue[t.qhead]
		err := t.send(d.data, d.to)
		if err == syscall.EAGAIN {
			return
		}
		t.queue[t.qhead] = pendingDatagram{}
		t.qhead++
		t.bufSize -= len(d.data)
		if err != nil {
			e := os.NewSyscallError("sendto", err)
			if perr := protect(func() { t.proto.ErrorReceived(e) }); perr != nil {
				t.fatalError(perr, "Fatal error: protocol.error_received() call failed.")
				return
			}
		}
	}
	t.queue, t.qhead = t.queue[:0], 0
	t.maybeResumeProtocol()
	if t.closing && t.connLost == 0 {
		t.connLost++
		t.loop.CallSoon(func(context.Context) { t.callConnectionLost(nil) })
	}
}

func (t *datagramTransport) WriteEOF() error   { return ErrNoEOF }
func (t *datagramTransport) CanWriteEOF() bool { return false }

func (t *datagramTransport) Close() {
	t.loop.confined("DatagramTransport.Close")
	if t.closing {
		return
	}
	t.closing = true
	if t.qhead == len(t.queue) {
		t.connLost++
		t.loop.CallSoon(func(context.Context) { t.callConnectionLost(nil) })
	}
}

func (t *datagramTransport) Abort() {
	t.loop.confined("DatagramTransport.Abort")
	t.forceClose(nil)
}

func (t *datagramTransport) fatalError(err error, msg string) {
	var se *os.SyscallError
	if !errors.As(err, &se) {
		t.loop.CallExceptionHandler(ExceptionContext{Message: msg, Err: err,
			Extra: map[string]any{"transport": t, "protocol": t.proto}})
	}
	t.forceClose(err)
}

func (t *datagramTransport) forceClose(err error) {
	if t.connLost > 0 {
		return
	}
	t.queue, t.qhead, t.bufSize = nil, 0, 0
	t.closing = true
	t.connLost++
	t.loop.CallSoon(func(context.Context) { t.callConnectionLost(err) })
}

func (t *datagramTransport) callConnectionLost(err error) {
	if t.closedFd {
		return
	}
	defer t.closeNow()
	if t.made {
		t.proto.ConnectionLost(err)
	}
}

func (t *datagramTransport) closeNow() {
	if t.closedFd {
		return
	}
	t.closedFd = true
	t.closing = true
	t.io.drop(t.ent)
	delete(t.io.owned, t)
	syscall.Close(t.fd)
}

func (t *datagramTransport) GetWriteBufferSize() int { return t.bufSize }

func (t *datagramTransport) maybePauseProtocol() {
	t.writeFlow.maybePause(t.bufSize, t.loop, t, t.proto)
}

func (t *datagramTransport) maybeResumeProtocol() {
	t.writeFlow.maybeResume(t.bufSize, t.loop, t, t.proto)
}

func (t *datagramTransport) SetWriteBufferLimits(high, low int) error {
	t.loop.confined("DatagramTransport.SetWriteBufferLimits")
	if err := t.setLimits(high, low); err != nil {
		return err
	}
	t.maybePauseProtocol()
	return nil
}
