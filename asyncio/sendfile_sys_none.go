//go:build netbsd || openbsd

package asyncio

import "syscall"

// haveSendfile says whether the system has sendfile(2).
const haveSendfile = false

// sysSendfile reports ENOSYS: NetBSD and OpenBSD have no sendfile(2), and
// the callers copy the file through user space instead.
func sysSendfile(out, in int, off *int64, n int) (int, error) {
	return 0, syscall.ENOSYS
}
