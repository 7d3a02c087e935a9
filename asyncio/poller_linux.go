//go:build linux

package asyncio

import (
	"context"
	"sync"
	"syscall"
	"unsafe"
)

// Readiness design.
//
// The loop owns one epoll instance, in edge-triggered mode, and one
// goroutine (the poller) that waits in epoll_wait. The poller never runs
// loop code: for each event it records the event bits on the fd's entry
// and, unless the entry is already queued, hands the entry's Handle to the
// loop's inbox (the same path as CallSoonThreadsafe). After each batch it
// queues one more handle and waits until the loop has run it; then it
// polls again without blocking, and blocks in epoll_wait only when nothing
// is ready. The loop runs the entries' readers and writers: a transport's
// read/write code, or the callbacks of AddReader/AddWriter.
//
// Why an epoll of our own rather than Go's netpoller (a goroutine parked
// in syscall.RawConn.Read per watched fd): one epoll_wait returns the
// events of many connections at once, and the poller queues them with two
// goroutine handoffs per batch, where the netpoller wakes one goroutine
// per ready fd, each of which then has to reach the loop. Keeping one
// batch in flight matters as much: while the loop works, no thread sleeps
// in epoll_wait, so the peer's write(2) does not pay for waking one (on
// W5, 50 connections, this took the loop from 39,000 to 70,000 round
// trips per second). Edge-triggered mode needs no re-arming syscall per
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
	epfd   int
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
	timeout := -1
	for {
		n, err := syscall.EpollWait(po.epfd, po.events, timeout)
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			return // EBADF: closed under us; cannot happen before close
		}
		if n == 0 {
			timeout = -1
			continue
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
		timeout = 0
	}
}

// close ends the poller goroutine and closes the epoll fd. Called on the
// loop goroutine when the loop closes.
func (po *poller) close() {
	close(po.quit)
	syscall.Write(po.wakeW, []byte{0})
	<-po.done
	syscall.Close(po.epfd)
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
