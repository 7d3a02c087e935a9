//go:build unix

package asyncio_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// goTCPServer is test_ssl.py's tcp_server: a plain server on 127.0.0.1
// running serve in a goroutine for each of up to max connections (with
// a 30 s deadline). It stops, and waits for its goroutines, at the end
// of the test.
func goTCPServer(t *testing.T, max int, serve func(c net.Conn)) *net.TCPAddr {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range max {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(30 * time.Second))
				serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln.Addr().(*net.TCPAddr)
}

// tlsClientProto is test_ssl.py's ClientProto: it resolves onData with
// the first data and onEOF at EOF, and counts ConnectionMade.
type tlsClientProto struct {
	asyncio.ProtocolBase
	t       *testing.T
	onData  *asyncio.Future[[]byte]
	onEOF   *asyncio.Future[struct{}]
	made    *int
	lost    *int
	lostErr error
}

func (p *tlsClientProto) ConnectionMade(asyncio.Transport) { *p.made++ }
func (p *tlsClientProto) DataReceived(b []byte) {
	if !p.onData.Done() {
		p.onData.SetResult(append([]byte(nil), b...))
	}
}
func (p *tlsClientProto) EOFReceived() bool {
	if !p.onEOF.Done() {
		p.onEOF.SetResult(struct{}{})
	}
	return false
}
func (p *tlsClientProto) ConnectionLost(err error) {
	if p.lost != nil {
		*p.lost++
	}
	p.lostErr = err
}

func newTLSClientProto(t *testing.T, loop *asyncio.Loop, made *int) *tlsClientProto {
	return &tlsClientProto{t: t, onData: asyncio.NewFuture[[]byte](loop), onEOF: asyncio.NewFuture[struct{}](loop), made: made}
}

// test_ssl.py: test_ssl_handshake_timeout (bpo-29970): a handshake the
// server never answers, cancelled by a 0.5 s WaitFor around
// CreateConnection, aborts the connection (the server sees it end) and
// reports nothing to the exception handler.
func TestSSL_test_ssl_handshake_timeout(t *testing.T) {
	_, clientCfg := testCerts()
	serverSawEnd := make(chan bool, 1)
	addr := goTCPServer(t, 1, func(c net.Conn) {
		_, err := io.ReadAll(c)
		serverSawEnd <- err == nil || errors.Is(err, io.EOF) || strings.Contains(err.Error(), "reset")
	})
	msgs := streamsMain(t, func(ctx context.Context) error {
		conn := asyncio.CreateTask(ctx, func(ctx context.Context) (asyncio.Transport, error) {
			tr, _, err := asyncio.CreateConnection(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, "127.0.0.1", addr.Port,
				&asyncio.ConnectOptions{TLS: clientCfg, TLSOptions: asyncio.TLSOptions{ServerHostname: "localhost", HandshakeTimeout: 10 * time.Second}})
			return tr, err
		})
		if _, err := asyncio.WaitFor[asyncio.Transport](ctx, conn, 500*time.Millisecond); !errors.Is(err, asyncio.ErrTimeout) {
			t.Errorf("WaitFor(CreateConnection) = %v, want ErrTimeout", err)
		}
		return nil
	})
	select {
	case ok := <-serverSawEnd:
		if !ok {
			t.Error("the server saw an unexpected error")
		}
	case <-time.After(10 * time.Second):
		t.Error("the server did not see the connection end")
	}
	if len(msgs) != 0 {
		t.Errorf("exception handler got %v", msgs)
	}
}

// test_ssl.py: test_ssl_handshake_connection_lost (#246): the server
// drops the connection during the handshake; CreateConnection fails, and
// the protocol gets neither ConnectionMade nor ConnectionLost.
func TestSSL_test_ssl_handshake_connection_lost(t *testing.T) {
	_, clientCfg := testCerts()
	addr := goTCPServer(t, 1, func(c net.Conn) {
		c.Read(make([]byte, 1024))
	})
	made, lost := 0, 0
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		_, _, err := asyncio.CreateConnection(ctx, func() *tlsClientProto {
			p := newTLSClientProto(t, loop, &made)
			p.lost = &lost
			return p
		}, "127.0.0.1", addr.Port, &asyncio.ConnectOptions{TLS: clientCfg, TLSOptions: asyncio.TLSOptions{ServerHostname: "localhost"}})
		// asyncio: ConnectionResetError (reset or EOF mid-handshake)
		if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, asyncio.ErrConnectionLost) {
			t.Errorf("CreateConnection over a dropped handshake = %v, want a reset or EOF", err)
		}
		return nil
	})
	if made != 0 || lost != 0 {
		t.Errorf("ConnectionMade %d times, ConnectionLost %d times; want neither", made, lost)
	}
}

const tlsPayload = 64 * 1024

// tlsServe is the server side of the start_tls cases: receive the
// plain hello, then StartTLS (server side), then steps.
func tlsServe(t *testing.T, c net.Conn, steps func(tc *tls.Conn)) {
	serverCfg, _ := testCerts()
	if _, err := io.ReadFull(c, make([]byte, tlsPayload)); err != nil {
		t.Errorf("server: plain hello: %v", err)
		return
	}
	tc := tls.Server(c, serverCfg)
	if err := tc.Handshake(); err != nil {
		t.Errorf("server: handshake: %v", err)
		return
	}
	steps(tc)
}

func recvHello(t *testing.T, tc *tls.Conn) {
	if _, err := io.ReadFull(tc, make([]byte, tlsPayload)); err != nil {
		t.Errorf("server: hello over TLS: %v", err)
	}
}

// test_ssl.py / test_sslproto.py: test_start_tls_client_reg_proto_1: a
// plain connection with a Protocol, upgraded by StartTLS (client side):
// the protocol receives the server's data and EOF through the new
// transport, and ConnectionMade ran once.
func TestSSL_test_start_tls_client_reg_proto_1(t *testing.T) {
	_, clientCfg := testCerts()
	hello := bytes.Repeat([]byte("1"), tlsPayload)
	addr := goTCPServer(t, 1, func(c net.Conn) {
		tlsServe(t, c, func(tc *tls.Conn) {
			tc.Write([]byte("O"))
			recvHello(t, tc)
			tc.CloseWrite() // unwrap: close_notify
		})
	})
	made := 0
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		tr, proto, err := asyncio.CreateConnection(ctx, func() *tlsClientProto { return newTLSClientProto(t, loop, &made) }, "127.0.0.1", addr.Port, nil)
		if err != nil {
			return err
		}
		tr.Write(hello)
		newTr, err := asyncio.StartTLS(ctx, tr, proto, clientCfg, false, &asyncio.TLSOptions{ServerHostname: "localhost"})
		if err != nil {
			return err
		}
		if b, err := asyncio.Await(ctx, proto.onData); err != nil || string(b) != "O" {
			t.Errorf("data over TLS = %q, %v", b, err)
		}
		newTr.Write(hello)
		if _, err := asyncio.WaitFor[struct{}](ctx, proto.onEOF, 10*time.Second); err != nil {
			t.Errorf("EOF over TLS: %v", err)
		}
		newTr.Close()
		return nil
	})
	if made != 1 {
		t.Errorf("ConnectionMade ran %d times, want 1", made)
	}
}

// tlsBufProto is test_ssl.py's ClientProtoFirst: a BufferedProtocol
// with a one-byte buffer.
type tlsBufProto struct {
	asyncio.ProtocolBase
	t      *testing.T
	buf    []byte
	onData *asyncio.Future[[]byte]
	made   *int
}

func (p *tlsBufProto) ConnectionMade(asyncio.Transport) { *p.made++ }
func (p *tlsBufProto) GetBuffer(int) []byte             { return p.buf }
func (p *tlsBufProto) BufferUpdated(n int) {
	if n != 1 {
		p.t.Errorf("BufferUpdated(%d), want 1", n)
	}
	if !p.onData.Done() {
		p.onData.SetResult(append([]byte(nil), p.buf[:n]...))
	}
}

// test_ssl.py / test_sslproto.py: test_start_tls_client_buf_proto_1: as
// reg_proto_1 with a BufferedProtocol, then SetProtocol to a Protocol on
// the TLS transport, which receives what follows; StartTLS does not call
// ConnectionMade again.
func TestSSL_test_start_tls_client_buf_proto_1(t *testing.T) {
	_, clientCfg := testCerts()
	hello := bytes.Repeat([]byte("1"), tlsPayload)
	addr := goTCPServer(t, 1, func(c net.Conn) {
		tlsServe(t, c, func(tc *tls.Conn) {
			tc.Write([]byte("O"))
			recvHello(t, tc)
			tc.Write([]byte("2"))
			recvHello(t, tc)
			tc.CloseWrite()
		})
	})
	made := 0
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		first := &tlsBufProto{t: t, buf: make([]byte, 1), onData: asyncio.NewFuture[[]byte](loop), made: &made}
		tr, proto, err := asyncio.CreateConnection(ctx, func() *tlsBufProto { return first }, "127.0.0.1", addr.Port, nil)
		if err != nil {
			return err
		}
		tr.Write(hello)
		newTr, err := asyncio.StartTLS(ctx, tr, proto, clientCfg, false, &asyncio.TLSOptions{ServerHostname: "localhost"})
		if err != nil {
			return err
		}
		if b, err := asyncio.Await(ctx, first.onData); err != nil || string(b) != "O" {
			t.Errorf("buffered data over TLS = %q, %v", b, err)
		}
		newTr.Write(hello)
		second := newTLSClientProto(t, loop, &made)
		newTr.SetProtocol(second)
		if b, err := asyncio.WaitFor[[]byte](ctx, second.onData, 10*time.Second); err != nil || string(b) != "2" {
			t.Errorf("data to the second protocol = %q, %v", b, err)
		}
		newTr.Write(hello)
		if _, err := asyncio.WaitFor[struct{}](ctx, second.onEOF, 10*time.Second); err != nil {
			t.Errorf("EOF to the second protocol: %v", err)
		}
		newTr.Close()
		return nil
	})
	if made != 1 {
		t.Errorf("ConnectionMade ran %d times, want 1", made)
	}
}

// test_ssl.py / test_sslproto.py: test_start_tls_slow_client_cancel: the
// server never answers the handshake; a StartTLS bounded by a 0.5 s
// WaitFor times out, and the server sees the connection end.
func TestSSL_test_start_tls_slow_client_cancel(t *testing.T) {
	_, clientCfg := testCerts()
	hello := bytes.Repeat([]byte("1"), tlsPayload)
	waiting := make(chan struct{})
	addr := goTCPServer(t, 1, func(c net.Conn) {
		if _, err := io.ReadFull(c, make([]byte, tlsPayload)); err != nil {
			t.Errorf("server: hello: %v", err)
		}
		close(waiting)
		io.Copy(io.Discard, c)
	})
	made := 0
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		tr, proto, err := asyncio.CreateConnection(ctx, func() *tlsClientProto { return newTLSClientProto(t, loop, &made) }, "127.0.0.1", addr.Port, nil)
		if err != nil {
			return err
		}
		defer tr.Close()
		tr.Write(hello)
		if _, err := asyncio.Await(ctx, asyncio.RunTrio(ctx, func(context.Context) (int, error) { <-waiting; return 0, nil })); err != nil {
			return err
		}
		start := asyncio.CreateTask(ctx, func(ctx context.Context) (asyncio.Transport, error) {
			return asyncio.StartTLS(ctx, tr, proto, clientCfg, false, &asyncio.TLSOptions{ServerHostname: "localhost"})
		})
		if _, err := asyncio.WaitFor[asyncio.Transport](ctx, start, 500*time.Millisecond); !errors.Is(err, asyncio.ErrTimeout) {
			t.Errorf("WaitFor(StartTLS) = %v, want ErrTimeout", err)
		}
		return nil
	})
	if made != 1 {
		t.Errorf("ConnectionMade ran %d times, want 1", made)
	}
}

// test_ssl.py: test_shutdown_cleanly: 25 TLS stream clients at once; each
// sends its data, reads the answer, then EOF at the server's
// close_notify, and closes cleanly.
func TestSSL_test_shutdown_cleanly(t *testing.T) {
	const total = 25
	serverCfg, clientCfg := testCerts()
	aData := bytes.Repeat([]byte("A"), 1024*16)
	addr := goTCPServer(t, total, func(c net.Conn) {
		tc := tls.Server(c, serverCfg)
		got := make([]byte, len(aData))
		if _, err := io.ReadFull(tc, got); err != nil || !bytes.Equal(got, aData) {
			t.Errorf("server: read %v", err)
			return
		}
		tc.Write([]byte("OK"))
		tc.CloseWrite()
	})
	cnt := 0
	msgs := streamsMain(t, func(ctx context.Context) error {
		var tasks []*asyncio.Task[int]
		for range total {
			tasks = append(tasks, asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
				r, w, err := asyncio.OpenConnection(ctx, "127.0.0.1", addr.Port,
					&asyncio.ConnectOptions{TLS: clientCfg, TLSOptions: asyncio.TLSOptions{ServerHostname: "localhost", HandshakeTimeout: 30 * time.Second}})
				if err != nil {
					return 0, err
				}
				w.Write(aData)
				if b, err := r.ReadExactly(ctx, 2); err != nil || string(b) != "OK" {
					t.Errorf("ReadExactly = %q, %v", b, err)
				}
				if b, err := r.Read(ctx, -1); err != nil || len(b) != 0 {
					t.Errorf("Read(-1) after close_notify = %q, %v", b, err)
				}
				cnt++
				w.Close()
				return 0, w.WaitClosed(ctx)
			}))
		}
		for _, task := range tasks {
			if _, err := asyncio.Await(ctx, task); err != nil {
				t.Errorf("client: %v", err)
			}
		}
		return nil
	})
	if cnt != total {
		t.Errorf("%d clients done, want %d", cnt, total)
	}
	if len(msgs) != 0 {
		t.Errorf("exception handler got %v", msgs)
	}
}

// test_ssl.py: test_flush_before_shutdown: data written just before
// Close is all delivered before the TLS shutdown (upstream holds the
// private SSL protocol's writing paused over the writes and the close;
// here the writes fill the buffers of a server that sleeps first).
func TestSSL_test_flush_before_shutdown(t *testing.T) {
	const chunk, size = 1024 * 128, 32
	serverCfg, clientCfg := testCerts()
	got := make(chan int, 1)
	addr := goTCPServer(t, 1, func(c net.Conn) {
		tc := tls.Server(c, serverCfg)
		ping := make([]byte, 4)
		if _, err := io.ReadFull(tc, ping); err != nil || string(ping) != "ping" {
			t.Errorf("server: ping %q, %v", ping, err)
		}
		tc.Write([]byte("pong"))
		time.Sleep(500 * time.Millisecond) // hopefully fill the TCP buffers
		n, _ := io.Copy(io.Discard, tc)
		got <- int(n)
	})
	streamsMain(t, func(ctx context.Context) error {
		r, w, err := asyncio.OpenConnection(ctx, "127.0.0.1", addr.Port,
			&asyncio.ConnectOptions{TLS: clientCfg, TLSOptions: asyncio.TLSOptions{ServerHostname: "localhost"}})
		if err != nil {
			return err
		}
		w.Write([]byte("ping"))
		if b, err := r.ReadExactly(ctx, 4); err != nil || string(b) != "pong" {
			t.Errorf("ReadExactly = %q, %v", b, err)
		}
		for range size {
			w.Write(bytes.Repeat([]byte("x"), chunk))
		}
		w.Close()
		w.WaitClosed(ctx)
		return nil
	})
	select {
	case n := <-got:
		if n != chunk*size {
			t.Errorf("server received %d bytes, want %d", n, chunk*size)
		}
	case <-time.After(30 * time.Second):
		t.Error("server did not finish")
	}
}

// test_ssl.py: test_ssl_connect_accepted_socket (test_connect_accepted_socket
// with server_ssl): an accepted socket made a transport, then TLS on the
// server side (ConnectAcceptedSocket has no TLS option: StartTLS does the
// handshake); a TLS client's message is received and answered, then the
// protocol sees EOF and ConnectionLost in order.
func TestSSL_test_ssl_connect_accepted_socket(t *testing.T) {
	serverCfg, clientCfg := testCerts()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	message := []byte("test data")
	response := make(chan string, 1)
	goAhead := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		cfg := clientCfg.Clone()
		cfg.ServerName = "localhost"
		raw, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			response <- err.Error()
			return
		}
		defer raw.Close()
		// the handshake starts once the server side is in StartTLS
		// (upstream hands ssl= to connect_accepted_socket itself)
		<-goAhead
		c := tls.Client(raw, cfg)
		c.SetDeadline(time.Now().Add(30 * time.Second))
		c.Write(message)
		b := make([]byte, 99)
		n, _ := c.Read(b)
		response <- string(b[:n])
	}()
	defer wg.Wait()
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, loop)
		var tlsTr asyncio.Transport
		answered := false
		p.onData = func(p *recProto, b []byte) {
			// data may arrive before StartTLS's caller resumes
			if tlsTr != nil && !answered {
				answered = true
				tlsTr.Write([]byte("roger"))
			}
		}
		tr, _, err := asyncio.ConnectAcceptedSocket(ctx, func() *recProto { return p }, conn)
		if err != nil {
			conn.Close()
			return err
		}
		start := asyncio.CreateTask(ctx, func(ctx context.Context) (asyncio.Transport, error) {
			return asyncio.StartTLS(ctx, tr, p, serverCfg, true, &asyncio.TLSOptions{HandshakeTimeout: 30 * time.Second})
		})
		asyncio.Sleep(ctx, 0)
		close(goAhead)
		tlsTr, err = asyncio.Await(ctx, start)
		if err != nil {
			return err
		}
		if p.data.Len() > 0 && !answered {
			answered = true
			tlsTr.Write([]byte("roger"))
		}
		if tlsTr.GetExtraInfo("peercert") == nil && tlsTr.GetExtraInfo("sslcontext") == nil {
			t.Error("the transport after StartTLS has no TLS extra info")
		}
		if _, err := asyncio.WaitFor[struct{}](ctx, p.done, 30*time.Second); err != nil {
			return err
		}
		if p.state != "CLOSED" || p.data.String() != string(message) {
			t.Errorf("state %s, data %q", p.state, p.data.String())
		}
		tlsTr.Close()
		return nil
	})
	if got := <-response; got != "roger" {
		t.Errorf("client got %q, want roger", got)
	}
}

// test_ssl.py / test_sslproto.py: test_start_tls_client_corrupted_ssl:
// the server writes garbage into the raw connection under TLS; the
// client's ReadLine fails with a TLS error (not a clean EOF), and Close
// still completes.
func TestSSL_test_start_tls_client_corrupted_ssl(t *testing.T) {
	serverCfg, clientCfg := testCerts()
	addr := goTCPServer(t, 1, func(c net.Conn) {
		tc := tls.Server(c, serverCfg)
		if _, err := tc.Write([]byte("A\n")); err != nil {
			return
		}
		tc.Read(make([]byte, 1))
		c.Write([]byte("please corrupt the SSL connection"))
	})
	res := ""
	streamsMain(t, func(ctx context.Context) error {
		r, w, err := asyncio.OpenConnection(ctx, "127.0.0.1", addr.Port,
			&asyncio.ConnectOptions{TLS: clientCfg, TLSOptions: asyncio.TLSOptions{ServerHostname: "localhost"}})
		if err != nil {
			return err
		}
		if line, err := r.ReadLine(ctx); err != nil || string(line) != "A\n" {
			t.Errorf("ReadLine = %q, %v", line, err)
		}
		w.Write([]byte("B"))
		line, err := r.ReadLine(ctx)
		if err == nil {
			t.Errorf("ReadLine over a corrupted TLS stream = %q, nil; want an error", line)
		}
		w.Close()
		w.WaitClosed(ctx) // may return the TLS error, as upstream
		res = "OK"
		return nil
	})
	if res != "OK" {
		t.Error("client did not finish")
	}
}

// test_sslproto.py: test_get_extra_info_on_closed_connection, over a
// real TLS connection: "socket" is there while connected, nil once the
// connection is lost.
func TestSSLProto_test_get_extra_info_on_closed_connection(t *testing.T) {
	serverCfg, clientCfg := testCerts()
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		srv, err := asyncio.CreateServer(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", 0, &asyncio.ServerOptions{TLS: serverCfg})
		if err != nil {
			return err
		}
		defer srv.Close()
		p := newRecProto(t, loop)
		tr, _, err := asyncio.CreateConnection(ctx, func() *recProto { return p }, "127.0.0.1", mustAddr(t, srv).Port,
			&asyncio.ConnectOptions{TLS: clientCfg, TLSOptions: asyncio.TLSOptions{ServerHostname: "localhost"}})
		if err != nil {
			return err
		}
		if tr.GetExtraInfo("socket") == nil {
			t.Error(`GetExtraInfo("socket") = nil while connected`)
		}
		tr.Close()
		if _, err := asyncio.WaitFor[struct{}](ctx, p.done, 10*time.Second); err != nil {
			return err
		}
		if v := tr.GetExtraInfo("socket"); v != nil {
			t.Errorf(`GetExtraInfo("socket") = %v after the connection is lost, want nil`, v)
		}
		return nil
	})
}

// test_sslproto.py: test_write_after_closing and
// test_data_received_after_closing, over a real TLS connection: a Write
// after Close does not panic and sends nothing; data the peer sends
// after the Close reaches no DataReceived.
func TestSSLProto_test_write_after_closing(t *testing.T) {
	serverCfg, clientCfg := testCerts()
	got := make(chan string, 1)
	addr := goTCPServer(t, 1, func(c net.Conn) {
		tc := tls.Server(c, serverCfg)
		b := make([]byte, 5)
		if _, err := io.ReadFull(tc, b); err != nil {
			got <- err.Error()
			return
		}
		tc.Write([]byte("late data"))
		rest, _ := io.ReadAll(tc)
		got <- string(b) + string(rest)
	})
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, loop)
		tr, _, err := asyncio.CreateConnection(ctx, func() *recProto { return p }, "127.0.0.1", addr.Port,
			&asyncio.ConnectOptions{TLS: clientCfg, TLSOptions: asyncio.TLSOptions{ServerHostname: "localhost"}})
		if err != nil {
			return err
		}
		tr.Write([]byte("first"))
		tr.Close()
		tr.Write([]byte("data")) // must not panic
		if _, err := asyncio.WaitFor[struct{}](ctx, p.done, 10*time.Second); err != nil {
			return err
		}
		if p.data.Len() != 0 {
			t.Errorf("DataReceived after Close: %q", p.data.String())
		}
		return nil
	})
	select {
	case s := <-got:
		if s != "first" {
			t.Errorf("server received %q, want \"first\"", s)
		}
	case <-time.After(30 * time.Second):
		t.Error("server did not finish")
	}
}

// tlsServerProto is test_ssl.py's ServerProto for test_start_tls_server_1.
type tlsServerProto struct {
	asyncio.ProtocolBase
	onCon     *asyncio.Future[asyncio.Transport]
	onEOF     *asyncio.Future[struct{}]
	onConLost *asyncio.Future[struct{}]
	data      bytes.Buffer
}

func (p *tlsServerProto) ConnectionMade(tr asyncio.Transport) { p.onCon.SetResult(tr) }
func (p *tlsServerProto) DataReceived(b []byte)               { p.data.Write(b) }
func (p *tlsServerProto) EOFReceived() bool                   { p.onEOF.SetResult(struct{}{}); return false }
func (p *tlsServerProto) ConnectionLost(err error) {
	if err == nil {
		p.onConLost.SetResult(struct{}{})
	} else {
		p.onConLost.SetException(err)
	}
}

// test_ssl.py / test_sslproto.py: test_start_tls_server_1: a Protocol
// server sends a plain hello, then StartTLS (server side); the client
// sends its hello over TLS and shuts TLS down: the protocol gets the
// data, EOFReceived, then ConnectionLost(nil).
func TestSSL_test_start_tls_server_1(t *testing.T) {
	serverCfg, clientCfg := testCerts()
	hello := bytes.Repeat([]byte("1"), tlsPayload)
	var clientWG sync.WaitGroup
	defer clientWG.Wait()
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		proto := &tlsServerProto{onCon: asyncio.NewFuture[asyncio.Transport](loop),
			onEOF: asyncio.NewFuture[struct{}](loop), onConLost: asyncio.NewFuture[struct{}](loop)}
		srv, err := asyncio.CreateServer(ctx, func() *tlsServerProto { return proto }, "127.0.0.1", 0, nil)
		if err != nil {
			return err
		}
		defer func() { srv.Close(); srv.WaitClosed(ctx) }()
		addr := srv.Sockets()[0].String()
		clientWG.Add(1)
		go func() {
			defer clientWG.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Errorf("client: %v", err)
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(30 * time.Second))
			if _, err := io.ReadFull(c, make([]byte, tlsPayload)); err != nil {
				t.Errorf("client: plain hello: %v", err)
				return
			}
			cfg := clientCfg.Clone()
			cfg.ServerName = "localhost"
			tc := tls.Client(c, cfg)
			if _, err := tc.Write(hello); err != nil {
				t.Errorf("client: hello over TLS: %v", err)
				return
			}
			tc.CloseWrite() // unwrap
		}()
		tr, err := asyncio.WaitFor[asyncio.Transport](ctx, proto.onCon, 30*time.Second)
		if err != nil {
			return err
		}
		tr.Write(hello)
		if proto.data.Len() != 0 {
			t.Errorf("data before StartTLS: %d bytes", proto.data.Len())
		}
		newTr, err := asyncio.StartTLS(ctx, tr, proto, serverCfg, true, &asyncio.TLSOptions{HandshakeTimeout: 30 * time.Second})
		if err != nil {
			return err
		}
		if _, err := asyncio.WaitFor[struct{}](ctx, proto.onEOF, 30*time.Second); err != nil {
			t.Errorf("EOFReceived: %v", err)
		}
		if _, err := asyncio.WaitFor[struct{}](ctx, proto.onConLost, 30*time.Second); err != nil {
			t.Errorf("ConnectionLost: %v", err)
		}
		if !bytes.Equal(proto.data.Bytes(), hello) {
			t.Errorf("received %d bytes over TLS, want %d", proto.data.Len(), len(hello))
		}
		newTr.Close()
		return nil
	})
}

// test_ssl.py / test_sslproto.py: test_create_connection_ssl_slow_handshake:
// a server that reads and never answers the handshake; CreateConnection
// with a 1 s handshake timeout fails with ErrTLSHandshakeTimeout naming
// the timeout, reporting nothing to the exception handler.
func TestSSL_test_create_connection_ssl_slow_handshake(t *testing.T) {
	_, clientCfg := testCerts()
	addr := goTCPServer(t, 1, func(c net.Conn) { io.Copy(io.Discard, c) })
	msgs := streamsMain(t, func(ctx context.Context) error {
		start := time.Now()
		_, _, err := asyncio.CreateConnection(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, "127.0.0.1", addr.Port,
			&asyncio.ConnectOptions{TLS: clientCfg, TLSOptions: asyncio.TLSOptions{ServerHostname: "localhost", HandshakeTimeout: time.Second}})
		if !errors.Is(err, asyncio.ErrTLSHandshakeTimeout) || !strings.Contains(err.Error(), "1s") {
			t.Errorf("CreateConnection = %v, want ErrTLSHandshakeTimeout after 1s", err)
		}
		if d := time.Since(start); d < 900*time.Millisecond || d > 20*time.Second {
			t.Errorf("gave up after %v, want about 1s", d)
		}
		return nil
	})
	if len(msgs) != 0 {
		t.Errorf("exception handler got %v", msgs)
	}
}

// test_sslproto.py: test_handshake_timeout_zero and
// test_handshake_timeout_negative. asyncio refuses them with ValueError;
// TLSOptions documents 0 as "the default (60 s)", and a negative value
// is taken the same way: the handshake is not cut short.
func TestSSLProto_test_handshake_timeout_zero_or_negative(t *testing.T) {
	serverCfg, clientCfg := testCerts()
	for _, d := range []time.Duration{0, -10 * time.Second} {
		streamsMain(t, func(ctx context.Context) error {
			srv, err := asyncio.CreateServer(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", 0,
				&asyncio.ServerOptions{TLS: serverCfg, TLSOptions: asyncio.TLSOptions{HandshakeTimeout: d}})
			if err != nil {
				return err
			}
			defer srv.Close()
			tr, _, err := asyncio.CreateConnection(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", mustAddr(t, srv).Port,
				&asyncio.ConnectOptions{TLS: clientCfg, TLSOptions: asyncio.TLSOptions{ServerHostname: "localhost", HandshakeTimeout: d}})
			if err != nil {
				t.Errorf("HandshakeTimeout %v: %v", d, err)
				return nil
			}
			tr.Close()
			return nil
		})
	}
}

// test_sslproto.py: test_eof_received_waiter and test_connection_lost
// (#472), over real sockets: the peer half-closes (EOF), or resets, the
// connection during the handshake; CreateConnection returns an error
// (asyncio's waiter gets ConnectionResetError / the connection's error)
// instead of hanging.
func TestSSLProto_test_eof_received_waiter(t *testing.T) {
	_, clientCfg := testCerts()
	for _, how := range []string{"eof", "reset"} {
		addr := goTCPServer(t, 1, func(c net.Conn) {
			c.Read(make([]byte, 16*1024))
			if how == "eof" {
				c.(*net.TCPConn).CloseWrite()
				io.Copy(io.Discard, c)
			} else {
				c.(*net.TCPConn).SetLinger(0)
			}
		})
		streamsMain(t, func(ctx context.Context) error {
			_, _, err := asyncio.CreateConnection(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, "127.0.0.1", addr.Port,
				&asyncio.ConnectOptions{TLS: clientCfg, TLSOptions: asyncio.TLSOptions{ServerHostname: "localhost", HandshakeTimeout: 20 * time.Second}})
			switch {
			case err == nil:
				t.Errorf("%s during the handshake: CreateConnection succeeded", how)
			case errors.Is(err, asyncio.ErrTLSHandshakeTimeout):
				t.Errorf("%s during the handshake: %v, want the connection's error, not a timeout", how, err)
			case how == "reset" && !errors.Is(err, syscall.ECONNRESET):
				t.Errorf("reset during the handshake: %v, want ECONNRESET", err)
			}
			return nil
		})
	}
}

// test_ssl.py: test_remote_shutdown_receives_trailing_data: the server
// shuts its side down (close_notify, or a plain TCP EOF under TLS) while
// the client still has a large write backlog; the client's reader ends
// (EOF or a reset) and the server still receives all the data. Upstream
// fills the backlog with a private hook; here with 4 MiB of Writes.
func TestSSL_test_remote_shutdown_receives_trailing_data(t *testing.T) {
	const chunk, size = 1024 * 128, 32
	serverCfg, clientCfg := testCerts()
	for _, how := range []string{"close_notify", "eof"} {
		got := make(chan int, 1)
		addr := goTCPServer(t, 1, func(c net.Conn) {
			tc := tls.Server(c, serverCfg)
			ping := make([]byte, 4)
			if _, err := io.ReadFull(tc, ping); err != nil || string(ping) != "ping" {
				t.Errorf("server: ping %q, %v", ping, err)
			}
			tc.Write([]byte("pong"))
			time.Sleep(200 * time.Millisecond) // let the client fill its backlog
			if how == "close_notify" {
				tc.CloseWrite()
			} else {
				c.(*net.TCPConn).CloseWrite()
			}
			n, _ := io.Copy(io.Discard, tc)
			got <- int(n)
		})
		streamsMain(t, func(ctx context.Context) error {
			r, w, err := asyncio.OpenConnection(ctx, "127.0.0.1", addr.Port,
				&asyncio.ConnectOptions{TLS: clientCfg, TLSOptions: asyncio.TLSOptions{ServerHostname: "localhost"}})
			if err != nil {
				return err
			}
			w.Write([]byte("ping"))
			if b, err := r.ReadExactly(ctx, 4); err != nil || string(b) != "pong" {
				t.Errorf("ReadExactly = %q, %v", b, err)
			}
			for range size {
				w.Write(bytes.Repeat([]byte("x"), chunk))
			}
			if b, err := r.Read(ctx, -1); len(b) != 0 || (err != nil && !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE)) {
				t.Errorf("%s: Read(-1) = %q, %v; want EOF or a reset", how, b, err)
			}
			n := offLoop(ctx, func() int {
				select {
				case n := <-got:
					return n
				case <-time.After(30 * time.Second):
					t.Errorf("%s: server did not finish", how)
					return -1
				}
			})
			if n != chunk*size {
				t.Errorf("%s: server received %d bytes, want %d", how, n, chunk*size)
			}
			w.Close()
			w.WaitClosed(ctx)
			return nil
		})
	}
}

// test_sslproto.py: test_buf_feed_data: a BufferedProtocol over TLS gets
// the plaintext whole and in order whatever its buffer's size (1, 2, 4,
// 100 bytes); an empty buffer fails the connection (reported, and
// ConnectionLost gets the error) instead of hanging.
func TestSSLProto_test_buf_feed_data(t *testing.T) {
	serverCfg, clientCfg := testCerts()
	for _, size := range []int{1, 2, 4, 100, 0} {
		addr := goTCPServer(t, 1, func(c net.Conn) {
			tc := tls.Server(c, serverCfg)
			tc.Write([]byte("12345"))
			io.ReadAll(tc)
		})
		var p *bufRecProto
		msgs := streamsMain(t, func(ctx context.Context) error {
			loop, _ := asyncio.GetRunningLoop(ctx)
			p = newBufRec(t, loop)
			p.buf = make([]byte, size)
			tr, _, err := asyncio.CreateConnection(ctx, func() *bufRecProto { return p }, "127.0.0.1", addr.Port,
				&asyncio.ConnectOptions{TLS: clientCfg, TLSOptions: asyncio.TLSOptions{ServerHostname: "localhost"}})
			if err != nil {
				return err
			}
			if size == 0 {
				_, err := asyncio.WaitFor(ctx, p.done, 10*time.Second)
				return err
			}
			for p.data.Len() < 5 {
				p.gotData.Clear()
				if err := asyncio.Timeout(ctx, 10*time.Second, func(ctx context.Context, _ *asyncio.TimeoutScope) error { return p.gotData.Wait(ctx) }); err != nil {
					return err
				}
			}
			tr.Close()
			return nil
		})
		if size == 0 {
			if p.lostErr == nil || len(msgs) != 1 {
				t.Errorf("empty buffer: ConnectionLost(%v), %d reports; want the error, 1", p.lostErr, len(msgs))
			}
			continue
		}
		if p.data.String() != "12345" {
			t.Errorf("buffer of %d: got %q", size, p.data.String())
		}
	}
}

// test_sslproto.py: test_start_tls_wrong_args: StartTLS without a TLS
// config is a programmer's error: it panics, naming it.
func TestSSLProto_test_start_tls_wrong_args(t *testing.T) {
	pp := newPlainPeer(t)
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, loop)
		tr, _, err := asyncio.CreateConnection(ctx, func() *recProto { return p }, "127.0.0.1", pp.port(), nil)
		if err != nil {
			return err
		}
		defer tr.Close()
		v := mustPanic(t, func() { asyncio.StartTLS(ctx, tr, p, nil, false, nil) })
		if !strings.Contains(fmt.Sprint(v), "tls.Config") {
			t.Errorf("panic %v, want one naming the missing tls.Config", v)
		}
		return nil
	})
}

// test_ssl.py: test_connect_timeout_warning: a TLS CreateConnection to a
// port bound but not listening fails (connection refused) and leaves no
// socket open behind it.
func TestSSL_test_connect_timeout_warning(t *testing.T) {
	_, clientCfg := testCerts()
	fd, err := asyncio.Socket(syscall.AF_INET, syscall.SOCK_STREAM, false)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, _ := syscall.Getsockname(fd)
	port := sa.(*syscall.SockaddrInet4).Port
	fds0 := openFds(t)
	streamsMain(t, func(ctx context.Context) error {
		_, err := asyncio.WaitFor(ctx, asyncio.CreateTask(ctx, func(ctx context.Context) (asyncio.Transport, error) {
			tr, _, err := asyncio.CreateConnection(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, "127.0.0.1", port,
				&asyncio.ConnectOptions{TLS: clientCfg})
			return tr, err
		}), 5*time.Second)
		if !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, asyncio.ErrTimeout) {
			t.Errorf("CreateConnection = %v, want connection refused (or a timeout)", err)
		}
		return nil
	})
	if fds := openFds(t); fds != fds0 {
		t.Errorf("open fds: %d before, %d after", fds0, fds)
	}
}

// test_ssl.py: test_shutdown_timeout_handler_not_set: plaintext that
// arrives while reading is paused, followed by the server's end of
// stream, is delivered after ResumeReading, then the connection ends
// (ConnectionLost) and the transport closes cleanly.
func TestSSL_test_shutdown_timeout_handler_not_set(t *testing.T) {
	serverCfg, clientCfg := testCerts()
	eof := make(chan struct{})
	addr := goTCPServer(t, 1, func(c net.Conn) {
		tc := tls.Server(c, serverCfg)
		tc.Write([]byte("hello"))
		b := make([]byte, 5)
		if _, err := io.ReadFull(tc, b); err != nil || string(b) != "world" {
			close(eof)
			return
		}
		tc.Write([]byte("extra bytes"))
		c.(*net.TCPConn).CloseWrite() // a plain EOF, no close_notify
		close(eof)
		io.ReadAll(c)
	})
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, loop)
		p.onData = func(p *recProto, b []byte) {
			if string(b) == "hello" {
				p.transport.Write([]byte("world"))
				p.transport.PauseReading()
			}
		}
		tr, _, err := asyncio.CreateConnection(ctx, func() *recProto { return p }, "127.0.0.1", addr.Port,
			&asyncio.ConnectOptions{TLS: clientCfg, TLSOptions: asyncio.TLSOptions{ServerHostname: "localhost"}})
		if err != nil {
			return err
		}
		offLoop(ctx, func() struct{} { <-eof; return struct{}{} })
		asyncio.Sleep(ctx, 50*time.Millisecond) // let the EOF reach the paused transport
		tr.ResumeReading()
		if _, err := asyncio.WaitFor(ctx, p.done, 10*time.Second); err != nil {
			return err
		}
		tr.Close()
		if p.data.String() != "helloextra bytes" {
			t.Errorf("received %q, want \"helloextra bytes\"", p.data.String())
		}
		return nil
	})
}

// sslOverSSLProto upgrades its (TLS) connection to TLS again on
// ConnectionMade, then echoes. As in asyncio, the first plaintext can
// reach DataReceived as soon as the inner handshake is done, before
// StartTLS has returned the inner transport to the task; it is kept
// until then (CPython's test keeps it in its StreamReader).
type sslOverSSLProto struct {
	asyncio.ProtocolBase
	ctx     context.Context
	cfg     *tls.Config
	started bool
	inner   asyncio.Transport
	early   [][]byte
	err     chan error
}

func (p *sslOverSSLProto) ConnectionMade(tr asyncio.Transport) {
	if p.started {
		return
	}
	p.started = true
	// As CPython's test does: nothing is read until StartTLS has taken
	// over the transport, or the inner ClientHello would reach this
	// protocol's DataReceived instead of the new TLS layer.
	tr.PauseReading()
	asyncio.CreateTask(p.ctx, func(ctx context.Context) (int, error) {
		in, err := asyncio.StartTLS(ctx, tr, p, p.cfg, true, nil)
		if err == nil {
			p.inner = in
			for _, b := range p.early {
				in.Write(b)
			}
			p.early = nil
		}
		p.err <- err
		return 0, nil
	})
}

func (p *sslOverSSLProto) DataReceived(b []byte) {
	if p.inner == nil {
		p.early = append(p.early, append([]byte(nil), b...))
		return
	}
	p.inner.Write(b)
}

// test_ssl.py: test_create_server_ssl_over_ssl: a TLS server whose
// protocol upgrades each connection to TLS a second time (StartTLS over
// the TLS transport); a client speaking TLS inside TLS is echoed.
func TestSSL_test_create_server_ssl_over_ssl(t *testing.T) {
	serverCfg, clientCfg := testCerts()
	msgs := streamsMain(t, func(ctx context.Context) error {
		errs := make(chan error, 4)
		srv, err := asyncio.CreateServer(ctx, func() *sslOverSSLProto {
			return &sslOverSSLProto{ctx: ctx, cfg: serverCfg, err: errs}
		}, "127.0.0.1", 0, &asyncio.ServerOptions{TLS: serverCfg})
		if err != nil {
			return err
		}
		defer srv.Close()
		a := mustAddr(t, srv).String()
		got := offLoop(ctx, func() string {
			c, err := net.Dial("tcp", a)
			if err != nil {
				return err.Error()
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(20 * time.Second))
			cfg := clientCfg.Clone()
			cfg.ServerName = "localhost"
			outer := tls.Client(c, cfg)
			inner := tls.Client(outer, cfg)
			if _, err := inner.Write([]byte("ping over two TLS layers")); err != nil {
				return err.Error()
			}
			b := make([]byte, 24)
			if _, err := io.ReadFull(inner, b); err != nil {
				return err.Error()
			}
			return string(b)
		})
		if got != "ping over two TLS layers" {
			t.Errorf("echo over TLS-in-TLS: %q", got)
		}
		select {
		case err := <-errs:
			if err != nil {
				t.Errorf("server StartTLS: %v", err)
			}
		default:
			t.Error("server StartTLS did not finish")
		}
		return nil
	})
	for _, m := range msgs {
		t.Errorf("exception handler: %s: %v", m.Message, m.Err)
	}
}
