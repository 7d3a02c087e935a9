//go:build unix

package asyncio_test

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
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
