package main

import (
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	var out strings.Builder
	if err := run(t.Context(), &out, 30, 4); err != nil {
		t.Fatal(err)
	}
	if want := "sum of squares 1..30: 9455"; !strings.Contains(out.String(), want) {
		t.Errorf("output: got %q, want it to contain %q", out.String(), want)
	}
	if got := strings.Count(out.String(), "worker "); got != 4 {
		t.Errorf("workers that ended: got %d, want 4:\n%s", got, out.String())
	}
}
