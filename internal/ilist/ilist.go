// Package ilist is an intrusive doubly-linked list: the FIFO queues of
// waiters that trio's primitives and channels and asyncio's locks keep, and
// the loop's list of tasks. An element embeds Links and is in at most one
// list at a time; pushing, popping and removing from the middle (a
// cancelled waiter leaving) are O(1) and allocate nothing.
package ilist

// Links are the pointers an element embeds.
type Links[T any] struct {
	prev, next *T
	in         bool
}

// Elem is the pointer type of an element: it returns its Links.
type Elem[T any] interface {
	*T
	ListLinks() *Links[T]
}

// List is a FIFO of elements. The zero value is an empty list.
type List[T any, P Elem[T]] struct {
	head, tail *T
	n          int
}

// Len returns the number of elements.
func (l *List[T, P]) Len() int { return l.n }

// Front returns the oldest element, or nil.
func (l *List[T, P]) Front() *T { return l.head }

// Next returns the element after x, or nil.
func (l *List[T, P]) Next(x *T) *T { return P(x).ListLinks().next }

// Contains reports whether x is in a list (this one, if any: an element is
// in one list at a time).
func (l *List[T, P]) Contains(x *T) bool { return P(x).ListLinks().in }

// PushBack appends x, which must not be in a list.
func (l *List[T, P]) PushBack(x *T) {
	k := P(x).ListLinks()
	k.in, k.prev, k.next = true, l.tail, nil
	if l.tail == nil {
		l.head = x
	} else {
		P(l.tail).ListLinks().next = x
	}
	l.tail = x
	l.n++
}

// Remove takes x out of the list and reports true, or reports false if x
// is in no list.
func (l *List[T, P]) Remove(x *T) bool {
	k := P(x).ListLinks()
	if !k.in {
		return false
	}
	if k.prev == nil {
		l.head = k.next
	} else {
		P(k.prev).ListLinks().next = k.next
	}
	if k.next == nil {
		l.tail = k.prev
	} else {
		P(k.next).ListLinks().prev = k.prev
	}
	k.in, k.prev, k.next = false, nil, nil
	l.n--
	return true
}

// PopFront removes and returns the oldest element, or nil.
func (l *List[T, P]) PopFront() *T {
	x := l.head
	if x != nil {
		l.Remove(x)
	}
	return x
}
