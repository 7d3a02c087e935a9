package trio

import (
	"context"
	"sync"
	"sync/atomic"
)

// A Task is the identity of one task, in Trio's sense (trio.lowlevel.Task):
// each child a nursery starts (with [Nursery.StartSoon] or [Start]) is a
// new task, and so is [Run]'s main; an OpenNursery body belongs to the task
// that opened the nursery. The task travels in ctx: [CurrentTask] finds it
// in the ctx the child was given and in every ctx derived from it.
//
// Tasks are compared by identity; they have no other use than saying who
// is who. A [Lock] uses them to know its owner: see its doc.
//
// Go has no goroutine identity; a task is the nearest thing. A goroutine
// that a task starts with the go statement (or errgroup) and hands its ctx
// to shares the task's identity: a Lock it acquires is the task's, and
// breaks if the task ends before it is released.
type Task struct {
	// st is nil until the task first holds a Lock, and taskEnded once the
	// task has ended: a task costs one pointer until it uses a Lock.
	st atomic.Pointer[taskState]
}

// taskState is what a task that has held a Lock keeps.
type taskState struct {
	mu   sync.Mutex
	held []*Lock // the Locks the task holds
	done bool    // the task has ended
}

// taskEnded marks a task that ended before it ever held a Lock.
var taskEnded = new(taskState)

type taskKey struct{}

// taskCtx is the ctx of a new task: its parent's, plus the task.
type taskCtx struct {
	context.Context
	task Task
}

func (c *taskCtx) Value(key any) any {
	if key == (taskKey{}) {
		return &c.task
	}
	return c.Context.Value(key)
}

// newTask returns a ctx for a new task, child of ctx.
func newTask(ctx context.Context) *taskCtx { return &taskCtx{Context: ctx} }

// CurrentTask returns the task that ctx belongs to (Trio's current_task):
// the nursery child, Start child or Run main whose ctx it is or derives
// from. It returns nil for a ctx that belongs to no task, such as
// context.Background() or one made outside trio.
func CurrentTask(ctx context.Context) *Task {
	t, _ := ctx.Value(taskKey{}).(*Task)
	return t
}

// hold records that t holds l; it reports false if t has ended (a lock
// handed over to a task that is gone).
func (t *Task) hold(l *Lock) bool {
	st := t.st.Load()
	if st == nil {
		t.st.CompareAndSwap(nil, new(taskState))
		st = t.st.Load()
	}
	if st == taskEnded {
		return false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.done {
		return false
	}
	st.held = append(st.held, l)
	return true
}

// drop records that t no longer holds l.
func (t *Task) drop(l *Lock) {
	st := t.st.Load()
	if st == nil || st == taskEnded {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for i, h := range st.held {
		if h == l {
			st.held = append(st.held[:i], st.held[i+1:]...)
			return
		}
	}
}

// exit marks t ended and breaks the Locks it still holds. It costs one
// atomic swap for a task that never held a Lock.
func (t *Task) exit() {
	st := t.st.Swap(taskEnded)
	if st == nil || st == taskEnded {
		return
	}
	st.mu.Lock()
	st.done = true
	held := st.held
	st.held = nil
	st.mu.Unlock()
	for _, l := range held {
		l.ownerExited(t)
	}
}
