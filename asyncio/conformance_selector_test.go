//go:build unix

package asyncio_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// plainPeer is a plain TCP listener on 127.0.0.1 whose one accepted
// connection the test reaches with peer(ctx) (from a task); the listener
// and the connection close at the end of the test.
type plainPeer struct {
	ln net.Listener
	ch chan net.Conn
	c  net.Conn
}

func newPlainPeer(t *testing.T) *plainPeer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pp := &plainPeer{ln: ln, ch: make(chan net.Conn, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err == nil {
			c.SetDeadline(time.Now().Add(30 * time.Second))
			pp.ch <- c
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		if pp.c != nil {
			pp.c.Close()
		}
		select {
		case c := <-pp.ch:
			c.Close()
		default:
		}
	})
	return pp
}

func (pp *plainPeer) port() int { return pp.ln.Addr().(*net.TCPAddr).Port }

// peer waits (off the loop) for the accepted connection.
func (pp *plainPeer) peer(ctx context.Context) net.Conn {
	if pp.c == nil {
		pp.c, _ = asyncio.Await(ctx, asyncio.RunTrio(ctx, func(context.Context) (net.Conn, error) { return <-pp.ch, nil }))
	}
	return pp.c
}

// offLoop runs fn off the loop and waits for it.
func offLoop[T any](ctx context.Context, fn func() T) T {
	v, _ := asyncio.Await(ctx, asyncio.RunTrio(ctx, func(context.Context) (T, error) { return fn(), nil }))
	return v
}

// test_selector_events.py: test_pause_reading_connection_made: a protocol
// that pauses reading in ConnectionMade gets no data until it resumes.
func TestSelectorEvents_test_pause_reading_connection_made(t *testing.T) {
	pp := newPlainPeer(t)
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, loop)
		p.onMade = func(p *recProto) { p.transport.PauseReading() }
		tr, _, err := asyncio.CreateConnection(ctx, func() *recProto { return p }, "127.0.0.1", pp.port(), nil)
		if err != nil {
			return err
		}
		defer tr.Close()
		if tr.IsReading() {
			t.Error("IsReading after PauseReading in ConnectionMade")
		}
		pp.peer(ctx).Write([]byte("data"))
		asyncio.Sleep(ctx, 100*time.Millisecond)
		if p.data.Len() != 0 {
			t.Errorf("DataReceived while paused: %q", p.data.String())
		}
		tr.ResumeReading()
		if err := p.gotData.Wait(ctx); err != nil {
			return err
		}
		if p.data.String() != "data" {
			t.Errorf("after ResumeReading: %q", p.data.String())
		}
		return nil
	})
}

// panicProto panics in the callback named by where.
type panicProto struct {
	*recProto
	where string
}

func (p *panicProto) DataReceived(b []byte) {
	if p.where == "DataReceived" {
		panic("data_received boom")
	}
	p.recProto.DataReceived(b)
}

func (p *panicProto) EOFReceived() bool {
	if p.where == "EOFReceived" {
		p.recProto.EOFReceived()
		panic("eof_received boom")
	}
	return p.recProto.EOFReceived()
}

// protocolFatal checks a protocol callback failing (a panic, asyncio's
// exception): the exception handler gets it, and the transport is
// closed with ConnectionLost(the error).
func protocolFatal(t *testing.T, where string, provoke func(peer net.Conn)) {
	pp := newPlainPeer(t)
	var p *panicProto
	msgs := streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p = &panicProto{recProto: newRecProto(t, loop), where: where}
		tr, _, err := asyncio.CreateConnection(ctx, func() *panicProto { return p }, "127.0.0.1", pp.port(), nil)
		if err != nil {
			return err
		}
		provoke(pp.peer(ctx))
		if _, err := asyncio.WaitFor[struct{}](ctx, p.done, 10*time.Second); err != nil {
			t.Errorf("ConnectionLost not called: %v", err)
		}
		if !tr.IsClosing() {
			t.Error("transport not closing after the protocol failed")
		}
		return nil
	})
	if p.lostErr == nil {
		t.Error("ConnectionLost(nil), want the protocol's error")
	}
	if len(msgs) != 1 || msgs[0].Err == nil {
		t.Fatalf("exception handler got %v, want one report", msgs)
	}
	if !strings.Contains(msgs[0].Err.Error(), "boom") {
		t.Errorf("reported %q, %v", msgs[0].Message, msgs[0].Err)
	}
}

// test_selector_events.py: test_data_received_error (and the
// BufferedProtocol class's test_buffer_updated_error).
func TestSelectorEvents_test_data_received_error(t *testing.T) {
	protocolFatal(t, "DataReceived", func(peer net.Conn) { peer.Write([]byte("data")) })
}

// test_selector_events.py: test_read_eof_received_error.
func TestSelectorEvents_test_read_eof_received_error(t *testing.T) {
	protocolFatal(t, "EOFReceived", func(peer net.Conn) { peer.(*net.TCPConn).CloseWrite() })
}

// test_selector_events.py: test_write_no_data: an empty Write buffers
// and sends nothing.
func TestSelectorEvents_test_write_no_data(t *testing.T) {
	pp := newPlainPeer(t)
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, loop)
		tr, _, err := asyncio.CreateConnection(ctx, func() *recProto { return p }, "127.0.0.1", pp.port(), nil)
		if err != nil {
			return err
		}
		if err := tr.Write(nil); err != nil {
			t.Errorf("Write(nil) = %v", err)
		}
		if err := tr.Write([]byte{}); err != nil {
			t.Errorf("Write(empty) = %v", err)
		}
		if n := tr.GetWriteBufferSize(); n != 0 {
			t.Errorf("GetWriteBufferSize = %d", n)
		}
		tr.Write([]byte("x"))
		tr.Close()
		peer := pp.peer(ctx)
		got := offLoop(ctx, func() string { b, _ := io.ReadAll(peer); return string(b) })
		if got != "x" {
			t.Errorf("peer received %q, want \"x\"", got)
		}
		return nil
	})
}

// test_selector_events.py: test_write_eof_buffer: WriteEOF with data
// still buffered sends the EOF after the data; the transport stays open
// for reading.
func TestSelectorEvents_test_write_eof_buffer(t *testing.T) {
	pp := newPlainPeer(t)
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, loop)
		tr, _, err := asyncio.CreateConnection(ctx, func() *recProto { return p }, "127.0.0.1", pp.port(), nil)
		if err != nil {
			return err
		}
		defer tr.Close()
		tr.Write(data)
		if tr.GetWriteBufferSize() == 0 {
			t.Log("all written at once: the EOF ordering is not exercised")
		}
		if err := tr.WriteEOF(); err != nil {
			t.Errorf("WriteEOF = %v", err)
		}
		if tr.IsClosing() {
			t.Error("IsClosing after WriteEOF")
		}
		peer := pp.peer(ctx)
		got := offLoop(ctx, func() []byte {
			b, _ := io.ReadAll(peer)
			peer.Write([]byte("reply"))
			return b
		})
		if !bytes.Equal(got, data) {
			t.Errorf("peer received %d bytes before EOF, want %d", len(got), len(data))
		}
		if err := p.gotData.Wait(ctx); err != nil {
			return err
		}
		if p.data.String() != "reply" {
			t.Errorf("read after WriteEOF: %q", p.data.String())
		}
		return nil
	})
}

// bufSwitchProto is a BufferedProtocol recording what it receives.
type bufSwitchProto struct {
	asyncio.ProtocolBase
	buf []byte
	got bytes.Buffer
	ev  *asyncio.Event
}

func (p *bufSwitchProto) GetBuffer(int) []byte { return p.buf }
func (p *bufSwitchProto) BufferUpdated(n int)  { p.got.Write(p.buf[:n]); p.ev.Set() }

// test_selector_events.py: test_proto_type_switch: SetProtocol from a
// Protocol to a BufferedProtocol and back; each gets the data that
// arrives while it is the protocol.
func TestSelectorEvents_test_proto_type_switch(t *testing.T) {
	pp := newPlainPeer(t)
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, loop)
		tr, _, err := asyncio.CreateConnection(ctx, func() *recProto { return p }, "127.0.0.1", pp.port(), nil)
		if err != nil {
			return err
		}
		defer tr.Close()
		peer := pp.peer(ctx)
		peer.Write([]byte("one"))
		if err := p.gotData.Wait(ctx); err != nil {
			return err
		}
		bp := &bufSwitchProto{buf: make([]byte, 100), ev: &asyncio.Event{}}
		tr.SetProtocol(bp)
		if tr.GetProtocol() != asyncio.BaseProtocol(bp) {
			t.Error("GetProtocol is not the buffered protocol")
		}
		peer.Write([]byte("two"))
		if err := bp.ev.Wait(ctx); err != nil {
			return err
		}
		p.gotData.Clear()
		tr.SetProtocol(p)
		peer.Write([]byte("three"))
		if err := p.gotData.Wait(ctx); err != nil {
			return err
		}
		if p.data.String() != "onethree" || bp.got.String() != "two" {
			t.Errorf("protocol got %q, buffered protocol got %q", p.data.String(), bp.got.String())
		}
		return nil
	})
}

// emptyBufProto's GetBuffer returns an empty buffer, or panics.
type emptyBufProto struct {
	*recProto
	panics bool
}

func (p *emptyBufProto) GetBuffer(int) []byte {
	if p.panics {
		panic("get_buffer boom")
	}
	return nil
}
func (p *emptyBufProto) BufferUpdated(int) { p.t.Error("BufferUpdated called") }

// test_selector_events.py: test_get_buffer_zerosized and
// test_get_buffer_error (BufferedProtocol): the transport fails, the
// exception handler is told, ConnectionLost gets the error.
func TestSelectorEvents_test_get_buffer_error(t *testing.T) {
	for _, panics := range []bool{false, true} {
		pp := newPlainPeer(t)
		var p *emptyBufProto
		msgs := streamsMain(t, func(ctx context.Context) error {
			loop, _ := asyncio.GetRunningLoop(ctx)
			p = &emptyBufProto{recProto: newRecProto(t, loop), panics: panics}
			_, _, err := asyncio.CreateConnection(ctx, func() *emptyBufProto { return p }, "127.0.0.1", pp.port(), nil)
			if err != nil {
				return err
			}
			pp.peer(ctx).Write([]byte("data"))
			if _, err := asyncio.WaitFor[struct{}](ctx, p.done, 10*time.Second); err != nil {
				t.Errorf("panics=%v: ConnectionLost not called: %v", panics, err)
			}
			return nil
		})
		if p.lostErr == nil {
			t.Errorf("panics=%v: ConnectionLost(nil), want the error", panics)
		}
		if len(msgs) != 1 {
			t.Errorf("panics=%v: exception handler got %d reports, want 1", panics, len(msgs))
		}
	}
}

// test_selector_events.py: test_read_ready_eof: at the peer's EOF, an
// EOFReceived returning false closes the transport: ConnectionLost(nil).
func TestSelectorEvents_test_read_ready_eof(t *testing.T) {
	pp := newPlainPeer(t)
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, loop)
		tr, _, err := asyncio.CreateConnection(ctx, func() *recProto { return p }, "127.0.0.1", pp.port(), nil)
		if err != nil {
			return err
		}
		pp.peer(ctx).(*net.TCPConn).CloseWrite()
		if _, err := asyncio.WaitFor[struct{}](ctx, p.done, 10*time.Second); err != nil {
			return err
		}
		if p.lostErr != nil || !tr.IsClosing() {
			t.Errorf("ConnectionLost(%v), IsClosing %v; want nil, true", p.lostErr, tr.IsClosing())
		}
		return nil
	})
}

// test_selector_events.py: test_pause_resume_reading (the public part):
// PauseReading and ResumeReading are idempotent and IsReading follows
// them; once the transport is closing, IsReading is false and both are
// no-ops.
func TestSelectorEvents_test_pause_resume_reading(t *testing.T) {
	pp := newPlainPeer(t)
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, loop)
		tr, _, err := asyncio.CreateConnection(ctx, func() *recProto { return p }, "127.0.0.1", pp.port(), nil)
		if err != nil {
			return err
		}
		if !tr.IsReading() {
			t.Error("not IsReading at start")
		}
		tr.PauseReading()
		tr.PauseReading()
		if tr.IsReading() {
			t.Error("IsReading after PauseReading")
		}
		tr.ResumeReading()
		tr.ResumeReading()
		if !tr.IsReading() {
			t.Error("not IsReading after ResumeReading")
		}
		pp.peer(ctx).Write([]byte("x"))
		if err := p.gotData.Wait(ctx); err != nil {
			return err
		}
		tr.Close()
		if tr.IsReading() {
			t.Error("IsReading after Close")
		}
		tr.PauseReading()
		tr.ResumeReading()
		if tr.IsReading() {
			t.Error("IsReading after ResumeReading on a closing transport")
		}
		_, err = asyncio.WaitFor[struct{}](ctx, p.done, 10*time.Second)
		return err
	})
}

// test_selector_events.py: test_write_closing and
// test_write_eof_after_close: Write and WriteEOF after Close do not panic
// and send nothing more; the peer gets what was written before.
func TestSelectorEvents_test_write_closing(t *testing.T) {
	pp := newPlainPeer(t)
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, loop)
		tr, _, err := asyncio.CreateConnection(ctx, func() *recProto { return p }, "127.0.0.1", pp.port(), nil)
		if err != nil {
			return err
		}
		tr.Write([]byte("before"))
		tr.Close()
		tr.Write([]byte("after"))
		tr.WriteEOF()
		peer := pp.peer(ctx)
		got := offLoop(ctx, func() string { b, _ := io.ReadAll(peer); return string(b) })
		if got != "before" {
			t.Errorf("peer received %q, want \"before\"", got)
		}
		_, err = asyncio.WaitFor[struct{}](ctx, p.done, 10*time.Second)
		return err
	})
}
