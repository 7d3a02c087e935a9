//go:build unix

package asyncio_test

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// The cases of CPython's test_transports.py, on real transports.

// tcpPair connects a recProto client to a plain listener and returns the
// transport, its protocol and the accepted peer connection (closed at the
// end of the test).
func tcpPair(t *testing.T, ctx context.Context) (asyncio.Transport, *recProto, net.Conn, error) {
	loop, _ := asyncio.GetRunningLoop(ctx)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, nil, err
	}
	defer ln.Close()
	peer := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		peer <- c
	}()
	p := newRecProto(t, loop)
	tr, _, err := asyncio.CreateConnection(ctx, func() *recProto { return p }, "127.0.0.1", ln.Addr().(*net.TCPAddr).Port, nil)
	if err != nil {
		return nil, nil, nil, err
	}
	c := <-peer
	if c == nil {
		tr.Close()
		return nil, nil, nil, errors.New("accept failed")
	}
	t.Cleanup(func() { c.Close() })
	return tr, p, c, nil
}

// test_transports.py: test_ctor_extra_is_none: a transport asked for
// extra information it does not have returns nil (the default).
func TestTransports_test_ctor_extra_is_none(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	_, err = runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, loop)
		tr, _, err := asyncio.ConnectReadPipe(ctx, func() *recProto { return p }, r)
		if err != nil {
			return 0, err
		}
		defer tr.Close()
		for _, name := range []string{"extra", "peername", "sslcontext"} {
			if v := tr.GetExtraInfo(name); v != nil {
				t.Errorf("GetExtraInfo(%q) = %v, want nil", name, v)
			}
		}
		if tr.GetExtraInfo("pipe") == nil {
			t.Error("GetExtraInfo(\"pipe\") = nil, want the pipe's fd")
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_transports.py: test_get_extra_info: a socket transport gives the
// information it has (peername, sockname) and nil for other names.
func TestTransports_test_get_extra_info(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		tr, _, c, err := tcpPair(t, ctx)
		if err != nil {
			return 0, err
		}
		defer tr.Close()
		if a, _ := tr.GetExtraInfo("peername").(net.Addr); a == nil || a.String() != c.LocalAddr().String() {
			t.Errorf("peername %v, want %v", tr.GetExtraInfo("peername"), c.LocalAddr())
		}
		if a, _ := tr.GetExtraInfo("sockname").(net.Addr); a == nil || a.String() != c.RemoteAddr().String() {
			t.Errorf("sockname %v, want %v", tr.GetExtraInfo("sockname"), c.RemoteAddr())
		}
		if v := tr.GetExtraInfo("extra"); v != nil {
			t.Errorf("GetExtraInfo(\"extra\") = %v, want nil", v)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_transports.py: test_writelines: WriteLines sends the lines one
// after the other, as one write of their concatenation would.
func TestTransports_test_writelines(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		tr, _, c, err := tcpPair(t, ctx)
		if err != nil {
			return 0, err
		}
		if err := tr.WriteLines([][]byte{[]byte("line1"), []byte("line2"), []byte("line3")}); err != nil {
			t.Errorf("WriteLines = %v", err)
		}
		tr.Close()
		got, err := readAtLeastConn(ctx, c, len("line1line2line3"))
		if err != nil || got != "line1line2line3" {
			t.Errorf("peer read %q, %v", got, err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// readAtLeastConn reads c (blocking, off the loop) until it has n bytes.
func readAtLeastConn(ctx context.Context, c net.Conn, n int) (string, error) {
	return asyncio.ToThread(ctx, func(context.Context) (string, error) {
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		var got []byte
		buf := make([]byte, 1024)
		for len(got) < n {
			k, err := c.Read(buf)
			got = append(got, buf[:k]...)
			if err != nil {
				return string(got), err
			}
		}
		return string(got), nil
	})
}

// test_transports.py: test_flowcontrol_mixin_set_write_limits: limits
// with high < low are refused; limits above the buffered size leave the
// protocol running; lowering the high-water mark below what is buffered
// pauses it at once.
func TestTransports_test_flowcontrol_mixin_set_write_limits(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		tr, p, _, err := tcpPair(t, ctx)
		if err != nil {
			return 0, err
		}
		defer tr.Abort()
		if err := tr.SetWriteBufferLimits(0, 1); !errors.Is(err, asyncio.ErrWriteBufferLimits) {
			t.Errorf("SetWriteBufferLimits(high 0, low 1) = %v, want ErrWriteBufferLimits", err)
		}
		if err := tr.SetWriteBufferLimits(1<<40, 0); err != nil {
			return 0, err
		}
		// The peer does not read: what the kernel does not take stays
		// in the transport's buffer.
		chunk := make([]byte, 1<<20)
		for i := 0; i < 64 && tr.GetWriteBufferSize() == 0; i++ {
			tr.Write(chunk)
		}
		size := tr.GetWriteBufferSize()
		if size == 0 {
			t.Skip("the kernel took 64 MiB without a reader")
		}
		if err := tr.SetWriteBufferLimits(4*size, 2*size); err != nil {
			return 0, err
		}
		if len(p.pauses) != 0 {
			t.Errorf("paused with the buffer (%d) under the high-water mark", size)
		}
		if low, high := tr.GetWriteBufferLimits(); low != 2*size || high != 4*size {
			t.Errorf("limits (%d, %d), want (%d, %d)", low, high, 2*size, 4*size)
		}
		if err := tr.SetWriteBufferLimits(size/2, size/4); err != nil {
			return 0, err
		}
		if len(p.pauses) != 1 || p.pauses[0] != size {
			t.Errorf("PauseWriting calls %v, want one, at %d buffered", p.pauses, size)
		}
		if low, high := tr.GetWriteBufferLimits(); low != size/4 || high != size/2 {
			t.Errorf("limits (%d, %d), want (%d, %d)", low, high, size/4, size/2)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
