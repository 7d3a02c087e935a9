//go:build unix

package asyncio_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"golang.org/x/sys/unix"
)

func TestUnixReadPipe_test_read_pipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	got, err := runProcLoop(t, func(ctx context.Context) (string, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, l)
		tr, _, err := asyncio.ConnectReadPipe(ctx, func() *recProto { return p }, r)
		if err != nil {
			return "", err
		}
		if p.state != "CONNECTED" {
			t.Errorf("state %s after ConnectReadPipe", p.state)
		}
		if err := tr.Write([]byte("x")); !errors.Is(err, asyncio.ErrReadOnlyPipe) {
			t.Errorf("Write on a read pipe: %v", err)
		}
		w.Write([]byte("1"))
		p.gotData.Wait(ctx)
		p.gotData.Clear()
		w.Write([]byte("2345"))
		w.Close()
		if _, err := asyncio.Await(ctx, p.done); err != nil {
			return "", err
		}
		if p.state != "CLOSED" || p.lostErr != nil {
			t.Errorf("state %s, lost with %v", p.state, p.lostErr)
		}
		return p.data.String(), nil
	})
	if err != nil || got != "12345" {
		t.Fatalf("%q %v", got, err)
	}
}

func TestUnixReadPipe_test_pause_resume_reading(t *testing.T) {
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
		tr.PauseReading()
		if tr.IsReading() {
			t.Error("IsReading after PauseReading")
		}
		w.Write([]byte("data"))
		for i := 0; i < 5; i++ {
			asyncio.Sleep(ctx, 0)
		}
		if p.data.Len() != 0 {
			t.Errorf("read %q while paused", p.data.String())
		}
		tr.ResumeReading()
		p.gotData.Wait(ctx)
		if p.data.String() != "data" {
			t.Errorf("read %q", p.data.String())
		}
		tr.Close()
		_, err = asyncio.Await(ctx, p.done)
		return 0, err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestUnixReadPipe_regular_file_refused(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = runProcLoop(t, func(ctx context.Context) (int, error) {
		_, _, err := asyncio.ConnectReadPipe(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, f)
		return 0, err
	})
	if !errors.Is(err, asyncio.ErrNotAPipe) {
		t.Fatalf("err %v, want ErrNotAPipe", err)
	}
}

func TestUnixReadPipe_fifo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(path, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	got, err := runProcLoop(t, func(ctx context.Context) (string, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		rf, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			return "", err
		}
		wf, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return "", err
		}
		p := newRecProto(t, l)
		if _, _, err := asyncio.ConnectReadPipe(ctx, func() *recProto { return p }, rf); err != nil {
			return "", err
		}
		wp := newRecProto(t, l)
		wt, _, err := asyncio.ConnectWritePipe(ctx, func() *recProto { return wp }, wf)
		if err != nil {
			return "", err
		}
		wt.Write([]byte("through the fifo"))
		wt.Close()
		if _, err := asyncio.Await(ctx, p.done); err != nil {
			return "", err
		}
		return p.data.String(), nil
	})
	if err != nil || got != "through the fifo" {
		t.Fatalf("%q %v", got, err)
	}
}

func TestUnixWritePipe_test_write_pipe_flow_control(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	const n = 4 << 20
	read := make(chan int, 1)
	release := make(chan struct{})
	go func() {
		<-release
		b, _ := io.ReadAll(r)
		read <- len(b)
	}()
	_, err = runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, l)
		tr, _, err := asyncio.ConnectWritePipe(ctx, func() *recProto { return p }, w)
		if err != nil {
			return 0, err
		}
		if tr.IsReading() {
			t.Error("a write pipe is reading")
		}
		tr.SetWriteBufferLimits(128*1024, 32*1024)
		tr.Write(make([]byte, n))
		if len(p.pauses) != 1 || p.pauses[0] <= 128*1024 {
			t.Errorf("pauses %v after a big write", p.pauses)
		}
		close(release)
		tr.Close()
		if _, err := asyncio.Await(ctx, p.done); err != nil {
			return 0, err
		}
		if len(p.pauses) != 2 || -p.pauses[1] > 32*1024 || p.lostErr != nil {
			t.Errorf("pauses %v, lost %v", p.pauses, p.lostErr)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := <-read; got != n {
		t.Fatalf("reader got %d bytes, want %d", got, n)
	}
}

func TestUnixWritePipe_test__read_ready_reader_closed(t *testing.T) {
	// The reading end closes: nothing buffered, ConnectionLost(nil); with
	// data buffered, ConnectionLost(EPIPE).
	for _, buffered := range []bool{false, true} {
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
			if buffered {
				tr.Write(make([]byte, 1<<20))
			}
			r.Close()
			if _, err := asyncio.Await(ctx, p.done); err != nil {
				return 0, err
			}
			if buffered != errors.Is(p.lostErr, syscall.EPIPE) {
				t.Errorf("buffered %v: lost with %v", buffered, p.lostErr)
			}
			return 0, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestUnixPipes_teardown_closes_them(t *testing.T) {
	runtime.GC()
	fds0 := openFds(t)
	r1, w1, _ := os.Pipe()
	r2, w2, _ := os.Pipe()
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		if _, _, err := asyncio.ConnectReadPipe(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, r1); err != nil {
			return 0, err
		}
		tr, _, err := asyncio.ConnectWritePipe(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, w2)
		if err != nil {
			return 0, err
		}
		tr.Write(make([]byte, 1<<20))
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	w1.Close()
	r2.Close()
	if fds := openFds(t); fds != fds0 {
		t.Errorf("fds %d before, %d after", fds0, fds)
	}
}

func TestUnixWritePipe_test_write_eof_pending_abort_and_write_after_close(t *testing.T) {
	for _, abort := range []bool{false, true} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		read := make(chan int, 1)
		release := make(chan struct{})
		go func() {
			<-release
			b, _ := io.ReadAll(r)
			r.Close()
			read <- len(b)
		}()
		_, err = runProcLoop(t, func(ctx context.Context) (int, error) {
			l, _ := asyncio.GetRunningLoop(ctx)
			p := newRecProto(t, l)
			tr, _, err := asyncio.ConnectWritePipe(ctx, func() *recProto { return p }, w)
			if err != nil {
				return 0, err
			}
			tr.SetWriteBufferLimits(1<<30, -1)
			tr.Write(make([]byte, 1<<20)) // more than the pipe holds: some is buffered
			if tr.GetWriteBufferSize() == 0 {
				t.Error("nothing buffered")
			}
			if abort {
				tr.Abort()
			} else {
				tr.WriteEOF()
				tr.Close() // a second close does nothing
			}
			if !tr.IsClosing() {
				t.Error("not closing")
			}
			if err := tr.Write([]byte("x")); !errors.Is(err, asyncio.ErrTransportClosing) {
				t.Errorf("Write after close: %v", err)
			}
			close(release)
			if _, err := asyncio.Await(ctx, p.done); err != nil {
				return 0, err
			}
			if p.lostErr != nil {
				t.Errorf("lost with %v", p.lostErr)
			}
			return 0, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		n := <-read
		if !abort && n != 1<<20 {
			t.Errorf("WriteEOF: reader got %d bytes, want all", n)
		}
		if abort && n >= 1<<20 {
			t.Errorf("Abort: reader got %d bytes, want the buffer dropped", n)
		}
	}
}

func TestUnixReadPipe_test__read_ready_eof_protocol_order(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	_, err = runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, l)
		if _, _, err := asyncio.ConnectReadPipe(ctx, func() *recProto { return p }, r); err != nil {
			return 0, err
		}
		w.Close()
		if _, err := asyncio.Await(ctx, p.done); err != nil {
			return 0, err
		}
		// recProto checks the order: ConnectionMade, EOFReceived, ConnectionLost.
		if p.state != "CLOSED" || p.lostErr != nil {
			t.Errorf("state %s lost %v", p.state, p.lostErr)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
