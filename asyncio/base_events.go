package asyncio

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"
)

// Errors of the options of connections and servers.
var (
	// ErrTLSOptionWithoutTLS is returned by CreateConnection,
	// CreateServer, CreateUnixServer, OpenConnection, StartServer and
	// StartUnixServer for a ServerHostname, HandshakeTimeout or
	// ShutdownTimeout given without a TLS config: they would be ignored
	// (asyncio raises ValueError "… is only meaningful with ssl").
	ErrTLSOptionWithoutTLS = errors.New("asyncio: TLS options are only meaningful with TLS")
	// ErrTLSNoServerHostname is returned by CreateConnection and
	// OpenConnection for a TLS connection to an empty host with neither a
	// ServerHostname nor the config's ServerName: there is no name to
	// check the server's certificate against.
	ErrTLSNoServerHostname = errors.New("asyncio: a TLS connection without a host needs a ServerHostname")
	// ErrNotStreamSocket is returned for a socket that is not the stream
	// socket the call needs: ConnectAcceptedSocket, ServerOptions.Listener
	// and SockSendfile given a datagram socket (or something else), a
	// Unix server's Listener of another family.
	ErrNotStreamSocket = errors.New("asyncio: a stream socket was expected")
	// ErrListenerWithAddress is returned by CreateServer and
	// CreateUnixServer given both a ServerOptions.Listener and an address
	// to listen on (a host, a port, Hosts, or a path).
	ErrListenerWithAddress = errors.New("asyncio: an address and a Listener cannot be given together")
)

// checkTLSOptions refuses TLS options given without TLS.
func checkTLSOptions(withTLS bool, o TLSOptions) error {
	if withTLS {
		return nil
	}
	switch {
	case o.ServerHostname != "":
		return fmt.Errorf("%w: ServerHostname %q", ErrTLSOptionWithoutTLS, o.ServerHostname)
	case o.HandshakeTimeout != 0:
		return fmt.Errorf("%w: HandshakeTimeout", ErrTLSOptionWithoutTLS)
	case o.ShutdownTimeout != 0:
		return fmt.Errorf("%w: ShutdownTimeout", ErrTLSOptionWithoutTLS)
	}
	return nil
}

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

// ConnectOptions are the options of CreateConnection, OpenConnection,
// CreateUnixConnection and OpenUnixConnection (asyncio's keyword
// arguments); the zero value, or nil, means asyncio's defaults.
type ConnectOptions struct {
	// LocalAddr binds the socket before connecting ("host:port"; the port
	// may be 0). Of the host's addresses, the first of the remote
	// address's family is bound; if it has none, the connection fails.
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
	// Limit is the StreamReader's limit, for OpenConnection and
	// OpenUnixConnection (0: DefaultStreamLimit).
	Limit int
	// TLS, if not nil, makes the connection TLS (crypto/tls) with this
	// config; the transport is returned once the handshake is done.
	TLS *tls.Config
	// TLSOptions are the TLS connection's server hostname (default: the
	// config's ServerName, else host) and timeouts; without TLS they must
	// be zero (ErrTLSOptionWithoutTLS).
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
	// TLSOptions are the handshake and shutdown timeouts; without TLS
	// they must be zero (ErrTLSOptionWithoutTLS).
	TLSOptions
	// Listener, if not nil, is an existing stream socket to serve instead
	// of making one (asyncio's sock=): a *net.TCPListener or
	// *net.UnixListener, or an *os.File of a socket, listening or bound
	// (it is made to listen with Backlog). The host must then be "" and
	// the port 0, Hosts empty (ErrListenerWithAddress); a datagram socket
	// is refused (ErrNotStreamSocket). The loop takes it over: it
	// duplicates its descriptor and closes Listener; ReusePort and
	// NoReuseAddress do not apply.
	Listener interface {
		SyscallConn() (syscall.RawConn, error)
		Close() error
	}
	// KeepSocketFile leaves a Unix server's socket file in place when the
	// server closes (asyncio's cleanup_socket=False).
	KeepSocketFile bool
}
