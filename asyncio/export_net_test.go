//go:build unix

package asyncio

import (
	"context"
	"net/netip"
	"syscall"
)

// ConnectAddrs is CreateConnection's connection step, on given
// addresses (happy eyeballs tests bypass the resolver).
func ConnectAddrs(ctx context.Context, aps []netip.AddrPort, opts *ConnectOptions) (int, error) {
	l, err := GetRunningLoop(ctx)
	if err != nil {
		return -1, err
	}
	if opts == nil {
		opts = &ConnectOptions{}
	}
	return connectAddrs(ctx, l, aps, opts)
}

// InterleaveAddrs is interleaveAddrs.
var InterleaveAddrs = interleaveAddrs

// HaveSendfile says whether the system has sendfile(2) (Sendfile falls
// back to copying where it has not).
const HaveSendfile = haveSendfile

// Socket makes a close-on-exec socket, non-blocking if nonblock, for the
// tests (as the loop makes its own, on every platform).
func Socket(family, typ int, nonblock bool) (int, error) {
	fd, err := sysSocket(family, typ, 0)
	if err == nil && !nonblock {
		err = syscall.SetNonblock(fd, false)
		if err != nil {
			syscall.Close(fd)
			return -1, err
		}
	}
	return fd, err
}

// Socketpair makes a pair of connected, close-on-exec, non-blocking Unix
// sockets of type typ, for the tests.
func Socketpair(typ int) ([2]int, error) {
	syscall.ForkLock.RLock()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, typ, 0)
	if err == nil {
		syscall.CloseOnExec(fds[0])
		syscall.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return fds, err
	}
	for _, fd := range fds {
		if err := syscall.SetNonblock(fd, true); err != nil {
			syscall.Close(fds[0])
			syscall.Close(fds[1])
			return fds, err
		}
	}
	return fds, nil
}

// SetResolveLocal replaces the resolver of CreateConnection's local
// address until the returned restore is called.
func SetResolveLocal(f func(ctx context.Context, network, host string, port int) ([]netip.AddrPort, error)) (restore func()) {
	old := resolveLocal
	resolveLocal = f
	return func() { resolveLocal = old }
}
