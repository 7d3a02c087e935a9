package trio

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"strconv"
	"syscall"
	"time"
)

// OpenTCPStream connects to host:port over TCP and returns the connection
// as a [SocketStream] with TCP_NODELAY on (Trio's open_tcp_stream). host is
// a name or an IP literal; a name resolving to several addresses is tried
// with Go's "Happy Eyeballs" fallback between IPv6 and IPv4, as
// [net.Dialer.DialContext] does. port must be in 1..65535.
//
// If ctx is cancelled before the connection is made, OpenTCPStream returns
// the cancellation (matching [ErrCancelled]). Failures to connect are
// returned as net reports them (a *net.OpError; errors.Is(err,
// syscall.ECONNREFUSED) works). The caller owns the stream and must Close
// it.
func OpenTCPStream(ctx context.Context, host string, port int) (*SocketStream, error) {
	if host == "" {
		return nil, errors.New("trio: OpenTCPStream: empty host")
	}
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("trio: OpenTCPStream: port %d out of range 1..65535", port)
	}
	if err := cancelError(ctx); err != nil {
		return nil, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		if ctx.Err() != nil {
			return nil, cancelError(ctx)
		}
		return nil, err
	}
	return NewSocketStream(conn), nil
}

// ServeTCP listens for TCP connections on host:port and serves them with
// handler until ctx is cancelled or a handler fails (Trio's serve_tcp). It
// is [ServeListeners] over the listener that [net.ListenConfig.Listen]
// opens for "tcp" on host:port: an empty host or an unspecified IP
// listens on every interface (dual-stack when the system allows it), a host
// name on one of its addresses; port 0 picks a free port. Go's listen backlog
// (the system's maximum) is used.
//
// started, which may be nil, is called with the listener (a one-element
// slice) once connections are being accepted, so that ServeTCP fits
// [Start], which then returns the listener and through it the bound
// address:
//
//	ls, err := trio.Start(ctx, n, func(ctx context.Context, started func([]net.Listener)) error {
//		return trio.ServeTCP(ctx, handler, "127.0.0.1", 0, started)
//	})
//	addr := ls[0].Addr().(*net.TCPAddr) // addr.Port is the port picked
//
// An error listening (address in use, bad host…) is returned before started
// is called, so Start returns it to its caller. Otherwise ServeTCP returns
// what ServeListeners returns.
func ServeTCP(ctx context.Context, handler func(ctx context.Context, s *SocketStream) error, host string, port int, started func([]net.Listener)) error {
	if handler == nil {
		panic("trio: ServeTCP with a nil handler")
	}
	if port < 0 || port > 65535 {
		return fmt.Errorf("trio: ServeTCP: port %d out of range 0..65535", port)
	}
	if err := cancelError(ctx); err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		if ctx.Err() != nil {
			return cancelError(ctx)
		}
		return err
	}
	return ServeListeners(ctx, handler, []net.Listener{ln}, started)
}

// ServeListeners accepts connections on every listener and runs
// handler(ctx, stream) for each one in its own goroutine, until ctx is
// cancelled or a handler fails (Trio's serve_listeners). The accept loops
// and the handlers run in one nursery: ServeListeners returns only once all
// of them have returned, so no handler outlives it.
//
// started, which may be nil, is called with listeners once the accept loops
// run; pass [Start]'s started to learn the listeners (see [ServeTCP]).
//
// Each handler gets the nursery's ctx and a [SocketStream] that
// ServeListeners closes after the handler returns (or panics); the handler
// must not keep it. A handler that returns an error stops the server, as in
// Trio: the nursery is cancelled, so the other handlers see their ctx
// cancelled, the listeners are closed, and ServeListeners returns that error
// (or every such error, joined) once the handlers have returned. A handler
// that panics stops the server the same way and the panic is re-raised in
// ServeListeners' goroutine (see [OpenNursery]). Handlers that should not
// stop the server on failure must handle their errors and return nil.
//
// When ctx is cancelled, ServeListeners closes the listeners, waits for the
// handlers (which see their ctx cancelled) and returns the cancellation. It
// never returns nil.
//
// ServeListeners owns the listeners and closes them all when it returns.
// Accept errors that mean the process ran out of resources (EMFILE, ENFILE,
// ENOMEM, ENOBUFS) are logged with the standard logger, and accepting
// resumes after 100ms, as in Trio; any other accept error stops the server
// and is returned. It returns an error at once if listeners is empty, and
// panics if handler is nil.
func ServeListeners(ctx context.Context, handler func(ctx context.Context, s *SocketStream) error, listeners []net.Listener, started func([]net.Listener)) error {
	if handler == nil {
		panic("trio: ServeListeners with a nil handler")
	}
	if len(listeners) == 0 {
		return errors.New("trio: ServeListeners: no listeners")
	}
	defer func() {
		for _, ln := range listeners {
			_ = ln.Close()
		}
	}()
	return OpenNursery(ctx, func(ctx context.Context, n *Nursery) error {
		for _, ln := range listeners {
			n.StartSoon(func(ctx context.Context) error {
				return serveListener(ctx, n, ln, handler)
			})
		}
		if started != nil {
			started(listeners)
		}
		return nil
	})
}

// acceptRetryDelay is how long an accept loop pauses after the process ran
// out of file descriptors or memory (Trio's SLEEP_TIME).
const acceptRetryDelay = 100 * time.Millisecond

// serveListener is one accept loop of ServeListeners.
func serveListener(ctx context.Context, n *Nursery, ln net.Listener, handler func(ctx context.Context, s *SocketStream) error) error {
	// Accept takes no ctx: closing the listener is what interrupts it.
	release := afterFuncWait(ctx, func() { _ = ln.Close() })
	defer release()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return cancelError(ctx)
			}
			if isAcceptCapacityError(err) {
				log.Printf("trio: accept on %v failed: %v; retrying in %v", ln.Addr(), err, acceptRetryDelay)
				if err := Sleep(ctx, acceptRetryDelay); err != nil {
					return err
				}
				continue
			}
			return err
		}
		s := NewSocketStream(conn)
		n.StartSoon(func(ctx context.Context) error {
			defer s.Close()
			return handler(ctx, s)
		})
	}
}

// isAcceptCapacityError reports whether an accept failed because the
// process or system ran out of something that may come back (Trio's
// ACCEPT_CAPACITY_ERRNOS).
func isAcceptCapacityError(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOMEM) || errors.Is(err, syscall.ENOBUFS)
}
