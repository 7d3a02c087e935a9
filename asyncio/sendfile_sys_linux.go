package asyncio

import "syscall"

// haveSendfile says whether the loop sends files with sendfile(2) here.
const haveSendfile = true

// sysSendfile sends up to n bytes of the file in, from *off, to the
// socket out with sendfile(2), and advances *off past them. It returns
// the number sent (more than zero, with a nil error), zero at the end of
// the file, or the error (EAGAIN when the socket is full; EINVAL or
// ENOSYS when the kernel cannot send this file).
func sysSendfile(out, in int, off *int64, n int) (int, error) {
	w, err := syscall.Sendfile(out, in, off, n) // Linux advances *off itself
	if err != nil {
		return 0, err
	}
	return w, nil
}
