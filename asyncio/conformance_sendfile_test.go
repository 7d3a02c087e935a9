//go:build unix

package asyncio_test

// CPython's Lib/test/test_asyncio/test_sendfile.py cases not transcribed
// in sendfile_test.go and sock_test.go, over real TCP sockets and a real
// file.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// closeAfterProto is test_sendfile.py's MySendfileProto: it counts what it
// receives and, with closeAfter > 0, closes the connection once it has
// received that many bytes.
type closeAfterProto struct {
	asyncio.ProtocolBase
	closeAfter int
	tr         asyncio.Transport
	buf        bytes.Buffer
	done       *asyncio.Future[struct{}]
}

func (p *closeAfterProto) ConnectionMade(tr asyncio.Transport) {
	p.tr = tr
	// test_sendfile.py's reduce_receive_buffer_size: a small receive
	// buffer so that the sender meets the close mid-way.
	if fd, ok := tr.GetExtraInfo("socket").(int); ok && p.closeAfter > 0 && p.closeAfter < 4096 {
		syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
	}
}

func (p *closeAfterProto) DataReceived(b []byte) {
	p.buf.Write(b)
	if p.closeAfter > 0 && p.buf.Len() >= p.closeAfter {
		p.tr.Close()
	}
}

func (p *closeAfterProto) ConnectionLost(error) {
	if !p.done.Done() {
		p.done.SetResult(struct{}{})
	}
}

// sockSendfileSink accepts one connection on a Go listener and returns a
// channel with all it reads until end of stream.
func sockSendfileSink(t *testing.T) (net.Addr, <-chan []byte) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() {
		defer ln.Close()
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		var all bytes.Buffer
		all.ReadFrom(c)
		got <- all.Bytes()
	}()
	return ln.Addr(), got
}

// test_sock_sendfile_success: SockSendfile with no offset or count sends
// the whole file and leaves its offset at its end.
func TestSendfile_test_sock_sendfile_success(t *testing.T) {
	f, data := sendfileData(t, 256<<10+1)
	addr, got := sockSendfileSink(t)
	sock := newSock(t, syscall.AF_INET, syscall.SOCK_STREAM)
	n, err := runMain(t, func(ctx context.Context) (int64, error) {
		if err := asyncio.SockConnect(ctx, sock, addr); err != nil {
			return 0, err
		}
		return asyncio.SockSendfile(ctx, sock, f, 0, 0)
	})
	sock.Close()
	b := <-got
	if err != nil || n != int64(len(data)) {
		t.Fatalf("SockSendfile = %d, %v; want %d, nil", n, err, len(data))
	}
	if !bytes.Equal(b, data) {
		t.Fatalf("peer got %d bytes, want the file's %d", len(b), len(data))
	}
	if pos, _ := f.Seek(0, io.SeekCurrent); pos != int64(len(data)) {
		t.Fatalf("file position %d, want %d", pos, len(data))
	}
}

// test_sock_sendfile_with_offset_and_count: SockSendfile(f, 1000, 2000)
// sends data[1000:3000] and leaves the offset at 3000.
func TestSendfile_test_sock_sendfile_with_offset_and_count(t *testing.T) {
	f, data := sendfileData(t, 256<<10+1)
	addr, got := sockSendfileSink(t)
	sock := newSock(t, syscall.AF_INET, syscall.SOCK_STREAM)
	n, err := runMain(t, func(ctx context.Context) (int64, error) {
		if err := asyncio.SockConnect(ctx, sock, addr); err != nil {
			return 0, err
		}
		return asyncio.SockSendfile(ctx, sock, f, 1000, 2000)
	})
	sock.Close()
	b := <-got
	if err != nil || n != 2000 {
		t.Fatalf("SockSendfile = %d, %v; want 2000, nil", n, err)
	}
	if !bytes.Equal(b, data[1000:3000]) {
		t.Fatalf("peer got %d bytes, want data[1000:3000]", len(b))
	}
	if pos, _ := f.Seek(0, io.SeekCurrent); pos != 3000 {
		t.Fatalf("file position %d, want 3000", pos)
	}
}

// test_sock_sendfile_zero_size: an empty file sends nothing and returns 0.
func TestSendfile_test_sock_sendfile_zero_size(t *testing.T) {
	f, _ := sendfileData(t, 0)
	addr, got := sockSendfileSink(t)
	sock := newSock(t, syscall.AF_INET, syscall.SOCK_STREAM)
	n, err := runMain(t, func(ctx context.Context) (int64, error) {
		if err := asyncio.SockConnect(ctx, sock, addr); err != nil {
			return 0, err
		}
		return asyncio.SockSendfile(ctx, sock, f, 0, 0)
	})
	sock.Close()
	b := <-got
	if err != nil || n != 0 {
		t.Fatalf("SockSendfile = %d, %v; want 0, nil", n, err)
	}
	if len(b) != 0 {
		t.Fatalf("peer got %d bytes, want 0", len(b))
	}
	if pos, _ := f.Seek(0, io.SeekCurrent); pos != 0 {
		t.Fatalf("file position %d, want 0", pos)
	}
}

// test_sock_sendfile_mix_with_regular_send: SockSendall, SockSendfile,
// SockSendall on one socket arrive in that order.
func TestSendfile_test_sock_sendfile_mix_with_regular_send(t *testing.T) {
	f, data := sendfileData(t, 256<<10+1)
	buf := bytes.Repeat([]byte("mix_regular_send"), 4*1024) // 64 KiB
	addr, got := sockSendfileSink(t)
	sock := newSock(t, syscall.AF_INET, syscall.SOCK_STREAM)
	n, err := runMain(t, func(ctx context.Context) (int64, error) {
		if err := asyncio.SockConnect(ctx, sock, addr); err != nil {
			return 0, err
		}
		if err := asyncio.SockSendall(ctx, sock, buf); err != nil {
			return 0, err
		}
		n, err := asyncio.SockSendfile(ctx, sock, f, 0, 0)
		if err != nil {
			return n, err
		}
		return n, asyncio.SockSendall(ctx, sock, buf)
	})
	sock.Close()
	b := <-got
	if err != nil || n != int64(len(data)) {
		t.Fatalf("SockSendfile = %d, %v; want %d, nil", n, err, len(data))
	}
	want := append(append(append([]byte{}, buf...), data...), buf...)
	if !bytes.Equal(b, want) {
		t.Fatalf("peer got %d bytes, want %d in order", len(b), len(want))
	}
	if pos, _ := f.Seek(0, io.SeekCurrent); pos != int64(len(data)) {
		t.Fatalf("file position %d, want %d", pos, len(data))
	}
}

// sendfileToServer connects to a closeAfterProto server and runs send on
// the client's transport; it returns what the server received.
func sendfileToServer(t *testing.T, closeAfter int, send func(ctx context.Context, tr asyncio.Transport)) []byte {
	t.Helper()
	return sendfileToServerOver(t, false, closeAfter, send)
}

// sendfileToServerOver is sendfileToServer, over TLS if useTLS
// (test_sendfile.py's prepare_sendfile(is_ssl=True)).
func sendfileToServerOver(t *testing.T, useTLS bool, closeAfter int, send func(ctx context.Context, tr asyncio.Transport)) []byte {
	t.Helper()
	so, co := &asyncio.ServerOptions{}, &asyncio.ConnectOptions{}
	if useTLS {
		so.TLS, co.TLS = testCerts()
		co.TLSOptions.ServerHostname = "localhost"
	}
	got, err := runProcLoop(t, func(ctx context.Context) ([]byte, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		srvProto := &closeAfterProto{closeAfter: closeAfter, done: asyncio.NewFuture[struct{}](l)}
		srv, err := asyncio.CreateServer(ctx, func() *closeAfterProto { return srvProto }, "127.0.0.1", 0, so)
		if err != nil {
			return nil, err
		}
		defer srv.Close()
		tr, _, err := asyncio.CreateConnection(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, "127.0.0.1", mustAddr(t, srv).Port, co)
		if err != nil {
			return nil, err
		}
		if fd, ok := tr.GetExtraInfo("socket").(int); ok && closeAfter > 0 && closeAfter < 4096 {
			syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_SNDBUF, 4096)
		}
		send(ctx, tr)
		tr.Close()
		if _, err := asyncio.Await(ctx, srvProto.done); err != nil {
			return nil, err
		}
		return srvProto.buf.Bytes(), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// test_sendfile_for_closing_transp: Sendfile on a closing transport fails
// (asyncio's RuntimeError "is closing") and sends nothing.
func TestSendfile_test_sendfile_for_closing_transp(t *testing.T) {
	f, _ := sendfileData(t, 256<<10+1)
	got := sendfileToServer(t, 0, func(ctx context.Context, tr asyncio.Transport) {
		tr.Close()
		n, err := asyncio.Sendfile(ctx, tr, f, 0, 0, true)
		if !errors.Is(err, asyncio.ErrTransportClosing) || n != 0 {
			t.Errorf("Sendfile on a closing transport = %d, %v; want 0, ErrTransportClosing", n, err)
		}
	})
	if len(got) != 0 {
		t.Fatalf("server got %d bytes, want 0", len(got))
	}
	if pos, _ := f.Seek(0, io.SeekCurrent); pos != 0 {
		t.Fatalf("file position %d, want 0", pos)
	}
}

// test_sendfile_pre_and_post_data: what is written before Sendfile goes
// first, what is written after it goes last.
func TestSendfile_test_sendfile_pre_and_post_data(t *testing.T) {
	f, data := sendfileData(t, 256<<10+1)
	prefix := bytes.Repeat([]byte("PREFIX__"), 1024)
	suffix := bytes.Repeat([]byte("--SUFFIX"), 1024)
	got := sendfileToServer(t, 0, func(ctx context.Context, tr asyncio.Transport) {
		tr.Write(prefix)
		n, err := asyncio.Sendfile(ctx, tr, f, 0, 0, true)
		if err != nil || n != int64(len(data)) {
			t.Errorf("Sendfile = %d, %v; want %d, nil", n, err, len(data))
		}
		if err := tr.Write(suffix); err != nil {
			t.Errorf("Write after Sendfile: %v", err)
		}
	})
	want := append(append(append([]byte{}, prefix...), data...), suffix...)
	if !bytes.Equal(got, want) {
		t.Fatalf("server got %d bytes, want %d in order", len(got), len(want))
	}
	if pos, _ := f.Seek(0, io.SeekCurrent); pos != int64(len(data)) {
		t.Fatalf("file position %d, want %d", pos, len(data))
	}
}

// test_sendfile_close_peer_after_receiving: the peer closing once it has
// everything does not fail the Sendfile.
func TestSendfile_test_sendfile_close_peer_after_receiving(t *testing.T) {
	f, data := sendfileData(t, 256<<10+1)
	got := sendfileToServer(t, len(data), func(ctx context.Context, tr asyncio.Transport) {
		n, err := asyncio.Sendfile(ctx, tr, f, 0, 0, true)
		if err != nil || n != int64(len(data)) {
			t.Errorf("Sendfile = %d, %v; want %d, nil", n, err, len(data))
		}
	})
	if !bytes.Equal(got, data) {
		t.Fatalf("server got %d bytes, want the file's %d", len(got), len(data))
	}
	if pos, _ := f.Seek(0, io.SeekCurrent); pos != int64(len(data)) {
		t.Fatalf("file position %d, want %d", pos, len(data))
	}
}

// test_sendfile_close_peer_in_the_middle_of_receiving: the peer closing
// after 1 KiB fails the Sendfile with a connection error (EPIPE or
// ECONNRESET), with part of the file sent, and the transport closing.
func TestSendfile_test_sendfile_close_peer_in_the_middle_of_receiving(t *testing.T) {
	f, data := sendfileData(t, 8<<20)
	got := sendfileToServer(t, 1024, func(ctx context.Context, tr asyncio.Transport) {
		_, err := asyncio.Sendfile(ctx, tr, f, 0, 0, true)
		if !errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("Sendfile: got %v, want EPIPE or ECONNRESET", err)
		}
		if !tr.IsClosing() {
			t.Error("transport not closing after the connection error")
		}
	})
	if len(got) < 1024 || len(got) >= len(data) {
		t.Fatalf("server got %d bytes, want 1024 <= n < %d", len(got), len(data))
	}
	if pos, _ := f.Seek(0, io.SeekCurrent); pos < 1024 || pos >= int64(len(data)) {
		t.Fatalf("file position %d, want 1024 <= pos < %d", pos, len(data))
	}
}

// test_sendfile_ssl_pre_and_post_data: over TLS (where Sendfile reads
// the file and writes it through the transport), what is written before
// Sendfile goes first and what is written after it goes last.
func TestSendfile_test_sendfile_ssl_pre_and_post_data(t *testing.T) {
	f, data := sendfileData(t, 1<<20+1)
	prefix := bytes.Repeat([]byte("zxcvbnm"), 1024)
	suffix := bytes.Repeat([]byte("0987654321"), 1024)
	got := sendfileToServerOver(t, true, 0, func(ctx context.Context, tr asyncio.Transport) {
		if tr.GetExtraInfo("sslcontext") == nil {
			t.Error("not a TLS transport")
		}
		tr.Write(prefix)
		n, err := asyncio.Sendfile(ctx, tr, f, 0, 0, true)
		if err != nil || n != int64(len(data)) {
			t.Errorf("Sendfile = %d, %v; want %d, nil", n, err, len(data))
		}
		if err := tr.Write(suffix); err != nil {
			t.Errorf("Write after Sendfile: %v", err)
		}
	})
	want := append(append(append([]byte{}, prefix...), data...), suffix...)
	if !bytes.Equal(got, want) {
		t.Fatalf("server got %d bytes, want %d in order", len(got), len(want))
	}
	if pos, _ := f.Seek(0, io.SeekCurrent); pos != int64(len(data)) {
		t.Fatalf("file position %d, want %d", pos, len(data))
	}
}

// test_sendfile_ssl_partial: over TLS, Sendfile(f, 1000, 100) sends
// data[1000:1100] and leaves the file's offset at 1100.
func TestSendfile_test_sendfile_ssl_partial(t *testing.T) {
	f, data := sendfileData(t, 1<<20+1)
	got := sendfileToServerOver(t, true, 0, func(ctx context.Context, tr asyncio.Transport) {
		n, err := asyncio.Sendfile(ctx, tr, f, 1000, 100, true)
		if err != nil || n != 100 {
			t.Errorf("Sendfile = %d, %v; want 100, nil", n, err)
		}
	})
	if !bytes.Equal(got, data[1000:1100]) {
		t.Fatalf("server got %d bytes, want data[1000:1100]", len(got))
	}
	if pos, _ := f.Seek(0, io.SeekCurrent); pos != 1100 {
		t.Fatalf("file position %d, want 1100", pos)
	}
}

// test_sendfile_ssl_close_peer_after_receiving: over TLS, the peer
// closing once it has the whole file does not fail the Sendfile.
func TestSendfile_test_sendfile_ssl_close_peer_after_receiving(t *testing.T) {
	f, data := sendfileData(t, 1<<20+1)
	got := sendfileToServerOver(t, true, len(data), func(ctx context.Context, tr asyncio.Transport) {
		n, err := asyncio.Sendfile(ctx, tr, f, 0, 0, true)
		if err != nil || n != int64(len(data)) {
			t.Errorf("Sendfile = %d, %v; want %d, nil", n, err, len(data))
		}
	})
	if !bytes.Equal(got, data) {
		t.Fatalf("server got %d bytes, want the file's %d", len(got), len(data))
	}
	if pos, _ := f.Seek(0, io.SeekCurrent); pos != int64(len(data)) {
		t.Fatalf("file position %d, want %d", pos, len(data))
	}
}

// test_sendfile_force_unsupported_native: with fallback false, a stream
// transport sendfile(2) cannot serve (TLS here) refuses with
// ErrSendfileNotAvailable, sends nothing and leaves the file's offset.
func TestSendfile_test_sendfile_force_unsupported_native(t *testing.T) {
	f, _ := sendfileData(t, 64<<10)
	got := sendfileToServerOver(t, true, 0, func(ctx context.Context, tr asyncio.Transport) {
		n, err := asyncio.Sendfile(ctx, tr, f, 0, 0, false)
		if !errors.Is(err, asyncio.ErrSendfileNotAvailable) || n != 0 {
			t.Errorf("Sendfile(fallback false) over TLS = %d, %v; want 0, ErrSendfileNotAvailable", n, err)
		}
	})
	if len(got) != 0 {
		t.Fatalf("server got %d bytes, want 0", len(got))
	}
	if pos, _ := f.Seek(0, io.SeekCurrent); pos != 0 {
		t.Fatalf("file position %d, want 0", pos)
	}
}

// test_sendfile_fallback_close_peer_in_the_middle_of_receiving: when the
// reading side goes away after 1 KiB of a fallback Sendfile (a pipe
// here, whose transport has no sendfile(2)), Sendfile fails with an
// error that says the transport closed and why (EPIPE), having sent part
// of the file, and leaves the offset after what it sent.
func TestSendfile_test_sendfile_fallback_close_peer_in_the_middle_of_receiving(t *testing.T) {
	f, data := sendfileData(t, 8<<20)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	read := make(chan int, 1)
	go func() {
		b := make([]byte, 1024)
		n, _ := io.ReadFull(r, b)
		r.Close()
		read <- n
	}()
	_, err = runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, l)
		tr, _, err := asyncio.ConnectWritePipe(ctx, func() *recProto { return p }, w)
		if err != nil {
			return 0, err
		}
		n, err := asyncio.Sendfile(ctx, tr, f, 0, 0, true)
		if !errors.Is(err, asyncio.ErrTransportClosing) || !errors.Is(err, syscall.EPIPE) {
			t.Errorf("Sendfile to a reader gone after 1 KiB: %v, want ErrTransportClosing with EPIPE", err)
		}
		if n < 1024 || n >= int64(len(data)) {
			t.Errorf("Sendfile sent %d, want 1024 <= n < %d", n, len(data))
		}
		if !tr.IsClosing() {
			t.Error("transport not closing")
		}
		_, err = asyncio.Await(ctx, p.done)
		return 0, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := <-read; n != 1024 {
		t.Fatalf("reader got %d bytes, want 1024", n)
	}
	if pos, _ := f.Seek(0, io.SeekCurrent); pos < 1024 || pos >= int64(len(data)) {
		t.Fatalf("file position %d, want 1024 <= pos < %d", pos, len(data))
	}
}

// test_sendfile_not_supported: Sendfile on a datagram transport is
// refused (ErrSendfileNotSupported), even with fallback, and leaves the file's
// offset.
func TestSendfile_test_sendfile_not_supported(t *testing.T) {
	f, _ := sendfileData(t, 4096)
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		tr, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} },
			&asyncio.DatagramOptions{LocalAddr: "127.0.0.1:0", RemoteAddr: "127.0.0.1:9"})
		if err != nil {
			return 0, err
		}
		defer tr.Close()
		for _, fallback := range []bool{true, false} {
			if n, err := asyncio.Sendfile(ctx, tr, f, 0, 0, fallback); !errors.Is(err, asyncio.ErrSendfileNotSupported) || n != 0 {
				t.Errorf("Sendfile(fallback %v) on a datagram transport = %d, %v; want 0, ErrSendfileNotSupported", fallback, n, err)
			}
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if pos, _ := f.Seek(0, io.SeekCurrent); pos != 0 {
		t.Fatalf("file position %d, want 0", pos)
	}
}
