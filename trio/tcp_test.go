package trio_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/trioasyncio/trioasyncio/trio"
)

// echo is a handler that sends back what it receives until EOF.
func echo(ctx context.Context, s *trio.SocketStream) error {
	for {
		data, err := s.ReceiveSome(ctx, 0)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.SendAll(ctx, data); err != nil {
			return err
		}
	}
}

// serve starts ServeTCP on 127.0.0.1 in n and returns its port.
func serve(t *testing.T, ctx context.Context, n *trio.Nursery, handler func(context.Context, *trio.SocketStream) error) int {
	t.Helper()
	ls, err := trio.Start(ctx, n, func(ctx context.Context, started func([]net.Listener)) error {
		return trio.ServeTCP(ctx, handler, "127.0.0.1", 0, started)
	})
	if err != nil {
		t.Fatalf("starting ServeTCP: %v", err)
	}
	if len(ls) != 1 {
		t.Fatalf("ServeTCP started with %d listeners, want 1", len(ls))
	}
	return ls[0].Addr().(*net.TCPAddr).Port
}

// receiveAll reads s until EOF.
func receiveAll(ctx context.Context, s *trio.SocketStream) ([]byte, error) {
	var got []byte
	for {
		data, err := s.ReceiveSome(ctx, 0)
		if err == io.EOF {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		got = append(got, data...)
	}
}

// bounded returns a ctx that gives up after patience, so that a broken
// behaviour fails the test rather than hanging it.
func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	t.Cleanup(cancel)
	return ctx
}

func TestServeTCPEcho(t *testing.T) {
	err := trio.OpenNursery(bounded(t), func(ctx context.Context, n *trio.Nursery) error {
		port := serve(t, ctx, n, echo)
		msg := strings.Repeat("round trip ", 20000) // several segments
		var wg sync.WaitGroup
		for range 3 { // concurrent connections each get their own handler
			wg.Add(1)
			n.StartSoon(func(ctx context.Context) error {
				defer wg.Done()
				s, err := trio.OpenTCPStream(ctx, "127.0.0.1", port)
				if err != nil {
					return err
				}
				defer s.Close()
				if tc, ok := s.Conn().(*net.TCPConn); !ok {
					t.Errorf("OpenTCPStream's conn is a %T, want *net.TCPConn", s.Conn())
				} else if tc.RemoteAddr().(*net.TCPAddr).Port != port {
					t.Errorf("connected to %v, want port %d", tc.RemoteAddr(), port)
				}
				if err := s.SendAll(ctx, []byte(msg)); err != nil {
					return err
				}
				if err := s.SendEOF(ctx); err != nil {
					return err
				}
				got, err := receiveAll(ctx, s)
				if err != nil {
					return err
				}
				if string(got) != msg {
					t.Errorf("echo returned %d bytes, want %d", len(got), len(msg))
				}
				return nil
			})
		}
		wg.Wait()
		n.CancelScope().Cancel() // stop the server
		return nil
	})
	if err != nil {
		t.Fatalf("OpenNursery: %v", err)
	}
}

func TestServeTCPStopsOnCancel(t *testing.T) {
	defer goleak.VerifyNone(t)
	handlerErr := make(chan error, 1)
	inHandler := make(chan struct{})
	var port int
	var scope trio.CancelScope
	err := scope.Run(bounded(t), func(ctx context.Context) error {
		return trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
			port = serve(t, ctx, n, func(ctx context.Context, s *trio.SocketStream) error {
				close(inHandler)
				_, err := s.ReceiveSome(ctx, 0) // the client sends nothing
				handlerErr <- err
				return err
			})
			s, err := trio.OpenTCPStream(ctx, "127.0.0.1", port)
			if err != nil {
				return err
			}
			defer s.Close()
			wait(t, inHandler, "the handler to run")
			scope.Cancel()
			// The server closes the connection after its handler returns.
			if _, err := s.ReceiveSome(bounded(t), 0); err != io.EOF {
				t.Errorf("client read after the server stopped: err = %v, want io.EOF", err)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatalf("cancelled server: %v", err)
	}
	if !scope.CancelledCaught() {
		t.Error("the cancellation did not reach the scope")
	}
	select {
	case err := <-handlerErr:
		if !isCancelled(err) {
			t.Errorf("handler's ReceiveSome: err = %v, want a cancellation", err)
		}
	default:
		t.Error("the handler did not return")
	}
	// The listener is closed.
	if c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
		c.Close()
		t.Error("the listener still accepts connections after ServeTCP returned")
	}
}

func TestServeTCPHandlerErrorStopsServer(t *testing.T) {
	boom := errors.New("boom")
	otherErr := make(chan error, 1)
	var port int
	err := trio.OpenNursery(bounded(t), func(ctx context.Context, n *trio.Nursery) error {
		first := make(chan struct{})
		port = serve(t, ctx, n, func(ctx context.Context, s *trio.SocketStream) error {
			data, err := s.ReceiveSome(ctx, 0)
			if err != nil {
				otherErr <- err
				return err
			}
			if string(data) == "fail" {
				return boom
			}
			close(first)
			_, err = s.ReceiveSome(ctx, 0) // blocks until the server stops
			otherErr <- err
			return err
		})
		idle, err := trio.OpenTCPStream(ctx, "127.0.0.1", port)
		if err != nil {
			return err
		}
		defer idle.Close()
		if err := idle.SendAll(ctx, []byte("wait")); err != nil {
			return err
		}
		wait(t, first, "the first handler")
		failing, err := trio.OpenTCPStream(ctx, "127.0.0.1", port)
		if err != nil {
			return err
		}
		defer failing.Close()
		if err := failing.SendAll(ctx, []byte("fail")); err != nil {
			return err
		}
		// Keep the connections open until the failure stops everything.
		return trio.SleepForever(ctx)
	})
	if !errors.Is(err, boom) {
		t.Fatalf("server with a failing handler: err = %v, want boom", err)
	}
	if trio.IsCancellation(err) {
		t.Errorf("err = %v also carries a cancellation", err)
	}
	if err := <-otherErr; !isCancelled(err) {
		t.Errorf("the other handler: err = %v, want a cancellation", err)
	}
	if c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
		c.Close()
		t.Error("the listener still accepts connections after the handler failed")
	}
}

func TestServeTCPListenErrorGoesToStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	err = trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		_, err := trio.Start(ctx, n, func(ctx context.Context, started func([]net.Listener)) error {
			return trio.ServeTCP(ctx, echo, "127.0.0.1", port, started)
		})
		if !errors.Is(err, syscall.EADDRINUSE) {
			t.Errorf("Start(ServeTCP) on a port in use: err = %v, want EADDRINUSE", err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("the nursery was affected: %v", err)
	}
	if err := trio.ServeTCP(context.Background(), echo, "", 70000, nil); err == nil {
		t.Error("ServeTCP on port 70000 did not fail")
	}
}

// fakeListener returns queued results from Accept, then blocks until Close.
type fakeListener struct {
	mu      sync.Mutex
	results []acceptResult
	closed  chan struct{}
	once    sync.Once
}

type acceptResult struct {
	conn net.Conn
	err  error
}

func newFakeListener(rs ...acceptResult) *fakeListener {
	return &fakeListener{results: rs, closed: make(chan struct{})}
}

func (l *fakeListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	if len(l.results) > 0 {
		r := l.results[0]
		l.results = l.results[1:]
		l.mu.Unlock()
		return r.conn, r.err
	}
	l.mu.Unlock()
	<-l.closed
	return nil, net.ErrClosed
}

func (l *fakeListener) Close() error   { l.once.Do(func() { close(l.closed) }); return nil }
func (l *fakeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }

func TestServeListenersRetriesCapacityErrors(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	emfile := &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	ln := newFakeListener(acceptResult{err: emfile}, acceptResult{conn: a})
	var logged bytes.Buffer
	log.SetOutput(&logged)
	defer log.SetOutput(os.Stderr)
	b.SetReadDeadline(time.Now().Add(patience))
	handled := make(chan struct{})
	err := trio.OpenNursery(bounded(t), func(ctx context.Context, n *trio.Nursery) error {
		ls, err := trio.Start(ctx, n, func(ctx context.Context, started func([]net.Listener)) error {
			return trio.ServeListeners(ctx, func(ctx context.Context, s *trio.SocketStream) error {
				close(handled)
				return s.SendAll(ctx, []byte("hi"))
			}, []net.Listener{ln}, started)
		})
		if err != nil {
			return err
		}
		if len(ls) != 1 || ls[0] != net.Listener(ln) {
			t.Errorf("started got %v, want the listener", ls)
		}
		buf := make([]byte, 2)
		if _, err := io.ReadFull(b, buf); err != nil {
			return err
		}
		wait(t, handled, "the connection after EMFILE to be handled")
		n.CancelScope().Cancel()
		return nil
	})
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	select {
	case <-ln.closed:
	default:
		t.Error("ServeListeners did not close its listener")
	}
	if !strings.Contains(logged.String(), "too many open files; retrying") {
		t.Errorf("the EMFILE was not logged; the log has %q", logged.String())
	}
}

func TestServeListenersStopsOnOtherAcceptErrors(t *testing.T) {
	bad := errors.New("accept exploded")
	ln1 := newFakeListener(acceptResult{err: bad})
	ln2 := newFakeListener()
	err := trio.ServeListeners(context.Background(), echo, []net.Listener{ln1, ln2}, nil)
	if !errors.Is(err, bad) {
		t.Fatalf("ServeListeners: err = %v, want the accept error", err)
	}
	for i, ln := range []*fakeListener{ln1, ln2} {
		select {
		case <-ln.closed:
		default:
			t.Errorf("listener %d not closed", i)
		}
	}
	if err := trio.ServeListeners(context.Background(), echo, nil, nil); err == nil {
		t.Error("ServeListeners with no listeners did not fail")
	}
}

func TestOpenTCPStreamErrors(t *testing.T) {
	ctx := context.Background()
	// A port nobody listens on: take one and release it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if _, err := trio.OpenTCPStream(ctx, "127.0.0.1", port); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("OpenTCPStream to a closed port: err = %v, want ECONNREFUSED", err)
	}
	for _, port := range []int{0, -1, 65536} {
		if _, err := trio.OpenTCPStream(ctx, "127.0.0.1", port); err == nil {
			t.Errorf("OpenTCPStream to port %d did not fail", port)
		}
	}
	if _, err := trio.OpenTCPStream(ctx, "", 80); err == nil {
		t.Error("OpenTCPStream with an empty host did not fail")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := trio.OpenTCPStream(cctx, "127.0.0.1", port); !isCancelled(err) {
		t.Errorf("OpenTCPStream with a cancelled ctx: err = %v, want a cancellation", err)
	}
	dctx, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	if _, err := trio.OpenTCPStream(dctx, "127.0.0.1", port); !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, trio.ErrCancelled) {
		t.Errorf("OpenTCPStream past a deadline: err = %v, want ErrCancelled and DeadlineExceeded", err)
	}
}
