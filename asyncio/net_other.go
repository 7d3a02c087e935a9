//go:build !unix

package asyncio

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"
)

// Without Unix file descriptors (Windows, Plan 9, js, wasip1) the loop
// has no poller: on Windows asyncio's loop is a proactor over I/O
// completion ports, a design this loop, which watches Unix file
// descriptors, does not have. The network functions exist, so that
// programs build everywhere, and return ErrNotSupported.

// ErrBlockingSocket is returned by the Sock functions for a socket in
// blocking mode.
var ErrBlockingSocket = errors.New("asyncio: the socket must be non-blocking")

// Errors of servers.
var (
	ErrServerClosed     = errors.New("asyncio: server is closed")
	ErrServeForeverBusy = errors.New("asyncio: server is already being awaited on ServeForever")
)

// SockRecv returns ErrNotSupported on this platform.
func SockRecv(ctx context.Context, sock syscall.Conn, n int) ([]byte, error) {
	return nil, ErrNotSupported
}

// SockRecvInto returns ErrNotSupported on this platform.
func SockRecvInto(ctx context.Context, sock syscall.Conn, buf []byte) (int, error) {
	return 0, ErrNotSupported
}

// SockRecvfrom returns ErrNotSupported on this platform.
func SockRecvfrom(ctx context.Context, sock syscall.Conn, n int) ([]byte, net.Addr, error) {
	return nil, nil, ErrNotSupported
}

// SockRecvfromInto returns ErrNotSupported on this platform.
func SockRecvfromInto(ctx context.Context, sock syscall.Conn, buf []byte) (int, net.Addr, error) {
	return 0, nil, ErrNotSupported
}

// SockSendall returns ErrNotSupported on this platform.
func SockSendall(ctx context.Context, sock syscall.Conn, data []byte) error { return ErrNotSupported }

// SockSendto returns ErrNotSupported on this platform.
func SockSendto(ctx context.Context, sock syscall.Conn, data []byte, addr net.Addr) (int, error) {
	return 0, ErrNotSupported
}

// SockConnect returns ErrNotSupported on this platform.
func SockConnect(ctx context.Context, sock syscall.Conn, addr net.Addr) error { return ErrNotSupported }

// SockAccept returns ErrNotSupported on this platform.
func SockAccept(ctx context.Context, ln syscall.Conn) (net.Conn, net.Addr, error) {
	return nil, nil, ErrNotSupported
}

// SockSendfile returns ErrNotSupported on this platform.
func SockSendfile(ctx context.Context, sock syscall.Conn, file *os.File, offset int64, count int64) (int64, error) {
	return 0, ErrNotSupported
}

// CreateConnection returns ErrNotSupported on this platform.
func CreateConnection[P BaseProtocol](ctx context.Context, factory func() P, host string, port int, opts *ConnectOptions) (Transport, P, error) {
	var zero P
	return nil, zero, ErrNotSupported
}

// CreateUnixConnection returns ErrNotSupported on this platform.
func CreateUnixConnection[P BaseProtocol](ctx context.Context, factory func() P, path string, opts *ConnectOptions) (Transport, P, error) {
	var zero P
	return nil, zero, ErrNotSupported
}

// ConnectAcceptedSocket returns ErrNotSupported on this platform.
func ConnectAcceptedSocket[P BaseProtocol](ctx context.Context, factory func() P, conn net.Conn) (Transport, P, error) {
	var zero P
	return nil, zero, ErrNotSupported
}

// CreateServer returns ErrNotSupported on this platform.
func CreateServer[P BaseProtocol](ctx context.Context, factory func() P, host string, port int, opts *ServerOptions) (*Server, error) {
	return nil, ErrNotSupported
}

// CreateUnixServer returns ErrNotSupported on this platform.
func CreateUnixServer[P BaseProtocol](ctx context.Context, factory func() P, path string, opts *ServerOptions) (*Server, error) {
	return nil, ErrNotSupported
}

// A Server listens for connections (asyncio.Server); on this platform
// none can be made.
type Server struct{}

func (s *Server) Close()                               {}
func (s *Server) CloseClients()                        {}
func (s *Server) AbortClients()                        {}
func (s *Server) WaitClosed(ctx context.Context) error { return nil }
func (s *Server) StartServing() error                  { return ErrNotSupported }
func (s *Server) IsServing() bool                      { return false }
func (s *Server) Sockets() []net.Addr                  { return nil }
func (s *Server) Loop() *Loop                          { return nil }
func (s *Server) ServeForever(ctx context.Context) error {
	return ErrNotSupported
}
