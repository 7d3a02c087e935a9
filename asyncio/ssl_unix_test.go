//go:build unix

package asyncio_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// TLS over Unix sockets: CreateUnixConnection, OpenUnixConnection,
// CreateUnixServer and StartUnixServer take the TLS config and options
// CreateConnection and CreateServer take. The certificates are
// testCerts' (a CA and a server certificate for localhost).

// unixPath is a fresh socket path in the test's temporary directory.
func unixPath(t *testing.T) string { return t.TempDir() + "/sock" }

// test_events.py: test_create_ssl_unix_connection. A TLS protocol server
// on a Unix socket, a TLS client naming the server "localhost": the
// transport has the TLS extra info and the peer's Unix address, and 1 MiB
// comes back whole.
func TestEvents_test_create_ssl_unix_connection(t *testing.T) {
	serverCfg, clientCfg := testCerts()
	path := unixPath(t)
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		srv, err := asyncio.CreateUnixServer(ctx, func() *echoProto { return &echoProto{} }, path,
			&asyncio.ServerOptions{TLS: serverCfg})
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		proto := newRecProto(t, loop)
		tr, _, err := asyncio.CreateUnixConnection(ctx, func() *recProto { return proto }, path,
			&asyncio.ConnectOptions{TLS: clientCfg, TLSOptions: asyncio.TLSOptions{ServerHostname: "localhost"}})
		if err != nil {
			return 0, err
		}
		if proto.state != "CONNECTED" {
			t.Errorf("state %s after CreateUnixConnection", proto.state)
		}
		if cert, _ := tr.GetExtraInfo("peercert").(*x509.Certificate); cert == nil || cert.Subject.CommonName != "localhost" {
			t.Errorf("peercert %v", tr.GetExtraInfo("peercert"))
		}
		if tr.GetExtraInfo("sslcontext") != clientCfg {
			t.Error("sslcontext missing")
		}
		if a, _ := tr.GetExtraInfo("peername").(*net.UnixAddr); a == nil || a.Name != path {
			t.Errorf("peername %v, want %s", tr.GetExtraInfo("peername"), path)
		}
		data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
		tr.Write(data)
		for proto.data.Len() < len(data) {
			proto.gotData.Clear()
			proto.gotData.Wait(ctx)
		}
		if !bytes.Equal(proto.data.Bytes(), data) {
			t.Error("echo differs")
		}
		tr.Close()
		asyncio.Await(ctx, proto.done)
		if proto.lostErr != nil {
			t.Errorf("ConnectionLost(%v)", proto.lostErr)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_events.py: test_create_ssl_unix_connection, its last part: with a
// config that does not trust the server's CA, the certificate check
// fails and its error is returned.
func TestEvents_test_create_ssl_unix_connection_untrusted(t *testing.T) {
	serverCfg, _ := testCerts()
	path := unixPath(t)
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		srv, err := asyncio.CreateUnixServer(ctx, func() *echoProto { return &echoProto{} }, path,
			&asyncio.ServerOptions{TLS: serverCfg})
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		_, _, err = asyncio.CreateUnixConnection(ctx, func() *echoProto { return &echoProto{} }, path,
			&asyncio.ConnectOptions{TLS: &tls.Config{}, TLSOptions: asyncio.TLSOptions{ServerHostname: "localhost"}})
		return 0, err
	})
	var verr *tls.CertificateVerificationError
	if !errors.As(err, &verr) {
		t.Fatalf("err = %v, want a certificate verification error", err)
	}
}

// create_unix_connection's "you have to pass server_hostname when using
// ssl": a Unix socket has no host name to check the certificate against,
// so a TLS connection without one is refused before connecting (the
// path does not even exist here).
func TestEvents_create_ssl_unix_connection_needs_server_hostname(t *testing.T) {
	_, clientCfg := testCerts()
	path := unixPath(t)
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		_, _, err := asyncio.CreateUnixConnection(ctx, func() *echoProto { return &echoProto{} }, path,
			&asyncio.ConnectOptions{TLS: clientCfg})
		if !errors.Is(err, asyncio.ErrTLSServerHostname) {
			t.Errorf("CreateUnixConnection = %v, want ErrTLSServerHostname", err)
		}
		_, _, err = asyncio.OpenUnixConnection(ctx, path, &asyncio.ConnectOptions{TLS: clientCfg})
		if !errors.Is(err, asyncio.ErrTLSServerHostname) {
			t.Errorf("OpenUnixConnection = %v, want ErrTLSServerHostname", err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_events.py: test_create_unix_server_ssl. The server's protocol
// sees the connection once the handshake is done and gets the client's
// 3 bytes; closing its transport ends it. The client skips verification,
// so it needs no server hostname (asyncio passes an empty server_hostname).
func TestEvents_test_create_unix_server_ssl(t *testing.T) {
	serverCfg, _ := testCerts()
	path := unixPath(t)
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		proto := newRecProto(t, loop)
		srv, err := asyncio.CreateUnixServer(ctx, func() *recProto { return proto }, path,
			&asyncio.ServerOptions{TLS: serverCfg})
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		client, _, err := asyncio.CreateUnixConnection(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, path,
			&asyncio.ConnectOptions{TLS: &tls.Config{InsecureSkipVerify: true}})
		if err != nil {
			return 0, err
		}
		client.Write([]byte("xxx"))
		if _, err := asyncio.Await(ctx, proto.connected); err != nil {
			return 0, err
		}
		if proto.state != "CONNECTED" {
			t.Errorf("server protocol state %s", proto.state)
		}
		if proto.transport.GetExtraInfo("sslcontext") != serverCfg {
			t.Error("the server's transport is not its TLS one")
		}
		for proto.data.Len() < 3 {
			proto.gotData.Clear()
			proto.gotData.Wait(ctx)
		}
		if proto.data.String() != "xxx" {
			t.Errorf("server got %q", proto.data.String())
		}
		proto.transport.Close()
		asyncio.Await(ctx, proto.done)
		if proto.state != "CLOSED" {
			t.Errorf("server protocol state %s after close", proto.state)
		}
		client.Close()
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_events.py: test_create_unix_server_ssl_verify_failed. A client
// that trusts no CA fails the handshake with a certificate error; the
// server's protocol is never made.
func TestEvents_test_create_unix_server_ssl_verify_failed(t *testing.T) {
	serverCfg, _ := testCerts()
	path := unixPath(t)
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		proto := newRecProto(t, loop)
		srv, err := asyncio.CreateUnixServer(ctx, func() *recProto { return proto }, path,
			&asyncio.ServerOptions{TLS: serverCfg})
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		_, _, err = asyncio.CreateUnixConnection(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, path,
			&asyncio.ConnectOptions{TLS: &tls.Config{}, TLSOptions: asyncio.TLSOptions{ServerHostname: "invalid"}})
		var verr *tls.CertificateVerificationError
		if !errors.As(err, &verr) {
			t.Errorf("CreateUnixConnection = %v, want a certificate verification error", err)
		}
		runBriefly(ctx)
		if proto.state != "INITIAL" || proto.transport != nil {
			t.Errorf("server protocol %s with transport %v, want never connected", proto.state, proto.transport)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_events.py: test_create_unix_server_ssl_verified. With the right CA
// and server hostname the connection is made on both sides.
func TestEvents_test_create_unix_server_ssl_verified(t *testing.T) {
	serverCfg, clientCfg := testCerts()
	path := unixPath(t)
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		proto := newRecProto(t, loop)
		srv, err := asyncio.CreateUnixServer(ctx, func() *recProto { return proto }, path,
			&asyncio.ServerOptions{TLS: serverCfg})
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		client, _, err := asyncio.CreateUnixConnection(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, path,
			&asyncio.ConnectOptions{TLS: clientCfg, TLSOptions: asyncio.TLSOptions{ServerHostname: "localhost"}})
		if err != nil {
			return 0, err
		}
		if _, err := asyncio.Await(ctx, proto.connected); err != nil {
			return 0, err
		}
		proto.transport.Close()
		client.Close()
		asyncio.Await(ctx, proto.done)
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_streams.py's TLS echo over a Unix socket: StartUnixServer and
// OpenUnixConnection with TLS, lines echoed, the reader's limit and the
// TLS options given through the same ConnectOptions.
func TestStreams_unix_tls(t *testing.T) {
	serverCfg, clientCfg := testCerts()
	path := unixPath(t)
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		srv, err := asyncio.StartUnixServer(ctx, streamEcho, path,
			&asyncio.ServerOptions{TLS: serverCfg, TLSOptions: asyncio.TLSOptions{HandshakeTimeout: 30 * time.Second, ShutdownTimeout: 30 * time.Second}})
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		r, w, err := asyncio.OpenUnixConnection(ctx, path, &asyncio.ConnectOptions{Limit: 64, TLS: clientCfg,
			TLSOptions: asyncio.TLSOptions{ServerHostname: "localhost", HandshakeTimeout: 30 * time.Second, ShutdownTimeout: 30 * time.Second}})
		if err != nil {
			return 0, err
		}
		if w.GetExtraInfo("peercert") == nil {
			t.Error("no peercert: the connection is not TLS")
		}
		w.Write([]byte("over TLS over Unix\n"))
		line, err := r.ReadLine(ctx)
		if err != nil || string(line) != "over TLS over Unix\n" {
			t.Errorf("ReadLine = %q, %v", line, err)
		}
		w.Write(append(bytes.Repeat([]byte("x"), 100), '\n'))
		if _, err := r.ReadLine(ctx); !errors.Is(err, asyncio.ErrLimitOverrun) {
			t.Errorf("a 101-byte line with limit 64: %v, want ErrLimitOverrun", err)
		}
		w.Close()
		return 0, w.WaitClosed(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// goUnixServer accepts up to max connections on a Unix socket at a fresh
// path and runs serve on each in a goroutine; everything ends with the
// test.
func goUnixServer(t *testing.T, max int, serve func(c net.Conn)) string {
	t.Helper()
	path := unixPath(t)
	ln, err := net.Listen("unix", path)
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
	return path
}

// The handshake timeout applies over a Unix socket, both ways: a client
// facing a server that never answers gives up with
// ErrTLSHandshakeTimeout; a server facing a client that never starts the
// handshake closes the connection.
func TestSSL_unix_handshake_timeout(t *testing.T) {
	serverCfg, clientCfg := testCerts()
	silent := goUnixServer(t, 1, func(c net.Conn) { io.Copy(io.Discard, c) })
	path := unixPath(t)
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		_, _, err := asyncio.OpenUnixConnection(ctx, silent, &asyncio.ConnectOptions{TLS: clientCfg,
			TLSOptions: asyncio.TLSOptions{ServerHostname: "localhost", HandshakeTimeout: 200 * time.Millisecond}})
		if !errors.Is(err, asyncio.ErrTLSHandshakeTimeout) {
			t.Errorf("client: %v, want ErrTLSHandshakeTimeout", err)
		}

		srv, err := asyncio.StartUnixServer(ctx, streamEcho, path,
			&asyncio.ServerOptions{TLS: serverCfg, TLSOptions: asyncio.TLSOptions{HandshakeTimeout: 200 * time.Millisecond}})
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		// A client that connects and sends nothing, off the loop.
		readErr, err := asyncio.ToThread(ctx, func(ctx context.Context) (error, error) {
			c, err := net.Dial("unix", path)
			if err != nil {
				return nil, err
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(30 * time.Second))
			_, err = c.Read(make([]byte, 1))
			return err, nil
		})
		if err != nil {
			return 0, err
		}
		if readErr != io.EOF && !errors.Is(readErr, syscall.ECONNRESET) {
			t.Errorf("silent client read %v, want the server to close the connection", readErr)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
