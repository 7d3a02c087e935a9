//go:build unix

package asyncio

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/trioasyncio/trioasyncio/internal/sigclaim"
	"github.com/trioasyncio/trioasyncio/trio"
)

// Signal handlers (asyncio's add_signal_handler, unix_events.py).
//
// How it works: each handler has its own os/signal channel and a
// goroutine relaying what arrives to the loop. Go's os/signal delivers a
// signal to every channel registered for it, so when several loops handle
// the same signal, every one of them runs its handler (asyncio lets only
// the main thread's loop handle signals; a Go program has no main thread,
// and broadcasting is what os/signal does for its other users too). A
// loop has at most one handler per signal: adding another replaces it.
// While any loop handles SIGINT or SIGTERM, trio.Run leaves them to the
// loops and does not cancel on them.
//
// Removing the handler (or closing the loop) stops the channel: if nothing
// else in the process asked for the signal, Go's default behaviour for it
// comes back (SIGINT and SIGTERM end the program again); a signal that was
// ignored (signal.Ignore, or ignored when the program started) when the
// first loop took it is ignored again when the last loop lets it go.

type signalHandler struct {
	loop    *Loop
	set     *signalSet
	sig     syscall.Signal
	cb      func(ctx context.Context)
	opts    []CallOption
	ch      chan os.Signal
	quit    chan struct{}
	done    chan struct{}
	removed bool // loop-confined
	runFn   func(context.Context)
}

// signalSet is a loop's handlers; the loop closes it with its I/O.
type signalSet struct {
	loop     *Loop
	io       *ioState
	handlers map[syscall.Signal]*signalHandler
}

// loopSignals maps a loop to its signalSet, from the first handler to the
// loop's close.
var loopSignals sync.Map

// sigState remembers, per signal, whether it was ignored when the
// first loop took it (goroutine-safe).
var sigState struct {
	sync.Mutex
	users   map[syscall.Signal]int
	ignored map[syscall.Signal]bool
}

func (l *Loop) signalSet() (*signalSet, error) {
	s, err := l.ioState()
	if err != nil {
		return nil, err
	}
	if ss, ok := loopSignals.Load(l); ok {
		return ss.(*signalSet), nil
	}
	ss := &signalSet{loop: l, io: s, handlers: map[syscall.Signal]*signalHandler{}}
	s.owned[ss] = struct{}{}
	loopSignals.Store(l, ss)
	return ss, nil
}

func checkSignal(sig syscall.Signal) error {
	if sig < 1 || sig >= 65 {
		return fmt.Errorf("%w: %d", ErrInvalidSignal, int(sig))
	}
	if sig == syscall.SIGKILL || sig == syscall.SIGSTOP {
		return fmt.Errorf("%w: %v", ErrUncatchableSignal, sig)
	}
	return nil
}

// AddSignalHandler makes cb run on the loop each time the process
// receives sig (asyncio's loop.add_signal_handler; bind arguments with a
// closure). cb gets the loop's ctx, or the one given WithContext; a panic
// in cb goes to the exception handler. Signals arriving in a burst may be
// coalesced into one call, as the kernel and os/signal coalesce them.
//
// A loop has one handler per signal: a second AddSignalHandler for sig
// replaces the first. Every loop that has a handler for sig runs its own
// (os/signal broadcasts), and while any loop handles SIGINT or SIGTERM,
// trio.Run does not cancel on them. RemoveSignalHandler, or the end of
// the OpenLoop block, gives the signal back: Go's default behaviour
// returns (SIGINT/SIGTERM end the program) unless other code still asks
// for the signal, and a signal that was ignored before is ignored again.
//
// Errors: ErrUncatchableSignal for SIGKILL and SIGSTOP, ErrInvalidSignal
// for a number out of range, ErrLoopClosed once the loop is closing,
// ErrNotSupported on Windows. Loop-confined. Cost: a goroutine and an
// os/signal channel per handler; each signal is one hop through the
// loop's inbox.
func (l *Loop) AddSignalHandler(sig syscall.Signal, cb func(ctx context.Context), opts ...CallOption) error {
	if cb == nil {
		panic("asyncio: Loop.AddSignalHandler with a nil callback")
	}
	l.confined("Loop.AddSignalHandler")
	if err := checkSignal(sig); err != nil {
		return err
	}
	ss, err := l.signalSet()
	if err != nil {
		return err
	}
	if old := ss.handlers[sig]; old != nil {
		old.cb, old.opts = cb, opts
		return nil
	}
	h := &signalHandler{loop: l, set: ss, sig: sig, cb: cb, opts: opts,
		ch: make(chan os.Signal, 1), quit: make(chan struct{}), done: make(chan struct{})}
	h.runFn = h.run
	sigState.Lock()
	if sigState.users == nil {
		sigState.users, sigState.ignored = map[syscall.Signal]int{}, map[syscall.Signal]bool{}
	}
	if sigState.users[sig] == 0 {
		sigState.ignored[sig] = signal.Ignored(sig)
	}
	sigState.users[sig]++
	signal.Notify(h.ch, sig)
	sigState.Unlock()
	sigclaim.Claim(sig)
	ss.handlers[sig] = h
	go h.relay()
	return nil
}

// RemoveSignalHandler removes the loop's handler for sig and reports
// whether there was one (asyncio's remove_signal_handler). Once it
// returns the handler never runs again, even for a signal that arrived
// before and was still on its way to the loop. Loop-confined.
func (l *Loop) RemoveSignalHandler(sig syscall.Signal) (bool, error) {
	l.confined("Loop.RemoveSignalHandler")
	if sig < 1 || sig >= 65 {
		return false, fmt.Errorf("%w: %d", ErrInvalidSignal, int(sig))
	}
	s := l.io
	if s == nil || s.closed {
		return false, nil
	}
	v, ok := loopSignals.Load(l)
	if !ok {
		return false, nil
	}
	ss := v.(*signalSet)
	h := ss.handlers[sig]
	if h == nil {
		return false, nil
	}
	h.stop()
	delete(ss.handlers, sig)
	return true, nil
}

// relay hands each signal to the loop (the handler's goroutine).
func (h *signalHandler) relay() {
	defer close(h.done)
	for {
		select {
		case <-h.ch:
			_ = h.loop.postFromGoroutine(h.runFn) // refused once the loop is closing
		case <-h.quit:
			return
		}
	}
}

func (h *signalHandler) run(context.Context) {
	if h.removed {
		return
	}
	ctx := h.loop.callCtx(h.opts)
	defer func() {
		if v := recover(); v != nil {
			h.loop.CallExceptionHandler(ExceptionContext{
				Message: fmt.Sprintf("Exception in signal handler for %v", h.sig),
				Err:     trio.NewPanicError(v)})
		}
	}()
	h.cb(ctx)
}

// stop unregisters the handler and waits for its goroutine.
func (h *signalHandler) stop() {
	if h.removed {
		return
	}
	h.removed = true
	signal.Stop(h.ch)
	close(h.quit)
	<-h.done
	sigclaim.Release(h.sig)
	sigState.Lock()
	if sigState.users[h.sig]--; sigState.users[h.sig] <= 0 {
		delete(sigState.users, h.sig)
		if sigState.ignored[h.sig] {
			signal.Ignore(h.sig)
		}
		delete(sigState.ignored, h.sig)
	}
	sigState.Unlock()
}

// closeNow removes every handler of the loop (the loop is closing).
func (ss *signalSet) closeNow() {
	for sig, h := range ss.handlers {
		h.stop()
		delete(ss.handlers, sig)
	}
	delete(ss.io.owned, ss)
	loopSignals.Delete(ss.loop)
}
