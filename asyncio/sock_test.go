//go:build unix

package asyncio_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// socketpair returns two connected non-blocking Unix stream sockets as
// files, closed at the end of the test.
func socketpair(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	fds, err := asyncio.Socketpair(syscall.SOCK_STREAM)
	if err != nil {
		t.Fatal(err)
	}
	a, b := os.NewFile(uintptr(fds[0]), "a"), os.NewFile(uintptr(fds[1]), "b")
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func rawFd(f *os.File) int {
	rc, _ := f.SyscallConn()
	var fd int
	rc.Control(func(u uintptr) { fd = int(u) })
	return fd
}

// newSock returns a fresh non-blocking socket as a file.
func newSock(t *testing.T, family, typ int) *os.File {
	t.Helper()
	fd, err := asyncio.Socket(family, typ, true)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "sock")
	t.Cleanup(func() { f.Close() })
	return f
}

// trio-asyncio aiotest test_add_reader.py: test_add_reader. The reader
// runs while the fd stays readable (level-triggered), here one byte per
// run.
func TestAddReader_test_add_reader(t *testing.T) {
	a, b := socketpair(t)
	fd := rawFd(a)
	got, err := runMain(t, func(ctx context.Context) (string, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		done := asyncio.NewFuture[string](loop)
		var buf []byte
		if err := loop.AddReader(fd, func(context.Context) {
			var one [1]byte
			n, _ := syscall.Read(fd, one[:])
			buf = append(buf, one[:n]...)
			if len(buf) == 5 {
				done.SetResult(string(buf))
			}
		}); err != nil {
			return "", err
		}
		b.Write([]byte("hello"))
		s, err := asyncio.Await(ctx, done)
		if ok, err := loop.RemoveReader(fd); !ok || err != nil {
			t.Errorf("RemoveReader = %v, %v; want true", ok, err)
		}
		if ok, _ := loop.RemoveReader(fd); ok {
			t.Errorf("second RemoveReader = true")
		}
		return s, err
	})
	if err != nil || got != "hello" {
		t.Fatalf("got %q, %v", got, err)
	}
}

// trio-asyncio aiotest test_add_reader.py: test_add_writer.
func TestAddReader_test_add_writer(t *testing.T) {
	a, b := socketpair(t)
	fd := rawFd(a)
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		done := asyncio.NewFuture[int](loop)
		runs := 0
		if err := loop.AddWriter(fd, func(context.Context) {
			runs++
			syscall.Write(fd, []byte("x"))
			if runs == 3 {
				loop.RemoveWriter(fd)
				done.SetResult(runs)
			}
		}); err != nil {
			return 0, err
		}
		return asyncio.Await(ctx, done)
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf [8]byte
	n, _ := b.Read(buf[:])
	if string(buf[:n]) != "xxx" {
		t.Fatalf("peer got %q", buf[:n])
	}
}

// trio-asyncio aiotest test_add_reader.py: test_remove_reader_cancels.
// A reader removed after its run was scheduled does not run.
func TestAddReader_test_remove_reader_cancels(t *testing.T) {
	a, b := socketpair(t)
	fd := rawFd(a)
	b.Write([]byte("x"))
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		ran := false
		if err := loop.AddReader(fd, func(context.Context) { ran = true }); err != nil {
			return 0, err
		}
		loop.RemoveReader(fd)
		asyncio.Sleep(ctx, 10*time.Millisecond)
		if ran {
			t.Error("removed reader ran")
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// An fd closed while watched, without RemoveReader, and its number then
// reused for another file: AddReader on the new file watches it (the old
// watch went with the old file), and the old callback never runs again.
func TestAddReader_fd_number_reused_after_close(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		r1, w1, err := os.Pipe()
		if err != nil {
			return 0, err
		}
		fd := rawFd(r1)
		oldRan := false
		if err := loop.AddReader(fd, func(context.Context) { oldRan = true }); err != nil {
			return 0, err
		}
		r1.Close() // no RemoveReader
		w1.Close()
		// The lowest free number is fd again (unless something else
		// took it meanwhile: then there is nothing to test).
		r2, w2, err := os.Pipe()
		if err != nil {
			return 0, err
		}
		defer r2.Close()
		defer w2.Close()
		if rawFd(r2) != fd {
			return 0, fmt.Errorf("%w: fd %d, then %d", errNotReused, fd, rawFd(r2))
		}
		ran := asyncio.NewFuture[struct{}](loop)
		if err := loop.AddReader(fd, func(context.Context) {
			if !ran.Done() {
				ran.SetResult(struct{}{})
			}
		}); err != nil {
			return 0, err
		}
		w2.Write([]byte("x"))
		if _, err := asyncio.WaitFor(ctx, ran, 30*time.Second); err != nil {
			return 0, fmt.Errorf("the reader of the reused fd did not run: %w", err)
		}
		loop.RemoveReader(fd)
		if oldRan {
			t.Error("the callback of the closed file ran")
		}
		return 0, nil
	})
	if errors.Is(err, errNotReused) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
}

var errNotReused = errors.New("the fd number was not reused")

func TestAddReader_invalid_fd(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		if err := loop.AddReader(-1, func(context.Context) {}); !errors.Is(err, asyncio.ErrInvalidFd) {
			t.Errorf("AddReader(-1) = %v, want ErrInvalidFd", err)
		}
		f, err := os.CreateTemp(t.TempDir(), "x")
		if err != nil {
			return 0, err
		}
		defer f.Close()
		if err := loop.AddReader(rawFd(f), func(context.Context) {}); !errors.Is(err, syscall.EPERM) {
			t.Errorf("AddReader(regular file) = %v, want the poller's refusal (EPERM)", err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_sock_lowlevel.py: test_sock_client_ops (the parts that do not need
// an HTTP server: connect, sendall, recv, recv_into).
func TestSockLowlevel_test_sock_client_ops(t *testing.T) {
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
		var buf [64]byte
		n, _ := c.Read(buf[:])
		c.Write(bytes.ToUpper(buf[:n]))
	}()
	sock := newSock(t, syscall.AF_INET, syscall.SOCK_STREAM)
	got, err := runMain(t, func(ctx context.Context) (string, error) {
		if err := asyncio.SockConnect(ctx, sock, ln.Addr()); err != nil {
			return "", err
		}
		if err := asyncio.SockSendall(ctx, sock, []byte("get /\r\n")); err != nil {
			return "", err
		}
		buf := make([]byte, 1)
		n, err := asyncio.SockRecvInto(ctx, sock, buf)
		if err != nil || n != 1 {
			return "", err
		}
		rest, err := asyncio.SockRecv(ctx, sock, 1024)
		return string(buf[:n]) + string(rest), err
	})
	if err != nil || got != "GET /\r\n" {
		t.Fatalf("got %q, %v", got, err)
	}
}

// test_sock_lowlevel.py: test_unix_sock_client_ops.
func TestSockLowlevel_test_unix_sock_client_ops(t *testing.T) {
	path := t.TempDir() + "/s"
	ln, err := net.Listen("unix", path)
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
		c.Write([]byte("hi"))
	}()
	sock := newSock(t, syscall.AF_UNIX, syscall.SOCK_STREAM)
	got, err := runMain(t, func(ctx context.Context) (string, error) {
		if err := asyncio.SockConnect(ctx, sock, ln.Addr()); err != nil {
			return "", err
		}
		var all []byte
		for {
			b, err := asyncio.SockRecv(ctx, sock, 1024)
			if err != nil || len(b) == 0 {
				return string(all), err
			}
			all = append(all, b...)
		}
	})
	if err != nil || got != "hi" {
		t.Fatalf("got %q, %v", got, err)
	}
}

// test_sock_lowlevel.py: test_sock_client_fail (connection refused).
func TestSockLowlevel_test_sock_client_fail(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr()
	ln.Close()
	sock := newSock(t, syscall.AF_INET, syscall.SOCK_STREAM)
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		return 0, asyncio.SockConnect(ctx, sock, addr)
	})
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("err = %v, want ECONNREFUSED", err)
	}
}

// test_sock_lowlevel.py: test_sock_accept.
func TestSockLowlevel_test_sock_accept(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err == nil {
			c.Write([]byte("x"))
			c.Close()
		}
	}()
	got, err := runMain(t, func(ctx context.Context) (string, error) {
		c, addr, err := asyncio.SockAccept(ctx, ln.(*net.TCPListener))
		if err != nil {
			return "", err
		}
		defer c.Close()
		if addr.(*net.TCPAddr).IP.String() != "127.0.0.1" {
			t.Errorf("peer %v", addr)
		}
		b, err := asyncio.SockRecv(ctx, c.(syscall.Conn), 10)
		return string(b), err
	})
	if err != nil || got != "x" {
		t.Fatalf("got %q, %v", got, err)
	}
}

// test_sock_lowlevel.py: test_cancel_sock_accept. A cancelled accept
// leaves the listener unwatched.
func TestSockLowlevel_test_cancel_sock_accept(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = runMain(t, func(ctx context.Context) (int, error) {
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			_, _, err := asyncio.SockAccept(ctx, ln.(*net.TCPListener))
			return 0, err
		})
		asyncio.Sleep(ctx, 10*time.Millisecond)
		task.Cancel("")
		_, err := asyncio.Await(ctx, task)
		if !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("accept = %v, want cancelled", err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_sock_lowlevel.py: test_huge_content. 16 MiB through SockSendall
// and SockRecvInto over a real connection arrive whole.
func TestSockLowlevel_test_huge_content(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<20)
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		var all bytes.Buffer
		all.ReadFrom(c)
		got <- all.Bytes()
	}()
	sock := newSock(t, syscall.AF_INET, syscall.SOCK_STREAM)
	_, err = runMain(t, func(ctx context.Context) (int, error) {
		if err := asyncio.SockConnect(ctx, sock, ln.Addr()); err != nil {
			return 0, err
		}
		if err := asyncio.SockSendall(ctx, sock, data); err != nil {
			return 0, err
		}
		return 0, syscall.Shutdown(rawFd(sock), syscall.SHUT_WR)
	})
	if err != nil {
		t.Fatal(err)
	}
	if b := <-got; !bytes.Equal(b, data) {
		t.Fatalf("peer got %d bytes, want %d", len(b), len(data))
	}
}

// test_sock_lowlevel.py: test_recvfrom and test_sendto_blocking (UDP).
func TestSockLowlevel_test_recvfrom(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 100)
		n, addr, err := pc.ReadFrom(buf)
		if err == nil {
			pc.WriteTo(bytes.ToUpper(buf[:n]), addr)
		}
	}()
	sock := newSock(t, syscall.AF_INET, syscall.SOCK_DGRAM)
	got, err := runMain(t, func(ctx context.Context) (string, error) {
		if _, err := asyncio.SockSendto(ctx, sock, []byte("ping"), pc.LocalAddr()); err != nil {
			return "", err
		}
		b, addr, err := asyncio.SockRecvfrom(ctx, sock, 100)
		if err == nil && addr.String() != pc.LocalAddr().String() {
			t.Errorf("from %v, want %v", addr, pc.LocalAddr())
		}
		return string(b), err
	})
	if err != nil || got != "PING" {
		t.Fatalf("got %q, %v", got, err)
	}
}

// udpEchoServer answers every datagram with the same bytes, until the
// test ends.
func udpEchoServer(t *testing.T) net.Addr {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { pc.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 65536)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(buf[:n], addr)
		}
	}()
	return pc.LocalAddr()
}

// test_sock_lowlevel.py: test_recvfrom_into. A datagram of 4096 bytes
// fills a buffer of 4096; into a buffer of 8192 limited to its first 4096
// (asyncio's nbytes=4096) it fills those and leaves the rest untouched.
func TestSockLowlevel_test_recvfrom_into(t *testing.T) {
	server := udpEchoServer(t)
	sock := newSock(t, syscall.AF_INET, syscall.SOCK_DGRAM)
	data := bytes.Repeat([]byte{1}, 4096)
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		buf := make([]byte, 4096)
		if _, err := asyncio.SockSendto(ctx, sock, data, server); err != nil {
			return 0, err
		}
		n, from, err := asyncio.SockRecvfromInto(ctx, sock, buf)
		if err != nil {
			return 0, err
		}
		if n != 4096 || !bytes.Equal(buf, data) || from.String() != server.String() {
			t.Errorf("first: n = %d, from %v (want 4096 from %v), data equal %v", n, from, server, bytes.Equal(buf, data))
		}

		buf = bytes.Repeat([]byte{0xee}, 8192)
		if _, err := asyncio.SockSendto(ctx, sock, data, server); err != nil {
			return 0, err
		}
		n, from, err = asyncio.SockRecvfromInto(ctx, sock, buf[:4096])
		if err != nil {
			return 0, err
		}
		if n != 4096 || !bytes.Equal(buf[:4096], data) || from.String() != server.String() {
			t.Errorf("nbytes: n = %d, from %v (want 4096 from %v), data equal %v", n, from, server, bytes.Equal(buf[:4096], data))
		}
		if !bytes.Equal(buf[4096:], bytes.Repeat([]byte{0xee}, 4096)) {
			t.Errorf("nbytes: bytes past buf[:4096] were written")
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// sock_recvfrom_into cancelled while it waits: the task ends with the
// CancelledError, nothing was received, and the datagram sent afterwards
// goes to the next call whole.
func TestSockLowlevel_recvfrom_into_cancelled(t *testing.T) {
	server := udpEchoServer(t)
	sock := newSock(t, syscall.AF_INET, syscall.SOCK_DGRAM)
	got, err := runMain(t, func(ctx context.Context) (string, error) {
		buf := make([]byte, 100)
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			n, _, err := asyncio.SockRecvfromInto(ctx, sock, buf)
			return n, err
		})
		asyncio.Sleep(ctx, 0) // the task is now waiting for the socket
		task.Cancel("")
		if n, err := asyncio.Await(ctx, task); !errors.Is(err, asyncio.ErrCancelled) || n != 0 {
			t.Errorf("cancelled receive = %d, %v; want 0, cancelled", n, err)
		}
		if _, err := asyncio.SockSendto(ctx, sock, []byte("after"), server); err != nil {
			return "", err
		}
		n, _, err := asyncio.SockRecvfromInto(ctx, sock, buf)
		return string(buf[:n]), err
	})
	if err != nil || got != "after" {
		t.Fatalf("got %q, %v; want \"after\"", got, err)
	}
}

// test_sock_lowlevel.py: the socket must be non-blocking.
func TestSockLowlevel_blocking_socket(t *testing.T) {
	fd, _ := asyncio.Socket(syscall.AF_INET, syscall.SOCK_STREAM, false)
	f := os.NewFile(uintptr(fd), "blocking")
	defer f.Close()
	_, err := runMain(t, func(ctx context.Context) ([]byte, error) {
		return asyncio.SockRecv(ctx, f, 10)
	})
	if !errors.Is(err, asyncio.ErrBlockingSocket) {
		t.Fatalf("err = %v, want ErrBlockingSocket", err)
	}
}

// test_sendfile.py: sock_sendfile sends the file's bytes and leaves its
// offset after them.
func TestSockSendfile(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	data := bytes.Repeat([]byte("sendfile"), 1<<17)
	path := t.TempDir() + "/f"
	os.WriteFile(path, data, 0o600)
	file, _ := os.Open(path)
	defer file.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		var all bytes.Buffer
		all.ReadFrom(c)
		got <- all.Bytes()
	}()
	sock := newSock(t, syscall.AF_INET, syscall.SOCK_STREAM)
	n, err := runMain(t, func(ctx context.Context) (int64, error) {
		if err := asyncio.SockConnect(ctx, sock, ln.Addr()); err != nil {
			return 0, err
		}
		n, err := asyncio.SockSendfile(ctx, sock, file, 100, 0)
		syscall.Shutdown(rawFd(sock), syscall.SHUT_WR)
		return n, err
	})
	if err != nil || n != int64(len(data)-100) {
		t.Fatalf("sent %d, %v", n, err)
	}
	if b := <-got; !bytes.Equal(b, data[100:]) {
		t.Fatalf("peer got %d bytes", len(b))
	}
	if off, _ := file.Seek(0, 1); off != int64(len(data)) {
		t.Fatalf("file offset %d", off)
	}
}

func TestGetaddrinfo(t *testing.T) {
	got, err := runMain(t, func(ctx context.Context) (string, error) {
		aps, err := asyncio.Getaddrinfo(ctx, "ip", "127.0.0.1", 80)
		if err != nil {
			return "", err
		}
		if len(aps) != 1 {
			t.Errorf("got %v", aps)
		}
		aps2, err := asyncio.Getaddrinfo(ctx, "ip4", "localhost", 80)
		if err != nil || len(aps2) == 0 {
			t.Errorf("localhost: %v, %v", aps2, err)
		}
		host, port, err := asyncio.Getnameinfo(ctx, aps[0])
		if err != nil || host == "" || port != "80" {
			t.Errorf("Getnameinfo = %q, %q, %v", host, port, err)
		}
		return aps[0].String(), nil
	})
	if err != nil || got != "127.0.0.1:80" {
		t.Fatalf("got %q, %v", got, err)
	}
}

// test_sendfile.py's test_sendfile_ssl, and more: Sendfile over a
// transport (TCP and TLS) sends the file's bytes, Write is refused
// meanwhile, and the file's offset is left after them.
func TestSendfile_write_refused_while_sending(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 400_000)
	path := t.TempDir() + "/f"
	os.WriteFile(path, data, 0o600)
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprint("tls=", useTLS), func(t *testing.T) {
			file, _ := os.Open(path)
			defer file.Close()
			serverCfg, clientCfg := testCerts()
			_, err := runMain(t, func(ctx context.Context) (int, error) {
				loop, _ := asyncio.GetRunningLoop(ctx)
				done := asyncio.NewFuture[struct{}](loop)
				sink := &sinkProto{want: int64(len(data) - 10), done: func() { done.SetResult(struct{}{}) }}
				so := &asyncio.ServerOptions{}
				co := &asyncio.ConnectOptions{}
				if useTLS {
					so.TLS, co.TLS = serverCfg, clientCfg
				}
				srv, err := asyncio.CreateServer(ctx, func() *sinkProto { return sink }, "127.0.0.1", 0, so)
				if err != nil {
					return 0, err
				}
				defer srv.Close()
				tr, _, err := asyncio.CreateConnection(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", mustAddr(t, srv).Port, co)
				if err != nil {
					return 0, err
				}
				defer tr.Close()
				task := asyncio.CreateTask(ctx, func(ctx context.Context) (int64, error) {
					return asyncio.Sendfile(ctx, tr, file, 10, 0, true)
				})
				asyncio.Sleep(ctx, 0)
				if !useTLS && !task.Done() {
					if err := tr.Write([]byte("x")); !errors.Is(err, asyncio.ErrSendfileInProgress) && !task.Done() {
						t.Errorf("Write during Sendfile = %v", err)
					}
				}
				n, err := asyncio.Await(ctx, task)
				if err != nil || n != int64(len(data)-10) {
					t.Errorf("Sendfile = %d, %v", n, err)
				}
				asyncio.Await(ctx, done)
				if off, _ := file.Seek(0, 1); off != int64(len(data)) {
					t.Errorf("offset %d", off)
				}
				return 0, nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
