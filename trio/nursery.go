package trio

import (
	"context"
	"errors"
	"sync"
)

// A Nursery supervises goroutines: OpenNursery does not return until every
// child started in it has returned, so no goroutine outlives the block that
// started it (Trio's structured concurrency).
//
// The first child error (or the body's) cancels the nursery's scope, so the
// siblings see their ctx done and wind down; OpenNursery then returns every
// error that is not the nursery's own cancellation. A child panic cancels
// the siblings, waits for them, and re-panics in the goroutine that called
// OpenNursery with a *[PanicError] carrying the child's stack.
//
// A Nursery may be passed to other goroutines, which may start children in
// it while it is open: until its body has returned and its last child has
// ended. Starting a child in a closed nursery panics: it is a programming
// error, as in Trio, and a goroutine started outside any supervision would
// silently break the guarantee above.
type Nursery struct {
	scope CancelScope
	ctx   context.Context // the scope's ctx, which every child gets

	mu       sync.Mutex
	running  int
	bodyDone bool
	closed   bool
	idle     chan struct{} // closed by the last child once the body is done
	errs     []error
	panicked *PanicError
}

// OpenNursery runs body with a new nursery and waits for the nursery's
// children, as Trio's `async with open_nursery() as n:`. The ctx given to
// body and to every child is the nursery's scope: it is cancelled when ctx
// is, when a child or body fails, or by n.CancelScope().Cancel().
//
// It returns nil, the only error, or errors.Join of several, on which
// errors.Is and errors.As see every member; cancellations appear at most
// once, and not at all when they were the nursery's own.
//
// It panics if body is nil.
func OpenNursery(ctx context.Context, body func(ctx context.Context, n *Nursery) error) error {
	if body == nil {
		panic("trio: OpenNursery with a nil body")
	}
	n := &Nursery{}
	err := n.scope.Run(ctx, func(ctx context.Context) error {
		n.ctx = ctx
		n.mu.Lock()
		n.running++ // the body counts as a child until it returns
		n.mu.Unlock()
		n.run(func(ctx context.Context) error { return body(ctx, n) })
		n.mu.Lock()
		n.bodyDone = true
		var idle chan struct{}
		if n.running > 0 {
			n.idle = make(chan struct{})
			idle = n.idle
		} else {
			n.closed = true
		}
		n.mu.Unlock()
		if idle != nil {
			<-idle
		}
		return n.result()
	})
	if n.panicked != nil {
		panic(n.panicked)
	}
	return err
}

// CancelScope returns the nursery's scope: cancelling it cancels the body
// and every child; a deadline set on it bounds them all.
func (n *Nursery) CancelScope() *CancelScope { return &n.scope }

// StartSoon starts fn in a new goroutine supervised by the nursery (Trio's
// start_soon). fn's ctx is the nursery's. It panics if fn is nil, or if the
// nursery is closed or was not made by OpenNursery. Cost: one goroutine, no other allocation
// beyond fn's closure.
func (n *Nursery) StartSoon(fn func(ctx context.Context) error) {
	if fn == nil {
		panic("trio: StartSoon with a nil function")
	}
	n.add("StartSoon")
	go n.run(fn)
}

func (n *Nursery) add(what string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ctx == nil {
		panic("trio: Nursery used outside OpenNursery")
	}
	if n.closed {
		panic("trio: " + what + " on a closed nursery (its block has returned)")
	}
	n.running++
}

// run runs one child and reports how it ended.
func (n *Nursery) run(fn func(ctx context.Context) error) {
	var err error
	defer func() {
		var p *PanicError
		if v := recover(); v != nil {
			p = NewPanicError(v)
		}
		n.done(err, p)
	}()
	err = fn(n.ctx)
}

// done records a child's end; the first failure cancels the nursery.
func (n *Nursery) done(err error, p *PanicError) {
	n.mu.Lock()
	if p != nil && n.panicked == nil {
		n.panicked = p
	}
	if err != nil {
		n.errs = append(n.errs, err)
	}
	n.running--
	if n.running == 0 && n.bodyDone {
		n.closed = true
		close(n.idle)
	}
	n.mu.Unlock()
	if p != nil {
		n.scope.cancelWith(&CancelledError{Scope: &n.scope, Reason: "a child of the nursery panicked"})
	} else if err != nil {
		n.scope.cancelWith(&CancelledError{Scope: &n.scope, Reason: "a child of the nursery failed: " + err.Error()})
	}
}

// result returns the children's errors, with the cancellations collapsed
// into one; the scope then drops it if the cancellation was its own.
func (n *Nursery) result() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []error
	var cancelled error
	for _, e := range n.errs {
		if IsCancellation(e) {
			if cancelled == nil {
				cancelled = e
			}
			continue
		}
		out = append(out, e)
	}
	if cancelled != nil {
		out = append(out, cancelled)
	}
	return joinErrors(out)
}

// errNotStarted is returned by Start when the child returns nil without
// having called started.
var errNotStarted = errors.New("trio: child returned without calling started")

// Start starts fn in the nursery and waits until fn calls started(value),
// then returns value while fn runs on in the nursery (Trio's
// nursery.start). Until started, fn is cancelled by the caller's ctx (not
// the nursery's), and if fn returns or panics before calling started, its
// error, or its panic, goes to the caller and the nursery is unaffected
// (nil becomes an error saying started was never called). After started,
// fn belongs to the nursery alone, like any child: the caller's
// cancellation no longer reaches it, and the nursery's does.
//
// If the caller's ctx is already cancelled when fn calls started (even if
// fn has not noticed yet), started does nothing, as in Trio: fn stays the
// caller's, and Start waits for it to return, then returns its error (most
// likely the caller's cancellation, which the caller's scope absorbs), or
// value if it returned nil. So a cancellation that happened before
// started never leaks into the nursery.
//
// A pending Start keeps the nursery open, even after its body has
// returned, until fn has called started or returned. Calling started
// twice, or after fn has returned, panics. Start panics if n or fn is nil,
// or if the nursery is closed (as [Nursery.StartSoon] does).
//
// The typical use is a server that reports its address once it listens:
//
//	addr, err := trio.Start(ctx, n, serve)
func Start[T any](ctx context.Context, n *Nursery, fn func(ctx context.Context, started func(T)) error) (T, error) {
	if n == nil {
		panic("trio: Start with a nil nursery")
	}
	if fn == nil {
		panic("trio: Start with a nil function")
	}
	n.add("Start")
	const (
		pending  = iota // started not called yet
		moved           // started moved fn into the nursery
		ignored         // started was called while the caller was cancelled
		returned        // fn returned before calling started
	)
	type early struct {
		err     error
		p       *PanicError
		ignored bool
		value   T
	}
	var (
		mu    sync.Mutex
		state = pending
		kept  T // the value given to an ignored started
		scope CancelScope
		value = make(chan T, 1)
		ended = make(chan early, 1)
	)
	started := func(v T) {
		mu.Lock()
		defer mu.Unlock()
		switch state {
		case moved, ignored:
			panic("trio: started called twice")
		case returned:
			panic("trio: started called after the child returned")
		}
		// From now on the nursery's cancellation reaches fn, not the
		// caller's, unless the caller's has reached it already.
		if !scope.moveTo(n.ctx) {
			state, kept = ignored, v
			return
		}
		state = moved
		value <- v
	}
	go func() {
		var err error
		defer func() {
			var p *PanicError
			if v := recover(); v != nil {
				p = NewPanicError(v)
			}
			mu.Lock()
			s, v := state, kept
			if s == pending {
				state = returned
			}
			mu.Unlock()
			if s == moved {
				n.done(err, p)
				return
			}
			n.done(nil, nil)
			ended <- early{err, p, s == ignored, v}
		}()
		err = scope.run(n.ctx, ctx, func(ctx context.Context) error { return fn(ctx, started) })
	}()
	select {
	case v := <-value:
		return v, nil
	case e := <-ended:
		if e.p != nil {
			panic(e.p)
		}
		if e.err == nil && e.ignored {
			return e.value, nil
		}
		if e.err == nil {
			e.err = errNotStarted
		}
		var zero T
		return zero, e.err
	}
}
