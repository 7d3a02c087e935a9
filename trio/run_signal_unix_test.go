//go:build unix

package trio_test

import (
	"context"
	"errors"
	"os"
	ossignal "os/signal"
	"strings"
	"syscall"
	"testing"

	"github.com/trioasyncio/trioasyncio/trio"
)

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

// A program interrupted by a signal learns it from Run even when main
// swallowed the cancellation (Trio raises KeyboardInterrupt regardless);
// main's own error is kept beside it.
func TestRunInterruptedEvenIfMainSwallowsTheCancellation(t *testing.T) {
	// Should a SIGINT arrive when Run is not listening, this keeps it from
	// killing the test process; Stop restores the signal's state.
	safety := make(chan os.Signal, 4)
	ossignal.Notify(safety, syscall.SIGINT)
	defer ossignal.Stop(safety)

	for _, c := range []struct {
		name    string
		mainErr error
	}{{"main returns nil", nil}, {"main returns another error", errBoom}} {
		t.Run(c.name, func(t *testing.T) {
			err := trio.Run(func(ctx context.Context) error {
				if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
					t.Fatal(err)
				}
				<-ctx.Done() // swallowed
				return c.mainErr
			})
			var ce *trio.CancelledError
			if !errors.Is(err, trio.ErrCancelled) || !errors.As(err, &ce) || !strings.Contains(ce.Reason, "signal interrupt") {
				t.Errorf("Run = %v, want a cancellation saying a signal interrupted it", err)
			}
			if c.mainErr != nil && !errors.Is(err, c.mainErr) {
				t.Errorf("Run = %v, want main's error kept too", err)
			}
		})
	}
}
