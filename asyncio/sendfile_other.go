//go:build !unix

package asyncio

import (
	"context"
	"os"
)

// The loop's I/O needs Unix file descriptors (on Windows asyncio's loop
// is a proactor over I/O completion ports, which this loop is not): here
// it returns ErrNotSupported.

// Sendfile returns ErrNotSupported on this platform.
func Sendfile(ctx context.Context, t Transport, file *os.File, offset, count int64, fallback bool) (int64, error) {
	return 0, ErrNotSupported
}
