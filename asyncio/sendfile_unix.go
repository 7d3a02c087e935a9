//go:build unix

package asyncio

import (
	"context"
	"fmt"
	"io"
	"os"
	"syscall"
)

// sendfileChunk is what the fallback reads and writes at once.
const sendfileChunk = 256 << 10

// Sendfile sends count bytes of file, from offset, over the transport t
// and returns how many were sent (asyncio's loop.sendfile). count 0 means
// up to the end of the file. On a plain TCP or Unix stream transport the
// kernel copies the file to the socket (sendfile(2), no copy through
// user space): what t had buffered is sent first, and reading is paused
// while the file goes. Otherwise (TLS, pipes, a system without
// sendfile(2) such as NetBSD and OpenBSD, or one that refuses this
// socket), if fallback is true, the file is read in chunks and written
// through t with its flow control; with fallback false it returns
// ErrSendfileNotAvailable. A datagram transport is refused with
// ErrSendfileNotSupported. The file's offset is left after the bytes
// sent, as in asyncio.
//
// A coroutine: call it from a task, and do not write to t until it
// returns. Cancelled, it returns the CancelledError and the number of
// bytes already handed to the kernel or to t. Errors: ErrSendfileRange,
// ErrTransportClosing if t closes meanwhile (wrapping the error t's
// connection was lost with, if any: EPIPE when the peer went away), the
// read's and sendfile's. It panics if file is nil.
func Sendfile(ctx context.Context, t Transport, file *os.File, offset, count int64, fallback bool) (int64, error) {
	if file == nil {
		panic("asyncio: Sendfile with a nil file")
	}
	if offset < 0 || count < 0 {
		return 0, fmt.Errorf("%w (offset %d, count %d)", ErrSendfileRange, offset, count)
	}
	if _, ok := t.(DatagramTransport); ok {
		return 0, ErrSendfileNotSupported
	}
	if t.IsClosing() {
		return 0, ErrTransportClosing
	}
	if count == 0 {
		st, err := file.Stat()
		if err != nil {
			return 0, err
		}
		count = max(st.Size()-offset, 0)
	}
	if st, ok := t.(*socketTransport); ok {
		sent, native, err := sendfileNative(ctx, st, file, offset, count)
		if native {
			file.Seek(offset+sent, io.SeekStart)
			return sent, err
		}
	}
	if !fallback {
		return 0, ErrSendfileNotAvailable
	}
	sent, err := sendfileFallback(ctx, t, file, offset, count)
	file.Seek(offset+sent, io.SeekStart)
	return sent, err
}

// sendfileNative sends with sendfile(2); native is false if the kernel
// refuses this file at once (then nothing was sent).
func sendfileNative(ctx context.Context, t *socketTransport, file *os.File, offset, count int64) (sent int64, native bool, err error) {
	rc, err := file.SyscallConn()
	if err != nil {
		return 0, false, nil
	}
	t.sendfiling = true // Write refuses meanwhile (ErrSendfileInProgress)
	defer func() { t.sendfiling = false }()
	if t.IsReading() {
		t.PauseReading()
		defer func() {
			if !t.closing {
				t.ResumeReading()
			}
		}()
	}
	if _, err := Await(ctx, t.waitEmpty()); err != nil {
		return 0, true, err
	}
	off := offset
	for sent < count {
		if t.closedFd || t.connLost > 0 {
			return sent, true, ErrTransportClosing
		}
		var n int
		var serr error
		if cerr := rc.Control(func(ffd uintptr) {
			n, serr = sysSendfile(t.fd, int(ffd), &off, int(min(count-sent, 1<<30)))
		}); cerr != nil {
			return sent, true, cerr
		}
		switch {
		case serr == nil && n == 0:
			return sent, true, nil // end of file
		case serr == nil:
			sent += int64(n)
		case serr == syscall.EINTR:
		case serr == syscall.EAGAIN:
			// The socket is full: hand one chunk to the transport's
			// buffer and wait until it is sent (the transport owns the
			// fd's writability).
			buf := make([]byte, min(count-sent, 64<<10))
			rn, rerr := file.ReadAt(buf, off)
			if rn > 0 {
				t.sendfiling = false // our own write, not the user's
				werr := t.Write(buf[:rn])
				t.sendfiling = true
				if werr != nil {
					return sent, true, werr
				}
				sent += int64(rn)
				off += int64(rn)
			}
			if rerr != nil && rerr != io.EOF {
				return sent, true, rerr
			}
			if _, err := Await(ctx, t.waitEmpty()); err != nil {
				return sent, true, err
			}
			if rerr == io.EOF {
				return sent, true, nil
			}
		case sent == 0 && (serr == syscall.EINVAL || serr == syscall.ENOSYS || serr == syscall.EOPNOTSUPP):
			return 0, false, nil
		default:
			return sent, true, os.NewSyscallError("sendfile", serr)
		}
	}
	return sent, true, nil
}

// sendfileProto stands in for t's protocol during a fallback sendfile:
// it hears the transport's flow control (asyncio's
// _SendfileFallbackProtocol).
type sendfileProto struct {
	orig    BaseProtocol
	loop    *Loop
	paused  bool
	lost    bool
	lostErr error
	wake    *Future[struct{}]
}

func (p *sendfileProto) ConnectionMade(Transport) {}
func (p *sendfileProto) ConnectionLost(err error) {
	p.lost, p.lostErr = true, err
	p.orig.ConnectionLost(err)
	p.signal()
}

// lossError is what a fallback sendfile returns once the connection is
// lost: ErrTransportClosing, wrapping why.
func (p *sendfileProto) lossError() error {
	if p.lostErr == nil {
		return ErrTransportClosing
	}
	return fmt.Errorf("%w: %w", ErrTransportClosing, p.lostErr)
}

func (p *sendfileProto) PauseWriting()  { p.paused = true }
func (p *sendfileProto) ResumeWriting() { p.paused = false; p.signal() }
func (p *sendfileProto) signal() {
	if p.wake != nil && !p.wake.Done() {
		p.wake.SetResult(struct{}{})
	}
}

// Data arriving meanwhile still reaches the original protocol.
func (p *sendfileProto) DataReceived(b []byte) {
	if dp, ok := p.orig.(Protocol); ok {
		dp.DataReceived(b)
	}
}

func (p *sendfileProto) EOFReceived() bool {
	if dp, ok := p.orig.(Protocol); ok {
		return dp.EOFReceived()
	}
	return false
}

func sendfileFallback(ctx context.Context, t Transport, file *os.File, offset, count int64) (int64, error) {
	l, err := GetRunningLoop(ctx)
	if err != nil {
		return 0, err
	}
	orig := t.GetProtocol()
	_, origBuffered := orig.(BufferedProtocol)
	var sp *sendfileProto
	if !origBuffered {
		sp = &sendfileProto{orig: orig, loop: l}
		if t.GetWriteBufferSize() > 0 {
			low, high := t.GetWriteBufferLimits()
			sp.paused = t.GetWriteBufferSize() > high && high > low
		}
		t.SetProtocol(sp)
		defer func() {
			if !sp.lost {
				t.SetProtocol(orig)
			}
		}()
	}
	buf := make([]byte, min(count, sendfileChunk))
	var sent int64
	for sent < count {
		if sp != nil {
			for sp.paused && !sp.lost {
				sp.wake = NewFuture[struct{}](l)
				if _, err := Await(ctx, sp.wake); err != nil {
					return sent, err
				}
			}
			if sp.lost {
				return sent, sp.lossError()
			}
		}
		n, rerr := file.ReadAt(buf[:min(int64(len(buf)), count-sent)], offset+sent)
		if n > 0 {
			if err := t.Write(buf[:n]); err != nil {
				if sp != nil && sp.lost {
					err = sp.lossError()
				}
				return sent, err
			}
			sent += int64(n)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return sent, rerr
		}
		if sp == nil {
			// A BufferedProtocol cannot be stood in for: yield so the
			// buffer drains.
			if err := Sleep(ctx, 0); err != nil {
				return sent, err
			}
		}
	}
	return sent, nil
}
