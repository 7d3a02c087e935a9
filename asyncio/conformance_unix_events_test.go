//go:build unix

package asyncio_test

// CPython's Lib/test/test_asyncio/test_unix_events.py cases not transcribed
// in unix_events_test.go and unix_events_signal_test.go, at the behaviour
// level: real signals, real pipes, real sockets.

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// SelectorEventLoopSignalTests.test_check_signal: a signal number out of
// range is refused (asyncio's ValueError "sig ... out of range").
func TestUnixEvents_test_check_signal(t *testing.T) {
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		for _, sig := range []syscall.Signal{-1, 0, 1000} {
			if err := l.AddSignalHandler(sig, func(context.Context) {}); !errors.Is(err, asyncio.ErrInvalidSignal) {
				t.Errorf("AddSignalHandler(%d): %v, want ErrInvalidSignal", int(sig), err)
			}
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// SelectorEventLoopSignalTests.test_remove_signal_handler: removing an
// installed handler reports true, removing it again (or one never
// installed) reports false.
func TestUnixEvents_test_remove_signal_handler(t *testing.T) {
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		if err := l.AddSignalHandler(syscall.SIGHUP, func(context.Context) {}); err != nil {
			t.Errorf("AddSignalHandler: %v", err)
		}
		if ok, err := l.RemoveSignalHandler(syscall.SIGHUP); !ok || err != nil {
			t.Errorf("RemoveSignalHandler = %v, %v; want true, nil", ok, err)
		}
		if ok, err := l.RemoveSignalHandler(syscall.SIGHUP); ok || err != nil {
			t.Errorf("second RemoveSignalHandler = %v, %v; want false, nil", ok, err)
		}
		if ok, err := l.RemoveSignalHandler(syscall.SIGUSR2); ok || err != nil {
			t.Errorf("RemoveSignalHandler never added = %v, %v; want false, nil", ok, err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// UnixReadPipeTransportTests.test_ctor: ConnectionMade has run when
// ConnectReadPipe returns, the transport reads, and "pipe" gives its fd.
func TestUnixEvents_test_read_pipe_ctor(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	_, err = runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, l)
		tr, _, err := asyncio.ConnectReadPipe(ctx, func() *recProto { return p }, r)
		if err != nil {
			return 0, err
		}
		if p.state != "CONNECTED" || p.transport != tr {
			t.Errorf("state %s, transport %v after ConnectReadPipe", p.state, p.transport)
		}
		if !tr.IsReading() || tr.IsClosing() {
			t.Errorf("IsReading %v, IsClosing %v; want true, false", tr.IsReading(), tr.IsClosing())
		}
		if _, ok := tr.GetExtraInfo("pipe").(int); !ok {
			t.Errorf(`GetExtraInfo("pipe") = %v, want the fd`, tr.GetExtraInfo("pipe"))
		}
		tr.Close()
		_, err = asyncio.Await(ctx, p.done)
		return 0, err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// UnixReadPipeTransportTests.test_pause_reading_on_paused_pipe,
// test_resume_reading_on_paused_pipe, test_pause_reading_on_closed_pipe,
// test_resume_reading_on_closed_pipe: PauseReading and ResumeReading are
// idempotent, and do nothing once the pipe is closed (no data after
// Close, no panic).
func TestUnixEvents_test_pause_resume_reading_on_paused_and_closed_pipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	_, err = runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, l)
		tr, _, err := asyncio.ConnectReadPipe(ctx, func() *recProto { return p }, r)
		if err != nil {
			return 0, err
		}
		tr.ResumeReading() // on a reading pipe: nothing
		if !tr.IsReading() {
			t.Error("ResumeReading on a reading pipe stopped it")
		}
		tr.PauseReading()
		tr.PauseReading() // on a paused pipe: nothing
		if tr.IsReading() {
			t.Error("IsReading after PauseReading")
		}
		w.Write([]byte("x"))
		tr.ResumeReading()
		tr.ResumeReading()
		if err := p.gotData.Wait(ctx); err != nil {
			return 0, err
		}
		if p.data.String() != "x" {
			t.Errorf("data %q, want \"x\"", p.data.String())
		}
		tr.Close()
		if tr.IsReading() {
			t.Error("IsReading after Close")
		}
		w.Write([]byte("y"))
		tr.PauseReading()  // on a closed pipe: nothing
		tr.ResumeReading() // on a closed pipe: nothing
		if tr.IsReading() {
			t.Error("ResumeReading on a closed pipe made it read")
		}
		if _, err := asyncio.Await(ctx, p.done); err != nil {
			return 0, err
		}
		if p.data.String() != "x" || p.lostErr != nil {
			t.Errorf("data %q, lost %v; want \"x\", nil", p.data.String(), p.lostErr)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// UnixWritePipeTransportTests.test_ctor, test_can_write_eof,
// test_write_no_data, test_write: a write pipe is connected, can write
// EOF, an empty Write buffers nothing, a Write reaches the reader.
func TestUnixEvents_test_write_pipe_ctor_can_write_eof_and_write_no_data(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, l)
		tr, _, err := asyncio.ConnectWritePipe(ctx, func() *recProto { return p }, w)
		if err != nil {
			return 0, err
		}
		if p.state != "CONNECTED" {
			t.Errorf("state %s after ConnectWritePipe", p.state)
		}
		if !tr.CanWriteEOF() {
			t.Error("CanWriteEOF = false, want true")
		}
		if err := tr.Write(nil); err != nil || tr.GetWriteBufferSize() != 0 {
			t.Errorf("Write(nil) = %v, buffer %d; want nil, 0", err, tr.GetWriteBufferSize())
		}
		if err := tr.Write([]byte("data")); err != nil {
			t.Errorf("Write: %v", err)
		}
		tr.Close()
		_, err = asyncio.Await(ctx, p.done)
		return 0, err
	})
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 16)
	n, _ := r.Read(b)
	if string(b[:n]) != "data" {
		t.Fatalf("reader got %q, want \"data\"", b[:n])
	}
}

// UnixWritePipeTransportTests.test_write_err: a write that fails (the
// reading end is gone: EPIPE) loses the connection with that error, and
// later writes are dropped.
func TestUnixEvents_test_write_err(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	_, err = runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, l)
		tr, _, err := asyncio.ConnectWritePipe(ctx, func() *recProto { return p }, w)
		if err != nil {
			return 0, err
		}
		r.Close()
		tr.Write([]byte("data"))
		if _, err := asyncio.Await(ctx, p.done); err != nil {
			return 0, err
		}
		if !errors.Is(p.lostErr, syscall.EPIPE) {
			t.Errorf("ConnectionLost(%v), want EPIPE", p.lostErr)
		}
		if !tr.IsClosing() {
			t.Error("not closing after the write error")
		}
		tr.Write([]byte("more")) // dropped, no panic
		if n := tr.GetWriteBufferSize(); n != 0 {
			t.Errorf("buffer %d after the loss, want 0", n)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// UnixWritePipeTransportTests.test_close_closing and test_close: Close
// twice loses the connection once, with nil.
func TestUnixEvents_test_write_pipe_close_closing(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, l)
		tr, _, err := asyncio.ConnectWritePipe(ctx, func() *recProto { return p }, w)
		if err != nil {
			return 0, err
		}
		tr.Close()
		tr.Close()
		if _, err := asyncio.Await(ctx, p.done); err != nil {
			return 0, err
		}
		if err := asyncio.Sleep(ctx, 0); err != nil {
			return 0, err
		}
		if p.state != "CLOSED" || p.lostErr != nil {
			t.Errorf("state %s, lost %v; want CLOSED, nil", p.state, p.lostErr)
		}
		if tr.GetExtraInfo("pipe") != nil {
			t.Errorf(`GetExtraInfo("pipe") = %v after the loss, want nil`, tr.GetExtraInfo("pipe"))
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestFunctional.test_add_reader_or_writer_transport_fd: the fd of a
// transport cannot be watched or unwatched directly.
func TestUnixEvents_test_add_reader_or_writer_transport_fd(t *testing.T) {
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		srv, err := asyncio.CreateServer(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, "127.0.0.1", 0, nil)
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		tr, _, err := asyncio.CreateConnection(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, "127.0.0.1", mustAddr(t, srv).Port, nil)
		if err != nil {
			return 0, err
		}
		defer tr.Close()
		fd, ok := tr.GetExtraInfo("socket").(int)
		if !ok {
			t.Errorf(`GetExtraInfo("socket") = %v`, tr.GetExtraInfo("socket"))
			return 0, nil
		}
		if err := l.AddReader(fd, func(context.Context) {}); !errors.Is(err, asyncio.ErrFdInUse) {
			t.Errorf("AddReader: %v, want ErrFdInUse", err)
		}
		if err := l.AddWriter(fd, func(context.Context) {}); !errors.Is(err, asyncio.ErrFdInUse) {
			t.Errorf("AddWriter: %v, want ErrFdInUse", err)
		}
		if _, err := l.RemoveReader(fd); !errors.Is(err, asyncio.ErrFdInUse) {
			t.Errorf("RemoveReader: %v, want ErrFdInUse", err)
		}
		if _, err := l.RemoveWriter(fd); !errors.Is(err, asyncio.ErrFdInUse) {
			t.Errorf("RemoveWriter: %v, want ErrFdInUse", err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
