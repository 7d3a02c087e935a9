//go:build unix

package asyncio_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// startServer1 is test_server.py's BaseStartServer test_start_server_1
// and test_start_unix_server_1: a server made with NoStartServing is not
// serving; ServeForever serves; the client's handler cancels the main
// task (ServeForever) while answering, which closes the server: no
// sockets, not serving, and a later ServeForever is refused.
func startServer1(t *testing.T, network string, start func(ctx context.Context, serve func(ctx context.Context, r *asyncio.StreamReader, w *asyncio.StreamWriter) error) (*asyncio.Server, error)) {
	hello := strings.Repeat("1", 1024*5) + "\n"
	var clients sync.WaitGroup
	defer clients.Wait()
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		var mainTask *asyncio.Task[int]
		served := false
		srv, err := start(ctx, func(ctx context.Context, r *asyncio.StreamReader, w *asyncio.StreamWriter) error {
			line, err := r.ReadLine(ctx)
			if err != nil || string(line) != hello {
				t.Errorf("ReadLine = %d bytes, %v", len(line), err)
			}
			served = true
			mainTask.Cancel()
			w.Write([]byte("1"))
			w.Close()
			return w.WaitClosed(ctx)
		})
		if err != nil {
			return 0, err
		}
		addr := srv.Sockets()[0]
		mainTask = asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			defer srv.Close() // async with srv
			return 0, srv.ServeForever(ctx)
		})
		asyncio.Sleep(ctx, 0)
		if !srv.IsServing() {
			t.Error("not serving in ServeForever")
		}
		got := make(chan string, 1)
		clients.Add(1)
		go func() {
			defer clients.Done()
			c, err := net.DialTimeout(network, addr.String(), 10*time.Second)
			if err != nil {
				got <- err.Error()
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			c.Write([]byte(hello))
			b := make([]byte, 1)
			n, _ := c.Read(b)
			got <- string(b[:n])
		}()
		if _, err := asyncio.Await(ctx, mainTask); !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("main task = %v, want cancelled", err)
		}
		if !served {
			t.Error("the handler did not run")
		}
		if len(srv.Sockets()) != 0 {
			t.Errorf("sockets after close: %v", srv.Sockets())
		}
		if srv.IsServing() {
			t.Error("serving after close")
		}
		if err := srv.ServeForever(ctx); !errors.Is(err, asyncio.ErrServerClosed) {
			t.Errorf("ServeForever on a closed server = %v, want ErrServerClosed", err)
		}
		s, err := asyncio.Await(ctx, asyncio.RunTrio(ctx, func(context.Context) (string, error) { return <-got, nil }))
		if err != nil || s != "1" {
			t.Errorf("client got %q, %v; want \"1\"", s, err)
		}
		return 0, srv.WaitClosed(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_server.py: test_start_server_1.
func TestServer_test_start_server_1(t *testing.T) {
	startServer1(t, "tcp", func(ctx context.Context, serve func(ctx context.Context, r *asyncio.StreamReader, w *asyncio.StreamWriter) error) (*asyncio.Server, error) {
		srv, err := asyncio.StartServer(ctx, serve, "127.0.0.1", 0, &asyncio.ServerOptions{NoStartServing: true})
		if err == nil && srv.IsServing() {
			t.Error("serving with NoStartServing")
		}
		return srv, err
	})
}

// test_server.py: test_start_unix_server_1 (StartServing before
// ServeForever, as upstream).
func TestServer_test_start_unix_server_1(t *testing.T) {
	path := t.TempDir() + "/srv"
	startServer1(t, "unix", func(ctx context.Context, serve func(ctx context.Context, r *asyncio.StreamReader, w *asyncio.StreamWriter) error) (*asyncio.Server, error) {
		srv, err := asyncio.StartUnixServer(ctx, serve, path, &asyncio.ServerOptions{NoStartServing: true})
		if err != nil {
			return nil, err
		}
		if srv.IsServing() {
			t.Error("serving with NoStartServing")
		}
		if err := srv.StartServing(); err != nil {
			t.Errorf("StartServing = %v", err)
		}
		if !srv.IsServing() {
			t.Error("not serving after StartServing")
		}
		return srv, nil
	})
}

// test_server.py: test_wait_closed_race (3.12.1), its public part: a
// WaitClosed started before the server closes waits, and returns once
// Close runs from a later callback. (Upstream also calls the private
// _attach/_detach to hold the server open around the close.)
func TestServer_test_wait_closed_race(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		srv, err := asyncio.StartServer(ctx, func(context.Context, *asyncio.StreamReader, *asyncio.StreamWriter) error { return nil }, "127.0.0.1", 0, nil)
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) { return 0, srv.WaitClosed(ctx) })
		asyncio.Sleep(ctx, 0)
		if task.Done() {
			t.Error("WaitClosed returned on an open server")
		}
		loop.CallSoon(func(context.Context) { srv.Close() })
		if err := srv.WaitClosed(ctx); err != nil {
			t.Errorf("WaitClosed = %v", err)
		}
		_, err = asyncio.Await(ctx, task)
		return 0, err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_server.py (3.13): test_unix_server_addr_cleanup: closing a Unix
// server removes its socket file.
func TestServer_test_unix_server_addr_cleanup(t *testing.T) {
	path := t.TempDir() + "/srv"
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		srv, err := asyncio.StartUnixServer(ctx, func(context.Context, *asyncio.StreamReader, *asyncio.StreamWriter) error { return nil }, path, nil)
		if err != nil {
			return 0, err
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("socket file while serving: %v", err)
		}
		srv.Close()
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("socket file after Close: %v, want it gone", err)
		}
		return 0, srv.WaitClosed(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_server.py (3.13): test_unix_server_cleanup_gone: the socket file
// already removed by someone else, Close does not fail.
func TestServer_test_unix_server_cleanup_gone(t *testing.T) {
	path := t.TempDir() + "/srv"
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		srv, err := asyncio.StartUnixServer(ctx, func(context.Context, *asyncio.StreamReader, *asyncio.StreamWriter) error { return nil }, path, nil)
		if err != nil {
			return 0, err
		}
		os.Remove(path)
		srv.Close()
		return 0, srv.WaitClosed(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// readThenClose is test_server.py's serve: read to the end, then close
// the writer and wait for it.
func readThenClose(ctx context.Context, r *asyncio.StreamReader, w *asyncio.StreamWriter) error {
	_, err := r.Read(ctx, -1)
	w.Close()
	if werr := w.WaitClosed(ctx); err == nil {
		err = werr
	}
	return err
}

// test_server.py: test_wait_closed_basic: WaitClosed waits while the
// server is open, and while it is closed but a connection is still
// active; it returns once both are over, and at once after that. (The
// test waits for the server's handler to start before counting the
// connection as active.)
func TestServer_test_wait_closed_basic(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		accepted := asyncio.NewFuture[struct{}](loop)
		srv, err := asyncio.StartServer(ctx, func(ctx context.Context, r *asyncio.StreamReader, w *asyncio.StreamWriter) error {
			accepted.SetResult(struct{}{})
			return readThenClose(ctx, r, w)
		}, "127.0.0.1", 0, nil)
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		waitClosed := func() *asyncio.Task[int] {
			return asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) { return 0, srv.WaitClosed(ctx) })
		}
		task1 := waitClosed()
		asyncio.Sleep(ctx, 0)
		if task1.Done() {
			t.Error("WaitClosed returned: not closed, no connection")
		}
		_, w, err := asyncio.OpenConnection(ctx, "127.0.0.1", mustAddr(t, srv).Port, nil)
		if err != nil {
			return 0, err
		}
		// The server has the connection (its accept runs on the loop,
		// after the poller saw the listener readable).
		if _, err := asyncio.WaitFor[struct{}](ctx, accepted, 30*time.Second); err != nil {
			return 0, err
		}
		task2 := waitClosed()
		asyncio.Sleep(ctx, 0)
		if task1.Done() || task2.Done() {
			t.Error("WaitClosed returned: not closed, one connection")
		}
		srv.Close()
		asyncio.Sleep(ctx, 0)
		task3 := waitClosed()
		asyncio.Sleep(ctx, 0)
		if task1.Done() || task2.Done() || task3.Done() {
			t.Error("WaitClosed returned: closed, one connection")
		}
		w.Close()
		if err := w.WaitClosed(ctx); err != nil {
			return 0, err
		}
		for _, task := range []*asyncio.Task[int]{task1, task2, task3} {
			if _, err := asyncio.WaitFor[int](ctx, task, 30*time.Second); err != nil {
				return 0, err
			}
		}
		return 0, srv.WaitClosed(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_server.py: test_close_clients: Close and CloseClients end the
// server's connection, and WaitClosed returns within two iterations.
func TestServer_test_close_clients(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		accepted := asyncio.NewFuture[struct{}](loop)
		srv, err := asyncio.StartServer(ctx, func(ctx context.Context, r *asyncio.StreamReader, w *asyncio.StreamWriter) error {
			accepted.SetResult(struct{}{})
			return readThenClose(ctx, r, w)
		}, "127.0.0.1", 0, nil)
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		_, w, err := asyncio.OpenConnection(ctx, "127.0.0.1", mustAddr(t, srv).Port, nil)
		if err != nil {
			return 0, err
		}
		defer w.Close()
		if _, err := asyncio.WaitFor[struct{}](ctx, accepted, 30*time.Second); err != nil {
			return 0, err
		}
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) { return 0, srv.WaitClosed(ctx) })
		asyncio.Sleep(ctx, 0)
		if task.Done() {
			t.Error("WaitClosed returned before the close")
		}
		srv.Close()
		srv.CloseClients()
		asyncio.Sleep(ctx, 0)
		asyncio.Sleep(ctx, 0)
		if !task.Done() {
			t.Error("WaitClosed still waits two iterations after Close and CloseClients")
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_server.py: test_abort_clients: the server's side of a connection
// has data it cannot send (the client does not read: its reader is
// paused, the kernel buffers are full); Close and AbortClients end it
// all the same, and WaitClosed returns within two iterations.
func TestServer_test_abort_clients(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		serverSide := asyncio.NewFuture[*asyncio.StreamWriter](loop)
		srv, err := asyncio.StartServer(ctx, func(ctx context.Context, r *asyncio.StreamReader, w *asyncio.StreamWriter) error {
			serverSide.SetResult(w)
			return w.WaitClosed(ctx)
		}, "127.0.0.1", 0, nil)
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		_, cw, err := asyncio.OpenConnection(ctx, "127.0.0.1", mustAddr(t, srv).Port, &asyncio.ConnectOptions{Limit: 4096})
		if err != nil {
			return 0, err
		}
		defer cw.Close()
		sw, err := asyncio.Await(ctx, serverSide)
		if err != nil {
			return 0, err
		}
		chunk := bytes.Repeat([]byte("a"), 4096)
		for range 3 {
			sw.Write(chunk)
		}
		for cw.Transport().IsReading() {
			if err := asyncio.Sleep(ctx, 0); err != nil {
				return 0, err
			}
		}
		big := bytes.Repeat([]byte("a"), 1<<20)
		for i := 0; i < 64 && sw.Transport().GetWriteBufferSize() == 0; i++ {
			sw.Write(big)
		}
		if sw.Transport().GetWriteBufferSize() == 0 {
			t.Error("the server side's buffer stays empty")
			return 0, nil
		}
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) { return 0, srv.WaitClosed(ctx) })
		asyncio.Sleep(ctx, 0)
		if task.Done() {
			t.Error("WaitClosed returned before the close")
		}
		srv.Close()
		srv.AbortClients()
		asyncio.Sleep(ctx, 0)
		asyncio.Sleep(ctx, 0)
		if !task.Done() {
			t.Error("WaitClosed still waits two iterations after Close and AbortClients")
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// boundUnixSocket returns a Unix stream socket bound to path, not
// listening, as an *os.File.
func boundUnixSocket(t *testing.T, path string) *os.File {
	t.Helper()
	fd, err := asyncio.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		syscall.Close(fd)
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), path)
	t.Cleanup(func() { f.Close() })
	return f
}

// test_server.py (3.13): test_unix_server_sock_cleanup: a server on an
// already bound socket (ServerOptions.Listener) serves it, and closing the
// server removes its socket file.
func TestServer_test_unix_server_sock_cleanup(t *testing.T) {
	path := t.TempDir() + "/srv"
	sock := boundUnixSocket(t, path)
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		srv, err := asyncio.StartUnixServer(ctx, func(ctx context.Context, r *asyncio.StreamReader, w *asyncio.StreamWriter) error {
			w.Write([]byte("hi"))
			w.Close()
			return nil
		}, "", &asyncio.ServerOptions{Listener: sock})
		if err != nil {
			return 0, err
		}
		r, w, err := asyncio.OpenUnixConnection(ctx, path, nil)
		if err != nil {
			return 0, err
		}
		if b, err := r.Read(ctx, -1); err != nil || string(b) != "hi" {
			t.Errorf("client read %q, %v", b, err)
		}
		w.Close()
		srv.Close()
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("socket file after Close: %v, want it gone", err)
		}
		return 0, srv.WaitClosed(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_server.py (3.13): test_unix_server_cleanup_prevented: with
// KeepSocketFile (cleanup_socket=False) the socket file stays after
// Close.
func TestServer_test_unix_server_cleanup_prevented(t *testing.T) {
	path := t.TempDir() + "/srv"
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		srv, err := asyncio.StartUnixServer(ctx, func(context.Context, *asyncio.StreamReader, *asyncio.StreamWriter) error { return nil },
			path, &asyncio.ServerOptions{KeepSocketFile: true})
		if err != nil {
			return 0, err
		}
		srv.Close()
		if _, err := os.Stat(path); err != nil {
			t.Errorf("socket file after Close: %v, want it kept", err)
		}
		return 0, srv.WaitClosed(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
}
