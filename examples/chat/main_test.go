package main

import (
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	var out strings.Builder
	if err := run(t.Context(), &out, 30); err != nil {
		t.Fatal(err)
	}
	if want := "30 users, each heard the 29 others: 870 messages delivered"; !strings.Contains(out.String(), want) {
		t.Errorf("output: got %q, want %q", out.String(), want)
	}
}
