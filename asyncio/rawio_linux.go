//go:build linux

package asyncio

import (
	"syscall"
	"unsafe"
)

// rawRead and rawWrite are read(2) and write(2) on the loop's own
// non-blocking sockets, without the runtime's system-call bookkeeping
// (the calls never block, so the loop's goroutine keeps its processor):
// they are most of the loop's work on a busy connection.
func rawRead(fd int, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

func rawWrite(fd int, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
