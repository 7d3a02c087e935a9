//go:build unix

package asyncio

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"
)

// Errors of servers.
var (
	// ErrServerClosed is returned by StartServing and ServeForever on a
	// closed server.
	ErrServerClosed = errors.New("asyncio: server is closed")
	// ErrServeForeverBusy is returned by a second concurrent ServeForever.
	ErrServeForeverBusy = errors.New("asyncio: server is already being awaited on ServeForever")
)

// acceptRetryDelay is how long a server stops accepting after running out
// of fds (asyncio's ACCEPT_RETRY_DELAY).
const acceptRetryDelay = time.Second

// A Server listens on one or more sockets and makes a transport and a
// protocol for each connection (asyncio.Server). CreateServer,
// CreateUnixServer, StartServer and StartUnixServer make them.
//
// Loop-confined. The server's sockets and its connections are closed when
// the loop's OpenLoop block exits, if they are still open.
type Server struct {
	loop      *Loop
	io        *ioState
	factory   func() (BaseProtocol, error)
	listeners []*listener
	backlog   int
	serving   bool
	closed    bool
	active    int
	clients   map[*socketTransport]struct{}
	waiters   []*Future[struct{}] // nil once woken
	woken     bool
	forever   *Future[struct{}]
	unixPaths []unixPath
}

// unixPath is a Unix server's socket file, and its identity when bound,
// so that Close removes it only if it is still that file.
type unixPath struct {
	path string
	file os.FileInfo
}

type listener struct {
	srv    *Server
	fd     int
	ent    *fdEntry
	addr   net.Addr
	paused bool // out of fds: accepting again later
}

func newServer(l *Loop, factory func() (BaseProtocol, error), backlog int) *Server {
	s := &Server{loop: l, io: l.io, factory: factory, backlog: backlog, clients: map[*socketTransport]struct{}{}}
	l.io.owned[s] = struct{}{}
	return s
}

// addListener takes ownership of the listening socket fd.
func (s *Server) addListener(fd int) error {
	ln := &listener{srv: s, fd: fd}
	if sa, err := syscall.Getsockname(fd); err == nil {
		ln.addr = sockaddrToAddr(fd, sa)
	}
	e, err := s.io.own(fd, ln.acceptReady, func() {})
	if err != nil {
		return err
	}
	ln.ent = e
	s.listeners = append(s.listeners, ln)
	return nil
}

func (ln *listener) closeNow() {
	if ln.fd < 0 {
		return
	}
	ln.srv.io.drop(ln.ent)
	syscall.Close(ln.fd)
	ln.fd = -1
}

// acceptReady accepts up to backlog connections (asyncio's
// _accept_connection).
func (ln *listener) acceptReady(uint32) {
	s := ln.srv
	if !s.serving || ln.paused || ln.fd < 0 {
		return
	}
	for i := 0; i < s.backlog; i++ {
		nfd, _, err := sysAccept(ln.fd)
		if err != nil {
			switch err {
			case syscall.EAGAIN, syscall.EINTR, syscall.ECONNABORTED:
				if err == syscall.EAGAIN {
					return
				}
				continue
			case syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM:
				s.loop.CallExceptionHandler(ExceptionContext{Message: "socket.accept() out of system resource",
					Err: os.NewSyscallError("accept", err), Extra: map[string]any{"socket": ln.addr}})
				ln.paused = true
				s.loop.CallLater(acceptRetryDelay, func(context.Context) {
					ln.paused = false
					ln.retry()
				})
				return
			default:
				s.loop.CallExceptionHandler(ExceptionContext{Message: "socket.accept() failed",
					Err: os.NewSyscallError("accept", err), Extra: map[string]any{"socket": ln.addr}})
				return
			}
		}
		s.accepted(nfd)
	}
	// backlog connections accepted: there may be more, and no new edge.
	ln.retry()
}

func (ln *listener) retry() {
	ln.srv.loop.CallSoon(func(context.Context) { ln.acceptReady(0) })
}

func (s *Server) accepted(fd int) {
	proto, err := s.factory()
	if err == nil {
		_, err = newSocketTransport(s.loop, fd, proto, s, nil)
	}
	if err != nil {
		syscall.Close(fd)
		s.loop.CallExceptionHandler(ExceptionContext{Message: "Error on transport creation for incoming connection", Err: err})
		return
	}
}

func (s *Server) attach(t *socketTransport) {
	s.active++
	s.clients[t] = struct{}{}
}

func (s *Server) detach(t *socketTransport) {
	s.active--
	delete(s.clients, t)
	if s.active == 0 && s.closed {
		s.wakeup()
	}
}

func (s *Server) wakeup() {
	if s.woken {
		return
	}
	s.woken = true
	for _, w := range s.waiters {
		if !w.Done() {
			w.SetResult(struct{}{})
		}
	}
	s.waiters = nil
}

// closeNow is the loop's teardown: the listeners and the socket files
// (connections are owned by the loop too, and closed on their own).
func (s *Server) closeNow() {
	for _, ln := range s.listeners {
		ln.closeNow()
	}
	s.removeUnixPaths()
}

func (s *Server) removeUnixPaths() {
	for _, p := range s.unixPaths {
		// The socket file is ours and goes with the listener, unless it
		// has been replaced since (someone else's socket now: keep it),
		// as CPython 3.13 checks (st_dev, st_ino).
		if fi, err := os.Stat(p.path); err == nil && p.file != nil && os.SameFile(fi, p.file) {
			os.Remove(p.path)
		}
	}
	s.unixPaths = nil
}

// Close stops listening: it closes the listening sockets and leaves the
// connections open (asyncio's Server.close). Idempotent. Loop-confined.
func (s *Server) Close() {
	if s.closed {
		return
	}
	s.closed = true
	for _, ln := range s.listeners {
		ln.closeNow()
	}
	s.removeUnixPaths()
	delete(s.io.owned, s)
	s.serving = false
	if s.forever != nil && !s.forever.Done() {
		s.forever.Cancel("")
		s.forever = nil
	}
	if s.active == 0 {
		s.wakeup()
	}
}

// CloseClients closes every connection of the server (Transport.Close:
// buffered data is sent first). Loop-confined.
func (s *Server) CloseClients() {
	for t := range s.clients {
		t.Close()
	}
}

// AbortClients aborts every connection of the server (Transport.Abort).
// Loop-confined.
func (s *Server) AbortClients() {
	for t := range s.clients {
		t.Abort()
	}
}

// WaitClosed waits until the server is closed and all its connections
// are gone (asyncio 3.12's Server.wait_closed). A coroutine: call it
// from a task; it returns the CancelledError if cancelled.
func (s *Server) WaitClosed(ctx context.Context) error {
	if s.woken {
		return nil
	}
	w := NewFuture[struct{}](s.loop)
	s.waiters = append(s.waiters, w)
	_, err := Await(ctx, w)
	return err
}

// StartServing starts accepting connections, if the server was created
// with StartServing false (asyncio's start_serving). Idempotent.
// Loop-confined.
func (s *Server) StartServing() error {
	if s.closed {
		return ErrServerClosed
	}
	if s.serving {
		return nil
	}
	s.serving = true
	for _, ln := range s.listeners {
		ln.retry() // connections may be waiting: their edge is gone
	}
	return nil
}

// IsServing reports whether the server is accepting connections.
func (s *Server) IsServing() bool { return s.serving }

// Sockets returns the addresses the server listens on (asyncio returns
// the sockets themselves), or nil once closed.
func (s *Server) Sockets() []net.Addr {
	if s.closed {
		return nil
	}
	out := make([]net.Addr, len(s.listeners))
	for i, ln := range s.listeners {
		out[i] = ln.addr
	}
	return out
}

// Loop returns the server's loop.
func (s *Server) Loop() *Loop { return s.loop }

// ServeForever accepts connections until cancelled (asyncio's
// serve_forever): cancelled, it closes the server, waits for WaitClosed
// and returns the CancelledError. A coroutine: call it from a task. It
// returns ErrServerClosed for a closed server, ErrServeForeverBusy if
// another ServeForever is running.
func (s *Server) ServeForever(ctx context.Context) error {
	if s.forever != nil {
		return ErrServeForeverBusy
	}
	if s.closed {
		return ErrServerClosed
	}
	if err := s.StartServing(); err != nil {
		return err
	}
	f := NewFuture[struct{}](s.loop)
	s.forever = f
	_, err := Await(ctx, f)
	if s.forever == f {
		s.forever = nil
	}
	if errors.Is(err, ErrCancelled) {
		s.Close()
		if werr := s.WaitClosed(ctx); werr != nil && !errors.Is(werr, ErrCancelled) {
			return werr
		}
	}
	return err
}

func (s *Server) String() string {
	return fmt.Sprintf("<Server sockets=%v>", s.Sockets())
}
