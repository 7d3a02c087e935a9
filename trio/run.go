package trio

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// Run is the top of a trio program: it runs main with a root nursery's ctx
// and returns main's error once every goroutine started under it has
// returned. The ctx is cancelled when the process receives SIGINT or
// SIGTERM; after the first signal the default handling is restored, so a
// second Ctrl-C kills a program that does not wind down.
//
//	func main() {
//		if err := trio.Run(run); err != nil {
//			log.Fatal(err)
//		}
//	}
//
// A cancellation caused by a signal is returned (not absorbed), so the
// program can tell it was interrupted: errors.Is(err, trio.ErrCancelled).
func Run(main func(ctx context.Context) error) error {
	if main == nil {
		panic("trio: Run with a nil function")
	}
	return runWithSignals(main, os.Interrupt, syscall.SIGTERM)
}

func runWithSignals(main func(ctx context.Context) error, sigs ...os.Signal) error {
	var mainErr error
	var root CancelScope
	_ = root.Run(context.Background(), func(ctx context.Context) error {
		mainErr = OpenNursery(ctx, func(ctx context.Context, n *Nursery) error {
			ch := make(chan os.Signal, 1)
			signal.Notify(ch, sigs...)
			stopped := make(chan struct{})
			n.StartSoon(func(context.Context) error {
				defer signal.Stop(ch)
				select {
				case s := <-ch:
					root.cancelWith(&CancelledError{Scope: &root, Reason: "received signal " + s.String()})
				case <-stopped:
				}
				return nil
			})
			defer close(stopped)
			return main(ctx)
		})
		return mainErr
	})
	return mainErr
}
