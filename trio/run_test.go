package trio_test

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/trioasyncio/trioasyncio/trio"
)

func TestRunReturnsMainsError(t *testing.T) {
	if err := trio.Run(func(ctx context.Context) error { return errBoom }); err != errBoom {
		t.Errorf("Run = %v, want boom", err)
	}
	if err := trio.Run(func(ctx context.Context) error { return nil }); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
}

// SIGINT cancels main's ctx, and the cancellation, naming the signal, is
// returned rather than absorbed.
func TestRunCancelledBySignal(t *testing.T) {
	err := trio.Run(func(ctx context.Context) error {
		if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		return trio.SleepForever(ctx)
	})
	if !errors.Is(err, trio.ErrCancelled) || !strings.Contains(err.Error(), "interrupt") {
		t.Errorf("Run = %v, want a cancellation naming the interrupt", err)
	}
}
