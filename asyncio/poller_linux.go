//go:build linux

package asyncio

import (
	"context"
	"os"
	"sync"
	"syscall"
	"unsafe"
)

// Readiness design.
//
// The loop owns one epoll instance, in edge-triggered mode, and one
// goroutine (the poller) that waits for its events. The poller never runs
// loop code: for each event it records the event bits on the fd's entry
// and, unless the entry is already queued, hands the entry's Handle to the
// loop's inbox (the same path as CallSoonThreadsafe). After each batch it
// queues one more handle and waits until the loop has run it; then it
// polls again without blocking, and only when nothing is ready does it
// park, in Go's netpoller, where the epoll fd itself is registered (it is
// readable while it has events): the wake-up is then a goroutine's, as
// for a goroutine reading a socket, not that of a thread blocked in
// epoll_wait, which must win a P back from the scheduler first (on a
// loaded two-core machine, UDP echo went from half the rate of a
// goroutine server to 0.8-1.0 of it). The loop runs the
// entries' readers and writers: a transport's read/write code, or the
// callbacks of AddReader/AddWriter.
//
// Why an epoll of our own rather than Go's netpoller (a goroutine parked
// in syscall.RawConn.Read per watched fd): one epoll_wait returns the
// events of many connections at once, and the poller queues them with two
// goroutine handoffs per batch, where the netpoller wakes one goroutine
// per ready fd, each of which then has to reach the loop. Keeping one
// batch in flight matters as much: while the loop works, the poller does
// not wait, so the peer's write(2) does not pay for waking it (on W5, 50
// connections, this took the loop from 39,000 to 70,000 round trips per
// second). Edge-triggered mode needs no re-arming syscall per
// event; the level-triggered behaviour AddReader/AddWriter promise is
// restored by polling the fd once after each callback (a zero-timeout
// poll(2)), and transports read until a short read or end of stream.
//
// The poller goroutine and the epoll fd exist only once the first fd is
// watched: a loop that does no I/O starts no goroutine, so
// testing/synctest bubbles stay usable for timer tests. Both end when the
// loop closes.

const (
	epollET = 1 << 31
	evRead  = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLHUP | syscall.EPOLLERR
	evWrite = syscall.EPOLLOUT | syscall.EPOLLHUP | syscall.EPOLLERR
)

type poller struct {
	epfd int
	// epf is epfd as an *os.File registered with Go's netpoller: the
	// poller goroutine parks there, as a goroutine reading a socket does,
	// instead of blocking its thread in epoll_wait (see wait).
	epf    *os.File
	eprc   syscall.RawConn
	pollFn func(fd uintptr) bool // po.poll
	n      int                   // poll's results
	err    error
	wakeR  int // a pipe; the poller returns when it becomes readable
	wakeW  int
	mu     sync.Mutex
	tab    map[int32]*fdEntry // guarded by mu: fd -> entry, read by the poller
	done   chan struct{}
	quit   chan struct{}
	ack    chan struct{} // the loop has run the last batch
	doneH  [2]Handle     // posted after each batch; alternated
	doneI  int
	ackFn  func(context.Context)
	loop   *Loop
	events []syscall.EpollEvent
}

func newPoller(l *Loop) (*poller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		syscall.Close(epfd)
		return nil, err
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(p[0])}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, p[0], &ev); err != nil {
		syscall.Close(epfd)
		syscall.Close(p[0])
		syscall.Close(p[1])
		return nil, err
	}
	po := &poller{epfd: epfd, wakeR: p[0], wakeW: p[1], tab: map[int32]*fdEntry{},
		done: make(chan struct{}), quit: make(chan struct{}), ack: make(chan struct{}, 1),
		loop: l, events: make([]syscall.EpollEvent, 256)}
	// An epoll fd is itself pollable (readable while events are ready):
	// in non-blocking mode os.NewFile hands it to Go's netpoller.
	if err := syscall.SetNonblock(epfd, true); err == nil {
		po.epf = os.NewFile(uintptr(epfd), "asyncio-epoll")
		if rc, err := po.epf.SyscallConn(); err == nil {
			po.eprc, po.pollFn = rc, po.poll
		}
	}
	po.ackFn = func(context.Context) { po.ack <- struct{}{} }
	go po.run()
	return po, nil
}

// register starts watching e.fd for both directions, edge-triggered.
func (po *poller) register(e *fdEntry) error {
	po.mu.Lock()
	po.tab[int32(e.fd)] = e
	po.mu.Unlock()
	ev := syscall.EpollEvent{Events: evRead | evWrite | epollET, Fd: int32(e.fd)}
	err := syscall.EpollCtl(po.epfd, syscall.EPOLL_CTL_ADD, e.fd, &ev)
	if err != nil {
		po.mu.Lock()
		delete(po.tab, int32(e.fd))
		po.mu.Unlock()
	}
	return err
}

// unregister stops watching e.fd (before it is closed, or given back).
func (po *poller) unregister(e *fdEntry) {
	po.mu.Lock()
	if po.tab[int32(e.fd)] == e {
		delete(po.tab, int32(e.fd))
	}
	po.mu.Unlock()
	// The fd may already be closed by its owner (AddReader's fds are the
	// caller's): then the kernel has already dropped it.
	_ = syscall.EpollCtl(po.epfd, syscall.EPOLL_CTL_DEL, e.fd, nil)
}

func (po *poller) run() {
	defer close(po.done)
	for {
		n, err := po.wait()
		if err != nil {
			return // EBADF: closed under us; cannot happen before close
		}
		po.mu.Lock()
		for i := 0; i < n; i++ {
			ev := &po.events[i]
			if int(ev.Fd) == po.wakeR {
				po.mu.Unlock()
				return
			}
			if e := po.tab[ev.Fd]; e != nil {
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
				e.post(bits)
			}
		}
		po.mu.Unlock()
		// One batch in flight: wait until the loop has run it before
		// polling again. Meanwhile the kernel queues new events on the
		// epoll instance without waking anyone (no thread is blocked in
		// epoll_wait), and the next poll collects them all at once,
		// without blocking: a busy loop gets its readiness in batches at
		// the cost of two goroutine handoffs per batch, not a thread
		// wake-up per event.
		h := &po.doneH[po.doneI]
		po.doneI ^= 1
		h.run, h.ctx = callback(po.ackFn), context.Background()
		if po.loop.in.postIO(h) != nil {
			<-po.quit // the loop is closing
			return
		}
		select {
		case <-po.ack:
		case <-po.quit:
			return
		}
	}
}

// wait returns the next batch of events (n > 0), polling without
// blocking first. When nothing is ready it parks the goroutine in Go's
// netpoller until the epoll fd turns readable: the wake-up then costs what
// a goroutine reading a socket pays, where a thread blocked in epoll_wait
// would first have to win a P back from the scheduler (much slower on a
// loaded machine). Without the netpoller it blocks in epoll_wait.
func (po *poller) wait() (int, error) {
	if po.eprc == nil {
		for {
			n, err := syscall.EpollWait(po.epfd, po.events, 0)
			if err == nil && n == 0 {
				n, err = syscall.EpollWait(po.epfd, po.events, -1)
			}
			if err == syscall.EINTR || (err == nil && n == 0) {
				continue
			}
			return n, err
		}
	}
	if err := po.eprc.Read(po.pollFn); err != nil {
		return 0, err
	}
	return po.n, po.err
}

// poll collects what is ready without blocking into po.events, po.n and
// po.err, and reports whether there was anything (or an error). It is
// wait's callback for the netpoller, bound once as pollFn.
func (po *poller) poll(fd uintptr) bool {
	for {
		po.n, po.err = syscall.EpollWait(int(fd), po.events, 0)
		if po.err != syscall.EINTR {
			return po.err != nil || po.n > 0
		}
	}
}

// close ends the poller goroutine and closes the epoll fd. Called on the
// loop goroutine when the loop closes.
func (po *poller) close() {
	close(po.quit)
	syscall.Write(po.wakeW, []byte{0})
	<-po.done
	if po.epf != nil {
		po.epf.Close()
	} else {
		syscall.Close(po.epfd)
	}
	syscall.Close(po.wakeR)
	syscall.Close(po.wakeW)
}

// pollNow reports whether fd is ready now for the directions in bits (a
// zero-timeout poll).
func pollNow(fd int, bits uint32) uint32 {
	var want int16
	if bits&readyRead != 0 {
		want |= pollIn
	}
	if bits&readyWrite != 0 {
		want |= pollOut
	}
	pfd := pollFd{fd: int32(fd), events: want}
	for {
		_, _, e := syscall.Syscall(syscall.SYS_POLL, uintptr(unsafe.Pointer(&pfd)), 1, 0)
		if e == syscall.EINTR {
			continue
		}
		break
	}
	var got uint32
	if pfd.revents&(pollIn|pollHup|pollErr) != 0 && bits&readyRead != 0 {
		got |= readyRead
	}
	if pfd.revents&(pollOut|pollHup|pollErr) != 0 && bits&readyWrite != 0 {
		got |= readyWrite
	}
	return got
}

const (
	pollIn  = 0x1
	pollOut = 0x4
	pollErr = 0x8
	pollHup = 0x10
)

type pollFd struct {
	fd      int32
	events  int16
	revents int16
}
