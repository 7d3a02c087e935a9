package asyncio

// Internals the tests of package asyncio_test look at, as CPython's tests
// look at _waiters, _value and _count.

// LockWaiters returns the number of tasks waiting for l (len(lock._waiters)).
func LockWaiters(l *Lock) int { return l.waiters.Len() }

// EventWaiters returns len(event._waiters).
func EventWaiters(e *Event) int { return e.waiters.Len() }

// ConditionWaiters returns len(cond._waiters).
func ConditionWaiters(c *Condition) int { return c.waiters.Len() }

// ConditionLock returns cond._lock.
func ConditionLock(c *Condition) *Lock { return c.lk() }

// SemaphoreValue returns sem._value.
func SemaphoreValue(s *Semaphore) int { return s.value }

// SemaphoreWaiters returns len(sem._waiters).
func SemaphoreWaiters(s *Semaphore) int { return s.waiters.Len() }

// SemaphoreWaitersAllDone reports all(w.done() for w in sem._waiters).
func SemaphoreWaitersAllDone(s *Semaphore) bool {
	for w := s.waiters.Front(); w != nil; w = s.waiters.Next(w) {
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
	return l.waiters.Front() != nil && l.waiters.Front().fut.Cancelled()
}

// QueueGetters returns len(q._getters).
func QueueGetters[T any](q *Queue[T]) int { return q.getters.Len() }

// QueuePutters returns len(q._putters).
func QueuePutters[T any](q *Queue[T]) int { return q.putters.Len() }

// QueueAppendPutter is q._putters.append(loop.create_future()).
func QueueAppendPutter[T any](q *Queue[T], loop *Loop) *Future[struct{}] {
	w := &waiter{}
	w.fut.core.loop = loop
	q.putters.PushBack(w)
	return &w.fut
}
