package asyncio

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/trioasyncio/trioasyncio/internal/deque"
)

// Queues for tasks of one loop: CPython's asyncio/queues.py, with 3.13's
// Shutdown. One engine, queue, serves the three kinds; they differ only in
// the storage it is instantiated with: a FIFO ring (Queue), a stack
// (LifoQueue) or a binary heap (PriorityQueue).

// The errors of the queues (asyncio.QueueEmpty, QueueFull and
// QueueShutDown). They are returned as they are: compare them with ==
// or errors.Is.
var (
	// ErrQueueEmpty is returned by GetNowait when the queue is empty.
	ErrQueueEmpty = errors.New("asyncio: queue empty")
	// ErrQueueFull is returned by PutNowait when the queue is full.
	ErrQueueFull = errors.New("asyncio: queue full")
	// ErrQueueShutDown is returned by the puts of a queue shut down, and
	// by its gets once it is empty.
	ErrQueueShutDown = errors.New("asyncio: queue shut down")
)

// storage is what the engine needs of its items' container; S is the
// container's type, and the methods are on *S so that the zero value of S
// is an empty container.
type storage[T, S any] interface {
	*S
	put(v T)
	get() T // the container is not empty
	len() int
	all() []T // the items in storage order, for String
	kind() string
}

// queue is the engine of Queue, LifoQueue and PriorityQueue: CPython's
// asyncio.Queue with _init, _put and _get given by PS.
type queue[T, S any, PS storage[T, S]] struct {
	_          noCopy
	bound      loopBound
	items      S
	maxsize    int
	getters    waitList
	putters    waitList
	unfinished int
	finished   Event // set when unfinished drops to 0 (Join checks unfinished first)
	shutdown   bool
}

func (q *queue[T, S, PS]) store() PS { return PS(&q.items) }

// Qsize returns the number of items in the queue.
func (q *queue[T, S, PS]) Qsize() int { return q.store().len() }

// Maxsize returns the number of items allowed in the queue, as given to
// the constructor: 0 or less means no limit.
func (q *queue[T, S, PS]) Maxsize() int { return q.maxsize }

// Empty reports whether the queue has no items.
func (q *queue[T, S, PS]) Empty() bool { return q.store().len() == 0 }

// Full reports whether the queue has Maxsize items. A queue without limit
// is never full.
func (q *queue[T, S, PS]) Full() bool {
	return q.maxsize > 0 && q.store().len() >= q.maxsize
}

// Put puts v into the queue, waiting for a free slot if it is full; tasks
// waiting to put get slots in FIFO order.
//
// It returns ErrQueueShutDown if the queue is shut down, before or while
// it waits; the *CancelledError if the task is cancelled while it waits (v
// is then not in the queue, and a slot it had been told of goes to the
// next putter); ErrAwaitOutsideTask or ErrDifferentLoop, without waiting,
// if it would have to wait but cannot.
func (q *queue[T, S, PS]) Put(ctx context.Context, v T) error {
	for q.Full() {
		if q.shutdown {
			return ErrQueueShutDown
		}
		w, err := q.bound.newWaiter(ctx, q.store().kind()+".Put")
		if err != nil {
			return err
		}
		q.putters.PushBack(w)
		if _, err := Await(ctx, &w.fut); err != nil {
			w.fut.Cancel("") // in case it is not done
			q.putters.Remove(w)
			if !q.Full() && !w.fut.Cancelled() {
				// We were told of a free slot but cannot take it: tell
				// the next putter.
				q.wakeupNext(&q.putters)
			}
			return err
		}
	}
	return q.PutNowait(v)
}

// PutNowait puts v into the queue if it is not full, and returns nil; it
// returns ErrQueueFull if it is full, and ErrQueueShutDown if the queue is
// shut down.
func (q *queue[T, S, PS]) PutNowait(v T) error {
	q.bound.check(q.store().kind(), "PutNowait")
	if q.shutdown {
		return ErrQueueShutDown
	}
	if q.Full() {
		return ErrQueueFull
	}
	q.store().put(v)
	q.unfinished++
	q.finished.Clear()
	q.wakeupNext(&q.getters)
	return nil
}

// Get removes and returns an item, waiting for one if the queue is empty;
// tasks waiting to get are served in FIFO order.
//
// It returns ErrQueueShutDown if the queue is shut down and empty (at once
// after Shutdown(true)); the *CancelledError if the task is cancelled while
// it waits (no item is lost: one it had been told of goes to the next
// getter); ErrAwaitOutsideTask or ErrDifferentLoop, without waiting, if it
// would have to wait but cannot.
func (q *queue[T, S, PS]) Get(ctx context.Context) (T, error) {
	for q.Empty() {
		if q.shutdown {
			var zero T
			return zero, ErrQueueShutDown
		}
		w, err := q.bound.newWaiter(ctx, q.store().kind()+".Get")
		if err != nil {
			var zero T
			return zero, err
		}
		q.getters.PushBack(w)
		if _, err := Await(ctx, &w.fut); err != nil {
			w.fut.Cancel("") // in case it is not done
			q.getters.Remove(w)
			if !q.Empty() && !w.fut.Cancelled() {
				// We were told of an item but cannot take it: tell the
				// next getter.
				q.wakeupNext(&q.getters)
			}
			var zero T
			return zero, err
		}
	}
	return q.GetNowait()
}

// GetNowait removes and returns an item if one is there; otherwise it
// returns ErrQueueEmpty, or ErrQueueShutDown if the queue is shut down.
func (q *queue[T, S, PS]) GetNowait() (T, error) {
	q.bound.check(q.store().kind(), "GetNowait")
	if q.Empty() {
		var zero T
		if q.shutdown {
			return zero, ErrQueueShutDown
		}
		return zero, ErrQueueEmpty
	}
	v := q.store().get()
	q.wakeupNext(&q.putters)
	return v, nil
}

// wakeupNext wakes the first waiter of ws that is not done, removing it
// and the done ones before it.
func (q *queue[T, S, PS]) wakeupNext(ws *waitList) {
	for w := ws.PopFront(); w != nil; w = ws.PopFront() {
		if w.wake() {
			return
		}
	}
}

// TaskDone tells the queue that the processing of an item that was got is
// complete. Join waits until every item put has been marked so. It panics
// if called more times than items were put (asyncio raises ValueError).
func (q *queue[T, S, PS]) TaskDone() {
	if q.unfinished <= 0 {
		panic("asyncio: " + q.store().kind() + ".TaskDone called too many times")
	}
	q.unfinished--
	if q.unfinished == 0 {
		q.finished.Set()
	}
}

// Join waits until every item put into the queue has been got and marked
// with TaskDone (at once if so already). It returns the *CancelledError if
// the task is cancelled meanwhile, and ErrAwaitOutsideTask or
// ErrDifferentLoop, without waiting, if it cannot wait.
func (q *queue[T, S, PS]) Join(ctx context.Context) error {
	if q.unfinished > 0 {
		return q.finished.wait(ctx, q.store().kind()+".Join")
	}
	return nil
}

// Shutdown shuts the queue down (3.13's Queue.shutdown): from now on puts
// return ErrQueueShutDown, and gets do too once the queue is empty; tasks
// waiting in Put or Get are woken to find out. If immediate, the queue is
// also emptied first, with a TaskDone for each item dropped (which may
// release Join), so that gets return ErrQueueShutDown at once. Calling it
// again is allowed (e.g. with immediate after without).
func (q *queue[T, S, PS]) Shutdown(immediate bool) {
	q.bound.check(q.store().kind(), "Shutdown")
	q.shutdown = true
	if immediate {
		st := q.store()
		for st.len() > 0 {
			st.get()
			if q.unfinished > 0 {
				q.unfinished--
			}
		}
		if q.unfinished == 0 {
			q.finished.Set()
		}
	}
	// Every getter and putter re-checks, and finds the shutdown.
	for w := q.getters.PopFront(); w != nil; w = q.getters.PopFront() {
		w.wake()
	}
	for w := q.putters.PopFront(); w != nil; w = q.putters.PopFront() {
		w.wake()
	}
}

// String describes the queue for logs, as CPython's str does, e.g.
// "<Queue maxsize=0 _queue=[1 2] _getters[1] tasks=2 shutdown>".
func (q *queue[T, S, PS]) String() string {
	st := q.store()
	var b strings.Builder
	b.WriteString("<" + st.kind() + " maxsize=" + strconv.Itoa(q.maxsize))
	if st.len() > 0 {
		fmt.Fprintf(&b, " _queue=%v", st.all())
	}
	if n := q.getters.Len(); n > 0 {
		b.WriteString(" _getters[" + strconv.Itoa(n) + "]")
	}
	if n := q.putters.Len(); n > 0 {
		b.WriteString(" _putters[" + strconv.Itoa(n) + "]")
	}
	if q.unfinished > 0 {
		b.WriteString(" tasks=" + strconv.Itoa(q.unfinished))
	}
	if q.shutdown {
		b.WriteString(" shutdown")
	}
	b.WriteString(">")
	return b.String()
}

// A Queue is a FIFO queue for tasks of one loop (asyncio.Queue): producers
// Put items, consumers Get them in the order they were put, and Join and
// TaskDone track the processing of the items got.
//
// With a maxsize, Put waits while the queue is full. Tasks waiting in Put
// or Get are served in FIFO order, and cancellation loses nothing: a
// cancelled Get takes no item, a cancelled Put puts none, and the slot or
// item a cancelled waiter had been told of goes to the next one.
//
// The zero value is an empty queue without size limit. A Queue must not
// be copied after first use.
//
// Flavor: loop-confined, and bound to a loop as Lock is: at the first wait
// (then a wait from another loop returns ErrDifferentLoop). Put, Get and
// Join wait only in a task (else they return ErrAwaitOutsideTask if they
// would have to); the other methods may be called from callbacks too.
//
// Cost: the items are in a ring buffer, which doubles when full and halves
// when a quarter full; operations that do not wait allocate nothing else,
// a wait allocates one future.
//
// Misuse panics: TaskDone called more times than items were put.
type Queue[T any] struct {
	queue[T, ring[T], *ring[T]]
}

// NewQueue returns an empty queue holding at most maxsize items; maxsize
// <= 0 means no limit.
func NewQueue[T any](maxsize int) *Queue[T] {
	q := &Queue[T]{}
	q.maxsize = maxsize
	return q
}

// A LifoQueue is a queue whose Get returns the item put last
// (asyncio.LifoQueue). Otherwise it is a Queue: see Queue for waiting,
// cancellation, flavor and costs. Its items are on a stack (a slice).
//
// The zero value is an empty queue without size limit.
type LifoQueue[T any] struct {
	queue[T, stack[T], *stack[T]]
}

// NewLifoQueue returns an empty LIFO queue holding at most maxsize items;
// maxsize <= 0 means no limit.
func NewLifoQueue[T any](maxsize int) *LifoQueue[T] {
	q := &LifoQueue[T]{}
	q.maxsize = maxsize
	return q
}

// A PriorityQueue is a queue whose Get returns the least item by its
// ordering (asyncio.PriorityQueue, which returns the lowest first). Items
// that are equal come out in no particular order. Otherwise it is a Queue:
// see Queue for waiting, cancellation, flavor and costs. Its items are in
// a binary heap: Put and Get cost O(log n) comparisons.
//
// Make one with NewPriorityQueue: the zero value has no ordering, and its
// puts panic.
type PriorityQueue[T any] struct {
	queue[T, minHeap[T], *minHeap[T]]
}

// NewPriorityQueue returns an empty priority queue holding at most maxsize
// items (maxsize <= 0 means no limit), ordered by less, which reports
// whether a comes before b: cmp.Less for ordered types, or a comparison of
// priorities (where Python queues (priority, data) tuples). It panics if
// less is nil.
func NewPriorityQueue[T any](maxsize int, less func(a, b T) bool) *PriorityQueue[T] {
	if less == nil {
		panic("asyncio: NewPriorityQueue with a nil less")
	}
	q := &PriorityQueue[T]{}
	q.maxsize = maxsize
	q.items.less = less
	return q
}

// ring is Queue's storage (CPython's deque).
type ring[T any] struct {
	d deque.Deque[T]
}

func (r *ring[T]) put(v T) { r.d.PushBack(v, math.MaxInt) }
func (r *ring[T]) get() T  { return r.d.PopFront() }

// minShrink is the capacity above which storages give memory back when a
// quarter or less of it is used, halving it.
const minShrink = 64

// shrink halves the capacity of s if a quarter or less of it is used.
func shrink[T any](s []T) []T {
	if c := cap(s); c > minShrink && len(s) < c/4 {
		return append(make([]T, 0, c/2), s...)
	}
	return s
}

func (r *ring[T]) len() int { return r.d.Len() }

func (r *ring[T]) all() []T {
	out := make([]T, 0, r.d.Len())
	for i := range r.d.Len() {
		out = append(out, r.d.At(i))
	}
	return out
}

func (*ring[T]) kind() string { return "Queue" }

// stack is LifoQueue's storage.
type stack[T any] struct {
	s []T
}

func (st *stack[T]) put(v T) { st.s = append(st.s, v) }

func (st *stack[T]) get() T {
	n := len(st.s) - 1
	v := st.s[n]
	var zero T
	st.s[n] = zero
	st.s = shrink(st.s[:n])
	return v
}

func (st *stack[T]) len() int  { return len(st.s) }
func (st *stack[T]) all() []T  { return append([]T(nil), st.s...) }
func (*stack[T]) kind() string { return "LifoQueue" }

// minHeap is PriorityQueue's storage: a binary min-heap by less (CPython's
// heapq).
type minHeap[T any] struct {
	s    []T
	less func(a, b T) bool
}

func (h *minHeap[T]) put(v T) {
	if h.less == nil {
		panic("asyncio: PriorityQueue without an ordering (make it with NewPriorityQueue)")
	}
	h.s = append(h.s, v)
	s := h.s
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(v, s[p]) {
			break
		}
		s[i] = s[p]
		i = p
	}
	s[i] = v
}

func (h *minHeap[T]) get() T {
	s := h.s
	top := s[0]
	n := len(s) - 1
	v := s[n]
	var zero T
	s[n] = zero
	s = s[:n]
	if n > 0 {
		i := 0
		for {
			c := 2*i + 1
			if c >= n {
				break
			}
			if r := c + 1; r < n && h.less(s[r], s[c]) {
				c = r
			}
			if !h.less(s[c], v) {
				break
			}
			s[i] = s[c]
			i = c
		}
		s[i] = v
	}
	h.s = shrink(s)
	return top
}

func (h *minHeap[T]) len() int   { return len(h.s) }
func (h *minHeap[T]) all() []T   { return append([]T(nil), h.s...) }
func (*minHeap[T]) kind() string { return "PriorityQueue" }
