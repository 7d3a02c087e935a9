//go:build !linux

package asyncio

import "context"

// SubprocessExec returns ErrNotSupported on this platform.
func SubprocessExec[P SubprocessProtocol](ctx context.Context, factory func() P, opts *SubprocessOptions, program string, args ...string) (SubprocessTransport, P, error) {
	var zero P
	return nil, zero, ErrNotSupported
}

// SubprocessShell returns ErrNotSupported on this platform.
func SubprocessShell[P SubprocessProtocol](ctx context.Context, factory func() P, opts *SubprocessOptions, cmd string) (SubprocessTransport, P, error) {
	var zero P
	return nil, zero, ErrNotSupported
}
