//go:build unix

package asyncio_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"syscall"
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

// connectPeer opens a plain TCP connection from a transport (protocol p)
// to a Go peer; it returns the transport and the peer's end.
func connectPeer(ctx context.Context, t *testing.T, pp *plainPeer, p asyncio.BaseProtocol) (asyncio.Transport, net.Conn) {
	t.Helper()
	tr, _, err := asyncio.CreateConnection(ctx, func() asyncio.BaseProtocol { return p }, "127.0.0.1", pp.port(), nil)
	if err != nil {
		t.Fatalf("CreateConnection: %v", err)
	}
	return tr, pp.peer(ctx)
}

// fillKernel writes to the transport's socket directly until the kernel
// refuses (EAGAIN): the next Write finds no room. It returns the bytes
// written.
func fillKernel(t *testing.T, tr asyncio.Transport) int {
	t.Helper()
	fd := tr.GetExtraInfo("socket").(int)
	chunk := bytes.Repeat([]byte{'f'}, 64*1024)
	n := 0
	for {
		k, err := syscall.Write(fd, chunk)
		if err == syscall.EAGAIN {
			return n
		}
		if err != nil {
			t.Fatalf("filling the socket: %v", err)
		}
		n += k
	}
}

// readN reads exactly n bytes from the peer, off the loop.
func readN(ctx context.Context, peer net.Conn, n int) []byte {
	return offLoop(ctx, func() []byte {
		b := make([]byte, n)
		k, _ := io.ReadFull(peer, b)
		return b[:k]
	})
}

// test_selector_events.py SelectorSocketTransportTests: test_ctor and
// test_ctor_with_waiter: CreateConnection returns (asyncio's waiter is
// done) once ConnectionMade has run with the transport, which is then
// reading.
func TestSelectorSocketTransport_test_ctor(t *testing.T) {
	pp := newPlainPeer(t)
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, loop)
		tr, _ := connectPeer(ctx, t, pp, p)
		defer tr.Close()
		if p.state != "CONNECTED" || p.transport != tr {
			t.Errorf("after CreateConnection: state %s, ConnectionMade's transport %v, want CONNECTED with %v", p.state, p.transport, tr)
		}
		if !tr.IsReading() {
			t.Error("new transport not reading")
		}
		return nil
	})
}

// test_selector_events.py: test_read_ready: the peer's bytes reach
// DataReceived.
func TestSelectorSocketTransport_test_read_ready(t *testing.T) {
	pp := newPlainPeer(t)
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, loop)
		tr, peer := connectPeer(ctx, t, pp, p)
		defer tr.Close()
		peer.Write([]byte("data"))
		if err := p.gotData.Wait(ctx); err != nil {
			return err
		}
		if p.data.String() != "data" {
			t.Errorf("DataReceived got %q, want \"data\"", p.data.String())
		}
		return nil
	})
}

// test_selector_events.py: test_read_ready_tryagain: a read that finds
// nothing (EAGAIN: ResumeReading reads at once, with no data there) is
// not an error: the transport stays open and reads what comes next.
func TestSelectorSocketTransport_test_read_ready_tryagain(t *testing.T) {
	pp := newPlainPeer(t)
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, loop)
		tr, peer := connectPeer(ctx, t, pp, p)
		defer tr.Close()
		for range 3 {
			tr.PauseReading()
			tr.ResumeReading() // schedules a read that gets EAGAIN
			asyncio.Sleep(ctx, 0)
			asyncio.Sleep(ctx, 0)
		}
		if tr.IsClosing() || p.state != "CONNECTED" {
			t.Fatalf("after empty reads: IsClosing %v, state %s", tr.IsClosing(), p.state)
		}
		peer.Write([]byte("later"))
		if err := p.gotData.Wait(ctx); err != nil {
			return err
		}
		if p.data.String() != "later" {
			t.Errorf("DataReceived got %q", p.data.String())
		}
		return nil
	})
}

// test_selector_events.py: test_write: a Write the kernel takes whole is
// sent at once; nothing stays buffered.
func TestSelectorSocketTransport_test_write(t *testing.T) {
	pp := newPlainPeer(t)
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		tr, peer := connectPeer(ctx, t, pp, newRecProto(t, loop))
		defer tr.Close()
		if err := tr.Write([]byte("data")); err != nil {
			t.Errorf("Write = %v", err)
		}
		if n := tr.GetWriteBufferSize(); n != 0 {
			t.Errorf("GetWriteBufferSize = %d after a small write, want 0", n)
		}
		if got := readN(ctx, peer, 4); string(got) != "data" {
			t.Errorf("peer got %q", got)
		}
		return nil
	})
}

// test_selector_events.py: test_write_partial and test_write_ready (and
// test_write_ready_partial): the kernel takes part of a large Write, the
// rest is buffered and sent as the socket becomes writable, in order,
// until the buffer is empty.
func TestSelectorSocketTransport_test_write_partial(t *testing.T) {
	pp := newPlainPeer(t)
	data := bytes.Repeat([]byte("0123456789abcdef"), 2<<20) // 32 MiB
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		tr, peer := connectPeer(ctx, t, pp, newRecProto(t, loop))
		defer tr.Close()
		tr.SetWriteBufferLimits(1<<30, -1)
		tr.Write(data)
		n := tr.GetWriteBufferSize()
		if n == 0 || n >= len(data) {
			t.Fatalf("GetWriteBufferSize = %d of %d: want part sent, part buffered", n, len(data))
		}
		got := readN(ctx, peer, len(data))
		if !bytes.Equal(got, data) {
			t.Errorf("peer got %d bytes (equal %v), want the %d written, in order", len(got), bytes.Equal(got, data), len(data))
		}
		if n := tr.GetWriteBufferSize(); n != 0 {
			t.Errorf("GetWriteBufferSize = %d once the peer has it all", n)
		}
		return nil
	})
}

// test_selector_events.py: test_write_bytearray and
// test_write_partial_bytearray: the caller's slice is not kept: changing
// it after Write returns changes nothing the peer gets, even for the part
// that was buffered.
func TestSelectorSocketTransport_test_write_partial_bytearray(t *testing.T) {
	pp := newPlainPeer(t)
	data := bytes.Repeat([]byte("0123456789abcdef"), 2<<20) // 32 MiB
	want := bytes.Clone(data)
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		tr, peer := connectPeer(ctx, t, pp, newRecProto(t, loop))
		defer tr.Close()
		tr.SetWriteBufferLimits(1<<30, -1)
		tr.Write(data)
		if tr.GetWriteBufferSize() == 0 {
			t.Fatal("nothing buffered: the test needs a partial write")
		}
		for i := range data {
			data[i] = 'X'
		}
		if got := readN(ctx, peer, len(want)); !bytes.Equal(got, want) {
			t.Errorf("peer got %d bytes, equal to what was written: %v", len(got), bytes.Equal(got, want))
		}
		return nil
	})
}

// test_selector_events.py: test_write_tryagain and test_write_partial_none
// (and test_write_ready_tryagain): with the kernel's buffer full, a Write
// sends nothing and buffers it all; it goes once the peer reads, after
// what was there before.
func TestSelectorSocketTransport_test_write_tryagain(t *testing.T) {
	pp := newPlainPeer(t)
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		tr, peer := connectPeer(ctx, t, pp, newRecProto(t, loop))
		defer tr.Close()
		filled := fillKernel(t, tr)
		tr.Write([]byte("data"))
		if n := tr.GetWriteBufferSize(); n != 4 {
			t.Fatalf("GetWriteBufferSize = %d with the kernel full, want 4", n)
		}
		got := readN(ctx, peer, filled+4)
		if len(got) != filled+4 || string(got[filled:]) != "data" {
			t.Errorf("peer got %d bytes ending %q, want %d ending \"data\"", len(got), got[max(0, len(got)-4):], filled+4)
		}
		return nil
	})
}

// test_selector_events.py: test_write_buffer: a Write while data is
// buffered is not sent ahead of it: it is appended to the buffer.
func TestSelectorSocketTransport_test_write_buffer(t *testing.T) {
	pp := newPlainPeer(t)
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		tr, peer := connectPeer(ctx, t, pp, newRecProto(t, loop))
		defer tr.Close()
		filled := fillKernel(t, tr)
		tr.Write([]byte("data1"))
		tr.Write([]byte("data2"))
		if n := tr.GetWriteBufferSize(); n != 10 {
			t.Fatalf("GetWriteBufferSize = %d, want 10", n)
		}
		got := readN(ctx, peer, filled+10)
		if string(got[filled:]) != "data1data2" {
			t.Errorf("peer got %q after the filler, want \"data1data2\"", got[filled:])
		}
		return nil
	})
}

// test_selector_events.py: test_writelines_send_full (and the sendmsg
// variant): WriteLines the kernel takes whole sends every line at once,
// in order, nothing buffered.
func TestSelectorSocketTransport_test_writelines_send_full(t *testing.T) {
	pp := newPlainPeer(t)
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		tr, peer := connectPeer(ctx, t, pp, newRecProto(t, loop))
		defer tr.Close()
		tr.WriteLines([][]byte{[]byte("da"), []byte("ta"), nil, []byte("!")})
		if n := tr.GetWriteBufferSize(); n != 0 {
			t.Errorf("GetWriteBufferSize = %d, want 0", n)
		}
		if got := readN(ctx, peer, 5); string(got) != "data!" {
			t.Errorf("peer got %q", got)
		}
		return nil
	})
}

// test_selector_events.py: test_writelines_send_partial (and the sendmsg
// variant): lines the kernel does not take are buffered and follow, in
// order.
func TestSelectorSocketTransport_test_writelines_send_partial(t *testing.T) {
	pp := newPlainPeer(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<20) // 16 MiB
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		tr, peer := connectPeer(ctx, t, pp, newRecProto(t, loop))
		defer tr.Close()
		tr.SetWriteBufferLimits(1<<30, -1)
		tr.WriteLines([][]byte{big, []byte("tail")})
		if tr.GetWriteBufferSize() == 0 {
			t.Fatal("nothing buffered after a 16 MiB WriteLines")
		}
		got := readN(ctx, peer, len(big)+4)
		if !bytes.Equal(got[:len(big)], big) || string(got[len(big):]) != "tail" {
			t.Errorf("peer got %d bytes, not the lines in order", len(got))
		}
		return nil
	})
}

// resetPeer closes the peer's end with a reset (SO_LINGER 0).
func resetPeer(peer net.Conn) {
	peer.(*net.TCPConn).SetLinger(0)
	peer.Close()
}

// test_selector_events.py: test_write_exception: a Write failing in the
// kernel (the peer reset the connection) closes the transport with that
// error (ConnectionLost(err)), without a report to the exception handler
// (an OS error); later Writes are refused, and from the fifth a warning
// "socket.send() raised exception." is logged.
func TestSelectorSocketTransport_test_write_exception(t *testing.T) {
	logs := captureSlog(t)
	pp := newPlainPeer(t)
	var p *recProto
	msgs := streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p = newRecProto(t, loop)
		tr, peer := connectPeer(ctx, t, pp, p)
		tr.PauseReading() // the reset must be met by a write, not a read
		resetPeer(peer)
		for i := 0; i < 1000 && !p.done.Done(); i++ {
			tr.Write([]byte("x"))
			asyncio.Sleep(ctx, 10*time.Millisecond)
		}
		if !p.done.Done() {
			t.Fatal("no ConnectionLost after writing to a reset connection")
		}
		if strings.Contains(logs(), "socket.send() raised exception.") {
			t.Error("warning logged before the writes to a lost connection")
		}
		for range 6 {
			if err := tr.Write([]byte("x")); !errors.Is(err, asyncio.ErrTransportClosing) {
				t.Errorf("Write after the failure = %v, want ErrTransportClosing", err)
			}
		}
		if !strings.Contains(logs(), "socket.send() raised exception.") {
			t.Error("no warning after writes to a lost connection")
		}
		return nil
	})
	if !errors.Is(p.lostErr, syscall.ECONNRESET) && !errors.Is(p.lostErr, syscall.EPIPE) {
		t.Errorf("ConnectionLost(%v), want ECONNRESET or EPIPE", p.lostErr)
	}
	if len(msgs) != 0 {
		t.Errorf("exception handler got %v, want nothing for an OS error", msgs)
	}
}

// test_selector_events.py: test_write_ready_exception (and the sendmsg
// OSError variant): the flush of buffered data failing (the peer reset)
// closes the transport with the error and drops the buffer.
func TestSelectorSocketTransport_test_write_ready_exception(t *testing.T) {
	pp := newPlainPeer(t)
	var p *recProto
	msgs := streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p = newRecProto(t, loop)
		tr, peer := connectPeer(ctx, t, pp, p)
		tr.PauseReading()
		tr.SetWriteBufferLimits(1<<30, -1)
		fillKernel(t, tr)
		tr.Write([]byte("buffered"))
		if tr.GetWriteBufferSize() == 0 {
			t.Fatal("nothing buffered")
		}
		resetPeer(peer)
		if _, err := asyncio.WaitFor[struct{}](ctx, p.done, 10*time.Second); err != nil {
			return err
		}
		if n := tr.GetWriteBufferSize(); n != 0 {
			t.Errorf("GetWriteBufferSize = %d after the failed flush, want 0", n)
		}
		return nil
	})
	if !errors.Is(p.lostErr, syscall.ECONNRESET) && !errors.Is(p.lostErr, syscall.EPIPE) {
		t.Errorf("ConnectionLost(%v), want ECONNRESET or EPIPE", p.lostErr)
	}
	if len(msgs) != 0 {
		t.Errorf("exception handler got %v, want nothing for an OS error", msgs)
	}
}

// test_selector_events.py: test_write_eof: CanWriteEOF; WriteEOF shuts
// the sending side (the peer reads to EOF) once, a second WriteEOF does
// nothing, and the transport still reads; after the transport is closed,
// WriteEOF is a no-op.
func TestSelectorSocketTransport_test_write_eof(t *testing.T) {
	pp := newPlainPeer(t)
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, loop)
		tr, peer := connectPeer(ctx, t, pp, p)
		if !tr.CanWriteEOF() {
			t.Error("CanWriteEOF = false")
		}
		tr.Write([]byte("last"))
		if err := tr.WriteEOF(); err != nil {
			t.Errorf("WriteEOF = %v", err)
		}
		if err := tr.WriteEOF(); err != nil {
			t.Errorf("second WriteEOF = %v", err)
		}
		got := offLoop(ctx, func() string { b, _ := io.ReadAll(peer); return string(b) })
		if got != "last" {
			t.Errorf("peer read %q to EOF, want \"last\"", got)
		}
		peer.Write([]byte("reply"))
		if err := p.gotData.Wait(ctx); err != nil {
			return err
		}
		tr.Close()
		if _, err := asyncio.WaitFor[struct{}](ctx, p.done, 10*time.Second); err != nil {
			return err
		}
		if err := tr.WriteEOF(); err != nil {
			t.Errorf("WriteEOF after close = %v", err)
		}
		return nil
	})
}

// test_selector_events.py SelectorTransportTests: test_close: Close makes
// the transport closing and stops reading; ConnectionLost(nil) comes
// once, and the socket is closed (the peer reads EOF); a second Close
// does nothing.
func TestSelectorTransport_test_close(t *testing.T) {
	pp := newPlainPeer(t)
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, loop)
		lost := 0
		tr, peer := connectPeer(ctx, t, pp, &countLost{recProto: p, n: &lost})
		tr.Close()
		if !tr.IsClosing() || tr.IsReading() {
			t.Errorf("after Close: IsClosing %v, IsReading %v", tr.IsClosing(), tr.IsReading())
		}
		tr.Close()
		if _, err := asyncio.WaitFor[struct{}](ctx, p.done, 10*time.Second); err != nil {
			return err
		}
		tr.Close()
		asyncio.Sleep(ctx, 0)
		asyncio.Sleep(ctx, 0)
		if lost != 1 || p.lostErr != nil {
			t.Errorf("ConnectionLost called %d times, last with %v; want once with nil", lost, p.lostErr)
		}
		if got := offLoop(ctx, func() error { _, err := io.ReadAll(peer); return err }); got != nil {
			t.Errorf("peer's read after Close: %v, want EOF", got)
		}
		return nil
	})
}

// countLost counts ConnectionLost calls.
type countLost struct {
	*recProto
	n *int
}

func (c *countLost) ConnectionLost(err error) { *c.n++; c.recProto.ConnectionLost(err) }

// test_selector_events.py SelectorTransportTests: test_connection_lost:
// a transport lost with an error passes it to ConnectionLost, closes its
// socket (the peer sees the connection end) and forgets it ("socket"
// extra info is nil).
func TestSelectorTransport_test_connection_lost(t *testing.T) {
	pp := newPlainPeer(t)
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, loop)
		tr, peer := connectPeer(ctx, t, pp, p)
		if tr.GetExtraInfo("socket") == nil {
			t.Error("no socket while connected")
		}
		tr.Abort()
		if _, err := asyncio.WaitFor[struct{}](ctx, p.done, 10*time.Second); err != nil {
			return err
		}
		if v := tr.GetExtraInfo("socket"); v != nil {
			t.Errorf("socket = %v after ConnectionLost, want nil", v)
		}
		if err := offLoop(ctx, func() error { _, err := io.ReadAll(peer); return err }); err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("peer's read: %v, want EOF or reset", err)
		}
		return nil
	})
}

// test_selector_events.py: test_set_nodelay (TestSelectorUtils): a TCP
// transport's socket has TCP_NODELAY set.
func TestSelectorUtils_test_set_nodelay(t *testing.T) {
	pp := newPlainPeer(t)
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		tr, _ := connectPeer(ctx, t, pp, newRecProto(t, loop))
		defer tr.Close()
		v, err := syscall.GetsockoptInt(tr.GetExtraInfo("socket").(int), syscall.IPPROTO_TCP, syscall.TCP_NODELAY)
		if err != nil || v == 0 {
			t.Errorf("TCP_NODELAY = %d, %v; want set", v, err)
		}
		return nil
	})
}

// bufRecProto is recProto as a BufferedProtocol: each read fills its
// small buffer, BufferUpdated hands the bytes to recProto.DataReceived;
// panicIn names a callback that panics instead.
type bufRecProto struct {
	*recProto
	buf     []byte
	panicIn string
}

func (p *bufRecProto) GetBuffer(int) []byte { return p.buf }
func (p *bufRecProto) BufferUpdated(n int) {
	if p.panicIn == "BufferUpdated" {
		panic("buffer_updated boom")
	}
	p.recProto.DataReceived(p.buf[:n])
}
func (p *bufRecProto) EOFReceived() bool {
	keep := p.recProto.EOFReceived()
	if p.panicIn == "EOFReceived" {
		panic("eof_received boom")
	}
	return keep
}

func newBufRec(t *testing.T, loop *asyncio.Loop) *bufRecProto {
	return &bufRecProto{recProto: newRecProto(t, loop), buf: make([]byte, 3)}
}

// test_selector_events.py SelectorSocketTransportBufferedProtocolTests:
// test_ctor: a BufferedProtocol gets ConnectionMade with the transport,
// which reads.
func TestSelectorSocketTransportBufferedProtocol_test_ctor(t *testing.T) {
	pp := newPlainPeer(t)
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := newBufRec(t, loop)
		tr, _ := connectPeer(ctx, t, pp, p)
		defer tr.Close()
		if p.state != "CONNECTED" || p.transport != tr || !tr.IsReading() {
			t.Errorf("state %s, transport %v, IsReading %v", p.state, p.transport, tr.IsReading())
		}
		return nil
	})
}

// test_selector_events.py (BufferedProtocol): test_read_ready: the peer's
// bytes arrive through GetBuffer/BufferUpdated, in order, however small
// the buffer.
func TestSelectorSocketTransportBufferedProtocol_test_read_ready(t *testing.T) {
	pp := newPlainPeer(t)
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := newBufRec(t, loop)
		tr, peer := connectPeer(ctx, t, pp, p)
		defer tr.Close()
		peer.Write([]byte("some data"))
		for p.data.Len() < 9 {
			p.gotData.Clear()
			if err := p.gotData.Wait(ctx); err != nil {
				return err
			}
		}
		if p.data.String() != "some data" {
			t.Errorf("got %q", p.data.String())
		}
		return nil
	})
}

// test_selector_events.py (BufferedProtocol): test_read_ready_tryagain
// (and _interrupted): a read finding nothing is not an error.
func TestSelectorSocketTransportBufferedProtocol_test_read_ready_tryagain(t *testing.T) {
	pp := newPlainPeer(t)
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p := newBufRec(t, loop)
		tr, peer := connectPeer(ctx, t, pp, p)
		defer tr.Close()
		tr.PauseReading()
		tr.ResumeReading()
		asyncio.Sleep(ctx, 0)
		asyncio.Sleep(ctx, 0)
		if tr.IsClosing() {
			t.Fatal("closing after an empty read")
		}
		peer.Write([]byte("ab"))
		if err := p.gotData.Wait(ctx); err != nil {
			return err
		}
		return nil
	})
}

// test_selector_events.py (BufferedProtocol): test_read_ready_eof and
// test_read_ready_eof_keep_open: at the peer's EOF, EOFReceived returning
// false closes the transport (ConnectionLost(nil)); returning true keeps
// it open for writing.
func TestSelectorSocketTransportBufferedProtocol_test_read_ready_eof(t *testing.T) {
	for _, keep := range []bool{false, true} {
		pp := newPlainPeer(t)
		streamsMain(t, func(ctx context.Context) error {
			loop, _ := asyncio.GetRunningLoop(ctx)
			p := newBufRec(t, loop)
			p.keepOpen = keep
			tr, peer := connectPeer(ctx, t, pp, p)
			peer.(*net.TCPConn).CloseWrite()
			if !keep {
				if _, err := asyncio.WaitFor[struct{}](ctx, p.done, 10*time.Second); err != nil {
					return err
				}
				if p.lostErr != nil || !tr.IsClosing() {
					t.Errorf("keep=false: ConnectionLost(%v), IsClosing %v", p.lostErr, tr.IsClosing())
				}
				return nil
			}
			for p.state != "EOF" {
				asyncio.Sleep(ctx, 5*time.Millisecond)
			}
			if tr.IsClosing() {
				t.Error("keep=true: transport closing after EOF")
			}
			tr.Write([]byte("still"))
			tr.Close()
			if got := readN(ctx, peer, 5); string(got) != "still" {
				t.Errorf("keep=true: peer got %q after its EOF", got)
			}
			return nil
		})
	}
}

// test_selector_events.py (BufferedProtocol): test_read_ready_conn_reset
// and test_read_ready_err: a read error (the peer reset) closes the
// transport with it, ConnectionLost(ECONNRESET), with no report to the
// exception handler.
func TestSelectorSocketTransportBufferedProtocol_test_read_ready_conn_reset(t *testing.T) {
	pp := newPlainPeer(t)
	var p *bufRecProto
	msgs := streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p = newBufRec(t, loop)
		_, peer := connectPeer(ctx, t, pp, p)
		resetPeer(peer)
		_, err := asyncio.WaitFor[struct{}](ctx, p.done, 10*time.Second)
		return err
	})
	if !errors.Is(p.lostErr, syscall.ECONNRESET) {
		t.Errorf("ConnectionLost(%v), want ECONNRESET", p.lostErr)
	}
	if len(msgs) != 0 {
		t.Errorf("exception handler got %v", msgs)
	}
}

// bufferedFatal: a BufferedProtocol callback panicking is reported to the
// exception handler and closes the transport with ConnectionLost(err).
func bufferedFatal(t *testing.T, where string, provoke func(peer net.Conn)) {
	pp := newPlainPeer(t)
	var p *bufRecProto
	msgs := streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		p = newBufRec(t, loop)
		p.panicIn = where
		tr, peer := connectPeer(ctx, t, pp, p)
		provoke(peer)
		if _, err := asyncio.WaitFor[struct{}](ctx, p.done, 10*time.Second); err != nil {
			return err
		}
		if !tr.IsClosing() {
			t.Error("transport not closing")
		}
		return nil
	})
	if p.lostErr == nil || !strings.Contains(p.lostErr.Error(), "boom") {
		t.Errorf("ConnectionLost(%v), want the panic", p.lostErr)
	}
	if len(msgs) != 1 {
		t.Errorf("exception handler got %d reports, want 1", len(msgs))
	}
}

// test_selector_events.py (BufferedProtocol): test_buffer_updated_error.
func TestSelectorSocketTransportBufferedProtocol_test_buffer_updated_error(t *testing.T) {
	bufferedFatal(t, "BufferUpdated", func(peer net.Conn) { peer.Write([]byte("data")) })
}

// test_selector_events.py (BufferedProtocol): test_read_eof_received_error.
func TestSelectorSocketTransportBufferedProtocol_test_read_eof_received_error(t *testing.T) {
	bufferedFatal(t, "EOFReceived", func(peer net.Conn) { peer.(*net.TCPConn).CloseWrite() })
}

// test_selector_events.py BaseSelectorEventLoopTests: test_add_reader_existing
// (and test_add_writer_existing): a second AddReader on an fd replaces the
// first callback, which never runs again; test_add_reader_existing_writer:
// adding a reader keeps the fd's writer.
func TestBaseSelectorEventLoop_test_add_reader_existing(t *testing.T) {
	a, b := socketpair(t)
	fd := rawFd(a)
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		first, second, writes := 0, 0, 0
		got := asyncio.NewFuture[struct{}](loop)
		loop.AddWriter(fd, func(context.Context) { writes++ })
		loop.AddReader(fd, func(context.Context) { first++ })
		loop.AddReader(fd, func(context.Context) {
			second++
			var buf [16]byte
			syscall.Read(fd, buf[:])
			if !got.Done() {
				got.SetResult(struct{}{})
			}
		})
		b.Write([]byte("x"))
		if _, err := asyncio.WaitFor(ctx, got, 10*time.Second); err != nil {
			return 0, err
		}
		w0 := writes
		for writes == w0 {
			asyncio.Sleep(ctx, time.Millisecond)
		}
		loop.RemoveReader(fd)
		loop.RemoveWriter(fd)
		if first != 0 || second == 0 {
			t.Errorf("replaced reader ran %d times, new one %d", first, second)
		}
		// Same for writers.
		wfirst, wsecond := 0, 0
		done := asyncio.NewFuture[struct{}](loop)
		loop.AddWriter(fd, func(context.Context) { wfirst++ })
		loop.AddWriter(fd, func(context.Context) {
			wsecond++
			if !done.Done() {
				done.SetResult(struct{}{})
			}
		})
		if _, err := asyncio.WaitFor(ctx, done, 10*time.Second); err != nil {
			return 0, err
		}
		loop.RemoveWriter(fd)
		if wfirst != 0 {
			t.Errorf("replaced writer ran %d times", wfirst)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_selector_events.py: test_remove_reader_read_write and
// test_remove_writer_read_write: with a reader and a writer on an fd,
// RemoveReader (RemoveWriter) reports true and leaves the other one
// running; test_remove_reader_unknown / test_remove_writer_unknown:
// removing from an fd not watched reports false.
func TestBaseSelectorEventLoop_test_remove_reader_read_write(t *testing.T) {
	a, b := socketpair(t)
	fd := rawFd(a)
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		if ok, err := loop.RemoveReader(fd); ok || err != nil {
			t.Errorf("RemoveReader(unwatched) = %v, %v; want false", ok, err)
		}
		if ok, err := loop.RemoveWriter(fd); ok || err != nil {
			t.Errorf("RemoveWriter(unwatched) = %v, %v; want false", ok, err)
		}
		reads, writes := 0, 0
		loop.AddReader(fd, func(context.Context) { reads++ })
		loop.AddWriter(fd, func(context.Context) { writes++ })
		if ok, err := loop.RemoveReader(fd); !ok || err != nil {
			t.Errorf("RemoveReader = %v, %v; want true", ok, err)
		}
		b.Write([]byte("x")) // readable now: no reader may run
		w0 := writes
		for writes < w0+3 {
			asyncio.Sleep(ctx, time.Millisecond)
		}
		if reads != 0 {
			t.Errorf("removed reader ran %d times", reads)
		}
		// Now the other way round.
		loop.AddReader(fd, func(context.Context) { reads++ })
		if ok, err := loop.RemoveWriter(fd); !ok || err != nil {
			t.Errorf("RemoveWriter = %v, %v; want true", ok, err)
		}
		w1 := writes
		for reads < 3 {
			asyncio.Sleep(ctx, time.Millisecond)
		}
		if writes != w1 {
			t.Errorf("removed writer ran %d more times", writes-w1)
		}
		if ok, _ := loop.RemoveReader(fd); !ok {
			t.Error("RemoveReader = false for the watched fd")
		}
		if ok, _ := loop.RemoveReader(fd); ok {
			t.Error("second RemoveReader = true")
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_selector_events.py: test_accept_connection_multiple (and
// test_base_events.py's test_accept_connection_retry): one readiness of
// the listener accepts up to the backlog, then the rest; when the queue
// is empty (EAGAIN) the server keeps serving: 150 clients connecting at
// once with a backlog of 100 all get a protocol.
func TestBaseSelectorEventLoop_test_accept_connection_multiple(t *testing.T) {
	const n = 150
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		made := 0
		all := asyncio.NewFuture[struct{}](loop)
		srv, err := asyncio.CreateServer(ctx, func() asyncio.BaseProtocol {
			return &madeCounter{f: func() {
				made++
				if made == n {
					all.SetResult(struct{}{})
				}
			}}
		}, "127.0.0.1", 0, &asyncio.ServerOptions{Backlog: 100})
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		addr := mustAddr(t, srv).String()
		conns = offLoop(ctx, func() []net.Conn {
			var cs []net.Conn
			for range n {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					break
				}
				cs = append(cs, c)
			}
			return cs
		})
		if len(conns) != n {
			t.Fatalf("dialled %d of %d", len(conns), n)
		}
		if _, err := asyncio.WaitFor(ctx, all, 20*time.Second); err != nil {
			t.Errorf("%d of %d connections got a protocol: %v", made, n, err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

type madeCounter struct {
	asyncio.ProtocolBase
	f func()
}

func (m *madeCounter) ConnectionMade(asyncio.Transport) { m.f() }

// unixgramPair makes a receiving Unix datagram endpoint at dir/r, not
// reading, and a sender bound at dir/s (connected to dir/r if connect);
// the sender has sent datagrams ("fill") until the receiver's queue is
// full and one is buffered. It returns both and the number sent.
func unixgramPair(ctx context.Context, t *testing.T, dir string, connect bool) (rtr asyncio.DatagramTransport, rp *dgramProto, str asyncio.DatagramTransport, sp *dgramProto, n int) {
	t.Helper()
	l, _ := asyncio.GetRunningLoop(ctx)
	rp = newDgramProto(l)
	rtr, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *dgramProto { return rp }, &asyncio.DatagramOptions{Network: "unixgram", LocalAddr: filepath.Join(dir, "r")})
	if err != nil {
		t.Fatal(err)
	}
	rtr.PauseReading()
	sp = newDgramProto(l)
	o := &asyncio.DatagramOptions{Network: "unixgram", LocalAddr: filepath.Join(dir, "s")}
	if connect {
		o.RemoteAddr = filepath.Join(dir, "r")
	}
	str, _, err = asyncio.CreateDatagramEndpoint(ctx, func() *dgramProto { return sp }, o)
	if err != nil {
		t.Fatal(err)
	}
	str.SetWriteBufferLimits(1<<30, -1)
	var to net.Addr
	if !connect {
		to = &net.UnixAddr{Name: filepath.Join(dir, "r"), Net: "unixgram"}
	}
	for str.GetWriteBufferSize() == 0 {
		if n == 100000 {
			t.Fatal("the receiver's queue never filled")
		}
		if err := str.SendTo([]byte("fill"), to); err != nil {
			t.Fatal(err)
		}
		n++
	}
	return rtr, rp, str, sp, n
}

// test_selector_events.py SelectorDatagramTransportTests: test_sendto_buffer,
// test_sendto_buffer_nodata, test_sendto_tryagain, test_sendto_ready and
// test_sendto_ready_tryagain: while the kernel refuses (EAGAIN) datagrams
// are buffered (copies: test_sendto_buffer_bytearray), an empty one too,
// and go out in order as the receiver reads.
func TestSelectorDatagramTransport_test_sendto_buffer(t *testing.T) {
	dir := t.TempDir()
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		rtr, rp, str, sp, n := unixgramPair(ctx, t, dir, true)
		d1 := []byte("data1")
		str.SendTo(d1, nil)
		copy(d1, "XXXXX") // the buffered datagram is a copy
		str.SendTo([]byte{}, nil)
		str.SendTo([]byte("data2"), nil)
		if got := str.GetWriteBufferSize(); got != 4+5+5 {
			t.Errorf("GetWriteBufferSize = %d, want 14", got)
		}
		rtr.ResumeReading()
		for rp.received < n+3 {
			rp.gotData.Clear()
			if err := asyncio.Timeout(ctx, 10*time.Second, func(ctx context.Context, _ *asyncio.TimeoutScope) error { return rp.gotData.Wait(ctx) }); err != nil {
				t.Fatalf("received %d of %d: %v", rp.received, n+3, err)
			}
		}
		tail := rp.got[len(rp.got)-3:]
		if tail[0] != "data1" || tail[1] != "" || tail[2] != "data2" {
			t.Errorf("last datagrams %q, want data1, empty, data2", tail)
		}
		if str.GetWriteBufferSize() != 0 || len(sp.errs) != 0 {
			t.Errorf("buffer %d, errors %v", str.GetWriteBufferSize(), sp.errs)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_selector_events.py: test_sendto_ready_closing: Close with
// datagrams buffered sends them all first, then ConnectionLost(nil).
func TestSelectorDatagramTransport_test_sendto_ready_closing(t *testing.T) {
	dir := t.TempDir()
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		rtr, rp, str, sp, n := unixgramPair(ctx, t, dir, true)
		str.SendTo([]byte("last"), nil)
		str.Close()
		if !str.IsClosing() || str.GetWriteBufferSize() == 0 {
			t.Errorf("after Close: IsClosing %v, buffer %d", str.IsClosing(), str.GetWriteBufferSize())
		}
		asyncio.Sleep(ctx, 0)
		if sp.done.Done() {
			t.Error("ConnectionLost before the buffer was sent")
		}
		rtr.ResumeReading()
		if _, err := asyncio.WaitFor(ctx, sp.done, 10*time.Second); err != nil {
			return 0, err
		}
		if sp.lostErr != nil {
			t.Errorf("ConnectionLost(%v), want nil", sp.lostErr)
		}
		for rp.received < n+1 {
			rp.gotData.Clear()
			if err := asyncio.Timeout(ctx, 10*time.Second, func(ctx context.Context, _ *asyncio.TimeoutScope) error { return rp.gotData.Wait(ctx) }); err != nil {
				t.Fatalf("received %d of %d: %v", rp.received, n+1, err)
			}
		}
		if rp.got[len(rp.got)-1] != "last" {
			t.Errorf("last datagram %q", rp.got[len(rp.got)-1])
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_selector_events.py: test_sendto_ready_error_received: a buffered
// datagram whose send fails when the buffer is flushed (here: to a path
// nobody is bound to) goes to ErrorReceived; the rest is sent and the
// endpoint stays open.
func TestSelectorDatagramTransport_test_sendto_ready_error_received(t *testing.T) {
	dir := t.TempDir()
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		rtr, rp, str, sp, n := unixgramPair(ctx, t, dir, false)
		r := &net.UnixAddr{Name: filepath.Join(dir, "r"), Net: "unixgram"}
		str.SendTo([]byte("lost"), &net.UnixAddr{Name: filepath.Join(dir, "nobody"), Net: "unixgram"})
		str.SendTo([]byte("after"), r)
		rtr.ResumeReading()
		for rp.received < n+1 {
			rp.gotData.Clear()
			if err := asyncio.Timeout(ctx, 10*time.Second, func(ctx context.Context, _ *asyncio.TimeoutScope) error { return rp.gotData.Wait(ctx) }); err != nil {
				t.Fatalf("received %d of %d: %v", rp.received, n+1, err)
			}
		}
		if rp.got[len(rp.got)-1] != "after" {
			t.Errorf("last datagram %q, want \"after\"", rp.got[len(rp.got)-1])
		}
		if len(sp.errs) != 1 || !errors.Is(sp.errs[0], syscall.ENOENT) && !errors.Is(sp.errs[0], syscall.ECONNREFUSED) {
			t.Errorf("ErrorReceived %v, want one ENOENT", sp.errs)
		}
		if str.IsClosing() {
			t.Error("endpoint closed by a send error")
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_selector_events.py: test_sendto_no_data: an empty datagram is
// sent (the receiver gets a zero-length datagram).
func TestSelectorDatagramTransport_test_sendto_no_data(t *testing.T) {
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		rp := newDgramProto(l)
		rtr, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *dgramProto { return rp }, &asyncio.DatagramOptions{LocalAddr: "127.0.0.1:0"})
		if err != nil {
			return 0, err
		}
		defer rtr.Close()
		sp := newDgramProto(l)
		str, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *dgramProto { return sp }, &asyncio.DatagramOptions{LocalAddr: "127.0.0.1:0"})
		if err != nil {
			return 0, err
		}
		defer str.Close()
		if err := str.SendTo(nil, rtr.GetExtraInfo("sockname").(*net.UDPAddr)); err != nil {
			t.Errorf("SendTo(empty) = %v", err)
		}
		if err := rp.gotData.Wait(ctx); err != nil {
			return 0, err
		}
		if len(rp.got) != 1 || rp.got[0] != "" {
			t.Errorf("received %q, want one empty datagram", rp.got)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_selector_events.py: test_sendto_error_received: a send the kernel
// refuses with an OS error (EMSGSIZE: a datagram over 64 KiB) goes to
// ErrorReceived; the endpoint stays open and sends on.
func TestSelectorDatagramTransport_test_sendto_error_received(t *testing.T) {
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		rp := newDgramProto(l)
		rtr, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *dgramProto { return rp }, &asyncio.DatagramOptions{LocalAddr: "127.0.0.1:0"})
		if err != nil {
			return 0, err
		}
		defer rtr.Close()
		sp := newDgramProto(l)
		str, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *dgramProto { return sp }, &asyncio.DatagramOptions{LocalAddr: "127.0.0.1:0"})
		if err != nil {
			return 0, err
		}
		defer str.Close()
		to := rtr.GetExtraInfo("sockname").(*net.UDPAddr)
		if err := str.SendTo(make([]byte, 70000), to); err != nil {
			t.Errorf("SendTo(too big) = %v, want nil (the error goes to ErrorReceived)", err)
		}
		if len(sp.errs) != 1 || !errors.Is(sp.errs[0], syscall.EMSGSIZE) {
			t.Errorf("ErrorReceived %v, want EMSGSIZE", sp.errs)
		}
		if str.IsClosing() {
			t.Error("endpoint closing after a send error")
		}
		str.SendTo([]byte("ok"), to)
		if err := rp.gotData.Wait(ctx); err != nil {
			return 0, err
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_selector_events.py BaseSelectorEventLoopTests: test_close (the
// I/O part; closing twice is TestAiotestCallback_test_close): once the
// loop is closed, AddReader and AddWriter are refused with
// ErrLoopClosed, and the fd watched before is no longer watched.
func TestBaseSelectorEventLoop_test_close(t *testing.T) {
	a, _ := socketpair(t)
	fd := rawFd(a)
	var loop *asyncio.Loop
	withLoop(t, func(ctx context.Context, l *asyncio.Loop) {
		loop = l
		onLoop(ctx, l, func(context.Context) {
			if err := l.AddReader(fd, func(context.Context) {}); err != nil {
				t.Errorf("AddReader = %v", err)
			}
		})
	})
	if !loop.IsClosed() {
		t.Fatal("loop not closed after its block")
	}
	if err := loop.AddReader(fd, func(context.Context) {}); !errors.Is(err, asyncio.ErrLoopClosed) {
		t.Errorf("AddReader on a closed loop = %v, want ErrLoopClosed", err)
	}
	if err := loop.AddWriter(fd, func(context.Context) {}); !errors.Is(err, asyncio.ErrLoopClosed) {
		t.Errorf("AddWriter on a closed loop = %v, want ErrLoopClosed", err)
	}
}

// panicDgram panics in DatagramReceived.
type panicDgram struct{ *dgramProto }

func (p *panicDgram) DatagramReceived([]byte, net.Addr) { panic("datagram_received boom") }

// test_selector_events.py: test_fatal_error_connected_custom_error: a
// failure that is not an OS error (here the protocol's DatagramReceived
// panicking) is reported to the exception handler and closes the
// endpoint with ConnectionLost(err); ErrorReceived is not called.
func TestSelectorDatagramTransport_test_fatal_error_connected_custom_error(t *testing.T) {
	var p *panicDgram
	msgs := streamsMain(t, func(ctx context.Context) error {
		l, _ := asyncio.GetRunningLoop(ctx)
		p = &panicDgram{newDgramProto(l)}
		rtr, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *panicDgram { return p }, &asyncio.DatagramOptions{LocalAddr: "127.0.0.1:0"})
		if err != nil {
			return err
		}
		c, err := net.Dial("udp", rtr.GetExtraInfo("sockname").(*net.UDPAddr).String())
		if err != nil {
			return err
		}
		defer c.Close()
		c.Write([]byte("x"))
		if _, err := asyncio.WaitFor(ctx, p.done, 10*time.Second); err != nil {
			return err
		}
		if !rtr.IsClosing() {
			t.Error("endpoint not closing")
		}
		return nil
	})
	if p.lostErr == nil || len(p.errs) != 0 {
		t.Errorf("ConnectionLost(%v), ErrorReceived %v; want the panic, nothing", p.lostErr, p.errs)
	}
	if len(msgs) != 1 {
		t.Errorf("exception handler got %d reports, want 1", len(msgs))
	}
}
