//go:build linux

package asyncio_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// closeAfterHello connects a TLS client to addr, sends "hello", closes
// the transport and waits for ConnectionLost; it returns the error
// ConnectionLost got.
func closeAfterHello(t *testing.T, addr *net.TCPAddr, clientCfg *tls.Config) error {
	t.Helper()
	var lost error
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, loop)
		tr, _, err := asyncio.CreateConnection(ctx, func() *recProto { return p }, "127.0.0.1", addr.Port,
			&asyncio.ConnectOptions{TLS: clientCfg, TLSOptions: asyncio.TLSOptions{ServerHostname: "localhost"}})
		if err != nil {
			return err
		}
		tr.Write([]byte("hello"))
		tr.Close()
		if _, err := asyncio.WaitFor(ctx, p.done, 20*time.Second); err != nil {
			return err
		}
		lost = p.lostErr
		return nil
	})
	return lost
}

// As in asyncio, Close sends close_notify and keeps the connection open
// until the peer answers with its own close_notify: the peer's answer is
// not written to a closed socket, and ConnectionLost gets nil.
func TestSSL_close_waits_for_peer_close_notify(t *testing.T) {
	serverCfg, clientCfg := testCerts()
	res := make(chan string, 1)
	addr := goTCPServer(t, 1, func(c net.Conn) {
		tc := tls.Server(c, serverCfg)
		b, err := io.ReadAll(tc) // up to the client's close_notify
		if err != nil || string(b) != "hello" {
			res <- "server read " + string(b) + ": " + errString(err)
			return
		}
		// The client must still be there, waiting for our close_notify:
		// its socket must not report an end of stream. (Closing early can
		// only be missed here, never made up.)
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		var one [1]byte
		_, err = c.Read(one[:])
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			res <- "the client closed before our close_notify: " + errString(err)
			return
		}
		c.SetDeadline(time.Now().Add(20 * time.Second))
		if err := tc.Close(); err != nil { // our close_notify
			res <- "server close_notify: " + err.Error()
			return
		}
		res <- "ok"
	})
	if err := closeAfterHello(t, addr, clientCfg); err != nil {
		t.Errorf("ConnectionLost(%v), want nil", err)
	}
	if s := <-res; s != "ok" {
		t.Error(s)
	}
}

// A peer that resets the connection instead of answering close_notify
// loses the closing end nothing: everything had been sent, and
// ConnectionLost gets nil.
func TestSSL_close_peer_resets_after_close_notify(t *testing.T) {
	serverCfg, clientCfg := testCerts()
	res := make(chan string, 1)
	addr := goTCPServer(t, 1, func(c net.Conn) {
		tc := tls.Server(c, serverCfg)
		b, err := io.ReadAll(tc)
		if err != nil || string(b) != "hello" {
			res <- "server read " + string(b) + ": " + errString(err)
			return
		}
		c.(*net.TCPConn).SetLinger(0) // Close sends a reset
		c.Close()
		res <- "ok"
	})
	if err := closeAfterHello(t, addr, clientCfg); err != nil {
		t.Errorf("ConnectionLost(%v), want nil", err)
	}
	if s := <-res; s != "ok" {
		t.Error(s)
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
