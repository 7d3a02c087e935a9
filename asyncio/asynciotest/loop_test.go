package asynciotest_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/asyncio/asynciotest"
	"github.com/trioasyncio/trioasyncio/trio"
)

// Tests of the synchronous testing loop: RunForever/Stop rounds,
// RunUntilComplete and RunFutureUntilComplete, Close and its teardown,
// the turns taken between the caller and the loop (with and without
// synctest, in debug mode), failures between runs and at Close, and the
// cases of trio-asyncio's tests/aiotest that need a loop stopped and run
// again (TestAiotest<File>_<case>; the rest are in asyncio's
// aiotest_test.go).
//
// Code running on the loop (callbacks, coroutines) must not call
// t.Fatal/t.FailNow: it reports with t.Error and returns.

// newLoop returns a loop that the test's cleanup closes, failing the test
// if Close reports anything.
func newLoop(t *testing.T) *asynciotest.Loop {
	t.Helper()
	l := asynciotest.NewLoop()
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close: got %v, want nil", err)
		}
	})
	return l
}

// quietSlog sends the default slog logger's output (the default exception
// handler's logs) to a buffer for the test, and returns a reader of it.
func quietSlog(t *testing.T) func() string {
	var mu sync.Mutex
	var b strings.Builder
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return b.Write(p)
	}), nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		return b.String()
	}
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// mustPanic returns the message (fmt.Sprint) of the value fn panics with,
// failing the test if fn returns without panicking: the same helper as
// package asyncio's tests have, which a package boundary keeps apart.
func mustPanic(t *testing.T, fn func()) (msg string) {
	t.Helper()
	defer func() {
		v := recover()
		if v == nil {
			t.Error("the call: got no panic, want one")
		}
		msg = fmt.Sprint(v)
	}()
	fn()
	return ""
}

// RunForever runs until a callback stops the loop, and rounds repeat.
func TestRunForeverStopRounds(t *testing.T) {
	l := newLoop(t)
	loop := l.Loop()
	var result []int
	for round := range 3 {
		loop.CallSoon(func(context.Context) {
			result = append(result, round)
			loop.Stop()
		})
		if err := l.RunForever(); err != nil {
			t.Fatalf("round %d: got %v; want err == nil", round, err)
		}
		if !slices.Equal(result, []int{0, 1, 2}[:round+1]) {
			t.Fatalf("round %d: got %v; want slices.Equal(result, []int{0, 1, 2}[:round+1])", round, result)
		}
	}
}

// aiotest test_callback.test_call_soon, in its run_forever form.
func TestAiotestCallback_test_call_soon(t *testing.T) {
	l := newLoop(t)
	var result []string
	l.Loop().CallSoon(func(context.Context) {
		result = append(result, "Hello World")
		l.Stop()
	})
	if err := l.RunForever(); err != nil {
		t.Fatalf("l.RunForever: got %v, want nil", err)
	}
	if !slices.Equal(result, []string{"Hello World"}) {
		t.Errorf("result: got %v, want %v", result, []string{"Hello World"})
	}
}

// aiotest test_callback.test_call_soon_control: call_soon does not call
// at once but when control returns to the loop (bpo-22875).
func TestAiotestCallback_test_call_soon_control(t *testing.T) {
	l := newLoop(t)
	loop := l.Loop()
	var result []string
	loop.CallSoon(func(context.Context) {
		loop.CallSoon(func(context.Context) {
			result = append(result, "yes")
			loop.Stop()
		})
		result = append(result, fmt.Sprint(result))
	})
	if err := l.RunForever(); err != nil {
		t.Fatalf("l.RunForever: got %v, want nil", err)
	}
	if !slices.Equal(result, []string{"[]", "yes"}) {
		t.Errorf("result: got %v, want %v", result, []string{"[]", "yes"})
	}
}

// aiotest test_callback.test_close and CPython test_events' test_close: a
// closed loop refuses everything with "event loop is closed".
func TestAiotestCallback_test_close(t *testing.T) {
	l := asynciotest.NewLoop()
	loop, ctx := l.Loop(), l.Ctx()
	if l.IsClosed() {
		t.Errorf("IsClosed before Close: l.IsClosed() got true, want false")
	}
	fut := asyncio.NewFuture[int](loop)
	if err := l.Close(); err != nil {
		t.Fatalf("l.Close: got %v, want nil", err)
	}
	if !l.IsClosed() || !loop.IsClosed() {
		t.Errorf("not closed after Close: got !l.IsClosed() || !loop.IsClosed(), want l.IsClosed() && loop.IsClosed()")
	}
	// Close more than once.
	if err := l.Close(); err != nil {
		t.Errorf("second Close: got %v, want nil", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("third Close: got %v, want nil", err)
	}
	if err := l.RunForever(); !errors.Is(err, asyncio.ErrLoopClosed) {
		t.Errorf("RunForever: got %v, want an error matching asyncio.ErrLoopClosed", err)
	}
	if _, err := asynciotest.RunFutureUntilComplete(l, fut); !errors.Is(err, asyncio.ErrLoopClosed) {
		t.Errorf("RunFutureUntilComplete: got %v, want an error matching asyncio.ErrLoopClosed", err)
	}
	ran := false
	if _, err := asynciotest.RunUntilComplete(l, func(context.Context) (int, error) { ran = true; return 0, nil }); !errors.Is(err, asyncio.ErrLoopClosed) || err.Error() != "asyncio: event loop is closed" {
		t.Errorf("RunUntilComplete: got %v; want errors.Is(err, asyncio.ErrLoopClosed) && err.Error() == \"asyncio: event loop is closed\"", err)
	}
	if ran {
		t.Errorf("the coroutine ran: ran got true, want false")
	}
	fn := func(context.Context) {}
	for name, call := range map[string]func(){
		"CallSoon":   func() { loop.CallSoon(fn) },
		"CallLater":  func() { loop.CallLater(time.Second, fn) },
		"CallAt":     func() { loop.CallAt(loop.Time(), fn) },
		"CreateTask": func() { asyncio.CreateTask(ctx, func(context.Context) (int, error) { return 0, nil }) },
	} {
		if msg := mustPanic(t, call); !strings.Contains(msg, "event loop is closed") {
			t.Errorf("%s: got %q; want strings.Contains(msg, \"event loop is closed\")", name, msg)
		}
	}
	if _, err := loop.CallSoonThreadsafe(fn); !errors.Is(err, asyncio.ErrLoopClosed) {
		t.Errorf("CallSoonThreadsafe: got %v, want an error matching asyncio.ErrLoopClosed", err)
	}
	if ctx.Err() == nil {
		t.Errorf("Ctx is not done after Close: got ctx.Err() == nil, want ctx.Err() != nil")
	}
	if _, err := asyncio.GetRunningLoop(ctx); !errors.Is(err, asyncio.ErrNoRunningLoop) {
		t.Errorf("GetRunningLoop: got %v, want an error matching asyncio.ErrNoRunningLoop", err)
	}
	l.Stop() // harmless
}

// aiotest test_timer.test_later_stop_later: a stop timer ends the first
// run; the timer due meanwhile runs in the second.
func TestAiotestTimer_test_later_stop_later(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLoop(t)
		loop := l.Loop()
		var result []string
		loop.CallLater(time.Millisecond, func(context.Context) { result = append(result, "Hello") })
		loop.CallLater(25*time.Millisecond, func(context.Context) { loop.Stop() })
		loop.CallLater(50*time.Millisecond, func(context.Context) {
			result = append(result, "World")
			loop.Stop()
		})
		t0 := time.Now()
		if err := l.RunForever(); err != nil {
			t.Fatalf("l.RunForever: got %v, want nil", err)
		}
		if dt := time.Since(t0); dt != 25*time.Millisecond {
			t.Errorf("first run took: got %v, want %v", dt, 25*time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond)
		if !slices.Equal(result, []string{"Hello"}) {
			t.Fatalf("result: got %v, want %v", result, []string{"Hello"})
		}
		if err := l.RunForever(); err != nil {
			t.Fatalf("l.RunForever: got %v, want nil", err)
		}
		if !slices.Equal(result, []string{"Hello", "World"}) {
			t.Errorf("result: got %v, want %v", result, []string{"Hello", "World"})
		}
		if dt := time.Since(t0); dt != 125*time.Millisecond {
			t.Errorf("the second run waited: got %v, want %v", dt, 125*time.Millisecond)
		}
	})
}

// aiotest test_timer.test_display_date.
func TestAiotestTimer_test_display_date(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLoop(t)
		loop := l.Loop()
		const delay, count = 50 * time.Millisecond, 3
		var result []time.Time
		var endTime time.Time
		var displayDate func(context.Context)
		displayDate = func(context.Context) {
			if endTime.IsZero() {
				endTime = loop.Time().Add(delay * count)
			}
			result = append(result, time.Now())
			if loop.Time().Add(delay).Before(endTime) {
				loop.CallLater(delay, displayDate)
			} else {
				loop.Stop()
			}
		}
		loop.CallSoon(displayDate)
		if err := l.RunForever(); err != nil {
			t.Fatalf("l.RunForever: got %v, want nil", err)
		}
		if len(result) != count {
			t.Errorf("%d calls: got %v; want len(result) == count", len(result), result)
		}
	})
}

// CPython test_events.test_call_later: run_forever waits for the timer.
func TestRunForeverCallLater(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLoop(t)
		var results []string
		t0 := time.Now()
		l.Loop().CallLater(100*time.Millisecond, func(context.Context) {
			results = append(results, "hello world")
			l.Stop()
		})
		if err := l.RunForever(); err != nil {
			t.Fatalf("l.RunForever: got %v, want nil", err)
		}
		if !slices.Equal(results, []string{"hello world"}) || time.Since(t0) != 100*time.Millisecond {
			t.Errorf("got %v after %v; want slices.Equal(results, []string{\"hello world\"}) && time.Since(t0) == 100 * time.Millisecond", results, time.Since(t0))
		}
	})
}

// A Stop requested between runs makes the next run do exactly one
// iteration, without waiting for timers (CPython's
// test_run_forever_pre_stopped and test_run_once).
func TestPendingStopRunsOneIteration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLoop(t)
		loop := l.Loop()
		var log []string
		timer := loop.CallLater(time.Hour, func(context.Context) { log = append(log, "timer") })
		a := func(context.Context) {
			log = append(log, "a")
			loop.CallSoon(func(context.Context) { log = append(log, "b") })
		}
		l.Stop()
		loop.CallSoon(a)
		t0 := time.Now()
		if err := l.RunForever(); err != nil {
			t.Fatalf("l.RunForever: got %v, want nil", err)
		}
		if !slices.Equal(log, []string{"a"}) || time.Since(t0) != 0 {
			t.Fatalf("got %v after %v; want slices.Equal(log, []string{\"a\"}) && time.Since(t0) == 0", log, time.Since(t0))
		}
		// Nothing ready at all: one empty iteration, at once.
		loop.CallSoon(func(context.Context) { loop.Stop() })
		if err := l.RunForever(); err != nil {
			t.Fatalf("l.RunForever: got %v, want nil", err)
		}
		if !slices.Equal(log, []string{"a", "b"}) {
			t.Fatalf("log: got %v, want %v", log, []string{"a", "b"})
		}
		l.Stop()
		if err := l.RunForever(); err != nil {
			t.Fatalf("l.RunForever: got %v, want nil", err)
		}
		if !slices.Equal(log, []string{"a", "b"}) || time.Since(t0) != 0 {
			t.Fatalf("got %v after %v; want slices.Equal(log, []string{\"a\", \"b\"}) && time.Since(t0) == 0", log, time.Since(t0))
		}
		// The idiom call_soon(stop); run_forever() runs what is ready once.
		loop.CallSoon(a)
		loop.CallSoon(func(context.Context) { loop.Stop() })
		if err := l.RunForever(); err != nil {
			t.Fatalf("l.RunForever: got %v, want nil", err)
		}
		if !slices.Equal(log, []string{"a", "b", "a"}) {
			t.Fatalf("log: got %v, want %v", log, []string{"a", "b", "a"})
		}
		timer.Cancel()
	})
}

func TestRunUntilCompleteCoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLoop(t)
		t0 := time.Now()
		v, err := asynciotest.RunUntilComplete(l, func(ctx context.Context) (string, error) {
			if !l.IsRunning() {
				t.Errorf("IsRunning is false in a task: l.IsRunning() got false, want true")
			}
			if err := asyncio.Sleep(ctx, 100*time.Millisecond); err != nil {
				return "", err
			}
			return "done", nil
		})
		if v != "done" || err != nil {
			t.Fatalf("asynciotest.RunUntilComplete: got %q, %v; want v == \"done\" && err == nil", v, err)
		}
		if dt := time.Since(t0); dt != 100*time.Millisecond {
			t.Errorf("took: got %v, want %v", dt, 100*time.Millisecond)
		}
		if l.IsRunning() {
			t.Errorf("IsRunning after the run: l.IsRunning() got true, want false")
		}
		// Rounds repeat.
		for i := range 3 {
			v, err := asynciotest.RunUntilComplete(l, func(ctx context.Context) (int, error) {
				return i * 2, asyncio.Sleep(ctx, 0)
			})
			if v != i*2 || err != nil {
				t.Fatalf("round %d: got %v, %v; want v == i * 2 && err == nil", i, v, err)
			}
		}
	})
}

func TestRunUntilCompleteErrors(t *testing.T) {
	l := newLoop(t)
	errBoom := errors.New("boom")
	if _, err := asynciotest.RunUntilComplete(l, func(ctx context.Context) (int, error) {
		return 0, errBoom
	}); err != errBoom {
		t.Errorf("error: got %v, want %v", err, errBoom)
	}
	_, err := asynciotest.RunUntilComplete(l, func(ctx context.Context) (int, error) {
		panic("kaboom")
	})
	var pe *trio.PanicError
	if !errors.As(err, &pe) || pe.Value != "kaboom" {
		t.Errorf("panic: got %v; want errors.As(err, &pe) && pe.Value == \"kaboom\"", err)
	}
	_, err = asynciotest.RunUntilComplete(l, func(ctx context.Context) (int, error) {
		asyncio.CurrentTask(ctx).Cancel("bye")
		return 0, asyncio.Sleep(ctx, 0)
	})
	var ce *asyncio.CancelledError
	if !errors.As(err, &ce) || ce.Msg != "bye" {
		t.Errorf("cancelled: got %v; want errors.As(err, &ce) && ce.Msg == \"bye\"", err)
	}
}

func TestRunFutureUntilComplete(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLoop(t)
		loop := l.Loop()
		fut := asyncio.NewFuture[int](loop)
		loop.CallLater(time.Second, func(context.Context) { fut.SetResult(7) })
		if v, err := asynciotest.RunFutureUntilComplete(l, fut); v != 7 || err != nil {
			t.Fatalf("asynciotest.RunFutureUntilComplete: got %v, %v; want v == 7 && err == nil", v, err)
		}
		// A task made by the caller between runs.
		task := asyncio.CreateTask(l.Ctx(), func(ctx context.Context) (string, error) {
			return "task", asyncio.Sleep(ctx, time.Second)
		})
		if v, err := asynciotest.RunFutureUntilComplete(l, task); v != "task" || err != nil {
			t.Fatalf("asynciotest.RunFutureUntilComplete: got %v, %v; want v == \"task\" && err == nil", v, err)
		}
		// A failed future's error.
		errBoom := errors.New("boom")
		f2 := asyncio.NewFuture[int](loop)
		loop.CallSoon(func(context.Context) { f2.SetException(errBoom) })
		if _, err := asynciotest.RunFutureUntilComplete(l, f2); err != errBoom {
			t.Fatalf("asynciotest.RunFutureUntilComplete: got %v, want %v", err, errBoom)
		}
		// A cancelled one.
		f3 := asyncio.NewFuture[int](loop)
		loop.CallSoon(func(context.Context) { f3.Cancel("") })
		if _, err := asynciotest.RunFutureUntilComplete(l, f3); !errors.Is(err, asyncio.ErrCancelled) {
			t.Fatalf("asynciotest.RunFutureUntilComplete: got %v, want an error matching asyncio.ErrCancelled", err)
		}
	})
}

// The loop stops at the end of the iteration in which the future's done
// callback runs (CPython's _run_until_complete_cb): the callbacks queued
// before it run, those they schedule run in the next run.
func TestRunUntilCompleteStopsAfterDoneCallback(t *testing.T) {
	l := newLoop(t)
	loop := l.Loop()
	var log []string
	fut := asyncio.NewFuture[int](loop)
	loop.CallSoon(func(context.Context) {
		fut.SetResult(1)
		log = append(log, "A")
		loop.CallSoon(func(context.Context) {
			log = append(log, "B")
			loop.CallSoon(func(context.Context) { log = append(log, "C") })
		})
	})
	if v, err := asynciotest.RunFutureUntilComplete(l, fut); v != 1 || err != nil {
		t.Fatalf("asynciotest.RunFutureUntilComplete: got %v, %v; want v == 1 && err == nil", v, err)
	}
	if !slices.Equal(log, []string{"A", "B"}) {
		t.Fatalf("log: got %v, want %v", log, []string{"A", "B"})
	}
	// A done future: one iteration, the callbacks ready before it run.
	loop.CallSoon(func(context.Context) { log = append(log, "D") })
	if v, err := asynciotest.RunFutureUntilComplete(l, fut); v != 1 || err != nil {
		t.Fatalf("asynciotest.RunFutureUntilComplete: got %v, %v; want v == 1 && err == nil", v, err)
	}
	if !slices.Equal(log, []string{"A", "B", "C", "D"}) {
		t.Fatalf("log: got %v, want %v", log, []string{"A", "B", "C", "D"})
	}
}

// CPython test_events.test_run_until_complete_stopped: a Stop before the
// future is done ends the run with ErrStoppedEarly; the task goes on in
// the next run.
func TestRunUntilCompleteStoppedEarly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLoop(t)
		task := asyncio.CreateTask(l.Ctx(), func(ctx context.Context) (int, error) {
			l.Stop()
			return 3, asyncio.Sleep(ctx, 100*time.Millisecond)
		})
		if _, err := asynciotest.RunFutureUntilComplete(l, task); !errors.Is(err, asynciotest.ErrStoppedEarly) {
			t.Fatalf("asynciotest.RunFutureUntilComplete: got %v, want an error matching asynciotest.ErrStoppedEarly", err)
		}
		if task.Done() {
			t.Fatalf("task done: task.Done() got true, want false")
		}
		if v, err := asynciotest.RunFutureUntilComplete(l, task); v != 3 || err != nil {
			t.Fatalf("asynciotest.RunFutureUntilComplete: got %v, %v; want v == 3 && err == nil", v, err)
		}
		// The same with a coroutine.
		if _, err := asynciotest.RunUntilComplete(l, func(ctx context.Context) (int, error) {
			l.Stop()
			return 0, asyncio.Sleep(ctx, 100*time.Millisecond)
		}); !errors.Is(err, asynciotest.ErrStoppedEarly) || err.Error() != "asyncio: event loop stopped before future completed" {
			t.Fatalf("asynciotest.RunUntilComplete: got %v; want errors.Is(err, asynciotest.ErrStoppedEarly) && err.Error() == \"asyncio: event loop stopped before future completed\"", err)
		}
	})
}

// CPython test_base_events.test_run_until_complete_loop: a future of
// another loop is refused.
func TestRunFutureUntilCompleteOtherLoop(t *testing.T) {
	l1, l2 := newLoop(t), newLoop(t)
	fut := asyncio.NewFuture[int](l1.Loop())
	if _, err := asynciotest.RunFutureUntilComplete(l2, fut); !errors.Is(err, asyncio.ErrDifferentLoop) {
		t.Errorf("asynciotest.RunFutureUntilComplete: got %v, want an error matching asyncio.ErrDifferentLoop", err)
	}
	if l2.IsRunning() {
		t.Errorf("running after the refusal: l2.IsRunning() got true, want false")
	}
	fut.SetResult(1)
	if v, err := asynciotest.RunFutureUntilComplete(l1, fut); v != 1 || err != nil {
		t.Errorf("asynciotest.RunFutureUntilComplete: got %v, %v; want v == 1 && err == nil", v, err)
	}
}

// CPython test_events.test_run_until_complete_nesting and
// test_close_running_event_loop: runs and Close from inside a run are
// named errors, never hangs.
func TestNesting(t *testing.T) {
	l := newLoop(t)
	loop := l.Loop()
	var errs []error
	loop.CallSoon(func(context.Context) {
		errs = append(errs, l.RunForever())
		_, err := asynciotest.RunUntilComplete(l, func(context.Context) (int, error) {
			t.Error("the nested coroutine ran")
			return 0, nil
		})
		errs = append(errs, err)
		_, err = asynciotest.RunFutureUntilComplete(l, asyncio.NewFuture[int](loop))
		errs = append(errs, err)
		errs = append(errs, l.Close())
		if !l.IsRunning() || l.IsClosed() {
			t.Errorf("IsRunning false or IsClosed true in a callback: got !l.IsRunning() || l.IsClosed(), want l.IsRunning() && !l.IsClosed()")
		}
		loop.Stop()
	})
	if err := l.RunForever(); err != nil {
		t.Fatalf("l.RunForever: got %v, want nil", err)
	}
	want := []error{asynciotest.ErrRunning, asynciotest.ErrRunning, asynciotest.ErrRunning, asynciotest.ErrCloseRunning}
	if !slices.Equal(errs, want) {
		t.Errorf("errs: got %v, want %v", errs, want)
	}
	if asynciotest.ErrRunning.Error() != "asyncio: this event loop is already running" {
		t.Errorf("got %v; want asynciotest.ErrRunning.Error() == \"asyncio: this event loop is already running\"", asynciotest.ErrRunning)
	}
	// From a task.
	var runErr, closeErr error
	if _, err := asynciotest.RunUntilComplete(l, func(ctx context.Context) (int, error) {
		_, runErr = asynciotest.RunUntilComplete(l, func(context.Context) (int, error) { return 0, nil })
		closeErr = l.Close()
		return 0, nil
	}); err != nil {
		t.Fatalf("asynciotest.RunUntilComplete: got %v, want nil", err)
	}
	if runErr != asynciotest.ErrRunning || closeErr != asynciotest.ErrCloseRunning {
		t.Errorf("got %v, %v; want runErr == asynciotest.ErrRunning && closeErr == asynciotest.ErrCloseRunning", runErr, closeErr)
	}
	if len(asyncio.AllTasks(loop)) != 0 {
		t.Errorf("tasks left: got %v; want len(asyncio.AllTasks(loop)) == 0", asyncio.AllTasks(loop))
	}
}

// Close cancels the tasks left: their deferred calls run, they may still
// await while they unwind, and no goroutine outlives Close.
func TestCloseCancelsTasks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := asynciotest.NewLoop()
		loop := l.Loop()
		var log []string
		var tasks []*asyncio.Task[int]
		for i := range 3 {
			tasks = append(tasks, asyncio.CreateTask(l.Ctx(), func(ctx context.Context) (int, error) {
				defer func() { log = append(log, fmt.Sprint("deferred ", i)) }()
				err := asyncio.Sleep(ctx, time.Hour)
				if !errors.Is(err, asyncio.ErrCancelled) {
					t.Errorf("task %d: got %v; want errors.Is(err, asyncio.ErrCancelled)", i, err)
				}
				if !l.IsClosed() || l.IsRunning() {
					t.Errorf("IsClosed false or IsRunning true during the teardown: got !l.IsClosed() || l.IsRunning(), want l.IsClosed() && !l.IsRunning()")
				}
				if err := l.RunForever(); !errors.Is(err, asyncio.ErrLoopClosed) {
					t.Errorf("RunForever during the teardown: got %v, want an error matching asyncio.ErrLoopClosed", err)
				}
				if err := l.Close(); err != nil {
					t.Errorf("Close during the teardown: got %v, want nil", err)
				}
				// A Stop during the teardown does not pause the loop.
				l.Stop()
				// Cleanup may still await.
				if err := asyncio.Sleep(ctx, time.Millisecond); err != nil {
					t.Errorf("task %d: got sleep while cancelled: %v; want err == nil", i, err)
				}
				log = append(log, fmt.Sprint("cleaned ", i))
				return 0, err
			}))
		}
		// Let them start.
		loop.CallSoon(func(context.Context) { loop.Stop() })
		if err := l.RunForever(); err != nil {
			t.Fatalf("l.RunForever: got %v, want nil", err)
		}
		timer := false
		loop.CallLater(time.Minute, func(context.Context) { timer = true })
		queued := false
		loop.CallSoon(func(context.Context) { queued = true })
		l.Stop() // pending: the teardown ignores it
		if err := l.Close(); err != nil {
			t.Fatalf("l.Close: got %v, want nil", err)
		}
		want := []string{"cleaned 0", "deferred 0", "cleaned 1", "deferred 1", "cleaned 2", "deferred 2"}
		if !slices.Equal(log, want) {
			t.Errorf("log: got %v, want %v", log, want)
		}
		for i, task := range tasks {
			if !task.Cancelled() {
				t.Errorf("task %d: got %v; want task.Cancelled()", i, task)
			}
		}
		if !queued || timer {
			t.Errorf("queued callback ran: got %v; timer ran: %v; want queued && !timer", queued, timer)
		}
	})
	goleak.VerifyNone(t)
}

// A task that refuses to stop and waits for nothing the loop can deliver
// is stopped at Close (its deferred calls run); Close still returns and
// leaks nothing.
func TestCloseStuckTask(t *testing.T) {
	l := asynciotest.NewLoop()
	deferred := false
	asyncio.CreateTask(l.Ctx(), func(ctx context.Context) (int, error) {
		defer func() { deferred = true }()
		for {
			// Refuses every cancellation, and waits for a future nobody
			// will complete.
			asyncio.Await(ctx, asyncio.NewFuture[int](asyncio.CurrentTask(ctx).Loop()))
		}
	})
	if err := l.Close(); err != nil {
		t.Fatalf("l.Close: got %v, want nil", err)
	}
	if !deferred {
		t.Errorf("the coroutine's deferred call did not run: deferred got false, want true")
	}
	goleak.VerifyNone(t)
}

// Exactly one of the caller and the loop runs at a time: a plain variable
// touched by both needs no lock (the race detector checks).
func TestTurns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLoop(t)
		loop := l.Loop()
		counter := 0 // no lock
		for round := range 20 {
			counter++
			loop.CallSoon(func(context.Context) { counter++ })
			loop.CallLater(time.Duration(round)*time.Millisecond, func(context.Context) {
				counter++
				loop.Stop()
			})
			task := asyncio.CreateTask(l.Ctx(), func(ctx context.Context) (int, error) {
				counter++
				if err := asyncio.Sleep(ctx, 0); err != nil {
					return 0, err
				}
				counter++
				return counter, nil
			})
			if err := l.RunForever(); err != nil {
				t.Fatalf("l.RunForever: got %v, want nil", err)
			}
			if !task.Done() {
				// The stop timer came first (round 0): finish the task.
				if _, err := asynciotest.RunFutureUntilComplete(l, task); err != nil {
					t.Fatalf("asynciotest.RunFutureUntilComplete: got %v, want nil", err)
				}
			}
			counter++
			if want := 6 * (round + 1); counter != want {
				t.Fatalf("round %d: counter: got %d, want %d", round, counter, want)
			}
		}
	})
}

// Turns hold without synctest too, with the loop sleeping on real timers.
func TestTurnsRealClock(t *testing.T) {
	l := newLoop(t)
	loop := l.Loop()
	n := 0
	for range 50 {
		n++
		loop.CallLater(time.Microsecond, func(context.Context) {
			n++
			loop.Stop()
		})
		if err := l.RunForever(); err != nil {
			t.Fatalf("l.RunForever: got %v, want nil", err)
		}
	}
	if n != 100 {
		t.Errorf("n: got %d, want %d", n, 100)
	}
}

// In debug mode the caller may use loop-confined methods between runs;
// another goroutine still may not while the loop runs.
func TestDebugModeTurns(t *testing.T) {
	l := newLoop(t)
	loop := l.Loop()
	loop.SetDebug(true)
	fut := asyncio.NewFuture[int](loop)
	task := asyncio.CreateTask(l.Ctx(), func(ctx context.Context) (int, error) {
		return asyncio.Await(ctx, fut)
	})
	h := loop.CallSoon(func(context.Context) { t.Error("cancelled callback ran") })
	h.Cancel()
	foreign := make(chan string, 1)
	loop.CallSoon(func(context.Context) {
		// A foreign goroutine while the loop runs: the check catches it.
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer func() { foreign <- fmt.Sprint(recover()) }()
			loop.CallSoon(func(context.Context) {})
		}()
		<-done
		loop.Stop()
	})
	if err := l.RunForever(); err != nil {
		t.Fatalf("l.RunForever: got %v, want nil", err)
	}
	if msg := <-foreign; !strings.Contains(msg, "called from a goroutine other than the loop's") {
		t.Errorf("foreign goroutine: got %q, want it to contain %q", msg, "called from a goroutine other than the loop's")
	}
	fut.SetResult(5)
	if v, err := asynciotest.RunFutureUntilComplete(l, task); v != 5 || err != nil {
		t.Fatalf("asynciotest.RunFutureUntilComplete: got %v, %v; want v == 5 && err == nil", v, err)
	}
	if v, err := asynciotest.RunUntilComplete(l, func(ctx context.Context) (int, error) {
		return 6, asyncio.Sleep(ctx, 0)
	}); v != 6 || err != nil {
		t.Fatalf("asynciotest.RunUntilComplete: got %v, %v; want v == 6 && err == nil", v, err)
	}
}

// A panic in a callback reaches the default exception handler, which
// stops the loop at the end of the iteration: the run returns it (a test
// never hangs on a failed loop), and the loop goes on.
func TestCallbackPanicEndsRun(t *testing.T) {
	logs := quietSlog(t)
	l := newLoop(t)
	loop := l.Loop()
	after, next := false, false
	loop.CallSoon(func(context.Context) { panic("kaboom") })
	loop.CallSoon(func(context.Context) {
		after = true
		loop.CallSoon(func(context.Context) { next = true })
	})
	err := l.RunForever()
	var pe *trio.PanicError
	if !errors.As(err, &pe) || pe.Value != "kaboom" || !strings.Contains(err.Error(), "Exception in callback") {
		t.Fatalf("got %v; want errors.As(err, &pe) && pe.Value == \"kaboom\" && strings.Contains(err.Error(), \"Exception in callback\")", err)
	}
	if !after || next {
		t.Errorf("the rest of the iteration ran: got %v; the next iteration ran: %v; want after && !next", after, next)
	}
	if !strings.Contains(logs(), "kaboom") {
		t.Errorf("not logged: got %s, want it to contain %q", logs(), "kaboom")
	}
	// The loop goes on; the failure is not reported twice.
	if v, err := asynciotest.RunUntilComplete(l, func(ctx context.Context) (int, error) { return 1, nil }); v != 1 || err != nil {
		t.Fatalf("asynciotest.RunUntilComplete: got %v, %v; want v == 1 && err == nil", v, err)
	}
	if !next {
		t.Errorf("the next iteration did not run in the next run: next got false, want true")
	}
}

// A failure while the future is pending stops the run early: both are
// reported.
func TestFailureStopsRunUntilComplete(t *testing.T) {
	quietSlog(t)
	l := newLoop(t)
	l.Loop().CallSoon(func(context.Context) { panic("kaboom") })
	_, err := asynciotest.RunUntilComplete(l, func(ctx context.Context) (int, error) {
		return 0, asyncio.Sleep(ctx, time.Hour)
	})
	var pe *trio.PanicError
	if !errors.Is(err, asynciotest.ErrStoppedEarly) || !errors.As(err, &pe) {
		t.Fatalf("got %v; want errors.Is(err, asynciotest.ErrStoppedEarly) && errors.As(err, &pe)", err)
	}
}

// A failure reported while the caller has the turn is returned by the
// next run (which runs normally); a failure during Close's teardown, by
// Close.
func TestFailuresBetweenRunsAndAtClose(t *testing.T) {
	quietSlog(t)
	l := asynciotest.NewLoop()
	loop := l.Loop()
	errBetween := errors.New("between runs")
	loop.CallExceptionHandler(asyncio.ExceptionContext{Message: "test", Err: errBetween})
	ran := false
	loop.CallSoon(func(context.Context) {
		// A second iteration: the failure did not stop the run early.
		loop.CallSoon(func(context.Context) {
			ran = true
			loop.Stop()
		})
	})
	if err := l.RunForever(); !errors.Is(err, errBetween) || !ran {
		t.Fatalf("l.RunForever: got %v, ran %v; want errors.Is(err, errBetween) && ran", err, ran)
	}
	errTeardown := errors.New("teardown")
	asyncio.CreateTask(l.Ctx(), func(ctx context.Context) (int, error) {
		err := asyncio.Sleep(ctx, time.Hour) // cancelled by Close
		loop.CallSoon(func(context.Context) { panic(errTeardown) })
		// Still alive when the callback runs: the teardown goes on until
		// the last task has ended, then drops what is left.
		if err := asyncio.Sleep(ctx, 0); err != nil {
			t.Errorf("asyncio.Sleep: got %v, want nil", err)
		}
		return 0, err
	})
	err := l.Close()
	if !errors.Is(err, errTeardown) || errors.Is(err, errBetween) {
		t.Fatalf("Close: got %v; want errors.Is(err, errTeardown) && !errors.Is(err, errBetween)", err)
	}
}

// A custom exception handler that does not defer to the default keeps the
// loop running, as in asyncio.
func TestCustomExceptionHandler(t *testing.T) {
	l := newLoop(t)
	loop := l.Loop()
	var got []string
	loop.SetExceptionHandler(func(_ *asyncio.Loop, ec asyncio.ExceptionContext) {
		got = append(got, ec.Message)
	})
	next := false
	loop.CallSoon(func(context.Context) { panic("kaboom") })
	loop.CallSoon(func(context.Context) {
		// Stop in the iteration a panic interrupted: the loop still
		// stops at its end.
		loop.Stop()
		loop.CallSoon(func(context.Context) { next = true })
	})
	if err := l.RunForever(); err != nil {
		t.Fatalf("l.RunForever: got %v, want nil", err)
	}
	if len(got) != 1 || !strings.HasPrefix(got[0], "Exception in callback") {
		t.Errorf("got %v; want len(got) == 1 && strings.HasPrefix(got[0], \"Exception in callback\")", got)
	}
	if next {
		t.Errorf("the loop ran an iteration after the one that stopped it: next got true, want false")
	}
}

// If the loop's goroutine dies inside the exception handler (here: the
// default handler's slog handler calls runtime.Goexit, as a test's
// handler calling t.FailNow would; a panic there no longer kills it, see
// TestBaseEvents_test_default_exc_handler_broken), the run returns instead
// of hanging, with the failure the handler was reporting, later runs are
// refused, and Close returns.
func TestLoopGoroutineDies(t *testing.T) {
	old := slog.Default()
	slog.SetDefault(slog.New(goexitHandler{}))
	defer slog.SetDefault(old)
	l := asynciotest.NewLoop()
	l.Loop().CallSoon(func(context.Context) { panic("kaboom") })
	err := l.RunForever()
	if err == nil || !strings.Contains(err.Error(), "the event loop's goroutine ended") || !strings.Contains(err.Error(), "kaboom") {
		t.Fatalf("l.RunForever: got %v; want err != nil && strings.Contains(err.Error(), \"the event loop's goroutine ended\") && strings.Contains(err.Error(), \"kaboom\")", err)
	}
	if err := l.RunForever(); err == nil || !strings.Contains(err.Error(), "the event loop's goroutine ended") {
		t.Fatalf("second run: got %v; want err != nil && strings.Contains(err.Error(), \"the event loop's goroutine ended\")", err)
	}
	slog.SetDefault(old)
	if err := l.Close(); err != nil {
		t.Errorf("Close: got %v, want nil", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: got %v, want nil", err)
	}
	goleak.VerifyNone(t)
}

// runtime.Goexit on the loop's goroutine (t.FailNow in a callback or a
// task) ends the run with an error instead of a hang, and Close returns.
func TestLoopGoroutineGoexit(t *testing.T) {
	for _, where := range []string{"callback", "task"} {
		t.Run(where, func(t *testing.T) {
			l := asynciotest.NewLoop()
			var err error
			if where == "callback" {
				l.Loop().CallSoon(func(context.Context) { runtime.Goexit() })
				err = l.RunForever()
			} else {
				_, err = asynciotest.RunUntilComplete(l, func(context.Context) (int, error) {
					runtime.Goexit()
					return 0, nil
				})
			}
			if err == nil || !strings.Contains(err.Error(), "t.FailNow in a callback or task?") {
				t.Fatalf("got %v; want err != nil && strings.Contains(err.Error(), \"t.FailNow in a callback or task?\")", err)
			}
			if err := l.RunForever(); err == nil || !strings.Contains(err.Error(), "goroutine ended") {
				t.Fatalf("second run: got %v; want err != nil && strings.Contains(err.Error(), \"goroutine ended\")", err)
			}
			if err := l.Close(); err != nil {
				t.Fatalf("l.Close: got %v, want nil", err)
			}
			goleak.VerifyNone(t)
		})
	}
}

// goexitHandler is a slog handler that ends its caller's goroutine.
type goexitHandler struct{}

func (goexitHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (goexitHandler) Handle(context.Context, slog.Record) error { runtime.Goexit(); return nil }
func (h goexitHandler) WithAttrs([]slog.Attr) slog.Handler      { return h }
func (h goexitHandler) WithGroup(string) slog.Handler           { return h }

// Ctx carries the loop until Close.
func TestCtx(t *testing.T) {
	l := newLoop(t)
	got, err := asyncio.GetRunningLoop(l.Ctx())
	if got != l.Loop() || err != nil {
		t.Errorf("asyncio.GetRunningLoop: got %v, %v; want got == l.Loop() && err == nil", got, err)
	}
	if l.Ctx().Err() != nil {
		t.Errorf("Ctx done before Close: got l.Ctx().Err() != nil, want l.Ctx().Err() == nil")
	}
}

// Loops are independent: two at once, turns interleaved.
func TestTwoLoops(t *testing.T) {
	l1, l2 := newLoop(t), newLoop(t)
	f1 := asyncio.NewFuture[int](l1.Loop())
	t2 := asyncio.CreateTask(l2.Ctx(), func(ctx context.Context) (int, error) {
		return 2, asyncio.Sleep(ctx, 0)
	})
	f1.SetResult(1)
	if v, err := asynciotest.RunFutureUntilComplete(l2, t2); v != 2 || err != nil {
		t.Fatalf("asynciotest.RunFutureUntilComplete: got %v, %v; want v == 2 && err == nil", v, err)
	}
	if v, err := asynciotest.RunFutureUntilComplete(l1, f1); v != 1 || err != nil {
		t.Fatalf("asynciotest.RunFutureUntilComplete: got %v, %v; want v == 1 && err == nil", v, err)
	}
}

// CPython's test_base_events.py test_run_forever_keyboard_interrupt: a
// panic in the coroutine of a run (Python's KeyboardInterrupt) comes back
// from RunUntilComplete and is not reported to the exception handler as
// well, neither then nor when the loop closes.
func TestBaseEvents_test_run_forever_keyboard_interrupt(t *testing.T) {
	l := asynciotest.NewLoop()
	var calls []asyncio.ExceptionContext
	l.Loop().SetExceptionHandler(func(_ *asyncio.Loop, ec asyncio.ExceptionContext) { calls = append(calls, ec) })
	_, err := asynciotest.RunUntilComplete(l, func(ctx context.Context) (int, error) {
		panic("KeyboardInterrupt")
	})
	var pe *trio.PanicError
	if !errors.As(err, &pe) || pe.Value != "KeyboardInterrupt" {
		t.Errorf("RunUntilComplete: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	runtime.GC()
	runtime.GC()
	if len(calls) != 0 {
		t.Errorf("exception handler called: %v", calls)
	}
}
