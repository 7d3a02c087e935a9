//go:build !linux

package asyncio

import "context"

// CreateDatagramEndpoint returns ErrNotSupported on this platform.
func CreateDatagramEndpoint[P DatagramProtocol](ctx context.Context, factory func() P, opts *DatagramOptions) (DatagramTransport, P, error) {
	var zero P
	return nil, zero, ErrNotSupported
}
