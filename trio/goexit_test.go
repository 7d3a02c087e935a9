package trio_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trioasyncio/trioasyncio/trio"
)

// inGoroutine runs fn in a new goroutine and reports whether fn returned
// (false: it ended by runtime.Goexit) and what it panicked with.
func inGoroutine(fn func()) (returned bool, panicked any) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { panicked = recover() }()
		fn()
		returned = true
	}()
	<-done
	return returned, panicked
}

// A body that calls runtime.Goexit (t.Fatal in the test's goroutine) still
// cancels the nursery and waits for every child before the Goexit goes on.
func TestNurseryBodyGoexitWaitsForChildren(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var childEnded atomic.Bool
		returned, panicked := inGoroutine(func() {
			trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
				n.StartSoon(func(ctx context.Context) error {
					defer childEnded.Store(true)
					return trio.SleepForever(ctx) // cancelled because of the Goexit
				})
				runtime.Goexit()
				return nil
			})
		})
		if returned || panicked != nil || !childEnded.Load() {
			t.Errorf("OpenNursery returned: %v, panicked: %v, child ended before the Goexit went on: %v; want false, nil, true",
				returned, panicked, childEnded.Load())
		}
	})
}

// A child that calls runtime.Goexit (t.Fatal in a child) ends like a
// failure: the nursery is cancelled and waits for everything, and then the
// Goexit goes on in OpenNursery's goroutine instead of a return.
func TestNurseryChildGoexitCancelsAndGoesOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var bodyErr, siblingErr error
		returned, panicked := inGoroutine(func() {
			trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
				n.StartSoon(func(ctx context.Context) error {
					siblingErr = trio.Sleep(ctx, time.Hour)
					return siblingErr
				})
				n.StartSoon(func(ctx context.Context) error { runtime.Goexit(); return nil })
				bodyErr = trio.SleepForever(ctx)
				return bodyErr
			})
		})
		if returned || panicked != nil {
			t.Errorf("OpenNursery returned: %v, panicked: %v; want the Goexit to go on", returned, panicked)
		}
		for _, err := range []error{bodyErr, siblingErr} {
			var ce *trio.CancelledError
			if !errors.As(err, &ce) || !strings.Contains(ce.Reason, "runtime.Goexit") {
				t.Errorf("body/sibling got %v; want the nursery's cancellation naming runtime.Goexit", err)
			}
		}
	})
}

// Start: a Goexit before started goes on in the caller's goroutine; one
// after started is the nursery's.
func TestStartGoexit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var nurseryErr error
		returned, _ := inGoroutine(func() {
			nurseryErr = trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
				returned, _ := inGoroutine(func() {
					trio.Start(ctx, n, func(ctx context.Context, started func(int)) error { runtime.Goexit(); return nil })
				})
				if returned {
					t.Error("Start returned after fn called runtime.Goexit before started")
				}
				return nil
			})
		})
		if !returned || nurseryErr != nil {
			t.Errorf("OpenNursery returned %v, %v; want true, nil: an early Goexit is the caller's", returned, nurseryErr)
		}

		returned, _ = inGoroutine(func() {
			trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
				trio.Start(ctx, n, func(ctx context.Context, started func(int)) error {
					started(1)
					runtime.Goexit()
					return nil
				})
				return trio.SleepForever(ctx) // cancelled because of the Goexit
			})
		})
		if returned {
			t.Error("OpenNursery returned after a started child called runtime.Goexit")
		}
	})
}

// A Goexit inside CancelScope.Run leaves the scope cleanly: its deadline
// timer no longer fires for it.
func TestCancelScopeRunGoexit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var s trio.CancelScope
		s.SetDeadline(time.Now().Add(time.Second))
		returned, _ := inGoroutine(func() {
			s.Run(context.Background(), func(ctx context.Context) error { runtime.Goexit(); return nil })
		})
		time.Sleep(2 * time.Second)
		if returned || s.CancelCalled() {
			t.Errorf("Run returned: %v; deadline fired after the Goexit: %v; want false, false", returned, s.CancelCalled())
		}
	})
}

// Every panic and error of a nursery survives: the first panic is
// re-raised and carries the later panics and the errors in Others, where
// errors.Is and errors.As find them.
func TestNurseryKeepsEveryPanicAndError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errSecond := errors.New("second")
		_, panicked := inGoroutine(func() {
			trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
				n.StartSoon(func(ctx context.Context) error { panic("first") })
				n.StartSoon(func(ctx context.Context) error {
					trio.Sleep(context.WithoutCancel(ctx), time.Second)
					panic(errSecond)
				})
				n.StartSoon(func(ctx context.Context) error {
					trio.Sleep(context.WithoutCancel(ctx), 2*time.Second)
					return errBoom
				})
				return trio.SleepForever(ctx)
			})
		})
		p, ok := panicked.(*trio.PanicError)
		if !ok {
			t.Fatalf("panicked with %#v, want a *trio.PanicError", panicked)
		}
		if p.Value != "first" || len(p.Others) != 2 {
			t.Fatalf("PanicError{Value: %v, Others: %v}; want first, with the second panic and boom", p.Value, p.Others)
		}
		if q, ok := p.Others[0].(*trio.PanicError); !ok || q.Value != errSecond {
			t.Errorf("Others[0] = %v, want the second panic", p.Others[0])
		}
		if !errors.Is(p, errSecond) || !errors.Is(p, errBoom) {
			t.Errorf("errors.Is does not reach the others: %v", p)
		}
		if msg := p.Error(); !strings.Contains(msg, "panic: second") || !strings.Contains(msg, "boom") {
			t.Errorf("Error() = %q, want it to mention the others", msg)
		}
	})
}

// A Goexit does not make other failures vanish: with a sibling's error,
// OpenNursery returns it joined with ErrGoexit instead of passing the
// Goexit on; with a panic, the PanicError carries ErrGoexit.
func TestNurseryGoexitKeepsOtherFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var err error
		returned, _ := inGoroutine(func() {
			err = trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
				n.StartSoon(func(ctx context.Context) error { runtime.Goexit(); return nil })
				n.StartSoon(func(ctx context.Context) error {
					<-ctx.Done()
					return errBoom // not a cancellation
				})
				return nil
			})
		})
		if !returned || !errors.Is(err, errBoom) || !errors.Is(err, trio.ErrGoexit) {
			t.Errorf("OpenNursery returned: %v, err %v; want it to return boom joined with ErrGoexit", returned, err)
		}

		returned, panicked := inGoroutine(func() {
			trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
				n.StartSoon(func(ctx context.Context) error { runtime.Goexit(); return nil })
				<-ctx.Done()
				panic("body")
			})
		})
		p, ok := panicked.(*trio.PanicError)
		if returned || !ok || p.Value != "body" || !errors.Is(p, trio.ErrGoexit) {
			t.Errorf("OpenNursery returned: %v, panicked %v; want the body's panic carrying ErrGoexit", returned, panicked)
		}
	})
}
