//go:build unix

package asyncio_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// blackhole returns an address on 127.0.0.2 whose connects hang: a
// listener with a full backlog that never accepts (the kernel drops the
// further SYNs). port is the port to use.
func blackhole(t *testing.T) (port int) {
	t.Helper()
	fd, err := asyncio.Socket(syscall.AF_INET, syscall.SOCK_STREAM, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 2}}); err != nil {
		t.Skipf("no 127.0.0.2: %v", err)
	}
	syscall.Listen(fd, 0)
	sa, _ := syscall.Getsockname(fd)
	port = sa.(*syscall.SockaddrInet4).Port
	// fill the backlog
	for i := 0; i < 4; i++ {
		c, err := net.DialTimeout("tcp", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), uint16(port)).String(), 200*time.Millisecond)
		if err != nil {
			return port // full: connects now hang
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Skip("could not fill a backlog")
	return 0
}

// test_base_events.py: test_create_connection_happy_eyeballs (and
// staggered.py's test_staggered_race): the first address hangs, the
// second connects after the delay and wins.
func TestBaseEvents_test_create_connection_happy_eyeballs(t *testing.T) {
	port := blackhole(t)
	ln, err := net.Listen("tcp", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)).String())
	if err != nil {
		t.Skipf("port %d taken on 127.0.0.1: %v", port, err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	aps := []netip.AddrPort{
		netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), uint16(port)),
		netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)),
	}
	start := time.Now()
	_, err = runMain(t, func(ctx context.Context) (int, error) {
		fd, err := asyncio.ConnectAddrs(ctx, aps, &asyncio.ConnectOptions{HappyEyeballsDelay: 100 * time.Millisecond})
		if err == nil {
			sa, _ := syscall.Getpeername(fd)
			if sa.(*syscall.SockaddrInet4).Addr != [4]byte{127, 0, 0, 1} {
				t.Errorf("connected to %v", sa)
			}
			syscall.Close(fd)
		}
		return 0, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 10*time.Second {
		t.Fatalf("took %v: want the delay, not the hang", d)
	}
	// Without happy eyeballs the first address hangs: a timeout says so.
	_, err = runMain(t, func(ctx context.Context) (int, error) {
		return 0, asyncio.Timeout(ctx, 300*time.Millisecond, func(ctx context.Context, _ *asyncio.TimeoutScope) error {
			fd, err := asyncio.ConnectAddrs(ctx, aps, nil)
			if err == nil {
				syscall.Close(fd)
			}
			return err
		})
	})
	if !errors.Is(err, asyncio.ErrTimeout) {
		t.Fatalf("sequential connect = %v, want a timeout", err)
	}
}

// Every address failing: the errors are joined, each matches errors.Is.
func TestBaseEvents_test_create_connection_multiple_errors(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	aps := []netip.AddrPort{
		netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)),
		netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)),
	}
	for _, delay := range []time.Duration{0, 50 * time.Millisecond} {
		_, err := runMain(t, func(ctx context.Context) (int, error) {
			_, err := asyncio.ConnectAddrs(ctx, aps, &asyncio.ConnectOptions{HappyEyeballsDelay: delay})
			return 0, err
		})
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("delay %v: err = %v", delay, err)
		}
	}
}

// test_base_events.py: test__interleave_addrinfos.
func TestBaseEvents_test_interleave_addrinfos(t *testing.T) {
	p := func(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
	in := []netip.AddrPort{p("[::1]:1"), p("[::2]:1"), p("[::3]:1"), p("1.1.1.1:1"), p("2.2.2.2:1")}
	got := asyncio.InterleaveAddrs(in, 1)
	want := []netip.AddrPort{p("[::1]:1"), p("1.1.1.1:1"), p("[::2]:1"), p("2.2.2.2:1"), p("[::3]:1")}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("interleave 1: %v", got)
		}
	}
	got = asyncio.InterleaveAddrs(in, 2)
	want = []netip.AddrPort{p("[::1]:1"), p("[::2]:1"), p("1.1.1.1:1"), p("[::3]:1"), p("2.2.2.2:1")}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("interleave 2: %v", got)
		}
	}
}
