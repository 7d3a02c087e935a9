package asyncio

// Internals the tests of package asyncio_test look at, as CPython's tests
// look at _waiters, _value and _count.

// LockWaiters returns the number of tasks waiting for l (len(lock._waiters)).
func LockWaiters(l *Lock) int { return l.waiters.n }

// EventWaiters returns len(event._waiters).
func EventWaiters(e *Event) int { return e.waiters.n }

// ConditionWaiters returns len(cond._waiters).
func ConditionWaiters(c *Condition) int { return c.waiters.n }

// ConditionLock returns cond._lock.
func ConditionLock(c *Condition) *Lock { return c.lk() }

// SemaphoreValue returns sem._value.
func SemaphoreValue(s *Semaphore) int { return s.value }

// SemaphoreWaiters returns len(sem._waiters).
func SemaphoreWaiters(s *Semaphore) int { return s.waiters.n }

// SemaphoreWaitersAllDone reports all(w.done() for w in sem._waiters).
func SemaphoreWaitersAllDone(s *Semaphore) bool {
	for w := s.waiters.head; w != nil; w = w.next {
		if !w.fut.Done() {
			return false
		}
	}
	return true
}

// BarrierCount returns barrier._count.
func BarrierCount(b *Barrier) int { return b.count }

// LockFirstWaiterCancelled reports lock._waiters[0].cancelled().
func LockFirstWaiterCancelled(l *Lock) bool {
	return l.waiters.head != nil && l.waiters.head.fut.Cancelled()
}

// QueueGetters returns len(q._getters).
func QueueGetters[T any](q *Queue[T]) int { return q.getters.n }

// QueuePutters returns len(q._putters).
func QueuePutters[T any](q *Queue[T]) int { return q.putters.n }

// QueueAppendPutter is q._putters.append(loop.create_future()).
func QueueAppendPutter[T any](q *Queue[T], loop *Loop) *Future[struct{}] {
	w := &waiter{}
	w.fut.core.loop = loop
	q.putters.push(w)
	return &w.fut
}
