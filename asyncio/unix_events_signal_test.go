//go:build unix

package asyncio_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

// raise sends sig to the test process.
func raise(sig syscall.Signal) { syscall.Kill(os.Getpid(), sig) }

func TestUnixSignal_test_add_signal_handler(t *testing.T) {
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		got := asyncio.NewFuture[string](l)
		if err := l.AddSignalHandler(syscall.SIGUSR1, func(context.Context) { got.SetResult("usr1 with arg") }); err != nil {
			return 0, err
		}
		raise(syscall.SIGUSR1)
		v, err := asyncio.Await(ctx, got)
		if v != "usr1 with arg" {
			t.Errorf("got %q", v)
		}
		if ok, err := l.RemoveSignalHandler(syscall.SIGUSR1); !ok || err != nil {
			t.Errorf("RemoveSignalHandler: %v %v", ok, err)
		}
		if ok, _ := l.RemoveSignalHandler(syscall.SIGUSR1); ok {
			t.Error("removed twice")
		}
		return 0, err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestUnixSignal_test_add_signal_handler_uncatchable(t *testing.T) {
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGSTOP} {
			if err := l.AddSignalHandler(sig, func(context.Context) {}); !errors.Is(err, asyncio.ErrUncatchableSignal) {
				t.Errorf("%v: %v", sig, err)
			}
		}
		for _, sig := range []syscall.Signal{0, -1, 65, 1000} {
			if err := l.AddSignalHandler(sig, func(context.Context) {}); !errors.Is(err, asyncio.ErrInvalidSignal) {
				t.Errorf("%d: %v", sig, err)
			}
			if _, err := l.RemoveSignalHandler(sig); !errors.Is(err, asyncio.ErrInvalidSignal) {
				t.Errorf("remove %d: %v", sig, err)
			}
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestUnixSignal_test_add_signal_handler_replaces(t *testing.T) {
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		got := asyncio.NewFuture[int](l)
		l.AddSignalHandler(syscall.SIGUSR2, func(context.Context) { got.SetResult(1) })
		l.AddSignalHandler(syscall.SIGUSR2, func(context.Context) { got.SetResult(2) })
		raise(syscall.SIGUSR2)
		v, err := asyncio.Await(ctx, got)
		if v != 2 {
			t.Errorf("handler %d ran", v)
		}
		return 0, err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestUnixSignal_two_loops_side_by_side(t *testing.T) {
	var a, b atomic.Int32
	ready := make(chan struct{}, 2)
	err := trio.OpenNursery(context.Background(), func(ctx context.Context, n *trio.Nursery) error {
		for _, c := range []*atomic.Int32{&a, &b} {
			n.StartSoon(func(ctx context.Context) error {
				return asyncio.OpenLoop(ctx, func(ctx context.Context, l *asyncio.Loop) error {
					_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
						got := asyncio.NewFuture[struct{}](l)
						if err := l.AddSignalHandler(syscall.SIGUSR1, func(context.Context) {
							c.Add(1)
							if !got.Done() {
								got.SetResult(struct{}{})
							}
						}); err != nil {
							return 0, err
						}
						ready <- struct{}{}
						_, err := asyncio.Await(ctx, got)
						return 0, err
					})
					return err
				})
			})
		}
		<-ready
		<-ready
		raise(syscall.SIGUSR1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if a.Load() != 1 || b.Load() != 1 {
		t.Fatalf("handlers ran %d and %d times, want 1 and 1", a.Load(), b.Load())
	}
}

func TestUnixSignal_removed_while_pending(t *testing.T) {
	var ran atomic.Int32
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		l.AddSignalHandler(syscall.SIGUSR1, func(context.Context) { ran.Add(1) })
		done := asyncio.NewFuture[struct{}](l)
		l.CallSoon(func(context.Context) {
			raise(syscall.SIGUSR1)
			// The loop is busy: the signal is on its way through the inbox.
			time.Sleep(100 * time.Millisecond)
			l.RemoveSignalHandler(syscall.SIGUSR1)
			done.SetResult(struct{}{})
		})
		if _, err := asyncio.Await(ctx, done); err != nil {
			return 0, err
		}
		for i := 0; i < 10; i++ {
			asyncio.Sleep(ctx, 0)
		}
		return 0, asyncio.Sleep(ctx, 50*time.Millisecond)
	})
	if err != nil {
		t.Fatal(err)
	}
	if ran.Load() != 0 {
		t.Fatalf("removed handler ran %d times", ran.Load())
	}
}

func TestUnixSignal_test_close_removes_handlers(t *testing.T) {
	gs0 := runtime.NumGoroutine()
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		l.AddSignalHandler(syscall.SIGUSR1, func(context.Context) {})
		l.AddSignalHandler(syscall.SIGUSR2, func(context.Context) {})
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	waitGoroutines(t, gs0)
	// SIGUSR1 is back to Go's default for it (not delivered anywhere):
	// a channel of ours sees it, no loop handler is left to.
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	defer signal.Stop(ch)
	raise(syscall.SIGUSR1)
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("signal lost")
	}
}

// The disposition before and after, seen from a child process: the
// child takes SIGINT in a loop, gives it back (remove, or the loop's
// close), then raises it again.
func TestUnixSignal_disposition_restored(t *testing.T) {
	defer noChildren(t)
	for mode, want := range map[string]int{
		"sig-restore":        -int(syscall.SIGINT), // default again: killed
		"sig-close-restores": -int(syscall.SIGINT),
		"sig-ignored":        0, // ignored before: ignored again
	} {
		rc, err := runProcLoop(t, func(ctx context.Context) (int, error) {
			prog, args := helperCmd(mode)
			p, err := asyncio.CreateSubprocessExec(ctx, &asyncio.SubprocessOptions{Env: helperEnv()}, prog, args...)
			if err != nil {
				return 0, err
			}
			return p.Wait(ctx)
		})
		if err != nil || rc != want {
			t.Errorf("%s: rc %d (want %d), %v", mode, rc, want, err)
		}
	}
}

// trio.Run keeps cancelling on SIGINT when no loop handles it, and does
// not while one does.
func TestUnixSignal_trio_run_sigint(t *testing.T) {
	defer noChildren(t)
	rc, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		prog, args := helperCmd("trio-run-sigint")
		p, err := asyncio.CreateSubprocessExec(ctx, &asyncio.SubprocessOptions{Env: helperEnv()}, prog, args...)
		if err != nil {
			return 0, err
		}
		return p.Wait(ctx)
	})
	if err != nil || rc != 3 {
		t.Fatalf("rc %d (want 3), %v", rc, err)
	}
}

// helperSignals is the child of TestUnixSignal_disposition_restored.
func helperSignals(mode string) int {
	if mode == "sig-ignored" {
		signal.Ignore(syscall.SIGINT)
	}
	err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, l *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			got := asyncio.NewFuture[struct{}](l)
			if err := l.AddSignalHandler(syscall.SIGINT, func(context.Context) { got.SetResult(struct{}{}) }); err != nil {
				return 0, err
			}
			raise(syscall.SIGINT)
			if _, err := asyncio.Await(ctx, got); err != nil {
				return 0, err
			}
			if mode != "sig-close-restores" {
				l.RemoveSignalHandler(syscall.SIGINT)
			}
			return 0, nil
		})
		return err
	})
	if err != nil {
		return 5
	}
	raise(syscall.SIGINT)
	time.Sleep(2 * time.Second)
	return 0
}

// helperTrioRun is the child of TestUnixSignal_trio_run_sigint.
func helperTrioRun() int {
	err := trio.Run(func(ctx context.Context) error {
		return asyncio.OpenLoop(ctx, func(ctx context.Context, l *asyncio.Loop) error {
			_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
				got := asyncio.NewFuture[struct{}](l)
				l.AddSignalHandler(syscall.SIGINT, func(context.Context) { got.SetResult(struct{}{}) })
				raise(syscall.SIGINT)
				_, err := asyncio.Await(ctx, got)
				return 0, err
			})
			if err != nil {
				return err
			}
			// Handled by the loop: not cancelled.
			time.Sleep(200 * time.Millisecond)
			if ctx.Err() != nil {
				os.Exit(4)
			}
			asyncio.RunSync(ctx, func(context.Context) (bool, error) { return l.RemoveSignalHandler(syscall.SIGINT) })
			raise(syscall.SIGINT)
			return trio.SleepForever(ctx)
		})
	})
	if errors.Is(err, trio.ErrCancelled) {
		return 3
	}
	fmt.Fprintln(os.Stderr, "trio.Run:", err)
	return 6
}
