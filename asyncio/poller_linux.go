//go:build linux

package asyncio

import "syscall"

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
	timeout := 0
	if block {
		timeout = -1
	}
	return syscall.EpollWait(sp.epfd, sp.events, timeout)
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

func (sp *sysPoller) close() { syscall.Close(sp.epfd) }
