package trio

import (
	"context"
	"errors"
	"runtime"
	"sync"
)

// A Nursery supervises goroutines: OpenNursery does not return until every
// child started in it has returned, so no goroutine outlives the block that
// started it (Trio's structured concurrency).
//
// The first child error (or the body's) cancels the nursery's scope, so the
// siblings see their ctx done and wind down; OpenNursery then returns every
// error that is not the nursery's own cancellation.
//
// A child panic cancels the siblings, waits for them, and re-panics in the
// goroutine that called OpenNursery with a *[PanicError] carrying the
// child's stack. Nothing else is lost: if more than one child (or the body)
// panicked, or children also failed, the first panic is re-raised with the
// later panics and the errors in its Others field, where errors.Is and
// errors.As find them too.
//
// A child or body that ends by runtime.Goexit (as t.FailNow, t.Fatal and
// t.Skip do) ends like a failing child: the nursery is cancelled and waits
// for everything; then, instead of returning, OpenNursery calls
// runtime.Goexit in its own goroutine, so the Goexit goes on up as a panic
// would. So t.Fatal in a child stops the test once the nursery has wound
// down, as it would have in the test's goroutine. Trio has no equivalent.
// So that nothing is lost, a panic takes precedence over a Goexit (the
// PanicError's Others then include [ErrGoexit]); and when other children
// or the body failed with errors other than cancellations, OpenNursery
// returns them, joined with ErrGoexit, instead of calling runtime.Goexit.
// (When the body itself calls runtime.Goexit, there is no return to carry
// them: only a panic is passed on then.)
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
	panics   []*PanicError // in the order the children panicked
	goexit   bool          // a child or the body ended by runtime.Goexit
}

// ErrGoexit stands for a child's runtime.Goexit among the errors of a
// nursery, when the nursery cannot pass the Goexit on without losing other
// failures: beside them in what OpenNursery returns, or in the Others of
// the *PanicError it re-panics with (see [Nursery]).
var ErrGoexit = errors.New("trio: a child of the nursery called runtime.Goexit")

// OpenNursery runs body with a new nursery and waits for the nursery's
// children, as Trio's `async with open_nursery() as n:`. The ctx given to
// body and to every child is the nursery's scope: it is cancelled when ctx
// is, when a child or body fails, or by n.CancelScope().Cancel().
//
// It returns nil, the only error, or errors.Join of several, on which
// errors.Is and errors.As see every member; cancellations appear at most
// once, and not at all when they were the nursery's own. Panics and
// runtime.Goexit are passed on as the Nursery type's doc says.
//
// It panics if body is nil.
func OpenNursery(ctx context.Context, body func(ctx context.Context, n *Nursery) error) error {
	if body == nil {
		panic("trio: OpenNursery with a nil body")
	}
	n := &Nursery{}
	returned := false
	defer func() {
		if !returned { // the body called runtime.Goexit; the children are done
			n.repanic(n.failures())
		} // and the Goexit goes on
	}()
	err := n.scope.Run(ctx, func(ctx context.Context) (err error) {
		n.ctx = ctx
		n.mu.Lock()
		n.running++ // the body counts as a child until it returns
		n.mu.Unlock()
		// Deferred, so that it also runs when the body calls runtime.Goexit.
		defer func() {
			n.wait()
			err = n.result()
		}()
		n.run(ctx, nil, func(ctx context.Context) error { return body(ctx, n) })
		return nil
	})
	returned = true
	n.repanic(err)
	if n.goexit {
		if !hasFailure(err) {
			runtime.Goexit()
		}
		return joinErrors(append(members(err), ErrGoexit))
	}
	return err
}

// members returns the errors err joins, err alone, or none for nil.
func members(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// hasFailure reports whether err is or joins an error that is not a
// cancellation.
func hasFailure(err error) bool {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if hasFailure(e) {
				return true
			}
		}
		return false
	}
	return err != nil && !IsCancellation(err)
}

// wait marks the body done and waits for the last child.
func (n *Nursery) wait() {
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
}

// failures returns the errors of the children and body that are not
// cancellations, for a body that has called runtime.Goexit.
func (n *Nursery) failures() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []error
	for _, e := range n.errs {
		if !IsCancellation(e) {
			out = append(out, e)
		}
	}
	return joinErrors(out)
}

// repanic re-panics with the first child panic, if any, carrying the
// later ones and err's members (and a Goexit) in its Others.
func (n *Nursery) repanic(err error) {
	if len(n.panics) == 0 {
		return
	}
	p := n.panics[0]
	for _, q := range n.panics[1:] {
		p.Others = append(p.Others, q)
	}
	p.Others = append(p.Others, members(err)...)
	if n.goexit {
		p.Others = append(p.Others, ErrGoexit)
	}
	panic(p)
}

// CancelScope returns the nursery's scope: cancelling it cancels the body
// and every child; a deadline set on it bounds them all.
func (n *Nursery) CancelScope() *CancelScope { return &n.scope }

// StartSoon starts fn in a new goroutine supervised by the nursery (Trio's
// start_soon). fn is a new [Task]; its ctx carries that task and otherwise
// is the nursery's. It panics if fn is nil, or if the nursery is closed or
// was not made by OpenNursery. Cost: one goroutine and one small
// allocation (the task's ctx), beyond fn's closure.
func (n *Nursery) StartSoon(fn func(ctx context.Context) error) {
	if fn == nil {
		panic("trio: StartSoon with a nil function")
	}
	n.add("StartSoon")
	go n.runChild(fn)
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

// runChild runs fn as a new task, a child of the nursery.
func (n *Nursery) runChild(fn func(ctx context.Context) error) {
	tc := newTask(n.ctx)
	n.run(tc, &tc.task, fn)
}

// run runs one child (or the body, which is no task of its own: t is nil)
// and reports how it ended: returned, panicked, or called runtime.Goexit.
// The task's end comes first, so that the Locks it failed to release are
// broken before the nursery can close.
func (n *Nursery) run(ctx context.Context, t *Task, fn func(ctx context.Context) error) {
	var err error
	returned := false
	defer func() {
		if t != nil {
			t.exit()
		}
		if returned {
			n.done(err, nil, false)
		} else if v := recover(); v != nil {
			n.done(nil, NewPanicError(v), false)
		} else {
			n.done(nil, nil, true)
		}
	}()
	err = fn(ctx)
	returned = true
}

// done records a child's end; the first failure cancels the nursery.
func (n *Nursery) done(err error, p *PanicError, goexit bool) {
	n.mu.Lock()
	if p != nil {
		n.panics = append(n.panics, p)
	}
	if goexit {
		n.goexit = true
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
	switch {
	case p != nil:
		n.scope.cancelWith(&CancelledError{Scope: &n.scope, Reason: "a child of the nursery panicked"})
	case goexit:
		n.scope.cancelWith(&CancelledError{Scope: &n.scope, Reason: "a child of the nursery called runtime.Goexit"})
	case err != nil:
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
// fn is a new [Task] from the start, and stays the same task when it moves
// into the nursery.
//
// A runtime.Goexit in fn before started goes on in the caller's goroutine
// (Start does not return); after started, it is the nursery's (see the
// Nursery type's doc).
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
		goexit  bool
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
		fnReturned := false
		tc := newTask(n.ctx)
		defer func() {
			tc.task.exit()
			var p *PanicError
			goexit := false
			if !fnReturned {
				if v := recover(); v != nil {
					p = NewPanicError(v)
				} else {
					goexit = true
				}
			}
			mu.Lock()
			s, v := state, kept
			if s == pending {
				state = returned
			}
			mu.Unlock()
			if s == moved {
				n.done(err, p, goexit)
				return
			}
			n.done(nil, nil, false)
			ended <- early{err, p, goexit, s == ignored, v}
		}()
		err = scope.run(tc, ctx, func(ctx context.Context) error { return fn(ctx, started) })
		fnReturned = true
	}()
	select {
	case v := <-value:
		return v, nil
	case e := <-ended:
		if e.p != nil {
			panic(e.p)
		}
		if e.goexit {
			runtime.Goexit()
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
