//go:build unix

package asyncio

import "golang.org/x/sys/unix"

// fdFlags returns fd's file status flags (O_NONBLOCK…): fcntl through
// golang.org/x/sys/unix, which reaches it through libc where the system
// wants that (macOS, OpenBSD); package syscall has no portable fcntl.
func fdFlags(fd int) (int, error) {
	return unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
}
