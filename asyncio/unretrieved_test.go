package asyncio_test

// The reports of exceptions never retrieved (CPython's test_futures.py
// test_tb_logger_* and test_future_exception_never_retrieved*): a future
// whose exception nobody retrieved is reported to the exception handler
// when it is garbage-collected.

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

var errControl = errors.New("control")

// gcReports runs mk as a task on a loop (it makes futures and drops them),
// then collects garbage until the report of a control future arrives, and
// returns the other reports that arrived meanwhile (and a little after).
func gcReports(t *testing.T, mk func(ctx context.Context, loop *asyncio.Loop)) []asyncio.ExceptionContext {
	t.Helper()
	var got []asyncio.ExceptionContext
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		rec := newRecorder(loop)
		runTask(ctx, loop, func(ctx context.Context) (int, error) {
			mk(ctx, loop)
			asyncio.NewFuture[int](loop).SetException(errControl)
			return 0, nil
		})
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			runtime.GC()
			select {
			case ec := <-rec.ch:
				if ec.Err != errControl {
					got = append(got, ec)
					continue
				}
				// The control arrived; give stragglers a moment.
				runtime.GC()
				time.Sleep(20 * time.Millisecond)
				onLoop(ctx, loop, func(context.Context) {})
				for {
					select {
					case ec := <-rec.ch:
						got = append(got, ec)
					default:
						return
					}
				}
			case <-time.After(10 * time.Millisecond):
			}
		}
		t.Error("the control report never came")
	})
	return got
}

func TestFutures_test_tb_logger_abandoned(t *testing.T) {
	if got := gcReports(t, func(ctx context.Context, loop *asyncio.Loop) {
		asyncio.NewFuture[int](loop)
	}); len(got) != 0 {
		t.Errorf("reported: got %+v; want len(got) == 0", got)
	}
}

func TestFutures_test_tb_logger_not_called_after_cancel(t *testing.T) {
	if got := gcReports(t, func(ctx context.Context, loop *asyncio.Loop) {
		f := asyncio.NewFuture[int](loop)
		f.SetException(errors.New("Exception"))
		f.Cancel("")
	}); len(got) != 0 {
		t.Errorf("reported: got %+v; want len(got) == 0", got)
	}
}

func TestFutures_test_tb_logger_result_unretrieved(t *testing.T) {
	if got := gcReports(t, func(ctx context.Context, loop *asyncio.Loop) {
		asyncio.NewFuture[int](loop).SetResult(42)
	}); len(got) != 0 {
		t.Errorf("reported: got %+v; want len(got) == 0", got)
	}
}

func TestFutures_test_tb_logger_result_retrieved(t *testing.T) {
	if got := gcReports(t, func(ctx context.Context, loop *asyncio.Loop) {
		f := asyncio.NewFuture[int](loop)
		f.SetResult(42)
		f.Result()
	}); len(got) != 0 {
		t.Errorf("reported: got %+v; want len(got) == 0", got)
	}
}

func TestFutures_test_tb_logger_exception_unretrieved(t *testing.T) {
	boom := errors.New("boom")
	got := gcReports(t, func(ctx context.Context, loop *asyncio.Loop) {
		asyncio.NewFuture[int](loop).SetException(boom)
	})
	if len(got) != 1 || got[0].Err != boom {
		t.Errorf("reports: got %+v; want len(got) == 1 && got[0].Err == boom", got)
	}
}

func TestFutures_test_tb_logger_exception_retrieved(t *testing.T) {
	if got := gcReports(t, func(ctx context.Context, loop *asyncio.Loop) {
		f := asyncio.NewFuture[int](loop)
		f.SetException(errors.New("boom"))
		f.Exception()
	}); len(got) != 0 {
		t.Errorf("reported: got %+v; want len(got) == 0", got)
	}
}

func TestFutures_test_tb_logger_exception_result_retrieved(t *testing.T) {
	if got := gcReports(t, func(ctx context.Context, loop *asyncio.Loop) {
		f := asyncio.NewFuture[int](loop)
		f.SetException(errors.New("boom"))
		f.Result()
	}); len(got) != 0 {
		t.Errorf("reported: got %+v; want len(got) == 0", got)
	}
}

func TestFutures_test_future_exception_never_retrieved(t *testing.T) {
	for _, debug := range []bool{false, true} {
		memoryError := errors.New("MemoryError")
		got := gcReports(t, func(ctx context.Context, loop *asyncio.Loop) {
			loop.SetDebug(debug)
			asyncio.NewFuture[int](loop).SetException(memoryError)
			loop.SetDebug(false)
		})
		if len(got) != 1 {
			t.Fatalf("debug=%v: got reports: %+v; want len(got) == 1", debug, got)
		}
		ec := got[0]
		if ec.Message != "Future exception was never retrieved" || ec.Err != memoryError {
			t.Errorf("debug=%v: got %+v; want ec.Message == \"Future exception was never retrieved\" && ec.Err == memoryError", debug, ec)
		}
		if hasSrc := strings.Contains(ec.SourceTraceback, "unretrieved_test.go"); hasSrc != debug {
			t.Errorf("debug=%v: got source traceback %q; want hasSrc == debug", debug, ec.SourceTraceback)
		}
	}
}

// The same for a task whose coroutine failed: "Task exception was never
// retrieved", naming the task.
func TestTasks_exception_never_retrieved(t *testing.T) {
	boom := errors.New("boom")
	got := gcReports(t, func(ctx context.Context, loop *asyncio.Loop) {
		asyncio.CreateTask(ctx, func(context.Context) (int, error) { return 0, boom }, asyncio.WithName("failing"))
		asyncio.Sleep(ctx, 0) // the task runs and fails
	})
	if len(got) != 1 {
		t.Fatalf("reports: got %+v; want len(got) == 1", got)
	}
	if got[0].Message != "Task exception was never retrieved" || got[0].Err != boom || got[0].Object != "failing" {
		t.Errorf("got %+v; want got[0].Message == \"Task exception was never retrieved\" && got[0].Err == boom && got[0].Object == \"failing\"", got[0])
	}
}

// test_tb_logger_not_called_after_cancel of test_tasks.py: cancelling a
// failed task counts as retrieving its exception.
func TestTasks_test_tb_logger_not_called_after_cancel(t *testing.T) {
	if got := gcReports(t, func(ctx context.Context, loop *asyncio.Loop) {
		task := asyncio.CreateTask(ctx, func(context.Context) (int, error) {
			return 0, errors.New("TypeError")
		})
		asyncio.Sleep(ctx, 5*time.Millisecond)
		task.Cancel("")
	}); len(got) != 0 {
		t.Errorf("reported: got %+v; want len(got) == 0", got)
	}
}
