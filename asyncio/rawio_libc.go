//go:build unix && !linux

package asyncio

import "syscall"

// rawRead and rawWrite on macOS and the BSDs go through package
// syscall: on macOS and OpenBSD system calls must go through libc, which
// package syscall does; the Linux versions' shortcut (a raw system call
// without the runtime's bookkeeping) is not worth a third variant for the
// other BSDs.

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
