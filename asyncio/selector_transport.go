//go:build unix

package asyncio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"syscall"
)

// maxReadSize is how much a transport reads at once (asyncio's max_size).
const maxReadSize = 256 * 1024

// logThresholdConnLostWrites: after this many writes to a lost connection
// the transport logs a warning (asyncio's LOG_THRESHOLD_FOR_CONNLOST_WRITES).
const logThresholdConnLostWrites = 5

// socketTransport is asyncio's _SelectorSocketTransport: a stream socket
// the loop owns, read when the poller says so, written at once and
// buffered when the kernel is full.
type socketTransport struct {
	loop   *Loop
	io     *ioState
	fd     int
	ent    *fdEntry
	server *Server
	extra  map[string]any

	proto     BaseProtocol
	dproto    Protocol
	bproto    BufferedProtocol
	connected bool // ConnectionMade has been called or scheduled

	closing bool
	readSide
	eof      bool // WriteEOF called
	connLost int
	wbuf     []byte
	woff     int
	writing  bool // the buffer is not empty: waiting for writability
	writeFlow
	closedFd   bool
	hup        bool                // the poller reported a hang-up or error
	sendfiling bool                // Sendfile runs: Write is refused
	wwait      *Future[struct{}]   // Sendfile waits for writability
	emptyWait  []*Future[struct{}] // Drain-style waiters for an empty buffer

	lostNil func(context.Context)
}

var _ Transport = (*socketTransport)(nil)

// newSocketTransport takes ownership of fd (connected, non-blocking) and
// schedules the protocol's ConnectionMade and the start of reading, as
// asyncio's transport constructor does. waiter, if not nil, gets its
// result after ConnectionMade.
func newSocketTransport(l *Loop, fd int, proto BaseProtocol, server *Server, waiter *Future[struct{}]) (*socketTransport, error) {
	s, err := l.ioState()
	if err != nil {
		return nil, err
	}
	t := &socketTransport{loop: l, io: s, fd: fd, server: server, writeFlow: newWriteFlow()}
	if err := t.setProto(proto); err != nil {
		return nil, err
	}
	t.initRead(l, &t.closing, t.readReady)
	t.lostNil = func(context.Context) { t.callConnectionLost(nil) }
	if sockType(fd) == syscall.SOCK_STREAM {
		if sa, err := syscall.Getsockname(fd); err == nil {
			switch sa.(type) {
			case *syscall.SockaddrInet4, *syscall.SockaddrInet6:
				syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
			}
		}
	}
	e, err := s.own(fd, t.readReady, t.writeReady)
	if err != nil {
		return nil, err
	}
	t.ent = e
	s.owned[t] = struct{}{}
	if server != nil {
		server.attach(t)
	}
	t.connected = true
	scheduleStart(l, func() { t.proto.ConnectionMade(t) }, &t.readSide, waiter)
	return t, nil
}

func (t *socketTransport) setProto(p BaseProtocol) error {
	switch p := p.(type) {
	case BufferedProtocol:
		t.bproto, t.dproto = p, nil
	case Protocol:
		t.dproto, t.bproto = p, nil
	default:
		return fmt.Errorf("%w: %T", ErrNotAProtocol, p)
	}
	t.proto = p
	return nil
}

func (t *socketTransport) String() string {
	state := ""
	switch {
	case t.closedFd:
		state = " closed"
	case t.closing:
		state = " closing"
	}
	return fmt.Sprintf("<socketTransport%s fd=%d write bufsize=%d>", state, t.fd, t.GetWriteBufferSize())
}

func (t *socketTransport) GetExtraInfo(name string) any {
	if v, ok := t.extra[name]; ok {
		return v
	}
	if t.closedFd {
		return nil
	}
	switch name {
	case "peername":
		if sa, err := syscall.Getpeername(t.fd); err == nil {
			return sockaddrToAddr(t.fd, sa)
		}
	case "sockname":
		if sa, err := syscall.Getsockname(t.fd); err == nil {
			return sockaddrToAddr(t.fd, sa)
		}
	case "socket":
		return t.fd
	}
	return nil
}

func (t *socketTransport) setExtra(name string, v any) {
	if t.extra == nil {
		t.extra = map[string]any{}
	}
	t.extra[name] = v
}

func (t *socketTransport) IsClosing() bool { return t.closing }

func (t *socketTransport) SetProtocol(p BaseProtocol) {
	t.loop.confined("Transport.SetProtocol")
	if err := t.setProto(p); err != nil {
		panic(err)
	}
}

func (t *socketTransport) GetProtocol() BaseProtocol { return t.proto }

// readReady reads once and hands the bytes to the protocol.
func (t *socketTransport) readReady(bits uint32) {
	if bits&readyHup != 0 {
		// Remembered: the hang-up's edge may come while reading is
		// paused, and the end of stream must still be read after the data.
		t.hup = true
	}
	if t.connLost > 0 || !t.IsReading() {
		return
	}
	var buf []byte
	if t.bproto != nil {
		var perr error
		buf, perr = t.getBuffer()
		if perr != nil {
			t.fatalError(perr, "Fatal error: protocol.get_buffer() call failed.")
			return
		}
	} else {
		if t.io.rbuf == nil {
			t.io.rbuf = make([]byte, maxReadSize)
		}
		buf = t.io.rbuf
	}
	n, err := rawRead(t.fd, buf)
	if err != nil {
		if err == syscall.EAGAIN || err == syscall.EINTR {
			return
		}
		t.fatalError(os.NewSyscallError("read", err), "Fatal read error on socket transport")
		return
	}
	if n == 0 {
		t.onEOF()
		return
	}
	// Edge-triggered: a full buffer, or a hang-up seen with the data, may
	// leave more to read, and no new edge will say so.
	if n == len(buf) || t.hup {
		t.scheduleRead()
	}
	if t.bproto != nil {
		if perr := protect(func() { t.bproto.BufferUpdated(n) }); perr != nil {
			t.fatalError(perr, "Fatal error: protocol.buffer_updated() call failed.")
		}
		return
	}
	if perr := protect(func() { t.dproto.DataReceived(buf[:n]) }); perr != nil {
		t.fatalError(perr, "Fatal error: protocol.data_received() call failed.")
	}
}

func (t *socketTransport) getBuffer() (buf []byte, err error) {
	err = protect(func() { buf = t.bproto.GetBuffer(-1) })
	if err == nil && len(buf) == 0 {
		err = errors.New("asyncio: GetBuffer returned an empty buffer")
	}
	return buf, err
}

// protect runs a protocol callback, turning its panic into an error (as
// asyncio's transports catch the protocol's exceptions).

func (t *socketTransport) onEOF() {
	var keepOpen bool
	var eofProto interface{ EOFReceived() bool } = t.dproto
	if t.bproto != nil {
		eofProto = t.bproto
	}
	if perr := protect(func() { keepOpen = eofProto.EOFReceived() }); perr != nil {
		t.fatalError(perr, "Fatal error: protocol.eof_received() call failed.")
		return
	}
	if keepOpen {
		t.paused = true // no more reading: the peer sent everything
	} else {
		t.Close()
	}
}

func (t *socketTransport) Write(data []byte) error {
	t.loop.confined("Transport.Write")
	if t.eof {
		return ErrWriteAfterEOF
	}
	if t.sendfiling {
		return ErrSendfileInProgress
	}
	if len(data) == 0 {
		return nil
	}
	if t.connLost > 0 {
		if t.connLost >= logThresholdConnLostWrites {
			slog.Warn("asyncio: socket.send() raised exception.")
		}
		t.connLost++ // counts writes to a lost connection, as asyncio's _conn_lost
		return ErrTransportClosing
	}
	if t.closing {
		// Refused; what is buffered still goes (counting this write as
		// lost would stop the flush, and ConnectionLost would never come).
		return ErrTransportClosing
	}
	if !t.writing {
		// Write until the kernel refuses (EAGAIN): only then is a
		// writability edge sure to come (the poller is edge-triggered).
		for len(data) > 0 {
			n, err := rawWrite(t.fd, data)
			if err != nil {
				if err == syscall.EINTR {
					continue
				}
				if err != syscall.EAGAIN {
					t.fatalError(os.NewSyscallError("write", err), "Fatal write error on socket transport")
					return nil
				}
				break
			}
			data = data[n:]
		}
		if len(data) == 0 {
			return nil
		}
		t.writing = true
	}
	t.wbuf = append(t.wbuf, data...)
	t.maybePauseProtocol()
	return nil
}

func (t *socketTransport) WriteLines(lines [][]byte) error {
	t.loop.confined("Transport.WriteLines")
	for _, b := range lines {
		if err := t.Write(b); err != nil {
			return err
		}
	}
	return nil
}

func (t *socketTransport) writeReady() {
	if f := t.wwait; f != nil {
		t.wwait = nil
		if !f.Done() {
			f.SetResult(struct{}{})
		}
	}
	// Write until the buffer is empty or the kernel refuses (EAGAIN: the
	// next writability edge will bring us back). ResumeWriting may queue
	// more on the way; it is written in the same go.
	for t.writing && t.connLost == 0 {
		n, err := rawWrite(t.fd, t.wbuf[t.woff:])
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			if err == syscall.EAGAIN {
				if t.woff > 64*1024 && t.woff > len(t.wbuf)/2 {
					t.wbuf = t.wbuf[:copy(t.wbuf, t.wbuf[t.woff:])]
					t.woff = 0
				}
				return
			}
			t.writing = false
			t.wbuf, t.woff = t.wbuf[:0], 0
			err = os.NewSyscallError("write", err)
			t.fatalError(err, "Fatal write error on socket transport")
			t.wakeEmpty(err)
			return
		}
		t.woff += n
		t.maybeResumeProtocol() // may append to the buffer
		if t.woff == len(t.wbuf) {
			t.writing = false
			t.wbuf, t.woff = t.wbuf[:0], 0
			t.wakeEmpty(nil)
			if t.closing {
				t.callConnectionLost(nil)
			} else if t.eof {
				syscall.Shutdown(t.fd, syscall.SHUT_WR)
			}
			return
		}
	}
}

func (t *socketTransport) wakeEmpty(err error) {
	for _, f := range t.emptyWait {
		if !f.Done() {
			if err != nil {
				f.SetException(err)
			} else {
				f.SetResult(struct{}{})
			}
		}
	}
	t.emptyWait = nil
}

func (t *socketTransport) WriteEOF() error {
	t.loop.confined("Transport.WriteEOF")
	if t.closing || t.eof {
		return nil
	}
	t.eof = true
	if !t.writing {
		syscall.Shutdown(t.fd, syscall.SHUT_WR)
	}
	return nil
}

func (t *socketTransport) CanWriteEOF() bool { return true }

func (t *socketTransport) Close() {
	t.loop.confined("Transport.Close")
	if t.closing {
		return
	}
	t.closing = true
	if !t.writing {
		t.connLost++
		t.loop.CallSoon(t.lostNil)
	}
}

func (t *socketTransport) Abort() {
	t.loop.confined("Transport.Abort")
	t.forceClose(nil)
}

func (t *socketTransport) fatalError(err error, msg string) {
	var se *os.SyscallError
	if !errors.As(err, &se) {
		t.loop.CallExceptionHandler(ExceptionContext{Message: msg, Err: err,
			Extra: map[string]any{"transport": t, "protocol": t.proto}})
	}
	t.forceClose(err)
}

func (t *socketTransport) forceClose(err error) {
	if t.connLost > 0 {
		return
	}
	if t.writing {
		t.writing = false
		t.wbuf, t.woff = nil, 0
	}
	t.closing = true
	t.connLost++
	t.loop.CallSoon(func(context.Context) { t.callConnectionLost(err) })
}

func (t *socketTransport) callConnectionLost(err error) {
	if t.closedFd {
		return
	}
	defer func() {
		t.closeNow()
		t.wakeEmpty(errors.New("asyncio: connection is closed by peer"))
		if t.server != nil {
			t.server.detach(t)
			t.server = nil
		}
	}()
	if t.connected {
		t.proto.ConnectionLost(err)
	}
}

// closeNow closes the fd without callbacks (and when the loop closes).
func (t *socketTransport) closeNow() {
	if t.closedFd {
		return
	}
	t.closedFd = true
	t.closing = true
	t.io.drop(t.ent)
	delete(t.io.owned, t)
	syscall.Close(t.fd)
}

func (t *socketTransport) GetWriteBufferSize() int { return len(t.wbuf) - t.woff }

// waitEmpty returns a future done once the write buffer is empty.
func (t *socketTransport) waitEmpty() *Future[struct{}] {
	f := NewFuture[struct{}](t.loop)
	if !t.writing {
		f.SetResult(struct{}{})
	} else {
		t.emptyWait = append(t.emptyWait, f)
	}
	return f
}

func (t *socketTransport) maybePauseProtocol() {
	t.writeFlow.maybePause(t.GetWriteBufferSize(), t.loop, t, t.proto)
}

func (t *socketTransport) maybeResumeProtocol() {
	t.writeFlow.maybeResume(t.GetWriteBufferSize(), t.loop, t, t.proto)
}

func (t *socketTransport) SetWriteBufferLimits(high, low int) error {
	t.loop.confined("Transport.SetWriteBufferLimits")
	if err := t.setLimits(high, low); err != nil {
		return err
	}
	t.maybePauseProtocol()
	return nil
}
