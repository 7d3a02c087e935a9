//go:build unix && !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package asyncio

// On the Unix systems with neither epoll nor kqueue (AIX, Solaris,
// illumos) the loop has no event queue yet: the network, pipe and
// subprocess functions build, and the first fd watched fails with
// ErrNotSupported (an event-ports or poll(2) queue would go here).

type sysPoller struct{}

func (*sysPoller) init(wakeR int) error         { return ErrNotSupported }
func (*sysPoller) add(fd int) error             { return ErrNotSupported }
func (*sysPoller) del(fd int)                   {}
func (*sysPoller) wait(block bool) (int, error) { return 0, ErrNotSupported }
func (*sysPoller) event(i int) (int32, uint32)  { return -1, 0 }
func (*sysPoller) close()                       {}
