package asyncio

import (
	"context"

	"github.com/trioasyncio/trioasyncio/trio"

	"errors"
	"fmt"
)

// Errors of transports.
var (
	// ErrWriteAfterEOF is returned by Write after WriteEOF.
	ErrWriteAfterEOF = errors.New("asyncio: cannot call Write after WriteEOF")
	// ErrTransportClosing is returned by Write and WriteEOF once the
	// transport is closing (Close, Abort, or a lost connection): the data
	// was not queued.
	ErrTransportClosing = errors.New("asyncio: transport is closing")
	// ErrWriteBufferLimits is returned by SetWriteBufferLimits unless
	// high >= low >= 0.
	ErrWriteBufferLimits = errors.New("asyncio: write buffer limits must satisfy high >= low >= 0")
	// ErrNotAProtocol is returned when a protocol factory's value is
	// neither a Protocol nor a BufferedProtocol.
	ErrNotAProtocol = errors.New("asyncio: not a Protocol or BufferedProtocol")
)

// Transport is a bidirectional stream transport: a connection as seen by
// its protocol (asyncio.Transport, with BaseTransport, ReadTransport and
// WriteTransport). The loop creates them (CreateConnection, CreateServer,
// StartTLS…) and hands them to the protocol's ConnectionMade.
//
// Loop-confined: call its methods from the loop's callbacks and tasks; a
// call made while the loop waits for work (from trio code or another
// goroutine) panics naming the fix, and debug mode checks every call's
// goroutine (see Loop.SetDebug).
type Transport interface {
	// GetExtraInfo returns information about the transport, or nil:
	// "peername" and "sockname" (net.Addr), "socket" (the socket's fd, an
	// int, owned by the transport: for getsockopt/setsockopt only), and
	// for TLS "sslcontext" (*tls.Config), "peercert"
	// (*x509.Certificate), "cipher" (string), "ssl_object"
	// (tls.ConnectionState).
	GetExtraInfo(name string) any
	// IsClosing reports whether the transport is closing or closed.
	IsClosing() bool
	// Close closes the transport: it stops reading at once, writes what is
	// buffered, then closes the connection and calls the protocol's
	// ConnectionLost(nil). A second Close does nothing.
	Close()
	// SetProtocol switches the protocol receiving the callbacks.
	SetProtocol(p BaseProtocol)
	// GetProtocol returns the current protocol.
	GetProtocol() BaseProtocol

	// IsReading reports whether the transport is receiving.
	IsReading() bool
	// PauseReading stops the protocol's data callbacks until
	// ResumeReading (the bytes wait in the kernel). Idempotent.
	PauseReading()
	// ResumeReading resumes the data callbacks. Idempotent.
	ResumeReading()

	// Write queues data to send, never blocking: what the kernel does
	// not take at once is copied into the write buffer and sent as the
	// socket drains. data may be reused once Write returns. Use the
	// protocol's PauseWriting/ResumeWriting to keep the buffer bounded.
	// It returns ErrWriteAfterEOF after WriteEOF and ErrTransportClosing
	// once closing (the data is then dropped, as asyncio drops it).
	Write(data []byte) error
	// WriteLines writes each of lines, in order, as Write.
	WriteLines(lines [][]byte) error
	// WriteEOF closes the write side once the buffer is sent (half
	// close); the peer then reads end of stream. Reading goes on.
	WriteEOF() error
	// CanWriteEOF reports whether WriteEOF is supported (false for TLS).
	CanWriteEOF() bool
	// Abort closes the transport at once: what is buffered is dropped
	// unsent, nothing more is received, and the protocol's
	// ConnectionLost(nil) follows on the loop, as asyncio's abort() does.
	// The nil says the application ended the connection; ConnectionLost
	// gets an error only when the connection itself failed: the peer
	// reset it (an error matching errors.Is(err, syscall.ECONNRESET)), a
	// pipe's reader went away (EPIPE), a read or write failed, or a
	// protocol callback panicked. This holds for socket, TLS, pipe and
	// datagram transports alike; a TLS transport aborts without sending
	// close_notify. Abort after the connection is lost does nothing;
	// after Close, it drops what Close was still sending.
	Abort()
	// SetWriteBufferLimits sets the write buffer's high- and low-water
	// marks: PauseWriting is called when the buffer grows over high,
	// ResumeWriting when it drains to low or below. -1 means the default:
	// high 64 KiB, low high/4 (and high 4×low if only low is given).
	SetWriteBufferLimits(high, low int) error
	// GetWriteBufferLimits returns the marks.
	GetWriteBufferLimits() (low, high int)
	// GetWriteBufferSize returns the number of bytes buffered, not yet
	// sent.
	GetWriteBufferSize() int
}

const defaultHighWater = 64 * 1024

// readSide is the reading half every transport shares: PauseReading and
// ResumeReading (flow control from the protocol's side), and the read
// scheduled on the loop. A read is also tried on resuming: bytes that
// arrived while paused have had their readiness edge already.
type readSide struct {
	rloop      *Loop
	rclosing   *bool // the transport's closing
	paused     bool  // reading paused
	readQueued bool  // a read is scheduled with CallSoon
	readFn     func(context.Context)
}

// initRead ties the read side to its transport: its loop, its closing
// flag and its handler of readability.
func (r *readSide) initRead(l *Loop, closing *bool, readReady func(uint32)) {
	r.rloop, r.rclosing = l, closing
	r.readFn = func(context.Context) { r.readQueued = false; readReady(readyRead) }
}

// IsReading reports whether the transport reads: not closing, not paused.
func (r *readSide) IsReading() bool { return !*r.rclosing && !r.paused }

// PauseReading stops handing data to the protocol until ResumeReading.
func (r *readSide) PauseReading() {
	r.rloop.confined("Transport.PauseReading")
	if r.IsReading() {
		r.paused = true
	}
}

// ResumeReading hands data to the protocol again.
func (r *readSide) ResumeReading() {
	r.rloop.confined("Transport.ResumeReading")
	if *r.rclosing || !r.paused {
		return
	}
	r.paused = false
	r.scheduleRead()
}

func (r *readSide) scheduleRead() {
	if !r.readQueued {
		r.readQueued = true
		r.rloop.CallSoon(r.readFn)
	}
}

// scheduleStart schedules what every new transport does on the loop, in
// asyncio's order: the protocol's ConnectionMade; then, if the transport
// reads (r not nil), its first read, so that data that arrived already is
// read after ConnectionMade (the poller's edge may have come before the
// protocol was there); then waking waiter, if any.
func scheduleStart(l *Loop, connectionMade func(), r *readSide, waiter *Future[struct{}]) {
	l.CallSoon(func(context.Context) { connectionMade() })
	if r != nil {
		l.CallSoon(func(context.Context) {
			if r.IsReading() {
				r.scheduleRead()
			}
		})
	}
	if waiter != nil {
		l.CallSoon(func(context.Context) {
			if !waiter.Done() {
				waiter.SetResult(struct{}{})
			}
		})
	}
}

// writeFlow is the flow control of a transport's write side, the same in
// every transport (asyncio's _FlowControlMixin): the protocol's
// PauseWriting once the buffer grows past the high-water mark,
// ResumeWriting once it falls back to the low one, each called once per
// crossing. newWriteFlow gives asyncio's defaults (64 KiB, 16 KiB).
type writeFlow struct {
	high, low   int
	protoPaused bool
}

func newWriteFlow() writeFlow { return writeFlow{high: defaultHighWater, low: defaultHighWater / 4} }

// maybePause pauses p if the buffer, now size bytes, is past the
// high-water mark. A panic in p goes to l's exception handler.
func (f *writeFlow) maybePause(size int, l *Loop, t any, p BaseProtocol) {
	if size <= f.high || f.protoPaused {
		return
	}
	f.protoPaused = true
	if err := protect(p.PauseWriting); err != nil {
		reportProtocolPanic(l, "protocol.pause_writing() failed", err, t, p)
	}
}

// maybeResume resumes p if it is paused and the buffer, now size bytes,
// is down to the low-water mark.
func (f *writeFlow) maybeResume(size int, l *Loop, t any, p BaseProtocol) {
	if f.protoPaused && size <= f.low {
		f.protoPaused = false
		if err := protect(p.ResumeWriting); err != nil {
			reportProtocolPanic(l, "protocol.resume_writing() failed", err, t, p)
		}
	}
}

// setLimits sets the marks as SetWriteBufferLimits documents.
func (f *writeFlow) setLimits(high, low int) error {
	h, lo, err := writeBufferLimits(high, low)
	if err != nil {
		return err
	}
	f.high, f.low = h, lo
	return nil
}

// GetWriteBufferLimits returns the low- and high-water marks.
func (f *writeFlow) GetWriteBufferLimits() (low, high int) { return f.low, f.high }

func reportProtocolPanic(l *Loop, msg string, err error, t any, p BaseProtocol) {
	l.CallExceptionHandler(ExceptionContext{Message: msg, Err: err,
		Extra: map[string]any{"transport": t, "protocol": p}})
}

// protect calls a protocol's callback, turning a panic into a
// *trio.PanicError.
func protect(fn func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = trio.NewPanicError(v)
		}
	}()
	fn()
	return nil
}

func writeBufferLimits(high, low int) (int, int, error) {
	if high < 0 {
		if low < 0 {
			high = defaultHighWater
		} else {
			high = 4 * low
		}
	}
	if low < 0 {
		low = high / 4
	}
	if !(high >= low && low >= 0) {
		return 0, 0, fmt.Errorf("%w (high %d, low %d)", ErrWriteBufferLimits, high, low)
	}
	return high, low, nil
}
