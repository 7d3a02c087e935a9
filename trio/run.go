package trio

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/trioasyncio/trioasyncio/internal/sigclaim"
)

// Run is the top of a trio program: it runs main, as a [Task], with a root
// nursery's ctx and returns main's error once every goroutine started
// under it has returned. The ctx is cancelled when the process receives
// SIGINT or SIGTERM; after the first signal the default handling is
// restored, so a second Ctrl-C kills a program that does not wind down.
// A signal for which an asyncio loop has a handler (Loop.AddSignalHandler)
// goes to that handler only: it does not cancel. Run stops its signal
// handling before it returns.
//
//	func main() {
//		if err := trio.Run(run); err != nil {
//			log.Fatal(err)
//		}
//	}
//
// A program interrupted by a signal always learns it, as Trio raises
// KeyboardInterrupt: Run then returns an error matching [ErrCancelled] (a
// *[CancelledError] whose Reason names the signal), even if main swallowed
// the cancellation and returned nil. If main returned another error, Run
// returns both, joined.
//
// Run panics if main is nil.
func Run(main func(ctx context.Context) error) error {
	if main == nil {
		panic("trio: Run with a nil function")
	}
	return runWithSignals(main, os.Interrupt, syscall.SIGTERM)
}

func runWithSignals(main func(ctx context.Context) error, sigs ...os.Signal) error {
	var mainErr error
	var root CancelScope
	var interrupted *CancelledError // set by the signal watcher, a child of the nursery
	_ = root.Run(context.Background(), func(ctx context.Context) error {
		mainErr = OpenNursery(ctx, func(ctx context.Context, n *Nursery) error {
			ch := make(chan os.Signal, 1)
			signal.Notify(ch, sigs...)
			stopped := make(chan struct{})
			n.StartSoon(func(context.Context) error {
				defer signal.Stop(ch)
				for {
					select {
					case s := <-ch:
						if sigclaim.Claimed(s) {
							continue // an asyncio loop's signal handler has it
						}
						interrupted = &CancelledError{Scope: &root, Reason: "interrupted by signal " + s.String()}
						root.cancelWith(interrupted)
					case <-stopped:
					}
					return nil
				}
			})
			defer close(stopped)
			tc := newTask(ctx) // main is a task of its own
			defer tc.task.exit()
			return main(tc)
		})
		return mainErr
	})
	if interrupted == nil {
		return mainErr
	}
	var ce *CancelledError
	switch {
	case mainErr == nil:
		return interrupted
	case errors.As(mainErr, &ce) && ce == interrupted:
		return mainErr
	}
	return errors.Join(interrupted, mainErr)
}
