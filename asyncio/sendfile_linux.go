//go:build linux

package asyncio

import (
	"context"
	"errors"
	"io"
	"os"
	"syscall"
	"time"
)

// ErrSendfileInProgress is returned by Write while Sendfile runs on the
// transport.
var ErrSendfileInProgress = errors.New("asyncio: unable to write; sendfile is in progress")

// Sendfile sends count bytes of file from offset over the transport t
// (asyncio's loop.sendfile; count 0 means up to the end of the file) and
// returns the number of bytes sent. On a socket transport it first waits
// for the write buffer to drain, then uses sendfile(2), waiting on the
// loop while the socket is full; Write returns ErrSendfileInProgress
// meanwhile. On other transports (TLS) it reads the file and writes it,
// respecting the transport's flow control. The file's offset is left
// after the bytes sent. A coroutine: call it from a task; cancelled, it
// returns the CancelledError and the count sent so far.
func Sendfile(ctx context.Context, t Transport, file *os.File, offset, count int64) (int64, error) {
	if count == 0 {
		st, err := file.Stat()
		if err != nil {
			return 0, err
		}
		count = st.Size() - offset
	}
	if count <= 0 {
		return 0, nil
	}
	st, ok := t.(*socketTransport)
	if !ok {
		return sendfileFallback(ctx, t, file, offset, count)
	}
	if st.IsClosing() {
		return 0, ErrTransportClosing
	}
	if _, err := Await(ctx, st.waitEmpty()); err != nil {
		return 0, err
	}
	st.sendfiling = true
	defer func() { st.sendfiling = false }()
	rc, err := file.SyscallConn()
	if err != nil {
		return 0, err
	}
	var sent int64
	off := offset
	defer func() { file.Seek(offset+sent, io.SeekStart) }()
	for sent < count {
		if st.connLost > 0 || st.closedFd {
			return sent, ErrConnectionLost
		}
		var n int
		var serr error
		if err := rc.Control(func(ffd uintptr) {
			n, serr = syscall.Sendfile(st.fd, int(ffd), &off, int(min(count-sent, 1<<30)))
		}); err != nil {
			return sent, err
		}
		if serr == nil {
			if n == 0 {
				break
			}
			sent += int64(n)
			continue
		}
		if serr == syscall.EINTR {
			continue
		}
		if serr != syscall.EAGAIN {
			return sent, os.NewSyscallError("sendfile", serr)
		}
		f := NewFuture[struct{}](st.loop)
		st.wwait = f
		_, err := Await(ctx, f)
		if st.wwait == f {
			st.wwait = nil
		}
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

func sendfileFallback(ctx context.Context, t Transport, file *os.File, offset, count int64) (int64, error) {
	buf := make([]byte, min(count, 256<<10))
	var sent int64
	for sent < count {
		n, err := file.ReadAt(buf[:min(int64(len(buf)), count-sent)], offset+sent)
		if n > 0 {
			if werr := t.Write(buf[:n]); werr != nil {
				return sent, werr
			}
			sent += int64(n)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return sent, err
		}
		_, high := t.GetWriteBufferLimits()
		for t.GetWriteBufferSize() > high && !t.IsClosing() {
			if err := Sleep(ctx, time.Millisecond); err != nil {
				file.Seek(offset+sent, io.SeekStart)
				return sent, err
			}
		}
	}
	_, err := file.Seek(offset+sent, io.SeekStart)
	return sent, err
}
