package asyncio

// timerHeap is the loop's timers: a 4-ary min-heap ordered by (when,
// seq), so that timers run in deadline order and ties in scheduling order.
// Each timer knows its position (hpos), so nothing needs searching.
//
// Design note: four children per node rather than two halves the depth,
// and the four children of a node share a cache line or two; W2 (many
// timers scheduled, most fired) measured it faster than the binary heap
// it replaced.
type timerHeap []*TimerHandle

const timerArity = 4

func timerLess(a, b *TimerHandle) bool {
	return a.when < b.when || (a.when == b.when && a.seq < b.seq)
}

func (hp *timerHeap) push(th *TimerHandle) {
	h := append(*hp, th)
	*hp = h
	h.up(len(h) - 1)
}

// pop removes and returns the head, whose hpos it clears.
func (hp *timerHeap) pop() *TimerHandle {
	h := *hp
	n := len(h) - 1
	top := h[0]
	h[0] = h[n]
	h[n] = nil
	h = h[:n]
	*hp = h
	if n > 0 {
		h.down(0)
	}
	top.hpos = 0
	return top
}

func (h timerHeap) up(i int) {
	th := h[i]
	for i > 0 {
		p := (i - 1) / timerArity
		if !timerLess(th, h[p]) {
			break
		}
		h[i] = h[p]
		h[i].hpos = int32(i + 1)
		i = p
	}
	h[i] = th
	th.hpos = int32(i + 1)
}

func (h timerHeap) down(i int) {
	n := len(h)
	th := h[i]
	for {
		c := timerArity*i + 1
		if c >= n {
			break
		}
		// The least of up to four children.
		m := c
		end := min(c+timerArity, n)
		for j := c + 1; j < end; j++ {
			if timerLess(h[j], h[m]) {
				m = j
			}
		}
		if !timerLess(h[m], th) {
			break
		}
		h[i] = h[m]
		h[i].hpos = int32(i + 1)
		i = m
	}
	h[i] = th
	th.hpos = int32(i + 1)
}

// heapify restores the heap property of an arbitrary slice.
func (h timerHeap) heapify() {
	for i := range h {
		h[i].hpos = int32(i + 1)
	}
	for i := (len(h) - 2) / timerArity; i >= 0; i-- {
		h.down(i)
	}
}

// CPython's base_events constants: cancelled timers are purged in bulk when
// they are more than half (_MIN_CANCELLED_TIMER_HANDLES_FRACTION) of a heap
// of more than 100 (_MIN_SCHEDULED_TIMER_HANDLES); otherwise they are
// dropped lazily when they reach the head.
const minScheduledTimerHandles = 100

// purgeCancelledTimers drops cancelled timers: in bulk if they are too
// many, else those at the head. Loop goroutine only.
func (l *Loop) purgeCancelledTimers() {
	if n := len(l.timers); n > minScheduledTimerHandles && 2*l.cancelledTimers > n {
		h := l.timers
		keep := h[:0]
		for _, th := range h {
			if th.cancelled {
				th.hpos = 0
			} else {
				keep = append(keep, th)
			}
		}
		clear(h[len(keep):])
		keep.heapify()
		l.timers = keep
		l.cancelledTimers = 0
		return
	}
	for len(l.timers) > 0 && l.timers[0].cancelled {
		l.timers.pop()
		l.uncountCancelled()
	}
}

// uncountCancelled counts one cancelled timer less. The count is a hint
// for purging in bulk, exact unless a timer was cancelled through its
// embedded Handle's Cancel, which cannot see the heap.
func (l *Loop) uncountCancelled() {
	if l.cancelledTimers > 0 {
		l.cancelledTimers--
	}
}

// dueTimers moves the timers due at now to the ready queue. Loop
// goroutine only.
func (l *Loop) dueTimers(now int64) {
	for len(l.timers) > 0 && l.timers[0].when <= now {
		th := l.timers.pop()
		if th.cancelled {
			l.uncountCancelled()
			continue
		}
		l.ready = append(l.ready, &th.Handle)
	}
}
