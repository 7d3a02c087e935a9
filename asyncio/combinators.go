package asyncio

import (
	"errors"
	"fmt"
)

// Helpers shared by the functions over several awaitables (gather.go,
// wait.go, waitfor.go, ascompleted.go, taskgroups.go…).

// checkAwaitable panics on a nil awaitable; it returns a.
func checkAwaitable[A Awaitable](a A, fn string) A {
	if Awaitable(a) == nil || a.base() == nil {
		panic("asyncio: " + fn + " with a nil awaitable")
	}
	return a
}

// distinct returns aws without repetitions, in order, after checking that
// each belongs to the loop of the running task c.
func distinct[A Awaitable](c *taskCore, aws []A, fn string) ([]A, error) {
	seen := make(map[*futureCore]bool, len(aws))
	out := make([]A, 0, len(aws))
	for _, a := range aws {
		fc := checkAwaitable(a, fn).base()
		if fc.loop != c.loop {
			return nil, fmt.Errorf("%w: %s got %v", ErrForeignFuture, fn, a)
		}
		if !seen[fc] {
			seen[fc] = true
			out = append(out, a)
		}
	}
	return out, nil
}

// removeCallback unschedules a done callback of f, whether it is still
// registered or already queued on the loop.
func removeCallback(f Awaitable, h *Handle) {
	f.RemoveDoneCallback(h)
	h.Cancel()
}

// isCancellation reports whether err is an asyncio cancellation.
func isCancellation(err error) bool { return err != nil && errors.Is(err, ErrCancelled) }
