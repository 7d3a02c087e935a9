//go:build unix && !(dragonfly || freebsd || linux || netbsd || openbsd)

package asyncio

import "syscall"

// macOS (and AIX, Solaris) cannot create a descriptor close-on-exec in
// the same call (no SOCK_CLOEXEC, accept4 or pipe2): as Go's own net and
// os packages do there, the descriptor is made and marked close-on-exec
// under syscall.ForkLock, which os/exec holds for writing while it forks,
// so no child can inherit it in between.

// sysSocket makes a non-blocking, close-on-exec socket.
func sysSocket(family, typ, proto int) (int, error) {
	syscall.ForkLock.RLock()
	fd, err := syscall.Socket(family, typ, proto)
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, err
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	return fd, nil
}

// sysAccept accepts a connection on the listening socket fd: a
// non-blocking, close-on-exec socket and its peer's address.
func sysAccept(fd int) (int, syscall.Sockaddr, error) {
	syscall.ForkLock.RLock()
	nfd, sa, err := syscall.Accept(fd)
	if err == nil {
		syscall.CloseOnExec(nfd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, nil, err
	}
	if err := syscall.SetNonblock(nfd, true); err != nil {
		syscall.Close(nfd)
		return -1, nil, err
	}
	return nfd, sa, nil
}

// dupCloexec duplicates fd; the copy is close-on-exec. (F_DUPFD_CLOEXEC
// would do it at once, but AIX lacks it.)
func dupCloexec(fd int) (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	nfd, err := syscall.Dup(fd)
	if err != nil {
		return -1, err
	}
	syscall.CloseOnExec(nfd)
	return nfd, nil
}

// sysPipe makes a pipe whose both ends are close-on-exec (and blocking).
func sysPipe(p []int) error {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	if err := syscall.Pipe(p); err != nil {
		return err
	}
	syscall.CloseOnExec(p[0])
	syscall.CloseOnExec(p[1])
	return nil
}
