package main

import (
	"testing"

	"go.uber.org/goleak"
)

// The server and its clients run to the end; nothing is left running.
func TestRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	if err := run(t.Context()); err != nil {
		t.Fatal(err)
	}
}
