package trio_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trioasyncio/trioasyncio/trio"
)

type ruKey struct{}

// TestRunUnder: fn sees values' values and parent's cancellation, never
// values' cancellation or deadline.
func TestRunUnder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// values is cancelled and has a deadline: neither reaches fn.
		vctx, vcancel := context.WithTimeout(context.WithValue(context.Background(), ruKey{}, "v"), time.Second)
		vcancel()
		var parent trio.CancelScope
		err := parent.Run(context.Background(), func(pctx context.Context) error {
			var s trio.CancelScope
			return s.RunUnder(pctx, vctx, func(ctx context.Context) error {
				if got := ctx.Value(ruKey{}); got != "v" {
					t.Errorf("value: got %v, want v", got)
				}
				if err := ctx.Err(); err != nil {
					t.Errorf("values' cancellation reached fn: %v", err)
				}
				if _, ok := ctx.Deadline(); ok {
					t.Errorf("values' deadline reached fn")
				}
				// The parent's cancellation does reach fn, and the parent absorbs it.
				time.AfterFunc(time.Second, parent.Cancel)
				return trio.SleepForever(ctx)
			})
		})
		if err != nil || !parent.CancelledCaught() {
			t.Fatalf("got %v (caught %v), want the parent's cancellation absorbed by the parent", err, parent.CancelledCaught())
		}
	})
}

// TestRunUnder_ownCancel: the scope's own cancellation is absorbed by it,
// as with Run.
func TestRunUnder_ownCancel(t *testing.T) {
	var s trio.CancelScope
	s.Cancel()
	err := s.RunUnder(context.Background(), context.Background(), trio.Checkpoint)
	if err != nil || !s.CancelledCaught() {
		t.Fatalf("got %v (caught %v), want nil, caught", err, s.CancelledCaught())
	}
}

func TestRunUnder_nil(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("RunUnder with a nil context did not panic")
		}
	}()
	var s trio.CancelScope
	var nilCtx context.Context
	_ = s.RunUnder(nilCtx, context.Background(), func(context.Context) error { return errors.New("ran") })
}
