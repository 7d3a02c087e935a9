//go:build unix

package asyncio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
)

// ErrBlockingSocket is returned by the Sock functions for a socket in
// blocking mode: reading or writing it would block the whole loop.
var ErrBlockingSocket = errors.New("asyncio: the socket must be non-blocking")

// sockFd returns the fd of sock, checking that it is non-blocking.
func sockFd(sock syscall.Conn) (int, error) {
	rc, err := sock.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	if err := rc.Control(func(f uintptr) { fd = int(f) }); err != nil {
		return -1, err
	}
	fl, e := fdFlags(fd)
	if e != nil {
		return -1, e
	}
	if fl&syscall.O_NONBLOCK == 0 {
		return -1, ErrBlockingSocket
	}
	return fd, nil
}

// waitFd waits, in a task, until fd is ready in direction dir.
func waitFd(ctx context.Context, fd int, dir uint32) error {
	l, err := GetRunningLoop(ctx)
	if err != nil {
		return err
	}
	fut := NewFuture[struct{}](l)
	cb := func(context.Context) {
		if !fut.Done() {
			fut.SetResult(struct{}{})
		}
	}
	c, err := l.addFdCallback(fd, dir, cb, nil, "AddReader")
	if err != nil {
		return err
	}
	_, err = Await(ctx, fut)
	// Only our own callback: a newer wait on fd (another task's, after
	// this one was cancelled) may have taken the slot meanwhile.
	l.removeFdCallbackOf(fd, dir, c, "RemoveReader")
	return err
}

func retryable(err error) bool { return err == syscall.EAGAIN || err == syscall.EINTR }

// SockRecv receives up to n bytes from sock (asyncio's loop.sock_recv),
// waiting on the loop until some arrive; at end of stream it returns an
// empty slice and no error. It is a coroutine: call it from a task.
//
// sock is a non-blocking socket: *net.TCPConn, *net.UnixConn,
// *net.UDPConn, or an *os.File made from a socket fd. (Go's own Read on
// those would block the loop.) Cancelled while waiting, it returns the
// CancelledError and has read nothing. Errors: ErrBlockingSocket, the
// socket's own (ECONNRESET…), ErrAwaitOutsideTask outside a task.
func SockRecv(ctx context.Context, sock syscall.Conn, n int) ([]byte, error) {
	buf := make([]byte, n)
	m, err := SockRecvInto(ctx, sock, buf)
	return buf[:m], err
}

// SockRecvInto receives into buf (asyncio's loop.sock_recv_into) and
// returns the number of bytes received: 0 at end of stream. As SockRecv.
func SockRecvInto(ctx context.Context, sock syscall.Conn, buf []byte) (int, error) {
	fd, err := sockFd(sock)
	if err != nil {
		return 0, err
	}
	for {
		n, err := syscall.Read(fd, buf)
		if err == nil {
			return n, nil
		}
		if !retryable(err) {
			return 0, os.NewSyscallError("recv", err)
		}
		if err := waitFd(ctx, fd, readyRead); err != nil {
			return 0, err
		}
	}
}

// SockRecvfrom receives one datagram of up to n bytes and its sender's
// address (asyncio's loop.sock_recvfrom). As SockRecv.
func SockRecvfrom(ctx context.Context, sock syscall.Conn, n int) ([]byte, net.Addr, error) {
	buf := make([]byte, n)
	m, addr, err := SockRecvfromInto(ctx, sock, buf)
	if err != nil {
		return nil, nil, err
	}
	return buf[:m], addr, nil
}

// SockRecvfromInto receives one datagram into buf and returns the number
// of bytes written and the sender's address (asyncio's
// loop.sock_recvfrom_into). asyncio's nbytes argument is buf's length:
// pass buf[:nbytes] to receive at most nbytes. A datagram longer than buf
// is cut to len(buf) and the rest of it is lost, as with recvfrom(2).
// Cancelled while waiting, it returns the CancelledError and has
// received nothing: the next datagram stays queued for the next call.
// As SockRecv.
func SockRecvfromInto(ctx context.Context, sock syscall.Conn, buf []byte) (int, net.Addr, error) {
	fd, err := sockFd(sock)
	if err != nil {
		return 0, nil, err
	}
	for {
		m, sa, err := syscall.Recvfrom(fd, buf, 0)
		if err == nil {
			return m, sockaddrToAddr(fd, sa), nil
		}
		if !retryable(err) {
			return 0, nil, os.NewSyscallError("recvfrom", err)
		}
		if err := waitFd(ctx, fd, readyRead); err != nil {
			return 0, nil, err
		}
	}
}

// SockSendall sends all of data (asyncio's loop.sock_sendall), waiting on
// the loop while the socket's buffer is full. Cancelled, it returns the
// CancelledError, and part of data may have been sent (as in asyncio).
// As SockRecv.
func SockSendall(ctx context.Context, sock syscall.Conn, data []byte) error {
	fd, err := sockFd(sock)
	if err != nil {
		return err
	}
	for len(data) > 0 {
		n, err := syscall.Write(fd, data)
		if err == nil {
			data = data[n:]
			continue
		}
		if !retryable(err) {
			return os.NewSyscallError("send", err)
		}
		if err := waitFd(ctx, fd, readyWrite); err != nil {
			return err
		}
	}
	return nil
}

// SockSendto sends one datagram to addr (asyncio's loop.sock_sendto) and
// returns the number of bytes sent. As SockRecv.
func SockSendto(ctx context.Context, sock syscall.Conn, data []byte, addr net.Addr) (int, error) {
	fd, err := sockFd(sock)
	if err != nil {
		return 0, err
	}
	sa, err := addrToSockaddr(fd, addr)
	if err != nil {
		return 0, err
	}
	for {
		err := syscall.Sendto(fd, data, 0, sa)
		if err == nil {
			return len(data), nil
		}
		if !retryable(err) {
			return 0, os.NewSyscallError("sendto", err)
		}
		if err := waitFd(ctx, fd, readyWrite); err != nil {
			return 0, err
		}
	}
}

// SockConnect connects sock to addr (asyncio's loop.sock_connect): a
// *net.TCPAddr, *net.UDPAddr or *net.UnixAddr matching the socket's
// family. sock is typically an *os.File made from a fresh non-blocking
// socket fd. Errors are the connect's (ECONNREFUSED…) as *os.SyscallError.
func SockConnect(ctx context.Context, sock syscall.Conn, addr net.Addr) error {
	fd, err := sockFd(sock)
	if err != nil {
		return err
	}
	sa, err := addrToSockaddr(fd, addr)
	if err != nil {
		return err
	}
	return connectFd(ctx, fd, sa)
}

func connectFd(ctx context.Context, fd int, sa syscall.Sockaddr) error {
	for {
		err := syscall.Connect(fd, sa)
		if err == syscall.EINTR {
			continue
		}
		if err == nil || err == syscall.EISCONN {
			return nil
		}
		if err != syscall.EINPROGRESS && err != syscall.EAGAIN && err != syscall.EALREADY {
			return os.NewSyscallError("connect", err)
		}
		break
	}
	for {
		if err := waitFd(ctx, fd, readyWrite); err != nil {
			return err
		}
		v, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
		if err != nil {
			return os.NewSyscallError("getsockopt", err)
		}
		switch e := syscall.Errno(v); e {
		case 0, syscall.EISCONN:
			return nil
		case syscall.EINPROGRESS, syscall.EALREADY, syscall.EINTR:
			continue
		default:
			return os.NewSyscallError("connect", e)
		}
	}
}

// SockAccept accepts a connection on the listening socket ln (asyncio's
// loop.sock_accept) and returns it, non-blocking, with its peer's address.
// ln is a *net.TCPListener, *net.UnixListener or *os.File of a listening
// socket. As SockRecv.
func SockAccept(ctx context.Context, ln syscall.Conn) (net.Conn, net.Addr, error) {
	fd, err := sockFd(ln)
	if err != nil {
		return nil, nil, err
	}
	for {
		nfd, sa, err := sysAccept(fd)
		if err == nil {
			f := os.NewFile(uintptr(nfd), "socket")
			c, err := net.FileConn(f)
			f.Close()
			if err != nil {
				return nil, nil, err
			}
			return c, sockaddrToAddr(fd, sa), nil
		}
		if !retryable(err) && err != syscall.ECONNABORTED {
			return nil, nil, os.NewSyscallError("accept", err)
		}
		if err := waitFd(ctx, fd, readyRead); err != nil {
			return nil, nil, err
		}
	}
}

// SockSendfile sends count bytes of file from offset over sock (asyncio's
// loop.sock_sendfile; count 0 means up to the end of the file) with
// sendfile(2), waiting on the loop while the socket is full, and returns
// the number of bytes sent. The file's offset is left after the bytes
// sent, as in asyncio, also when it fails part way. A file sendfile(2) cannot send from (a pipe, a
// character device) is read and sent instead, from where it stands, up to
// count bytes or its end: as asyncio falls back; offset must then be 0.
// Where the system cannot sendfile(2) to sock (NetBSD, OpenBSD), a regular
// file is read and sent too, from offset. As SockRecv; also
// ErrSendfileRange for a negative offset or count, and ErrNotStreamSocket
// for a socket that is not a stream socket. It panics if file is nil.
func SockSendfile(ctx context.Context, sock syscall.Conn, file *os.File, offset int64, count int64) (int64, error) {
	if file == nil {
		panic("asyncio: SockSendfile with a nil file")
	}
	fd, err := sockFd(sock)
	if err != nil {
		return 0, err
	}
	if sockType(fd) != syscall.SOCK_STREAM {
		return 0, fmt.Errorf("%w: SockSendfile sends only over stream sockets", ErrNotStreamSocket)
	}
	if offset < 0 || count < 0 {
		return 0, fmt.Errorf("%w (offset %d, count %d)", ErrSendfileRange, offset, count)
	}
	st, err := file.Stat()
	if err != nil {
		return 0, err
	}
	if !st.Mode().IsRegular() {
		return sockSendStream(ctx, sock, file, offset, count)
	}
	if count == 0 {
		count = st.Size() - offset
	}
	rc, err := file.SyscallConn()
	if err != nil {
		return 0, err
	}
	var sent int64
	off := offset
	for sent < count {
		var n int
		var serr error
		cerr := rc.Control(func(ffd uintptr) {
			chunk := min(count-sent, 1<<30)
			n, serr = sysSendfile(fd, int(ffd), &off, int(chunk))
		})
		if cerr != nil {
			return sent, cerr
		}
		if serr == nil {
			if n == 0 {
				break // end of file
			}
			sent += int64(n)
			continue
		}
		if !retryable(serr) {
			if sent == 0 && (serr == syscall.EINVAL || serr == syscall.ENOSYS) {
				return sockSendfileFallback(ctx, sock, file, offset, count)
			}
			file.Seek(offset+sent, io.SeekStart)
			return sent, os.NewSyscallError("sendfile", serr)
		}
		if err := waitFd(ctx, fd, readyWrite); err != nil {
			file.Seek(offset+sent, io.SeekStart)
			return sent, err
		}
	}
	_, err = file.Seek(offset+sent, io.SeekStart)
	return sent, err
}

func sockSendfileFallback(ctx context.Context, sock syscall.Conn, file *os.File, offset, count int64) (int64, error) {
	buf := make([]byte, min(count, 256<<10))
	var sent int64
	for sent < count {
		n, err := file.ReadAt(buf[:min(int64(len(buf)), count-sent)], offset+sent)
		if n > 0 {
			if err := SockSendall(ctx, sock, buf[:n]); err != nil {
				file.Seek(offset+sent, io.SeekStart)
				return sent, err
			}
			sent += int64(n)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			file.Seek(offset+sent, io.SeekStart)
			return sent, err
		}
	}
	_, err := file.Seek(offset+sent, io.SeekStart)
	return sent, err
}

// sockSendStream sends what reading file gives, up to count bytes (0:
// to its end): SockSendfile's way for files that cannot be sent from an
// offset.
func sockSendStream(ctx context.Context, sock syscall.Conn, file *os.File, offset, count int64) (int64, error) {
	if offset != 0 {
		return 0, fmt.Errorf("asyncio: SockSendfile from offset %d of %s: %w", offset, file.Name(), syscall.ESPIPE)
	}
	buf := make([]byte, 64<<10)
	var sent int64
	for count == 0 || sent < count {
		want := int64(len(buf))
		if count > 0 {
			want = min(want, count-sent)
		}
		n, err := file.Read(buf[:want])
		if n > 0 {
			if err := SockSendall(ctx, sock, buf[:n]); err != nil {
				file.Seek(offset+sent, io.SeekStart)
				return sent, err
			}
			sent += int64(n)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			file.Seek(offset+sent, io.SeekStart)
			return sent, err
		}
	}
	return sent, nil
}

// sockType returns the socket type of fd (SOCK_STREAM, SOCK_DGRAM).
func sockType(fd int) int {
	t, _ := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TYPE)
	return t
}

func sockaddrToAddr(fd int, sa syscall.Sockaddr) net.Addr {
	dgram := sockType(fd) == syscall.SOCK_DGRAM
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		ap := netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
		if dgram {
			return net.UDPAddrFromAddrPort(ap)
		}
		return net.TCPAddrFromAddrPort(ap)
	case *syscall.SockaddrInet6:
		a := netip.AddrFrom16(sa.Addr)
		if sa.ZoneId != 0 {
			if ifi, err := net.InterfaceByIndex(int(sa.ZoneId)); err == nil {
				a = a.WithZone(ifi.Name)
			}
		}
		ap := netip.AddrPortFrom(a, uint16(sa.Port))
		if dgram {
			return net.UDPAddrFromAddrPort(ap)
		}
		return net.TCPAddrFromAddrPort(ap)
	case *syscall.SockaddrUnix:
		if dgram {
			return &net.UnixAddr{Name: sa.Name, Net: "unixgram"}
		}
		return &net.UnixAddr{Name: sa.Name, Net: "unix"}
	}
	return nil
}

func addrToSockaddr(fd int, addr net.Addr) (syscall.Sockaddr, error) {
	var ap netip.AddrPort
	switch a := addr.(type) {
	case *net.TCPAddr:
		ap = a.AddrPort()
	case *net.UDPAddr:
		ap = a.AddrPort()
	case *net.UnixAddr:
		if a == nil {
			return nil, fmt.Errorf("asyncio: nil address %T", addr)
		}
		return &syscall.SockaddrUnix{Name: a.Name}, nil
	default:
		return nil, fmt.Errorf("asyncio: unsupported address %v (%T)", addr, addr)
	}
	if !ap.Addr().IsValid() { // a nil *net.UDPAddr, an address without an IP
		return nil, fmt.Errorf("asyncio: address %v (%T) has no IP", addr, addr)
	}
	family := syscall.AF_INET
	if fd >= 0 {
		if sa, err := syscall.Getsockname(fd); err == nil {
			if _, ok := sa.(*syscall.SockaddrInet6); ok {
				family = syscall.AF_INET6
			}
		}
	} else if ap.Addr().Is6() && !ap.Addr().Is4In6() {
		family = syscall.AF_INET6
	}
	return inetSockaddr(family, ap), nil
}

func inetSockaddr(family int, ap netip.AddrPort) syscall.Sockaddr {
	if family == syscall.AF_INET6 {
		sa := &syscall.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
		if z := ap.Addr().Zone(); z != "" {
			// The zone is an interface's name, or its index ("fe80::1%1").
			if ifi, err := net.InterfaceByName(z); err == nil {
				sa.ZoneId = uint32(ifi.Index)
			} else if n, err := strconv.ParseUint(z, 10, 32); err == nil {
				sa.ZoneId = uint32(n)
			}
		}
		return sa
	}
	return &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().Unmap().As4()}
}
