package asyncio_test

// The loop's own semantics: CPython's _run_once ordering, timers,
// CallSoonThreadsafe, the exception handler, debug mode, OpenLoop's
// shutdown.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

// settle returns once the loop has run two more iterations: a
// CallSoonThreadsafe callback drained in an iteration runs before the
// timers that came due in it, so one round trip does not wait for those.
func settle(ctx context.Context, loop *asyncio.Loop) {
	onLoop(ctx, loop, func(context.Context) {})
	onLoop(ctx, loop, func(context.Context) {})
}

// record returns a callback appending s to *log.
func record(log *[]string, s string) func(context.Context) {
	return func(context.Context) { *log = append(*log, s) }
}

// A timer that is due is appended to the END of the ready queue: it runs
// after the callbacks scheduled before the iteration, even those scheduled
// after it.
func TestRunOnce_due_timer_runs_after_ready_callbacks(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		var log []string
		onLoop(ctx, loop, func(ctx context.Context) {
			loop.CallSoon(record(&log, "a"))
			loop.CallAt(loop.Time().Add(-time.Second), record(&log, "t"))
			loop.CallSoon(record(&log, "b"))
		})
		settle(ctx, loop)
		if !slices.Equal(log, []string{"a", "b", "t"}) {
			t.Errorf("log: got %v, want %v", log, []string{"a", "b", "t"})
		}
	})
}

// A callback scheduled while a batch runs runs in the next iteration: a
// callback rescheduling itself does not starve a timer that came due
// meanwhile (each iteration sleeps 1 ms of fake time; the timer is due at
// 1.5 ms, so it runs right after the third call).
func TestRunOnce_callback_scheduled_during_batch_runs_next_iteration(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		var log []string
		done := make(chan struct{})
		n := 0
		var r func(context.Context)
		r = func(context.Context) {
			n++
			log = append(log, fmt.Sprint("r", n))
			time.Sleep(time.Millisecond)
			if n < 6 {
				loop.CallSoon(r)
			} else {
				close(done)
			}
		}
		loop.CallSoonThreadsafe(func(ctx context.Context) {
			loop.CallSoon(r)
			loop.CallLater(1500*time.Microsecond, record(&log, "t"))
		})
		<-done
		if want := []string{"r1", "r2", "r3", "t", "r4", "r5", "r6"}; !slices.Equal(log, want) {
			t.Errorf("got %v, want %v", log, want)
		}
	})
}

// Callbacks run FIFO; one scheduled by a callback runs after those that
// were already scheduled.
func TestRunOnce_fifo(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		var log []string
		onLoop(ctx, loop, func(ctx context.Context) {
			loop.CallSoon(func(context.Context) {
				log = append(log, "a")
				loop.CallSoon(record(&log, "c"))
			})
			loop.CallSoon(record(&log, "b"))
		})
		onLoop(ctx, loop, func(context.Context) {})
		onLoop(ctx, loop, func(context.Context) {})
		if !slices.Equal(log, []string{"a", "b", "c"}) {
			t.Errorf("log: got %v, want %v", log, []string{"a", "b", "c"})
		}
	})
}

// Timers run in deadline order, ties in scheduling order, at their time
// on the (fake) clock.
func TestTimers_order_and_ties(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		var log []string
		var at []time.Duration
		start := loop.Time()
		done := make(chan struct{})
		rec := func(s string) func(context.Context) {
			return func(context.Context) {
				log = append(log, s)
				at = append(at, loop.Time().Sub(start))
				if len(log) == 6 {
					close(done)
				}
			}
		}
		onLoop(ctx, loop, func(ctx context.Context) {
			loop.CallLater(30*time.Millisecond, rec("30a"))
			loop.CallLater(10*time.Millisecond, rec("10a"))
			loop.CallAt(start.Add(30*time.Millisecond), rec("30b"))
			loop.CallLater(20*time.Millisecond, rec("20"))
			loop.CallLater(10*time.Millisecond, rec("10b"))
			loop.CallLater(30*time.Millisecond, rec("30c"))
		})
		<-done
		if want := []string{"10a", "10b", "20", "30a", "30b", "30c"}; !slices.Equal(log, want) {
			t.Errorf("order: got %v, want %v", log, want)
		}
		if want := []time.Duration{10, 10, 20, 30, 30, 30}; !slices.Equal(at, scaleMs(want)) {
			t.Errorf("got times %v; want slices.Equal(at, scaleMs(want))", at)
		}
	})
}

func scaleMs(ds []time.Duration) []time.Duration {
	for i := range ds {
		ds[i] *= time.Millisecond
	}
	return ds
}

func TestTimers_cancel_and_when(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		var log []string
		var th *asyncio.TimerHandle
		onLoop(ctx, loop, func(ctx context.Context) {
			now := loop.Time()
			th = loop.CallLater(10*time.Millisecond, record(&log, "cancelled"))
			if w := th.When(); !w.Equal(now.Add(10 * time.Millisecond)) {
				t.Errorf("When: got %v, want %v", w, now.Add(10*time.Millisecond))
			}
			loop.CallLater(20*time.Millisecond, record(&log, "kept"))
			th.Cancel()
			th.Cancel()
			if !th.Cancelled() {
				t.Errorf("not Cancelled: th.Cancelled() got false, want true")
			}
			h := loop.CallSoon(record(&log, "soon, cancelled"))
			h.Cancel()
		})
		time.Sleep(50 * time.Millisecond)
		onLoop(ctx, loop, func(context.Context) {})
		if !slices.Equal(log, []string{"kept"}) {
			t.Errorf("log: got %v, want %v", log, []string{"kept"})
		}
	})
}

// Many goroutines calling CallSoonThreadsafe at once lose nothing, and
// each goroutine's callbacks run in its order.
func TestCallSoonThreadsafe_many_goroutines(t *testing.T) {
	const goroutines, calls = 50, 2000
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		last := make([]int, goroutines)
		total := 0
		bad := 0
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				for i := 1; i <= calls; i++ {
					if _, err := loop.CallSoonThreadsafe(func(context.Context) {
						if last[g] != i-1 {
							bad++
						}
						last[g] = i
						total++
					}); err != nil {
						t.Errorf("loop.CallSoonThreadsafe: got %v, want nil", err)
						return
					}
					if i%100 == 0 {
						time.Sleep(time.Microsecond) // let the loop drain meanwhile
					}
				}
			})
		}
		wg.Wait()
		onLoop(ctx, loop, func(context.Context) {
			if total != goroutines*calls || bad != 0 {
				t.Errorf("got ran %d of %d callbacks, %d out of order; want total == goroutines * calls && bad == 0", total, goroutines*calls, bad)
			}
		})
	})
}

// An idle loop (no timers, nothing ready) wakes for CallSoonThreadsafe.
func TestCallSoonThreadsafe_wakes_idle_loop(t *testing.T) {
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		synctest.Wait() // the loop is idle, durably blocked
		for range 3 {
			onLoop(ctx, loop, func(context.Context) {})
			synctest.Wait()
		}
	})
}

func TestCallSoon_nil_callback_panics(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		onLoop(ctx, loop, func(ctx context.Context) {
			for name, call := range map[string]func(){
				"CallSoon":  func() { loop.CallSoon(nil) },
				"CallLater": func() { loop.CallLater(0, nil) },
				"CallAt":    func() { loop.CallAt(time.Now(), nil) },
			} {
				if msg := mustPanic(t, call); !strings.Contains(msg, "nil callback") {
					t.Errorf("%s: got %q; want strings.Contains(msg, \"nil callback\")", name, msg)
				}
			}
		})
		if msg := mustPanic(t, func() { loop.CallSoonThreadsafe(nil) }); !strings.Contains(msg, "nil callback") {
			t.Errorf("CallSoonThreadsafe: got %q, want it to contain %q", msg, "nil callback")
		}
	})
}

func TestGetRunningLoop(t *testing.T) {
	if _, err := asyncio.GetRunningLoop(context.Background()); !errors.Is(err, asyncio.ErrNoRunningLoop) ||
		err.Error() != "asyncio: no running event loop (asyncio used outside OpenLoop)" {
		t.Errorf("outside: got %v; want errors.Is(err, asyncio.ErrNoRunningLoop) && err.Error() == \"asyncio: no running event loop (asyncio used outside OpenLoop)\"", err)
	}
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		if l, err := asyncio.GetRunningLoop(ctx); l != loop || err != nil {
			t.Errorf("body: got %v, %v; want l == loop && err == nil", l, err)
		}
		onLoop(ctx, loop, func(ctx context.Context) {
			if l, err := asyncio.GetRunningLoop(ctx); l != loop || err != nil {
				t.Errorf("callback: got %v, %v; want l == loop && err == nil", l, err)
			}
		})
	})
}

// WithContext: the callback gets the ctx given (its values), and the loop
// is still found from it.
func TestWithContext(t *testing.T) {
	type key struct{}
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		vctx := context.WithValue(context.Background(), key{}, "v")
		done := make(chan struct{})
		loop.CallSoonThreadsafe(func(ctx context.Context) {
			defer close(done)
			if ctx.Value(key{}) != "v" {
				t.Errorf("value lost: got %v, want \"v\"", ctx.Value(key{}))
			}
			if l, _ := asyncio.GetRunningLoop(ctx); l != loop {
				t.Errorf("loop lost: got l != loop, want l == loop")
			}
		}, asyncio.WithContext(vctx))
		<-done
	})
}

// A panic in a callback goes to the exception handler, with its stack, and
// the loop goes on with the next callback.
func TestCallbackPanic_goes_to_handler_and_loop_continues(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		rec := newRecorder(loop)
		var log []string
		onLoop(ctx, loop, func(ctx context.Context) {
			loop.CallSoon(record(&log, "before"))
			loop.CallSoon(panickyCallback)
			loop.CallSoon(record(&log, "after"))
			loop.CallLater(0, record(&log, "timer"))
		})
		settle(ctx, loop)
		if !slices.Equal(log, []string{"before", "after", "timer"}) {
			t.Errorf("log: got %v, want %v", log, []string{"before", "after", "timer"})
		}
		ec := <-rec.ch
		var pe *trio.PanicError
		if !errors.As(ec.Err, &pe) || pe.Value != "boom" || !strings.Contains(string(pe.Stack), "panickyCallback") {
			t.Errorf("got err %v; want errors.As(ec.Err, &pe) && pe.Value == \"boom\" && strings.Contains(string(pe.Stack), \"panickyCallback\")", ec.Err)
		}
		if !strings.HasPrefix(ec.Message, "Exception in callback <Handle ") || !strings.Contains(ec.Message, "panickyCallback") || ec.Handle == nil {
			t.Errorf("got %+v; want strings.HasPrefix(ec.Message, \"Exception in callback <Handle \") && strings.Contains(ec.Message, \"panickyCallback\") && ec.Handle != nil", ec)
		}
	})
}

func panickyCallback(context.Context) { panic("boom") }

// captureSlog redirects the default slog logger to a buffer for the test.
func captureSlog(t *testing.T) func() string {
	var mu sync.Mutex
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		return buf.String()
	}
}

type lockedWriter struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// The default handler logs, and fails the OpenLoop block with the error.
func TestDefaultExceptionHandler_logs(t *testing.T) {
	logs := captureSlog(t)
	err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		onLoop(ctx, loop, func(ctx context.Context) { loop.CallSoon(panickyCallback) })
		return trio.SleepForever(ctx) // cancelled by the failure
	})
	var pe *trio.PanicError
	if !errors.As(err, &pe) || pe.Value != "boom" || !strings.Contains(err.Error(), "Exception in callback") {
		t.Errorf("OpenLoop: got %v, want the callback's panic", err)
	}
	if s := logs(); !strings.Contains(s, "level=ERROR") || !strings.Contains(s, "Exception in callback") || !strings.Contains(s, "boom") {
		t.Errorf("log: got %s; want strings.Contains(s, \"level=ERROR\") && strings.Contains(s, \"Exception in callback\") && strings.Contains(s, \"boom\")", s)
	}
}

// A custom handler that panics: the default handler logs that panic, with
// the context it was handling.
func TestExceptionHandler_panicking_handler(t *testing.T) {
	logs := captureSlog(t)
	err := openLoopErr(func(ctx context.Context, loop *asyncio.Loop) {
		loop.SetExceptionHandler(func(*asyncio.Loop, asyncio.ExceptionContext) { panic("handler bug") })
		if loop.GetExceptionHandler() == nil {
			t.Errorf("GetExceptionHandler: got loop.GetExceptionHandler() == nil, want loop.GetExceptionHandler() != nil")
		}
		onLoop(ctx, loop, func(ctx context.Context) { loop.CallSoon(panickyCallback) })
		onLoop(ctx, loop, func(context.Context) {})
		loop.SetExceptionHandler(nil)
		if loop.GetExceptionHandler() != nil {
			t.Errorf("GetExceptionHandler after reset: got loop.GetExceptionHandler() != nil, want loop.GetExceptionHandler() == nil")
		}
	})
	if err == nil || !strings.Contains(err.Error(), "handler bug") {
		t.Errorf("OpenLoop: got %v, want the handler's panic (the default handler fails the block)", err)
	}
	s := logs()
	if !strings.Contains(s, "Unhandled error in exception handler") || !strings.Contains(s, "handler bug") || !strings.Contains(s, "Exception in callback") {
		t.Errorf("log: got %s; want strings.Contains(s, \"Unhandled error in exception handler\") && strings.Contains(s, \"handler bug\") && strings.Contains(s, \"Exception in callback\")", s)
	}
}

// A default exception handler that panics itself (its slog handler does)
// does not end the loop: the panic goes to the last resort, standard
// error, with CPython's "Exception in default exception handler", the
// next callback of the same iteration runs, and the block fails with the
// error being reported, not with the logger's panic. With a custom handler
// that panics too, the default handler gets "Unhandled error in exception
// handler" with the original context, and its own panic goes to the last
// resort with CPython's longer message.
func TestBaseEvents_test_default_exc_handler_broken(t *testing.T) {
	for _, custom := range []bool{false, true} {
		t.Run(fmt.Sprintf("custom=%v", custom), func(t *testing.T) {
			var mu sync.Mutex
			var out bytes.Buffer
			defer asyncio.SetLastResortOutput(lockedWriter{&mu, &out})()
			logger := &brokenLogger{}
			old := slog.Default()
			slog.SetDefault(slog.New(logger))
			defer slog.SetDefault(old)
			ran := false
			err := openLoopErr(func(ctx context.Context, loop *asyncio.Loop) {
				if custom {
					loop.SetExceptionHandler(func(*asyncio.Loop, asyncio.ExceptionContext) { panic("ham") })
				}
				onLoop(ctx, loop, func(ctx context.Context) {
					loop.CallSoon(func(context.Context) { panic("zero division") })
					loop.CallSoon(func(context.Context) { ran = true })
				})
				<-ctx.Done() // the failure cancels the body
			})
			slog.SetDefault(old)
			want := "zero division"
			if custom {
				want = "ham"
			}
			var pe *trio.PanicError
			if !errors.As(err, &pe) || pe.Value != want || strings.Contains(err.Error(), "logger on fire") {
				t.Errorf("OpenLoop: got %v; want the panic %q reported, not the logger's", err, want)
			}
			if !ran {
				t.Errorf("the loop did not go on: the next callback did not run")
			}
			// Reports of futures that earlier tests left unretrieved may
			// reach the logger meanwhile: only this loop's count.
			msgs := logger.messages()
			wantLog, wantOut := "asyncio: Exception in callback ", "asyncio: Exception in default exception handler (handling \"Exception in callback "
			if custom {
				wantLog, wantOut = "asyncio: Unhandled error in exception handler", "asyncio: Exception in default exception handler while handling an unexpected error in custom exception handler (handling \"Unhandled error in exception handler\")"
			}
			msgs = slices.DeleteFunc(msgs, func(m string) bool { return !strings.HasPrefix(m, wantLog) })
			if len(msgs) != 1 {
				t.Errorf("the default handler logged %q; want one message starting with %q", msgs, wantLog)
			} else if (custom && !strings.Contains(msgs[0], "context=")) || !strings.Contains(msgs[0], "zero division") {
				t.Errorf("the default handler logged %q; want the original context, with the callback's panic", msgs[0])
			}
			mu.Lock()
			s := out.String()
			mu.Unlock()
			if strings.Count(s, wantOut) != 1 || !strings.Contains(s, "logger on fire") {
				t.Errorf("last resort: got %q; want one report starting with %q, with the logger's panic", s, wantOut)
			}
		})
	}
}

// brokenLogger is a slog handler that records each message, with its
// attributes, and then panics.
type brokenLogger struct {
	mu   sync.Mutex
	msgs []string
}

func (*brokenLogger) Enabled(context.Context, slog.Level) bool { return true }
func (h *brokenLogger) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	h.mu.Lock()
	h.msgs = append(h.msgs, b.String())
	h.mu.Unlock()
	panic("logger on fire")
}
func (h *brokenLogger) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *brokenLogger) WithGroup(string) slog.Handler      { return h }

func (h *brokenLogger) messages() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.msgs)
}

// CallExceptionHandler with a custom handler, and the handler deferring to
// the default.
func TestCallExceptionHandler(t *testing.T) {
	logs := captureSlog(t)
	oops := errors.New("oops")
	err := openLoopErr(func(ctx context.Context, loop *asyncio.Loop) {
		var got []string
		loop.SetExceptionHandler(func(l *asyncio.Loop, ec asyncio.ExceptionContext) {
			got = append(got, ec.Message)
			l.DefaultExceptionHandler(ec)
		})
		onLoop(ctx, loop, func(ctx context.Context) {
			loop.CallExceptionHandler(asyncio.ExceptionContext{Message: "custom", Err: oops, Extra: map[string]any{"k": 1}})
		})
		if !slices.Equal(got, []string{"custom"}) {
			t.Errorf("got: got %v, want %v", got, []string{"custom"})
		}
	})
	if !errors.Is(err, oops) {
		t.Errorf("OpenLoop: got %v, want oops (the handler deferred to the default)", err)
	}
	if s := logs(); !strings.Contains(s, "custom") || !strings.Contains(s, "oops") || !strings.Contains(s, "k=1") {
		t.Errorf("log: got %s; want strings.Contains(s, \"custom\") && strings.Contains(s, \"oops\") && strings.Contains(s, \"k=1\")", s)
	}
}

// In debug mode a loop-confined method called from another goroutine
// panics, naming the goroutine-safe alternative.
func TestDebug_foreign_goroutine_panics(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		loop.SetDebug(true)
		if !loop.GetDebug() {
			t.Errorf("GetDebug: loop.GetDebug() got false, want true")
		}
		var fut *asyncio.Future[int]
		onLoop(ctx, loop, func(context.Context) { fut = asyncio.NewFuture[int](loop) })
		for name, call := range map[string]func(){
			"Loop.CallSoon":    func() { loop.CallSoon(func(context.Context) {}) },
			"Loop.CallLater":   func() { loop.CallLater(time.Second, func(context.Context) {}) },
			"Future.SetResult": func() { fut.SetResult(1) },
			"CreateTask":       func() { asyncio.CreateTask(ctx, func(context.Context) (int, error) { return 0, nil }) },
			"Future.Cancel":    func() { fut.Cancel("") },
		} {
			msg := mustPanic(t, call)
			if !strings.Contains(msg, name+" called from a goroutine other than the loop's") || !strings.Contains(msg, "Loop.CallSoonThreadsafe") {
				t.Errorf("%s: got %q; want strings.Contains(msg, name+\" called from a goroutine other than the loop's\") && strings.Contains(msg, \"Loop.CallSoonThreadsafe\")", name, msg)
			}
		}
		// From the loop, and from a task's coroutine, the same calls work.
		runTask(ctx, loop, func(ctx context.Context) (int, error) {
			loop.CallSoon(func(context.Context) {})
			asyncio.Sleep(ctx, 0)
			loop.CallSoon(func(context.Context) {})
			return 0, fut.SetResult(1)
		})
	})
}

// In debug mode callbacks slower than SlowCallbackDuration are logged.
func TestDebug_slow_callback(t *testing.T) {
	logs := captureSlog(t)
	loopBubble(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) {
		loop.SetDebug(true)
		if loop.SlowCallbackDuration() != 100*time.Millisecond {
			t.Errorf("default: got %v, want %v", loop.SlowCallbackDuration(), 100*time.Millisecond)
		}
		onLoop(ctx, loop, func(context.Context) { time.Sleep(50 * time.Millisecond) })
		onLoop(ctx, loop, func(context.Context) { time.Sleep(150 * time.Millisecond) })
		// onLoop returns as soon as the callback closes its channel,
		// before the loop has timed it: let the loop finish that batch
		// before moving the threshold.
		onLoop(ctx, loop, func(context.Context) {})
		loop.SetSlowCallbackDuration(time.Second)
		onLoop(ctx, loop, func(context.Context) { time.Sleep(150 * time.Millisecond) })
	})
	s := logs()
	if n := strings.Count(s, "level=WARN"); n != 1 || !strings.Contains(s, "took 0.150 seconds") {
		t.Errorf("log (%d warnings): got %s; want n == 1 && strings.Contains(s, \"took 0.150 seconds\")", n, s)
	}
}

// In debug mode handles remember where they were created.
func TestDebug_handle_source(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		loop.SetDebug(true)
		rec := newRecorder(loop)
		onLoop(ctx, loop, func(ctx context.Context) {
			h := loop.CallSoon(panickyCallback)
			if s := h.String(); !strings.Contains(s, "created at ") || !strings.Contains(s, "events_test.go:") {
				t.Errorf("h.String: got %s; want strings.Contains(s, \"created at \") && strings.Contains(s, \"events_test.go:\")", s)
			}
			th := loop.CallLater(time.Hour, panickyCallback)
			if s := th.String(); !strings.HasPrefix(s, "<TimerHandle when=") || !strings.Contains(s, "events_test.go:") {
				t.Errorf("th.String: got %s; want strings.HasPrefix(s, \"<TimerHandle when=\") && strings.Contains(s, \"events_test.go:\")", s)
			}
			th.Cancel()
		})
		ec := <-rec.ch
		if !strings.Contains(ec.SourceTraceback, "events_test.go") {
			t.Errorf("source traceback: got %q, want it to contain %q", ec.SourceTraceback, "events_test.go")
		}
	})
}

// When the body returns, the loop cancels the remaining tasks and runs
// until they have finished.
func TestOpenLoop_shutdown_cancels_tasks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var steps []string
		var task *asyncio.Task[int]
		withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
			onLoop(ctx, loop, func(ctx context.Context) {
				task = asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
					err := asyncio.Sleep(ctx, time.Hour)
					steps = append(steps, fmt.Sprint("sleep: ", err))
					// Cleanup that needs the loop still works.
					err2 := asyncio.Sleep(ctx, time.Second)
					steps = append(steps, fmt.Sprint("cleanup: ", err2))
					return 0, err
				})
			})
		})
		if want := []string{"sleep: asyncio: cancelled", "cleanup: <nil>"}; !slices.Equal(steps, want) {
			t.Errorf("steps: got %v, want %v", steps, want)
		}
		if !task.Cancelled() {
			t.Errorf("got %v; want task.Cancelled()", task)
		}
	})
}

// A task that refuses to finish (it ignores its cancellation and waits for
// something nothing will do) is stopped: its deferred calls run, its Await
// panics with an internal value, and it ends cancelled. Nothing leaks.
func TestOpenLoop_shutdown_stops_stubborn_coroutine(t *testing.T) {
	var steps []string
	var task *asyncio.Task[int]
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		onLoop(ctx, loop, func(ctx context.Context) {
			task = asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
				defer func() { steps = append(steps, "deferred") }()
				for {
					_, err := asyncio.Await(ctx, asyncio.NewFuture[int](loop))
					steps = append(steps, fmt.Sprint("ignored: ", err))
				}
			})
		})
	})
	if want := []string{"ignored: asyncio: cancelled", "deferred"}; !slices.Equal(steps, want) {
		t.Errorf("steps: got %v, want %v", steps, want)
	}
	if !task.Cancelled() {
		t.Errorf("got %v; want task.Cancelled()", task)
	}
}

// OpenLoop returns body's error; a panic in body is re-raised after the
// loop's teardown.
func TestOpenLoop_body_error_and_panic(t *testing.T) {
	boom := errors.New("boom")
	if err := asyncio.OpenLoop(context.Background(), func(context.Context, *asyncio.Loop) error { return boom }); err != boom {
		t.Errorf("error: got %v, want %v", err, boom)
	}
	var loop *asyncio.Loop
	msg := mustPanic(t, func() {
		asyncio.OpenLoop(context.Background(), func(_ context.Context, l *asyncio.Loop) error {
			loop = l
			panic("body panic")
		})
	})
	if !strings.Contains(msg, "body panic") || !loop.IsClosed() {
		t.Errorf("got panic %q, closed %v; want strings.Contains(msg, \"body panic\") && loop.IsClosed()", msg, loop.IsClosed())
	}
}

// Loops are independent: nested and side by side.
func TestOpenLoop_nested_loops(t *testing.T) {
	withLoop(t, func(octx context.Context, outer *asyncio.Loop) {
		withLoop(t, func(ictx context.Context, inner *asyncio.Loop) {
			if l, _ := asyncio.GetRunningLoop(ictx); l != inner || inner == outer {
				t.Errorf("inner body's loop: got l != inner || inner == outer, want l == inner && inner != outer")
			}
			a, _ := runTask(ictx, inner, func(ctx context.Context) (int, error) { return 1, nil })
			b, _ := runTask(octx, outer, func(ctx context.Context) (int, error) { return 2, nil })
			if a != 1 || b != 2 {
				t.Errorf("runTask: got %v %v; want a == 1 && b == 2", a, b)
			}
		})
		if outer.IsClosed() {
			t.Errorf("outer closed with inner: outer.IsClosed() got true, want false")
		}
	})
}

// Await and Sleep outside a task are errors that say so, not hangs.
func TestAwait_outside_task(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		var fut *asyncio.Future[int]
		onLoop(ctx, loop, func(cctx context.Context) {
			fut = asyncio.NewFuture[int](loop)
			if _, err := asyncio.Await(cctx, fut); !errors.Is(err, asyncio.ErrAwaitOutsideTask) {
				t.Errorf("from a callback: got %v, want an error matching asyncio.ErrAwaitOutsideTask", err)
			}
			if err := asyncio.Sleep(cctx, 0); !errors.Is(err, asyncio.ErrAwaitOutsideTask) {
				t.Errorf("Sleep from a callback: got %v, want an error matching asyncio.ErrAwaitOutsideTask", err)
			}
		})
		if _, err := asyncio.Await(context.Background(), fut); !errors.Is(err, asyncio.ErrAwaitOutsideTask) ||
			!strings.Contains(err.Error(), "Await outside a task") {
			t.Errorf("without a loop: got %v; want errors.Is(err, asyncio.ErrAwaitOutsideTask) && strings.Contains(err.Error(), \"Await outside a task\")", err)
		}
		// With the ctx of a task that is not the one running.
		runTask(ctx, loop, func(ctx context.Context) (int, error) {
			other := asyncio.CreateTask(ctx, func(octx context.Context) (int, error) {
				return 0, asyncio.Sleep(octx, 0)
			})
			var otherCtx context.Context
			probe := asyncio.CreateTask(ctx, func(pctx context.Context) (int, error) {
				otherCtx = pctx
				return 0, nil
			})
			asyncio.Await(ctx, probe)
			if _, err := asyncio.Await(otherCtx, fut); !errors.Is(err, asyncio.ErrAwaitOutsideTask) {
				t.Errorf("with another task's ctx: got %v, want an error matching asyncio.ErrAwaitOutsideTask", err)
			}
			return asyncio.Await(ctx, other)
		})
		onLoop(ctx, loop, func(context.Context) { fut.Cancel("") })
	})
}

// AllTasks lists the tasks not done, in creation order.
func TestAllTasks(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		main := asyncio.CurrentTask(ctx)
		f := asyncio.NewFuture[int](loop)
		a := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) { return asyncio.Await(ctx, f) })
		b := asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) { return 0, nil })
		if got := asyncio.AllTasks(loop); len(got) != 3 || got[0] != main || got[1] != asyncio.AnyTask(a) || got[2] != asyncio.AnyTask(b) {
			t.Errorf("asyncio.AllTasks: got %v; want len(got) == 3 && got[0] == main && got[1] == asyncio.AnyTask(a) && got[2] == asyncio.AnyTask(b)", got)
		}
		asyncio.Await(ctx, b)
		f.SetResult(1)
		asyncio.Await(ctx, a)
		if got := asyncio.AllTasks(loop); len(got) != 1 || got[0] != main {
			t.Errorf("asyncio.AllTasks: got %v; want len(got) == 1 && got[0] == main", got)
		}
		return nil
	})
}

// A task that, being cancelled at shutdown, starts another task: the new
// one is cancelled at once and never starts; nothing hangs or leaks.
func TestOpenLoop_shutdown_task_spawning_tasks(t *testing.T) {
	var started bool
	var child *asyncio.Task[int]
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		onLoop(ctx, loop, func(ctx context.Context) {
			asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
				asyncio.Await(ctx, asyncio.NewFuture[int](loop)) // cancelled at shutdown
				child = asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
					started = true
					return 0, nil
				})
				return asyncio.Await(ctx, child)
			})
		})
	})
	if started || !child.Cancelled() {
		t.Errorf("got child started %v, %v; want !started && child.Cancelled()", started, child)
	}
}

// CallSoonThreadsafe racing with the loop's close: each call either runs
// or returns ErrLoopClosed.
func TestCallSoonThreadsafe_racing_close(t *testing.T) {
	for range 5 {
		var ran, refused atomic.Int64
		var calls atomic.Int64
		var wg sync.WaitGroup
		var loop *asyncio.Loop
		withLoop(t, func(ctx context.Context, l *asyncio.Loop) {
			loop = l
			for range 4 {
				wg.Go(func() {
					for {
						calls.Add(1)
						if _, err := l.CallSoonThreadsafe(func(context.Context) { ran.Add(1) }); err != nil {
							if !errors.Is(err, asyncio.ErrLoopClosed) {
								t.Errorf("err: got %v, want an error matching asyncio.ErrLoopClosed", err)
							}
							refused.Add(1)
							return
						}
					}
				})
			}
			time.Sleep(time.Millisecond)
		})
		wg.Wait()
		if !loop.IsClosed() || refused.Load() != 4 || ran.Load() > calls.Load()-4 {
			t.Errorf("got ran %d, refused %d, calls %d; want loop.IsClosed() && refused.Load() == 4 && ran.Load() <= calls.Load() - 4", ran.Load(), refused.Load(), calls.Load())
		}
	}
}
