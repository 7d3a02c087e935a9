//go:build unix

package asyncio_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// Data already waiting on a socket when a transport takes it reaches the
// protocol after ConnectionMade, never before: readiness joins the ready
// queue at the start of an iteration, behind the callbacks already there
// (recProto reports a DataReceived before ConnectionMade).
func TestTransport_connection_made_before_data_already_waiting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for range 30 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("early"))
		conn, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		_, err = runMain(t, func(ctx context.Context) (int, error) {
			loop, _ := asyncio.GetRunningLoop(ctx)
			p := newRecProto(t, loop)
			tr, _, err := asyncio.ConnectAcceptedSocket(ctx, func() *recProto { return p }, conn)
			if err != nil {
				return 0, err
			}
			if err := p.gotData.Wait(ctx); err != nil {
				return 0, err
			}
			tr.Close()
			return 0, nil
		})
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// A Write refused because the transport is closing does not stop the
// flush of what was written before Close: the peer gets it all, and
// ConnectionLost(nil) comes.
func TestTransport_write_after_close_keeps_the_flush(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<20) // 16 MiB: more than the socket buffers hold
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan int, 1)
	release := make(chan struct{})
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- -1
			return
		}
		defer c.Close()
		<-release // the client closes with its buffer full
		var b bytes.Buffer
		b.ReadFrom(c)
		got <- b.Len()
	}()
	_, err = runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, loop)
		tr, _, err := asyncio.CreateConnection(ctx, func() *recProto { return p }, "127.0.0.1", ln.Addr().(*net.TCPAddr).Port, nil)
		if err != nil {
			return 0, err
		}
		tr.SetWriteBufferLimits(1<<30, -1) // no pausing: this test is about the flush
		tr.Write(data)
		if tr.GetWriteBufferSize() == 0 {
			t.Errorf("write buffer: got 0 bytes pending, want some (the peer is not reading yet)")
		}
		tr.Close()
		if err := tr.Write([]byte("late")); !errors.Is(err, asyncio.ErrTransportClosing) {
			t.Errorf("Write after Close: got %v, want ErrTransportClosing", err)
		}
		close(release)
		_, err = asyncio.WaitFor(ctx, p.done, 30*time.Second) // a regression hangs here

		if p.lostErr != nil {
			t.Errorf("ConnectionLost: got %v, want nil", p.lostErr)
		}
		return 0, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := <-got; n != len(data) {
		t.Errorf("the peer got %d bytes, want %d", n, len(data))
	}
}
