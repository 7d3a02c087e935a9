package ilist_test

import (
	"testing"

	"github.com/trioasyncio/trioasyncio/internal/ilist"
)

type node struct {
	links ilist.Links[node]
	v     int
}

func (n *node) ListLinks() *ilist.Links[node] { return &n.links }

func contents(l *ilist.List[node, *node]) []int {
	var out []int
	for x := l.Front(); x != nil; x = l.Next(x) {
		out = append(out, x.v)
	}
	return out
}

func TestList(t *testing.T) {
	var l ilist.List[node, *node]
	ns := make([]node, 5)
	for i := range ns {
		ns[i].v = i
		l.PushBack(&ns[i])
	}
	if !l.Remove(&ns[2]) || l.Remove(&ns[2]) || l.Contains(&ns[2]) {
		t.Fatal("Remove of a middle element, then again")
	}
	l.Remove(&ns[0])
	l.Remove(&ns[4])
	if got := contents(&l); len(got) != 2 || got[0] != 1 || got[1] != 3 || l.Len() != 2 {
		t.Fatalf("contents %v, len %d", got, l.Len())
	}
	l.PushBack(&ns[0])
	if x := l.PopFront(); x != &ns[1] || l.Len() != 2 {
		t.Fatalf("PopFront = %v", x)
	}
	l.PopFront()
	l.PopFront()
	if l.PopFront() != nil || l.Front() != nil || l.Len() != 0 {
		t.Fatal("empty list")
	}
}
