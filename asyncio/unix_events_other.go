//go:build !unix

package asyncio

import (
	"context"
	"os"
)

// The loop's I/O needs Unix file descriptors (on Windows asyncio's loop
// is a proactor over I/O completion ports, which this loop is not): here
// it returns ErrNotSupported.

// ConnectReadPipe returns ErrNotSupported on this platform.
func ConnectReadPipe[P Protocol](ctx context.Context, factory func() P, f *os.File) (Transport, P, error) {
	var zero P
	return nil, zero, ErrNotSupported
}

// ConnectWritePipe returns ErrNotSupported on this platform.
func ConnectWritePipe[P BaseProtocol](ctx context.Context, factory func() P, f *os.File) (Transport, P, error) {
	var zero P
	return nil, zero, ErrNotSupported
}
