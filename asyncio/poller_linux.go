//go:build linux

package asyncio

import (
	"os"
	"syscall"
)

// The poller's event queue on Linux: an epoll instance, edge-triggered
// (the design is in poller_unix.go).

const (
	epollET = 1 << 31
	evRead  = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLHUP | syscall.EPOLLERR
	evWrite = syscall.EPOLLOUT | syscall.EPOLLHUP | syscall.EPOLLERR
)

type sysPoller struct {
	epfd   int
	events []syscall.EpollEvent
	// The epoll fd in Go's netpoller (an epoll fd is readable while it
	// has events): when nothing is ready, wait parks the poller goroutine
	// there, as a goroutine reading a socket parks, instead of blocking
	// its thread in epoll_wait. The wake-up is then a goroutine's, where a
	// thread coming back from epoll_wait must first win a processor back
	// from the scheduler: on a loaded two-core machine, UDP echo went from
	// half the rate of a goroutine-per-socket server to 0.8-1.0 of it.
	// nil if the netpoller refuses the fd: wait then blocks in epoll_wait.
	epf    *os.File
	eprc   syscall.RawConn
	pollFn func(uintptr) bool // sp.poll, bound once
	n      int                // poll's results
	err    error
}

// init creates the epoll instance and watches wakeR on it.
func (sp *sysPoller) init(wakeR int) error {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return err
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(wakeR)}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, wakeR, &ev); err != nil {
		syscall.Close(epfd)
		return err
	}
	sp.epfd, sp.events = epfd, make([]syscall.EpollEvent, 256)
	if syscall.SetNonblock(epfd, true) == nil {
		// In non-blocking mode os.NewFile hands the fd to the netpoller.
		sp.epf = os.NewFile(uintptr(epfd), "asyncio-epoll")
		if rc, err := sp.epf.SyscallConn(); err == nil {
			sp.eprc, sp.pollFn = rc, sp.poll
		}
	}
	return nil
}

// add watches fd for both directions, edge-triggered.
func (sp *sysPoller) add(fd int) error {
	ev := syscall.EpollEvent{Events: evRead | evWrite | epollET, Fd: int32(fd)}
	return syscall.EpollCtl(sp.epfd, syscall.EPOLL_CTL_ADD, fd, &ev)
}

// del stops watching fd; an error (the fd is already closed) is ignored.
func (sp *sysPoller) del(fd int) {
	_ = syscall.EpollCtl(sp.epfd, syscall.EPOLL_CTL_DEL, fd, nil)
}

// wait waits for events (or only collects those ready, block false) and
// returns how many there are.
func (sp *sysPoller) wait(block bool) (int, error) {
	if block && sp.eprc != nil {
		if err := sp.eprc.Read(sp.pollFn); err == nil {
			return sp.n, sp.err
		}
		// The netpoller does not take this fd after all: block in
		// epoll_wait from now on.
		sp.eprc = nil
	}
	timeout := 0
	if block {
		timeout = -1
	}
	return syscall.EpollWait(sp.epfd, sp.events, timeout)
}

// poll collects the events ready now into sp.events, sp.n and sp.err,
// and reports whether there were any (or an error): wait's callback for
// the netpoller, which parks the goroutine until the epoll fd turns
// readable and calls it again.
func (sp *sysPoller) poll(fd uintptr) bool {
	for {
		sp.n, sp.err = syscall.EpollWait(int(fd), sp.events, 0)
		if sp.err != syscall.EINTR {
			return sp.err != nil || sp.n > 0
		}
	}
}

// event returns the fd and the readiness bits of the i-th event of the
// last wait.
func (sp *sysPoller) event(i int) (int32, uint32) {
	ev := &sp.events[i]
	var bits uint32
	if ev.Events&evRead != 0 {
		bits |= readyRead
	}
	if ev.Events&evWrite != 0 {
		bits |= readyWrite
	}
	if ev.Events&(syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0 {
		bits |= readyHup
	}
	return ev.Fd, bits
}

func (sp *sysPoller) close() {
	if sp.epf != nil {
		sp.epf.Close() // closes epfd
		return
	}
	syscall.Close(sp.epfd)
}
