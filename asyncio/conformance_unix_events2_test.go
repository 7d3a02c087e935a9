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

// SelectorEventLoopSignalTests.test_add_signal_handler_install_error2
// and _install_error3: a handler that cannot be installed (an uncatchable
// signal) is refused and leaves the loop as it was: with no other
// handler, a later one installs and runs; with one installed, that one
// keeps running.
func TestUnixEvents_test_add_signal_handler_install_error2(t *testing.T) {
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		if err := l.AddSignalHandler(syscall.SIGKILL, func(context.Context) {}); !errors.Is(err, asyncio.ErrUncatchableSignal) {
			t.Errorf("AddSignalHandler(SIGKILL) with no handler: %v, want ErrUncatchableSignal", err)
		}
		got := asyncio.NewFuture[struct{}](l)
		if err := l.AddSignalHandler(syscall.SIGHUP, func(context.Context) {
			if !got.Done() {
				got.SetResult(struct{}{})
			}
		}); err != nil {
			return 0, err
		}
		if err := l.AddSignalHandler(syscall.SIGSTOP, func(context.Context) {}); !errors.Is(err, asyncio.ErrUncatchableSignal) {
			t.Errorf("AddSignalHandler(SIGSTOP) beside SIGHUP's: %v, want ErrUncatchableSignal", err)
		}
		raise(syscall.SIGHUP)
		if _, err := asyncio.WaitFor(ctx, got, 10*time.Second); err != nil {
			t.Errorf("the SIGHUP handler after a refused install: %v", err)
		}
		if ok, err := l.RemoveSignalHandler(syscall.SIGHUP); !ok || err != nil {
			t.Errorf("RemoveSignalHandler(SIGHUP) = %v, %v", ok, err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// SelectorEventLoopUnixSocketTests.test_create_unix_server_nopath_nosock
// and test_create_unix_connection_nopath_nosock: an empty path is refused
// (ErrNoPath), not bound or connected to an address the kernel picks.
func TestUnixEvents_test_create_unix_server_nopath_nosock(t *testing.T) {
	fds0 := openFds(t)
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		srv, err := asyncio.CreateUnixServer(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, "", nil)
		if !errors.Is(err, asyncio.ErrNoPath) {
			t.Errorf("CreateUnixServer(\"\") = %v, want ErrNoPath", err)
		}
		if srv != nil {
			srv.Close()
		}
		tr, _, err := asyncio.CreateUnixConnection(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, "", nil)
		if !errors.Is(err, asyncio.ErrNoPath) {
			t.Errorf("CreateUnixConnection(\"\") = %v, want ErrNoPath", err)
		}
		if tr != nil {
			tr.Close()
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fds := openFds(t); fds != fds0 {
		t.Fatalf("fds %d before, %d after", fds0, fds)
	}
}

// SelectorEventLoopUnixSocketTests.test_create_unix_server_bind_error: a
// bind that fails (the directory does not exist) returns its error and
// leaves no socket open.
func TestUnixEvents_test_create_unix_server_bind_error(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "sock")
	fds0 := openFds(t)
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		srv, err := asyncio.CreateUnixServer(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, path, nil)
		if !errors.Is(err, syscall.ENOENT) {
			t.Errorf("CreateUnixServer in a missing directory: %v, want ENOENT", err)
		}
		if srv != nil {
			srv.Close()
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fds := openFds(t); fds != fds0 {
		t.Fatalf("fds %d before, %d after", fds0, fds)
	}
}

// SelectorEventLoopUnixSockSendfileTests.test_sock_sendfile_blocking_error:
// sendfile(2) meeting a full socket (EAGAIN) waits until the peer reads,
// then goes on: all of the file arrives.
func TestUnixEvents_test_sock_sendfile_blocking_error(t *testing.T) {
	f, data := sendfileData(t, 4<<20)
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
		time.Sleep(100 * time.Millisecond) // the sender fills the socket meanwhile
		b, _ := io.ReadAll(c)
		got <- b
	}()
	sock := newSock(t, syscall.AF_INET, syscall.SOCK_STREAM)
	syscall.SetsockoptInt(rawFd(sock), syscall.SOL_SOCKET, syscall.SO_SNDBUF, 4096)
	_, err = runMain(t, func(ctx context.Context) (int, error) {
		if err := asyncio.SockConnect(ctx, sock, ln.Addr()); err != nil {
			return 0, err
		}
		n, err := asyncio.SockSendfile(ctx, sock, f, 0, 0)
		if err != nil || n != int64(len(data)) {
			t.Errorf("SockSendfile = %d, %v; want %d, nil", n, err, len(data))
		}
		syscall.Shutdown(rawFd(sock), syscall.SHUT_WR)
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if b := <-got; !bytes.Equal(b, data) {
		t.Fatalf("peer got %d bytes, want the file's %d", len(b), len(data))
	}
}

// SelectorEventLoopUnixSockSendfileTests.test_sock_sendfile_os_error_next_call
// and test_sock_sendfile_exception: sendfile(2) failing after part of the
// file went (the peer resets the connection) returns that error, and
// leaves the file's offset after what was sent (offset 1000 plus the
// count returned).
func TestUnixEvents_test_sock_sendfile_os_error_next_call(t *testing.T) {
	f, data := sendfileData(t, 8<<20)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer ln.Close()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		io.ReadFull(c, make([]byte, 64<<10))
		c.(*net.TCPConn).SetLinger(0) // close with a reset
		c.Close()
	}()
	sock := newSock(t, syscall.AF_INET, syscall.SOCK_STREAM)
	_, err = runMain(t, func(ctx context.Context) (int, error) {
		if err := asyncio.SockConnect(ctx, sock, ln.Addr()); err != nil {
			return 0, err
		}
		n, err := asyncio.SockSendfile(ctx, sock, f, 1000, 0)
		if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
			t.Errorf("SockSendfile to a peer that resets: %v, want ECONNRESET or EPIPE", err)
		}
		if n < 64<<10 || n >= int64(len(data)-1000) {
			t.Errorf("SockSendfile sent %d, want part of the file", n)
		}
		if pos, _ := f.Seek(0, io.SeekCurrent); pos != 1000+n {
			t.Errorf("file position %d, want 1000+%d", pos, n)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ChildWatcherTestsMixin.test_sigchld and test_sigchld_two_children:
// children exiting at different times are each reported once, with their
// own status.
func TestUnixEvents_test_sigchld_two_children(t *testing.T) {
	defer noChildren(t)
	rcs, err := runProcLoop(t, func(ctx context.Context) ([2]int, error) {
		a, err := asyncio.CreateSubprocessShell(ctx, nil, "exit 3")
		if err != nil {
			return [2]int{}, err
		}
		b, err := asyncio.CreateSubprocessShell(ctx, nil, "sleep 0.2; exit 4")
		if err != nil {
			return [2]int{}, err
		}
		ra, err := a.Wait(ctx)
		if err != nil {
			return [2]int{}, err
		}
		if _, exited := b.Returncode(); exited {
			t.Error("the second child reported exited with the first")
		}
		rb, err := b.Wait(ctx)
		return [2]int{ra, rb}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if rcs != [2]int{3, 4} {
		t.Fatalf("return codes %v, want [3 4]", rcs)
	}
}

// ChildWatcherTestsMixin.test_sigchld_race_condition: a child that has
// exited before anyone waits for it (the loop was busy) is still
// reported, with its status.
func TestUnixEvents_test_sigchld_race_condition(t *testing.T) {
	defer noChildren(t)
	rc, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		p, err := asyncio.CreateSubprocessShell(ctx, nil, "exit 7")
		if err != nil {
			return 0, err
		}
		time.Sleep(300 * time.Millisecond) // the loop is busy while the child exits
		return p.Wait(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
	if rc != 7 {
		t.Fatalf("return code %d, want 7", rc)
	}
}

// ChildWatcherTestsMixin.test_sigchld_child_reaped_elsewhere: when other
// code reaps the loop's child behind its back (wait4 on its pid), Wait
// still returns (with -1, where asyncio says 255), and nothing hangs.
func TestUnixEvents_test_sigchld_child_reaped_elsewhere(t *testing.T) {
	defer noChildren(t)
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		p, err := asyncio.CreateSubprocessShell(ctx, nil, "sleep 0.2; exit 5")
		if err != nil {
			return 0, err
		}
		pid := p.Pid()
		reaped, err := asyncio.ToThread(ctx, func(context.Context) (int, error) {
			var ws syscall.WaitStatus
			wpid, err := syscall.Wait4(pid, &ws, 0, nil)
			if err != nil {
				return -1, nil // the loop reaped it first
			}
			if wpid != pid {
				t.Errorf("wait4 returned pid %d, want %d", wpid, pid)
			}
			return ws.ExitStatus(), nil
		})
		if err != nil {
			return 0, err
		}
		rc, err := asyncio.WaitFor(ctx, asyncio.CreateTask(ctx, p.Wait), 10*time.Second)
		if err != nil {
			t.Errorf("Wait after the child was reaped elsewhere: %v", err)
		}
		switch {
		case reaped == 5 && rc != -1:
			t.Errorf("reaped elsewhere with status 5; Wait = %d, want -1", rc)
		case reaped == -1 && rc != 5:
			t.Errorf("the loop reaped it; Wait = %d, want 5", rc)
		case reaped != 5 && reaped != -1:
			t.Errorf("wait4 saw status %d, want 5", reaped)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
