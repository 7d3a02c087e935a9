package trio

import (
	"context"
	"errors"
	"iter"
	"math"
	"sync"

	"github.com/trioasyncio/trioasyncio/internal/deque"
	"github.com/trioasyncio/trioasyncio/internal/ilist"
)

// ErrEndOfChannel is returned by a receive when every send handle of the
// channel has been closed and its buffer is drained (trio.EndOfChannel):
// the normal end of a stream of values. [MemoryReceiveChannel.All] ends
// quietly on it.
var ErrEndOfChannel = errors.New("trio: end of channel")

// UnboundedBuffer, given as OpenMemoryChannel's size, makes a channel whose
// buffer grows without limit, so that Send never blocks (Trio's
// open_memory_channel(math.inf)). It is math.MaxInt: any size that large is
// unbounded.
const UnboundedBuffer = math.MaxInt

// OpenMemoryChannel makes a channel that carries values of type T between
// goroutines, and returns its first send handle and its first receive handle
// (Trio's open_memory_channel).
//
// size is how many values the channel buffers before Send blocks: 0 makes a
// rendezvous channel, where a Send completes only when a receiver takes its
// value; [UnboundedBuffer] (math.MaxInt) makes a buffer that grows as
// needed. A negative size panics. The buffer is allocated as it fills, so a
// large size costs nothing until used.
//
// Unlike a Go channel, a memory channel has independent handles that can be
// cloned and closed: the send side ends when the last send handle is
// closed, so several producers each close their own clone when done and
// the consumers see [ErrEndOfChannel] after the last one; the receive side
// ends when the last receive handle is closed, and then senders get
// [ErrBrokenResource] instead of blocking forever. Blocking operations take
// a ctx and return trio's cancellation error when it is cancelled, with the
// guarantee that a cancelled operation had no effect (see Send and
// Receive). Values are delivered in FIFO order, and goroutines blocked in
// Send or Receive are served in the order in which they blocked.
//
// Handles are not closed by the garbage collector: a send handle that is
// dropped without Close keeps the receivers waiting, as in Trio. Close
// handles with defer, in the goroutine that owns them.
//
// All handles are safe for use by multiple goroutines. A channel used inside
// a testing/synctest bubble should be opened and used inside it, as a Go
// channel would be.
func OpenMemoryChannel[T any](size int) (*MemorySendChannel[T], *MemoryReceiveChannel[T]) {
	if size < 0 {
		panic("trio: OpenMemoryChannel: negative buffer size")
	}
	st := &memChan[T]{maxSize: size, openSend: 1, openRecv: 1}
	return &MemorySendChannel[T]{st: st}, &MemoryReceiveChannel[T]{st: st}
}

// MemoryChannelStatistics describes a memory channel at one moment (Trio's
// MemoryChannelStatistics).
type MemoryChannelStatistics struct {
	CurrentBufferUsed   int // values in the buffer
	MaxBufferSize       int // the size given to OpenMemoryChannel
	OpenSendChannels    int // send handles not yet closed
	OpenReceiveChannels int // receive handles not yet closed
	TasksWaitingSend    int // goroutines blocked in Send
	TasksWaitingReceive int // goroutines blocked in Receive
	PeakBufferUsed      int // the most values the buffer has held at once
}

// A MemorySendChannel is a send handle of a memory channel; see
// [OpenMemoryChannel]. Its methods are safe for use by multiple goroutines.
// The zero value is not usable (its methods panic): handles come from
// OpenMemoryChannel and Clone.
type MemorySendChannel[T any] struct {
	st     *memChan[T]
	closed bool // guarded by st.mu
}

// A MemoryReceiveChannel is a receive handle of a memory channel; see
// [OpenMemoryChannel]. Its methods are safe for use by multiple goroutines.
// The zero value is not usable (its methods panic): handles come from
// OpenMemoryChannel and Clone.
type MemoryReceiveChannel[T any] struct {
	st     *memChan[T]
	closed bool // guarded by st.mu
}

// memChan is the state that all the handles of one channel share.
//
// Invariants (under mu): goroutines wait in recvQ only while the buffer is
// empty and sendQ is empty; they wait in sendQ only while the buffer is
// full (or the channel is a rendezvous) and recvQ is empty. A waiter is in
// a queue exactly while its done is false.
type memChan[T any] struct {
	mu       sync.Mutex
	maxSize  int
	buf      deque.Deque[T]
	sendQ    waitQueue[T] // blocked senders, oldest first
	recvQ    waitQueue[T] // blocked receivers, oldest first
	openSend int
	openRecv int
	peak     int            // the buffer's high-water mark
	free     *chanWaiter[T] // a few idle waiters, to spare allocations
	nfree    int
}

// A chanWaiter is one goroutine blocked in Send or Receive. The goroutine that
// completes it (a peer operation, or a Close) does so under mu: it takes it
// out of its queue, sets val (for a receiver) or err, and sets done; then
// it sends on wake (after unlocking mu, on the hand-off paths). The blocked
// goroutine therefore knows, under mu, whether its operation completed; a
// cancellation that loses the race to completion reports the completion,
// so no value is ever lost or duplicated.
type chanWaiter[T any] struct {
	links    ilist.Links[chanWaiter[T]]
	nextFree *chanWaiter[T] // in the channel's free list
	owner    any            // the handle it blocked on, for Close
	wake     chan struct{}
	val      T
	err      error
	done     bool
}

const maxFreeWaiters = 16

func (c *memChan[T]) getWaiterLocked(owner any) *chanWaiter[T] {
	w := c.free
	if w != nil {
		c.free = w.nextFree
		c.nfree--
		w.nextFree = nil
	} else {
		// The wake channel is made by the goroutine that first blocks, so
		// that inside a testing/synctest bubble it belongs to the bubble.
		w = &chanWaiter[T]{wake: make(chan struct{}, 1)}
	}
	w.owner = owner
	w.done = false
	return w
}

// putWaiterLocked recycles w; its wake channel must be empty.
func (c *memChan[T]) putWaiterLocked(w *chanWaiter[T]) {
	var zero T
	w.val, w.err, w.owner = zero, nil, nil
	if c.nfree >= maxFreeWaiters {
		return
	}
	w.nextFree = c.free
	c.free = w
	c.nfree++
}

// completeLocked takes w out of q and completes it with val and err. The
// caller must then wake it, preferably after unlocking mu, so that the
// woken goroutine does not find mu held.
func completeLocked[T any](q *waitQueue[T], w *chanWaiter[T], val T, err error) *chanWaiter[T] {
	q.Remove(w)
	w.val, w.err, w.done = val, err, true
	return w
}

// wakeUp wakes w's goroutine, if w is not nil. It never blocks: a waiter is
// completed once per wait, and its wake channel has room for one.
func wakeUp[T any](w *chanWaiter[T]) {
	if w != nil {
		w.wake <- struct{}{}
	}
}

// failAllLocked wakes every waiter of q that blocked on owner (every
// waiter, if owner is nil) with err.
func failAllLocked[T any](q *waitQueue[T], owner any, err error) {
	var zero T
	for w := q.Front(); w != nil; {
		next := q.Next(w)
		if owner == nil || w.owner == owner {
			wakeUp(completeLocked(q, w, zero, err))
		}
		w = next
	}
}

// wait blocks until w is completed or ctx is done, and returns w's outcome,
// or the cancellation if the operation was withdrawn. It recycles w.
func (c *memChan[T]) wait(ctx context.Context, q *waitQueue[T], w *chanWaiter[T]) (T, error) {
	select {
	case <-w.wake:
	case <-ctx.Done():
		c.mu.Lock()
		if !w.done {
			// Not completed: withdraw, and the operation never happened.
			q.Remove(w)
			c.putWaiterLocked(w)
			c.mu.Unlock()
			var zero T
			return zero, cancelError(ctx)
		}
		// Completed at the same moment: the completion stands.
		c.mu.Unlock()
		<-w.wake
	}
	v, err := w.val, w.err
	c.mu.Lock()
	c.putWaiterLocked(w)
	c.mu.Unlock()
	return v, err
}

func (s *MemorySendChannel[T]) state() *memChan[T] {
	if s.st == nil {
		panic("trio: MemorySendChannel not made by OpenMemoryChannel")
	}
	return s.st
}

// Send sends v, blocking until there is room in the buffer or, for a
// rendezvous channel, until a receiver takes v (Trio's send). It returns
// nil when v was sent; on any error v was not sent and nothing changed.
//
// Errors: trio's cancellation (matching [ErrCancelled] and the context
// error) if ctx is done on entry, even if v could be sent at once, as Send
// is a Trio checkpoint, or if ctx is cancelled while Send is blocked;
// [ErrClosedResource] if this handle is closed, or gets closed while Send
// is blocked; [ErrBrokenResource] if every receive handle is closed, or
// gets closed while Send is blocked.
//
// A cancellation that arrives just as a receiver takes v loses: Send then
// returns nil, because v was delivered. So a nil error means exactly once
// delivered, an error means never delivered.
//
// Cost: without blocking, a mutex round trip and no allocation (beyond the
// buffer's growth). Blocking adds a select on a Go channel and ctx.Done();
// waiters are recycled, so in steady state it allocates nothing either. Unlike Trio, a Send that completes at once
// does not yield the processor: Go's scheduler is preemptive.
func (s *MemorySendChannel[T]) Send(ctx context.Context, v T) error {
	c := s.state()
	if err := cancelError(ctx); err != nil {
		return err
	}
	c.mu.Lock()
	if err, wake := s.trySendLocked(c, v); err != ErrWouldBlock {
		c.mu.Unlock()
		wakeUp(wake)
		return err
	}
	w := c.getWaiterLocked(s)
	w.val = v
	c.sendQ.PushBack(w)
	c.mu.Unlock()
	_, err := c.wait(ctx, &c.sendQ, w)
	return err
}

// TrySend sends v if that can be done without blocking: into the buffer,
// or to a receiver already waiting (Trio's send_nowait). Otherwise it
// returns [ErrWouldBlock] and v is not sent. It returns
// [ErrClosedResource] on a closed handle and [ErrBrokenResource] when every
// receive handle is closed. It is not a checkpoint and takes no ctx.
func (s *MemorySendChannel[T]) TrySend(v T) error {
	c := s.state()
	c.mu.Lock()
	err, wake := s.trySendLocked(c, v)
	c.mu.Unlock()
	wakeUp(wake)
	return err
}

// trySendLocked is TrySend; the caller wakes wake after unlocking.
func (s *MemorySendChannel[T]) trySendLocked(c *memChan[T], v T) (err error, wake *chanWaiter[T]) {
	switch {
	case s.closed:
		return ErrClosedResource, nil
	case c.openRecv == 0:
		return ErrBrokenResource, nil
	case c.recvQ.Front() != nil:
		return nil, completeLocked(&c.recvQ, c.recvQ.Front(), v, nil)
	case c.buf.Len() < c.maxSize:
		c.buf.PushBack(v, c.maxSize)
		c.peak = max(c.peak, c.buf.Len())
		return nil, nil
	}
	return ErrWouldBlock, nil
}

// Clone returns a new send handle on the same channel (Trio's clone). The
// channel's send side stays open until every send handle, this one and all
// its clones, is closed. Cloning a closed handle returns nil and
// [ErrClosedResource], as Trio raises ClosedResourceError: a closed
// handle cannot reopen the channel.
func (s *MemorySendChannel[T]) Clone() (*MemorySendChannel[T], error) {
	c := s.state()
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.closed {
		return nil, ErrClosedResource
	}
	c.openSend++
	return &MemorySendChannel[T]{st: c}, nil
}

// Close closes this send handle (Trio's close). Sends blocked on this
// handle in other goroutines return [ErrClosedResource], their values not
// sent; later operations on it return ErrClosedResource. If it was the last
// open send handle, the channel's send side ends: the values in the buffer
// can still be received, after which receivers get [ErrEndOfChannel]; any
// receivers already blocked get it at once (the buffer is then empty).
//
// Close is idempotent, never blocks, and returns nil; the error result
// lets a handle serve as an io.Closer.
func (s *MemorySendChannel[T]) Close() error {
	c := s.state()
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	failAllLocked(&c.sendQ, s, ErrClosedResource)
	c.openSend--
	if c.openSend == 0 {
		failAllLocked(&c.recvQ, nil, ErrEndOfChannel)
	}
	return nil
}

// Statistics describes the channel (Trio's statistics).
func (s *MemorySendChannel[T]) Statistics() MemoryChannelStatistics {
	return s.state().statistics()
}

func (r *MemoryReceiveChannel[T]) state() *memChan[T] {
	if r.st == nil {
		panic("trio: MemoryReceiveChannel not made by OpenMemoryChannel")
	}
	return r.st
}

// Receive returns the next value, blocking until one is available (Trio's
// receive). Values come in the order they were sent; goroutines blocked in
// Receive get them in the order in which they blocked.
//
// Errors: trio's cancellation (matching [ErrCancelled] and the context
// error) if ctx is done on entry, even if a value is available, as Receive
// is a Trio checkpoint, or if ctx is cancelled while Receive is blocked;
// [ErrClosedResource] if this handle is closed, or gets closed while
// Receive is blocked; [ErrEndOfChannel] when every send handle is closed
// and the buffer is empty.
//
// A cancellation that arrives just as a sender hands over a value loses:
// Receive then returns the value with a nil error. With an error, no value
// was taken from the channel.
//
// Cost: as for [MemorySendChannel.Send].
func (r *MemoryReceiveChannel[T]) Receive(ctx context.Context) (T, error) {
	c := r.state()
	if err := cancelError(ctx); err != nil {
		var zero T
		return zero, err
	}
	c.mu.Lock()
	v, err, wake := r.tryReceiveLocked(c)
	if err != ErrWouldBlock {
		c.mu.Unlock()
		wakeUp(wake)
		return v, err
	}
	w := c.getWaiterLocked(r)
	c.recvQ.PushBack(w)
	c.mu.Unlock()
	return c.wait(ctx, &c.recvQ, w)
}

// TryReceive returns the next value if one is available without blocking
// (Trio's receive_nowait); otherwise it returns [ErrWouldBlock], or
// [ErrEndOfChannel] if every send handle is closed and the buffer is empty,
// or [ErrClosedResource] on a closed handle. It is not a checkpoint and
// takes no ctx.
func (r *MemoryReceiveChannel[T]) TryReceive() (T, error) {
	c := r.state()
	c.mu.Lock()
	v, err, wake := r.tryReceiveLocked(c)
	c.mu.Unlock()
	wakeUp(wake)
	return v, err
}

// tryReceiveLocked is TryReceive; the caller wakes wake after unlocking.
func (r *MemoryReceiveChannel[T]) tryReceiveLocked(c *memChan[T]) (v T, err error, wake *chanWaiter[T]) {
	var zero T
	if r.closed {
		return zero, ErrClosedResource, nil
	}
	if c.buf.Len() > 0 {
		v := c.buf.PopFront()
		if w := c.sendQ.Front(); w != nil {
			// The buffer had been full: the oldest blocked sender's value
			// takes the freed place, behind the buffered ones.
			c.buf.PushBack(w.val, c.maxSize)
			wake = completeLocked(&c.sendQ, w, zero, nil)
		}
		return v, nil, wake
	}
	if w := c.sendQ.Front(); w != nil {
		v := w.val
		return v, nil, completeLocked(&c.sendQ, w, zero, nil)
	}
	if c.openSend == 0 {
		return zero, ErrEndOfChannel, nil
	}
	return zero, ErrWouldBlock, nil
}

// All returns an iterator over the values received from r, for use with
// range (Trio's `async for value in receive_channel`):
//
//	for v, err := range r.All(ctx) {
//		if err != nil {
//			return err // cancelled, or r was closed
//		}
//		use(v)
//	}
//
// Each step is a Receive. The iteration ends without an error at
// [ErrEndOfChannel]. Any other error (a cancellation, [ErrClosedResource])
// is yielded once, with T's zero value, and then the iteration ends, so a
// loop that checks err cannot lose it. Breaking out of the loop loses
// nothing: the values not yet received stay in the channel. The iterator
// may be ranged over more than once, and by several goroutines at once,
// which then share the values.
func (r *MemoryReceiveChannel[T]) All(ctx context.Context) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			v, err := r.Receive(ctx)
			if err == ErrEndOfChannel {
				return
			}
			if !yield(v, err) || err != nil {
				return
			}
		}
	}
}

// Clone returns a new receive handle on the same channel (Trio's clone).
// The channel's receive side stays open until every receive handle is
// closed; clones share the values, each value going to one of them.
// Cloning a closed handle returns nil and [ErrClosedResource], as Trio
// raises ClosedResourceError.
func (r *MemoryReceiveChannel[T]) Clone() (*MemoryReceiveChannel[T], error) {
	c := r.state()
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.closed {
		return nil, ErrClosedResource
	}
	c.openRecv++
	return &MemoryReceiveChannel[T]{st: c}, nil
}

// Close closes this receive handle (Trio's close). Receives blocked on
// this handle in other goroutines return [ErrClosedResource]; later
// operations on it return ErrClosedResource. If it was the last open
// receive handle, the channel's receive side ends: the values in the
// buffer are dropped, blocked senders return [ErrBrokenResource] (their
// values not sent), and so do later sends.
//
// Close is idempotent, never blocks, and returns nil; the error result
// lets a handle serve as an io.Closer.
func (r *MemoryReceiveChannel[T]) Close() error {
	c := r.state()
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	failAllLocked(&c.recvQ, r, ErrClosedResource)
	c.openRecv--
	if c.openRecv == 0 {
		failAllLocked(&c.sendQ, nil, ErrBrokenResource)
		c.buf.Reset()
	}
	return nil
}

// Statistics describes the channel (Trio's statistics).
func (r *MemoryReceiveChannel[T]) Statistics() MemoryChannelStatistics {
	return r.state().statistics()
}

func (c *memChan[T]) statistics() MemoryChannelStatistics {
	c.mu.Lock()
	defer c.mu.Unlock()
	return MemoryChannelStatistics{
		CurrentBufferUsed:   c.buf.Len(),
		MaxBufferSize:       c.maxSize,
		OpenSendChannels:    c.openSend,
		OpenReceiveChannels: c.openRecv,
		TasksWaitingSend:    c.sendQ.Len(),
		TasksWaitingReceive: c.recvQ.Len(),
		PeakBufferUsed:      c.peak,
	}
}

// waitQueue is an intrusive FIFO of waiters; removal from the middle (a
// cancelled wait) is O(1).
type waitQueue[T any] = ilist.List[chanWaiter[T], *chanWaiter[T]]

func (w *chanWaiter[T]) ListLinks() *ilist.Links[chanWaiter[T]] { return &w.links }
