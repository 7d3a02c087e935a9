package asyncio

import (
	"context"
	"fmt"
)

// AnyCoroutine is a coroutine of some result type, as a TaskFactory
// receives it from CreateTask. A factory cannot call it; it hands it to
// NewTask (or to another factory), which makes the task. Its unexported
// method keeps the set of implementations within this package.
type AnyCoroutine interface {
	newTask(ctx context.Context, opts []TaskOption) AnyTask
}

// coroutineOf is a coroutine function with its result type, as an
// AnyCoroutine.
type coroutineOf[T any] func(ctx context.Context) (T, error)

func (c coroutineOf[T]) newTask(ctx context.Context, opts []TaskOption) AnyTask {
	l := loopOf(ctx)
	if l == nil {
		panic(ErrNoRunningLoop)
	}
	return newTask(ctx, l, (func(context.Context) (T, error))(c), opts)
}

// A TaskFactory makes the tasks of a loop (the factory of asyncio's
// loop.set_task_factory). Once set with Loop.SetTaskFactory, every
// CreateTask on the loop (and so StartTask, RunAsyncio, task groups,
// RunCoroutineThreadsafe) calls it with its ctx, coroutine and options
// instead of making the task itself. The factory makes the task with
// NewTask, passing options of its own if it likes (WithEagerStart,
// WithName), and may do work around it: count, trace, give ctx values.
//
// It must return the task NewTask made for coro: CreateTask panics if it
// returns anything else. A panic in the factory goes up through
// CreateTask (asyncio: an exception raised by the factory). It runs on the
// loop, as CreateTask does.
type TaskFactory func(ctx context.Context, coro AnyCoroutine, opts ...TaskOption) AnyTask

// NewTask makes a task of coro on the loop of ctx without going through
// the loop's task factory: what a TaskFactory calls (asyncio's Task(coro,
// loop=loop, **kwargs)). Otherwise it is CreateTask, with its options,
// its panics and its loop confinement. It panics if coro is nil.
func NewTask(ctx context.Context, coro AnyCoroutine, opts ...TaskOption) AnyTask {
	if coro == nil {
		panic("asyncio: NewTask with a nil coroutine")
	}
	return coro.newTask(ctx, opts)
}

// SetTaskFactory sets the loop's task factory; nil restores the default
// (CreateTask makes the task itself). Goroutine-safe; it affects the
// tasks created after it returns.
func (l *Loop) SetTaskFactory(f TaskFactory) {
	if f == nil {
		l.taskFactory.Store(nil)
		return
	}
	l.taskFactory.Store(&f)
}

// GetTaskFactory returns the factory set by SetTaskFactory, nil for the
// default. Goroutine-safe.
func (l *Loop) GetTaskFactory() TaskFactory {
	if f := l.taskFactory.Load(); f != nil {
		return *f
	}
	return nil
}

// createByFactory is CreateTask through the loop's task factory.
func createByFactory[T any](ctx context.Context, f TaskFactory, coro func(ctx context.Context) (T, error), opts []TaskOption) *Task[T] {
	at := f(ctx, coroutineOf[T](coro), opts...)
	t, ok := at.(*Task[T])
	if !ok || t == nil {
		panic(fmt.Sprintf("asyncio: the task factory returned %T, not the %T that NewTask made for the coroutine", at, t))
	}
	return t
}

// WithEagerStart makes CreateTask run the task's first step at once,
// inside CreateTask, rather than schedule it (CPython 3.12's eager tasks;
// create_task(eager_start=True)). The coroutine runs until its first real
// suspension (an Await of a pending future, a Sleep) with CurrentTask
// returning the new task, and CreateTask returns then. A coroutine that
// ends without suspending never gets scheduled: CreateTask returns a task
// that is already done (with its result, its error or its cancellation),
// and nothing of it is left on the loop but its done callbacks.
//
// The caller's code after CreateTask therefore runs after the task's
// first step, not before: code that relies on the usual order (the task
// starts in a later iteration) must not use eager tasks. When the loop is
// not running its tasks (while asynciotest's caller holds it, or while
// OpenLoop tears it down), the task is scheduled as usual.
//
// WithEagerStart(false) asks for the usual start; of several of these
// options, the last wins. The cost is the step itself, run on the
// caller's stack: a task that completes eagerly saves its trip through
// the ready queue.
func WithEagerStart(eager bool) TaskOption {
	if eager {
		return TaskOption{eager: 1}
	}
	return TaskOption{eager: -1}
}

// EagerTaskFactory is a TaskFactory that starts every task eagerly
// (asyncio.eager_task_factory): it is NewTask with WithEagerStart(true)
// added to the options. Set it with loop.SetTaskFactory(asyncio.EagerTaskFactory).
func EagerTaskFactory(ctx context.Context, coro AnyCoroutine, opts ...TaskOption) AnyTask {
	if len(opts) == 0 {
		return NewTask(ctx, coro, eagerOpts...)
	}
	return NewTask(ctx, coro, append(opts[:len(opts):len(opts)], WithEagerStart(true))...)
}

var eagerOpts = []TaskOption{{eager: 1}}

// eagerStart reports whether opts ask for an eager start.
func eagerStart(opts []TaskOption) bool {
	eager := false
	for _, o := range opts {
		if o.eager != 0 {
			eager = o.eager > 0
		}
	}
	return eager
}

// eagerStep runs the first step of a new task on the caller's goroutine,
// inside CreateTask, with the task as the running task; the task that was
// running (if any) is running again afterwards.
func (l *Loop) eagerStep(c *taskCore) {
	if !c.beginStep() {
		return
	}
	prev := l.current
	debug := l.debug.Load()
	var prevGid int64
	if debug {
		prevGid = l.curGid.Load()
	}
	l.current = c
	if debug {
		l.noteRunning(c)
	}
	_, more := c.co.next()
	l.current = prev
	if debug {
		l.curGid.Store(prevGid)
	}
	if !more || c.co.ended {
		c.finish()
	}
}
