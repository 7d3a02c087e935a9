//go:build !linux

package asyncio

import (
	"context"
	"os"
)

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
