//go:build unix

package asyncio_test

// CPython's Lib/test/test_asyncio/test_unix_events.py cases not transcribed
// in unix_events_test.go and unix_events_signal_test.go, at the behaviour
// level: real signals, real pipes, real sockets.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

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

// pattern returns n bytes that show their order.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// UnixReadPipeTransportTests.test__read_ready_blocked: a read that finds
// nothing (EAGAIN: here the read the transport schedules after filling
// its whole buffer, with nothing more in the pipe) does nothing: no
// callback, the pipe stays open and reading, and later data arrives.
func TestUnixEvents_test__read_ready_blocked(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// A pipe that holds one whole read buffer (256 KiB) at once.
	if _, _, e := syscall.Syscall(syscall.SYS_FCNTL, w.Fd(), 1031 /* F_SETPIPE_SZ */, 1<<20); e != 0 {
		t.Skipf("F_SETPIPE_SZ: %v", e)
	}
	first := pattern(256 << 10)
	if _, err := w.Write(first); err != nil {
		t.Fatal(err)
	}
	msgs := streamsMain(t, func(ctx context.Context) error {
		l, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, l)
		tr, _, err := asyncio.ConnectReadPipe(ctx, func() *recProto { return p }, r)
		if err != nil {
			return err
		}
		if err := waitData(ctx, p, len(first)); err != nil {
			return err
		}
		for range 10 { // the scheduled read runs, and finds nothing
			if err := asyncio.Sleep(ctx, 0); err != nil {
				return err
			}
		}
		if p.state != "CONNECTED" || !tr.IsReading() || tr.IsClosing() {
			t.Errorf("after a read found nothing: state %s, reading %v, closing %v", p.state, tr.IsReading(), tr.IsClosing())
		}
		w.Write([]byte("later"))
		if err := waitData(ctx, p, len(first)+5); err != nil {
			return err
		}
		if want := append(first, "later"...); !bytes.Equal(p.data.Bytes(), want) {
			t.Errorf("got %d bytes, not the %d written in order", p.data.Len(), len(want))
		}
		tr.Close()
		_, err = asyncio.Await(ctx, p.done)
		return err
	})
	if len(msgs) != 0 {
		t.Errorf("exception handler got %v", msgs)
	}
}

// UnixReadPipeTransportTests.test_close_already_closing: Close on a
// closing read pipe does nothing more: ConnectionLost(nil) comes once.
func TestUnixEvents_test_close_already_closing(t *testing.T) {
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
		tr.Close()
		if !tr.IsClosing() {
			t.Error("not closing after Close")
		}
		tr.Close()
		tr.Abort()
		if _, err := asyncio.Await(ctx, p.done); err != nil {
			return 0, err
		}
		for range 5 {
			if err := asyncio.Sleep(ctx, 0); err != nil {
				return 0, err
			}
		}
		// recProto fails the test on a second ConnectionLost (its future
		// would be set twice).
		if p.state != "CLOSED" || p.lostErr != nil {
			t.Errorf("state %s, lost %v", p.state, p.lostErr)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// UnixReadPipeTransportTests.test__call_connection_lost: after
// ConnectionLost the transport has closed its end of the pipe: the
// writer's next write fails with EPIPE.
func TestUnixEvents_test__call_connection_lost(t *testing.T) {
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
		if _, err := w.Write([]byte("x")); err != nil {
			t.Errorf("write while the transport reads: %v", err)
		}
		tr.Close()
		if _, err := asyncio.Await(ctx, p.done); err != nil {
			return 0, err
		}
		if p.lostErr != nil {
			t.Errorf("ConnectionLost(%v), want nil", p.lostErr)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("y")); !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("write after ConnectionLost: %v, want EPIPE (the read end closed)", err)
	}
}

// UnixWritePipeTransportTests.test_write_partial and test_write_buffer:
// what the pipe does not take of a Write is buffered; a Write while data
// is buffered goes behind it, whole, without reaching the pipe first; the
// reader then gets everything in order.
func TestUnixEvents_test_write_partial(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	data, more := pattern(100<<10), []byte("MORE")
	got := make(chan []byte, 1)
	release := make(chan struct{})
	go func() {
		<-release
		b, _ := io.ReadAll(r)
		got <- b
	}()
	var releaseOnce sync.Once
	releaseReader := func() { releaseOnce.Do(func() { close(release) }) }
	defer releaseReader()
	_, err = runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, l)
		tr, _, err := asyncio.ConnectWritePipe(ctx, func() *recProto { return p }, w)
		if err != nil {
			return 0, err
		}
		tr.Write(data)
		n := tr.GetWriteBufferSize()
		if n == 0 || n >= len(data) {
			t.Errorf("buffered %d of %d, want a part (the pipe holds 64 KiB)", n, len(data))
		}
		tr.Write(more)
		if m := tr.GetWriteBufferSize(); m != n+len(more) {
			t.Errorf("buffered %d after a Write behind %d, want %d", m, n, n+len(more))
		}
		releaseReader()
		tr.Close()
		_, err = asyncio.Await(ctx, p.done)
		return 0, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if b := <-got; !bytes.Equal(b, append(data, more...)) {
		t.Fatalf("reader got %d bytes, not the %d written in order", len(b), len(data)+len(more))
	}
}

// UnixWritePipeTransportTests.test_write_again: a Write to a pipe that is
// already full (filled through another descriptor) is buffered whole.
func TestUnixEvents_test_write_again(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w2, err := os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", w.Fd()), os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("a second descriptor of the pipe: %v", err)
	}
	defer w2.Close()
	fd2 := int(w2.Fd()) // Fd makes it blocking: once, before SetNonblock
	syscall.SetNonblock(fd2, true)
	filled := 0
	for {
		n, err := syscall.Write(fd2, make([]byte, 4096))
		if err != nil {
			break
		}
		filled += n
	}
	_, err = runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, l)
		tr, _, err := asyncio.ConnectWritePipe(ctx, func() *recProto { return p }, w)
		if err != nil {
			return 0, err
		}
		tr.Write([]byte("data"))
		if n := tr.GetWriteBufferSize(); n != 4 {
			t.Errorf("buffered %d, want all 4 bytes (the pipe is full)", n)
		}
		tr.Abort()
		_, err = asyncio.Await(ctx, p.done)
		return 0, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if filled == 0 {
		t.Fatal("could not fill the pipe")
	}
}

// UnixWritePipeTransportTests.test__write_ready, test__write_ready_partial
// and test__write_ready_again: as the reader drains the pipe a little at a
// time, the buffer goes out in order, part by part (some wake-ups find
// the pipe full again and wait); once empty, the transport stays open and
// a new Write goes straight to the pipe.
func TestUnixEvents_test__write_ready(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	data := pattern(1 << 20)
	got := make(chan []byte, 1)
	go func() {
		var all bytes.Buffer
		b := make([]byte, 4096)
		for all.Len() < len(data)+1 {
			n, err := r.Read(b)
			if err != nil {
				break
			}
			all.Write(b[:n])
		}
		got <- all.Bytes()
	}()
	_, err = runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, l)
		tr, _, err := asyncio.ConnectWritePipe(ctx, func() *recProto { return p }, w)
		if err != nil {
			return 0, err
		}
		tr.SetWriteBufferLimits(1<<30, -1)
		tr.Write(data)
		for tr.GetWriteBufferSize() > 0 {
			if err := asyncio.Sleep(ctx, time.Millisecond); err != nil {
				return 0, err
			}
		}
		if tr.IsClosing() || p.state != "CONNECTED" {
			t.Errorf("closing %v, state %s once the buffer is out", tr.IsClosing(), p.state)
		}
		tr.Write([]byte("!"))
		if n := tr.GetWriteBufferSize(); n != 0 {
			t.Errorf("a Write with the buffer empty buffered %d", n)
		}
		tr.Close()
		_, err = asyncio.Await(ctx, p.done)
		return 0, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if b := <-got; !bytes.Equal(b, append(data, '!')) {
		t.Fatalf("reader got %d bytes, not the %d written in order", len(b), len(data)+1)
	}
}

// TestFunctional.test_add_reader_invalid_argument: AddReader, AddWriter,
// RemoveReader and RemoveWriter refuse what is not a file descriptor
// (ErrInvalidFd), and watch or unwatch nothing.
func TestUnixEvents_test_add_reader_invalid_argument(t *testing.T) {
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		for _, fd := range []int{-1, -100} {
			if err := l.AddReader(fd, func(context.Context) {}); !errors.Is(err, asyncio.ErrInvalidFd) {
				t.Errorf("AddReader(%d): %v, want ErrInvalidFd", fd, err)
			}
			if err := l.AddWriter(fd, func(context.Context) {}); !errors.Is(err, asyncio.ErrInvalidFd) {
				t.Errorf("AddWriter(%d): %v, want ErrInvalidFd", fd, err)
			}
			if ok, err := l.RemoveReader(fd); ok || !errors.Is(err, asyncio.ErrInvalidFd) {
				t.Errorf("RemoveReader(%d) = %v, %v; want false, ErrInvalidFd", fd, ok, err)
			}
			if ok, err := l.RemoveWriter(fd); ok || !errors.Is(err, asyncio.ErrInvalidFd) {
				t.Errorf("RemoveWriter(%d) = %v, %v; want false, ErrInvalidFd", fd, ok, err)
			}
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
