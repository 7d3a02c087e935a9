package asyncio

import (
	"errors"
	"net"
	"syscall"
)

// Errors of datagram endpoints.
var (
	// ErrDatagramAddress is returned by SendTo for an address other than
	// the endpoint's remote address (a connected endpoint sends only
	// there), or for no address on an endpoint without a remote address.
	ErrDatagramAddress = errors.New("asyncio: invalid address for this datagram endpoint")
	// ErrNoEOF is returned by a datagram transport's WriteEOF: datagrams
	// have no end of stream.
	ErrNoEOF = errors.New("asyncio: datagram transports have no end of stream")
	// ErrDatagramOptions is returned by CreateDatagramEndpoint for
	// options that do not make an endpoint (no address at all, an
	// unknown network).
	ErrDatagramOptions = errors.New("asyncio: invalid datagram endpoint options")
)

// DatagramTransport is a datagram endpoint as its DatagramProtocol sees
// it (asyncio.DatagramTransport). It is also a Transport, so that the
// protocol's ConnectionMade receives it: Write(data) is SendTo(data, nil),
// WriteEOF returns ErrNoEOF. Loop-confined.
type DatagramTransport interface {
	Transport
	// SendTo sends data as one datagram to addr (a *net.UDPAddr, or a
	// *net.UnixAddr for a Unix datagram socket); addr nil (or a nil
	// *net.UDPAddr or *net.UnixAddr) sends to the endpoint's remote
	// address. It never blocks: when the kernel's buffer
	// is full the datagram is buffered, with the transports' flow
	// control. A failed send (an ICMP error reported by the kernel…) goes
	// to the protocol's ErrorReceived, as in asyncio. data may be reused
	// once SendTo returns. ErrDatagramAddress for an address the endpoint
	// cannot send to; ErrTransportClosing once closing.
	SendTo(data []byte, addr net.Addr) error
}

// DatagramOptions say where a datagram endpoint is (the arguments of
// asyncio's create_datagram_endpoint).
type DatagramOptions struct {
	// Network is "udp" (the default), "udp4", "udp6" or "unixgram". An
	// endpoint with neither address needs one of the last three (its
	// family: asyncio's family=).
	Network string
	// LocalAddr is the address to bind: "host:port" for UDP, a path for
	// "unixgram" ("" binds nothing; a UDP endpoint gets a port when it
	// first sends). A stale socket file at the path is removed first; an
	// address of another family than RemoteAddr's is refused
	// (ErrDatagramOptions).
	LocalAddr string
	// RemoteAddr, if set, connects the endpoint: it sends only there, and
	// receives only from there; errors reported for it (port
	// unreachable) reach ErrorReceived. With AllowBroadcast the endpoint
	// is not connected (as asyncio): it sends there by default (SendTo
	// with nil) and only there, and receives from anyone.
	RemoteAddr string
	// ReusePort sets SO_REUSEPORT: several endpoints may bind the same
	// address and the kernel spreads datagrams among them.
	ReusePort bool
	// AllowBroadcast sets SO_BROADCAST.
	AllowBroadcast bool
	// Conn, if not nil, is an existing datagram socket (a *net.UDPConn or
	// *net.UnixConn, bound or connected already) to use instead of making
	// one (asyncio's sock=): the addresses and options above must then be
	// empty. The loop takes it over: it duplicates its descriptor and
	// closes Conn.
	Conn interface {
		SyscallConn() (syscall.RawConn, error)
		Close() error
	}
}
