package trio

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/trioasyncio/trioasyncio/internal/sigclaim"
)

// Run is the top of a trio program: it runs main with a root nursery's ctx
// and returns main's error once every goroutine started under it has
// returned. The ctx is cancelled when the process receives SIGINT or
// SIGTERM; after the first signal the default handling is restored, so a
// second Ctrl-C kills a program that does not wind down. A signal for
// which an asyncio loop has a handler (Loop.AddSignalHandler) goes to that
// handler only: it does not cancel.
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
				for {
					select {
					case s := <-ch:
						if sigclaim.Claimed(s) {
							continue // an asyncio loop's signal handler has it
						}
						root.cancelWith(&CancelledError{Scope: &root, Reason: "received signal " + s.String()})
					case <-stopped:
					}
					return nil
				}
			})
			defer close(stopped)
			return main(ctx)
		})
		return mainErr
	})
	return mainErr
}
