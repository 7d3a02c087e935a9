//go:build !linux

package asyncio

import (
	"context"
	"os"
)

// Sendfile returns ErrNotSupported on this platform.
func Sendfile(ctx context.Context, t Transport, file *os.File, offset, count int64, fallback bool) (int64, error) {
	return 0, ErrNotSupported
}
