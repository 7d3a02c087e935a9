//go:build unix

package asyncio_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// testCerts is a CA and a server certificate for localhost, 127.0.0.1
// and ::1, generated once per test run.
var testCerts = sync.OnceValues(func() (*tls.Config, *tls.Config) {
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, _ := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, _ := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	server := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	client := &tls.Config{RootCAs: pool}
	return server, client
})

// test_ssl.py: test_create_connection_ssl_1 / test_create_server_ssl: a
// TLS echo server and client on one loop; extra info; 1 MiB echoed whole.
func TestSSL_test_create_server_ssl(t *testing.T) {
	serverCfg, clientCfg := testCerts()
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		srv, err := asyncio.CreateServer(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", 0,
			&asyncio.ServerOptions{TLS: serverCfg})
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		proto := newRecProto(t, loop)
		tr, _, err := asyncio.CreateConnection(ctx, func() *recProto { return proto }, "127.0.0.1", mustAddr(t, srv).Port,
			&asyncio.ConnectOptions{TLS: clientCfg})
		if err != nil {
			return 0, err
		}
		if proto.state != "CONNECTED" {
			t.Errorf("state %s after CreateConnection", proto.state)
		}
		if cert, _ := tr.GetExtraInfo("peercert").(*x509.Certificate); cert == nil || cert.Subject.CommonName != "localhost" {
			t.Errorf("peercert %v", tr.GetExtraInfo("peercert"))
		}
		if c, _ := tr.GetExtraInfo("cipher").(string); c == "" {
			t.Error("no cipher")
		}
		if tr.GetExtraInfo("sslcontext") != clientCfg || tr.GetExtraInfo("peername") == nil {
			t.Error("sslcontext or peername missing")
		}
		if tr.CanWriteEOF() || !errors.Is(tr.WriteEOF(), asyncio.ErrTLSWriteEOF) {
			t.Error("WriteEOF on TLS")
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

// test_ssl.py: test_create_connection_ssl_failed_certificate: the server's
// certificate is not trusted; the handshake error is returned.
func TestSSL_test_create_connection_ssl_failed_certificate(t *testing.T) {
	serverCfg, _ := testCerts()
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		srv, err := asyncio.CreateServer(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", 0,
			&asyncio.ServerOptions{TLS: serverCfg})
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		_, _, err = asyncio.CreateConnection(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", mustAddr(t, srv).Port,
			&asyncio.ConnectOptions{TLS: &tls.Config{}})
		return 0, err
	})
	var verr *tls.CertificateVerificationError
	if !errors.As(err, &verr) {
		t.Fatalf("err = %v, want a certificate verification error", err)
	}
}

// test_sslproto.py: test_handshake_timeout: a server that never answers
// the handshake; the client gives up after its timeout.
func TestSSLProto_test_handshake_timeout(t *testing.T) {
	_, clientCfg := testCerts()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	}()
	start := time.Now()
	_, err = runMain(t, func(ctx context.Context) (int, error) {
		_, _, err := asyncio.CreateConnection(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", ln.Addr().(*net.TCPAddr).Port,
			&asyncio.ConnectOptions{TLS: clientCfg, TLSOptions: asyncio.TLSOptions{HandshakeTimeout: 200 * time.Millisecond}})
		return 0, err
	})
	if !errors.Is(err, asyncio.ErrTLSHandshakeTimeout) {
		t.Fatalf("err = %v, want ErrTLSHandshakeTimeout", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("took %v", d)
	}
}

// test_ssl.py: test_start_tls_client_1 / test_start_tls_server_1 over
// streams: a plain exchange, then both sides upgrade (StreamWriter.
// StartTLS) and go on over TLS.
func TestSSL_test_start_tls_streams(t *testing.T) {
	serverCfg, clientCfg := testCerts()
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		srv, err := asyncio.StartServer(ctx, func(ctx context.Context, r *asyncio.StreamReader, w *asyncio.StreamWriter) error {
			line, err := r.ReadLine(ctx)
			if err != nil || string(line) != "STARTTLS\n" {
				t.Errorf("server got %q, %v", line, err)
				return err
			}
			w.Write([]byte("GO AHEAD\n"))
			if err := w.StartTLS(ctx, serverCfg, nil); err != nil {
				return err
			}
			line, err = r.ReadLine(ctx)
			if err != nil {
				return err
			}
			w.Write(append([]byte("secret: "), line...))
			if err := w.Drain(ctx); err != nil {
				return err
			}
			w.Close()
			return nil
		}, "127.0.0.1", 0, nil)
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		r, w, err := asyncio.OpenConnection(ctx, "localhost", mustAddr(t, srv).Port, nil)
		if err != nil {
			return 0, err
		}
		w.Write([]byte("STARTTLS\n"))
		if line, err := r.ReadLine(ctx); err != nil || string(line) != "GO AHEAD\n" {
			t.Errorf("client got %q, %v", line, err)
		}
		if err := w.StartTLS(ctx, clientCfg, &asyncio.TLSOptions{ServerHostname: "localhost"}); err != nil {
			return 0, err
		}
		if w.GetExtraInfo("peercert") == nil {
			t.Error("no peercert after StartTLS")
		}
		w.Write([]byte("hello\n"))
		all, err := r.Read(ctx, -1)
		if err != nil || string(all) != "secret: hello\n" {
			t.Errorf("over TLS: %q, %v", all, err)
		}
		w.Close()
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Teardown with TLS connections open: their goroutines end with the loop
// (goleak checks the rest of the package's run).
func TestSSL_teardown_with_open_connections(t *testing.T) {
	serverCfg, clientCfg := testCerts()
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		srv, err := asyncio.CreateServer(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", 0,
			&asyncio.ServerOptions{TLS: serverCfg})
		if err != nil {
			return 0, err
		}
		for i := 0; i < 3; i++ {
			tr, _, err := asyncio.CreateConnection(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", mustAddr(t, srv).Port,
				&asyncio.ConnectOptions{TLS: clientCfg})
			if err != nil {
				return 0, err
			}
			tr.Write(make([]byte, 1<<20))
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
