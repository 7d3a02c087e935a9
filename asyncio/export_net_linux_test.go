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

// SetResolveLocal replaces the resolver of CreateConnection's local
// address until the returned restore is called.
func SetResolveLocal(f func(ctx context.Context, network, host string, port int) ([]netip.AddrPort, error)) (restore func()) {
	old := resolveLocal
	resolveLocal = f
	return func() { resolveLocal = old }
}
