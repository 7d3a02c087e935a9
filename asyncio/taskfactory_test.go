package asyncio_test

// Task factories and eager tasks: CPython's test_base_events.py
// (test_set_task_factory, test_create_named_task_with_custom_factory),
// test_tasks.py (test_run_coroutine_threadsafe_task_factory_exception)
// and 3.12's test_eager_task_factory.py, named TestEagerTaskFactory_<case>
// and TestTaskCounting_<case>. Not transcribed from the latter:
// test_staggered_race_with_eager_tasks{,_no_delay} (no staggered_race in
// Go), test_issue105987 (C internals), test_issue122332 (get_coro).

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

func TestBaseEvents_test_set_task_factory(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		made := 0
		factory := func(ctx context.Context, coro asyncio.AnyCoroutine, opts ...asyncio.TaskOption) asyncio.AnyTask {
			made++
			return asyncio.NewTask(ctx, coro, opts...)
		}
		if loop.GetTaskFactory() != nil {
			t.Errorf("a new loop has a task factory")
		}
		loop.SetTaskFactory(factory)
		if loop.GetTaskFactory() == nil {
			t.Errorf("GetTaskFactory: nil after SetTaskFactory")
		}
		task := asyncio.CreateTask(ctx, func(context.Context) (int, error) { return 1, nil })
		if v, err := asyncio.Await(ctx, task); v != 1 || err != nil || made != 1 {
			t.Errorf("through the factory: %v, %v, made %d", v, err, made)
		}
		loop.SetTaskFactory(nil)
		if loop.GetTaskFactory() != nil {
			t.Errorf("GetTaskFactory: not nil after SetTaskFactory(nil)")
		}
		task = asyncio.CreateTask(ctx, func(context.Context) (int, error) { return 2, nil })
		if v, err := asyncio.Await(ctx, task); v != 2 || err != nil || made != 1 {
			t.Errorf("without the factory: %v, %v, made %d", v, err, made)
		}
		return nil
	})
}

func TestBaseEvents_test_create_named_task_with_custom_factory(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		loop.SetTaskFactory(func(ctx context.Context, coro asyncio.AnyCoroutine, opts ...asyncio.TaskOption) asyncio.AnyTask {
			return asyncio.NewTask(ctx, coro, opts...)
		})
		task := asyncio.CreateTask(ctx, func(context.Context) (int, error) { return 0, nil }, asyncio.WithName("test_task"))
		if task.Name() != "test_task" {
			t.Errorf("Name: %q", task.Name())
		}
		asyncio.Await(ctx, task)
		return nil
	})
}

// A factory that returns another task than the one NewTask made is a
// programming error CreateTask reports.
func TestTaskFactory_returning_a_foreign_task_panics(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		loop.SetTaskFactory(func(ctx context.Context, coro asyncio.AnyCoroutine, opts ...asyncio.TaskOption) asyncio.AnyTask {
			asyncio.NewTask(ctx, coro, opts...)
			return nil
		})
		defer loop.SetTaskFactory(nil)
		msg := mustPanic(t, func() {
			asyncio.CreateTask(ctx, func(context.Context) (int, error) { return 0, nil })
		})
		if msg == "" {
			t.Errorf("no message")
		}
		return nil
	})
}

func TestTasks_test_run_coroutine_threadsafe_task_factory_exception(t *testing.T) {
	var got []asyncio.ExceptionContext
	err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		loop.SetExceptionHandler(func(_ *asyncio.Loop, ec asyncio.ExceptionContext) { got = append(got, ec) })
		loop.SetTaskFactory(func(context.Context, asyncio.AnyCoroutine, ...asyncio.TaskOption) asyncio.AnyTask {
			panic("NameError")
		})
		cf := asyncio.RunCoroutineThreadsafe(loop, func(context.Context) (int, error) { return 1, nil })
		_, err := cf.Result(ctx)
		var pe *trio.PanicError
		if !errors.As(err, &pe) || pe.Value != "NameError" {
			t.Errorf("Result: %v", err)
		}
		if err := loop.Synchronize(ctx); err != nil {
			t.Error(err)
		}
		if len(got) != 1 || got[0].Err != err {
			t.Errorf("exception handler got %v, want the future's error once", got)
		}
		return nil
	})
	if err != nil {
		t.Errorf("OpenLoop: %v", err)
	}
}

// inEagerTask runs fn as a task on a loop whose task factory is
// EagerTaskFactory (the setUp of EagerTaskFactoryLoopTests).
func inEagerTask(t *testing.T, fn func(ctx context.Context, loop *asyncio.Loop) error) {
	t.Helper()
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		loop.SetTaskFactory(asyncio.EagerTaskFactory)
		return fn(ctx, loop)
	})
}

func TestEagerTaskFactory_test_eager_task_factory_set(t *testing.T) {
	inEagerTask(t, func(ctx context.Context, loop *asyncio.Loop) error {
		if loop.GetTaskFactory() == nil {
			t.Errorf("no task factory")
		}
		ran := false
		task := asyncio.CreateTask(ctx, func(context.Context) (struct{}, error) { ran = true; return struct{}{}, nil })
		if !ran || !task.Done() {
			t.Errorf("the factory did not start the task eagerly: ran %v, done %v", ran, task.Done())
		}
		_, err := asyncio.Await(ctx, task)
		return err
	})
}

func TestEagerTaskFactory_test_await_future_during_eager_step(t *testing.T) {
	inEagerTask(t, func(ctx context.Context, loop *asyncio.Loop) error {
		fut := asyncio.NewFuture[string](loop)
		task := asyncio.CreateTask(ctx, func(context.Context) (struct{}, error) {
			fut.SetResult("my message")
			return struct{}{}, nil
		})
		if !task.Done() {
			t.Errorf("the eager step did not complete the task")
		}
		if v, err := asyncio.Await(ctx, fut); v != "my message" || err != nil {
			t.Errorf("Await: %q, %v", v, err)
		}
		return nil
	})
}

func TestEagerTaskFactory_test_eager_completion(t *testing.T) {
	inEagerTask(t, func(ctx context.Context, loop *asyncio.Loop) error {
		task := asyncio.CreateTask(ctx, func(context.Context) (string, error) { return "hello", nil })
		if !task.Done() {
			t.Errorf("the eager step did not complete the task")
		}
		if v, err := asyncio.Await(ctx, task); v != "hello" || err != nil {
			t.Errorf("Await: %q, %v", v, err)
		}
		return nil
	})
}

func TestEagerTaskFactory_test_block_after_eager_step(t *testing.T) {
	inEagerTask(t, func(ctx context.Context, loop *asyncio.Loop) error {
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (string, error) {
			if err := asyncio.Sleep(ctx, 10*time.Millisecond); err != nil {
				return "", err
			}
			return "finished after blocking", nil
		})
		if task.Done() {
			t.Errorf("done after a step that blocks")
		}
		v, err := asyncio.Await(ctx, task)
		if v != "finished after blocking" || err != nil || !task.Done() {
			t.Errorf("Await: %q, %v", v, err)
		}
		return nil
	})
}

func TestEagerTaskFactory_test_cancellation_after_eager_completion(t *testing.T) {
	inEagerTask(t, func(ctx context.Context, loop *asyncio.Loop) error {
		task := asyncio.CreateTask(ctx, func(context.Context) (string, error) { return "finished without blocking", nil })
		if task.Cancel("") {
			t.Errorf("Cancel of an eagerly completed task reported true")
		}
		v, err := asyncio.Await(ctx, task)
		if task.Cancelled() || v != "finished without blocking" || err != nil {
			t.Errorf("Await: %q, %v (cancelled %v)", v, err, task.Cancelled())
		}
		return nil
	})
}

func TestEagerTaskFactory_test_cancellation_after_eager_step_blocks(t *testing.T) {
	inEagerTask(t, func(ctx context.Context, loop *asyncio.Loop) error {
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (string, error) {
			if err := asyncio.Sleep(ctx, 10*time.Millisecond); err != nil {
				return "", err
			}
			return "finished after blocking", nil
		})
		task.Cancel("cancellation message")
		if task.Cancelling() == 0 {
			t.Errorf("Cancelling: 0")
		}
		_, err := asyncio.Await(ctx, task)
		if msg, ok := cancelMsg(err); !ok || msg != "cancellation message" {
			t.Errorf("Await: %v", err)
		}
		return nil
	})
}

func TestEagerTaskFactory_test_current_task(t *testing.T) {
	inEagerTask(t, func(ctx context.Context, loop *asyncio.Loop) error {
		var captured asyncio.AnyTask
		self := asyncio.CurrentTask(ctx)
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (struct{}, error) {
			captured = asyncio.CurrentTask(ctx)
			if err := asyncio.Sleep(ctx, 10*time.Millisecond); err != nil {
				return struct{}{}, err
			}
			if asyncio.CurrentTask(ctx) != captured {
				t.Errorf("CurrentTask changed across the suspension")
			}
			return struct{}{}, nil
		})
		if captured != asyncio.AnyTask(task) {
			t.Errorf("CurrentTask during the eager step: %v, want %v", captured, task)
		}
		if asyncio.CurrentTask(ctx) != self {
			t.Errorf("CurrentTask after CreateTask: %v, want the creator %v", asyncio.CurrentTask(ctx), self)
		}
		_, err := asyncio.Await(ctx, task)
		return err
	})
}

func containsTask(ts []asyncio.AnyTask, t asyncio.AnyTask) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

func TestEagerTaskFactory_test_all_tasks_with_eager_completion(t *testing.T) {
	inEagerTask(t, func(ctx context.Context, loop *asyncio.Loop) error {
		var captured []asyncio.AnyTask
		task := asyncio.CreateTask(ctx, func(context.Context) (struct{}, error) {
			captured = asyncio.AllTasks(loop)
			return struct{}{}, nil
		})
		if !containsTask(captured, task) {
			t.Errorf("AllTasks during the eager step lacks the task")
		}
		if containsTask(asyncio.AllTasks(loop), task) {
			t.Errorf("AllTasks after eager completion holds the task")
		}
		return nil
	})
}

func TestEagerTaskFactory_test_all_tasks_with_blocking(t *testing.T) {
	inEagerTask(t, func(ctx context.Context, loop *asyncio.Loop) error {
		var captured []asyncio.AnyTask
		fut1 := asyncio.NewFuture[struct{}](loop)
		fut2 := asyncio.NewFuture[struct{}](loop)
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (struct{}, error) {
			captured = asyncio.AllTasks(loop)
			if _, err := asyncio.Await(ctx, fut1); err != nil {
				return struct{}{}, err
			}
			fut2.SetResult(struct{}{})
			return struct{}{}, nil
		})
		if !containsTask(captured, task) || !containsTask(asyncio.AllTasks(loop), task) {
			t.Errorf("AllTasks lacks the blocked task")
		}
		fut1.SetResult(struct{}{})
		asyncio.Await(ctx, fut2)
		runBriefly(ctx)
		if containsTask(asyncio.AllTasks(loop), task) {
			t.Errorf("AllTasks holds the finished task")
		}
		return nil
	})
}

// Go has no context variables; the ctx values a task sees are those of
// the ctx it was created with, so what is checked is the order: the first
// step runs inside CreateTask, the second later, and each sees the
// creator's values.
func TestEagerTaskFactory_test_context_vars(t *testing.T) {
	type cvKey struct{}
	inEagerTask(t, func(ctx context.Context, loop *asyncio.Loop) error {
		firstRan, secondRan := false, false
		task := asyncio.CreateTask(context.WithValue(ctx, cvKey{}, 1), func(ctx context.Context) (struct{}, error) {
			if ctx.Value(cvKey{}) != 1 {
				t.Errorf("first step: value %v", ctx.Value(cvKey{}))
			}
			firstRan = true
			if err := asyncio.Sleep(ctx, 10*time.Millisecond); err != nil {
				return struct{}{}, err
			}
			if ctx.Value(cvKey{}) != 1 {
				t.Errorf("second step: value %v", ctx.Value(cvKey{}))
			}
			secondRan = true
			return struct{}{}, nil
		})
		if !firstRan || secondRan {
			t.Errorf("after CreateTask: first %v, second %v", firstRan, secondRan)
		}
		asyncio.Await(ctx, task)
		if !secondRan {
			t.Errorf("second step did not run")
		}
		return nil
	})
}

// An eager task whose first step panics or fails is done when CreateTask
// returns, with that error.
func TestEagerTaskFactory_failing_eager_step(t *testing.T) {
	inEagerTask(t, func(ctx context.Context, loop *asyncio.Loop) error {
		boom := errors.New("boom")
		task := asyncio.CreateTask(ctx, func(context.Context) (int, error) { return 0, boom })
		if !task.Done() || task.Exception() != boom {
			t.Errorf("failing eager step: done %v, %v", task.Done(), task.Exception())
		}
		task2 := asyncio.CreateTask(ctx, func(context.Context) (int, error) { panic("oops") })
		var pe *trio.PanicError
		if !task2.Done() || !errors.As(task2.Exception(), &pe) {
			t.Errorf("panicking eager step: done %v, %v", task2.Done(), task2.Exception())
		}
		return nil
	})
}

// WithEagerStart without a factory; the last of several options wins.
func TestWithEagerStart(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		coro := func(context.Context) (int, error) { return 1, nil }
		if !asyncio.CreateTask(ctx, coro, asyncio.WithEagerStart(true)).Done() {
			t.Errorf("WithEagerStart(true): not done")
		}
		lazy := asyncio.CreateTask(ctx, coro, asyncio.WithEagerStart(true), asyncio.WithEagerStart(false))
		if lazy.Done() {
			t.Errorf("WithEagerStart(false) last: done at once")
		}
		asyncio.Await(ctx, lazy)
		return nil
	})
}

// countingFactory counts the tasks whose first step is scheduled rather
// than run eagerly (AsyncTaskCounter of test_eager_task_factory.py).
type countingFactory struct {
	scheduled, created int
	eager              bool
}

func (c *countingFactory) factory(ctx context.Context, coro asyncio.AnyCoroutine, opts ...asyncio.TaskOption) asyncio.AnyTask {
	c.created++
	if c.eager {
		return asyncio.NewTask(ctx, coro, append(opts, asyncio.WithEagerStart(true))...)
	}
	c.scheduled++
	return asyncio.NewTask(ctx, coro, opts...)
}

func recursiveTaskGroups(ctx context.Context, width, depth int) (struct{}, error) {
	if depth == 0 {
		return struct{}{}, nil
	}
	return struct{}{}, asyncio.OpenTaskGroup(ctx, func(ctx context.Context, tg *asyncio.TaskGroup) error {
		for range width {
			if _, err := asyncio.CreateTaskIn(tg, func(ctx context.Context) (struct{}, error) {
				return recursiveTaskGroups(ctx, width, depth-1)
			}); err != nil {
				return err
			}
		}
		return nil
	})
}

func recursiveGather(ctx context.Context, width, depth int) (struct{}, error) {
	if depth == 0 {
		return struct{}{}, nil
	}
	ts := make([]asyncio.AwaitableOf[struct{}], width)
	for i := range ts {
		ts[i] = asyncio.CreateTask(ctx, func(ctx context.Context) (struct{}, error) {
			return recursiveGather(ctx, width, depth-1)
		})
	}
	_, err := asyncio.Await(ctx, asyncio.Gather(ctx, ts...))
	return struct{}{}, err
}

func runCounting(t *testing.T, eager bool, main func(ctx context.Context) (struct{}, error)) *countingFactory {
	t.Helper()
	c := &countingFactory{eager: eager}
	err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		loop.SetTaskFactory(c.factory)
		_, err := asyncio.RunAsyncio(ctx, main)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTaskCounting_test_awaitables_chain(t *testing.T) {
	var chain func(ctx context.Context, depth int) int
	chain = func(ctx context.Context, depth int) int {
		if depth == 0 {
			return 0
		}
		return 1 + chain(ctx, depth-1)
	}
	for _, eager := range []bool{false, true} {
		var depth int
		c := runCounting(t, eager, func(ctx context.Context) (struct{}, error) {
			depth = chain(ctx, 100)
			return struct{}{}, nil
		})
		want := 1
		if eager {
			want = 0
		}
		if depth != 100 || c.scheduled != want || c.created != 1 {
			t.Errorf("eager=%v: depth %d, scheduled %d (want %d), created %d", eager, depth, c.scheduled, want, c.created)
		}
	}
}

func TestTaskCounting_test_recursive_taskgroups(t *testing.T) {
	for _, eager := range []bool{false, true} {
		c := runCounting(t, eager, func(ctx context.Context) (struct{}, error) {
			return recursiveTaskGroups(ctx, 5, 4)
		})
		want := 781 // 1 + 5 + 5^2 + 5^3 + 5^4
		if eager {
			want = 0
		}
		if c.scheduled != want || c.created != 781 {
			t.Errorf("eager=%v: scheduled %d (want %d), created %d", eager, c.scheduled, want, c.created)
		}
	}
}

func TestTaskCounting_test_recursive_gather(t *testing.T) {
	for _, eager := range []bool{false, true} {
		c := runCounting(t, eager, func(ctx context.Context) (struct{}, error) {
			return recursiveGather(ctx, 5, 4)
		})
		want := 781
		if eager {
			want = 0
		}
		if c.scheduled != want || c.created != 781 {
			t.Errorf("eager=%v: scheduled %d (want %d), created %d", eager, c.scheduled, want, c.created)
		}
	}
}

// The leaves of an eager recursive gather are done inside CreateTask:
// none of them is ever scheduled.
func TestEagerTaskFactory_leaves_never_scheduled(t *testing.T) {
	inEagerTask(t, func(ctx context.Context, loop *asyncio.Loop) error {
		steps := 0
		leaf := asyncio.CreateTask(ctx, func(context.Context) (int, error) { steps++; return 7, nil })
		if steps != 1 || !leaf.Done() {
			t.Errorf("leaf: steps %d, done %v", steps, leaf.Done())
		}
		if len(asyncio.AllTasks(loop)) != 1 {
			t.Errorf("AllTasks: %v, want only the main task", asyncio.AllTasks(loop))
		}
		return nil
	})
}

// In debug mode, the goroutine checks accept an eager step run from a
// task and from a callback, and the creator runs on afterwards.
func TestEagerStart_debug_mode(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		loop.SetDebug(true)
		defer loop.SetDebug(false)
		coro := func(ctx context.Context) (int, error) {
			f := asyncio.NewFuture[int](loop)
			loop.CallSoon(func(context.Context) { f.SetResult(3) })
			return asyncio.Await(ctx, f)
		}
		task := asyncio.CreateTask(ctx, coro, asyncio.WithEagerStart(true))
		f := asyncio.NewFuture[*asyncio.Task[int]](loop)
		loop.CallSoon(func(ctx context.Context) {
			f.SetResult(asyncio.CreateTask(ctx, coro, asyncio.WithEagerStart(true)))
		})
		task2, _ := asyncio.Await(ctx, f)
		for _, tk := range []*asyncio.Task[int]{task, task2} {
			if v, err := asyncio.Await(ctx, tk); v != 3 || err != nil {
				t.Errorf("Await: %v, %v", v, err)
			}
		}
		return nil
	})
}

// CPython's test_taskgroups.py test_cancels_task_if_created_during_creation
// (gh-128550), run as TestEagerTaskTaskGroup runs the task group suite:
// with and without the eager task factory. A task that fails while
// another task of the group is creating it cancels that creator, which
// sees the cancellation at its next suspension, and the group fails with
// the error.
func TestTaskGroup_test_cancels_task_if_created_during_creation(t *testing.T) {
	for _, eager := range []bool{false, true} {
		mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
			if eager {
				loop.SetTaskFactory(asyncio.EagerTaskFactory)
			}
			errMy := errors.New("third task failed")
			ran := false
			err := asyncio.OpenTaskGroup(ctx, func(ctx context.Context, tg *asyncio.TaskGroup) error {
				third := func(context.Context) (struct{}, error) { return struct{}{}, errMy }
				second := func(ctx context.Context) (struct{}, error) {
					asyncio.CreateTaskIn(tg, third)
					err := asyncio.Sleep(ctx, 0) // eager tasks are cancelled here
					if err == nil {
						err = asyncio.Sleep(ctx, 0) // lazy ones here
					}
					if !errors.Is(err, asyncio.ErrCancelled) {
						t.Errorf("eager=%v: second task's sleeps: %v", eager, err)
					}
					ran = true
					return struct{}{}, err
				}
				_, err := asyncio.CreateTaskIn(tg, second)
				return err
			})
			if !ran || !errors.Is(err, errMy) {
				t.Errorf("eager=%v: ran %v, group %v", eager, ran, err)
			}
			return nil
		})
	}
}
