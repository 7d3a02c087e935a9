//go:build unix

package asyncio_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

// streamEcho is test_streams.py's echo server callback: it echoes lines
// until EOF.
func streamEcho(ctx context.Context, r *asyncio.StreamReader, w *asyncio.StreamWriter) error {
	for line, err := range r.Lines(ctx) {
		if err != nil {
			return err
		}
		w.Write(line)
		if err := w.Drain(ctx); err != nil {
			return err
		}
	}
	w.Close()
	return w.WaitClosed(ctx)
}

// test_streams.py: test_start_server and test_open_connection.
func TestStreams_test_start_server(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		srv, err := asyncio.StartServer(ctx, streamEcho, "127.0.0.1", 0, nil)
		if err != nil {
			return 0, err
		}
		port := mustAddr(t, srv).Port
		r, w, err := asyncio.OpenConnection(ctx, "127.0.0.1", port, nil)
		if err != nil {
			return 0, err
		}
		w.Write([]byte("hello world!\n"))
		line, err := r.ReadLine(ctx)
		if err != nil || string(line) != "hello world!\n" {
			t.Errorf("ReadLine = %q, %v", line, err)
		}
		if w.GetExtraInfo("peername").(*net.TCPAddr).Port != port {
			t.Error("peername")
		}
		w.WriteEOF()
		rest, err := r.Read(ctx, -1)
		if err != nil || len(rest) != 0 || !r.AtEOF() {
			t.Errorf("Read(-1) = %q, %v", rest, err)
		}
		w.Close()
		if err := w.WaitClosed(ctx); err != nil {
			t.Errorf("WaitClosed = %v", err)
		}
		srv.Close()
		return 0, srv.WaitClosed(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_streams.py: test_start_unix_server and test_open_unix_connection.
func TestStreams_test_start_unix_server(t *testing.T) {
	path := t.TempDir() + "/echo"
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		srv, err := asyncio.StartUnixServer(ctx, streamEcho, path, nil)
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		r, w, err := asyncio.OpenUnixConnection(ctx, path, nil)
		if err != nil {
			return 0, err
		}
		defer w.Close()
		w.WriteLines([][]byte{[]byte("one\n"), []byte("two\n")})
		for _, want := range []string{"one\n", "two\n"} {
			line, err := r.ReadLine(ctx)
			if err != nil || string(line) != want {
				t.Errorf("ReadLine = %q, %v", line, err)
			}
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_streams.py: test_drain_raises (the peer resets: Drain returns the
// error) and backpressure: Drain blocks while the peer does not read and
// returns once it does.
func TestStreams_test_drain_backpressure(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		start := asyncio.NewFuture[*asyncio.StreamReader](loop)
		srv, err := asyncio.StartServer(ctx, func(ctx context.Context, r *asyncio.StreamReader, w *asyncio.StreamWriter) error {
			start.SetResult(r)
			return nil
		}, "127.0.0.1", 0, nil)
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		_, w, err := asyncio.OpenConnection(ctx, "127.0.0.1", mustAddr(t, srv).Port, nil)
		if err != nil {
			return 0, err
		}
		sr, _ := asyncio.Await(ctx, start)
		chunk := make([]byte, 1<<20)
		var drained bool
		// The server does not read: after some MiB Drain must block.
		for i := 0; i < 64; i++ {
			w.Write(chunk)
			if _, err := asyncio.WaitFor(ctx, asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) { return 0, w.Drain(ctx) }), 50*time.Millisecond); errors.Is(err, asyncio.ErrTimeout) {
				drained = true
				break
			}
		}
		if !drained {
			t.Fatal("Drain never blocked against a peer that does not read")
		}
		// Now read everything on the server side: Drain returns.
		dr := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) { return 0, w.Drain(ctx) })
		for !dr.Done() {
			if _, err := sr.Read(ctx, 1<<20); err != nil {
				return 0, err
			}
		}
		if _, err := dr.Result(); err != nil {
			t.Errorf("Drain = %v", err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A trio program uses streams through RunAsyncio: a trio deadline in the
// middle of ReadExactly cancels it (trio's Cancelled, asyncio's
// CancelledError as its cause) and no byte is lost from the buffer; the
// same for Drain.
func TestStreams_trio_deadline_in_readexactly_and_drain(t *testing.T) {
	err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		type conn struct {
			r  *asyncio.StreamReader
			w  *asyncio.StreamWriter
			sr *asyncio.StreamReader
			sw *asyncio.StreamWriter
		}
		c, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (conn, error) {
			got := asyncio.NewFuture[conn](loop)
			srv, err := asyncio.StartServer(ctx, func(ctx context.Context, r *asyncio.StreamReader, w *asyncio.StreamWriter) error {
				got.SetResult(conn{sr: r, sw: w})
				return nil
			}, "127.0.0.1", 0, nil)
			if err != nil {
				return conn{}, err
			}
			r, w, err := asyncio.OpenConnection(ctx, "127.0.0.1", mustAddr(t, srv).Port, nil)
			if err != nil {
				return conn{}, err
			}
			s, err := asyncio.Await(ctx, got)
			s.r, s.w = r, w
			return s, err
		})
		if err != nil {
			return err
		}
		// The server sends 10 bytes; the client wants 20.
		asyncio.RunSync(ctx, func(context.Context) (int, error) { return 0, c.sw.Write([]byte("0123456789")) })
		movedOn, _ := trio.MoveOnAfter(ctx, 200*time.Millisecond, func(ctx context.Context) error {
			_, err = asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
				_, err := c.r.ReadExactly(ctx, 20)
				return 0, err
			})
			return err
		})
		if !movedOn || !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("ReadExactly under a trio deadline = %v, want cancelled", err)
		}
		got, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) ([]byte, error) { return c.r.ReadExactly(ctx, 10) })
		if err != nil || string(got) != "0123456789" {
			t.Errorf("after the deadline: %q, %v", got, err)
		}
		// Drain: the server does not read; fill until Drain would block.
		movedOn, _ = trio.MoveOnAfter(ctx, 300*time.Millisecond, func(ctx context.Context) error {
			_, err = asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
				for {
					c.w.Write(make([]byte, 1<<20))
					if err := c.w.Drain(ctx); err != nil {
						return 0, err
					}
				}
			})
			return err
		})
		if !movedOn || !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("Drain under a trio deadline = %v, want cancelled", err)
		}
		queued, _ := asyncio.RunSync(ctx, func(context.Context) (int, error) { return c.w.Transport().GetWriteBufferSize(), nil })
		if queued == 0 {
			t.Error("the write buffer is empty after a cancelled Drain")
		}
		// Everything written arrives: read it all on the server side.
		n, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			total := 0
			c.w.Close()
			for {
				b, err := c.sr.Read(ctx, 1<<20)
				if err != nil || len(b) == 0 {
					return total, err
				}
				total += len(b)
			}
		})
		if err != nil || n%(1<<20) != 0 || n == 0 {
			t.Errorf("server read %d bytes, %v", n, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
