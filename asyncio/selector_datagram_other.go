//go:build !unix

package asyncio

import "context"

// The loop's I/O needs Unix file descriptors (on Windows asyncio's loop
// is a proactor over I/O completion ports, which this loop is not): here
// it returns ErrNotSupported.

// CreateDatagramEndpoint returns ErrNotSupported on this platform.
func CreateDatagramEndpoint[P DatagramProtocol](ctx context.Context, factory func() P, opts *DatagramOptions) (DatagramTransport, P, error) {
	var zero P
	return nil, zero, ErrNotSupported
}
