// Package deque is the FIFO ring buffer behind trio's memory channels and
// asyncio's Queue: it grows by doubling as needed (up to a limit) and
// gives memory back, halving, when a quarter or less of a large buffer is
// used, so a large or unbounded queue costs nothing until it fills.
package deque

// minShrink is the capacity above which a Deque shrinks.
const minShrink = 64

// Deque is a FIFO of values. The zero value is empty.
type Deque[T any] struct {
	buf  []T
	head int
	n    int
}

// Len returns the number of values.
func (d *Deque[T]) Len() int { return d.n }

// PushBack appends v, growing the buffer to at most limit values; the
// caller checks that Len() < limit.
func (d *Deque[T]) PushBack(v T, limit int) {
	if d.n == len(d.buf) {
		d.resize(min(max(2*len(d.buf), 8), limit))
	}
	i := d.head + d.n
	if i >= len(d.buf) {
		i -= len(d.buf)
	}
	d.buf[i] = v
	d.n++
}

// PopFront removes and returns the oldest value; the deque must not be
// empty.
func (d *Deque[T]) PopFront() T {
	var zero T
	v := d.buf[d.head]
	d.buf[d.head] = zero // let it be collected
	d.head++
	if d.head == len(d.buf) {
		d.head = 0
	}
	d.n--
	if len(d.buf) > minShrink && d.n <= len(d.buf)/4 {
		d.resize(len(d.buf) / 2)
	}
	return v
}

// At returns the i-th oldest value.
func (d *Deque[T]) At(i int) T { return d.buf[(d.head+i)%len(d.buf)] }

// Reset drops every value.
func (d *Deque[T]) Reset() { *d = Deque[T]{} }

// resize moves the values to a new buffer of capacity c >= d.n.
func (d *Deque[T]) resize(c int) {
	buf := make([]T, c)
	k := copy(buf, d.buf[d.head:min(d.head+d.n, len(d.buf))])
	copy(buf[k:], d.buf[:d.n-k])
	d.buf, d.head = buf, 0
}
