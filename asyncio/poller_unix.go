//go:build unix

package asyncio

import (
	"context"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Readiness design.
//
// The loop owns one kernel event queue (epoll on Linux, kqueue on macOS
// and the BSDs), in edge-triggered mode, and one goroutine (the poller)
// that waits on it. The poller never runs loop code: for each event it
// records the event bits on the fd's entry and, unless the entry is
// already queued, hands the entry's Handle to the loop's inbox (the same
// path as CallSoonThreadsafe). After each batch it queues one more handle
// and waits until the loop has run it; then it polls again without
// blocking, and blocks only when nothing is ready. The loop runs the
// entries' readers and writers: a transport's read/write code, or the
// callbacks of AddReader/AddWriter.
//
// Why an event queue of our own rather than Go's netpoller (a goroutine
// parked in syscall.RawConn.Read per watched fd): one wait returns the
// events of many connections at once, and the poller queues them with two
// goroutine handoffs per batch, where the netpoller wakes one goroutine
// per ready fd, each of which then has to reach the loop. Keeping one
// batch in flight matters as much: while the loop works, no thread sleeps
// in the kernel's wait, so the peer's write(2) does not pay for waking
// one (on W5, 50 connections on Linux, this took the loop from 39,000 to
// 70,000 round trips per second). Edge-triggered mode needs no re-arming
// system call per event; the level-triggered behaviour AddReader and
// AddWriter promise is restored by polling the fd once after each
// callback (a zero-timeout poll(2)), and transports read until a short
// read or end of stream.
//
// Each fd is registered for both directions once, when it is first
// watched, and stays registered until it is no longer watched; the
// kernel also drops the registration by itself when the fd is closed.
//
// The poller goroutine and the event queue exist only once the first fd
// is watched: a loop that does no I/O starts no goroutine, so
// testing/synctest bubbles stay usable for timer tests. Both end when the
// loop closes.
//
// The event queue itself is in poller_linux.go (epoll) and
// poller_kqueue.go (kqueue), and a stub that refuses every watch in
// poller_none.go (AIX, Solaris): each provides the sysPoller type with
// init, add, del, wait, event and close.

type poller struct {
	sysPoller
	wakeR int // a pipe; the poller returns when it becomes readable
	wakeW int
	mu    sync.Mutex
	tab   map[int32]*fdEntry // guarded by mu: fd -> entry, read by the poller
	done  chan struct{}
	quit  chan struct{}
	ack   chan struct{} // the loop has run the last batch
	doneH [2]Handle     // posted after each batch; alternated
	doneI int
	ackFn func(context.Context)
	loop  *Loop
}

func newPoller(l *Loop) (*poller, error) {
	var p [2]int
	if err := sysPipe(p[:]); err != nil {
		return nil, err
	}
	err := syscall.SetNonblock(p[0], true)
	if err == nil {
		err = syscall.SetNonblock(p[1], true)
	}
	if err != nil {
		syscall.Close(p[0])
		syscall.Close(p[1])
		return nil, err
	}
	po := &poller{wakeR: p[0], wakeW: p[1], tab: map[int32]*fdEntry{},
		done: make(chan struct{}), quit: make(chan struct{}), ack: make(chan struct{}, 1),
		loop: l}
	if err := po.init(p[0]); err != nil {
		syscall.Close(p[0])
		syscall.Close(p[1])
		return nil, err
	}
	po.ackFn = func(context.Context) { po.ack <- struct{}{} }
	go po.run()
	return po, nil
}

// register starts watching e.fd for both directions, edge-triggered.
func (po *poller) register(e *fdEntry) error {
	fd := int32(e.fd)
	po.mu.Lock()
	prev := po.tab[fd]
	po.tab[fd] = e
	po.mu.Unlock()
	err := po.add(e.fd)
	if err != nil {
		po.mu.Lock()
		if po.tab[fd] == e {
			if prev != nil {
				po.tab[fd] = prev
			} else {
				delete(po.tab, fd)
			}
		}
		po.mu.Unlock()
	}
	return err
}

// unregister stops watching e.fd (before it is closed, or given back).
func (po *poller) unregister(e *fdEntry) {
	fd := int32(e.fd)
	po.mu.Lock()
	mine := po.tab[fd] == e
	if mine {
		delete(po.tab, fd)
	}
	po.mu.Unlock()
	// Only while the registration is still e's: once another entry
	// watches the same fd number, it is that entry's. The fd may also
	// already be closed by its owner (AddReader's fds are the caller's):
	// then the kernel has already dropped it, and del fails harmlessly.
	if mine {
		po.del(e.fd)
	}
}

func (po *poller) run() {
	defer close(po.done)
	block := true
	for {
		n, err := po.wait(block)
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			return // EBADF: closed under us; cannot happen before close
		}
		if n == 0 {
			block = true
			continue
		}
		po.mu.Lock()
		for i := 0; i < n; i++ {
			fd, bits := po.event(i)
			if int(fd) == po.wakeR {
				po.mu.Unlock()
				return
			}
			if e := po.tab[fd]; e != nil && bits != 0 {
				e.post(bits)
			}
		}
		po.mu.Unlock()
		// One batch in flight: wait until the loop has run it before
		// polling again. Meanwhile the kernel queues new events without
		// waking anyone (no thread is blocked in the wait), and the next
		// poll collects them all at once, without blocking: a busy loop
		// gets its readiness in batches at the cost of two goroutine
		// handoffs per batch, not a thread wake-up per event.
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
		block = false
	}
}

// close ends the poller goroutine and closes the event queue. Called on
// the loop goroutine when the loop closes.
func (po *poller) close() {
	close(po.quit)
	syscall.Write(po.wakeW, []byte{0})
	<-po.done
	po.sysPoller.close()
	syscall.Close(po.wakeR)
	syscall.Close(po.wakeW)
}

// pollNow reports whether fd is ready now for the directions in bits (a
// zero-timeout poll).
func pollNow(fd int, bits uint32) uint32 {
	pfd := [1]unix.PollFd{{Fd: int32(fd)}}
	if bits&readyRead != 0 {
		pfd[0].Events |= unix.POLLIN
	}
	if bits&readyWrite != 0 {
		pfd[0].Events |= unix.POLLOUT
	}
	for {
		if _, err := unix.Poll(pfd[:], 0); err != unix.EINTR {
			break
		}
	}
	rev := pfd[0].Revents
	var got uint32
	if rev&(unix.POLLIN|unix.POLLHUP|unix.POLLERR) != 0 && bits&readyRead != 0 {
		got |= readyRead
	}
	if rev&(unix.POLLOUT|unix.POLLHUP|unix.POLLERR) != 0 && bits&readyWrite != 0 {
		got |= readyWrite
	}
	return got
}
