//go:build unix

package asyncio_test

// CPython's Lib/test/test_asyncio/test_subprocess.py cases not transcribed
// in subprocess_test.go, with real children.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// exitProto records a child's protocol events in order.
type exitProto struct {
	asyncio.SubprocessProtocolBase
	events []string
	done   *asyncio.Future[struct{}]
}

func (p *exitProto) ConnectionMade(asyncio.SubprocessTransport) {
	p.events = append(p.events, "made")
}
func (p *exitProto) ProcessExited() { p.events = append(p.events, "exited") }
func (p *exitProto) ConnectionLost(err error) {
	p.events = append(p.events, fmt.Sprintf("lost(%v)", err))
	p.done.SetResult(struct{}{})
}

// SubprocessTransportTests.test_proc_exited, with a real child exiting
// with status 6: the protocol sees ConnectionMade, ProcessExited,
// ConnectionLost(nil); the return code is 6; the transport is not
// closing; SendSignal, Terminate and Kill fail with ErrProcessLookup;
// Close is then harmless.
func TestSubprocess_test_proc_exited(t *testing.T) {
	defer noChildren(t)
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		p := &exitProto{done: asyncio.NewFuture[struct{}](l)}
		tr, _, err := asyncio.SubprocessExec(ctx, func() *exitProto { return p }, nil, "/bin/sh", "-c", "exit 6")
		if err != nil {
			return 0, err
		}
		if _, err := asyncio.Await(ctx, p.done); err != nil {
			return 0, err
		}
		if rc, ok := tr.GetReturncode(); !ok || rc != 6 {
			t.Errorf("GetReturncode = %d, %v; want 6, true", rc, ok)
		}
		if got, want := strings.Join(p.events, " "), "made exited lost(<nil>)"; got != want {
			t.Errorf("events %q, want %q", got, want)
		}
		if tr.IsClosing() {
			t.Error("IsClosing after the child's exit, want false")
		}
		if err := tr.SendSignal(syscall.SIGTERM); !errors.Is(err, asyncio.ErrProcessLookup) {
			t.Errorf("SendSignal: %v, want ErrProcessLookup", err)
		}
		if err := tr.Terminate(); !errors.Is(err, asyncio.ErrProcessLookup) {
			t.Errorf("Terminate: %v, want ErrProcessLookup", err)
		}
		if err := tr.Kill(); !errors.Is(err, asyncio.ErrProcessLookup) {
			t.Errorf("Kill: %v, want ErrProcessLookup", err)
		}
		tr.Close()
		if !tr.IsClosing() {
			t.Error("IsClosing after Close, want true")
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_kill_issue43884: killing a shell that runs "sleep 1; sleep 1" with
// its stdout a pipe returns -SIGKILL from Wait, even though the shell's
// own child keeps the pipe open.
func TestSubprocess_test_kill_issue43884(t *testing.T) {
	defer noChildren(t)
	rc, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		p, err := asyncio.CreateSubprocessShell(ctx, &asyncio.SubprocessOptions{Stdout: asyncio.StdioPipe}, "sleep 1; sleep 1")
		if err != nil {
			return 0, err
		}
		if err := asyncio.Sleep(ctx, 300*time.Millisecond); err != nil {
			return 0, err
		}
		if err := p.Kill(); err != nil {
			t.Errorf("Kill: %v", err)
		}
		return p.Wait(ctx)
	})
	if err != nil || rc != -int(syscall.SIGKILL) {
		t.Fatalf("Wait = %d, %v; want %d, nil", rc, err, -int(syscall.SIGKILL))
	}
}

// test_devstdin_input: the child reading /dev/stdin (its stdin pipe) gets
// what Communicate writes, then end of file.
func TestSubprocess_test_devstdin_input(t *testing.T) {
	defer noChildren(t)
	out, err := runProcLoop(t, func(ctx context.Context) (string, error) {
		p, err := asyncio.CreateSubprocessShell(ctx, pipes, "wc -c < /dev/stdin")
		if err != nil {
			return "", err
		}
		stdout, _, err := p.Communicate(ctx, []byte("abc"))
		if err != nil {
			return "", err
		}
		if rc, err := p.Wait(ctx); err != nil || rc != 0 {
			t.Errorf("Wait = %d, %v; want 0, nil", rc, err)
		}
		return strings.TrimSpace(string(stdout)), nil
	})
	if err != nil || out != "3" {
		t.Fatalf("output %q, %v; want \"3\"", out, err)
	}
}

// test_cancel_make_subprocess_transport_exec: cancelling the task that
// runs CreateSubprocessExec either cancels it or lets it finish; either
// way no child is left behind once the loop is gone.
func TestSubprocess_test_cancel_make_subprocess_transport_exec(t *testing.T) {
	defer noChildren(t)
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (*asyncio.Process, error) {
			return asyncio.CreateSubprocessExec(ctx, nil, "sleep", "3600")
		})
		l.CallSoon(func(context.Context) { task.Cancel() })
		p, err := asyncio.Await(ctx, task)
		var ce *asyncio.CancelledError
		switch {
		case errors.As(err, &ce):
		case err == nil && p != nil:
			p.Kill()
			if rc, err := p.Wait(ctx); err != nil || rc != -int(syscall.SIGKILL) {
				t.Errorf("Wait = %d, %v", rc, err)
			}
		default:
			t.Errorf("task: %v, %v; want cancelled or a process", p, err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_cancel_post_init: the same with SubprocessExec and a protocol.
func TestSubprocess_test_cancel_post_init(t *testing.T) {
	defer noChildren(t)
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		task := asyncio.CreateTask(ctx, func(ctx context.Context) (asyncio.SubprocessTransport, error) {
			tr, _, err := asyncio.SubprocessExec(ctx, func() *asyncio.SubprocessProtocolBase { return &asyncio.SubprocessProtocolBase{} }, nil, "sleep", "3600")
			return tr, err
		})
		l.CallSoon(func(context.Context) { task.Cancel() })
		tr, err := asyncio.Await(ctx, task)
		var ce *asyncio.CancelledError
		switch {
		case errors.As(err, &ce):
		case err == nil && tr != nil:
			tr.Close() // kills the running child
		default:
			t.Errorf("task: %v, %v; want cancelled or a transport", tr, err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_subprocess_communicate_stdout (gh-100133): ten children's
// Communicate run concurrently, each gets its own child's output.
func TestSubprocess_test_subprocess_communicate_stdout(t *testing.T) {
	defer noChildren(t)
	res, err := runProcLoop(t, func(ctx context.Context) ([]string, error) {
		var tasks []*asyncio.Task[string]
		for i := range 10 {
			tasks = append(tasks, asyncio.CreateTask(ctx, func(ctx context.Context) (string, error) {
				p, err := asyncio.CreateSubprocessExec(ctx, &asyncio.SubprocessOptions{Stdout: asyncio.StdioPipe}, "echo", fmt.Sprintf("foo%d", i))
				if err != nil {
					return "", err
				}
				out, _, err := p.Communicate(ctx, nil)
				return strings.TrimSpace(string(out)), err
			}))
		}
		return asyncio.Await(ctx, asyncio.Gather(ctx, tasks...))
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range res {
		if want := fmt.Sprintf("foo%d", i); s != want {
			t.Errorf("output %d = %q, want %q", i, s, want)
		}
	}
	if len(res) != 10 {
		t.Fatalf("%d outputs, want 10", len(res))
	}
}

// test_subprocess_send_signal_race (gh-87744): SendSignal to a child
// that may just have exited either reaches it or fails with
// ErrProcessLookup; it never hits another process or confuses the exit
// status: Wait reports the child's own exit (0) or the signal.
func TestSubprocess_test_subprocess_send_signal_race(t *testing.T) {
	defer noChildren(t)
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		for range 10 {
			p, err := asyncio.CreateSubprocessExec(ctx, nil, "sleep", "0.1")
			if err != nil {
				return 0, err
			}
			if err := asyncio.Sleep(ctx, 100*time.Millisecond); err != nil {
				return 0, err
			}
			if err := p.SendSignal(syscall.SIGUSR1); err != nil && !errors.Is(err, asyncio.ErrProcessLookup) {
				t.Errorf("SendSignal: %v, want nil or ErrProcessLookup", err)
			}
			rc, err := p.Wait(ctx)
			if err != nil {
				return 0, err
			}
			if rc != 0 && rc != -int(syscall.SIGUSR1) {
				t.Errorf("Wait = %d, want 0 or %d", rc, -int(syscall.SIGUSR1))
			}
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// GenericWatcherTests.test_create_subprocess_with_pidfd: a loop that is
// not the program's first (asyncio.run in a worker thread; here a second
// loop opened on a worker goroutine by ToThread) starts a child and
// talks to it: Communicate through cat returns the input and status 0.
func TestSubprocess_test_create_subprocess_with_pidfd(t *testing.T) {
	defer noChildren(t)
	out, err := runProcLoop(t, func(ctx context.Context) (string, error) {
		return asyncio.ToThread(ctx, func(context.Context) (string, error) {
			var out string
			err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, l *asyncio.Loop) error {
				var err error
				out, err = asyncio.RunAsyncio(ctx, func(ctx context.Context) (string, error) {
					p, err := asyncio.CreateSubprocessExec(ctx, &asyncio.SubprocessOptions{Stdin: asyncio.StdioPipe, Stdout: asyncio.StdioPipe}, "cat")
					if err != nil {
						return "", err
					}
					b, _, err := p.Communicate(ctx, []byte("some data"))
					if rc, _ := p.Returncode(); rc != 0 {
						t.Errorf("return code %d, want 0", rc)
					}
					return string(b), err
				})
				return err
			})
			return out, err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if out != "some data" {
		t.Fatalf("stdout %q, want \"some data\"", out)
	}
}

// On kernels without pidfds a goroutine per child watches it: exits are
// reported with their status, concurrent waits agree, and a child still
// running when the loop closes is killed and reaped.
func TestSubprocess_goroutine_watcher_without_pidfd(t *testing.T) {
	asyncio.WithoutPidfd(t)
	defer noChildren(t)
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		p, err := asyncio.CreateSubprocessShell(ctx, nil, "exit 3")
		if err != nil {
			return 0, err
		}
		res, err := asyncio.Await[[]int](ctx, asyncio.Gather[int](ctx,
			asyncio.CreateTask(ctx, p.Wait), asyncio.CreateTask(ctx, p.Wait)))
		if err != nil || res[0] != 3 || res[1] != 3 {
			t.Errorf("Wait = %v, %v; want 3 twice", res, err)
		}
		k, err := asyncio.CreateSubprocessExec(ctx, nil, "sleep", "3600")
		if err != nil {
			return 0, err
		}
		k.Kill()
		if rc, err := k.Wait(ctx); err != nil || rc != -int(syscall.SIGKILL) {
			t.Errorf("killed child: Wait = %d, %v", rc, err)
		}
		_, err = asyncio.CreateSubprocessExec(ctx, nil, "sleep", "3600") // left to the teardown
		return 0, err
	})
	if err != nil {
		t.Fatal(err)
	}
}
