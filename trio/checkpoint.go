package trio

import (
	"context"
	"runtime"
	"time"
)

// Checkpoint returns ctx's cancellation if ctx is done, and otherwise yields
// the processor to other goroutines and returns nil. Long computations that
// should stay cancellable call it now and then, as Trio code awaits
// trio.lowlevel.checkpoint().
func Checkpoint(ctx context.Context) error {
	if err := cancelError(ctx); err != nil {
		return err
	}
	runtime.Gosched()
	return nil
}

// CheckpointIfCancelled returns ctx's cancellation if ctx is done, and
// otherwise returns nil at once, without yielding (Trio's
// checkpoint_if_cancelled): the cheap check for a hot loop that should stay
// cancellable but not give way to other goroutines. The converse, Trio's
// cancel_shielded_checkpoint (yield, ignoring cancellation), is
// runtime.Gosched().
func CheckpointIfCancelled(ctx context.Context) error {
	return cancelError(ctx)
}

// Sleep pauses for d, or until ctx is cancelled, whichever comes first, and
// returns the cancellation in the second case. Sleep(ctx, 0) is a
// Checkpoint. It follows the fake clock inside a testing/synctest bubble.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return Checkpoint(ctx)
	}
	if err := cancelError(ctx); err != nil {
		return err
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return cancelError(ctx)
	}
}

// SleepUntil is Sleep until the time t.
func SleepUntil(ctx context.Context, t time.Time) error {
	return Sleep(ctx, time.Until(t))
}

// SleepForever blocks until ctx is cancelled and returns the cancellation.
func SleepForever(ctx context.Context) error {
	<-ctx.Done()
	return cancelError(ctx)
}
