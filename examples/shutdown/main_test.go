//go:build unix

package main

import (
	"context"
	"strings"
	"syscall"
	"testing"

	"github.com/trioasyncio/trioasyncio/trio"
	"go.uber.org/goleak"
)

// A real SIGINT, through trio.Run: the request in flight is answered,
// then everything ends.
func TestRun_SIGINT(t *testing.T) {
	defer goleak.VerifyNone(t)
	var out strings.Builder
	ready := make(chan int, 1)
	var reply string
	err := trio.Run(func(ctx context.Context) error {
		return trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
			n.StartSoon(func(ctx context.Context) error { return run(ctx, &out, ready) })
			port := <-ready
			var shielded trio.CancelScope
			shielded.SetShield(true) // the client outlives the signal
			return shielded.Run(ctx, func(ctx context.Context) error {
				s, err := trio.OpenTCPStream(ctx, "127.0.0.1", port)
				if err != nil {
					return err
				}
				defer s.Close()
				s.SendAll(ctx, []byte("request\n"))
				var got []byte
				for !strings.Contains(string(got), "working\n") { // the request is in flight
					b, err := s.ReceiveSome(ctx, 0)
					if err != nil {
						return err
					}
					got = append(got, b...)
				}
				syscall.Kill(syscall.Getpid(), syscall.SIGINT) // in the middle of the request
				for !strings.Contains(string(got), "done\n") {
					b, err := s.ReceiveSome(ctx, 0)
					if err != nil {
						break
					}
					got = append(got, b...)
				}
				reply = string(got)
				return nil
			})
		})
	})
	if !trio.IsCancellation(err) {
		t.Errorf("trio.Run: got %v, want the signal's cancellation", err)
	}
	if reply != "working\ndone\n" {
		t.Errorf("the request in flight: got %q, want \"working\\ndone\\n\"", reply)
	}
	for _, want := range []string{"interrupted", "every request answered"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output: got %q, want it to contain %q", out.String(), want)
		}
	}
}
