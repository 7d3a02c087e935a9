//go:build linux

package asyncio

import (
	"context"
	"net/netip"
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
