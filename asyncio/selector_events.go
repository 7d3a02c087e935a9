package asyncio

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
)

// Errors of the loop's I/O.
var (
	// ErrFdInUse is returned by AddReader, AddWriter, RemoveReader and
	// RemoveWriter for a file descriptor that a transport or server of the
	// loop owns: its readiness is the transport's business.
	ErrFdInUse = errors.New("asyncio: file descriptor is used by a transport")
	// ErrInvalidFd is returned for a negative file descriptor.
	ErrInvalidFd = errors.New("asyncio: invalid file descriptor")
	// ErrNotSupported is returned where a feature does not exist on this
	// platform (Unix sockets on Windows, the loop's I/O where it has no
	// poller).
	ErrNotSupported = errors.New("asyncio: not supported on this platform")
	// ErrNoPath is returned by CreateUnixServer, CreateUnixConnection and
	// the Unix stream functions for an empty path (asyncio's ValueError
	// "path was not specified").
	ErrNoPath = errors.New("asyncio: no Unix socket path specified")
)

const (
	readyRead  uint32 = 1
	readyWrite uint32 = 2
	readyHup   uint32 = 4 // the peer hung up, or an error is pending
)

// ioState is what a loop owns for I/O: the poller, the watched fds and the
// transports and servers to close when the loop closes. Created by the
// first I/O call; loop-confined.
type ioState struct {
	loop   *Loop
	po     *poller
	fds    map[int]*fdEntry
	owned  map[ioCloser]struct{}
	closed bool
	rbuf   []byte // the loop's read buffer, shared by its transports
}

// ioCloser is a transport or server: closeNow closes its fds at once,
// without callbacks, when the loop closes.
type ioCloser interface{ closeNow() }

func (l *Loop) ioState() (*ioState, error) {
	if l.io == nil {
		if l.IsClosed() {
			return nil, ErrLoopClosed
		}
		l.io = &ioState{loop: l, fds: map[int]*fdEntry{}, owned: map[ioCloser]struct{}{}}
	}
	if l.io.closed {
		return nil, ErrLoopClosed
	}
	return l.io, nil
}

// closeIO closes everything the loop owns for I/O: transports and servers
// (their fds, without callbacks: the loop no longer runs any), the fds
// watched for AddReader/AddWriter (unwatched, not closed: they are the
// caller's), and the poller. Called by the loop's close.
func (l *Loop) closeIO() {
	s := l.io
	if s == nil || s.closed {
		return
	}
	s.closed = true
	for c := range s.owned {
		c.closeNow()
	}
	s.owned = nil
	for _, e := range s.fds {
		e.closed = true
		if s.po != nil {
			s.po.unregister(e)
		}
	}
	s.fds = nil
	if s.po != nil {
		s.po.close()
		s.po = nil
	}
}

// entry returns the entry watching fd, registering it with the poller (and
// starting the poller) if needed.
func (s *ioState) entry(fd int) (*fdEntry, error) {
	if fd < 0 {
		return nil, fmt.Errorf("%w: %d", ErrInvalidFd, fd)
	}
	if e := s.fds[fd]; e != nil {
		return e, nil
	}
	if s.po == nil {
		po, err := newPoller(s.loop)
		if err != nil {
			return nil, err
		}
		s.po = po
	}
	e := &fdEntry{fd: fd, loop: s.loop, io: s}
	e.runFn = e.run
	if err := s.po.register(e); err != nil {
		return nil, fmt.Errorf("asyncio: cannot watch fd %d: %w", fd, err)
	}
	s.fds[fd] = e
	return e, nil
}

// drop stops watching e's fd.
func (s *ioState) drop(e *fdEntry) {
	if e.closed {
		return
	}
	e.closed = true
	if s.fds[e.fd] == e {
		delete(s.fds, e.fd)
	}
	if s.po != nil {
		s.po.unregister(e)
	}
}

// An fdEntry is one watched fd. The poller goroutine sets pending and
// queues one of hs on the loop; the loop runs the readers and writers.
type fdEntry struct {
	fd   int
	loop *Loop
	io   *ioState

	pending atomic.Uint32 // event bits seen by the poller, not yet run
	posted  atomic.Bool   // one of hs is queued or running
	hs      [2]Handle     // alternated by the poller (one may still be finishing)
	hi      int           // poller-owned
	runFn   func(context.Context)

	// Loop-confined.
	closed         bool
	onRead         func(bits uint32) // a transport's or server's handlers
	onWrite        func()
	owned          bool // the fd belongs to a transport or server
	reader, writer *fdCallback
	file           fileID // AddReader/AddWriter: the file the fd named when watched
}

// A fileID identifies the open file an fd names (its device and inode),
// so that a watch can tell when its fd was closed without RemoveReader or
// RemoveWriter and the number reused for another file.
type fileID struct{ dev, ino uint64 }

// post queues the entry on the loop with the event bits (poller goroutine).
func (e *fdEntry) post(bits uint32) {
	e.pending.Or(bits)
	if e.posted.Swap(true) {
		return
	}
	h := &e.hs[e.hi]
	e.hi ^= 1
	h.run, h.ctx = callback(e.runFn), context.Background()
	_ = e.loop.in.postIO(h) // refused only once the loop is closing
}

func (e *fdEntry) run(context.Context) {
	e.posted.Store(false)
	bits := e.pending.Swap(0)
	if e.closed {
		return
	}
	if bits&readyRead != 0 {
		if e.onRead != nil {
			e.onRead(bits)
		} else if e.reader != nil {
			e.reader.fire()
		}
	}
	if bits&readyWrite != 0 && !e.closed {
		if e.onWrite != nil {
			e.onWrite()
		} else if e.writer != nil {
			e.writer.fire()
		}
	}
}

// An fdCallback is a callback of AddReader or AddWriter.
type fdCallback struct {
	e       *fdEntry
	dir     uint32
	cb      func(ctx context.Context)
	opts    []CallOption
	callFn  func(context.Context)
	queued  bool
	removed bool
}

func (c *fdCallback) fire() {
	if c.queued || c.removed {
		return
	}
	c.queued = true
	c.e.loop.CallSoon(c.callFn, c.opts...)
}

func (c *fdCallback) call(ctx context.Context) {
	c.queued = false
	if c.removed {
		return
	}
	defer c.recheck()
	c.cb(ctx)
}

// recheck keeps the callback level-triggered: while the fd stays ready it
// runs again in the next iteration.
func (c *fdCallback) recheck() {
	if !c.removed && !c.e.closed && pollNow(c.e.fd, c.dir) != 0 {
		c.fire()
	}
}

func (l *Loop) addFdCallback(fd int, dir uint32, cb func(ctx context.Context), opts []CallOption, method string) (*fdCallback, error) {
	if cb == nil {
		panic("asyncio: Loop." + method + " with a nil callback")
	}
	l.confined("Loop." + method)
	s, err := l.ioState()
	if err != nil {
		return nil, err
	}
	if e := s.fds[fd]; e != nil {
		if e.owned {
			return nil, fmt.Errorf("%w: fd %d", ErrFdInUse, fd)
		}
		if e.file != fdFileID(fd) {
			// The fd was closed while watched and its number now names
			// another file (or none): the kernel dropped the old watch
			// with the old file, so start afresh rather than keep
			// callbacks that would never run (asyncio keeps them).
			for _, old := range []*fdCallback{e.reader, e.writer} {
				if old != nil {
					old.removed = true
				}
			}
			s.drop(e)
		}
	}
	e, err := s.entry(fd)
	if err != nil {
		return nil, err
	}
	if e.reader == nil && e.writer == nil {
		e.file = fdFileID(fd)
	}
	c := &fdCallback{e: e, dir: dir, cb: cb, opts: opts}
	c.callFn = c.call
	slot := &e.reader
	if dir == readyWrite {
		slot = &e.writer
	}
	if old := *slot; old != nil {
		old.removed = true
	}
	*slot = c
	// The edge may have passed before this callback was there to see it.
	if pollNow(fd, dir) != 0 {
		c.fire()
	}
	return c, nil
}

func (l *Loop) removeFdCallback(fd int, dir uint32, method string) (bool, error) {
	return l.removeFdCallbackOf(fd, dir, nil, method)
}

// removeFdCallbackOf removes fd's callback for dir, if it is only (nil:
// whichever is there): a waiter removes its own callback, never one that
// replaced it since.
func (l *Loop) removeFdCallbackOf(fd int, dir uint32, only *fdCallback, method string) (bool, error) {
	l.confined("Loop." + method)
	if fd < 0 {
		return false, fmt.Errorf("%w: %d", ErrInvalidFd, fd)
	}
	s := l.io
	if s == nil || s.closed {
		return false, nil
	}
	e := s.fds[fd]
	if e == nil {
		return false, nil
	}
	if e.owned {
		return false, fmt.Errorf("%w: fd %d", ErrFdInUse, fd)
	}
	slot := &e.reader
	if dir == readyWrite {
		slot = &e.writer
	}
	c := *slot
	if c == nil || (only != nil && c != only) {
		return false, nil
	}
	c.removed = true
	*slot = nil
	if e.reader == nil && e.writer == nil {
		s.drop(e)
	}
	return true, nil
}

// AddReader starts watching fd for reading: cb runs on the loop when fd is
// readable, and again in each iteration while it stays readable
// (level-triggered, as asyncio's add_reader), until RemoveReader. A second
// AddReader for the same fd replaces the callback. cb gets the loop's ctx,
// or the one given WithContext; a panic in cb goes to the exception
// handler, and the reader stays.
//
// fd must be non-blocking and pollable (a socket, pipe, eventfd…; a
// regular file or a directory is refused with EPERM). The fd stays the
// caller's: the loop never closes it, and stops watching it when its
// OpenLoop block exits. Close the fd only after RemoveReader and
// RemoveWriter.
//
// Loop-confined. It returns ErrFdInUse if a transport of the loop owns fd,
// ErrInvalidFd for a negative fd, ErrLoopClosed once the loop is closing.
// Cost: the first fd watched by a loop starts its poller (an epoll or
// kqueue instance and a goroutine); each readiness is one hop through the
// loop's inbox, plus one poll(2) after each run of cb.
func (l *Loop) AddReader(fd int, cb func(ctx context.Context), opts ...CallOption) error {
	_, err := l.addFdCallback(fd, readyRead, cb, opts, "AddReader")
	return err
}

// RemoveReader stops watching fd for reading and reports whether it was
// watched (asyncio's remove_reader). A callback already scheduled does
// not run. It returns ErrFdInUse for an fd a transport owns, ErrInvalidFd
// for a negative one. Loop-confined.
func (l *Loop) RemoveReader(fd int) (bool, error) {
	return l.removeFdCallback(fd, readyRead, "RemoveReader")
}

// AddWriter starts watching fd for writing, as AddReader does for reading:
// cb runs in each iteration while fd is writable, until RemoveWriter.
// Loop-confined; errors and costs as AddReader's.
func (l *Loop) AddWriter(fd int, cb func(ctx context.Context), opts ...CallOption) error {
	_, err := l.addFdCallback(fd, readyWrite, cb, opts, "AddWriter")
	return err
}

// RemoveWriter stops watching fd for writing and reports whether it was
// watched (asyncio's remove_writer); errors as RemoveReader's.
// Loop-confined.
func (l *Loop) RemoveWriter(fd int) (bool, error) {
	return l.removeFdCallback(fd, readyWrite, "RemoveWriter")
}

// own registers fd for a transport or server of the loop, with its
// handlers.
func (s *ioState) own(fd int, onRead func(uint32), onWrite func()) (*fdEntry, error) {
	if e := s.fds[fd]; e != nil {
		if e.owned {
			return nil, fmt.Errorf("%w: fd %d", ErrFdInUse, fd)
		}
		return nil, fmt.Errorf("asyncio: fd %d is watched by AddReader or AddWriter", fd)
	}
	e, err := s.entry(fd)
	if err != nil {
		return nil, err
	}
	e.owned = true
	e.onRead, e.onWrite = onRead, onWrite
	return e, nil
}
