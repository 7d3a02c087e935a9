//go:build linux

package asyncio_test

// The pipe transports on a pseudo-terminal: ConnectReadPipe and
// ConnectWritePipe take a tty as they take a pipe. These transcribe the
// pty cases of CPython's test_events.py (test_read_pty_output,
// test_write_pty, test_bidirectional_pty) and add what a tty does that a
// pipe does not: the other side's end shows as EIO on the master, as end
// of file on the slave, and a slave's output queue fills up like a pipe.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// openPty opens a pseudo-terminal pair (as openpty(3): /dev/ptmx,
// unlocked, and its /dev/pts/N), with the slave in raw mode so that the
// line discipline passes bytes through unchanged (no echo, no CR/LF
// translation, no line buffering). It skips the test if the system has
// no pseudo-terminals.
func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: open /dev/ptmx: %v", err)
	}
	ioctl := func(f *os.File, req uintptr, arg unsafe.Pointer) error {
		rc, err := f.SyscallConn()
		if err != nil {
			return err
		}
		var e syscall.Errno
		if cerr := rc.Control(func(fd uintptr) {
			_, _, e = syscall.Syscall(syscall.SYS_IOCTL, fd, req, uintptr(arg))
		}); cerr != nil {
			return cerr
		}
		if e != 0 {
			return e
		}
		return nil
	}
	var unlock int32
	var n uint32
	if err := ioctl(m, syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err != nil {
		m.Close()
		t.Skipf("no pseudo-terminal: unlock: %v", err)
	}
	if err := ioctl(m, syscall.TIOCGPTN, unsafe.Pointer(&n)); err != nil {
		m.Close()
		t.Skipf("no pseudo-terminal: TIOCGPTN: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("no pseudo-terminal: open its slave: %v", err)
	}
	// cfmakeraw(3)
	var tio syscall.Termios
	if err := ioctl(s, syscall.TCGETS, unsafe.Pointer(&tio)); err != nil {
		t.Fatalf("TCGETS: %v", err)
	}
	tio.Iflag &^= syscall.IGNBRK | syscall.BRKINT | syscall.PARMRK | syscall.ISTRIP | syscall.INLCR | syscall.IGNCR | syscall.ICRNL | syscall.IXON
	tio.Oflag &^= syscall.OPOST
	tio.Lflag &^= syscall.ECHO | syscall.ECHONL | syscall.ICANON | syscall.ISIG | syscall.IEXTEN
	tio.Cflag &^= syscall.CSIZE | syscall.PARENB
	tio.Cflag |= syscall.CS8
	tio.Cc[syscall.VMIN], tio.Cc[syscall.VTIME] = 1, 0
	if err := ioctl(s, syscall.TCSETS, unsafe.Pointer(&tio)); err != nil {
		t.Fatalf("TCSETS: %v", err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// readAtLeast reads from f, off the loop, until it has n bytes (or 10 s
// pass).
func readAtLeast(ctx context.Context, f *os.File, n int) ([]byte, error) {
	return asyncio.ToThread(ctx, func(context.Context) ([]byte, error) {
		f.SetReadDeadline(time.Now().Add(10 * time.Second))
		b := make([]byte, n)
		_, err := io.ReadFull(f, b)
		return b, err
	})
}

// waitBytes waits until p has received at least n bytes.
func waitBytes(ctx context.Context, p *recProto, n int) error {
	for p.data.Len() < n {
		p.gotData.Clear()
		if err := p.gotData.Wait(ctx); err != nil {
			return err
		}
	}
	return nil
}

// test_events.py test_read_pty_output: a read transport on a pty's
// master gets what is written to the slave, in order; Close then loses
// the connection with nil, and nothing reaches the exception handler.
func TestUnixPty_read_pty_output(t *testing.T) {
	master, slave := openPty(t)
	msgs := streamsMain(t, func(ctx context.Context) error {
		l, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, l)
		tr, got, err := asyncio.ConnectReadPipe(ctx, func() *recProto { return p }, master)
		if err != nil {
			return err
		}
		if got != p || p.transport != tr || p.state != "CONNECTED" || p.data.Len() != 0 {
			t.Errorf("after ConnectReadPipe: state %s, %d bytes", p.state, p.data.Len())
		}
		slave.Write([]byte("1"))
		if err := waitBytes(ctx, p, 1); err != nil {
			return err
		}
		if p.data.String() != "1" {
			t.Errorf("data %q, want \"1\"", p.data.String())
		}
		slave.Write([]byte("2345"))
		if err := waitBytes(ctx, p, 5); err != nil {
			return err
		}
		if p.data.String() != "12345" || p.state != "CONNECTED" {
			t.Errorf("data %q, state %s; want \"12345\", CONNECTED", p.data.String(), p.state)
		}
		tr.Close()
		if _, err := asyncio.Await(ctx, p.done); err != nil {
			return err
		}
		if p.state != "CLOSED" || p.lostErr != nil {
			t.Errorf("state %s, lost %v; want CLOSED, nil", p.state, p.lostErr)
		}
		return nil
	})
	if len(msgs) != 0 {
		t.Errorf("exception handler got %v", msgs)
	}
}

// The slave closing is the end of a pty master's stream: the read fails
// with EIO, and the transport loses the connection with that error (as
// asyncio, which reports EIO to no exception handler) after delivering
// all that was written before.
func TestUnixPty_master_sees_eio_when_slave_closes(t *testing.T) {
	master, slave := openPty(t)
	msgs := streamsMain(t, func(ctx context.Context) error {
		l, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, l)
		tr, _, err := asyncio.ConnectReadPipe(ctx, func() *recProto { return p }, master)
		if err != nil {
			return err
		}
		slave.Write([]byte("last words"))
		if err := waitBytes(ctx, p, len("last words")); err != nil {
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

// test_events.py test_write_pty: a write transport on a pty's slave
// sends what is written to the master, in order; Close, after the master
// closed, loses the connection once.
func TestUnixPty_write_pty(t *testing.T) {
	master, slave := openPty(t)
	msgs := streamsMain(t, func(ctx context.Context) error {
		l, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, l)
		tr, got, err := asyncio.ConnectWritePipe(ctx, func() *recProto { return p }, slave)
		if err != nil {
			return err
		}
		if got != p || p.transport != tr || p.state != "CONNECTED" {
			t.Errorf("after ConnectWritePipe: state %s", p.state)
		}
		tr.Write([]byte("1"))
		b, err := readAtLeast(ctx, master, 1)
		if err != nil || string(b) != "1" {
			t.Errorf("master read %q, %v; want \"1\"", b, err)
		}
		tr.Write([]byte("2345"))
		b, err = readAtLeast(ctx, master, 4)
		if err != nil || string(b) != "2345" {
			t.Errorf("master read %q, %v; want \"2345\"", b, err)
		}
		if p.state != "CONNECTED" {
			t.Errorf("state %s, want CONNECTED", p.state)
		}
		master.Close()
		tr.Close()
		if _, err := asyncio.Await(ctx, p.done); err != nil {
			return err
		}
		if err := asyncio.Sleep(ctx, 0); err != nil {
			return err
		}
		if p.state != "CLOSED" {
			t.Errorf("state %s, want CLOSED", p.state)
		}
		return nil
	})
	if len(msgs) != 0 {
		t.Errorf("exception handler got %v", msgs)
	}
}

// test_events.py test_bidirectional_pty: a read and a write transport on
// the same tty (the slave, and a second descriptor of it) carry data both
// ways at once; each closes on its own.
func TestUnixPty_bidirectional_pty(t *testing.T) {
	master, slave := openPty(t)
	slave2, err := os.OpenFile(slave.Name(), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer slave2.Close()
	msgs := streamsMain(t, func(ctx context.Context) error {
		l, _ := asyncio.GetRunningLoop(ctx)
		rp, wp := newRecProto(t, l), newRecProto(t, l)
		rtr, _, err := asyncio.ConnectReadPipe(ctx, func() *recProto { return rp }, slave)
		if err != nil {
			return err
		}
		wtr, _, err := asyncio.ConnectWritePipe(ctx, func() *recProto { return wp }, slave2)
		if err != nil {
			return err
		}
		wtr.Write([]byte("1"))
		if b, err := readAtLeast(ctx, master, 1); err != nil || string(b) != "1" {
			t.Errorf("master read %q, %v; want \"1\"", b, err)
		}
		if rp.data.Len() != 0 {
			t.Errorf("the read side got %q: the tty echoed", rp.data.String())
		}
		master.Write([]byte("a"))
		if err := waitBytes(ctx, rp, 1); err != nil {
			return err
		}
		wtr.Write([]byte("2345"))
		if b, err := readAtLeast(ctx, master, 4); err != nil || string(b) != "2345" {
			t.Errorf("master read %q, %v; want \"2345\"", b, err)
		}
		master.Write([]byte("bcde"))
		if err := waitBytes(ctx, rp, 5); err != nil {
			return err
		}
		if rp.data.String() != "abcde" || rp.state != "CONNECTED" || wp.state != "CONNECTED" {
			t.Errorf("read side %q in state %s, write side in state %s; want \"abcde\", both CONNECTED",
				rp.data.String(), rp.state, wp.state)
		}
		rtr.Close()
		if _, err := asyncio.Await(ctx, rp.done); err != nil {
			return err
		}
		if rp.lostErr != nil {
			t.Errorf("read side lost with %v, want nil", rp.lostErr)
		}
		if wtr.IsClosing() {
			t.Error("closing the read side closed the write side")
		}
		wtr.Write([]byte("6"))
		if b, err := readAtLeast(ctx, master, 1); err != nil || string(b) != "6" {
			t.Errorf("master read %q, %v after the read side closed; want \"6\"", b, err)
		}
		wtr.Close()
		if _, err := asyncio.Await(ctx, wp.done); err != nil {
			return err
		}
		if wp.lostErr != nil {
			t.Errorf("write side lost with %v, want nil", wp.lostErr)
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
	master, slave := openPty(t)
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
		if err := waitBytes(ctx, p, len("while paused")); err != nil {
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
	master, slave := openPty(t)
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
		got, err = readAtLeast(ctx, master, len(data))
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
