//go:build unix

package asyncio

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
)

// Pipe transports (asyncio's _UnixReadPipeTransport and
// _UnixWritePipeTransport): a pipe, FIFO, character device or socket the
// loop owns, watched by the loop's poller.

// pipeFd takes f over: it duplicates f's descriptor (close-on-exec), makes
// the copy non-blocking, closes f and returns the copy. Only pipes, FIFOs,
// sockets and character devices (ttys) are accepted, as in asyncio.
func pipeFd(f *os.File) (int, error) {
	if f == nil {
		return -1, fmt.Errorf("%w: nil file", ErrInvalidFd)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	var derr error
	if cerr := rc.Control(func(ofd uintptr) {
		var st syscall.Stat_t
		if derr = syscall.Fstat(int(ofd), &st); derr != nil {
			derr = os.NewSyscallError("fstat", derr)
			return
		}
		switch st.Mode & syscall.S_IFMT {
		case syscall.S_IFIFO, syscall.S_IFSOCK, syscall.S_IFCHR:
		default:
			derr = ErrNotAPipe
			return
		}
		r, e := dupCloexec(int(ofd))
		if e != nil {
			derr = os.NewSyscallError("fcntl", e)
			return
		}
		fd = r
	}); cerr != nil {
		return -1, cerr
	}
	if derr != nil {
		return -1, derr
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return -1, os.NewSyscallError("fcntl", err)
	}
	f.Close()
	return fd, nil
}

// ConnectReadPipe makes a read transport of f (a pipe, FIFO, tty or
// socket) and returns it with the protocol factory made, once the
// protocol's ConnectionMade has run (asyncio's loop.connect_read_pipe).
// The protocol's DataReceived gets the bytes as they arrive; at end of
// stream EOFReceived is called (its result is ignored: a read pipe has
// nothing left to keep open) and then ConnectionLost(nil). On a
// pseudo-terminal's master the end of the stream (the slave side closed)
// is a read error instead: ConnectionLost gets an error matching
// syscall.EIO, and nothing goes to the exception handler, as in asyncio.
// PauseReading and ResumeReading give flow control.
//
// The loop takes f over: it duplicates its descriptor, makes it
// non-blocking (which the other holders of the same open file see too, as
// in asyncio) and closes f; the transport closes its copy when it is lost
// or when the OpenLoop block exits. A regular file is refused with
// ErrNotAPipe. The transport's write methods return ErrReadOnlyPipe.
//
// A coroutine: call it from a task. Loop-confined.
func ConnectReadPipe[P Protocol](ctx context.Context, factory func() P, f *os.File) (Transport, P, error) {
	var zero P
	l, err := GetRunningLoop(ctx)
	if err != nil {
		return nil, zero, err
	}
	p := factory() // first, as asyncio: a failing factory leaks nothing
	fd, err := pipeFd(f)
	if err != nil {
		return nil, zero, err
	}
	waiter := NewFuture[struct{}](l)
	t, err := newReadPipeTransport(l, fd, p, waiter)
	if err != nil {
		syscall.Close(fd)
		return nil, zero, err
	}
	if _, err := Await(ctx, waiter); err != nil {
		t.Close()
		return nil, zero, err
	}
	return t, p, nil
}

// ConnectWritePipe makes a write transport of f (a pipe, FIFO, tty or
// socket) and returns it with the protocol factory made, once the
// protocol's ConnectionMade has run (asyncio's loop.connect_write_pipe).
// Write never blocks: what the pipe does not take at once is buffered,
// with the transports' flow control (PauseWriting above the high-water
// mark, 64 KiB by default, ResumeWriting at the low one). Close sends
// what is buffered, then closes the pipe and calls ConnectionLost(nil);
// Abort drops it. When the reading end is closed, the transport closes:
// ConnectionLost(nil) if nothing was buffered, else with an error
// matching syscall.EPIPE.
//
// The loop takes f over as ConnectReadPipe does. The transport's reading
// methods do nothing (IsReading is false).
//
// A coroutine: call it from a task. Loop-confined.
func ConnectWritePipe[P BaseProtocol](ctx context.Context, factory func() P, f *os.File) (Transport, P, error) {
	var zero P
	l, err := GetRunningLoop(ctx)
	if err != nil {
		return nil, zero, err
	}
	p := factory() // first, as asyncio: a failing factory leaks nothing
	fd, err := pipeFd(f)
	if err != nil {
		return nil, zero, err
	}
	waiter := NewFuture[struct{}](l)
	t, err := newWritePipeTransport(l, fd, p, waiter)
	if err != nil {
		syscall.Close(fd)
		return nil, zero, err
	}
	if _, err := Await(ctx, waiter); err != nil {
		t.Abort()
		return nil, zero, err
	}
	return t, p, nil
}

// pipeBase is what both pipe transports share.
type pipeBase struct {
	loop      *Loop
	io        *ioState
	fd        int
	ent       *fdEntry
	proto     BaseProtocol
	extra     map[string]any
	closing   bool
	connLost  int
	closedFd  bool
	connected bool
}

func (t *pipeBase) GetExtraInfo(name string) any {
	if v, ok := t.extra[name]; ok {
		return v
	}
	if name == "pipe" && !t.closedFd {
		return t.fd
	}
	return nil
}

func (t *pipeBase) IsClosing() bool           { return t.closing }
func (t *pipeBase) GetProtocol() BaseProtocol { return t.proto }

func (t *pipeBase) report(err error, msg string, self any) {
	var se *os.SyscallError
	if !errors.As(err, &se) {
		t.loop.CallExceptionHandler(ExceptionContext{Message: msg, Err: err,
			Extra: map[string]any{"transport": self, "protocol": t.proto}})
	}
}

// closeFd closes the descriptor without callbacks.
func (t *pipeBase) closeFd(self ioCloser) {
	if t.closedFd {
		return
	}
	t.closedFd = true
	t.closing = true
	t.io.drop(t.ent)
	delete(t.io.owned, self)
	syscall.Close(t.fd)
}

// readPipeTransport is a pipe the loop reads.
type readPipeTransport struct {
	pipeBase
	dproto Protocol
	readSide
	hup bool
}

var _ Transport = (*readPipeTransport)(nil)

func newReadPipeTransport(l *Loop, fd int, p Protocol, waiter *Future[struct{}]) (*readPipeTransport, error) {
	s, err := l.ioState()
	if err != nil {
		return nil, err
	}
	t := &readPipeTransport{pipeBase: pipeBase{loop: l, io: s, fd: fd, proto: p}, dproto: p}
	t.initRead(l, &t.closing, t.readReady)
	e, err := s.own(fd, t.readReady, nil)
	if err != nil {
		return nil, err
	}
	t.ent = e
	s.owned[t] = struct{}{}
	t.connected = true
	scheduleStart(l, func() { t.dproto.ConnectionMade(t) }, &t.readSide, waiter)
	return t, nil
}

func (t *readPipeTransport) String() string {
	return fmt.Sprintf("<readPipeTransport fd=%d closing=%v>", t.fd, t.closing)
}

func (t *readPipeTransport) SetProtocol(p BaseProtocol) {
	t.loop.confined("Transport.SetProtocol")
	dp, ok := p.(Protocol)
	if !ok {
		panic(fmt.Errorf("%w: %T", ErrNotAProtocol, p))
	}
	t.proto, t.dproto = p, dp
}

func (t *readPipeTransport) readReady(bits uint32) {
	if bits&readyHup != 0 {
		t.hup = true
	}
	if t.connLost > 0 || !t.IsReading() {
		return
	}
	if t.io.rbuf == nil {
		t.io.rbuf = make([]byte, maxReadSize)
	}
	buf := t.io.rbuf
	n, err := syscall.Read(t.fd, buf)
	if err != nil {
		if err == syscall.EAGAIN || err == syscall.EINTR {
			return
		}
		t.fatalError(os.NewSyscallError("read", err), "Fatal read error on pipe transport")
		return
	}
	if n == 0 {
		t.closing = true
		t.connLost++
		t.io.drop(t.ent)
		if perr := protect(func() { t.dproto.EOFReceived() }); perr != nil {
			t.report(perr, "Fatal error: protocol.eof_received() call failed.", t)
		}
		t.loop.CallSoon(func(context.Context) { t.callConnectionLost(nil) })
		return
	}
	if n == len(buf) || t.hup {
		t.scheduleRead()
	}
	if perr := protect(func() { t.dproto.DataReceived(buf[:n]) }); perr != nil {
		t.fatalError(perr, "Fatal error: protocol.data_received() call failed.")
	}
}

func (t *readPipeTransport) Close() {
	t.loop.confined("Transport.Close")
	if t.closing {
		return
	}
	t.closing = true
	t.connLost++
	t.loop.CallSoon(func(context.Context) { t.callConnectionLost(nil) })
}

func (t *readPipeTransport) Abort() {
	t.loop.confined("Transport.Abort")
	t.forceClose(nil)
}

func (t *readPipeTransport) fatalError(err error, msg string) {
	t.report(err, msg, t)
	t.forceClose(err)
}

func (t *readPipeTransport) forceClose(err error) {
	if t.connLost > 0 {
		return
	}
	t.closing = true
	t.connLost++
	t.loop.CallSoon(func(context.Context) { t.callConnectionLost(err) })
}

func (t *readPipeTransport) callConnectionLost(err error) {
	if t.closedFd {
		return
	}
	defer t.closeNow()
	if t.connected {
		t.proto.ConnectionLost(err)
	}
}

func (t *readPipeTransport) closeNow() { t.closeFd(t) }

// The write side of a read pipe does not exist.

func (t *readPipeTransport) Write([]byte) error                       { return ErrReadOnlyPipe }
func (t *readPipeTransport) WriteLines([][]byte) error                { return ErrReadOnlyPipe }
func (t *readPipeTransport) WriteEOF() error                          { return ErrReadOnlyPipe }
func (t *readPipeTransport) CanWriteEOF() bool                        { return false }
func (t *readPipeTransport) SetWriteBufferLimits(high, low int) error { return ErrReadOnlyPipe }
func (t *readPipeTransport) GetWriteBufferLimits() (low, high int)    { return 0, 0 }
func (t *readPipeTransport) GetWriteBufferSize() int                  { return 0 }

// writePipeTransport is a pipe the loop writes.
type writePipeTransport struct {
	pipeBase
	wbuf    []byte
	woff    int
	writing bool
	writeFlow
}

var _ Transport = (*writePipeTransport)(nil)

func newWritePipeTransport(l *Loop, fd int, p BaseProtocol, waiter *Future[struct{}]) (*writePipeTransport, error) {
	s, err := l.ioState()
	if err != nil {
		return nil, err
	}
	t := &writePipeTransport{pipeBase: pipeBase{loop: l, io: s, fd: fd, proto: p}, writeFlow: newWriteFlow()}
	e, err := s.own(fd, t.readReady, t.writeReady)
	if err != nil {
		return nil, err
	}
	t.ent = e
	s.owned[t] = struct{}{}
	t.connected = true
	scheduleStart(l, func() { t.proto.ConnectionMade(t) }, nil, waiter)
	return t, nil
}

func (t *writePipeTransport) String() string {
	return fmt.Sprintf("<writePipeTransport fd=%d closing=%v bufsize=%d>", t.fd, t.closing, t.GetWriteBufferSize())
}

func (t *writePipeTransport) SetProtocol(p BaseProtocol) {
	t.loop.confined("Transport.SetProtocol")
	t.proto = p
}

// readReady: a write pipe is readable only when its reader is gone.
func (t *writePipeTransport) readReady(bits uint32) {
	if bits&readyHup == 0 || t.connLost > 0 {
		return
	}
	if t.writing {
		t.fatalError(os.NewSyscallError("write", syscall.EPIPE), "")
	} else {
		t.forceClose(nil)
	}
}

func (t *writePipeTransport) Write(data []byte) error {
	t.loop.confined("Transport.Write")
	if len(data) == 0 {
		return nil
	}
	if t.connLost > 0 {
		t.connLost++ // counts writes to a lost pipe, as asyncio's _conn_lost
		return ErrTransportClosing
	}
	if t.closing {
		return ErrTransportClosing // refused; what is buffered still goes
	}
	if !t.writing {
		n, err := syscall.Write(t.fd, data)
		if err != nil {
			if err != syscall.EAGAIN && err != syscall.EINTR {
				t.fatalError(os.NewSyscallError("write", err), "Fatal write error on pipe transport")
				return nil
			}
			n = 0
		}
		data = data[n:]
		if len(data) == 0 {
			return nil
		}
		t.writing = true
	}
	t.wbuf = append(t.wbuf, data...)
	t.maybePauseProtocol()
	return nil
}

func (t *writePipeTransport) WriteLines(lines [][]byte) error {
	t.loop.confined("Transport.WriteLines")
	for _, b := range lines {
		if err := t.Write(b); err != nil {
			return err
		}
	}
	return nil
}

func (t *writePipeTransport) writeReady() {
	if !t.writing || t.connLost > 0 {
		return
	}
	n, err := syscall.Write(t.fd, t.wbuf[t.woff:])
	if err != nil {
		if err == syscall.EAGAIN || err == syscall.EINTR {
			return
		}
		t.writing = false
		t.wbuf, t.woff = nil, 0
		t.fatalError(os.NewSyscallError("write", err), "Fatal write error on pipe transport")
		return
	}
	t.woff += n
	t.maybeResumeProtocol()
	if t.woff == len(t.wbuf) {
		t.writing = false
		t.wbuf, t.woff = t.wbuf[:0], 0
		if t.closing && t.connLost == 0 {
			t.connLost++
			t.loop.CallSoon(func(context.Context) { t.callConnectionLost(nil) })
		}
	} else if t.woff > len(t.wbuf)/2 && t.woff > 64*1024 {
		t.wbuf = t.wbuf[:copy(t.wbuf, t.wbuf[t.woff:])]
		t.woff = 0
	}
}

// WriteEOF closes the pipe once the buffer is written (for a pipe, the
// end of stream is the close).
func (t *writePipeTransport) WriteEOF() error {
	t.loop.confined("Transport.WriteEOF")
	if t.closing {
		return nil
	}
	t.closing = true
	if !t.writing {
		t.connLost++
		t.loop.CallSoon(func(context.Context) { t.callConnectionLost(nil) })
	}
	return nil
}

func (t *writePipeTransport) CanWriteEOF() bool { return true }

func (t *writePipeTransport) Close() { _ = t.WriteEOF() }

func (t *writePipeTransport) Abort() {
	t.loop.confined("Transport.Abort")
	t.forceClose(nil)
}

func (t *writePipeTransport) fatalError(err error, msg string) {
	if msg != "" {
		t.report(err, msg, t)
	}
	t.forceClose(err)
}

func (t *writePipeTransport) forceClose(err error) {
	if t.connLost > 0 {
		return
	}
	t.writing = false
	t.wbuf, t.woff = nil, 0
	t.closing = true
	t.connLost++
	t.loop.CallSoon(func(context.Context) { t.callConnectionLost(err) })
}

func (t *writePipeTransport) callConnectionLost(err error) {
	if t.closedFd {
		return
	}
	defer t.closeNow()
	if t.connected {
		t.proto.ConnectionLost(err)
	}
}

func (t *writePipeTransport) closeNow() { t.closeFd(t) }

func (t *writePipeTransport) GetWriteBufferSize() int { return len(t.wbuf) - t.woff }

// A write pipe has no reading side.

func (t *writePipeTransport) IsReading() bool { return false }
func (t *writePipeTransport) PauseReading()   {}
func (t *writePipeTransport) ResumeReading()  {}

func (t *writePipeTransport) maybePauseProtocol() {
	t.writeFlow.maybePause(t.GetWriteBufferSize(), t.loop, t, t.proto)
}

func (t *writePipeTransport) maybeResumeProtocol() {
	t.writeFlow.maybeResume(t.GetWriteBufferSize(), t.loop, t, t.proto)
}

func (t *writePipeTransport) SetWriteBufferLimits(high, low int) error {
	t.loop.confined("Transport.SetWriteBufferLimits")
	if err := t.setLimits(high, low); err != nil {
		return err
	}
	t.maybePauseProtocol()
	return nil
}
