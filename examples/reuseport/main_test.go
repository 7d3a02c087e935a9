package main

import (
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	var out strings.Builder
	if err := run(t.Context(), &out, 2, 100); err != nil {
		t.Fatal(err)
	}
	if want := "2 loops served 100 connections"; !strings.Contains(out.String(), want) {
		t.Errorf("output: got %q, want it to contain %q", out.String(), want)
	}
}
