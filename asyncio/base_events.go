package asyncio

import (
	"context"
	"crypto/tls"
	"net"
	"net/netip"
	"strconv"
	"time"
)

// Getaddrinfo resolves host to its IP addresses, each with port, off the
// loop in the loop's default executor (asyncio's loop.getaddrinfo, which
// runs socket.getaddrinfo in the executor). A numeric host is returned at
// once, without a lookup. network is "ip", "ip4" or "ip6". It is a
// coroutine: call it from a task; cancelled, it returns the CancelledError
// and the lookup's result is dropped. Errors are the resolver's
// (*net.DNSError).
func Getaddrinfo(ctx context.Context, network, host string, port int) ([]netip.AddrPort, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		if (network == "ip4" && !a.Unmap().Is4()) || (network == "ip6" && a.Is4()) {
			return nil, &net.AddrError{Err: "no suitable address", Addr: host}
		}
		return []netip.AddrPort{netip.AddrPortFrom(a, uint16(port))}, nil
	}
	fut := RunInExecutor(ctx, nil, func(ctx context.Context) ([]netip.AddrPort, error) {
		ips, err := net.DefaultResolver.LookupNetIP(ctx, network, host)
		if err != nil {
			return nil, err
		}
		out := make([]netip.AddrPort, len(ips))
		for i, ip := range ips {
			out[i] = netip.AddrPortFrom(ip.Unmap(), uint16(port))
		}
		return out, nil
	})
	return Await(ctx, fut)
}

// Getnameinfo returns the host name of addr's IP address (or the address
// itself if it has none) and its port as a decimal string, looked up off
// the loop in the default executor (asyncio's loop.getnameinfo). A
// coroutine, as Getaddrinfo.
func Getnameinfo(ctx context.Context, addr netip.AddrPort) (host, port string, err error) {
	fut := RunInExecutor(ctx, nil, func(ctx context.Context) (string, error) {
		names, err := net.DefaultResolver.LookupAddr(ctx, addr.Addr().String())
		if err != nil || len(names) == 0 {
			return addr.Addr().String(), nil
		}
		return names[0], nil
	})
	host, err = Await(ctx, fut)
	return host, strconv.Itoa(int(addr.Port())), err
}

// ConnectOptions are CreateConnection's options (asyncio's keyword
// arguments); the zero value, or nil, means asyncio's defaults.
type ConnectOptions struct {
	// LocalAddr binds the socket before connecting ("host:port"; the port
	// may be 0).
	LocalAddr string
	// Network restricts the address family: "tcp" (either), "tcp4" or
	// "tcp6".
	Network string
	// HappyEyeballsDelay, if positive, races the host's addresses (RFC
	// 8305, asyncio's happy_eyeballs_delay): the next address is tried
	// when the previous one fails or has not connected within the delay
	// (250 ms is the RFC's recommendation); the first to connect wins and
	// the others are abandoned. Zero tries the addresses one after the
	// other.
	HappyEyeballsDelay time.Duration
	// Interleave reorders the addresses by family, this many of the first
	// family before one of the other (default 1 with HappyEyeballsDelay,
	// else 0: the resolver's order).
	Interleave int
	// Limit is the StreamReader's limit, for OpenConnection (0:
	// DefaultStreamLimit).
	Limit int
	// TLS, if not nil, makes the connection TLS (crypto/tls) with this
	// config; the transport is returned once the handshake is done.
	TLS *tls.Config
	// TLSOptions are the TLS connection's server hostname (default: the
	// config's ServerName, else host) and timeouts.
	TLSOptions
}

// ServerOptions are CreateServer's options; the zero value, or nil, means
// asyncio's defaults.
type ServerOptions struct {
	// Hosts are further hosts to listen on, beside the host argument.
	Hosts []string
	// Backlog is listen(2)'s backlog, and the most connections accepted
	// at once per readiness (default 100).
	Backlog int
	// ReusePort sets SO_REUSEPORT: several sockets (of several loops) may
	// listen on one port, and the kernel spreads connections among them
	// (Linux, DragonFly; macOS and the other BSDs may give them all to
	// one).
	ReusePort bool
	// NoReuseAddress leaves SO_REUSEADDR unset (asyncio sets it on Unix).
	NoReuseAddress bool
	// NoStartServing creates the server without accepting yet (asyncio's
	// start_serving=False): call StartServing or ServeForever.
	NoStartServing bool
	// Limit is the StreamReader's limit, for StartServer (0:
	// DefaultStreamLimit).
	Limit int
	// TLS, if not nil, makes every connection TLS with this config: the
	// protocol's ConnectionMade comes after the handshake; connections
	// whose handshake fails never reach the protocol.
	TLS *tls.Config
	// TLSOptions are the handshake and shutdown timeouts.
	TLSOptions
}
