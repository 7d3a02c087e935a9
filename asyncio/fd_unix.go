//go:build unix

package asyncio

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// fdFlags returns fd's file status flags (O_NONBLOCK…): fcntl through
// golang.org/x/sys/unix, which reaches it through libc where the system
// wants that (macOS, OpenBSD); package syscall has no portable fcntl.
func fdFlags(fd int) (int, error) {
	return unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
}

// fdFileID returns the identity of the file fd names (zero if fd is not
// open).
func fdFileID(fd int) fileID {
	var st syscall.Stat_t
	if syscall.Fstat(fd, &st) != nil {
		return fileID{}
	}
	return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)}
}
