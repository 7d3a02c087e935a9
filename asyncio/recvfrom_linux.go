//go:build !386

package asyncio

import (
	"syscall"
	"unsafe"
)

// rawRecvfrom is recvfrom(2) on a non-blocking datagram socket, the
// sender's address left in rsa: no allocation per datagram.
func rawRecvfrom(fd int, buf []byte, rsa *syscall.RawSockaddrAny) (int, error) {
	var p unsafe.Pointer
	if len(buf) > 0 {
		p = unsafe.Pointer(&buf[0])
	}
	alen := uint32(syscall.SizeofSockaddrAny)
	r, _, e := syscall.Syscall6(syscall.SYS_RECVFROM, uintptr(fd), uintptr(p), uintptr(len(buf)), 0,
		uintptr(unsafe.Pointer(rsa)), uintptr(unsafe.Pointer(&alen)))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}
