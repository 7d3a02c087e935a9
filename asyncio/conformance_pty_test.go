//go:build linux

package asyncio_test

// The pipe transports on a pseudo-terminal: ConnectReadPipe and
// ConnectWritePipe take a tty as they take a pipe. CPython's
// test_events.py pty cases are in conformance_events_io_test.go
// (TestEvents_test_read_pty_output, …); these add what a tty does that a
// pipe does not: the other side's end shows as EIO on the master, as end
// of file on the slave, and a slave's output queue fills up like a pipe.

import (
	"bytes"
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// The slave closing is the end of a pty master's stream: the read fails
// with EIO, and the transport loses the connection with that error (as
// asyncio, which reports EIO to no exception handler) after delivering
// all that was written before.
func TestUnixPty_master_sees_eio_when_slave_closes(t *testing.T) {
	master, slave := openPTY(t, true)
	msgs := streamsMain(t, func(ctx context.Context) error {
		l, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, l)
		tr, _, err := asyncio.ConnectReadPipe(ctx, func() *recProto { return p }, master)
		if err != nil {
			return err
		}
		slave.Write([]byte("last words"))
		if err := waitData(ctx, p, len("last words")); err != nil {
			return err
		}
		slave.Close()
		if _, err := asyncio.Await(ctx, p.done); err != nil {
			return err
		}
		if p.data.String() != "last words" {
			t.Errorf("data %q, want \"last words\"", p.data.String())
		}
		if !errors.Is(p.lostErr, syscall.EIO) {
			t.Errorf("ConnectionLost(%v), want EIO", p.lostErr)
		}
		if !tr.IsClosing() {
			t.Error("not closing after the loss")
		}
		return nil
	})
	if len(msgs) != 0 {
		t.Errorf("exception handler got %v", msgs)
	}
}

// PauseReading on a tty: what the master writes meanwhile stays in the
// tty until ResumeReading, then arrives whole and in order; the master
// closing is then the end of the slave's stream (EOFReceived, then
// ConnectionLost(nil)).
func TestUnixPty_pause_reading_and_eof(t *testing.T) {
	master, slave := openPTY(t, true)
	streamsMain(t, func(ctx context.Context) error {
		l, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, l)
		tr, _, err := asyncio.ConnectReadPipe(ctx, func() *recProto { return p }, slave)
		if err != nil {
			return err
		}
		tr.PauseReading()
		if tr.IsReading() {
			t.Error("IsReading after PauseReading")
		}
		master.Write([]byte("while paused"))
		// Give the loop time to (wrongly) read: a paused transport must not.
		if err := asyncio.Sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
		if p.data.Len() != 0 {
			t.Errorf("got %q while paused", p.data.String())
		}
		tr.ResumeReading()
		if err := waitData(ctx, p, len("while paused")); err != nil {
			return err
		}
		if p.data.String() != "while paused" {
			t.Errorf("data %q after ResumeReading, want \"while paused\"", p.data.String())
		}
		master.Close()
		if _, err := asyncio.Await(ctx, p.done); err != nil {
			return err
		}
		if p.state != "CLOSED" || p.lostErr != nil {
			t.Errorf("state %s, lost %v; want CLOSED (after EOF), nil", p.state, p.lostErr)
		}
		return nil
	})
}

// A tty's output queue fills up as a pipe does: a write transport on the
// slave buffers what the queue does not take, pauses its protocol above
// the high-water mark, and sends all of it, in order, once the master
// reads; WriteEOF then closes it with nil.
func TestUnixPty_write_flow_control(t *testing.T) {
	master, slave := openPTY(t, true)
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte('a' + i%26)
	}
	var got []byte
	streamsMain(t, func(ctx context.Context) error {
		l, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, l)
		tr, _, err := asyncio.ConnectWritePipe(ctx, func() *recProto { return p }, slave)
		if err != nil {
			return err
		}
		tr.SetWriteBufferLimits(64<<10, 16<<10)
		tr.Write(data)
		if n := tr.GetWriteBufferSize(); n == 0 || n == len(data) {
			t.Errorf("buffered %d of %d: the tty took all or nothing", n, len(data))
		}
		if len(p.pauses) != 1 || p.pauses[0] <= 64<<10 {
			t.Errorf("pauses %v, want one PauseWriting above 64 KiB", p.pauses)
		}
		var gots string
		gots, err = readAtLeast(ctx, master, len(data))
		got = []byte(gots)
		if err != nil {
			t.Errorf("master read %d bytes: %v", len(got), err)
		}
		tr.WriteEOF()
		if _, err := asyncio.Await(ctx, p.done); err != nil {
			return err
		}
		if p.lostErr != nil || tr.GetWriteBufferSize() != 0 {
			t.Errorf("lost %v with %d buffered; want nil, 0", p.lostErr, tr.GetWriteBufferSize())
		}
		if len(p.pauses) != 2 || p.pauses[1] > 0 || -p.pauses[1] > 16<<10 {
			t.Errorf("pauses %v, want PauseWriting then ResumeWriting at or below 16 KiB", p.pauses)
		}
		return nil
	})
	if !bytes.Equal(got, data) {
		t.Fatalf("master got %d bytes, not the %d written in order", len(got), len(data))
	}
}
