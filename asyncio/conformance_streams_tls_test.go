//go:build unix

package asyncio_test

import (
	"context"
	"crypto/tls"
	"net"
	"testing"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// test_streams.py: test_open_connection_no_loop_ssl: OpenConnection with
// TLS to a TLS test server; the request's answer is read whole.
func TestStreams_test_open_connection_no_loop_ssl(t *testing.T) {
	serverCfg, clientCfg := testCerts()
	addr := runTestServer(t, "tcp", "127.0.0.1:0")
	// a TLS front for the plain test server
	ln, err := tls.Listen("tcp", "127.0.0.1:0", serverCfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		b, err := net.Dial("tcp", addr.String())
		if err != nil {
			return
		}
		defer b.Close()
		buf := make([]byte, 4096)
		n, _ := c.Read(buf)
		b.Write(buf[:n])
		for {
			n, err := b.Read(buf)
			if n > 0 {
				c.Write(buf[:n])
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() { ln.Close(); <-done }()
	msgs := streamsMain(t, func(ctx context.Context) error {
		r, w, err := asyncio.OpenConnection(ctx, "127.0.0.1", ln.Addr().(*net.TCPAddr).Port,
			&asyncio.ConnectOptions{TLS: clientCfg, TLSOptions: asyncio.TLSOptions{ServerHostname: "localhost"}})
		if err != nil {
			return err
		}
		request(t, ctx, r, w)
		readBody(t, ctx, r)
		w.Close()
		return w.WaitClosed(ctx)
	})
	if len(msgs) != 0 {
		t.Errorf("exception handler got %v", msgs)
	}
}

// test_streams.py: test_start_tls: both ends of a stream connection
// upgrade with StreamWriter.StartTLS; "sslcontext" extra info is nil
// before and set after; lines echo on both sides of the upgrade.
func TestStreams_test_start_tls(t *testing.T) {
	serverCfg, clientCfg := testCerts()
	_, err := runMain(t, func(ctx context.Context) ([2]string, error) {
		srv, err := asyncio.StartServer(ctx, func(ctx context.Context, r *asyncio.StreamReader, w *asyncio.StreamWriter) error {
			data1, err := r.ReadLine(ctx)
			if err != nil {
				return err
			}
			w.Write(data1)
			if err := w.Drain(ctx); err != nil {
				return err
			}
			if w.GetExtraInfo("sslcontext") != nil {
				t.Error("server: sslcontext before StartTLS")
			}
			if err := w.StartTLS(ctx, serverCfg, nil); err != nil {
				return err
			}
			if w.GetExtraInfo("sslcontext") == nil {
				t.Error("server: no sslcontext after StartTLS")
			}
			data2, err := r.ReadLine(ctx)
			if err != nil {
				return err
			}
			w.Write(data2)
			if err := w.Drain(ctx); err != nil {
				return err
			}
			w.Close()
			return w.WaitClosed(ctx)
		}, "127.0.0.1", 0, nil)
		if err != nil {
			return [2]string{}, err
		}
		defer func() { srv.Close(); srv.WaitClosed(ctx) }()
		r, w, err := asyncio.OpenConnection(ctx, "127.0.0.1", mustAddr(t, srv).Port, nil)
		if err != nil {
			return [2]string{}, err
		}
		w.Write([]byte("hello world 1!\n"))
		w.Drain(ctx)
		msg1, _ := r.ReadLine(ctx)
		if w.GetExtraInfo("sslcontext") != nil {
			t.Error("client: sslcontext before StartTLS")
		}
		if err := w.StartTLS(ctx, clientCfg, &asyncio.TLSOptions{ServerHostname: "localhost"}); err != nil {
			return [2]string{}, err
		}
		if w.GetExtraInfo("sslcontext") == nil {
			t.Error("client: no sslcontext after StartTLS")
		}
		w.Write([]byte("hello world 2!\n"))
		w.Drain(ctx)
		msg2, _ := r.ReadLine(ctx)
		w.Close()
		w.WaitClosed(ctx)
		if string(msg1) != "hello world 1!\n" || string(msg2) != "hello world 2!\n" {
			t.Errorf("echoed %q, %q", msg1, msg2)
		}
		return [2]string{string(msg1), string(msg2)}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
