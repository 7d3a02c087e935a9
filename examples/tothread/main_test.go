package main

import (
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	var out strings.Builder
	if err := run(t.Context(), &out); err != nil {
		t.Fatal(err)
	}
	if want := `lookup: "value of k", <nil>; the loop ticked 3 times meanwhile`; !strings.Contains(out.String(), want) {
		t.Errorf("output: got %q, want it to contain %q", out.String(), want)
	}
}
