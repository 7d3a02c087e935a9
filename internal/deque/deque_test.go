package deque_test

import (
	"math"
	"testing"

	"github.com/trioasyncio/trioasyncio/internal/deque"
)

// The values come out in order across wrap-arounds, growth and shrinking.
func TestDequeOrder(t *testing.T) {
	var d deque.Deque[int]
	next, want := 0, 0
	for round := range 50 {
		for range round * 7 % 300 {
			d.PushBack(next, math.MaxInt)
			next++
		}
		for range round * 5 % 280 {
			if d.Len() == 0 {
				break
			}
			if got := d.PopFront(); got != want {
				t.Fatalf("got %d, want %d", got, want)
			}
			want++
		}
		if d.Len() != next-want {
			t.Fatalf("Len %d, want %d", d.Len(), next-want)
		}
		for i := range d.Len() {
			if d.At(i) != want+i {
				t.Fatalf("At(%d) = %d", i, d.At(i))
			}
		}
	}
	d.Reset()
	if d.Len() != 0 {
		t.Fatal("Reset")
	}
}

func TestDequeLimit(t *testing.T) {
	var d deque.Deque[int]
	for i := range 3 {
		d.PushBack(i, 3)
	}
	if d.Len() != 3 || d.PopFront() != 0 {
		t.Fatal("limited deque")
	}
}
