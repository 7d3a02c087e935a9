//go:build unix && !linux

package asyncio

import (
	"syscall"
	"unsafe"
)

// rawRead, rawWrite and rawRecvfrom on macOS and the BSDs go through
// package syscall: on macOS and OpenBSD system calls must go through
// libc, which package syscall does; the Linux versions' shortcut (a raw
// system call without the runtime's bookkeeping) is not worth a third
// variant for the other BSDs.

func rawRead(fd int, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, err := syscall.Read(fd, b)
	if err != nil {
		return 0, err
	}
	return n, nil
}

func rawWrite(fd int, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, err := syscall.Write(fd, b)
	if err != nil {
		return 0, err
	}
	return n, nil
}

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
		r.Len = syscall.SizeofSockaddrInet4
		r.Family = syscall.AF_INET
		p := (*[2]byte)(unsafe.Pointer(&r.Port))
		p[0], p[1] = byte(sa.Port>>8), byte(sa.Port)
		r.Addr = sa.Addr
	case *syscall.SockaddrInet6:
		r := (*syscall.RawSockaddrInet6)(unsafe.Pointer(rsa))
		r.Len = syscall.SizeofSockaddrInet6
		r.Family = syscall.AF_INET6
		p := (*[2]byte)(unsafe.Pointer(&r.Port))
		p[0], p[1] = byte(sa.Port>>8), byte(sa.Port)
		r.Addr = sa.Addr
		r.Scope_id = sa.ZoneId
	case *syscall.SockaddrUnix:
		r := (*syscall.RawSockaddrUnix)(unsafe.Pointer(rsa))
		r.Family = syscall.AF_UNIX
		for i := 0; i < len(sa.Name) && i < len(r.Path)-1; i++ {
			r.Path[i] = int8(sa.Name[i])
		}
		r.Len = uint8(min(len(sa.Name)+2, syscall.SizeofSockaddrUnix))
	}
	return n, nil
}
