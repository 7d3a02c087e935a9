package asyncio

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/trioasyncio/trioasyncio/trio"
)

// ErrTaskGroupClosed is returned by CreateTaskIn when the group takes no
// more tasks: it is shutting down (a task failed, or its body or its
// parent task was cancelled) or it has finished (CPython's RuntimeError
// "TaskGroup is shutting down" / "is finished").
var ErrTaskGroupClosed = errors.New("asyncio: task group takes no new tasks")

// A TaskGroup holds tasks that end together (asyncio.TaskGroup, with
// Python 3.11's semantics). OpenTaskGroup makes one for the duration of a
// body; CreateTaskIn adds tasks to it.
//
// Loop-confined. A TaskGroup belongs to the task that ran OpenTaskGroup
// (its parent task); its tasks may add tasks to it too.
type TaskGroup struct {
	ctx    context.Context // the body's: the ctx of the parent task
	loop   *Loop
	parent AnyTask
	tasks  list.List // of AnyTask: the tasks not done, in creation order
	errs   []error
	// baseErr is the first panic, of the body or of a task: CPython's
	// _base_error (KeyboardInterrupt, SystemExit), re-raised alone.
	baseErr     *trio.PanicError
	onCompleted *Future[struct{}]

	exiting               bool
	aborting              bool
	parentCancelRequested bool
}

// OpenTaskGroup runs body with a new task group and returns once every
// task of the group has ended (Go's version of `async with
// asyncio.TaskGroup() as tg:`).
//
// The first task to fail cancels the other tasks of the group and the
// parent task (body's pending Await returns a *CancelledError), unless
// that is already happening. The same happens when body returns an error
// or a cancellation. OpenTaskGroup then waits for the tasks, and returns:
//
//   - a *TaskGroupError holding the errors of the failed tasks, plus
//     body's if it is not a cancellation (errors.Is and errors.As see each
//     one; Python's ExceptionGroup);
//   - else body's cancellation, or a cancellation the parent task got
//     while waiting, if the parent task was cancelled from outside. The
//     group's own cancellation of its parent task is taken back with
//     Uncancel and does not propagate, exactly as CPython decides in
//     TaskGroup.__aexit__;
//   - else nil.
//
// Tasks that end cancelled are not errors. A panic in body or in a task
// (a task failed with a *trio.PanicError) is CPython's "base error": the
// other tasks are cancelled, and once all have ended OpenTaskGroup
// panics again with that *trio.PanicError, so the panic goes on up the
// parent task.
//
// Call it only from a coroutine, with its ctx (else
// ErrAwaitOutsideTask, and body does not run). It panics if body is nil.
// Cost: the group, and per task a list element and a done callback.
func OpenTaskGroup(ctx context.Context, body func(ctx context.Context, tg *TaskGroup) error) error {
	if body == nil {
		panic("asyncio: OpenTaskGroup with a nil body")
	}
	c, err := runningTask(ctx, "OpenTaskGroup")
	if err != nil {
		return err
	}
	tg := &TaskGroup{ctx: ctx, loop: c.loop, parent: c.owner}
	p, err := runBody(ctx, tg, body)
	return tg.exit(ctx, err, p)
}

// runBody runs body and recovers a panic in it, except the unwinding of a
// coroutine stopped at loop close, which goes through.
func runBody(ctx context.Context, tg *TaskGroup, body func(ctx context.Context, tg *TaskGroup) error) (p *trio.PanicError, err error) {
	defer func() {
		if v := recover(); v != nil {
			if v == errStopCoroutine {
				panic(v)
			}
			p = trio.NewPanicError(v)
		}
	}()
	return nil, body(ctx, tg)
}

// CreateTaskIn creates a task running coro in the group tg
// (TaskGroup.create_task; a function, since Go methods cannot have type
// parameters). The task gets the ctx of the group's body (its values, a
// task of its own, the loop), and is scheduled as CreateTask schedules.
//
// It returns ErrTaskGroupClosed, and does not run coro, once the group
// shuts down (a task failed, or the body ended with an error or was
// cancelled) or has finished. While OpenTaskGroup waits for the tasks
// after its body returned, tasks may still be added (by the group's
// tasks).
//
// Loop-confined; panics if tg or coro is nil.
func CreateTaskIn[T any](tg *TaskGroup, coro func(ctx context.Context) (T, error), opts ...TaskOption) (*Task[T], error) {
	if tg == nil {
		panic("asyncio: CreateTaskIn with a nil TaskGroup")
	}
	if tg.exiting && tg.tasks.Len() == 0 {
		return nil, fmt.Errorf("%w: %v is finished", ErrTaskGroupClosed, tg)
	}
	if tg.aborting {
		return nil, fmt.Errorf("%w: %v is shutting down", ErrTaskGroupClosed, tg)
	}
	t := CreateTask(tg.ctx, coro, opts...)
	if t.Done() && tg.loop.state > stateDraining {
		// Cancelled at birth: the loop is closing (and runs no more
		// callbacks).
		tg.onTaskDone(t, nil)
		return t, nil
	}
	// A task already done (an eager task that completed inside
	// CreateTask) also goes through its done callback, in a coming
	// iteration: handled at once, its failure would abort the group
	// before the task creating it is in the group (CPython gh-128550).
	e := tg.tasks.PushBack(AnyTask(t))
	t.AddDoneCallback(func(context.Context) { tg.onTaskDone(t, e) })
	return t, nil
}

// exit is CPython's TaskGroup.__aexit__: et is what body returned, p its
// panic.
func (tg *TaskGroup) exit(ctx context.Context, et error, p *trio.PanicError) error {
	tg.exiting = true
	if p != nil && tg.baseErr == nil {
		tg.baseErr = p
	}
	var propagateCancellation error
	if isCancellation(et) {
		propagateCancellation = et
	}
	if (et != nil || p != nil) && !tg.aborting {
		// body failed, or the parent task is being cancelled.
		tg.abort()
	}
	for tg.tasks.Len() > 0 {
		if tg.onCompleted == nil {
			tg.onCompleted = NewFuture[struct{}](tg.loop)
		}
		if _, err := Await(ctx, tg.onCompleted); err != nil && !tg.aborting {
			// The parent task is cancelled from outside while the
			// tasks run on: cancel them, and propagate.
			propagateCancellation = err
			tg.abort()
		}
		tg.onCompleted = nil
	}
	if tg.baseErr != nil {
		panic(tg.baseErr)
	}
	if tg.parentCancelRequested {
		// The group cancelled its parent: take that request back, once
		// every task has ended (CPython 3.12+). If none is left, the
		// parent was not cancelled from outside.
		if tg.parent.Uncancel() == 0 {
			propagateCancellation = nil
		}
	}
	// Errors have priority over the cancellation.
	if propagateCancellation != nil && len(tg.errs) == 0 {
		return propagateCancellation
	}
	if et != nil && !isCancellation(et) {
		tg.errs = append(tg.errs, et)
	}
	if len(tg.errs) > 0 {
		if tg.parent.Cancelling() > 0 {
			// The parent is being cancelled from outside: the errors
			// take the cancellation's place here, so cancel it again,
			// keeping the count, for its next Await to see.
			tg.parent.Uncancel()
			tg.parent.Cancel("")
		}
		err := &TaskGroupError{Errs: tg.errs}
		tg.errs = nil
		return err
	}
	return nil
}

// abort cancels the tasks not done.
func (tg *TaskGroup) abort() {
	tg.aborting = true
	for e := tg.tasks.Front(); e != nil; e = e.Next() {
		if t := e.Value.(AnyTask); !t.Done() {
			t.Cancel("")
		}
	}
}

// onTaskDone is the done callback of the group's tasks.
func (tg *TaskGroup) onTaskDone(t AnyTask, e *list.Element) {
	if e != nil {
		tg.tasks.Remove(e)
	}
	if tg.onCompleted != nil && tg.tasks.Len() == 0 && !tg.onCompleted.Done() {
		tg.onCompleted.SetResult(struct{}{})
	}
	if t.Cancelled() {
		return
	}
	exc := t.Exception()
	if exc == nil {
		return
	}
	tg.errs = append(tg.errs, exc)
	if pe, ok := exc.(*trio.PanicError); ok && tg.baseErr == nil {
		tg.baseErr = pe
	}
	if tg.parent.Done() {
		tg.loop.CallExceptionHandler(ExceptionContext{
			Message: fmt.Sprintf("Task %v has errored out but its parent task %v is already completed", t, tg.parent),
			Err:     exc,
			Task:    t,
		})
		return
	}
	if !tg.aborting && !tg.parentCancelRequested {
		// The parent task is not being cancelled: cancel it, to stop
		// whatever the body awaits, and take that back on exit.
		tg.abort()
		tg.parentCancelRequested = true
		tg.parent.Cancel("")
	}
}

// Len returns the number of the group's tasks not done.
func (tg *TaskGroup) Len() int { return tg.tasks.Len() }

// String describes the group for logs, e.g. "<TaskGroup tasks=2 cancelling>".
func (tg *TaskGroup) String() string {
	var b strings.Builder
	b.WriteString("<TaskGroup")
	if n := tg.tasks.Len(); n > 0 {
		fmt.Fprintf(&b, " tasks=%d", n)
	}
	if n := len(tg.errs); n > 0 {
		fmt.Fprintf(&b, " errors=%d", n)
	}
	if tg.aborting {
		b.WriteString(" cancelling")
	} else {
		b.WriteString(" entered")
	}
	b.WriteString(">")
	return b.String()
}

// TaskGroupError holds the errors of a task group: those of its failed
// tasks, in the order they failed, then its body's (Python's
// ExceptionGroup "unhandled errors in a TaskGroup"). errors.Is and
// errors.As look into each one (Unwrap() []error, as errors.Join).
type TaskGroupError struct {
	Errs []error
}

func (e *TaskGroupError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "asyncio: unhandled errors in a TaskGroup (%d sub-error", len(e.Errs))
	if len(e.Errs) != 1 {
		b.WriteString("s")
	}
	b.WriteString(")")
	for _, err := range e.Errs {
		b.WriteString("\n\t")
		b.WriteString(strings.ReplaceAll(err.Error(), "\n", "\n\t"))
	}
	return b.String()
}

// Unwrap returns the errors, for errors.Is and errors.As.
func (e *TaskGroupError) Unwrap() []error { return e.Errs }
