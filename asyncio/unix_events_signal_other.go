//go:build !unix

package asyncio

import (
	"context"
	"syscall"
)

// AddSignalHandler returns ErrNotSupported on this platform (as asyncio's
// loops on Windows).
func (l *Loop) AddSignalHandler(sig syscall.Signal, cb func(ctx context.Context), opts ...CallOption) error {
	return ErrNotSupported
}

// RemoveSignalHandler returns ErrNotSupported on this platform.
func (l *Loop) RemoveSignalHandler(sig syscall.Signal) (bool, error) {
	return false, ErrNotSupported
}
