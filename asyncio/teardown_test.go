package asyncio_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// CPython's test_runners.py RunTests.test_asyncio_run_reports_hanging_tasks_errors,
// with the OpenLoop block as asyncio.run: a task left over when the body
// returns fails (not cancelled) while the teardown cancels it; its error
// reaches the exception handler, with the task, once.
func TestRunners_test_asyncio_run_reports_hanging_tasks_errors(t *testing.T) {
	errDiv := errors.New("division by zero")
	var got []asyncio.ExceptionContext
	var loTask *asyncio.Task[int]
	var v int
	err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		loop.SetExceptionHandler(func(_ *asyncio.Loop, ec asyncio.ExceptionContext) { got = append(got, ec) })
		var err error
		v, err = asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			loTask = asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
				if err := asyncio.Sleep(ctx, 100*time.Millisecond); errors.Is(err, asyncio.ErrCancelled) {
					return 0, errDiv
				}
				return 0, nil
			})
			return 123, nil
		})
		return err
	})
	if err != nil || v != 123 {
		t.Fatalf("OpenLoop: %v, %v", v, err)
	}
	if !loTask.Done() {
		t.Fatalf("leftover task not done")
	}
	if len(got) != 1 {
		t.Fatalf("exception handler called %d times: %v", len(got), got)
	}
	ec := got[0]
	if !strings.Contains(ec.Message, "shutdown") || ec.Err != errDiv || ec.Task != asyncio.AnyTask(loTask) {
		t.Errorf("handler got %+v", ec)
	}
}

// With the default handler, that error makes the block fail; an error
// somebody retrieved during the teardown is not reported.
func TestTeardown_leftover_task_error_fails_the_block_unless_retrieved(t *testing.T) {
	errLeft := errors.New("left over")
	err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.StartTask(ctx, func(ctx context.Context) (int, error) {
			asyncio.Sleep(ctx, time.Hour)
			return 0, errLeft
		})
		return err
	})
	if !errors.Is(err, errLeft) {
		t.Errorf("OpenLoop: %v, want the leftover task's error", err)
	}

	var got []asyncio.ExceptionContext
	err = asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		loop.SetExceptionHandler(func(_ *asyncio.Loop, ec asyncio.ExceptionContext) { got = append(got, ec) })
		_, err := asyncio.StartTask(ctx, func(ctx context.Context) (int, error) {
			inner := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
				asyncio.Sleep(ctx, time.Hour)
				return 0, errLeft
			})
			_, err := asyncio.Await(ctx, inner) // the teardown cancels this task too; it retrieves inner's error
			return 0, err
		})
		return err
	})
	if err != nil {
		t.Errorf("OpenLoop: %v", err)
	}
	// The outer task ends with inner's error, which nobody retrieves:
	// one report, for the outer task.
	if len(got) != 1 || got[0].Err != errLeft {
		t.Errorf("handler got %v", got)
	}
}
