package asyncio_test

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// The behaviours of CPython 3.13's Lib/test/test_asyncio/test_queues.py,
// one Go test per Python case, named Test<Class>_<case>; the cases of the
// mixins run for Queue, LifoQueue and PriorityQueue as subtests.
//
// Not transcribed: QueueBasicTests.test_generic_alias (Python typing) and
// QueuePutTests.test_float_maxsize (maxsize is an int in Go). test_repr
// and test_str are one test of String (Go has one string form).

// ---- QueueBasicTests

func TestQueueBasicTests_test_repr_and_str(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var q asyncio.Queue[int]
		expect(t, q.String(), "<Queue maxsize=0>", "repr")

		// getters
		getter := asyncio.CreateTask(ctx, q.Get)
		tick(t, ctx)
		expect(t, q.String(), "<Queue maxsize=0 _getters[1]>", "repr")
		q.PutNowait(0)
		v, err := asyncio.Await(ctx, getter)
		expect(t, v, 0, "got")
		expectNoErr(t, err, "getter")

		// putters
		q2 := asyncio.NewQueue[int](1)
		q2.PutNowait(1)
		putter := spawn(ctx, func(ctx context.Context) error { return q2.Put(ctx, 2) })
		tick(t, ctx)
		expect(t, q2.String(), "<Queue maxsize=1 _queue=[1] _putters[1] tasks=1>", "repr")
		q2.GetNowait()
		expectNoErr(t, await(ctx, putter), "putter")

		var q3 asyncio.Queue[int]
		q3.PutNowait(1)
		expect(t, q3.String(), "<Queue maxsize=0 _queue=[1] tasks=1>", "repr")
		return nil
	})
}

func TestQueueBasicTests_test_empty(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var q asyncio.Queue[int]
		expect(t, q.Empty(), true, "empty")
		expectNoErr(t, q.Put(ctx, 1), "Put")
		expect(t, q.Empty(), false, "empty")
		v, err := q.Get(ctx)
		expectNoErr(t, err, "Get")
		expect(t, v, 1, "got")
		expect(t, q.Empty(), true, "empty")
		return nil
	})
}

func TestQueueBasicTests_test_full(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var q asyncio.Queue[int]
		expect(t, q.Full(), false, "full")
		q1 := asyncio.NewQueue[int](1)
		expectNoErr(t, q1.Put(ctx, 1), "Put")
		expect(t, q1.Full(), true, "full")
		return nil
	})
}

func TestQueueBasicTests_test_order(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var q asyncio.Queue[int]
		expectSlice(t, putGetAll(t, ctx, &q, 1, 3, 2), []int{1, 3, 2}, "items")
		return nil
	})
}

func TestQueueBasicTests_test_maxsize(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		q := asyncio.NewQueue[int](2)
		expect(t, q.Maxsize(), 2, "maxsize")
		var haveBeenPut []int
		task := spawn(ctx, func(ctx context.Context) error {
			for i := range 3 {
				if err := q.Put(ctx, i); err != nil {
					return err
				}
				haveBeenPut = append(haveBeenPut, i)
			}
			return nil
		})
		tick(t, ctx)
		tick(t, ctx)
		// The putter is blocked after putting two items.
		expectSlice(t, haveBeenPut, []int{0, 1}, "have been put")
		expectGet(t, ctx, q, 0)
		// Let the putter resume and put the last item.
		tick(t, ctx)
		expectSlice(t, haveBeenPut, []int{0, 1, 2}, "have been put")
		expectGet(t, ctx, q, 1)
		expectGet(t, ctx, q, 2)
		expect(t, task.Done(), true, "done")
		expectNoErr(t, task.Exception(), "putter")
		return nil
	})
}

// ---- QueueGetTests

func TestQueueGetTests_test_blocking_get(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var q asyncio.Queue[int]
		q.PutNowait(1)
		expectGet(t, ctx, &q, 1)
		return nil
	})
}

func TestQueueGetTests_test_get_with_putters(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		q := asyncio.NewQueue[int](1)
		expectNoErr(t, q.Put(ctx, 1), "Put")
		waiter := asyncio.QueueAppendPutter(q, loop)
		expectGet(t, ctx, q, 1)
		expect(t, waiter.Done(), true, "putter woken")
		_, err := waiter.Result()
		expectNoErr(t, err, "putter result")
		return nil
	})
}

func TestQueueGetTests_test_blocking_get_wait(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var q asyncio.Queue[int]
		var started asyncio.Event
		finished := false
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
			started.Set()
			v, err := q.Get(ctx)
			finished = true
			return v, err
		})
		expectNoErr(t, started.Wait(ctx), "started.Wait")
		expect(t, finished, false, "finished")
		loop.CallLater(10*time.Millisecond, func(context.Context) { q.PutNowait(1) })
		v, err := asyncio.Await(ctx, task)
		expectNoErr(t, err, "task")
		expect(t, finished, true, "finished")
		expect(t, v, 1, "got")
		return nil
	})
}

func TestQueueGetTests_test_nonblocking_get(t *testing.T) {
	var q asyncio.Queue[int]
	q.PutNowait(1)
	v, err := q.GetNowait()
	expectNoErr(t, err, "GetNowait")
	expect(t, v, 1, "got")
}

func TestQueueGetTests_test_nonblocking_get_exception(t *testing.T) {
	var q asyncio.Queue[int]
	_, err := q.GetNowait()
	expect(t, err, asyncio.ErrQueueEmpty, "GetNowait")
}

func TestQueueGetTests_test_get_cancelled_race(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var q asyncio.Queue[string]
		t1 := asyncio.CreateTask(ctx, q.Get)
		t2 := asyncio.CreateTask(ctx, q.Get)
		tick(t, ctx)
		t1.Cancel("")
		tick(t, ctx)
		expect(t, t1.Done(), true, "t1 done")
		expectNoErr(t, q.Put(ctx, "a"), "Put")
		tick(t, ctx)
		v, err := asyncio.Await(ctx, t2)
		expectNoErr(t, err, "t2")
		expect(t, v, "a", "t2 got")
		return nil
	})
}

func TestQueueGetTests_test_get_with_waiting_putters(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		q := asyncio.NewQueue[string](1)
		spawn(ctx, func(ctx context.Context) error { return q.Put(ctx, "a") })
		spawn(ctx, func(ctx context.Context) error { return q.Put(ctx, "b") })
		expectGet(t, ctx, q, "a")
		expectGet(t, ctx, q, "b")
		return nil
	})
}

func TestQueueGetTests_test_why_are_getters_waiting(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		const n = 5
		q := asyncio.NewQueue[int](1)
		producer := spawn(ctx, func(ctx context.Context) error {
			for i := range n {
				if err := q.Put(ctx, i); err != nil {
					return err
				}
			}
			return nil
		})
		consumer := spawn(ctx, func(ctx context.Context) error {
			for range n {
				if _, err := q.Get(ctx); err != nil {
					return err
				}
			}
			return nil
		})
		gatherOK(t, ctx, producer, consumer)
		return nil
	})
}

func TestQueueGetTests_test_cancelled_getters_not_being_held_in_self_getters(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		q := asyncio.NewQueue[int](5)
		err := withTimeout(ctx, 100*time.Millisecond, func() error {
			_, err := q.Get(ctx)
			return err
		})
		expectErr(t, err, asyncio.ErrTimeout, "Get with a timeout")
		expect(t, asyncio.QueueGetters(q), 0, "getters")
		return nil
	})
}

// ---- QueuePutTests

func TestQueuePutTests_test_blocking_put(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var q asyncio.Queue[int]
		// No maxsize: Put does not wait.
		expectNoErr(t, q.Put(ctx, 1), "Put")
		expectGet(t, ctx, &q, 1)
		return nil
	})
}

func TestQueuePutTests_test_blocking_put_wait(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		q := asyncio.NewQueue[int](1)
		var started asyncio.Event
		finished := false
		loop.CallLater(10*time.Millisecond, func(context.Context) { q.GetNowait() })
		task := spawn(ctx, func(ctx context.Context) error {
			started.Set()
			if err := q.Put(ctx, 1); err != nil {
				return err
			}
			if err := q.Put(ctx, 2); err != nil {
				return err
			}
			finished = true
			return nil
		})
		expectNoErr(t, started.Wait(ctx), "started.Wait")
		expect(t, finished, false, "finished")
		expectNoErr(t, await(ctx, task), "task")
		expect(t, finished, true, "finished")
		return nil
	})
}

func TestQueuePutTests_test_nonblocking_put(t *testing.T) {
	var q asyncio.Queue[int]
	expectNoErr(t, q.PutNowait(1), "PutNowait")
	v, err := q.GetNowait()
	expectNoErr(t, err, "GetNowait")
	expect(t, v, 1, "got")
}

func TestQueuePutTests_test_get_cancel_drop_one_pending_reader(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var q asyncio.Queue[int]
		reader := asyncio.CreateTask(ctx, q.Get)
		tick(t, ctx)
		q.PutNowait(1)
		q.PutNowait(2)
		reader.Cancel("")
		v, err := asyncio.Await(ctx, reader)
		if err != nil {
			// Try again.
			reader = asyncio.CreateTask(ctx, q.Get)
			v, err = asyncio.Await(ctx, reader)
		}
		expectNoErr(t, err, "reader")
		// 2 would mean that 1 was dropped.
		expect(t, v, 1, "got")
		return nil
	})
}

func TestQueuePutTests_test_get_cancel_drop_many_pending_readers(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var q asyncio.Queue[int]
		reader1 := asyncio.CreateTask(ctx, q.Get)
		reader2 := asyncio.CreateTask(ctx, q.Get)
		reader3 := asyncio.CreateTask(ctx, q.Get)
		tick(t, ctx)
		q.PutNowait(1)
		q.PutNowait(2)
		reader1.Cancel("")
		expectErr(t, await(ctx, reader1), asyncio.ErrCancelled, "reader1")
		v3, err := asyncio.Await(ctx, reader3)
		expectNoErr(t, err, "reader3")
		v2, err := asyncio.Await(ctx, reader2)
		expectNoErr(t, err, "reader2")
		// The order in which concurrent readers get items is undefined.
		expect(t, v2+v3 == 3 && v2 != v3, true, fmt.Sprintf("got %d and %d, want 1 and 2", v2, v3))
		return nil
	})
}

func TestQueuePutTests_test_put_cancel_drop(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		q := asyncio.NewQueue[int](1)
		q.PutNowait(1)
		// Putting a second item has to wait.
		put2 := func(ctx context.Context) error { return q.Put(ctx, 2) }
		writer := spawn(ctx, put2)
		tick(t, ctx)
		v, _ := q.GetNowait()
		expect(t, v, 1, "value1")
		writer.Cancel("")
		if err := await(ctx, writer); err != nil {
			// Try again.
			writer = spawn(ctx, put2)
			expectNoErr(t, await(ctx, writer), "writer")
		}
		v, _ = q.GetNowait()
		expect(t, v, 2, "value2")
		expect(t, q.Qsize(), 0, "qsize")
		return nil
	})
}

func TestQueuePutTests_test_nonblocking_put_exception(t *testing.T) {
	q := asyncio.NewQueue[int](1)
	q.PutNowait(1)
	expect(t, q.PutNowait(2), asyncio.ErrQueueFull, "PutNowait")
}

func TestQueuePutTests_test_put_cancelled(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var q asyncio.Queue[int]
		task := spawn(ctx, func(ctx context.Context) error { return q.Put(ctx, 1) })
		expectGet(t, ctx, &q, 1)
		expect(t, task.Done(), true, "done")
		expectNoErr(t, task.Exception(), "task")
		return nil
	})
}

func TestQueuePutTests_test_put_cancelled_race(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		q := asyncio.NewQueue[string](1)
		putA := spawn(ctx, func(ctx context.Context) error { return q.Put(ctx, "a") })
		putB := spawn(ctx, func(ctx context.Context) error { return q.Put(ctx, "b") })
		putC := spawn(ctx, func(ctx context.Context) error { return q.Put(ctx, "X") })
		tick(t, ctx)
		expect(t, putA.Done(), true, "put_a done")
		expect(t, putB.Done(), false, "put_b done")

		putC.Cancel("")
		tick(t, ctx)
		expect(t, putC.Done(), true, "put_c done")
		v, _ := q.GetNowait()
		expect(t, v, "a", "first")
		tick(t, ctx)
		v, _ = q.GetNowait()
		expect(t, v, "b", "second")
		expectNoErr(t, await(ctx, putB), "put_b")
		return nil
	})
}

func TestQueuePutTests_test_put_with_waiting_getters(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var q asyncio.Queue[string]
		task := asyncio.CreateTask(ctx, q.Get)
		tick(t, ctx)
		expectNoErr(t, q.Put(ctx, "a"), "Put")
		v, err := asyncio.Await(ctx, task)
		expectNoErr(t, err, "task")
		expect(t, v, "a", "got")
		return nil
	})
}

func TestQueuePutTests_test_why_are_putters_waiting(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		q := asyncio.NewQueue[int](2)
		tasks := []*asyncio.Task[struct{}]{spawn(ctx, func(ctx context.Context) error {
			asyncio.Sleep(ctx, 0)
			for range q.Qsize() {
				q.GetNowait()
			}
			return nil
		})}
		for i := range 4 {
			tasks = append(tasks, spawn(ctx, func(ctx context.Context) error { return q.Put(ctx, i) }))
		}
		gatherOK(t, ctx, tasks...)
		return nil
	})
}

func TestQueuePutTests_test_cancelled_puts_not_being_held_in_self_putters(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		// A full queue, and a task waiting for a slot.
		q := asyncio.NewQueue[int](1)
		q.PutNowait(1)
		putTask := spawn(ctx, func(ctx context.Context) error { return q.Put(ctx, 1) })
		tick(t, ctx)
		// Cancelling removes its putter.
		expect(t, asyncio.QueuePutters(q), 1, "putters")
		putTask.Cancel("")
		expectErr(t, await(ctx, putTask), asyncio.ErrCancelled, "put task")
		expect(t, asyncio.QueuePutters(q), 0, "putters")
		return nil
	})
}

func TestQueuePutTests_test_cancelled_put_silence_value_error_exception(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		q := asyncio.NewQueue[int](1)
		q.PutNowait(1)
		putTask := spawn(ctx, func(ctx context.Context) error { return q.Put(ctx, 1) })
		tick(t, ctx)
		// GetNowait removes the putter; cancelled, Put must cope with
		// finding it gone.
		q.GetNowait()
		putTask.Cancel("")
		expectErr(t, await(ctx, putTask), asyncio.ErrCancelled, "put task")
		return nil
	})
}

// ---- LifoQueueTests, PriorityQueueTests

func TestLifoQueueTests_test_order(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var q asyncio.LifoQueue[int]
		expectSlice(t, putGetAll(t, ctx, &q, 1, 3, 2), []int{2, 3, 1}, "items")
		return nil
	})
}

func TestPriorityQueueTests_test_order(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		q := asyncio.NewPriorityQueue(0, cmp.Less[int])
		expectSlice(t, putGetAll(t, ctx, q, 1, 3, 2), []int{1, 2, 3}, "items")
		return nil
	})
}

// ---- _QueueJoinTestMixin and _QueueShutdownTestMixin, for each kind

// anyQueue is what Queue, LifoQueue and PriorityQueue have in common.
type anyQueue[T any] interface {
	Put(ctx context.Context, v T) error
	Get(ctx context.Context) (T, error)
	PutNowait(v T) error
	GetNowait() (T, error)
	Join(ctx context.Context) error
	TaskDone()
	Qsize() int
	Shutdown(immediate bool)
	String() string
}

// eachKind runs test for each kind of queue, as a subtest named after it;
// newQ makes a queue of that kind with a maxsize.
func eachKind[T cmp.Ordered](t *testing.T, test func(t *testing.T, newQ func(maxsize int) anyQueue[T])) {
	t.Run("Queue", func(t *testing.T) {
		test(t, func(n int) anyQueue[T] { return asyncio.NewQueue[T](n) })
	})
	t.Run("LifoQueue", func(t *testing.T) {
		test(t, func(n int) anyQueue[T] { return asyncio.NewLifoQueue[T](n) })
	})
	t.Run("PriorityQueue", func(t *testing.T) {
		test(t, func(n int) anyQueue[T] { return asyncio.NewPriorityQueue(n, cmp.Less[T]) })
	})
}

// putGetAll puts the items, then gets as many, and returns them.
func putGetAll[T any](t *testing.T, ctx context.Context, q anyQueue[T], items ...T) []T {
	t.Helper()
	for _, v := range items {
		expectNoErr(t, q.Put(ctx, v), "Put")
	}
	var out []T
	for range items {
		v, err := q.Get(ctx)
		expectNoErr(t, err, "Get")
		out = append(out, v)
	}
	return out
}

func expectGet[T comparable](t *testing.T, ctx context.Context, q anyQueue[T], want T) {
	t.Helper()
	v, err := q.Get(ctx)
	expectNoErr(t, err, "Get")
	expect(t, v, want, "Get")
}

func TestQueueJoinTestMixin_test_task_done_underflow(t *testing.T) {
	eachKind(t, func(t *testing.T, newQ func(int) anyQueue[int]) {
		q := newQ(0)
		if msg := mustPanic(t, q.TaskDone); !strings.Contains(msg, "TaskDone called too many times") {
			t.Errorf("q.TaskDone: got panic %q, want it to contain %q", msg, "TaskDone called too many times")
		}
	})
}

func TestQueueJoinTestMixin_test_task_done(t *testing.T) {
	eachKind(t, func(t *testing.T, newQ func(int) anyQueue[int]) {
		mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
			q := newQ(0)
			for i := range 100 {
				q.PutNowait(i)
			}
			accumulator := 0
			running := true
			// Two workers get items and call TaskDone after each; Join
			// returns once all have been processed.
			worker := func(ctx context.Context) error {
				for running {
					item, err := q.Get(ctx)
					if err != nil {
						return err
					}
					accumulator += item
					q.TaskDone()
				}
				return nil
			}
			tasks := spawnN(ctx, 2, worker)
			expectNoErr(t, q.Join(ctx), "Join")
			expect(t, accumulator, 4950, "sum")
			// Stop the workers.
			running = false
			for range tasks {
				q.PutNowait(0)
			}
			gatherOK(t, ctx, tasks...)
			return nil
		})
	})
}

func TestQueueJoinTestMixin_test_join_empty_queue(t *testing.T) {
	eachKind(t, func(t *testing.T, newQ func(int) anyQueue[int]) {
		mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
			q := newQ(0)
			// Join returns at once (twice for insurance).
			expectNoErr(t, q.Join(ctx), "Join")
			expectNoErr(t, q.Join(ctx), "Join")
			return nil
		})
	})
}

func TestQueueJoinTestMixin_test_format(t *testing.T) {
	eachKind(t, func(t *testing.T, newQ func(int) anyQueue[int]) {
		q := newQ(0)
		kind := t.Name()[len("TestQueueJoinTestMixin_test_format/"):]
		expect(t, q.String(), "<"+kind+" maxsize=0>", "format")
		q.PutNowait(1)
		q.PutNowait(2)
		q.GetNowait()
		q.GetNowait()
		expect(t, q.String(), "<"+kind+" maxsize=0 tasks=2>", "format")
	})
}

func TestQueueShutdownTestMixin_test_format(t *testing.T) {
	eachKind(t, func(t *testing.T, newQ func(int) anyQueue[int]) {
		q := newQ(0)
		q.Shutdown(false)
		kind := t.Name()[len("TestQueueShutdownTestMixin_test_format/"):]
		expect(t, q.String(), "<"+kind+" maxsize=0 shutdown>", "format")
	})
}

func TestQueueShutdownTestMixin_test_shutdown_empty(t *testing.T) {
	eachKind(t, func(t *testing.T, newQ func(int) anyQueue[string]) {
		mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
			q := newQ(0)
			getTask := asyncio.CreateTask(ctx, q.Get)
			tick(t, ctx) // the getter waits before the shutdown

			q.Shutdown(false) // unfinished tasks: 0 -> 0
			expect(t, q.Qsize(), 0, "qsize")
			expectNoErr(t, q.Join(ctx), "Join")

			tick(t, ctx)
			expect(t, getTask.Done(), true, "getter done")
			expectErr(t, await(ctx, getTask), asyncio.ErrQueueShutDown, "getter")
			expectShutDown(t, ctx, q)
			return nil
		})
	})
}

// expectShutDown checks that the puts and gets of q return
// ErrQueueShutDown.
func expectShutDown(t *testing.T, ctx context.Context, q anyQueue[string]) {
	t.Helper()
	expectErr(t, q.Put(ctx, "data"), asyncio.ErrQueueShutDown, "Put")
	expectErr(t, q.PutNowait("data"), asyncio.ErrQueueShutDown, "PutNowait")
	_, err := q.Get(ctx)
	expectErr(t, err, asyncio.ErrQueueShutDown, "Get")
	_, err = q.GetNowait()
	expectErr(t, err, asyncio.ErrQueueShutDown, "GetNowait")
}

func TestQueueShutdownTestMixin_test_shutdown_nonempty(t *testing.T) {
	eachKind(t, func(t *testing.T, newQ func(int) anyQueue[string]) {
		mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
			// A full queue of one item, a joiner and a putter.
			q := newQ(1)
			q.PutNowait("data")
			joinTask := spawn(ctx, q.Join)
			putTask := spawn(ctx, func(ctx context.Context) error { return q.Put(ctx, "data2") })
			tick(t, ctx)
			expect(t, putTask.Done(), false, "putter done")

			q.Shutdown(false) // unfinished tasks: 1 -> 1
			expect(t, q.Qsize(), 1, "qsize")

			tick(t, ctx)
			expect(t, putTask.Done(), true, "putter done")
			expectErr(t, await(ctx, putTask), asyncio.ErrQueueShutDown, "putter")

			// The item still comes out.
			expectGet(t, ctx, q, "data")
			tick(t, ctx)
			expect(t, joinTask.Done(), false, "joiner done")
			expectShutDown(t, ctx, q)

			// One unfinished task: TaskDone releases the joiner.
			q.TaskDone()
			tick(t, ctx)
			expect(t, joinTask.Done(), true, "joiner done")
			expectNoErr(t, await(ctx, joinTask), "joiner")
			if msg := mustPanic(t, q.TaskDone); !strings.Contains(msg, "TaskDone called too many times") {
				t.Errorf("q.TaskDone: got panic %q, want it to contain %q", msg, "TaskDone called too many times")
			}
			return nil
		})
	})
}

func TestQueueShutdownTestMixin_test_shutdown_immediate(t *testing.T) {
	eachKind(t, func(t *testing.T, newQ func(int) anyQueue[string]) {
		mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
			q := newQ(0)
			q.PutNowait("data")
			joinTask := spawn(ctx, q.Join)

			q.Shutdown(true) // unfinished tasks: 1 -> 0
			expect(t, q.Qsize(), 0, "qsize")

			tick(t, ctx)
			expect(t, joinTask.Done(), true, "joiner done")
			expectNoErr(t, await(ctx, joinTask), "joiner")
			expectShutDown(t, ctx, q)
			if msg := mustPanic(t, q.TaskDone); !strings.Contains(msg, "TaskDone called too many times") {
				t.Errorf("q.TaskDone: got panic %q, want it to contain %q", msg, "TaskDone called too many times")
			}
			return nil
		})
	})
}

func TestQueueShutdownTestMixin_test_shutdown_immediate_with_unfinished(t *testing.T) {
	eachKind(t, func(t *testing.T, newQ func(int) anyQueue[string]) {
		mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
			// Two items, one got, and a joiner.
			q := newQ(0)
			q.PutNowait("data")
			q.PutNowait("data")
			joinTask := spawn(ctx, q.Join)
			expectGet(t, ctx, q, "data")

			q.Shutdown(true) // unfinished tasks: 2 -> 1
			expect(t, q.Qsize(), 0, "qsize")

			tick(t, ctx)
			expect(t, joinTask.Done(), false, "joiner done")
			expectShutDown(t, ctx, q)

			// One unfinished task.
			q.TaskDone()
			if msg := mustPanic(t, q.TaskDone); !strings.Contains(msg, "TaskDone called too many times") {
				t.Errorf("q.TaskDone: got panic %q, want it to contain %q", msg, "TaskDone called too many times")
			}
			tick(t, ctx)
			expect(t, joinTask.Done(), true, "joiner done")
			expectNoErr(t, await(ctx, joinTask), "joiner")
			return nil
		})
	})
}

// Beyond CPython's cases (Python 3.13's documented shutdown semantics, and
// fairness under cancellation).

func TestQueueShutdown_wakes_blocked_getters_and_putters(t *testing.T) {
	for _, immediate := range []bool{false, true} {
		t.Run(fmt.Sprintf("immediate=%v", immediate), func(t *testing.T) {
			mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
				empty := asyncio.NewQueue[int](1)
				getters := []*asyncio.Task[int]{asyncio.CreateTask(ctx, empty.Get), asyncio.CreateTask(ctx, empty.Get)}
				full := asyncio.NewQueue[int](1)
				full.PutNowait(1)
				putters := spawnN(ctx, 2, func(ctx context.Context) error { return full.Put(ctx, 2) })
				joiner := spawn(ctx, full.Join)
				tick(t, ctx)

				empty.Shutdown(immediate)
				full.Shutdown(immediate)
				for _, err := range gather(ctx, getters...) {
					expectErr(t, err, asyncio.ErrQueueShutDown, "blocked Get")
				}
				for _, err := range gather(ctx, putters...) {
					expectErr(t, err, asyncio.ErrQueueShutDown, "blocked Put")
				}
				if immediate {
					// The item was dropped, with its TaskDone.
					expect(t, full.Qsize(), 0, "qsize")
					expectNoErr(t, await(ctx, joiner), "joiner")
				} else {
					// The item is still there to get.
					expect(t, full.Qsize(), 1, "qsize")
					expectGet(t, ctx, full, 1)
					full.TaskDone()
					expectNoErr(t, await(ctx, joiner), "joiner")
				}
				return nil
			})
		})
	}
}

func TestQueue_fifo_getters_and_no_item_lost(t *testing.T) {
	// Ten getters queue on an empty queue; some are cancelled while they
	// wait, others after they were told of an item. Every item is got
	// exactly once, by the surviving getters in the order they queued.
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var q asyncio.Queue[int]
		getters := make([]*asyncio.Task[int], 10)
		for i := range getters {
			getters[i] = asyncio.CreateTask(ctx, q.Get)
		}
		tick(t, ctx)
		q.PutNowait(0)
		q.PutNowait(1)
		getters[0].Cancel("") // told of item 0, cancelled before taking it
		getters[3].Cancel("") // cancelled while waiting
		for i := 2; i < 8; i++ {
			q.PutNowait(i)
		}
		getters[4].Cancel("") // told of an item, cancelled before taking it
		got := map[int]int{}
		var order []int
		for i, g := range getters {
			v, err := asyncio.Await(ctx, g)
			if i == 0 || i == 3 || i == 4 {
				expectErr(t, err, asyncio.ErrCancelled, fmt.Sprintf("getter %d", i))
				continue
			}
			if err != nil {
				t.Errorf("getter %d: got %v; want err == nil", i, err)
				continue
			}
			got[v]++
			order = append(order, v)
		}
		expect(t, len(got), 7, "distinct items got")
		expect(t, q.Qsize(), 1, "items left")
		// Items went out in FIFO order to getters in FIFO order.
		expectSlice(t, order, []int{0, 1, 2, 3, 4, 5, 6}, "items by getter order")
		return nil
	})
}

func TestQueue_fifo_putters_and_no_item_lost(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		q := asyncio.NewQueue[int](1)
		q.PutNowait(-1)
		putters := make([]*asyncio.Task[struct{}], 6)
		for i := range putters {
			putters[i] = spawn(ctx, func(ctx context.Context) error { return q.Put(ctx, i) })
		}
		tick(t, ctx)
		expectGet(t, ctx, q, -1) // tells putter 0 of a slot…
		putters[0].Cancel("")    // …and it is cancelled before using it
		putters[2].Cancel("")    // cancelled while waiting
		var items []int
		for range 4 {
			v, err := q.Get(ctx)
			expectNoErr(t, err, "Get")
			items = append(items, v)
		}
		expectSlice(t, items, []int{1, 3, 4, 5}, "items")
		errs := gather(ctx, putters...)
		expectErr(t, errs[0], asyncio.ErrCancelled, "putter 0")
		expectErr(t, errs[2], asyncio.ErrCancelled, "putter 2")
		expect(t, q.Qsize(), 0, "qsize")
		return nil
	})
}

func TestQueue_storage_grows_and_shrinks(t *testing.T) {
	// The ring wraps around, grows and shrinks without losing order; the
	// heap keeps its order through growth and shrinking.
	var q asyncio.Queue[int]
	next, want := 0, 0
	for round := range 4 {
		for range 300 * (round + 1) {
			q.PutNowait(next)
			next++
		}
		for range 290 * (round + 1) {
			v, _ := q.GetNowait()
			if v != want {
				t.Fatalf("got %d, want %d", v, want)
			}
			want++
		}
	}
	for !q.Empty() {
		v, _ := q.GetNowait()
		if v != want {
			t.Fatalf("got %d, want %d", v, want)
		}
		want++
	}
	expect(t, want, next, "all items")

	pq := asyncio.NewPriorityQueue(0, cmp.Less[int])
	for i := range 1000 {
		pq.PutNowait((i * 7919) % 1000)
	}
	for i := range 1000 {
		v, _ := pq.GetNowait()
		if v != i {
			t.Fatalf("priority queue: got %d, want %d", v, i)
		}
	}
	var zero asyncio.PriorityQueue[int]
	if msg := mustPanic(t, func() { zero.PutNowait(1) }); !strings.Contains(msg, "without an ordering") {
		t.Errorf("zero.PutNowait(1): got panic %q, want it to contain %q", msg, "without an ordering")
	}
}
