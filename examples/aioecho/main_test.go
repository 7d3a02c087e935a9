package main

import (
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	var out strings.Builder
	if err := run(t.Context(), &out, "both", 20); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"protocol server: 20 clients echoed", "streams server: 20 clients echoed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output: got %q, want it to contain %q", out.String(), want)
		}
	}
}
