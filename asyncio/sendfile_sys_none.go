//go:build unix && !(darwin || dragonfly || freebsd || linux)

package asyncio

import "syscall"

// haveSendfile says whether the loop sends files with sendfile(2) here.
const haveSendfile = false

// sysSendfile reports ENOSYS: NetBSD and OpenBSD have no sendfile(2) (nor
// has this package one for AIX, Solaris), and the callers copy the file
// through user space instead.
func sysSendfile(out, in int, off *int64, n int) (int, error) {
	return 0, syscall.ENOSYS
}
