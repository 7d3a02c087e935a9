//go:build linux

package asyncio

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"

	"github.com/trioasyncio/trioasyncio/trio"
)

// DatagramOptions are CreateDatagramEndpoint's options.
type DatagramOptions struct {
	// ReusePort sets SO_REUSEPORT on the socket.
	ReusePort bool
	// AllowBroadcast sets SO_BROADCAST.
	AllowBroadcast bool
}

type dgram struct {
	data []byte
	sa   syscall.Sockaddr
}

// datagramTransport is asyncio's _SelectorDatagramTransport.
type datagramTransport struct {
	loop      *Loop
	io        *ioState
	fd        int
	ent       *fdEntry
	proto     DatagramProtocol
	connected bool
	closing   bool
	connLost  bool
	closedFd  bool
	queue     []dgram
	qsize     int
	high, low int
	paused    bool
}

// CreateDatagramEndpoint makes a UDP endpoint (asyncio's
// loop.create_datagram_endpoint): bound to localAddr ("host:port", "" for
// none) and, if remoteAddr is not "", connected to it (SendTo then takes
// a nil address). The protocol's ConnectionMade has run when it returns.
// A coroutine: call it from a task. Errors: the resolver's, bind's or
// connect's.
func CreateDatagramEndpoint[P DatagramProtocol](ctx context.Context, factory func() P, localAddr, remoteAddr string, opts *DatagramOptions) (DatagramTransport, P, error) {
	var zero P
	l, err := GetRunningLoop(ctx)
	if err != nil {
		return nil, zero, err
	}
	s, err := l.ioState()
	if err != nil {
		return nil, zero, err
	}
	if opts == nil {
		opts = &DatagramOptions{}
	}
	resolveOne := func(a string) (netip.AddrPort, error) {
		host, port, err := net.SplitHostPort(a)
		if err != nil {
			return netip.AddrPort{}, err
		}
		var p int
		fmt.Sscan(port, &p)
		aps, err := Getaddrinfo(ctx, "ip", host, p)
		if err != nil {
			return netip.AddrPort{}, err
		}
		return aps[0], nil
	}
	var local, remote netip.AddrPort
	fam := syscall.AF_INET
	if localAddr != "" {
		if local, err = resolveOne(localAddr); err != nil {
			return nil, zero, err
		}
		fam = familyOf(local.Addr())
	}
	if remoteAddr != "" {
		if remote, err = resolveOne(remoteAddr); err != nil {
			return nil, zero, err
		}
		if localAddr == "" {
			fam = familyOf(remote.Addr())
		}
	}
	fd, err := syscall.Socket(fam, syscall.SOCK_DGRAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, zero, os.NewSyscallError("socket", err)
	}
	fail := func(err error) (DatagramTransport, P, error) {
		syscall.Close(fd)
		return nil, zero, err
	}
	if opts.ReusePort {
		if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, soReusePort, 1); err != nil {
			return fail(os.NewSyscallError("setsockopt", err))
		}
	}
	if opts.AllowBroadcast {
		syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_BROADCAST, 1)
	}
	if localAddr != "" {
		if err := syscall.Bind(fd, inetSockaddr(fam, local)); err != nil {
			return fail(os.NewSyscallError("bind", err))
		}
	}
	if remoteAddr != "" {
		if err := syscall.Connect(fd, inetSockaddr(fam, remote)); err != nil {
			return fail(os.NewSyscallError("connect", err))
		}
	}
	proto := factory()
	t := &datagramTransport{loop: l, io: s, fd: fd, proto: proto, connected: remoteAddr != "",
		high: defaultHighWater, low: defaultHighWater / 4}
	e, err := s.own(fd, t.readReady, t.writeReady)
	if err != nil {
		return fail(err)
	}
	t.ent = e
	s.owned[t] = struct{}{}
	waiter := NewFuture[struct{}](l)
	l.CallSoon(func(context.Context) { proto.ConnectionMade(t) })
	l.CallSoon(func(context.Context) {
		t.readReady(readyRead)
		if !waiter.Done() {
			waiter.SetResult(struct{}{})
		}
	})
	if _, err := Await(ctx, waiter); err != nil {
		t.Abort()
		return nil, zero, err
	}
	return t, proto, nil
}

func (t *datagramTransport) protect(fn func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = trio.NewPanicError(v)
		}
	}()
	fn()
	return nil
}

func (t *datagramTransport) readReady(uint32) {
	if t.io.rbuf == nil {
		t.io.rbuf = make([]byte, maxReadSize)
	}
	for !t.connLost && !t.closing {
		n, sa, err := syscall.Recvfrom(t.fd, t.io.rbuf, 0)
		if err == syscall.EAGAIN {
			return
		}
		if err == syscall.EINTR {
			continue
		}
		var perr error
		if err != nil {
			perr = t.protect(func() { t.proto.ErrorReceived(os.NewSyscallError("recvfrom", err)) })
		} else {
			addr := sockaddrToAddr(t.fd, sa)
			perr = t.protect(func() { t.proto.DatagramReceived(t.io.rbuf[:n], addr) })
		}
		if perr != nil {
			t.fatal(perr, "Fatal error: protocol.datagram_received() call failed.")
			return
		}
	}
}

func (t *datagramTransport) SendTo(data []byte, addr net.Addr) error {
	if t.closing || t.connLost {
		return ErrTransportClosing
	}
	var sa syscall.Sockaddr
	if addr != nil {
		if t.connected {
			return errors.New("asyncio: SendTo on a connected endpoint takes no address")
		}
		var err error
		if sa, err = addrToSockaddr(t.fd, addr); err != nil {
			return err
		}
	} else if !t.connected {
		return errors.New("asyncio: SendTo needs an address: the endpoint is not connected")
	}
	if len(t.queue) == 0 {
		err := t.send(data, sa)
		if err == nil {
			return nil
		}
		if err != syscall.EAGAIN {
			t.protect(func() { t.proto.ErrorReceived(os.NewSyscallError("sendto", err)) })
			return nil
		}
	}
	t.queue = append(t.queue, dgram{append([]byte(nil), data...), sa})
	t.qsize += len(data)
	if !t.paused && t.qsize > t.high {
		t.paused = true
		t.proto.PauseWriting()
	}
	return nil
}

func (t *datagramTransport) send(data []byte, sa syscall.Sockaddr) error {
	for {
		var err error
		if sa == nil {
			_, err = rawWrite(t.fd, data)
		} else {
			err = syscall.Sendto(t.fd, data, 0, sa)
		}
		if err != syscall.EINTR {
			return err
		}
	}
}

func (t *datagramTransport) writeReady() {
	for len(t.queue) > 0 && !t.connLost {
		d := t.queue[0]
		err := t.send(d.data, d.sa)
		if err == syscall.EAGAIN {
			return
		}
		t.queue[0] = dgram{}
		t.queue = t.queue[1:]
		t.qsize -= len(d.data)
		if err != nil {
			t.protect(func() { t.proto.ErrorReceived(os.NewSyscallError("sendto", err)) })
		}
	}
	if t.paused && t.qsize <= t.low {
		t.paused = false
		t.proto.ResumeWriting()
	}
	if len(t.queue) == 0 && t.closing && !t.connLost {
		t.connLost = true
		t.loop.CallSoon(func(context.Context) { t.callConnectionLost(nil) })
	}
}

func (t *datagramTransport) fatal(err error, msg string) {
	t.loop.CallExceptionHandler(ExceptionContext{Message: msg, Err: err, Extra: map[string]any{"transport": t}})
	t.Abort()
}

func (t *datagramTransport) GetExtraInfo(name string) any {
	if t.closedFd {
		return nil
	}
	switch name {
	case "peername":
		if sa, err := syscall.Getpeername(t.fd); err == nil {
			return sockaddrToAddr(t.fd, sa)
		}
	case "sockname":
		if sa, err := syscall.Getsockname(t.fd); err == nil {
			return sockaddrToAddr(t.fd, sa)
		}
	case "socket":
		return t.fd
	}
	return nil
}

func (t *datagramTransport) IsClosing() bool         { return t.closing }
func (t *datagramTransport) GetWriteBufferSize() int { return t.qsize }

func (t *datagramTransport) Close() {
	if t.closing {
		return
	}
	t.closing = true
	if len(t.queue) == 0 && !t.connLost {
		t.connLost = true
		t.loop.CallSoon(func(context.Context) { t.callConnectionLost(nil) })
	}
}

func (t *datagramTransport) Abort() {
	t.closing = true
	t.queue, t.qsize = nil, 0
	if !t.connLost {
		t.connLost = true
		t.loop.CallSoon(func(context.Context) { t.callConnectionLost(nil) })
	}
}

func (t *datagramTransport) callConnectionLost(err error) {
	defer t.closeNow()
	t.proto.ConnectionLost(err)
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
