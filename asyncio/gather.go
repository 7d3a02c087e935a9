package asyncio

import (
	"context"
	"fmt"
)

// Gather returns a future that aggregates the results of aws, in the order
// of aws (asyncio.gather). Await it for the results:
//
//	results, err := asyncio.Await(ctx, asyncio.Gather(ctx, t1, t2, t3))
//
// The first of aws to fail (or to be cancelled) makes the gathering
// future fail at once with that error (a *CancelledError for a cancelled
// child: the gathering future is then failed, not cancelled, so that one
// cancelled child does not cancel its siblings); the other children go on
// running, and their errors count as retrieved. To collect every outcome
// instead, use GatherResults (return_exceptions=True).
//
// Cancelling the gathering future (GatheringFuture.Cancel, or Task.Cancel
// of the task awaiting it) cancels every child not done; once they are all
// done, the gathering future fails with a *CancelledError, and the task
// awaiting it ends cancelled.
//
// Python's gather also takes coroutines and wraps them in tasks; in Go
// make the tasks with CreateTask. aws is any slice of one kind of
// awaitable, so Gather(ctx, tasks...) works for tasks []*Task[T]; to mix
// futures and tasks of one result type, name the kind:
// Gather[T, AwaitableOf[T]](ctx, fut, task). To gather results of
// different types, wrap each with AsAny. An awaitable given twice is waited for once, and
// its result appears at each of its positions.
//
// Loop-confined: call it from a callback or task of the loop of aws, and
// use the gathering future there. It does not block. Cost: the gathering
// future, a done callback per distinct awaitable, and the result slice. ctx gives the loop
// only when aws is empty (the result is then an empty slice, already
// set); it panics if aws is empty and ctx carries no loop, if aws belong
// to different loops, or if one of aws is nil.
func Gather[T any, A AwaitableOf[T]](ctx context.Context, aws ...A) *GatheringFuture[T] {
	return gather(ctx, aws, false, func(a A) (T, error) { return a.Result() })
}

// GatherResults is Gather with return_exceptions=True: the gathering
// future waits for every child and its result holds each child's Outcome
// (its value, or its error; a *CancelledError for a cancelled child), in
// the order of aws. It fails only if it was cancelled itself. Same flavor
// and panics as Gather.
func GatherResults[T any, A AwaitableOf[T]](ctx context.Context, aws ...A) *GatheringFuture[Outcome[T]] {
	return gather(ctx, aws, true, func(a A) (Outcome[T], error) {
		v, err := a.Result()
		return Outcome[T]{Value: v, Err: err}, nil
	})
}

// Outcome is the outcome of one awaitable gathered by GatherResults: its
// value, or its error.
type Outcome[T any] struct {
	Value T
	Err   error
}

// AsAny adapts a to the result type any, so that awaitables of different
// result types can be gathered together:
//
//	asyncio.Gather(ctx, asyncio.AsAny(intTask), asyncio.AsAny(stringTask))
//
// The adapter is a view: it shares a's state, and Cancel, AddDoneCallback
// and the rest act on a. It panics if a is nil.
func AsAny[T any](a AwaitableOf[T]) AwaitableOf[any] {
	if a == nil {
		panic("asyncio: AsAny(nil)")
	}
	return anyOf[T]{a}
}

type anyOf[T any] struct{ AwaitableOf[T] }

func (a anyOf[T]) Result() (any, error) {
	v, err := a.AwaitableOf.Result()
	if err != nil {
		return nil, err
	}
	return v, nil
}

// A GatheringFuture is the future Gather and GatherResults return: a
// future of the results, which is cancelled by cancelling its children
// (CPython's _GatheringFuture). It is an AwaitableOf[[]E]: Await it, or
// add done callbacks. It has no SetResult or SetException: its children
// decide. Loop-confined, like Future.
type GatheringFuture[E any] struct {
	fut             Future[[]E]
	children        []Awaitable // each child once
	cancelRequested bool
	cancelMsg       string
}

// gather is Gather and GatherResults: get turns a done child into its
// element of the result, or into the error that fails the gathering
// future (never, when returnExceptions).
func gather[A Awaitable, E any](ctx context.Context, aws []A, returnExceptions bool, get func(A) (E, error)) *GatheringFuture[E] {
	var loop *Loop
	if len(aws) > 0 {
		loop = checkAwaitable(aws[0], "Gather").Loop()
	} else if loop = loopOf(ctx); loop == nil {
		panic(ErrNoRunningLoop)
	}
	g := &GatheringFuture[E]{}
	g.fut.core.loop = loop
	g.fut.core.check("Gather")
	if loop.debug.Load() {
		g.fut.core.extra().dbg = captureSource(2)
	}
	if len(aws) == 0 {
		g.fut.SetResult([]E{})
		return g
	}

	// Each distinct child once, and for each position its child's index.
	index := make(map[*futureCore]int, len(aws))
	pos := make([]int, len(aws))
	var unique []A
	for i, a := range aws {
		fc := checkAwaitable(a, "Gather").base()
		if fc.loop != loop {
			panic("asyncio: Gather of futures attached to different loops")
		}
		j, seen := index[fc]
		if !seen {
			j = len(unique)
			index[fc] = j
			unique = append(unique, a)
			g.children = append(g.children, a)
		}
		pos[i] = j
	}

	nfinished := 0
	onDone := func(child A) {
		nfinished++
		if g.fut.Done() {
			if !child.Cancelled() {
				child.Exception() // mark it retrieved
			}
			return
		}
		if !returnExceptions {
			if err := child.Exception(); err != nil {
				g.fut.SetException(err) // the *CancelledError of a cancelled child
				return
			}
		}
		if nfinished < len(unique) {
			return
		}
		if g.cancelRequested {
			g.fut.SetException(&CancelledError{Msg: g.cancelMsg})
			return
		}
		results := make([]E, len(aws))
		for i, j := range pos {
			v, err := get(unique[j])
			if err != nil {
				// Only a child that failed since its callback was
				// scheduled gets here; report it as CPython would.
				g.fut.SetException(err)
				return
			}
			results[i] = v
		}
		g.fut.SetResult(results)
	}
	var done []A
	for _, a := range unique {
		if a.Done() {
			done = append(done, a)
		} else {
			a.AddDoneCallback(func(context.Context) { onDone(a) })
		}
	}
	for _, a := range done {
		onDone(a)
	}
	return g
}

// Cancel cancels every child that is not done, and reports whether any
// was; the gathering future then fails with a *CancelledError (whose Msg
// is the message, if one is given) once all children are done. If the
// gathering future is already done it reports false and cancels nothing.
// Loop-confined.
func (g *GatheringFuture[E]) Cancel(message ...string) bool {
	g.fut.core.check("GatheringFuture.Cancel")
	msg := cancelMessage(message, "GatheringFuture.Cancel")
	if g.fut.Done() {
		return false
	}
	ret := false
	for _, c := range g.children {
		if c.Cancel(msg) {
			ret = true
		}
	}
	if ret {
		g.cancelRequested = true
		g.cancelMsg = msg
	}
	return ret
}

func (g *GatheringFuture[E]) base() *futureCore { return &g.fut.core }

// Result returns the results, as Future.Result does.
func (g *GatheringFuture[E]) Result() ([]E, error) { return g.fut.Result() }

// Exception returns the error, as Future.Exception does.
func (g *GatheringFuture[E]) Exception() error { return g.fut.Exception() }

// Done reports whether the gathering future has its results or an error.
func (g *GatheringFuture[E]) Done() bool { return g.fut.Done() }

// Cancelled reports false: a gathering future fails (with a
// *CancelledError) rather than being cancelled, as CPython's does.
func (g *GatheringFuture[E]) Cancelled() bool { return g.fut.Cancelled() }

// AddDoneCallback schedules fn to run once the gathering future is done,
// as Future.AddDoneCallback does.
func (g *GatheringFuture[E]) AddDoneCallback(fn func(ctx context.Context), opts ...CallOption) *Handle {
	return g.fut.core.addDoneCallback(fn, opts, "GatheringFuture.AddDoneCallback")
}

// RemoveDoneCallback removes a callback added by AddDoneCallback, as
// Future.RemoveDoneCallback does.
func (g *GatheringFuture[E]) RemoveDoneCallback(h *Handle) int {
	return g.fut.core.removeDoneCallback(h)
}

// Loop returns the loop of the gathering future and its children.
func (g *GatheringFuture[E]) Loop() *Loop { return g.fut.core.loop }

// String describes the gathering future for logs.
func (g *GatheringFuture[E]) String() string {
	return g.fut.core.describe("GatheringFuture", func() string { return fmt.Sprintf("%v", g.fut.result) })
}
