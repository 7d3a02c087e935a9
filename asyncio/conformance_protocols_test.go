//go:build unix

package asyncio_test

import (
	"context"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// The cases of CPython's test_protocols.py: the base classes' callbacks
// do nothing, and eof_received's default (false) closes the transport.
// Here ProtocolBase and SubprocessProtocolBase are used as the protocols
// of real connections, pipes, endpoints and children.

// baseOnly is a protocol made of ProtocolBase alone.
type baseOnly struct{ asyncio.ProtocolBase }

// baseBuffered is ProtocolBase plus the two methods a BufferedProtocol
// must have.
type baseBuffered struct {
	asyncio.ProtocolBase
	buf []byte
	got int
}

func (p *baseBuffered) GetBuffer(int) []byte { return p.buf }
func (p *baseBuffered) BufferUpdated(n int)  { p.got += n }

// peerSeesEOFAfterItsEOF serves one connection with the protocol factory
// gives, has a plain client send data and its EOF, and checks that the
// server side, at that EOF, closed the connection (EOFReceived false).
func peerSeesEOFAfterItsEOF[P asyncio.BaseProtocol](t *testing.T, factory func() P) {
	t.Helper()
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		srv, err := asyncio.CreateServer(ctx, factory, "127.0.0.1", 0, nil)
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		port := mustAddr(t, srv).Port
		_, err = asyncio.ToThread(ctx, func(context.Context) (int, error) {
			c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			if err != nil {
				return 0, err
			}
			defer c.Close()
			c.Write([]byte("data nobody reads"))
			c.(*net.TCPConn).CloseWrite()
			c.SetReadDeadline(time.Now().Add(30 * time.Second))
			b, err := io.ReadAll(c)
			if err != nil || len(b) != 0 {
				t.Errorf("the client read %q, %v; want the server's EOF", b, err)
			}
			return 0, nil
		})
		return 0, err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_protocols.py: test_base_protocol: ProtocolBase's ConnectionMade,
// ConnectionLost, PauseWriting and ResumeWriting do nothing; it serves
// as the protocol of a write pipe, through writes and close.
func TestProtocols_test_base_protocol(t *testing.T) {
	var p asyncio.ProtocolBase
	p.ConnectionMade(nil)
	p.ConnectionLost(nil)
	p.PauseWriting()
	p.ResumeWriting()
	r, w := socketpair(t)
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		tr, _, err := asyncio.ConnectWritePipe(ctx, func() *baseOnly { return &baseOnly{} }, w)
		if err != nil {
			return 0, err
		}
		tr.Write([]byte("x"))
		if b, err := asyncio.SockRecv(ctx, r, 10); err != nil || string(b) != "x" {
			t.Errorf("SockRecv = %q, %v", b, err)
		}
		tr.Close()
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_protocols.py: test_protocol: with ProtocolBase, data is ignored
// and EOFReceived returns false, so the peer's EOF closes the connection.
func TestProtocols_test_protocol(t *testing.T) {
	if (asyncio.ProtocolBase{}).EOFReceived() {
		t.Error("EOFReceived = true, want false")
	}
	peerSeesEOFAfterItsEOF(t, func() *baseOnly { return &baseOnly{} })
}

// test_protocols.py: test_buffered_protocol: a BufferedProtocol built on
// ProtocolBase (which has no GetBuffer: a BufferedProtocol must write
// its own, where asyncio's base raises NotImplementedError) gets the
// default EOFReceived: the peer's EOF closes the connection.
func TestProtocols_test_buffered_protocol(t *testing.T) {
	peerSeesEOFAfterItsEOF(t, func() *baseBuffered { return &baseBuffered{buf: make([]byte, 16)} })
}

// test_protocols.py: test_datagram_protocol: with ProtocolBase as a
// datagram protocol, datagrams and errors are ignored; the endpoint goes
// on sending.
func TestProtocols_test_datagram_protocol(t *testing.T) {
	var p asyncio.ProtocolBase
	p.DatagramReceived([]byte("x"), nil)
	p.ErrorReceived(nil)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	_, err = runMain(t, func(ctx context.Context) (int, error) {
		tr, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *baseOnly { return &baseOnly{} },
			&asyncio.DatagramOptions{RemoteAddr: pc.LocalAddr().String()})
		if err != nil {
			return 0, err
		}
		defer tr.Close()
		for _, msg := range []string{"one", "two"} {
			if err := tr.SendTo([]byte(msg), nil); err != nil {
				return 0, err
			}
			got, err := asyncio.ToThread(ctx, func(context.Context) (string, error) {
				pc.SetReadDeadline(time.Now().Add(30 * time.Second))
				buf := make([]byte, 16)
				n, from, err := pc.ReadFrom(buf)
				if err == nil {
					pc.WriteTo([]byte("ignored"), from)
				}
				return string(buf[:n]), err
			})
			if err != nil || got != msg {
				t.Errorf("peer got %q, %v; want %q", got, err, msg)
			}
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// exitSignal is SubprocessProtocolBase with a ConnectionLost that says
// the child is done; every other callback is the base's.
type exitSignal struct {
	asyncio.SubprocessProtocolBase
	done *asyncio.Future[struct{}]
}

func (p *exitSignal) ConnectionLost(error) { p.done.SetResult(struct{}{}) }

// test_protocols.py: test_subprocess_protocol: SubprocessProtocolBase's
// callbacks do nothing: a child whose output nobody reads runs to its
// end, and its exit status is there.
func TestProtocols_test_subprocess_protocol(t *testing.T) {
	var b asyncio.SubprocessProtocolBase
	b.ConnectionMade(nil)
	b.PipeDataReceived(1, []byte("x"))
	b.PipeConnectionLost(1, nil)
	b.ProcessExited()
	b.ConnectionLost(nil)
	defer noChildren(t)
	code, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := &exitSignal{done: asyncio.NewFuture[struct{}](loop)}
		tr, _, err := asyncio.SubprocessShell(ctx, func() *exitSignal { return p },
			&asyncio.SubprocessOptions{Stdin: asyncio.StdioPipe, Stdout: asyncio.StdioPipe, Stderr: asyncio.StdioPipe},
			"echo out; echo err >&2; exit 3")
		if err != nil {
			return 0, err
		}
		defer tr.Close()
		if _, err := asyncio.WaitFor[struct{}](ctx, p.done, 30*time.Second); err != nil {
			return 0, err
		}
		code, ok := tr.GetReturncode()
		if !ok {
			t.Error("no exit status after ConnectionLost")
		}
		return code, nil
	})
	if err != nil || code != 3 {
		t.Fatalf("exit status %d, %v; want 3", code, err)
	}
}
