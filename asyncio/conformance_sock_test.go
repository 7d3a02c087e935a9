//go:build unix

package asyncio_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
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

// test_sock_lowlevel.py: test_sock_client_racing, its recv part
// (_basetest_sock_recv_racing): a SockRecv cancelled while waiting leaves
// the socket usable; the next SockRecv gets the answer.
func TestSockLowlevel_test_sock_client_racing_recv(t *testing.T) {
	addr := runTestServer(t, "tcp", "127.0.0.1:0")
	sock := newSock(t, syscall.AF_INET, syscall.SOCK_STREAM)
	sockTask(t, func(ctx context.Context) error {
		if err := asyncio.SockConnect(ctx, sock, addr); err != nil {
			return err
		}
		task := asyncio.CreateTask(ctx, func(ctx context.Context) ([]byte, error) { return asyncio.SockRecv(ctx, sock, 1024) })
		asyncio.Sleep(ctx, 0)
		task.Cancel()
		send := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			return 0, asyncio.SockSendall(ctx, sock, []byte("GET / HTTP/1.0\r\n\r\n"))
		})
		var data []byte
		for !bytes.Contains(data, []byte("Test message")) {
			b, err := asyncio.SockRecv(ctx, sock, 1024)
			if err != nil {
				return err
			}
			if len(b) == 0 {
				break
			}
			data = append(data, b...)
		}
		if !bytes.HasPrefix(data, []byte("HTTP/1.0 200 OK")) {
			t.Errorf("received %q", data)
		}
		if _, err := asyncio.Await(ctx, task); !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("cancelled SockRecv = %v", err)
		}
		_, err := asyncio.Await(ctx, send)
		return err
	})
}

// test_sock_lowlevel.py: test_sock_client_racing, its recv_into part
// (_basetest_sock_recv_into_racing).
func TestSockLowlevel_test_sock_client_racing_recv_into(t *testing.T) {
	addr := runTestServer(t, "tcp", "127.0.0.1:0")
	sock := newSock(t, syscall.AF_INET, syscall.SOCK_STREAM)
	sockTask(t, func(ctx context.Context) error {
		if err := asyncio.SockConnect(ctx, sock, addr); err != nil {
			return err
		}
		buf := make([]byte, 1024)
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) { return asyncio.SockRecvInto(ctx, sock, buf) })
		asyncio.Sleep(ctx, 0)
		task.Cancel()
		send := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			return 0, asyncio.SockSendall(ctx, sock, []byte("GET / HTTP/1.0\r\n\r\n"))
		})
		n := 0
		for n < len(httpdResponse) {
			m, err := asyncio.SockRecvInto(ctx, sock, buf[n:])
			if err != nil {
				return err
			}
			if m == 0 {
				break
			}
			n += m
		}
		if string(buf[:n]) != httpdResponse {
			t.Errorf("received %q", buf[:n])
		}
		if _, err := asyncio.Await(ctx, task); !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("cancelled SockRecvInto = %v", err)
		}
		_, err := asyncio.Await(ctx, send)
		return err
	})
}

// test_sock_lowlevel.py: test_sock_client_racing, its send part
// (_basetest_sock_send_racing): with the send buffer full, a SockSendall
// cancelled while waiting leaves the socket usable; the next SockSendall
// is received whole.
func TestSockLowlevel_test_sock_client_racing_send(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sock := newSock(t, syscall.AF_INET, syscall.SOCK_STREAM)
	fd := rawFd(sock)
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_SNDBUF, 1024); err != nil {
		t.Fatal(err)
	}
	sockTask(t, func(ctx context.Context) error {
		if err := asyncio.SockConnect(ctx, sock, ln.Addr()); err != nil {
			return err
		}
		server, err := ln.Accept()
		if err != nil {
			return err
		}
		defer server.Close()
		// fill the buffer until sending 4 bytes would block
		for size := 8192; size >= 4; size /= 2 {
			chunk := bytes.Repeat([]byte(" "), size)
			for {
				if _, err := syscall.Write(fd, chunk); err != nil {
					if !errors.Is(err, syscall.EAGAIN) {
						return err
					}
					break
				}
			}
		}
		// cancel a blocked SockSendall
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			return 0, asyncio.SockSendall(ctx, sock, []byte("hello"))
		})
		asyncio.Sleep(ctx, 0)
		if task.Done() {
			t.Error("SockSendall did not block on a full send buffer")
		}
		task.Cancel()
		recvAll := asyncio.CreateTask(ctx, func(ctx context.Context) ([]byte, error) {
			var rv []byte
			for {
				b, err := asyncio.SockRecv(ctx, server.(*net.TCPConn), 8192)
				if err != nil || len(b) == 0 {
					return rv, err
				}
				rv = append(rv, bytes.TrimSpace(b)...)
			}
		})
		if err := asyncio.SockSendall(ctx, sock, []byte("world")); err != nil {
			return err
		}
		if err := syscall.Shutdown(fd, syscall.SHUT_WR); err != nil {
			return err
		}
		if _, err := asyncio.Await(ctx, task); !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("cancelled SockSendall = %v", err)
		}
		data, err := asyncio.Await(ctx, recvAll)
		if err != nil || !bytes.HasSuffix(data, []byte("world")) {
			t.Errorf("received %q, %v; want it to end with world", data, err)
		}
		return nil
	})
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

// hugeContent is _basetest_huge_content: SockSendall sends 10 MB to an
// echo server while the same task's SockRecv (or SockRecvInto) reads the
// echo back; everything comes back, in order, up to the server's EOF.
func hugeContent(t *testing.T, recvInto bool) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(c, c)
	}()
	const size = 10_000_000
	data := bytes.Repeat([]byte("0123456789"), size/10)
	sock := newSock(t, syscall.AF_INET, syscall.SOCK_STREAM)
	_, err = runMain(t, func(ctx context.Context) (int, error) {
		if err := asyncio.SockConnect(ctx, sock, ln.Addr()); err != nil {
			return 0, err
		}
		send := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			if err := asyncio.SockSendall(ctx, sock, data); err != nil {
				return 0, err
			}
			return 0, syscall.Shutdown(rawFd(sock), syscall.SHUT_WR)
		})
		got := make([]byte, 0, size)
		buf := make([]byte, size)
		for {
			var b []byte
			var err error
			if recvInto {
				var n int
				n, err = asyncio.SockRecvInto(ctx, sock, buf)
				b = buf[:n]
			} else {
				b, err = asyncio.SockRecv(ctx, sock, size)
			}
			if err != nil {
				return 0, err
			}
			if len(b) == 0 {
				break
			}
			got = append(got, b...)
		}
		if !bytes.Equal(got, data) {
			t.Errorf("received %d bytes back, want the %d sent, in order", len(got), len(data))
		}
		return asyncio.Await(ctx, send)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_sock_lowlevel.py: test_huge_content, with SockRecv reading.
func TestSockLowlevel_test_huge_content_recv(t *testing.T) { hugeContent(t, false) }

// test_sock_lowlevel.py: test_huge_content_recvinto.
func TestSockLowlevel_test_huge_content_recvinto(t *testing.T) { hugeContent(t, true) }

// test_sock_lowlevel.py: test_sendto_blocking: the socket cannot take the
// datagram yet (EAGAIN: here the peer's queue is full); SockSendto waits
// on the loop and sends it once the peer reads, and it arrives whole.
func TestSockLowlevel_test_sendto_blocking(t *testing.T) {
	// b is bound to a path; a is connected to it, so that a is writable
	// only while b's queue has room.
	path := filepath.Join(t.TempDir(), "b.sock")
	a, b := newSock(t, syscall.AF_UNIX, syscall.SOCK_DGRAM), newSock(t, syscall.AF_UNIX, syscall.SOCK_DGRAM)
	if err := syscall.Bind(rawFd(b), &syscall.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Connect(rawFd(a), &syscall.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	to := &net.UnixAddr{Name: path, Net: "unixgram"}
	small := []byte{0}
	queued := 0
	for {
		if _, err := syscall.Write(rawFd(a), small); err != nil {
			if err != syscall.EAGAIN {
				t.Fatal(err)
			}
			break
		}
		queued++
	}
	data := bytes.Repeat([]byte{1}, 4096)
	sockTask(t, func(ctx context.Context) error {
		send := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) { return asyncio.SockSendto(ctx, a, data, to) })
		runBriefly(ctx)
		if send.Done() {
			t.Error("SockSendto returned while the peer's queue was full")
		}
		buf := make([]byte, 8192)
		for i := 0; i < queued; i++ {
			n, _, err := asyncio.SockRecvfromInto(ctx, b, buf)
			if err != nil || n != 1 {
				return fmt.Errorf("draining: %d, %v", n, err)
			}
		}
		if n, err := asyncio.Await(ctx, send); err != nil || n != len(data) {
			t.Errorf("SockSendto = %d, %v", n, err)
		}
		n, _, err := asyncio.SockRecvfromInto(ctx, b, buf)
		if err != nil || !bytes.Equal(buf[:n], data) {
			t.Errorf("the peer got %d bytes, %v; want the %d sent", n, err, len(data))
		}
		return nil
	})
}
