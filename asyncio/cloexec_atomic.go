//go:build dragonfly || freebsd || linux || netbsd || openbsd

package asyncio

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// Where the kernel can create a descriptor close-on-exec (and
// non-blocking) in the same call: no child started meanwhile by another
// goroutine can inherit it.

// sysSocket makes a non-blocking, close-on-exec socket.
func sysSocket(family, typ, proto int) (int, error) {
	return syscall.Socket(family, typ|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, proto)
}

// sysAccept accepts a connection on the listening socket fd: a
// non-blocking, close-on-exec socket and its peer's address.
func sysAccept(fd int) (int, syscall.Sockaddr, error) {
	return syscall.Accept4(fd, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
}

// dupCloexec duplicates fd; the copy is close-on-exec.
func dupCloexec(fd int) (int, error) {
	return unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
}

// sysPipe makes a pipe whose both ends are close-on-exec (and blocking).
func sysPipe(p []int) error {
	return syscall.Pipe2(p, syscall.O_CLOEXEC)
}
