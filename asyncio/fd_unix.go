//go:build unix

package asyncio

import "golang.org/x/sys/unix"

// fcntl through golang.org/x/sys/unix, which reaches it through libc
// where the system wants that (macOS, OpenBSD); package syscall has no
// portable fcntl.

// soReusePort is SO_REUSEPORT, whose value differs between Linux and the
// BSDs.
const soReusePort = unix.SO_REUSEPORT

// dupCloexec duplicates fd; the copy is close-on-exec.
func dupCloexec(fd int) (int, error) {
	return unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
}

// fdFlags returns fd's file status flags (O_NONBLOCK…).
func fdFlags(fd int) (int, error) {
	return unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
}
