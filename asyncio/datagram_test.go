//go:build linux

package asyncio_test

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// dgramProto is test_events.py's MyDatagramProto, with an echo mode.
type dgramProto struct {
	asyncio.ProtocolBase
	t      testing.TB
	state  string
	tr     asyncio.DatagramTransport
	echo   bool
	got    []string
	errs   []error
	recv   *asyncio.Event
	closed *asyncio.Future[struct{}]
}

func (p *dgramProto) ConnectionMade(t asyncio.DatagramTransport) {
	if p.state != "INITIAL" {
		p.t.Errorf("ConnectionMade in %s", p.state)
	}
	p.state = "INITIALIZED"
	p.tr = t
}

func (p *dgramProto) DatagramReceived(b []byte, addr net.Addr) {
	p.got = append(p.got, string(b))
	if p.echo {
		p.tr.SendTo(append([]byte("resp:"), b...), addr)
	}
	p.recv.Set()
}

func (p *dgramProto) ErrorReceived(err error) { p.errs = append(p.errs, err); p.recv.Set() }

func (p *dgramProto) ConnectionLost(error) {
	p.state = "CLOSED"
	p.closed.SetResult(struct{}{})
}

// test_events.py: test_create_datagram_endpoint (a connected client
// talks to an echo server endpoint) and connection refused reported to
// ErrorReceived.
func TestEvents_test_create_datagram_endpoint(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		mk := func(echo bool) *dgramProto {
			return &dgramProto{t: t, state: "INITIAL", echo: echo, recv: &asyncio.Event{}, closed: asyncio.NewFuture[struct{}](loop)}
		}
		str, sp, err := asyncio.CreateDatagramEndpoint(ctx, func() *dgramProto { return mk(true) }, "127.0.0.1:0", "", nil)
		if err != nil {
			return 0, err
		}
		addr := str.GetExtraInfo("sockname").(*net.UDPAddr)
		ctr, cp, err := asyncio.CreateDatagramEndpoint(ctx, func() *dgramProto { return mk(false) }, "", addr.String(), nil)
		if err != nil {
			return 0, err
		}
		if cp.state != "INITIALIZED" {
			t.Errorf("client state %s", cp.state)
		}
		if err := ctr.SendTo([]byte("xxx"), addr); err == nil {
			t.Error("SendTo with an address on a connected endpoint")
		}
		ctr.SendTo([]byte("xxx"), nil)
		for len(cp.got) == 0 {
			cp.recv.Clear()
			cp.recv.Wait(ctx)
		}
		if sp.got[0] != "xxx" || cp.got[0] != "resp:xxx" {
			t.Errorf("server got %q, client %q", sp.got, cp.got)
		}
		if ctr.GetExtraInfo("peername").(*net.UDPAddr).Port != addr.Port {
			t.Error("peername")
		}
		// The server goes away: the next send is refused (ICMP), which
		// the client's protocol hears through ErrorReceived.
		str.Close()
		asyncio.Await(ctx, sp.closed)
		ctr.SendTo([]byte("again"), nil)
		for len(cp.errs) == 0 {
			cp.recv.Clear()
			cp.recv.Wait(ctx)
			ctr.SendTo([]byte("again"), nil)
		}
		if !errors.Is(cp.errs[0], syscall.ECONNREFUSED) {
			t.Errorf("ErrorReceived(%v)", cp.errs[0])
		}
		ctr.Close()
		asyncio.Await(ctx, cp.closed)
		if err := ctr.SendTo([]byte("x"), nil); !errors.Is(err, asyncio.ErrTransportClosing) {
			t.Errorf("SendTo after Close = %v", err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
