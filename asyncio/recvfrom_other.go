//go:build unix && (!linux || 386)

package asyncio

import (
	"syscall"
	"unsafe"
)

// rawRecvfrom is recvfrom(2) on a non-blocking datagram socket, the
// sender's address left in rsa (as the Linux version leaves it, for the
// caller's allocation-free decoding).
func rawRecvfrom(fd int, buf []byte, rsa *syscall.RawSockaddrAny) (int, error) {
	n, from, err := syscall.Recvfrom(fd, buf, 0)
	if err != nil {
		return 0, err
	}
	*rsa = syscall.RawSockaddrAny{}
	switch sa := from.(type) {
	case *syscall.SockaddrInet4:
		r := (*syscall.RawSockaddrInet4)(unsafe.Pointer(rsa))
		r.Family = syscall.AF_INET
		p := (*[2]byte)(unsafe.Pointer(&r.Port))
		p[0], p[1] = byte(sa.Port>>8), byte(sa.Port)
		r.Addr = sa.Addr
	case *syscall.SockaddrInet6:
		r := (*syscall.RawSockaddrInet6)(unsafe.Pointer(rsa))
		r.Family = syscall.AF_INET6
		p := (*[2]byte)(unsafe.Pointer(&r.Port))
		p[0], p[1] = byte(sa.Port>>8), byte(sa.Port)
		r.Addr = sa.Addr
		r.Scope_id = sa.ZoneId
	case *syscall.SockaddrUnix:
		r := (*syscall.RawSockaddrUnix)(unsafe.Pointer(rsa))
		r.Family = syscall.AF_UNIX
		path := (*[len(r.Path)]byte)(unsafe.Pointer(&r.Path))
		copy(path[:len(path)-1], sa.Name)
	}
	return n, nil
}
