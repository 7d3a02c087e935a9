//go:build linux

package asyncio_test

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// sockTask runs main as a task of a fresh loop with a 10 s bound
// (asyncio.wait_for(…, 10) in the upstream cases).
func sockTask(t *testing.T, main func(ctx context.Context) error) {
	t.Helper()
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) { return 0, main(ctx) })
		return asyncio.WaitFor[int](ctx, task, 10*time.Second)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_sock_lowlevel.py: test_sock_client_connect_racing: a SockConnect
// cancelled before the listener listens leaves the socket usable; a
// later SockConnect succeeds (retried while refused, as upstream).
func TestSockLowlevel_test_sock_client_connect_racing(t *testing.T) {
	listener := newSock(t, syscall.AF_INET, syscall.SOCK_STREAM)
	lfd := rawFd(listener)
	if err := syscall.Bind(lfd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, _ := syscall.Getsockname(lfd)
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sa.(*syscall.SockaddrInet4).Port}
	sock := newSock(t, syscall.AF_INET, syscall.SOCK_STREAM)
	var skip error
	sockTask(t, func(ctx context.Context) error {
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			return 0, asyncio.SockConnect(ctx, sock, addr)
		})
		asyncio.Sleep(ctx, 0)
		task.Cancel()
		asyncio.Await(ctx, task)
		if err := syscall.Listen(lfd, 1); err != nil {
			return err
		}
		skip = errors.New("max retries reached")
		for range 128 {
			err := asyncio.SockConnect(ctx, sock, addr)
			if err == nil {
				skip = nil
				return nil
			}
			skip = err
			if !errors.Is(err, syscall.ECONNREFUSED) {
				break
			}
		}
		return nil
	})
	if skip != nil {
		t.Skip(skip)
	}
	nfd, _, err := syscall.Accept(lfd)
	if err != nil {
		t.Fatalf("accept after the connect: %v", err)
	}
	syscall.Close(nfd)
}

// test_sock_lowlevel.py: test_create_connection_sock: a socket connected
// with SockConnect becomes a transport (create_connection(sock=…); here
// ConnectAcceptedSocket, which takes any connected socket): the protocol
// sends a request on ConnectionMade and receives the answer, then EOF
// and ConnectionLost in order.
func TestSockLowlevel_test_create_connection_sock(t *testing.T) {
	addr := runTestServer(t, "tcp", "127.0.0.1:0")
	sock := newSock(t, syscall.AF_INET, syscall.SOCK_STREAM)
	sockTask(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		if err := asyncio.SockConnect(ctx, sock, addr); err != nil {
			return err
		}
		conn, err := net.FileConn(sock)
		if err != nil {
			return err
		}
		sock.Close()
		p := newRecProto(t, loop)
		p.onMade = func(p *recProto) { p.transport.Write([]byte("GET / HTTP/1.0\r\nHost: example.com\r\n\r\n")) }
		tr, _, err := asyncio.ConnectAcceptedSocket(ctx, func() *recProto { return p }, conn)
		if err != nil {
			conn.Close()
			return err
		}
		if _, err := asyncio.Await(ctx, p.done); err != nil {
			return err
		}
		if p.data.Len() == 0 || p.state != "CLOSED" {
			t.Errorf("got %d bytes, state %s", p.data.Len(), p.state)
		}
		tr.Close()
		return nil
	})
}
