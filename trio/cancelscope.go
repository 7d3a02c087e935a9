package trio

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// A CancelScope delimits a region of code that can be cancelled as a unit:
// by Cancel, from any goroutine, before, during or after Run; by a deadline,
// which may be moved either way while the scope runs; and, unless the scope
// is shielded, by the cancellation of whatever encloses it.
//
// The zero value is ready to use and has no deadline. A scope can Run once.
// A CancelScope must not be copied after first use.
//
// Cancellation is level-triggered, as in Trio: once a scope is cancelled,
// its ctx stays done, and every checkpoint inside fails again and again.
// A cancellation error that leaves fn is absorbed by the scope whose
// cancellation it is: Run returns nil for it and CancelledCaught reports
// true. The cancellation of an enclosing scope passes through an inner
// scope untouched, to be absorbed where it was caused. And when an inner
// scope and an enclosing one are both cancelled, the inner one lets its
// own cancellation pass too (its surroundings are cancelled), and the
// outermost cancelled scope absorbs it, as Trio's outermost cancelled
// scope catches every Cancelled: a cancellation never escapes the scopes
// it came from.
//
// The ctx given to fn is a Context whose Done, Err, Deadline and Cause
// reflect the scope. Contexts derived from it by the standard library cost
// no goroutine. Err reports [context.DeadlineExceeded] when the scope's own
// deadline cancelled it; contexts derived from it report [context.Canceled]
// and carry the *[CancelledError] as their context.Cause.
type CancelScope struct {
	mu               sync.Mutex
	deadline         time.Time
	shield           bool
	cancelCalled     bool
	cancelledCaught  bool
	ran              bool
	expiredBeforeRun bool // CancelCalled saw the deadline pass before Run
	// encl is the scope enclosing this one while it runs (the nearest
	// scope its parent ctx comes from), or nil; set when Run starts and
	// when Start moves the scope into a nursery.
	encl atomic.Pointer[CancelScope]
	c    *scopeCtx // set while Run is running
}

// Run runs fn under the scope and returns what fn returns, minus the
// scope's own cancellation (see the type's doc). Run panics if the scope has
// run before, or if fn is nil.
//
// If fn ends by runtime.Goexit (t.FailNow, t.Fatal), the scope is left
// cleanly, its deadline timer stopped, before the Goexit goes on.
func (s *CancelScope) Run(ctx context.Context, fn func(ctx context.Context) error) error {
	if fn == nil {
		panic("trio: CancelScope.Run with a nil function")
	}
	return s.run(ctx, ctx, fn)
}

// RunUnder is Run for code that must be cancelled by one context but see
// the values of another: fn's ctx inherits cancellation and deadline from
// parent (as Run's does from its ctx) and looks values up in values,
// whose own cancellation, deadline and scope are ignored. A bridge uses it
// to run a call in a long-lived nursery (parent) on behalf of a caller
// whose request-scoped values (values) the call should carry.
//
// It panics as Run does, and if parent or values is nil.
func (s *CancelScope) RunUnder(parent, values context.Context, fn func(ctx context.Context) error) error {
	if parent == nil || values == nil {
		panic("trio: CancelScope.RunUnder with a nil context")
	}
	if fn == nil {
		panic("trio: CancelScope.RunUnder with a nil function")
	}
	return s.run(values, parent, fn)
}

// run is Run with the values taken from values and cancellation inherited
// from parent; Start uses it to move a child from its caller to its nursery.
func (s *CancelScope) run(values, parent context.Context, fn func(ctx context.Context) error) error {
	c := s.enter(values, parent)
	defer s.exit(c)
	err := fn(c)
	return s.absorb(c, err)
}

// Cancel cancels the scope. It may be called any number of times, from any
// goroutine, before, during or after Run; calls after Run has returned have
// no effect but to set CancelCalled.
func (s *CancelScope) Cancel() {
	s.cancelWith(&CancelledError{Scope: s, Reason: "Cancel called"})
}

// CancelWithReason is Cancel with a reason for people, which the scope's
// *CancelledError (and so context.Cause of its ctx) carries: "shutting
// down", "cancelled by asyncio: bye". A later Cancel or deadline does not
// replace it.
func (s *CancelScope) CancelWithReason(reason string) {
	if reason == "" {
		reason = "Cancel called"
	}
	s.cancelWith(&CancelledError{Scope: s, Reason: reason})
}

func (s *CancelScope) cancelWith(cause *CancelledError) {
	s.mu.Lock()
	if s.cancelCalled {
		s.mu.Unlock()
		return
	}
	s.cancelCalled = true
	c := s.c
	var kids []*scopeCtx
	if c != nil {
		kids = c.cancelLocked(cause)
	}
	s.mu.Unlock()
	propagate(kids)
}

// CancelCalled reports whether Cancel was called or the deadline expired.
// As in Trio, a scope that has not run yet and whose deadline has passed
// reports true, and stays cancelled even if the deadline is then moved
// later.
func (s *CancelScope) CancelCalled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.cancelCalled && !s.ran && !s.deadline.IsZero() && !time.Now().Before(s.deadline) {
		s.cancelCalled, s.expiredBeforeRun = true, true
	}
	return s.cancelCalled
}

// CancelledCaught reports whether Run absorbed this scope's own
// cancellation: fn ended with an error caused by it.
func (s *CancelScope) CancelledCaught() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cancelledCaught
}

// Deadline returns the scope's own deadline; the zero Time means none.
func (s *CancelScope) Deadline() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deadline
}

// SetDeadline sets the scope's deadline; the zero Time removes it (unlike
// [MoveOnAt] and [FailAt], for which, as for context.WithDeadline, the zero
// Time is a deadline that has passed). While the
// scope runs, the deadline may move either way: moved later before it
// expired, it no longer cancels at the old time; moved to the past, it
// cancels at once. A scope already cancelled stays cancelled.
func (s *CancelScope) SetDeadline(t time.Time) {
	s.mu.Lock()
	s.deadline = t
	var kids []*scopeCtx
	if s.c != nil && !s.cancelCalled {
		kids = s.c.armLocked()
	}
	s.mu.Unlock()
	propagate(kids)
}

// Shield reports whether the scope is shielded.
func (s *CancelScope) Shield() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shield
}

// SetShield shields the scope from (or exposes it to) the cancellation of
// the scopes and contexts around it; its own Cancel and deadline still work.
// Unshielding a running scope whose surroundings are cancelled cancels it.
// Shielding cannot undo a cancellation that already reached the scope: a
// Go context, once done, stays done.
func (s *CancelScope) SetShield(shield bool) {
	s.mu.Lock()
	s.shield = shield
	var kids []*scopeCtx
	if c := s.c; c != nil && !shield && c.cause == nil && c.parent.Err() != nil {
		kids = c.cancelLocked(parentCause(c.parent))
	}
	s.mu.Unlock()
	propagate(kids)
}

// enter creates the scope's ctx and ties it to its parent.
func (s *CancelScope) enter(values, parent context.Context) *scopeCtx {
	inner, cancel := context.WithCancelCause(context.WithoutCancel(values))
	c := &scopeCtx{Context: inner, cancelInner: cancel, scope: s, parent: parent}
	encl := enclosingScope(parent)
	s.mu.Lock()
	if s.ran {
		s.mu.Unlock()
		panic("trio: CancelScope.Run called twice; a scope runs once")
	}
	s.encl.Store(encl)
	s.ran = true
	s.c = c
	if s.cancelCalled {
		if s.expiredBeforeRun {
			c.cancelLocked(&CancelledError{Scope: s, Reason: "deadline exceeded", Deadline: true})
		} else {
			c.cancelLocked(&CancelledError{Scope: s, Reason: "Cancel called before Run"})
		}
	} else {
		c.armLocked()
	}
	s.mu.Unlock()
	c.attach()
	return c
}

// enclosingScope returns the scope that parent's cancellation comes from,
// or nil.
func enclosingScope(parent context.Context) *CancelScope {
	if p, ok := parent.Value(scopeKey{}).(*scopeCtx); ok {
		return p.scope
	}
	return nil
}

// encloses reports whether x is s or runs inside s.
func (s *CancelScope) encloses(x *CancelScope) bool {
	for ; x != nil; x = x.encl.Load() {
		if x == s {
			return true
		}
	}
	return false
}

// exit unties the scope's ctx from its parent and stops its timer.
func (s *CancelScope) exit(c *scopeCtx) {
	c.detach()
	s.mu.Lock()
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	s.c = nil
	s.mu.Unlock()
}

// absorb removes the scope's own cancellation from err, Trio's rule: a
// cancelled scope catches a cancellation leaving it unless the cancellation
// of its surroundings is visible to it (then it belongs to them).
func (s *CancelScope) absorb(c *scopeCtx, err error) error {
	if err == nil || !IsCancellation(err) {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.cancelCalled || c.cause == nil || (!s.shield && c.parent.Err() != nil) {
		return err
	}
	rest, caught := s.strip(err, c.cause.Deadline)
	if caught {
		s.cancelledCaught = true
	}
	return rest
}

// strip drops from err the cancellations the scope owns, looking inside
// joined errors, as Trio splits Cancelled out of an exception group, and
// reports whether it dropped anything.
func (s *CancelScope) strip(err error, deadline bool) (rest error, caught bool) {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var left []error
		for _, e := range j.Unwrap() {
			e, c := s.strip(e, deadline)
			caught = caught || c
			if e != nil {
				left = append(left, e)
			}
		}
		return joinErrors(left), caught
	}
	if s.owns(err, deadline) {
		return nil, true
	}
	return err, false
}

// owns reports whether err is the scope's cancellation: a *CancelledError
// naming the scope or a scope inside it (which let it pass because the
// scope was cancelled too), or a bare context error of the kind of the
// scope's cause, as ctx-aware APIs return ctx.Err(). A
// context.DeadlineExceeded from a timeout the code set itself therefore
// survives a scope cancelled by Cancel (a nursery whose child failed),
// instead of being swallowed.
func (s *CancelScope) owns(err error, deadline bool) bool {
	var ce *CancelledError
	switch {
	case errors.As(err, &ce):
		return s.encloses(ce.Scope)
	case deadline:
		return wraps(err, context.DeadlineExceeded)
	default:
		return wraps(err, context.Canceled)
	}
}

// joinErrors returns nil, the only error, or errors.Join of several.
func joinErrors(errs []error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return errors.Join(errs...)
}

// MoveOnAfter runs fn under a new scope with a deadline d from now and
// reports whether the deadline cancelled it (Trio's move_on_after). The
// deadline's cancellation is absorbed; other errors are returned. A d of
// zero or less cancels fn's ctx at once (fn still runs, as the body of a
// Trio block does, and fails at its first checkpoint). It panics if fn is
// nil.
func MoveOnAfter(ctx context.Context, d time.Duration, fn func(ctx context.Context) error) (movedOn bool, err error) {
	if fn == nil {
		panic("trio: MoveOnAfter with a nil function")
	}
	return moveOnAt(ctx, time.Now().Add(d), fn)
}

// MoveOnAt is MoveOnAfter with an absolute deadline. As for
// context.WithDeadline, a deadline in the past, including the zero Time,
// has passed: fn's ctx is cancelled at once. (To run without a deadline,
// call fn under a [CancelScope], whose SetDeadline takes the zero Time to
// mean none.) It panics if fn is nil.
func MoveOnAt(ctx context.Context, deadline time.Time, fn func(ctx context.Context) error) (movedOn bool, err error) {
	if fn == nil {
		panic("trio: MoveOnAt with a nil function")
	}
	return moveOnAt(ctx, deadline, fn)
}

// passedDeadline stands for the zero Time given to MoveOnAt or FailAt: a
// deadline long past that a scope, for which zero means none, keeps.
var passedDeadline = time.Time{}.Add(1)

func moveOnAt(ctx context.Context, deadline time.Time, fn func(ctx context.Context) error) (movedOn bool, err error) {
	if deadline.IsZero() {
		deadline = passedDeadline
	}
	var s CancelScope
	s.deadline = deadline
	err = s.Run(ctx, fn)
	return s.CancelledCaught(), err
}

// FailAfter runs fn under a new scope with a deadline d from now, and
// returns [ErrTooSlow] if the deadline cancelled it (Trio's fail_after).
// It panics if fn is nil.
func FailAfter(ctx context.Context, d time.Duration, fn func(ctx context.Context) error) error {
	if fn == nil {
		panic("trio: FailAfter with a nil function")
	}
	return failAt(ctx, time.Now().Add(d), fn)
}

// FailAt is FailAfter with an absolute deadline; as with [MoveOnAt], a
// deadline in the past, including the zero Time, has passed. It panics if
// fn is nil.
func FailAt(ctx context.Context, deadline time.Time, fn func(ctx context.Context) error) error {
	if fn == nil {
		panic("trio: FailAt with a nil function")
	}
	return failAt(ctx, deadline, fn)
}

func failAt(ctx context.Context, deadline time.Time, fn func(ctx context.Context) error) error {
	movedOn, err := moveOnAt(ctx, deadline, fn)
	if movedOn && err == nil {
		return ErrTooSlow
	}
	return err
}

// scopeCtx is the Context a running CancelScope gives its fn. It wraps a
// standard cancelCtx (over context.WithoutCancel of the values' source) so
// that contexts derived from it by the standard library find that cancelCtx
// and cost no goroutine, and context.Cause works; Deadline and Err are
// computed from the scope, since a scope's deadline can move and its shield
// can change while it runs.
//
// Cancellation reaches a scopeCtx from its parent synchronously when the
// parent is another scope (kids), and through context.AfterFunc otherwise.
// Locks: a scope's mu guards its scopeCtx; a child's mu may be held while
// taking its parent's, never the other way round.
type scopeCtx struct {
	context.Context
	cancelInner context.CancelCauseFunc
	scope       *CancelScope

	// guarded by scope.mu
	parent context.Context
	cause  *CancelledError // set once, when the ctx is cancelled
	timer  *time.Timer
	kids   map[*scopeCtx]struct{}
	up     *scopeCtx   // the scope we are registered with, if any
	stop   func() bool // the context.AfterFunc registration, if any
}

type scopeKey struct{}

func (c *scopeCtx) Value(key any) any {
	if key == (scopeKey{}) {
		return c
	}
	return c.Context.Value(key)
}

// Deadline is the earlier of the scope's own deadline and, unless the scope
// is shielded, its parent's.
func (c *scopeCtx) Deadline() (time.Time, bool) {
	s := c.scope
	s.mu.Lock()
	d, shield, parent := s.deadline, s.shield, c.parent
	s.mu.Unlock()
	if !shield {
		if pd, ok := parent.Deadline(); ok && (d.IsZero() || pd.Before(d)) {
			d = pd
		}
	}
	return d, !d.IsZero()
}

func (c *scopeCtx) Err() error {
	if c.Context.Err() == nil {
		return nil
	}
	c.scope.mu.Lock()
	deadline := c.cause != nil && c.cause.Deadline
	c.scope.mu.Unlock()
	if deadline {
		return context.DeadlineExceeded
	}
	return context.Canceled
}

// AfterFunc lets context.AfterFunc register with the inner cancelCtx
// directly instead of starting a watcher goroutine.
func (c *scopeCtx) AfterFunc(f func()) func() bool {
	return context.AfterFunc(c.Context, f)
}

// cancelLocked cancels the ctx with cause and returns the scopes to which
// the caller must propagate after unlocking.
func (c *scopeCtx) cancelLocked(cause *CancelledError) []*scopeCtx {
	if c.cause != nil {
		return nil
	}
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	c.cause = cause
	c.cancelInner(cause)
	if len(c.kids) == 0 {
		return nil
	}
	kids := make([]*scopeCtx, 0, len(c.kids))
	for k := range c.kids {
		kids = append(kids, k)
	}
	return kids
}

func propagate(kids []*scopeCtx) {
	for _, k := range kids {
		k.onParentDone()
	}
}

// armLocked starts (or restarts) the deadline timer, or cancels at once if
// the deadline has passed.
func (c *scopeCtx) armLocked() []*scopeCtx {
	s := c.scope
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	if s.deadline.IsZero() || c.cause != nil {
		return nil
	}
	d := time.Until(s.deadline)
	if d <= 0 {
		s.cancelCalled = true
		return c.cancelLocked(&CancelledError{Scope: s, Reason: "deadline exceeded", Deadline: true})
	}
	c.timer = time.AfterFunc(d, c.onDeadline)
	return nil
}

func (c *scopeCtx) onDeadline() {
	s := c.scope
	s.mu.Lock()
	var kids []*scopeCtx
	// A stale timer (the deadline moved later or was removed) does nothing.
	if s.c == c && !s.cancelCalled && !s.deadline.IsZero() && !time.Now().Before(s.deadline) {
		kids = c.armLocked()
	}
	s.mu.Unlock()
	propagate(kids)
}

func (c *scopeCtx) onParentDone() {
	s := c.scope
	s.mu.Lock()
	var kids []*scopeCtx
	// The parent may have changed since this call was arranged (Start moves
	// a child); only the current parent's cancellation counts.
	if !s.shield && c.cause == nil && c.parent.Err() != nil {
		kids = c.cancelLocked(parentCause(c.parent))
	}
	s.mu.Unlock()
	propagate(kids)
}

// parentCause is the cancellation a done parent passes down.
func parentCause(parent context.Context) *CancelledError {
	cause := context.Cause(parent)
	if ce, ok := cause.(*CancelledError); ok {
		return ce
	}
	return foreignCancel(parent.Err(), cause)
}

// attach ties c to its parent's cancellation.
func (c *scopeCtx) attach() {
	s := c.scope
	s.mu.Lock()
	parent := c.parent
	s.mu.Unlock()
	if p, ok := parent.Value(scopeKey{}).(*scopeCtx); ok && p.Done() == parent.Done() {
		// The parent is a scope (perhaps behind value-only layers): register
		// with it, so its cancellation reaches us synchronously.
		p.scope.mu.Lock()
		if p.cause == nil {
			if p.kids == nil {
				p.kids = make(map[*scopeCtx]struct{})
			}
			p.kids[c] = struct{}{}
			p.scope.mu.Unlock()
			s.mu.Lock()
			c.up = p
			s.mu.Unlock()
			return
		}
		p.scope.mu.Unlock()
		c.onParentDone()
		return
	}
	if parent.Done() != nil {
		stop := context.AfterFunc(parent, c.onParentDone)
		s.mu.Lock()
		c.stop = stop
		s.mu.Unlock()
	}
}

// detach undoes attach.
func (c *scopeCtx) detach() {
	s := c.scope
	s.mu.Lock()
	up, stop := c.up, c.stop
	c.up, c.stop = nil, nil
	s.mu.Unlock()
	if up != nil {
		up.scope.mu.Lock()
		delete(up.kids, c)
		up.scope.mu.Unlock()
	}
	if stop != nil {
		stop()
	}
}

// moveTo makes parent the source of the running scope's cancellation (the
// values stay), unless the scope is cancelled already or its current
// parent is (then nothing changes): the check and the move are one step,
// so a cancellation of the old parent either reaches the scope before the
// move, and the move does not happen, or is ignored by it. It reports
// whether it moved the scope, and panics if the scope is not running.
func (s *CancelScope) moveTo(parent context.Context) bool {
	s.mu.Lock()
	c := s.c
	if c == nil {
		s.mu.Unlock()
		panic("trio: started called after the child returned")
	}
	if c.cause != nil || (!s.shield && c.parent.Err() != nil) {
		s.mu.Unlock()
		return false
	}
	c.parent = parent
	s.encl.Store(enclosingScope(parent))
	s.mu.Unlock()
	c.detach()
	c.attach()
	return true
}
