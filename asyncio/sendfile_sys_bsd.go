//go:build darwin || dragonfly || freebsd

package asyncio

import "syscall"

// haveSendfile says whether the loop sends files with sendfile(2) here.
const haveSendfile = true

// sysSendfile sends up to n bytes of the file in, from *off, to the
// socket out with sendfile(2), and advances *off past them. It returns
// the number sent (more than zero, with a nil error), zero at the end of
// the file, or the error (EAGAIN when the socket is full; EINVAL or
// ENOSYS when the kernel cannot send this file).
//
// The BSDs' sendfile differs from Linux's: it can send part of the bytes
// and still fail (EAGAIN once the non-blocking socket fills up), and Go's
// syscall.Sendfile does not advance the offset. Bytes sent are reported
// as a success; the error, if it persists, comes with the next call. A
// file or socket the kernel refuses (macOS sends to TCP sockets only) is
// reported as ENOSYS, so that the caller copies instead.
func sysSendfile(out, in int, off *int64, n int) (int, error) {
	w, err := syscall.Sendfile(out, in, off, n)
	if w > 0 {
		*off += int64(w)
		return w, nil
	}
	// (ENOTSUP and EOPNOTSUPP are one errno on some of these systems.)
	if err == syscall.ENOTSUP || err == syscall.EOPNOTSUPP || err == syscall.ENOTSOCK {
		err = syscall.ENOSYS
	}
	return 0, err
}
