package asyncio

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/trioasyncio/trioasyncio/asyncio/internal/turns"
	"github.com/trioasyncio/trioasyncio/trio"
)

// block is the OpenLoop block around a loop: the loop's nursery (where the
// loop goroutine and the RunTrio calls run), the body's scope, the trio
// calls in flight, the failures the default exception handler reported,
// and the Stop/WaitStopped rendezvous. nursery, nctx and hook are set
// before the loop starts and never change; mu guards the fields so
// marked; the atomics are read by the loop goroutine without the lock.
type block struct {
	nursery   *trio.Nursery
	nctx      context.Context  // the nursery's ctx
	bodyScope trio.CancelScope // the body's scope, cancelled by a failure
	hook      turns.Hook       // asynciotest's; nil for OpenLoop
	done      chan struct{}    // closed once the loop has closed

	trioCount atomic.Int32 // len(trioCalls)
	stopReq   atomic.Bool  // Stop was called; acted on at the end of the iteration
	held      atomic.Bool  // the hook holds the loop goroutine: its owner has the turn

	mu          sync.Mutex
	trioCalls   map[*trioCall]struct{} // guarded by mu: RunTrio calls not settled
	trioGids    map[int64]int          // guarded by mu: goroutines running RunTrio functions (debug mode)
	failures    []error                // guarded by mu
	stopCh      chan struct{}          // guarded by mu: closed by the next stop, for WaitStopped
	stopSeen    bool                   // guarded by mu: a stop no WaitStopped has seen yet
	stopWaiters int                    // guarded by mu: the WaitStopped calls waiting on stopCh
}

func init() {
	turns.OpenLoop = func(ctx context.Context, h turns.Hook, body func(ctx context.Context) error) error {
		return openLoop(ctx, h, func(ctx context.Context, _ *Loop) error { return body(ctx) })
	}
}

// openLoop is OpenLoop, with asynciotest's hook.
func openLoop(ctx context.Context, hook turns.Hook, body func(ctx context.Context, loop *Loop) error) error {
	l := newLoop(ctx)
	l.blk.hook = hook
	var bodyErr error
	var bodyPanic *trio.PanicError
	// The loop's nursery is shielded: the outer cancellation reaches only
	// body, and its trio calls are cancelled by the teardown.
	var shield trio.CancelScope
	shield.SetShield(true)
	shield.Run(ctx, func(sctx context.Context) error {
		return trio.OpenNursery(sctx, func(nctx context.Context, n *trio.Nursery) error {
			l.blk.nursery, l.blk.nctx = n, nctx
			n.StartSoon(func(context.Context) error {
				l.run()
				return nil
			})
			// Deferred, so that a body ending in runtime.Goexit (t.Fatal)
			// still tears the loop down; the nursery then waits for it.
			defer l.shutdown()
			bodyErr, bodyPanic = l.runBody(ctx, body)
			return nil
		})
	})
	if bodyPanic != nil {
		panic(bodyPanic)
	}
	l.blk.mu.Lock()
	errs := l.blk.failures
	l.blk.mu.Unlock()
	if bodyErr != nil {
		errs = append([]error{bodyErr}, errs...)
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

// runBody runs body under the body scope, which a loop failure cancels.
func (l *Loop) runBody(ctx context.Context, body func(ctx context.Context, loop *Loop) error) (err error, p *trio.PanicError) {
	defer func() {
		if v := recover(); v != nil {
			p = trio.NewPanicError(v)
		}
	}()
	err = l.blk.bodyScope.Run(ctx, func(bctx context.Context) error {
		return body(&loopCtx{Context: bctx, loop: l}, l)
	})
	return err, nil
}

// shutdown starts the teardown: it posts beginShutdown behind what is
// already posted, so that the callbacks body scheduled run first.
func (l *Loop) shutdown() {
	l.notify(turns.Closing, nil)
	l.in.post(&Handle{run: callback(l.beginShutdown), ctx: l.ctxI})
}

// beginShutdown cancels every task and every trio call of the loop.
func (l *Loop) beginShutdown(context.Context) {
	l.state = stateDraining
	for c := l.tasks.Front(); c != nil; c = l.tasks.Next(c) {
		l.reportAtShutdown(c)
		c.owner.Cancel("")
	}
	l.blk.mu.Lock()
	calls := make([]*trioCall, 0, len(l.blk.trioCalls))
	for c := range l.blk.trioCalls {
		calls = append(calls, c)
	}
	l.blk.mu.Unlock()
	for _, c := range calls {
		c.scope.Cancel()
	}
}

// idle reports whether nothing the block must wait for is left: no task
// and no trio call. The loop closes once its body has returned and it is
// idle.
func (l *Loop) idle() bool {
	return l.tasks.Len() == 0 && l.blk.trioCount.Load() == 0
}

// addTrioCall and removeTrioCall keep the set of RunTrio calls that the
// teardown cancels and waits for.
func (l *Loop) addTrioCall(c *trioCall) {
	l.blk.mu.Lock()
	if l.blk.trioCalls == nil {
		l.blk.trioCalls = make(map[*trioCall]struct{})
	}
	l.blk.trioCalls[c] = struct{}{}
	l.blk.trioCount.Add(1)
	l.blk.mu.Unlock()
}

func (l *Loop) removeTrioCall(c *trioCall) {
	l.blk.mu.Lock()
	if _, ok := l.blk.trioCalls[c]; ok {
		delete(l.blk.trioCalls, c)
		l.blk.trioCount.Add(-1)
	}
	l.blk.mu.Unlock()
}

// enterTrioCall and exitTrioCall keep, in debug mode, the goroutines
// that run RunTrio functions, for checkNotInTrioCall.
func (l *Loop) enterTrioCall() int64 {
	g := goid()
	l.blk.mu.Lock()
	if l.blk.trioGids == nil {
		l.blk.trioGids = make(map[int64]int)
	}
	l.blk.trioGids[g]++
	l.blk.mu.Unlock()
	return g
}

func (l *Loop) exitTrioCall(g int64) {
	l.blk.mu.Lock()
	if l.blk.trioGids[g]--; l.blk.trioGids[g] == 0 {
		delete(l.blk.trioGids, g)
	}
	l.blk.mu.Unlock()
}

// checkNotInTrioCall panics if the calling goroutine runs a RunTrio
// function (debug mode): see taskCtx.Done.
func (l *Loop) checkNotInTrioCall() {
	l.blk.mu.Lock()
	n := len(l.blk.trioGids)
	l.blk.mu.Unlock()
	if n == 0 {
		return
	}
	g := goid()
	l.blk.mu.Lock()
	in := l.blk.trioGids[g] > 0
	l.blk.mu.Unlock()
	if in {
		panic("asyncio: a RunTrio function waits with the ctx of the task that called RunTrio: " +
			"the call's cancel scope never cancels it; use the ctx RunTrio gives the function (debug-mode check)")
	}
}

// fail makes the OpenLoop block fail with err: the default exception
// handler's verdict.
func (l *Loop) fail(err error) {
	l.blk.mu.Lock()
	l.blk.failures = append(l.blk.failures, err)
	l.blk.mu.Unlock()
	l.notify(turns.Failed, err)
	l.blk.bodyScope.Cancel()
}

// notify tells asynciotest's hook, if any, of an event of the loop's
// life; it is the one place the hook is consulted. While the hook holds
// the loop goroutine (Started, Stopped), the loop is lent: its wait count
// is even, as when it waits for work, and the hook's owner may call
// loop-confined methods.
func (l *Loop) notify(ev turns.Event, err error) {
	h := l.blk.hook
	if h == nil {
		return
	}
	if ev == turns.Started || ev == turns.Stopped {
		l.wakes.Add(1)
		l.blk.held.Store(true)
		defer func() {
			l.blk.held.Store(false)
			l.wakes.Add(1)
		}()
	}
	h.Event(ev, err)
}

// stopped acts on Stop, at the end of an iteration.
func (l *Loop) stopped() {
	l.blk.stopReq.Store(false)
	l.blk.mu.Lock()
	if l.blk.stopCh != nil {
		close(l.blk.stopCh)
		l.blk.stopCh, l.blk.stopWaiters = nil, 0
	} else {
		l.blk.stopSeen = true
	}
	l.blk.mu.Unlock()
	l.notify(turns.Stopped, nil)
}

// markClosed tells the boundary's waiters that the loop has closed.
func (b *block) markClosed() { close(b.done) }
