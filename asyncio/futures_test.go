package asyncio_test

// Transcriptions of CPython's Lib/test/test_asyncio/test_futures.py
// (3.11, with the 3.12 and 3.13 cases added since), named TestFutures_<case>. Cases Go cannot express are listed at
// the end of the file.

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

func TestFutures_test_initial_state(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		f := asyncio.NewFuture[int](loop)
		if f.Cancelled() || f.Done() {
			t.Errorf("new future is cancelled or done: got f.Cancelled() || f.Done(), want !f.Cancelled() && !f.Done()")
		}
		f.Cancel("")
		if !f.Cancelled() {
			t.Errorf("not cancelled after Cancel: f.Cancelled() got false, want true")
		}
		return nil
	})
}

// Python raises RuntimeError('no current event loop'); NewFuture needs its
// loop and panics without one.
func TestFutures_test_constructor_without_loop(t *testing.T) {
	msg := mustPanic(t, func() { asyncio.NewFuture[int](nil) })
	if !strings.Contains(msg, "nil loop") {
		t.Errorf("panic: got %q, want it to contain %q", msg, "nil loop")
	}
}

func TestFutures_test_constructor_use_running_loop(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		l, err := asyncio.GetRunningLoop(ctx)
		if err != nil {
			return err
		}
		if f := asyncio.NewFuture[int](l); f.Loop() != loop {
			t.Errorf("future's loop is not the running loop: got f.Loop() != loop, want f.Loop() == loop")
		}
		return nil
	})
}

// The zero Future (Python: __new__ without __init__): reading is an
// InvalidStateError, changing it panics.
func TestFutures_test_uninitialized(t *testing.T) {
	var f asyncio.Future[int]
	if _, err := f.Result(); !errors.Is(err, asyncio.ErrInvalidState) {
		t.Errorf("Result: got %v, want an error matching asyncio.ErrInvalidState", err)
	}
	if err := f.Exception(); !errors.Is(err, asyncio.ErrInvalidState) {
		t.Errorf("Exception: got %v, want an error matching asyncio.ErrInvalidState", err)
	}
	for name, fn := range map[string]func(){
		"SetResult":       func() { f.SetResult(1) },
		"SetException":    func() { f.SetException(errors.New("x")) },
		"Cancel":          func() { f.Cancel("") },
		"AddDoneCallback": func() { f.AddDoneCallback(func(context.Context) {}) },
	} {
		if msg := mustPanic(t, fn); !strings.Contains(msg, "not made by NewFuture") {
			t.Errorf("%s: got panic %q; want strings.Contains(msg, \"not made by NewFuture\")", name, msg)
		}
	}
	if f.RemoveDoneCallback(nil) != 0 || f.Cancelled() || f.Done() {
		t.Errorf("zero future is not pending: got f.RemoveDoneCallback(nil) != 0 || f.Cancelled() || f.Done(), want f.RemoveDoneCallback(nil) == 0 && !f.Cancelled() && !f.Done()")
	}
	_ = f.String()
}

func TestFutures_test_future_cancel_message_getter(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		f := asyncio.NewFuture[int](loop)
		f.Cancel("my message")
		_, err := asyncio.Await(ctx, f)
		var ce *asyncio.CancelledError
		if !errors.As(err, &ce) || ce.Msg != "my message" {
			t.Errorf("Await: got %v; want errors.As(err, &ce) && ce.Msg == \"my message\"", err)
		}
		return nil
	})
}

func TestFutures_test_cancel(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		f := asyncio.NewFuture[int](loop)
		if !f.Cancel("") || !f.Cancelled() || !f.Done() {
			t.Errorf("Cancel: got !f.Cancel(\"\") || !f.Cancelled() || !f.Done(), want f.Cancel(\"\") && f.Cancelled() && f.Done()")
		}
		if _, err := f.Result(); !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("Result: got %v, want an error matching asyncio.ErrCancelled", err)
		}
		if err := f.Exception(); !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("Exception: got %v, want an error matching asyncio.ErrCancelled", err)
		}
		if err := f.SetResult(1); !errors.Is(err, asyncio.ErrInvalidState) {
			t.Errorf("SetResult: got %v, want an error matching asyncio.ErrInvalidState", err)
		}
		if err := f.SetException(errors.New("x")); !errors.Is(err, asyncio.ErrInvalidState) {
			t.Errorf("SetException: got %v, want an error matching asyncio.ErrInvalidState", err)
		}
		if f.Cancel("") {
			t.Errorf("second Cancel reported true: f.Cancel(\"\") got true, want false")
		}
		return nil
	})
}

func TestFutures_test_result(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		f := asyncio.NewFuture[int](loop)
		if _, err := f.Result(); !errors.Is(err, asyncio.ErrInvalidState) {
			t.Errorf("Result of a pending future: got %v, want an error matching asyncio.ErrInvalidState", err)
		}
		if err := f.SetResult(42); err != nil {
			return err
		}
		if f.Cancelled() || !f.Done() {
			t.Errorf("state: got f.Cancelled() || !f.Done(), want !f.Cancelled() && f.Done()")
		}
		if v, err := f.Result(); v != 42 || err != nil {
			t.Errorf("Result: got %v, %v; want v == 42 && err == nil", v, err)
		}
		if err := f.Exception(); err != nil {
			t.Errorf("Exception: got %v, want nil", err)
		}
		if err := f.SetResult(1); !errors.Is(err, asyncio.ErrInvalidState) {
			t.Errorf("SetResult: got %v, want an error matching asyncio.ErrInvalidState", err)
		}
		if err := f.SetException(errors.New("x")); !errors.Is(err, asyncio.ErrInvalidState) {
			t.Errorf("SetException: got %v, want an error matching asyncio.ErrInvalidState", err)
		}
		if f.Cancel("") {
			t.Errorf("Cancel of a done future reported true: f.Cancel(\"\") got true, want false")
		}
		return nil
	})
}

func TestFutures_test_exception(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		exc := errors.New("RuntimeError")
		f := asyncio.NewFuture[int](loop)
		if err := f.Exception(); !errors.Is(err, asyncio.ErrInvalidState) {
			t.Errorf("Exception of a pending future: got %v, want an error matching asyncio.ErrInvalidState", err)
		}
		// Python refuses StopIteration (TypeError); Go refuses nil.
		if msg := mustPanic(t, func() { f.SetException(nil) }); !strings.Contains(msg, "nil") {
			t.Errorf("SetException(nil): got %q, want it to contain %q", msg, "nil")
		}
		if err := f.SetException(exc); err != nil {
			return err
		}
		if f.Cancelled() || !f.Done() {
			t.Errorf("state: got f.Cancelled() || !f.Done(), want !f.Cancelled() && f.Done()")
		}
		if _, err := f.Result(); err != exc {
			t.Errorf("Result: got %v, want %v", err, exc)
		}
		if err := f.Exception(); err != exc {
			t.Errorf("Exception: got %v, want %v", err, exc)
		}
		if err := f.SetResult(1); !errors.Is(err, asyncio.ErrInvalidState) {
			t.Errorf("SetResult: got %v, want an error matching asyncio.ErrInvalidState", err)
		}
		if err := f.SetException(exc); !errors.Is(err, asyncio.ErrInvalidState) {
			t.Errorf("SetException: got %v, want an error matching asyncio.ErrInvalidState", err)
		}
		if f.Cancel("") {
			t.Errorf("Cancel of a done future reported true: f.Cancel(\"\") got true, want false")
		}
		return nil
	})
}

// test_yield_from_twice, as await: awaiting a future twice gives the
// result twice, and the second await does not suspend.
func TestFutures_test_yield_from_twice(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		f := asyncio.NewFuture[int](loop)
		loop.CallSoon(func(context.Context) { f.SetResult(42) })
		x, err := asyncio.Await(ctx, f)
		if x != 42 || err != nil {
			t.Errorf("first: got %v, %v; want x == 42 && err == nil", x, err)
		}
		ran := false
		loop.CallSoon(func(context.Context) { ran = true })
		y, err := asyncio.Await(ctx, f)
		if y != 42 || err != nil || ran {
			t.Errorf("second: got %v, %v, suspended=%v; want y == 42 && err == nil && !ran", y, err, ran)
		}
		return nil
	})
}

func first_cb(context.Context) {}
func last_cb(context.Context)  {}
func fakefunc(context.Context) {}

func TestFutures_test_future_repr(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		loop.SetDebug(true)
		fd := asyncio.NewFuture[int](loop)
		if s := fd.String(); !strings.HasPrefix(s, "<Future pending created at ") || !strings.Contains(s, "futures_test.go:") {
			t.Errorf("debug: got %s; want strings.HasPrefix(s, \"<Future pending created at \") && strings.Contains(s, \"futures_test.go:\")", s)
		}
		fd.Cancel("")
		loop.SetDebug(false)

		check := func(f interface{ String() string }, want string) {
			t.Helper()
			if got := f.String(); got != want {
				t.Errorf("got %s, want %s", got, want)
			}
		}
		fp := asyncio.NewFuture[int](loop)
		check(fp, "<Future pending>")
		fp.Cancel("")
		check(fp, "<Future cancelled>")
		fr := asyncio.NewFuture[int](loop)
		fr.SetResult(4)
		check(fr, "<Future finished result=4>")
		fe := asyncio.NewFuture[int](loop)
		fe.SetException(errors.New("RuntimeError()"))
		check(fe, `<Future finished exception="RuntimeError()">`)
		fe.Exception()

		f1 := asyncio.NewFuture[int](loop)
		f1.AddDoneCallback(fakefunc)
		if s := f1.String(); !strings.HasPrefix(s, "<Future pending cb=[") || !strings.Contains(s, "fakefunc()]>") {
			t.Errorf("one callback: got %s; want strings.HasPrefix(s, \"<Future pending cb=[\") && strings.Contains(s, \"fakefunc()]>\")", s)
		}
		f1.Cancel("")
		check(f1, "<Future cancelled>")
		f2 := asyncio.NewFuture[int](loop)
		f2.AddDoneCallback(first_cb)
		f2.AddDoneCallback(last_cb)
		if s := f2.String(); !strings.Contains(s, "first_cb(), ") || !strings.HasSuffix(s, "last_cb()]>") {
			t.Errorf("two callbacks: got %s; want strings.Contains(s, \"first_cb(), \") && strings.HasSuffix(s, \"last_cb()]>\")", s)
		}
		f2.Cancel("")
		fm := asyncio.NewFuture[int](loop)
		fm.AddDoneCallback(first_cb)
		for range 8 {
			fm.AddDoneCallback(fakefunc)
		}
		fm.AddDoneCallback(last_cb)
		if s := fm.String(); !strings.Contains(s, "first_cb(), <8 more>, ") || !strings.HasSuffix(s, "last_cb()]>") {
			t.Errorf("many callbacks: got %s; want strings.Contains(s, \"first_cb(), <8 more>, \") && strings.HasSuffix(s, \"last_cb()]>\")", s)
		}
		fm.Cancel("")
		check(fm, "<Future cancelled>")
		return nil
	})
}

func TestFutures_test_future_source_traceback(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		loop.SetDebug(true)
		defer loop.SetDebug(false)
		f := asyncio.NewFuture[int](loop)
		if s := f.String(); !strings.Contains(s, "futures_test.go:") {
			t.Errorf("f.String: got %s, want it to contain %q", s, "futures_test.go:")
		}
		f.Cancel("")
		return nil
	})
}

// bag returns a callback appending thing to *b.
func bagAppender(b *[]int, thing int) func(context.Context) {
	return func(context.Context) { *b = append(*b, thing) }
}

func TestFutures_test_callbacks_remove_first_callback(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var bag []int
		f := asyncio.NewFuture[string](loop)
		h1 := f.AddDoneCallback(bagAppender(&bag, 42))
		f.AddDoneCallback(bagAppender(&bag, 17))
		f.AddDoneCallback(bagAppender(&bag, 100))
		f.RemoveDoneCallback(h1)
		f.RemoveDoneCallback(h1)
		if len(bag) != 0 {
			t.Errorf("callbacks ran early: got %v, want 0", len(bag))
		}
		f.SetResult("foo")
		runBriefly(ctx)
		if !slices.Equal(bag, []int{17, 100}) {
			t.Errorf("bag: got %v, want %v", bag, []int{17, 100})
		}
		if v, _ := f.Result(); v != "foo" {
			t.Errorf("result: got %v, want %v", v, "foo")
		}
		return nil
	})
}

func TestFutures_test_callbacks_remove_first_and_second_callback(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var bag []int
		f := asyncio.NewFuture[string](loop)
		h1 := f.AddDoneCallback(bagAppender(&bag, 42))
		h2 := f.AddDoneCallback(bagAppender(&bag, 17))
		f.AddDoneCallback(bagAppender(&bag, 100))
		f.RemoveDoneCallback(h1)
		f.RemoveDoneCallback(h2)
		f.RemoveDoneCallback(h1)
		f.SetResult("foo")
		runBriefly(ctx)
		if !slices.Equal(bag, []int{100}) {
			t.Errorf("bag: got %v, want %v", bag, []int{100})
		}
		return nil
	})
}

func TestFutures_test_callbacks_remove_third_callback(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var bag []int
		f := asyncio.NewFuture[string](loop)
		f.AddDoneCallback(bagAppender(&bag, 42))
		f.AddDoneCallback(bagAppender(&bag, 17))
		h3 := f.AddDoneCallback(bagAppender(&bag, 100))
		f.RemoveDoneCallback(h3)
		f.RemoveDoneCallback(h3)
		f.SetResult("foo")
		runBriefly(ctx)
		if !slices.Equal(bag, []int{42, 17}) {
			t.Errorf("bag: got %v, want %v", bag, []int{42, 17})
		}
		return nil
	})
}

func TestFutures_test_callbacks_invoked_on_set_result(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var bag []int
		f := asyncio.NewFuture[string](loop)
		f.AddDoneCallback(bagAppender(&bag, 42))
		f.AddDoneCallback(bagAppender(&bag, 17))
		f.SetResult("foo")
		if len(bag) != 0 {
			t.Errorf("callbacks ran synchronously: got %v, want 0", len(bag))
		}
		runBriefly(ctx)
		if !slices.Equal(bag, []int{42, 17}) {
			t.Errorf("bag: got %v, want %v", bag, []int{42, 17})
		}
		return nil
	})
}

func TestFutures_test_callbacks_invoked_on_set_exception(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var bag []int
		f := asyncio.NewFuture[string](loop)
		f.AddDoneCallback(bagAppender(&bag, 100))
		exc := errors.New("RuntimeError")
		f.SetException(exc)
		runBriefly(ctx)
		if !slices.Equal(bag, []int{100}) {
			t.Errorf("bag: got %v, want %v", bag, []int{100})
		}
		if f.Exception() != exc {
			t.Errorf("exception: got f.Exception() != exc, want f.Exception() == exc")
		}
		return nil
	})
}

// test_remove_done_callback removes "all instances of cb1" by equality;
// Go functions are not comparable, so each registration is removed by its
// handle, and RemoveDoneCallback counts 0 or 1.
func TestFutures_test_remove_done_callback(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		var bag []int
		f := asyncio.NewFuture[string](loop)
		cb1, cb2 := bagAppender(&bag, 1), bagAppender(&bag, 2)
		h1 := f.AddDoneCallback(cb1)
		h2 := f.AddDoneCallback(cb2)
		if n := f.RemoveDoneCallback(h2); n != 1 {
			t.Errorf("removed: got %d, want %d", n, 1)
		}
		other := asyncio.NewFuture[string](loop)
		h3 := other.AddDoneCallback(bagAppender(&bag, 3))
		if n := f.RemoveDoneCallback(h3); n != 0 {
			t.Errorf("removed a callback of another future: got %d, want %d", n, 0)
		}
		f.AddDoneCallback(cb2)
		hs := []*asyncio.Handle{h1}
		for range 5 {
			hs = append(hs, f.AddDoneCallback(cb1))
		}
		n := 0
		for _, h := range hs {
			n += f.RemoveDoneCallback(h)
		}
		if n != 6 {
			t.Errorf("removed: got %d, want %d", n, 6)
		}
		f.SetResult("foo")
		runBriefly(ctx)
		if !slices.Equal(bag, []int{2}) {
			t.Errorf("bag: got %v, want %v", bag, []int{2})
		}
		other.Cancel("")
		return nil
	})
}

// test_schedule_callbacks_list_mutation_1: a callback removing others
// while the callbacks run finds them already scheduled; nothing breaks.
func TestFutures_test_schedule_callbacks_list_mutation_1(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		f := asyncio.NewFuture[int](loop)
		var hs []*asyncio.Handle
		var removed int
		f.AddDoneCallback(func(context.Context) {
			for _, h := range hs {
				removed += f.RemoveDoneCallback(h)
			}
		})
		n := 0
		hs = append(hs, f.AddDoneCallback(func(context.Context) { n++ }), f.AddDoneCallback(func(context.Context) { n++ }))
		f.SetResult(1)
		runBriefly(ctx)
		if removed != 0 || n != 2 {
			t.Errorf("got removed %d, ran %d; want removed == 0 && n == 2", removed, n)
		}
		return nil
	})
}

// A callback added to a future that is already done is scheduled, never
// run synchronously (CPython's add_done_callback uses call_soon).
func TestFutures_add_done_callback_when_done(t *testing.T) {
	mainTask(t, func(t *testing.T, ctx context.Context, loop *asyncio.Loop) error {
		f := asyncio.NewFuture[int](loop)
		f.SetResult(1)
		ran := false
		f.AddDoneCallback(func(context.Context) { ran = true })
		if ran {
			t.Errorf("ran synchronously: ran got true, want false")
		}
		runBriefly(ctx)
		if !ran {
			t.Errorf("never ran: ran got false, want true")
		}
		return nil
	})
}

// Not transcribed (Go cannot express them, or they test CPython internals):
//   test_wrap_future*, test_ensure_future, test_isfuture, test_generic_alias,
//   test_constructor_use_global_loop (no global loop in Go),
//   test_constructor_positional, test_exception_class (no exception classes),
//   test_future_cancel_message_setter and test_log_traceback (private
//   attributes), test_copy_state, test_iter, test_future_stop_iteration_args,
//   test_future_iter_throw (generator protocol), test_future_del_collect,
//   test_future_del_segfault, test_inherit_without_calling_super_init,
//   test_remove_done_callbacks_list_mutation/_clear and
//   test_schedule_callbacks_list_mutation_2 (they rely on __eq__ of a
//   callback; handles are compared by identity here).
// The test_tb_logger_* and test_future_exception_never_retrieved* cases
// are in unretrieved_test.go.
