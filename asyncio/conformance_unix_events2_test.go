//go:build unix

package asyncio_test

// More of CPython's Lib/test/test_asyncio/test_unix_events.py: Unix
// socket servers, the write pipe's WriteEOF, SockSendfile's cancellation
// and the child watcher's two children exiting together.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// SelectorEventLoopUnixSocketTests.test_create_unix_server_existing_path_sock:
// a stale socket file left at the path is replaced, and the server works.
func TestUnixEvents_test_create_unix_server_existing_path_sock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sock")
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	syscall.Listen(fd, 1)
	syscall.Close(fd) // the file stays: a stale socket
	_, err = runProcLoop(t, func(ctx context.Context) (int, error) {
		srv, err := asyncio.CreateUnixServer(ctx, func() *echoProto { return &echoProto{} }, path, nil)
		if err != nil {
			return 0, err
		}
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Errorf("dial the new server: %v", err)
		} else {
			c.Close()
		}
		srv.Close()
		return 0, srv.WaitClosed(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket file after Close: %v, want removed", err)
	}
}

// test_create_unix_server_existing_path_nonsock: a regular file at the
// path is not removed, and the server fails with EADDRINUSE.
func TestUnixEvents_test_create_unix_server_existing_path_nonsock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(path, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		srv, err := asyncio.CreateUnixServer(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, path, nil)
		if !errors.Is(err, syscall.EADDRINUSE) {
			t.Errorf("CreateUnixServer on a regular file: %v, want EADDRINUSE", err)
		}
		if srv != nil {
			srv.Close()
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "keep" {
		t.Fatalf("the regular file: %q, %v; want it untouched", b, err)
	}
}

// test_create_unix_connection_pathlib: connecting to a path where nothing
// is fails with "file not found".
func TestUnixEvents_test_create_unix_connection_no_such_path(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nothing")
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		_, _, err := asyncio.CreateUnixConnection(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, path, nil)
		if !errors.Is(err, syscall.ENOENT) && !errors.Is(err, os.ErrNotExist) {
			t.Errorf("CreateUnixConnection: %v, want ENOENT", err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// UnixWritePipeTransportTests.test_write_eof: WriteEOF with nothing
// buffered closes at once: IsClosing, ConnectionLost(nil), and the reader
// sees end of file after what was written.
func TestUnixEvents_test_write_eof(t *testing.T) {
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
		tr.Write([]byte("last"))
		tr.WriteEOF()
		if !tr.IsClosing() {
			t.Error("IsClosing after WriteEOF, want true")
		}
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
	b, err := io.ReadAll(r)
	if err != nil || string(b) != "last" {
		t.Fatalf("reader got %q, %v; want \"last\" then EOF", b, err)
	}
}

// SelectorEventLoopUnixSockSendfileTests.test_sock_sendfile_cancel1:
// cancelling a SockSendfile blocked on a full socket returns the
// CancelledError and leaves the socket free: a later SockSendall on it
// works.
func TestUnixEvents_test_sock_sendfile_cancel1(t *testing.T) {
	f, _ := sendfileData(t, 32<<20)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	var releaseOnce sync.Once
	releasePeer := func() { releaseOnce.Do(func() { close(release) }) }
	defer releasePeer()
	got := make(chan []byte, 1)
	go func() {
		defer ln.Close()
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		<-release
		b, _ := io.ReadAll(c)
		got <- b
	}()
	sock := newSock(t, syscall.AF_INET, syscall.SOCK_STREAM)
	syscall.SetsockoptInt(rawFd(sock), syscall.SOL_SOCKET, syscall.SO_SNDBUF, 4096)
	_, err = runMain(t, func(ctx context.Context) (int, error) {
		defer releasePeer()
		if err := asyncio.SockConnect(ctx, sock, ln.Addr()); err != nil {
			return 0, err
		}
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (int64, error) {
			return asyncio.SockSendfile(ctx, sock, f, 0, 0)
		})
		if err := asyncio.Sleep(ctx, 100*time.Millisecond); err != nil {
			return 0, err
		}
		if task.Done() {
			t.Error("SockSendfile done with a peer that does not read")
			return 0, nil
		}
		task.Cancel()
		_, err := asyncio.Await(ctx, task)
		var ce *asyncio.CancelledError
		if !errors.As(err, &ce) {
			t.Errorf("cancelled SockSendfile: %v, want a CancelledError", err)
		}
		releasePeer()
		if err := asyncio.SockSendall(ctx, sock, []byte("THE-END")); err != nil {
			t.Errorf("SockSendall after the cancel: %v", err)
		}
		syscall.Shutdown(rawFd(sock), syscall.SHUT_WR)
		return 0, nil
	})
	releasePeer()
	if err != nil {
		t.Fatal(err)
	}
	if b := <-got; !bytes.HasSuffix(b, []byte("THE-END")) {
		t.Fatalf("peer got %d bytes not ending with the later send", len(b))
	}
}

// ChildWatcherTestsMixin.test_sigchld_two_children_terminating_together,
// with real children: two children killed at once are both reaped, each
// with its own status.
func TestUnixEvents_test_sigchld_two_children_terminating_together(t *testing.T) {
	defer noChildren(t)
	rcs, err := runProcLoop(t, func(ctx context.Context) ([2]int, error) {
		a, err := asyncio.CreateSubprocessExec(ctx, nil, "sleep", "3600")
		if err != nil {
			return [2]int{}, err
		}
		b, err := asyncio.CreateSubprocessExec(ctx, nil, "sleep", "3600")
		if err != nil {
			return [2]int{}, err
		}
		a.SendSignal(syscall.SIGTERM)
		b.Kill()
		ra, err := a.Wait(ctx)
		if err != nil {
			return [2]int{}, err
		}
		rb, err := b.Wait(ctx)
		return [2]int{ra, rb}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if rcs != [2]int{-int(syscall.SIGTERM), -int(syscall.SIGKILL)} {
		t.Fatalf("return codes %v, want [-15 -9]", rcs)
	}
}

// UnixWritePipeTransportTests.test__write_ready_closing and test_close:
// Close with data still buffered stops taking writes at once, sends all
// that is buffered as the reader drains, then loses the connection with
// nil.
func TestUnixEvents_test__write_ready_closing(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	read := make(chan int, 1)
	go func() {
		<-release
		b, _ := io.ReadAll(r)
		r.Close()
		read <- len(b)
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
		tr.SetWriteBufferLimits(1<<30, -1)
		tr.Write(make([]byte, 1<<20)) // more than the pipe holds
		if tr.GetWriteBufferSize() == 0 {
			t.Error("nothing buffered")
		}
		tr.Close()
		if err := tr.Write([]byte("x")); !errors.Is(err, asyncio.ErrTransportClosing) {
			t.Errorf("Write after Close: %v, want ErrTransportClosing", err)
		}
		if p.state != "CONNECTED" {
			t.Errorf("state %s right after Close with data buffered, want CONNECTED", p.state)
		}
		releaseReader()
		if _, err := asyncio.Await(ctx, p.done); err != nil {
			return 0, err
		}
		if p.lostErr != nil {
			t.Errorf("ConnectionLost(%v), want nil", p.lostErr)
		}
		return 0, nil
	})
	releaseReader()
	if err != nil {
		t.Fatal(err)
	}
	if n := <-read; n != 1<<20 {
		t.Fatalf("reader got %d bytes, want all %d", n, 1<<20)
	}
}
