package asyncio

import (
	"context"
	"fmt"
	"time"
)

// ReturnWhen says when Wait returns (asyncio's return_when). It is a
// WaitOption.
type ReturnWhen int

const (
	// AllCompleted: when every awaitable is done (the default).
	AllCompleted ReturnWhen = iota
	// FirstCompleted: when any awaitable is done.
	FirstCompleted
	// FirstException: when any awaitable fails (with an error, not by
	// being cancelled), or else when all are done.
	FirstException
)

func (w ReturnWhen) String() string {
	switch w {
	case AllCompleted:
		return "ALL_COMPLETED"
	case FirstCompleted:
		return "FIRST_COMPLETED"
	case FirstException:
		return "FIRST_EXCEPTION"
	}
	return fmt.Sprintf("ReturnWhen(%d)", int(w))
}

// A WaitOption is an option of Wait: a ReturnWhen, or a WaitTimeout.
type WaitOption interface {
	applyWait(c *waitConfig)
}

type waitConfig struct {
	returnWhen ReturnWhen
	timeout    time.Duration
	hasTimeout bool
}

func (w ReturnWhen) applyWait(c *waitConfig) { c.returnWhen = w }

// A TimeoutOption bounds the time Wait and AsCompleted wait; see
// WaitTimeout.
type TimeoutOption struct {
	d time.Duration
}

// WaitTimeout bounds the time Wait and AsCompleted wait to d (asyncio's
// timeout=): d <= 0 means no time at all (one loop iteration). Without it
// they wait as long as it takes.
func WaitTimeout(d time.Duration) TimeoutOption { return TimeoutOption{d: d} }

func (o TimeoutOption) applyWait(c *waitConfig) { c.timeout, c.hasTimeout = o.d, true }

// Wait waits until aws are done, or FirstCompleted or FirstException says
// to stop earlier, or the WaitTimeout has passed (asyncio.wait). It
// returns aws split into the done and the pending, each in the order of
// aws (an awaitable given twice appears once). It neither cancels nor
// raises anything on timeout: what is not done is in pending.
//
//	done, pending, err := asyncio.Wait(ctx, tasks, asyncio.FirstCompleted, asyncio.WaitTimeout(time.Second))
//
// err is not about aws (look at each one's Result): it is a
// *CancelledError if the waiting task is cancelled meanwhile (aws are
// left alone), ErrAwaitOutsideTask if ctx is not the ctx of the running
// task, ErrForeignFuture if one of aws belongs to another loop. With
// FirstException, the error of a failed awaitable counts as retrieved, as
// in CPython.
//
// Call it only from a coroutine, with its ctx. It panics if aws is
// empty, holds a nil, or the ReturnWhen is not one of the three
// (asyncio's ValueError). Cost: a future, a done callback per awaitable,
// a timer with WaitTimeout, and the two result slices.
func Wait[A Awaitable](ctx context.Context, aws []A, opts ...WaitOption) (done, pending []A, err error) {
	var cfg waitConfig
	for _, o := range opts {
		o.applyWait(&cfg)
	}
	if len(aws) == 0 {
		panic("asyncio: Wait of an empty set of futures")
	}
	if cfg.returnWhen < AllCompleted || cfg.returnWhen > FirstException {
		panic(fmt.Sprintf("asyncio: Wait with an invalid ReturnWhen: %v", cfg.returnWhen))
	}
	c, err := runningTask(ctx, "Wait")
	if err != nil {
		return nil, nil, err
	}
	fs, err := distinct(c, aws, "Wait")
	if err != nil {
		return nil, nil, err
	}
	l := c.loop
	waiter := NewFuture[struct{}](l)
	release := func(context.Context) {
		if !waiter.Done() {
			waiter.SetResult(struct{}{})
		}
	}
	var th *TimerHandle
	if cfg.hasTimeout {
		th = l.CallLater(cfg.timeout, release)
	}
	counter := len(fs)
	handles := make([]*Handle, len(fs))
	for i, f := range fs {
		handles[i] = f.AddDoneCallback(func(ctx context.Context) {
			counter--
			if counter <= 0 || cfg.returnWhen == FirstCompleted ||
				cfg.returnWhen == FirstException && !f.Cancelled() && f.Exception() != nil {
				if th != nil {
					th.Cancel()
				}
				release(ctx)
			}
		})
	}
	defer func() {
		if th != nil {
			th.Cancel()
		}
		for i, f := range fs {
			removeCallback(f, handles[i])
		}
	}()
	if _, err := Await(ctx, waiter); err != nil {
		return nil, nil, err
	}
	for _, f := range fs {
		if f.Done() {
			done = append(done, f)
		} else {
			pending = append(pending, f)
		}
	}
	return done, pending, nil
}
