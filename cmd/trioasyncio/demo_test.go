package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

func TestDemo(t *testing.T) {
	var out bytes.Buffer
	if err := demo(context.Background(), &out); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	if strings.Contains(out.String(), "never printed") {
		t.Error("a dropped timer fired")
	}
	for _, want := range []string{
		"nursery returned <nil>",
		"MoveOnAfter(250ms) returned movedOn=true err=<nil>",
		"cleanup done",
		"CancelledCaught=true",
		"indexer cancelled: trio: cancelled: a child of the nursery failed: disk full",
		"RunAsyncio returned 42, <nil>",
		"errors.Is trio.ErrCancelled: true, asyncio.ErrCancelled: true",
		"the trio deadline's scope absorbed it: movedOn=true err=<nil>",
		"a forgotten task is cancelled by the teardown",
		"a forgotten trio call is cancelled too",
		"loop closed: true",
		"B goes on",
		`trio client bob got "HELLO FROM BOB"`,
		"the asyncio read is cancelled mid-line",
		`read again later: "half a record\n", <nil>: no byte lost`,
		"js: a timer fired after 50ms",
		"js: the promise resolved: hello from Go",
		"Await returned 13, <nil>",
		"nothing outlived its block",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}

// Each scene runs alone by name; an unknown name is an error that says
// where the list is.
func TestDemo_scene_by_name(t *testing.T) {
	for _, s := range scenes {
		var out bytes.Buffer
		if err := demo(context.Background(), &out, s.name); err != nil {
			t.Errorf("demo %s: %v\n%s", s.name, err, out.String())
		}
		if !strings.Contains(out.String(), s.title) || !strings.Contains(out.String(), "nothing outlived its block") {
			t.Errorf("demo %s: output lacks its title or the last line:\n%s", s.name, out.String())
		}
	}
	if err := demo(context.Background(), io.Discard, "nope"); err == nil || !strings.Contains(err.Error(), "-h") {
		t.Errorf("demo nope: got %v, want an error pointing at -h", err)
	}
}
