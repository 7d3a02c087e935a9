package trio_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/trio"
)

// patience bounds waits that should end promptly; it is generous so that a
// busy machine does not make the tests flaky.
const patience = 10 * time.Second

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (client, server *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		c.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c.(*net.TCPConn), s.(*net.TCPConn)
}

// hookConn tells when a Read or Write has been entered, so that a test
// cancels an operation it knows is in progress.
type hookConn struct {
	net.Conn
	readEntered  chan struct{}
	writeEntered chan struct{}
	// splitWrite: a Write first writes one byte, then signals, then writes
	// the rest, so the signal means "some bytes were sent".
	splitWrite bool
}

func newHookConn(c net.Conn) *hookConn {
	return &hookConn{Conn: c, readEntered: make(chan struct{}, 1), writeEntered: make(chan struct{}, 1)}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func (h *hookConn) Read(p []byte) (int, error) {
	signal(h.readEntered)
	return h.Conn.Read(p)
}

func (h *hookConn) Write(p []byte) (int, error) {
	if !h.splitWrite || len(p) < 2 {
		signal(h.writeEntered)
		return h.Conn.Write(p)
	}
	n, err := h.Conn.Write(p[:1])
	signal(h.writeEntered)
	if err != nil {
		return n, err
	}
	m, err := h.Conn.Write(p[1:])
	return n + m, err
}

func (h *hookConn) CloseWrite() error {
	if cw, ok := h.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// wait waits for ch, failing the test after patience.
func wait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(patience):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// result runs fn in a goroutine and returns a channel for its error.
func result(fn func() error) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- fn() }()
	return ch
}

// waitErr waits for the error of a result.
func waitErr(t *testing.T, ch <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(patience):
		t.Fatalf("%s did not return within %v", what, patience)
		return nil
	}
}

func isCancelled(err error) bool {
	return errors.Is(err, trio.ErrCancelled) && errors.Is(err, context.Canceled)
}

func TestReceiveSomeCancelledLosesNothing(t *testing.T) {
	client, server := tcpPair(t)
	h := newHookConn(client)
	s := trio.NewSocketStream(h)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := result(func() error {
		data, err := s.ReceiveSome(ctx, 0)
		if data != nil {
			t.Errorf("cancelled ReceiveSome returned data %q", data)
		}
		return err
	})
	wait(t, h.readEntered, "ReceiveSome to read")
	cancel()
	if err := waitErr(t, got, "cancelled ReceiveSome"); !isCancelled(err) {
		t.Fatalf("cancelled ReceiveSome: err = %v, want a cancellation matching ErrCancelled and context.Canceled", err)
	}

	// The stream still works, and the deadline that interrupted the read is
	// gone: the next ReceiveSome waits for data instead of failing.
	got2 := result(func() error {
		data, err := s.ReceiveSome(context.Background(), 0)
		if err == nil && string(data) != "after" {
			t.Errorf("ReceiveSome after the cancellation got %q, want %q", data, "after")
		}
		return err
	})
	wait(t, h.readEntered, "the second ReceiveSome to read")
	time.Sleep(20 * time.Millisecond) // give a stale deadline the chance to fail the read
	if _, err := server.Write([]byte("after")); err != nil {
		t.Fatal(err)
	}
	if err := waitErr(t, got2, "ReceiveSome"); err != nil {
		t.Fatalf("ReceiveSome after the cancellation: %v", err)
	}
}

func TestReceiveSomeCancelledOnEntryKeepsData(t *testing.T) {
	client, server := tcpPair(t)
	s := trio.NewSocketStream(client)
	if _, err := server.Write([]byte("kept")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.ReceiveSome(ctx, 0); !isCancelled(err) {
		t.Fatalf("ReceiveSome with a done ctx: err = %v, want a cancellation", err)
	}
	var got []byte
	for len(got) < 4 {
		data, err := s.ReceiveSome(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, data...)
	}
	if string(got) != "kept" {
		t.Fatalf("got %q, want %q", got, "kept")
	}
}

func TestReceiveSomeMoveOnAfter(t *testing.T) {
	client, server := tcpPair(t)
	s := trio.NewSocketStream(client)
	start := time.Now()
	movedOn, err := trio.MoveOnAfter(context.Background(), 50*time.Millisecond, func(ctx context.Context) error {
		_, err := s.ReceiveSome(ctx, 0)
		return err
	})
	if !movedOn || err != nil {
		t.Fatalf("MoveOnAfter around a blocked ReceiveSome = %v, %v; want true, nil", movedOn, err)
	}
	if d := time.Since(start); d > patience {
		t.Fatalf("MoveOnAfter(50ms) took %v", d)
	}

	// A deadline that expires is a DeadlineExceeded cancellation.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.ReceiveSome(ctx, 0); !errors.Is(err, trio.ErrCancelled) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReceiveSome past a ctx deadline: err = %v, want ErrCancelled and DeadlineExceeded", err)
	}

	if _, err := server.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	data, err := s.ReceiveSome(context.Background(), 0)
	if err != nil || string(data) != "x" {
		t.Fatalf("ReceiveSome after the deadlines = %q, %v; want \"x\", nil", data, err)
	}
}

func TestReceiveSomeMax(t *testing.T) {
	client, server := tcpPair(t)
	s := trio.NewSocketStream(client)
	if _, err := server.Write([]byte("0123456789")); err != nil {
		t.Fatal(err)
	}
	var got []byte
	for len(got) < 10 {
		data, err := s.ReceiveSome(context.Background(), 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) == 0 || len(data) > 3 {
			t.Fatalf("ReceiveSome(3) returned %d bytes", len(data))
		}
		got = append(got, data...)
	}
	if string(got) != "0123456789" {
		t.Fatalf("got %q", got)
	}

	// A max above DefaultReceiveSize is honoured (the read uses its own buffer).
	big := bytes.Repeat([]byte("b"), 3*trio.DefaultReceiveSize)
	go server.Write(big)
	got = got[:0]
	for len(got) < len(big) {
		data, err := s.ReceiveSome(context.Background(), 2*trio.DefaultReceiveSize)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > 2*trio.DefaultReceiveSize {
			t.Fatalf("ReceiveSome(%d) returned %d bytes", 2*trio.DefaultReceiveSize, len(data))
		}
		got = append(got, data...)
	}
	if !bytes.Equal(got, big) {
		t.Fatal("big transfer corrupted")
	}

	defer func() {
		if recover() == nil {
			t.Error("ReceiveSome with a negative max did not panic")
		}
	}()
	s.ReceiveSome(context.Background(), -1)
}

func TestReceiveSomeEOF(t *testing.T) {
	client, server := tcpPair(t)
	s := trio.NewSocketStream(client)
	server.Write([]byte("last"))
	server.Close()
	var got []byte
	for {
		data, err := s.ReceiveSome(context.Background(), 0)
		if err == io.EOF {
			if data != nil {
				t.Errorf("EOF came with data %q", data)
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, data...)
	}
	if string(got) != "last" {
		t.Fatalf("got %q before EOF, want %q", got, "last")
	}
	if _, err := s.ReceiveSome(context.Background(), 0); err != io.EOF {
		t.Fatalf("ReceiveSome after EOF: err = %v, want io.EOF again", err)
	}
}

func TestSendAllCancelledBreaksSendSide(t *testing.T) {
	client, _ := tcpPair(t) // the server end never reads
	h := newHookConn(client)
	h.splitWrite = true
	s := trio.NewSocketStream(h)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	big := make([]byte, 64<<20) // far more than the socket buffers hold
	got := result(func() error { return s.SendAll(ctx, big) })
	wait(t, h.writeEntered, "SendAll to send its first byte")
	cancel()
	if err := waitErr(t, got, "cancelled SendAll"); !isCancelled(err) {
		t.Fatalf("cancelled SendAll: err = %v, want a cancellation", err)
	}

	// Bounded: were the stream not marked broken, this would block, since
	// the peer reads nothing.
	bounded, cancelBounded := context.WithTimeout(context.Background(), patience)
	defer cancelBounded()
	err := s.SendAll(bounded, []byte("more"))
	if !errors.Is(err, trio.ErrBrokenResource) {
		t.Fatalf("SendAll after a cancelled partial SendAll: err = %v, want ErrBrokenResource", err)
	}
	if trio.IsCancellation(err) {
		t.Fatalf("the broken-stream error %v also matches a cancellation", err)
	}
	if err := s.SendEOF(bounded); !errors.Is(err, trio.ErrBrokenResource) {
		t.Fatalf("SendEOF after a cancelled partial SendAll: err = %v, want ErrBrokenResource", err)
	}

	// The receive side is not affected.
	if movedOn, err := trio.MoveOnAfter(context.Background(), 10*time.Millisecond, func(ctx context.Context) error {
		_, err := s.ReceiveSome(ctx, 0)
		return err
	}); !movedOn || err != nil {
		t.Fatalf("ReceiveSome on the broken-for-sending stream = %v, %v", movedOn, err)
	}
}

func TestSendAllCancelledBeforeAnyByteKeepsStream(t *testing.T) {
	// net.Pipe has no buffer: a Write sends nothing until the peer reads.
	a, b := net.Pipe()
	defer b.Close()
	h := newHookConn(a)
	s := trio.NewSocketStream(h)
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := result(func() error { return s.SendAll(ctx, []byte("lost?")) })
	wait(t, h.writeEntered, "SendAll to write")
	cancel()
	if err := waitErr(t, got, "cancelled SendAll"); !isCancelled(err) {
		t.Fatalf("cancelled SendAll: err = %v, want a cancellation", err)
	}

	got = result(func() error { return s.SendAll(context.Background(), []byte("hello")) })
	buf := make([]byte, 5)
	if _, err := io.ReadFull(b, buf); err != nil {
		t.Fatal(err)
	}
	if err := waitErr(t, got, "SendAll"); err != nil {
		t.Fatalf("SendAll after a cancellation that sent nothing: %v", err)
	}
	if string(buf) != "hello" {
		t.Fatalf("peer read %q, want %q", buf, "hello")
	}
}

func TestBusyResource(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	h := newHookConn(a)
	s := trio.NewSocketStream(h)
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	recv := result(func() error { _, err := s.ReceiveSome(ctx, 0); return err })
	send := result(func() error { return s.SendAll(ctx, []byte("x")) })
	wait(t, h.readEntered, "ReceiveSome to read")
	wait(t, h.writeEntered, "SendAll to write")

	// Bounded: without the busy check these would block.
	bounded, cancelBounded := context.WithTimeout(context.Background(), patience)
	defer cancelBounded()
	if _, err := s.ReceiveSome(bounded, 0); !errors.Is(err, trio.ErrBusyResource) {
		t.Errorf("concurrent ReceiveSome: err = %v, want ErrBusyResource", err)
	}
	if err := s.SendAll(bounded, []byte("y")); !errors.Is(err, trio.ErrBusyResource) {
		t.Errorf("concurrent SendAll: err = %v, want ErrBusyResource", err)
	}
	if err := s.SendEOF(bounded); !errors.Is(err, trio.ErrBusyResource) {
		t.Errorf("SendEOF during SendAll: err = %v, want ErrBusyResource", err)
	}

	cancel()
	for _, ch := range []<-chan error{recv, send} {
		if err := waitErr(t, ch, "cancelled operation"); !isCancelled(err) {
			t.Errorf("cancelled operation: err = %v, want a cancellation", err)
		}
	}
	// Not busy any more.
	got := result(func() error { return s.SendAll(context.Background(), []byte("z")) })
	if _, err := io.ReadFull(b, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	if err := waitErr(t, got, "SendAll"); err != nil {
		t.Fatalf("SendAll once the other sender left: %v", err)
	}
}

func TestClosedResource(t *testing.T) {
	client, _ := tcpPair(t)
	h := newHookConn(client)
	s := trio.NewSocketStream(h)
	blocked := result(func() error { _, err := s.ReceiveSome(context.Background(), 0); return err })
	wait(t, h.readEntered, "ReceiveSome to read")
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := waitErr(t, blocked, "ReceiveSome interrupted by Close"); !errors.Is(err, trio.ErrClosedResource) {
		t.Fatalf("ReceiveSome interrupted by Close: err = %v, want ErrClosedResource", err)
	}
	ctx := context.Background()
	if _, err := s.ReceiveSome(ctx, 0); !errors.Is(err, trio.ErrClosedResource) {
		t.Errorf("ReceiveSome after Close: err = %v", err)
	}
	if err := s.SendAll(ctx, []byte("x")); !errors.Is(err, trio.ErrClosedResource) {
		t.Errorf("SendAll after Close: err = %v", err)
	}
	if err := s.SendAll(ctx, nil); !errors.Is(err, trio.ErrClosedResource) {
		t.Errorf("empty SendAll after Close: err = %v", err)
	}
	if err := s.SendEOF(ctx); !errors.Is(err, trio.ErrClosedResource) {
		t.Errorf("SendEOF after Close: err = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestSendEOF(t *testing.T) {
	client, server := tcpPair(t)
	s := trio.NewSocketStream(client)
	ctx := context.Background()
	if err := s.SendAll(ctx, []byte("bye")); err != nil {
		t.Fatal(err)
	}
	if err := s.SendEOF(ctx); err != nil {
		t.Fatalf("SendEOF: %v", err)
	}
	if err := s.SendEOF(ctx); err != nil {
		t.Fatalf("second SendEOF: %v", err)
	}
	server.SetReadDeadline(time.Now().Add(patience))
	all, err := io.ReadAll(server)
	if err != nil || string(all) != "bye" {
		t.Fatalf("peer read %q, %v; want \"bye\" then EOF", all, err)
	}
	if err := s.SendAll(ctx, []byte("x")); !errors.Is(err, trio.ErrClosedResource) {
		t.Errorf("SendAll after SendEOF: err = %v, want ErrClosedResource", err)
	}
	// Half-closed: this side still receives.
	if _, err := server.Write([]byte("reply")); err != nil {
		t.Fatal(err)
	}
	data, err := s.ReceiveSome(ctx, 0)
	if err != nil || string(data) != "reply" {
		t.Fatalf("ReceiveSome after SendEOF = %q, %v", data, err)
	}
}

func TestSendEOFUnsupported(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	s := trio.NewSocketStream(a)
	defer s.Close()
	if err := s.SendEOF(context.Background()); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("SendEOF on a net.Pipe: err = %v, want errors.ErrUnsupported", err)
	}
}

func TestPeerResetIsBrokenResource(t *testing.T) {
	client, server := tcpPair(t)
	s := trio.NewSocketStream(client)
	if err := server.SetLinger(0); err != nil {
		t.Fatal(err)
	}
	server.Close() // sends RST
	got := result(func() error { _, err := s.ReceiveSome(context.Background(), 0); return err })
	err := waitErr(t, got, "ReceiveSome on a reset connection")
	if !errors.Is(err, trio.ErrBrokenResource) {
		t.Fatalf("ReceiveSome after a peer reset: err = %v, want ErrBrokenResource", err)
	}
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("ReceiveSome after a peer reset: err = %v does not wrap ECONNRESET", err)
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Errorf("err = %v does not wrap the *net.OpError", err)
	}
	if err := s.SendAll(context.Background(), []byte("x")); !errors.Is(err, trio.ErrBrokenResource) {
		t.Errorf("SendAll after a peer reset: err = %v, want ErrBrokenResource", err)
	}
}

// noDeadlineConn is a conn that cannot set deadlines; its Read blocks until
// Close.
type noDeadlineConn struct {
	net.Conn // nil: only the methods below are used
	once     sync.Once
	closed   chan struct{}
	entered  chan struct{}
}

func (c *noDeadlineConn) Read([]byte) (int, error) {
	signal(c.entered)
	<-c.closed
	return 0, net.ErrClosed
}
func (c *noDeadlineConn) Close() error                     { c.once.Do(func() { close(c.closed) }); return nil }
func (c *noDeadlineConn) SetReadDeadline(time.Time) error  { return errors.ErrUnsupported }
func (c *noDeadlineConn) SetWriteDeadline(time.Time) error { return errors.ErrUnsupported }

func TestCancelConnWithoutDeadlines(t *testing.T) {
	c := &noDeadlineConn{closed: make(chan struct{}), entered: make(chan struct{}, 1)}
	s := trio.NewSocketStream(c)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := result(func() error { _, err := s.ReceiveSome(ctx, 0); return err })
	wait(t, c.entered, "ReceiveSome to read")
	cancel()
	if err := waitErr(t, got, "cancelled ReceiveSome"); !isCancelled(err) {
		t.Fatalf("cancelled ReceiveSome on a conn without deadlines: err = %v", err)
	}
	if _, err := s.ReceiveSome(context.Background(), 0); !errors.Is(err, trio.ErrBrokenResource) {
		t.Fatalf("ReceiveSome after the cancellation closed the conn: err = %v, want ErrBrokenResource", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}
