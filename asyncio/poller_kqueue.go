//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package asyncio

import "syscall"

// The poller's event queue on macOS and the BSDs: a kqueue, with an
// EVFILT_READ and an EVFILT_WRITE filter per fd, both edge-triggered
// (EV_CLEAR), as Go's own netpoller does it (the design is in
// poller_unix.go).
//
// The events map to the loop's readiness bits as epoll's do on Linux:
// EVFILT_READ is readable, EVFILT_WRITE writable; EV_EOF (the peer shut
// its side down, or a pipe's other end is gone) adds the hang-up bit; an
// error pending on the socket (EV_EOF with the error in fflags) or an
// EV_ERROR entry makes the fd readable, writable and hung up at once, so
// that whoever watches it tries, and meets the error.

type sysPoller struct {
	kq     int
	events []syscall.Kevent_t
	zero   syscall.Timespec // the timeout of a poll that does not block
}

// init creates the kqueue and watches wakeR on it.
func (sp *sysPoller) init(wakeR int) error {
	kq, err := syscall.Kqueue()
	if err != nil {
		return err
	}
	// A kqueue is not inherited across fork; close-on-exec is for good
	// measure (Go's runtime does the same for its own).
	syscall.CloseOnExec(kq)
	var ch [1]syscall.Kevent_t
	syscall.SetKevent(&ch[0], wakeR, syscall.EVFILT_READ, syscall.EV_ADD)
	if err := keventChange(kq, ch[:]); err != nil {
		syscall.Close(kq)
		return err
	}
	sp.kq, sp.events = kq, make([]syscall.Kevent_t, 256)
	return nil
}

// add watches fd for both directions, edge-triggered. Regular files and
// directories are refused with EPERM, as epoll refuses them (kqueue
// would report them always ready).
func (sp *sysPoller) add(fd int) error {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return err
	}
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFREG, syscall.S_IFDIR:
		return syscall.EPERM
	}
	var ch [2]syscall.Kevent_t
	syscall.SetKevent(&ch[0], fd, syscall.EVFILT_READ, syscall.EV_ADD|syscall.EV_CLEAR)
	syscall.SetKevent(&ch[1], fd, syscall.EVFILT_WRITE, syscall.EV_ADD|syscall.EV_CLEAR)
	if keventChange(sp.kq, ch[:]) == nil {
		return nil
	}
	// The kernel stops at the first change it refuses, and some kinds of
	// fd have only one of the two filters: add them one at a time (EV_ADD
	// of a filter already added only modifies it), and keep whichever
	// takes. The fd's initial readiness is still seen by AddReader and
	// AddWriter, which poll once when they start.
	rerr := keventChange(sp.kq, ch[:1])
	werr := keventChange(sp.kq, ch[1:])
	if rerr != nil && werr != nil {
		return rerr
	}
	return nil
}

// del stops watching fd. Errors are ignored: the fd may already be
// closed (the kernel then dropped its filters itself), or have only one
// of the filters.
func (sp *sysPoller) del(fd int) {
	var ch [2]syscall.Kevent_t
	syscall.SetKevent(&ch[0], fd, syscall.EVFILT_READ, syscall.EV_DELETE)
	syscall.SetKevent(&ch[1], fd, syscall.EVFILT_WRITE, syscall.EV_DELETE)
	if keventChange(sp.kq, ch[:]) != nil {
		// The kernel stopped at the first refusal: try the second alone.
		_ = keventChange(sp.kq, ch[1:])
	}
}

// wait waits for events (or only collects those ready, block false) and
// returns how many there are. EINTR is returned to the caller, which
// retries.
func (sp *sysPoller) wait(block bool) (int, error) {
	var ts *syscall.Timespec
	if !block {
		ts = &sp.zero
	}
	return syscall.Kevent(sp.kq, nil, sp.events, ts)
}

// event returns the fd and the readiness bits of the i-th event of the
// last wait.
func (sp *sysPoller) event(i int) (int32, uint32) {
	ev := &sp.events[i]
	fd := int32(ev.Ident)
	const all = readyRead | readyWrite | readyHup
	if ev.Flags&syscall.EV_ERROR != 0 {
		return fd, all
	}
	var bits uint32
	switch ev.Filter {
	case syscall.EVFILT_READ:
		bits = readyRead
	case syscall.EVFILT_WRITE:
		bits = readyWrite
	default:
		return fd, 0
	}
	if ev.Flags&syscall.EV_EOF != 0 {
		bits |= readyHup
		if ev.Fflags != 0 { // the socket's pending error
			bits = all
		}
	}
	return fd, bits
}

func (sp *sysPoller) close() { syscall.Close(sp.kq) }

// keventChange applies changes to kq, retrying if interrupted. With no
// room for events, kevent returns at once, with the error of the first
// change refused (the later ones are then not applied).
func keventChange(kq int, changes []syscall.Kevent_t) error {
	for {
		_, err := syscall.Kevent(kq, changes, nil, nil)
		if err != syscall.EINTR {
			return err
		}
	}
}
