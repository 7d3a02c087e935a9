//go:build !unix

package asyncio

import "context"

// The loop's I/O needs Unix file descriptors (on Windows asyncio's loop
// is a proactor over I/O completion ports, which this loop is not): here
// it returns ErrNotSupported.

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
