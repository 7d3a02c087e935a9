package trio_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/trioasyncio/trioasyncio/trio"
)

// lookalike claims to match context.Canceled through its own Is method,
// as asyncio's CancelledError does.
type lookalike struct{}

func (lookalike) Error() string        { return "a cancellation of another kind" }
func (lookalike) Is(target error) bool { return target == context.Canceled }

// IsCancellation counts trio's cancellations and the context errors
// themselves, not errors that only claim to match them; a cancelled scope
// does not absorb such an error.
func TestIsCancellation_lookalikes(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{context.Canceled, true},
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), true},
		{errors.Join(errors.New("x"), context.Canceled), true},
		{lookalike{}, false},
		{fmt.Errorf("wrapped: %w", lookalike{}), false},
		{errors.New("plain"), false},
	} {
		if got := trio.IsCancellation(c.err); got != c.want {
			t.Errorf("IsCancellation(%v): got %v, want %v", c.err, got, c.want)
		}
	}
	var s trio.CancelScope
	s.Cancel()
	err := s.Run(context.Background(), func(ctx context.Context) error { return lookalike{} })
	if _, ok := err.(lookalike); !ok || s.CancelledCaught() {
		t.Errorf("a cancelled scope returned %v (caught %v); want the lookalike, not absorbed", err, s.CancelledCaught())
	}
}
