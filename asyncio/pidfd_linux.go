package asyncio

import (
	"os"
	"sync"
	"syscall"
)

// askPidfd asks os.StartProcess for the child's pidfd in *pidfd, where the
// kernel gives pidfds (Linux 5.3 and later): the loop's poller then
// watches the child's exit like any fd.
func askPidfd(sys *syscall.SysProcAttr, pidfd *int) {
	if pidfdWorks() {
		sys.PidFD = pidfd
	}
}

// pidfdWorks reports whether the kernel gives pidfds, once.
var pidfdWorks = sync.OnceValue(func() bool {
	fd, _, e := syscall.Syscall(434 /* SYS_PIDFD_OPEN */, uintptr(os.Getpid()), 0, 0)
	if e != 0 {
		return false
	}
	syscall.Close(int(fd))
	return true
})
