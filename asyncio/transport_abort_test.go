//go:build unix

package asyncio_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// asyncio's transports end in one of two ways. abort() is
// _force_close(None): the protocol's connection_lost gets None. A failing
// connection goes through _fatal_error(exc), then _force_close(exc):
// connection_lost gets the error. These tests hold every transport kind
// to both: Abort gives ConnectionLost(nil) exactly once, with the write
// buffer dropped; a peer's reset (a broken pipe, for a pipe; a failing
// callback, for a datagram endpoint, whose socket errors go to
// ErrorReceived instead) gives ConnectionLost(the error).

// abortBuffered fills tr's write buffer (its peer is not reading), aborts
// it, and checks that the protocol p is told ConnectionLost(nil) and that
// the transport refuses writes meanwhile.
func abortBuffered(t *testing.T, ctx context.Context, tr asyncio.Transport, p *recProto) {
	t.Helper()
	tr.SetWriteBufferLimits(1<<30, -1)
	tr.Write(make([]byte, 8<<20))
	if tr.GetWriteBufferSize() == 0 {
		t.Error("8 MiB went out at once: nothing buffered to drop")
	}
	tr.Abort()
	tr.Abort() // a second Abort does nothing
	if !tr.IsClosing() {
		t.Error("not closing after Abort")
	}
	if err := tr.Write([]byte("x")); !errors.Is(err, asyncio.ErrTransportClosing) {
		t.Errorf("Write after Abort = %v, want ErrTransportClosing", err)
	}
	if _, err := asyncio.Await(ctx, p.done); err != nil {
		t.Fatal(err)
	}
	if p.lostErr != nil {
		t.Errorf("Abort: ConnectionLost(%v), want ConnectionLost(nil)", p.lostErr)
	}
	runBriefly(ctx) // a second ConnectionLost would fail recProto's state check
}

func TestTransport_Abort_socket(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		defer ln.Close()
		p := newRecProto(t, loop)
		tr, _, err := asyncio.CreateConnection(ctx, func() *recProto { return p }, "127.0.0.1", ln.Addr().(*net.TCPAddr).Port, nil)
		if err != nil {
			return 0, err
		}
		peer, err := ln.Accept() // queued already: does not block
		if err != nil {
			return 0, err
		}
		defer peer.Close()
		abortBuffered(t, ctx, tr, p)
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The peer resets the connection (SO_LINGER 0): ConnectionLost gets the
// read error, which matches ECONNRESET.
func TestTransport_reset_socket(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		defer ln.Close()
		p := newRecProto(t, loop)
		_, _, err = asyncio.CreateConnection(ctx, func() *recProto { return p }, "127.0.0.1", ln.Addr().(*net.TCPAddr).Port, nil)
		if err != nil {
			return 0, err
		}
		peer, err := ln.Accept()
		if err != nil {
			return 0, err
		}
		peer.(*net.TCPConn).SetLinger(0)
		peer.Close()
		if _, err := asyncio.Await(ctx, p.done); err != nil {
			return 0, err
		}
		if !errors.Is(p.lostErr, syscall.ECONNRESET) {
			t.Errorf("peer reset: ConnectionLost(%v), want an error matching ECONNRESET", p.lostErr)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// tlsPeer is a crypto/tls server on 127.0.0.1 for one connection: it
// shakes hands, reads one byte, then runs then on the TCP connection
// under it.
func tlsPeer(t *testing.T, cfg *tls.Config, then func(raw *net.TCPConn)) *net.TCPAddr {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		tc := tls.Server(c, cfg)
		if _, err := io.ReadFull(tc, make([]byte, 1)); err != nil {
			return
		}
		then(c.(*net.TCPConn))
	}()
	return ln.Addr().(*net.TCPAddr)
}

func TestTransport_Abort_tls(t *testing.T) {
	serverCfg, clientCfg := testCerts()
	addr := tlsPeer(t, serverCfg, func(raw *net.TCPConn) { io.Copy(io.Discard, raw) })
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, loop)
		tr, _, err := asyncio.CreateConnection(ctx, func() *recProto { return p }, "127.0.0.1", addr.Port,
			&asyncio.ConnectOptions{TLS: clientCfg})
		if err != nil {
			return 0, err
		}
		tr.Abort()
		if !tr.IsClosing() {
			t.Error("not closing after Abort")
		}
		if _, err := asyncio.Await(ctx, p.done); err != nil {
			return 0, err
		}
		if p.lostErr != nil {
			t.Errorf("Abort: ConnectionLost(%v), want ConnectionLost(nil)", p.lostErr)
		}
		runBriefly(ctx)
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The TLS peer resets the TCP connection under TLS (no close_notify):
// the application's ConnectionLost gets an error matching ECONNRESET.
func TestTransport_reset_tls(t *testing.T) {
	serverCfg, clientCfg := testCerts()
	addr := tlsPeer(t, serverCfg, func(raw *net.TCPConn) { raw.SetLinger(0); raw.Close() })
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, loop)
		tr, _, err := asyncio.CreateConnection(ctx, func() *recProto { return p }, "127.0.0.1", addr.Port,
			&asyncio.ConnectOptions{TLS: clientCfg})
		if err != nil {
			return 0, err
		}
		tr.Write([]byte("!")) // the peer resets once it has this
		if _, err := asyncio.Await(ctx, p.done); err != nil {
			return 0, err
		}
		if !errors.Is(p.lostErr, syscall.ECONNRESET) {
			t.Errorf("peer reset under TLS: ConnectionLost(%v), want an error matching ECONNRESET", p.lostErr)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTransport_Abort_pipes(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	r2, w2, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	defer w2.Close()
	_, err = runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		rp := newRecProto(t, loop)
		rtr, _, err := asyncio.ConnectReadPipe(ctx, func() *recProto { return rp }, r)
		if err != nil {
			return 0, err
		}
		rtr.Abort()
		if _, err := asyncio.Await(ctx, rp.done); err != nil {
			return 0, err
		}
		if rp.lostErr != nil {
			t.Errorf("read pipe Abort: ConnectionLost(%v), want ConnectionLost(nil)", rp.lostErr)
		}

		wp := newRecProto(t, loop)
		wtr, _, err := asyncio.ConnectWritePipe(ctx, func() *recProto { return wp }, w2)
		if err != nil {
			return 0, err
		}
		abortBuffered(t, ctx, wtr, wp)
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The reading end of a pipe goes away while data is buffered: the write
// pipe's ConnectionLost gets the broken pipe (asyncio's BrokenPipeError).
func TestTransport_broken_write_pipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	_, err = runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, loop)
		tr, _, err := asyncio.ConnectWritePipe(ctx, func() *recProto { return p }, w)
		if err != nil {
			return 0, err
		}
		tr.SetWriteBufferLimits(1<<30, -1)
		tr.Write(make([]byte, 1<<20))
		if tr.GetWriteBufferSize() == 0 {
			t.Error("nothing buffered")
		}
		r.Close()
		if _, err := asyncio.Await(ctx, p.done); err != nil {
			return 0, err
		}
		if !errors.Is(p.lostErr, syscall.EPIPE) {
			t.Errorf("broken pipe: ConnectionLost(%v), want an error matching EPIPE", p.lostErr)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTransport_Abort_datagram(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		rec := newRecorder(loop)
		p := newDgramProto(loop)
		tr, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *dgramProto { return p }, &asyncio.DatagramOptions{LocalAddr: "127.0.0.1:0"})
		if err != nil {
			return 0, err
		}
		tr.Abort()
		if _, err := asyncio.Await(ctx, p.done); err != nil {
			return 0, err
		}
		if p.lostErr != nil {
			t.Errorf("Abort: ConnectionLost(%v), want ConnectionLost(nil)", p.lostErr)
		}

		// The error path: the protocol's DatagramReceived fails.
		boom := errors.New("datagram_received boom")
		q := newDgramProto(loop)
		q.onData = func(*dgramProto, []byte, net.Addr) { panic(boom) }
		tr, _, err = asyncio.CreateDatagramEndpoint(ctx, func() *dgramProto { return q }, &asyncio.DatagramOptions{LocalAddr: "127.0.0.1:0"})
		if err != nil {
			return 0, err
		}
		if err := tr.SendTo([]byte("x"), tr.GetExtraInfo("sockname").(net.Addr)); err != nil {
			return 0, err
		}
		if _, err := asyncio.Await(ctx, q.done); err != nil {
			return 0, err
		}
		if !errors.Is(q.lostErr, boom) {
			t.Errorf("failing callback: ConnectionLost(%v), want its error", q.lostErr)
		}
		select {
		case c := <-rec.ch:
			if !errors.Is(c.Err, boom) {
				t.Errorf("exception handler got %v, want the callback's error", c.Err)
			}
		default:
			t.Error("the exception handler was not told of the failing callback")
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
