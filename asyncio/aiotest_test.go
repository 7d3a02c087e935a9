package asyncio_test

// Transcriptions of trio-asyncio's tests/aiotest (test_callback.py,
// test_timer.py, test_coroutine.py, test_thread.py), named
// TestAiotest<File>_<case>. The Loop has no run_forever or
// run_until_complete: it runs for the length of an OpenLoop block. Where a
// case stops the loop and waits for that from trio code (loop.stop(),
// await loop.wait_stopped()), the test uses Loop.Stop and
// Loop.WaitStopped; where it runs the loop to observe a result, the test
// observes from trio-flavored code instead (onLoop, runTask).

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

func TestAiotestCallback_test_call_soon(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		var result []string
		done := make(chan struct{})
		loop.CallSoonThreadsafe(func(ctx context.Context) {
			loop.CallSoon(func(context.Context) {
				result = append(result, "Hello World")
				loop.Stop()
			})
		})
		if err := loop.WaitStopped(ctx); err != nil {
			t.Fatal(err)
		}
		// WaitStopped returned after the callback that stopped the loop.
		onLoop(ctx, loop, func(context.Context) { close(done) })
		<-done
		if !slices.Equal(result, []string{"Hello World"}) {
			t.Errorf("result: got %v, want %v", result, []string{"Hello World"})
		}
	})
}

// http://bugs.python.org/issue22875: call_soon() does not call the
// callback at once, but when control returns to the loop.
func TestAiotestCallback_test_call_soon_control(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		var result []string
		done := make(chan struct{})
		onLoop(ctx, loop, func(ctx context.Context) {
			loop.CallSoon(func(context.Context) {
				loop.CallSoon(func(context.Context) {
					result = append(result, "yes")
					close(done)
				})
				result = append(result, fmt.Sprint(len(result)))
			})
		})
		<-done
		if !slices.Equal(result, []string{"0", "yes"}) {
			t.Errorf("result: got %v, want %v", result, []string{"0", "yes"})
		}
	})
}

// test_close: a closed loop refuses everything with "event loop is closed".
// Loop-confined methods panic (it is a programming error to use a loop
// after its block); CallSoonThreadsafe returns ErrLoopClosed.
// (run_until_complete/run_forever do not exist; run_in_executor,
// run_aio_coroutine and add_signal_handler come later.)
func TestAiotestCallback_test_close(t *testing.T) {
	var loop *asyncio.Loop
	var lctx context.Context
	withLoop(t, func(ctx context.Context, l *asyncio.Loop) {
		loop = l
		onLoop(ctx, l, func(ctx context.Context) { lctx = ctx })
	})
	if !loop.IsClosed() {
		t.Errorf("IsClosed after OpenLoop returned: loop.IsClosed() got false, want true")
	}
	fn := func(context.Context) {}
	for name, call := range map[string]func(){
		"CallSoon":   func() { loop.CallSoon(fn) },
		"CallLater":  func() { loop.CallLater(time.Second, fn) },
		"CallAt":     func() { loop.CallAt(loop.Time(), fn) },
		"CreateTask": func() { asyncio.CreateTask(lctx, func(context.Context) (int, error) { return 0, nil }) },
	} {
		if msg := mustPanic(t, call); !strings.Contains(msg, "event loop is closed") {
			t.Errorf("%s: got %q; want strings.Contains(msg, \"event loop is closed\")", name, msg)
		}
	}
	if _, err := loop.CallSoonThreadsafe(fn); !errors.Is(err, asyncio.ErrLoopClosed) || err.Error() != "asyncio: event loop is closed" {
		t.Errorf("CallSoonThreadsafe: got %v; want errors.Is(err, asyncio.ErrLoopClosed) && err.Error() == \"asyncio: event loop is closed\"", err)
	}
	if _, err := asyncio.GetRunningLoop(lctx); !errors.Is(err, asyncio.ErrNoRunningLoop) {
		t.Errorf("GetRunningLoop: got %v, want an error matching asyncio.ErrNoRunningLoop", err)
	}
	if lctx.Err() == nil {
		t.Errorf("the loop's ctx is not cancelled after close: got lctx.Err() == nil, want lctx.Err() != nil")
	}
}

func TestAiotestTimer_test_display_date(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		const delay, count = 50 * time.Millisecond, 3
		var result []time.Time
		done := make(chan struct{})
		var endTime time.Time
		var displayDate func(ctx context.Context)
		displayDate = func(ctx context.Context) {
			if endTime.IsZero() {
				endTime = loop.Time().Add(delay * count)
			}
			result = append(result, time.Now())
			if loop.Time().Add(delay).Before(endTime) {
				loop.CallLater(delay, displayDate)
			} else {
				close(done)
			}
		}
		loop.CallSoonThreadsafe(displayDate)
		<-done
		if len(result) != count {
			t.Errorf("%d calls: got %v; want len(result) == count", len(result), result)
		}
		for i := 1; i < len(result); i++ {
			if d := result[i].Sub(result[i-1]); d != delay {
				t.Errorf("got call %d after %v; want d == delay", i, d)
			}
		}
	})
}

// test_later_stop_later: the second timer stops the loop; trio code looks
// in between, then waits for the stop (WaitStopped) and looks again.
func TestAiotestTimer_test_later_stop_later(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		var result []string
		onLoop(ctx, loop, func(ctx context.Context) {
			loop.CallLater(time.Millisecond, func(context.Context) { result = append(result, "Hello") })
			loop.CallLater(50*time.Millisecond, func(context.Context) {
				result = append(result, "World")
				loop.Stop()
			})
		})
		time.Sleep(25 * time.Millisecond)
		onLoop(ctx, loop, func(context.Context) {
			if !slices.Equal(result, []string{"Hello"}) {
				t.Errorf("at 25 ms: got %v, want %v", result, []string{"Hello"})
			}
		})
		start := time.Now()
		if err := loop.WaitStopped(ctx); err != nil {
			t.Errorf("WaitStopped: got %v, want nil", err)
		}
		if d := time.Since(start); d != 25*time.Millisecond {
			t.Errorf("WaitStopped returned after %v, want 25ms", d)
		}
		onLoop(ctx, loop, func(context.Context) {
			if !slices.Equal(result, []string{"Hello", "World"}) {
				t.Errorf("after the stop: got %v, want %v", result, []string{"Hello", "World"})
			}
		})
	})
}

func helloWorld(result *[]string, delay time.Duration) func(ctx context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		*result = append(*result, "Hello")
		if err := asyncio.Sleep(ctx, delay); err != nil {
			return "", err
		}
		*result = append(*result, "World")
		return ".", nil
	}
}

func TestAiotestCoroutine_test_hello_world(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		var result []string
		if _, err := runTask(ctx, loop, helloWorld(&result, time.Millisecond)); err != nil {
			t.Fatalf("runTask: got %v, want nil", err)
		}
		if !slices.Equal(result, []string{"Hello", "World"}) {
			t.Errorf("result: got %v, want %v", result, []string{"Hello", "World"})
		}
	})
}

func TestAiotestCoroutine_test_waiter(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		var result []string
		_, err := runTask(ctx, loop, func(ctx context.Context) (int, error) {
			fut := asyncio.NewFuture[string](loop)
			loop.CallSoon(func(context.Context) { fut.SetResult("Future") })
			v, err := asyncio.Await(ctx, fut)
			if err != nil {
				return 0, err
			}
			result = append(result, v)
			v, err = helloWorld(&result, time.Millisecond)(ctx)
			result = append(result, v)
			return 0, err
		})
		if err != nil {
			t.Fatalf("runTask: got %v, want nil", err)
		}
		if !slices.Equal(result, []string{"Future", "Hello", "World", "."}) {
			t.Errorf("result: got %v, want %v", result, []string{"Future", "Hello", "World", "."})
		}
	})
}

// curGoid is the current goroutine's id, for the tests.
func curGoid() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	return strings.Fields(string(buf))[1]
}

// test_run_in_thread: a loop runs in another goroutine (a thread in
// Python), in debug mode; call_soon_threadsafe from this goroutine runs
// the callback on the loop's goroutine. (Goroutine ids are not public:
// the test compares them through runtime.Stack, and debug mode checks
// that loop-confined calls in the callback are made on the loop.)
func TestAiotestThread_test_run_in_thread(t *testing.T) {
	loops := make(chan *asyncio.Loop)
	stop := make(chan struct{})
	loopGoid := make(chan string, 1)
	ended := make(chan error)
	go func() {
		ended <- asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
			loop.SetDebug(true)
			loop.CallSoonThreadsafe(func(context.Context) { loopGoid <- curGoid() })
			loops <- loop
			<-stop
			return nil
		})
	}()
	loop := <-loops
	var result []string
	done := make(chan struct{})
	loop.CallSoonThreadsafe(func(ctx context.Context) {
		result = append(result, curGoid())
		loop.CallSoon(func(context.Context) { close(done) }) // would panic off the loop
	})
	<-done
	close(stop)
	if err := <-ended; err != nil {
		t.Fatalf("err: got %v, want nil", err)
	}
	tid := <-loopGoid
	if !slices.Equal(result, []string{tid}) || tid == curGoid() {
		t.Errorf("got ran on goroutine %v; loop's is %s, test's is %s; want slices.Equal(result, []string{tid}) && tid != curGoid()", result, tid, curGoid())
	}
}

// Not transcribed here: test_thread.py's test_ident, test_run_twice and
// test_policy (run_in_executor: executor_test.go checks what they check,
// under RunInExecutor's names; the policy has no Go counterpart);
// test_add_reader.py and test_network.py need I/O, not built yet.
// test_coroutine.py's *_depr variants test deprecated trio-asyncio APIs.
