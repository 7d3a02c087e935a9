//go:build unix

package asyncio_test

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

// CPython's asyncio.Runner turns SIGINT into the cancellation of the main
// task, and raises KeyboardInterrupt once it has ended. Here trio.Run
// does it: on SIGINT it cancels its ctx, asyncio.Run under it cancels the
// main task (Task.Cancel), and trio.Run returns an error matching
// trio.ErrCancelled (the KeyboardInterrupt of a Go program). The signal
// is sent to this process from the loop, while trio.Run handles SIGINT.

// runUnderTrio runs main with asyncio.Run under trio.Run and returns
// trio.Run's error.
func runUnderTrio(main func(ctx context.Context) (int, error)) error {
	return trio.Run(func(ctx context.Context) error {
		_, err := asyncio.Run(ctx, main)
		return err
	})
}

// test_runners.py: test_interrupt_call_soon: a main task that never
// waits for a future (it only yields, Sleep(0)) is cancelled by SIGINT.
func TestRunners_test_interrupt_call_soon(t *testing.T) {
	sawCancel := false
	err := runUnderTrio(func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		loop.CallLater(100*time.Millisecond, func(context.Context) { raise(syscall.SIGINT) })
		for {
			if err := asyncio.Sleep(ctx, 0); err != nil {
				sawCancel = errors.Is(err, asyncio.ErrCancelled)
				return 0, err
			}
		}
	})
	if !sawCancel || !errors.Is(err, trio.ErrCancelled) {
		t.Fatalf("main saw its cancellation: %v; trio.Run = %v, want trio.ErrCancelled", sawCancel, err)
	}
}

// test_runners.py: test_interrupt_wait: SIGINT while the main task waits
// for a future cancels both.
func TestRunners_test_interrupt_wait(t *testing.T) {
	var fut *asyncio.Future[int]
	sawCancel := false
	err := runUnderTrio(func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		fut = asyncio.NewFuture[int](loop)
		loop.CallLater(100*time.Millisecond, func(context.Context) { raise(syscall.SIGINT) })
		_, err := asyncio.Await(ctx, fut)
		sawCancel = errors.Is(err, asyncio.ErrCancelled)
		return 0, err
	})
	if !sawCancel || !errors.Is(err, trio.ErrCancelled) {
		t.Fatalf("main saw its cancellation: %v; trio.Run = %v, want trio.ErrCancelled", sawCancel, err)
	}
	if !fut.Cancelled() {
		t.Error("the awaited future is not cancelled")
	}
}

// test_runners.py: test_interrupt_cancelled_task: SIGINT arriving once
// the main task is already cancelled (by another task): the main task
// ends cancelled, asyncio.Run returns the task's own CancelledError (not
// the interrupt, whichever came first), and trio.Run reports the signal.
func TestRunners_test_interrupt_cancelled_task(t *testing.T) {
	var runErr error
	interrupted := false
	err := trio.Run(func(ctx context.Context) error {
		_, runErr = asyncio.Run(ctx, func(ctx context.Context) (int, error) {
			main := asyncio.CurrentTask(ctx)
			asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
				if err := asyncio.Sleep(ctx, 0); err != nil {
					return 0, err
				}
				main.Cancel()
				raise(syscall.SIGINT)
				return 0, nil
			})
			err := asyncio.Sleep(ctx, 10*time.Second) // cancelled by the other task
			// As in Python, where the interrupt's handler cancels main
			// again before main resumes: main is still unwinding when the
			// interrupt reaches it (the boundary's Task.Cancel).
			for i := 0; main.Cancelling() < 2 && i < 10000; i++ {
				asyncio.Sleep(ctx, time.Millisecond)
			}
			return 0, err
		})
		// The signal did reach trio.Run.
		select {
		case <-ctx.Done():
			interrupted = true
		case <-time.After(30 * time.Second):
		}
		return nil
	})
	if !errors.Is(err, trio.ErrCancelled) || !interrupted {
		t.Fatalf("trio.Run = %v, interrupted %v; want trio.ErrCancelled, true", err, interrupted)
	}
	var ce *asyncio.CancelledError
	if !errors.As(runErr, &ce) || errors.Is(runErr, trio.ErrCancelled) {
		t.Fatalf("asyncio.Run = %v, want the main task's own CancelledError, not the interrupt", runErr)
	}
}
