package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestDemo(t *testing.T) {
	var out bytes.Buffer
	if err := demo(context.Background(), &out); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"nursery returned <nil>",
		"MoveOnAfter(250ms) returned movedOn=true err=<nil>",
		"cleanup done",
		"CancelledCaught=true",
		"indexer cancelled: trio: cancelled: a child of the nursery failed: disk full",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}
