package asyncio

import "golang.org/x/sys/unix"

// growPipe asks for a bigger pipe buffer than the 64 KiB default
// (F_SETPIPE_SZ), best effort.
func growPipe(fd int) {
	_, _ = unix.FcntlInt(uintptr(fd), fSetPipeSz, pipeSize)
}
