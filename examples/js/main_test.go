package main

import (
	"strings"
	"testing"

	"github.com/trioasyncio/trioasyncio/trio"
	"go.uber.org/goleak"
)

// The example runs to its end, in order, and leaves no goroutine behind.
func TestRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	var buf strings.Builder
	out = &buf
	var root trio.CancelScope
	if err := root.Run(t.Context(), run); err != nil {
		t.Fatal(err)
	}
	log := buf.String()
	for _, want := range []string{"fetching http://", "fetched: hello from Go", "a timeout of 250 ms", "result: done after"} {
		if !strings.Contains(log, want) {
			t.Errorf("output lacks %q:\n%s", want, log)
		}
	}
	if i, j := strings.Index(log, "fetched"), strings.Index(log, "result"); i > j {
		t.Errorf("result before fetch:\n%s", log)
	}
}
