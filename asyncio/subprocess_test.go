//go:build unix

package asyncio_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
	"golang.org/x/sys/unix"
)

// children lists the test process's children: pid -> state ('Z' for a
// zombie), from /proc, or from ps(1) where there is no /proc (macOS, the
// BSDs).
func children(t testing.TB) map[int]byte {
	me := os.Getpid()
	out := map[int]byte{}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		return childrenPS(t)
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return childrenPS(t)
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		if ppid, _ := strconv.Atoi(f[1]); ppid == me {
			out[pid] = f[0][0]
		}
	}
	return out
}

// trueBin is the absolute path of true(1): /bin/true on Linux,
// /usr/bin/true on macOS and the BSDs.
var trueBin = func() string {
	if p, err := exec.LookPath("true"); err == nil && filepath.IsAbs(p) {
		return p
	}
	return "/bin/true"
}()

// childrenPS is children from the output of ps(1), less ps itself.
func childrenPS(t testing.TB) map[int]byte {
	cmd := exec.Command("ps", "-A", "-o", "pid=,ppid=,stat=")
	var buf bytes.Buffer
	cmd.Stdout = &buf
	if err := cmd.Start(); err != nil {
		t.Skipf("no /proc, and no ps: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Skipf("no /proc, and ps failed: %v", err)
	}
	me, ps := os.Getpid(), cmd.Process.Pid
	out := map[int]byte{}
	for _, line := range strings.Split(buf.String(), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		pid, err1 := strconv.Atoi(f[0])
		ppid, err2 := strconv.Atoi(f[1])
		if err1 == nil && err2 == nil && ppid == me && pid != ps {
			out[pid] = f[2][0]
		}
	}
	return out
}

// noChildren fails if the test process has any child left (running or
// zombie), after a generous grace period.
func noChildren(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := children(t)
		if len(c) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("children left: %v", c)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runProcLoop runs coro as a task of a fresh loop and fails the test on the
// block's error.
func runProcLoop[T any](t *testing.T, coro func(ctx context.Context) (T, error)) (T, error) {
	t.Helper()
	var v T
	var err error
	if lerr := asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		v, err = asyncio.RunAsyncio(ctx, coro)
		return nil
	}); lerr != nil {
		t.Errorf("OpenLoop: %v", lerr)
	}
	return v, err
}

var pipes = &asyncio.SubprocessOptions{Stdin: asyncio.StdioPipe, Stdout: asyncio.StdioPipe, Stderr: asyncio.StdioPipe}

func TestSubprocess_test_stdin_stdout(t *testing.T) {
	defer noChildren(t)
	out, err := runProcLoop(t, func(ctx context.Context) (string, error) {
		prog, args := helperCmd("echo")
		p, err := asyncio.CreateSubprocessExec(ctx, &asyncio.SubprocessOptions{Stdin: asyncio.StdioPipe, Stdout: asyncio.StdioPipe, Env: helperEnv()}, prog, args...)
		if err != nil {
			return "", err
		}
		if p.Stderr != nil {
			t.Error("Stderr not a pipe but not nil")
		}
		p.Stdin.Write([]byte("Python The Winner"))
		if err := p.Stdin.Drain(ctx); err != nil {
			return "", err
		}
		p.Stdin.Close()
		b, err := p.Stdout.Read(ctx, -1)
		if err != nil {
			return "", err
		}
		code, err := p.Wait(ctx)
		if code != 0 {
			t.Errorf("exit code %d", code)
		}
		return string(b), err
	})
	if err != nil || out != "Python The Winner" {
		t.Fatalf("got %q, %v", out, err)
	}
}

func TestSubprocess_test_communicate(t *testing.T) {
	defer noChildren(t)
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		prog, args := helperCmd("echo-both")
		opts := *pipes
		opts.Env = helperEnv()
		p, err := asyncio.CreateSubprocessExec(ctx, &opts, prog, args...)
		if err != nil {
			return 0, err
		}
		out, errb, err := p.Communicate(ctx, []byte("Python The Winner"))
		if err != nil {
			return 0, err
		}
		if string(out) != "Python The Winner" || string(errb) != "Python The Winner" {
			t.Errorf("stdout %q stderr %q", out, errb)
		}
		if rc, ok := p.Returncode(); !ok || rc != 0 {
			t.Errorf("Returncode %d %v", rc, ok)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSubprocess_test_communicate_none_input(t *testing.T) {
	defer noChildren(t)
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		p, err := asyncio.CreateSubprocessShell(ctx, &asyncio.SubprocessOptions{Stdout: asyncio.StdioPipe}, "echo hello")
		if err != nil {
			return 0, err
		}
		out, errb, err := p.Communicate(ctx, nil)
		if err != nil || string(out) != "hello\n" || errb != nil {
			t.Errorf("%q %q %v", out, errb, err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSubprocess_test_shell(t *testing.T) {
	defer noChildren(t)
	rc, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		p, err := asyncio.CreateSubprocessShell(ctx, nil, "exit 7")
		if err != nil {
			return 0, err
		}
		return p.Wait(ctx)
	})
	if err != nil || rc != 7 {
		t.Fatalf("%d %v", rc, err)
	}
}

func TestSubprocess_test_start_new_session(t *testing.T) {
	defer noChildren(t)
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		prog, args := helperCmd("ids")
		p, err := asyncio.CreateSubprocessExec(ctx, &asyncio.SubprocessOptions{Stdout: asyncio.StdioPipe, StartNewSession: true, Env: helperEnv()}, prog, args...)
		if err != nil {
			return 0, err
		}
		out, _, err := p.Communicate(ctx, nil)
		if err != nil {
			return 0, err
		}
		f := strings.Fields(string(out))
		if len(f) != 3 || f[0] != strconv.Itoa(p.Pid()) || f[2] != f[0] || f[1] != f[0] {
			t.Errorf("pid pgid sid = %q, pid %d", out, p.Pid())
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSubprocess_process_group(t *testing.T) {
	defer noChildren(t)
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		prog, args := helperCmd("ids")
		p, err := asyncio.CreateSubprocessExec(ctx, &asyncio.SubprocessOptions{Stdout: asyncio.StdioPipe, Setpgid: true, Env: helperEnv()}, prog, args...)
		if err != nil {
			return 0, err
		}
		out, _, err := p.Communicate(ctx, nil)
		if err != nil {
			return 0, err
		}
		mysid, _ := unix.Getsid(0)
		f := strings.Fields(string(out))
		if len(f) != 3 || f[1] != f[0] || f[2] != strconv.Itoa(int(mysid)) {
			t.Errorf("pid pgid sid = %q, my sid %d", out, mysid)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func killedBy(t *testing.T, sig syscall.Signal, send func(p *asyncio.Process) error) {
	defer noChildren(t)
	rc, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		p, err := asyncio.CreateSubprocessExec(ctx, nil, "sleep", "3600")
		if err != nil {
			return 0, err
		}
		if err := send(p); err != nil {
			return 0, err
		}
		rc, err := p.Wait(ctx)
		if err != nil {
			return 0, err
		}
		// Once reaped, no signal is sent (the pid may be reused).
		if err := p.SendSignal(syscall.SIGTERM); !errors.Is(err, asyncio.ErrProcessLookup) {
			t.Errorf("SendSignal after exit: %v", err)
		}
		return rc, nil
	})
	if err != nil || rc != -int(sig) {
		t.Fatalf("rc %d (want %d), %v", rc, -int(sig), err)
	}
}

func TestSubprocess_test_kill(t *testing.T) {
	killedBy(t, syscall.SIGKILL, (*asyncio.Process).Kill)
}

func TestSubprocess_test_terminate(t *testing.T) {
	killedBy(t, syscall.SIGTERM, (*asyncio.Process).Terminate)
}

func TestSubprocess_test_send_signal(t *testing.T) {
	killedBy(t, syscall.SIGHUP, func(p *asyncio.Process) error { return p.SendSignal(syscall.SIGHUP) })
}

func TestSubprocess_test_stdin_broken_pipe(t *testing.T) {
	defer noChildren(t)
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		p, err := asyncio.CreateSubprocessExec(ctx, &asyncio.SubprocessOptions{Stdin: asyncio.StdioPipe}, "true")
		if err != nil {
			return 0, err
		}
		if _, err := p.Wait(ctx); err != nil {
			return 0, err
		}
		big := make([]byte, 4<<20)
		p.Stdin.Write(big)
		err = p.Stdin.Drain(ctx)
		for err == nil && !p.Stdin.IsClosing() {
			p.Stdin.Write(big)
			err = p.Stdin.Drain(ctx)
		}
		if err != nil && !errors.Is(err, syscall.EPIPE) && !errors.Is(err, asyncio.ErrConnectionLost) {
			t.Errorf("Drain: %v, want EPIPE or connection lost", err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSubprocess_test_communicate_ignore_broken_pipe(t *testing.T) {
	defer noChildren(t)
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		p, err := asyncio.CreateSubprocessExec(ctx, &asyncio.SubprocessOptions{Stdin: asyncio.StdioPipe}, "true")
		if err != nil {
			return 0, err
		}
		if _, err := p.Wait(ctx); err != nil {
			return 0, err
		}
		_, _, err = p.Communicate(ctx, make([]byte, 4<<20))
		return 0, err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSubprocess_test_pause_reading(t *testing.T) {
	defer noChildren(t)
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		limit := 10
		size := limit*2 + 1
		p, err := asyncio.CreateSubprocessShell(ctx, &asyncio.SubprocessOptions{Stdout: asyncio.StdioPipe, Limit: limit},
			"head -c "+strconv.Itoa(size)+" /dev/zero")
		if err != nil {
			return 0, err
		}
		out, err := p.Stdout.Read(ctx, -1)
		if err != nil || len(out) != size {
			t.Errorf("read %d bytes, %v", len(out), err)
		}
		return p.Wait(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSubprocess_test_stdin_not_inheritable(t *testing.T) {
	defer noChildren(t)
	// The loop's pipe ends are close-on-exec: a second child does not
	// keep the first one's stdin open.
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		p1, err := asyncio.CreateSubprocessExec(ctx, &asyncio.SubprocessOptions{Stdin: asyncio.StdioPipe, Stdout: asyncio.StdioPipe}, "cat")
		if err != nil {
			return 0, err
		}
		p2, err := asyncio.CreateSubprocessExec(ctx, nil, "sleep", "3600")
		if err != nil {
			return 0, err
		}
		out, _, err := p1.Communicate(ctx, []byte("hi"))
		if err != nil || string(out) != "hi" {
			t.Errorf("%q %v", out, err)
		}
		p2.Kill()
		return p2.Wait(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSubprocess_test_empty_input(t *testing.T) {
	defer noChildren(t)
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		p, err := asyncio.CreateSubprocessExec(ctx, &asyncio.SubprocessOptions{Stdin: asyncio.StdioPipe, Stdout: asyncio.StdioPipe}, "cat")
		if err != nil {
			return 0, err
		}
		out, _, err := p.Communicate(ctx, []byte{})
		if err != nil || len(out) != 0 {
			t.Errorf("%q %v", out, err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSubprocess_test_devnull_input_output_error(t *testing.T) {
	defer noChildren(t)
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		p, err := asyncio.CreateSubprocessShell(ctx, &asyncio.SubprocessOptions{Stdin: asyncio.StdioDevNull, Stdout: asyncio.StdioPipe, Stderr: asyncio.StdioDevNull},
			"cat; echo err >&2; echo done")
		if err != nil {
			return 0, err
		}
		if p.Stdin != nil || p.Stderr != nil {
			t.Error("streams for DEVNULL")
		}
		out, _, err := p.Communicate(ctx, nil)
		if err != nil || string(out) != "done\n" {
			t.Errorf("%q %v", out, err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSubprocess_stderr_to_stdout_and_file(t *testing.T) {
	defer noChildren(t)
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = runProcLoop(t, func(ctx context.Context) (int, error) {
		p, err := asyncio.CreateSubprocessShell(ctx, &asyncio.SubprocessOptions{Stdout: asyncio.StdioPipe, Stderr: asyncio.StdioStdout},
			"echo out; echo err >&2")
		if err != nil {
			return 0, err
		}
		out, _, err := p.Communicate(ctx, nil)
		if err != nil || string(out) != "out\nerr\n" {
			t.Errorf("%q %v", out, err)
		}
		p, err = asyncio.CreateSubprocessShell(ctx, &asyncio.SubprocessOptions{Stdout: asyncio.StdioFile(f)}, "echo to-file")
		if err != nil {
			return 0, err
		}
		return p.Wait(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(f.Name()); string(b) != "to-file\n" {
		t.Errorf("file has %q", b)
	}
}

func TestSubprocess_test_cancel_process_wait(t *testing.T) {
	defer noChildren(t)
	// A trio deadline cancels Wait through RunAsyncio: the child keeps
	// running (as in asyncio) and the block's exit kills and reaps it.
	var pid int
	err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		p, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (*asyncio.Process, error) {
			return asyncio.CreateSubprocessExec(ctx, nil, "sleep", "3600")
		})
		if err != nil {
			return err
		}
		pid, _ = asyncio.RunSync(ctx, func(context.Context) (int, error) { return p.Pid(), nil })
		var cs trio.CancelScope
		cs.SetDeadline(time.Now().Add(50 * time.Millisecond))
		cs.Run(ctx, func(ctx context.Context) error {
			_, err := asyncio.RunAsyncio(ctx, p.Wait)
			if !errors.Is(err, trio.ErrCancelled) {
				t.Errorf("Wait: %v, want cancelled", err)
			}
			return err
		})
		if _, ok := children(t)[pid]; !ok {
			t.Error("the child died with the cancelled Wait")
		}
		rc, _ := asyncio.RunSync(ctx, func(context.Context) (bool, error) { _, ok := p.Returncode(); return ok, nil })
		if rc {
			t.Error("the child has a return code")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := children(t)[pid]; ok {
		t.Errorf("child %d left after the block", pid)
	}
}

func TestSubprocess_cancel_communicate_by_trio_deadline(t *testing.T) {
	defer noChildren(t)
	var pid int
	err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		var cs trio.CancelScope
		cs.SetDeadline(time.Now().Add(100 * time.Millisecond))
		cs.Run(ctx, func(ctx context.Context) error {
			_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
				p, err := asyncio.CreateSubprocessExec(ctx, &asyncio.SubprocessOptions{Stdin: asyncio.StdioPipe, Stdout: asyncio.StdioPipe}, "sleep", "3600")
				if err != nil {
					return 0, err
				}
				pid = p.Pid()
				_, _, err = p.Communicate(ctx, []byte("x"))
				return 0, err
			})
			if !errors.Is(err, trio.ErrCancelled) {
				t.Errorf("Communicate: %v, want cancelled", err)
			}
			return nil
		})
		if _, ok := children(t)[pid]; !ok {
			t.Error("the child died with the cancelled Communicate")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// recSubproc records a SubprocessProtocol's events.
type recSubproc struct {
	asyncio.SubprocessProtocolBase
	events []string
	done   *asyncio.Future[struct{}]
	tr     asyncio.SubprocessTransport
}

func (p *recSubproc) ConnectionMade(t asyncio.SubprocessTransport) {
	p.tr = t
	p.events = append(p.events, "connection_made")
}
func (p *recSubproc) PipeDataReceived(fd int, data []byte) {
	p.events = append(p.events, "data "+strconv.Itoa(fd)+" "+string(data))
}
func (p *recSubproc) PipeConnectionLost(fd int, err error) {
	p.events = append(p.events, "pipe_connection_lost "+strconv.Itoa(fd))
}
func (p *recSubproc) ProcessExited() { p.events = append(p.events, "process_exited") }
func (p *recSubproc) ConnectionLost(err error) {
	p.events = append(p.events, "connection_lost")
	if p.done != nil {
		p.done.SetResult(struct{}{})
	}
}

func TestSubprocess_test_subprocess_protocol_events(t *testing.T) {
	defer noChildren(t)
	ev, err := runProcLoop(t, func(ctx context.Context) ([]string, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		proto := &recSubproc{done: asyncio.NewFuture[struct{}](l)}
		_, _, err := asyncio.SubprocessShell(ctx, func() *recSubproc { return proto },
			&asyncio.SubprocessOptions{Stdout: asyncio.StdioPipe, Stderr: asyncio.StdioPipe}, "printf stdout; printf stderr >&2")
		if err != nil {
			return nil, err
		}
		_, err = asyncio.Await(ctx, proto.done)
		return proto.events, err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Per fd: data then pipe_connection_lost; process_exited after both
	// pipes; connection_lost last.
	pos := map[string]int{}
	for i, e := range ev {
		pos[e] = i
	}
	want := []string{"connection_made", "data 1 stdout", "data 2 stderr", "pipe_connection_lost 1", "pipe_connection_lost 2", "process_exited", "connection_lost"}
	if len(ev) != len(want) {
		t.Fatalf("events %q", ev)
	}
	for _, w := range want {
		if _, ok := pos[w]; !ok {
			t.Fatalf("events %q lack %q", ev, w)
		}
	}
	if pos["connection_made"] != 0 || pos["data 1 stdout"] > pos["pipe_connection_lost 1"] || pos["data 2 stderr"] > pos["pipe_connection_lost 2"] ||
		pos["process_exited"] != 5 || pos["connection_lost"] != 6 {
		t.Fatalf("order %q", ev)
	}
}

func TestSubprocess_test_close_kill_running(t *testing.T) {
	defer noChildren(t)
	rc, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		proto := &recSubproc{done: asyncio.NewFuture[struct{}](l)}
		tr, _, err := asyncio.SubprocessExec(ctx, func() *recSubproc { return proto }, nil, "sleep", "3600")
		if err != nil {
			return 0, err
		}
		if _, ok := tr.GetReturncode(); ok {
			t.Error("return code before exit")
		}
		tr.Close()
		if _, err := asyncio.Await(ctx, proto.done); err != nil {
			return 0, err
		}
		rc, _ := tr.GetReturncode()
		return rc, nil
	})
	if err != nil || rc != -int(syscall.SIGKILL) {
		t.Fatalf("rc %d, %v", rc, err)
	}
}

func TestSubprocess_test_close_dont_kill_finished(t *testing.T) {
	defer noChildren(t)
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		tr, _, err := asyncio.SubprocessExec(ctx, func() *recSubproc { return &recSubproc{} }, &asyncio.SubprocessOptions{}, "true")
		if err != nil {
			return 0, err
		}
		// Let the child exit and be reaped; the loop may not know yet.
		for i := 0; i < 1000; i++ {
			if _, ok := children(t)[tr.GetPid()]; !ok {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		tr.Close() // no kill: the child is gone (a kill would return an error we cannot see; the status proves it)
		for {
			if rc, ok := tr.GetReturncode(); ok {
				if rc != 0 {
					t.Errorf("rc %d: the finished child was killed?", rc)
				}
				return 0, nil
			}
			if err := asyncio.Sleep(ctx, time.Millisecond); err != nil {
				return 0, err
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSubprocess_test_popen_error(t *testing.T) {
	defer noChildren(t)
	fds0 := openFds(t)
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		_, err := asyncio.CreateSubprocessExec(ctx, pipes, "/nonexistent/program")
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err %v, want ErrNotExist", err)
		}
		_, err = asyncio.CreateSubprocessExec(ctx, pipes, "")
		if !errors.Is(err, asyncio.ErrNoProgram) {
			t.Errorf("err %v, want ErrNoProgram", err)
		}
		_, err = asyncio.CreateSubprocessExec(ctx, &asyncio.SubprocessOptions{Stdout: asyncio.StdioStdout}, "true")
		if !errors.Is(err, asyncio.ErrBadStdio) {
			t.Errorf("err %v, want ErrBadStdio", err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fds := openFds(t); fds != fds0 {
		t.Errorf("fds %d before, %d after", fds0, fds)
	}
}

func TestSubprocess_test_read_stdout_after_process_exit(t *testing.T) {
	defer noChildren(t)
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		p, err := asyncio.CreateSubprocessShell(ctx, &asyncio.SubprocessOptions{Stdout: asyncio.StdioPipe}, "printf abc")
		if err != nil {
			return 0, err
		}
		if _, err := p.Wait(ctx); err != nil {
			return 0, err
		}
		b, err := p.Stdout.Read(ctx, -1)
		if string(b) != "abc" || err != nil {
			t.Errorf("%q %v", b, err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSubprocess_test_create_subprocess_exec_with_path(t *testing.T) {
	defer noChildren(t)
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		p, err := asyncio.CreateSubprocessExec(ctx, nil, trueBin)
		if err != nil {
			return 0, err
		}
		return p.Wait(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSubprocess_test_create_subprocess_env_shell_exec_cwd(t *testing.T) {
	defer noChildren(t)
	dir := t.TempDir()
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		p, err := asyncio.CreateSubprocessShell(ctx, &asyncio.SubprocessOptions{Stdout: asyncio.StdioPipe, Env: []string{"FOO=bar"}}, "printf %s \"$FOO\"")
		if err != nil {
			return 0, err
		}
		out, _, err := p.Communicate(ctx, nil)
		if string(out) != "bar" || err != nil {
			t.Errorf("shell env: %q %v", out, err)
		}
		prog, args := helperCmd("env", "FOO")
		p, err = asyncio.CreateSubprocessExec(ctx, &asyncio.SubprocessOptions{Stdout: asyncio.StdioPipe, Env: append(helperEnv(), "FOO=baz")}, prog, args...)
		if err != nil {
			return 0, err
		}
		out, _, err = p.Communicate(ctx, nil)
		if string(out) != "baz" || err != nil {
			t.Errorf("exec env: %q %v", out, err)
		}
		p, err = asyncio.CreateSubprocessExec(ctx, &asyncio.SubprocessOptions{Stdout: asyncio.StdioPipe, Dir: dir}, "pwd")
		if err != nil {
			return 0, err
		}
		out, _, err = p.Communicate(ctx, nil)
		if strings.TrimSpace(string(out)) != dir || err != nil {
			t.Errorf("cwd: %q %v", out, err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSubprocess_test_subprocess_concurrent_wait(t *testing.T) {
	defer noChildren(t)
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		p, err := asyncio.CreateSubprocessShell(ctx, nil, "exit 3")
		if err != nil {
			return 0, err
		}
		res, err := asyncio.Await[[]int](ctx, asyncio.Gather[int](ctx,
			asyncio.CreateTask(ctx, p.Wait), asyncio.CreateTask(ctx, p.Wait)))
		if err != nil || res[0] != 3 || res[1] != 3 {
			t.Errorf("%v %v", res, err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSubprocess_communicate_16MiB_on_stdout_and_stderr(t *testing.T) {
	defer noChildren(t)
	const n = 16 << 20
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		prog, args := helperCmd("big", strconv.Itoa(n))
		opts := *pipes
		opts.Env = helperEnv()
		p, err := asyncio.CreateSubprocessExec(ctx, &opts, prog, args...)
		if err != nil {
			return 0, err
		}
		out, errb, err := p.Communicate(ctx, nil)
		if err != nil || len(out) != n || len(errb) != n {
			t.Errorf("stdout %d stderr %d bytes, %v", len(out), len(errb), err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSubprocess_child_closes_stdout_early_keeps_running(t *testing.T) {
	defer noChildren(t)
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		prog, args := helperCmd("close-stdout")
		p, err := asyncio.CreateSubprocessExec(ctx, &asyncio.SubprocessOptions{Stdin: asyncio.StdioPipe, Stdout: asyncio.StdioPipe, Env: helperEnv()}, prog, args...)
		if err != nil {
			return 0, err
		}
		b, err := p.Stdout.Read(ctx, -1)
		if string(b) != "early\n" || err != nil {
			t.Errorf("%q %v", b, err)
		}
		if _, ok := p.Returncode(); ok {
			t.Error("exited before its stdin closed")
		}
		p.Stdin.Close()
		rc, err := p.Wait(ctx)
		if rc != 7 {
			t.Errorf("rc %d", rc)
		}
		return 0, err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSubprocess_teardown_kills_and_reaps_running_children(t *testing.T) {
	noChildren(t)
	runtime.GC()
	fds0, gs0 := openFds(t), runtime.NumGoroutine()
	var pids []int
	err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			for i := 0; i < 5; i++ {
				p, err := asyncio.CreateSubprocessExec(ctx, pipes, "sleep", "3600")
				if err != nil {
					return 0, err
				}
				pids = append(pids, p.Pid())
				p.Stdin.Write(make([]byte, 1<<20)) // a buffered write still pending
			}
			tr, _, err := asyncio.SubprocessExec(ctx, func() *recSubproc { return &recSubproc{} }, nil, "cat")
			if err != nil {
				return 0, err
			}
			pids = append(pids, tr.GetPid())
			return 0, nil
		})
		if len(children(t)) != 6 {
			t.Errorf("children %v", children(t))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if c := children(t); len(c) != 0 {
		t.Errorf("children left at once after the block: %v", c)
	}
	waitGoroutines(t, gs0)
	if fds := openFds(t); fds != fds0 {
		t.Errorf("fds %d before, %d after", fds0, fds)
	}
}

// waitGoroutines waits (generously) for the goroutine count to come back.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Errorf("goroutines %d > %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The child watcher waits for the loop's own children only: a child
// started by os/exec beside the loop's keeps its status for its Cmd.
func TestSubprocess_watcher_leaves_other_children_alone(t *testing.T) {
	defer noChildren(t)
	other := exec.Command("sh", "-c", "sleep 0.2; exit 5")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		for i := 0; i < 5; i++ {
			p, err := asyncio.CreateSubprocessShell(ctx, nil, "sleep 0.1")
			if err != nil {
				return 0, err
			}
			if _, err := p.Wait(ctx); err != nil {
				return 0, err
			}
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = other.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 5 {
		t.Fatalf("the other child's Wait: %v, want exit status 5", err)
	}
}

// Communicate cancelled mid-way leaves what it had read in the readers.
func TestSubprocess_communicate_cancelled_keeps_output(t *testing.T) {
	defer noChildren(t)
	_, err := runProcLoop(t, func(ctx context.Context) (int, error) {
		p, err := asyncio.CreateSubprocessShell(ctx, &asyncio.SubprocessOptions{Stdout: asyncio.StdioPipe, Stderr: asyncio.StdioPipe},
			"printf out; printf err >&2; exec sleep 3600")
		if err != nil {
			return 0, err
		}
		// Let the output arrive first.
		for i := 0; i < 1000; i++ {
			if err := asyncio.Sleep(ctx, time.Millisecond); err != nil {
				return 0, err
			}
		}
		err = asyncio.Timeout(ctx, 100*time.Millisecond, func(ctx context.Context, _ *asyncio.TimeoutScope) error {
			_, _, err := p.Communicate(ctx, nil)
			return err
		})
		if !errors.Is(err, asyncio.ErrTimeout) {
			t.Errorf("Communicate under a timeout: %v", err)
		}
		out, err := p.Stdout.Read(ctx, 100)
		if string(out) != "out" || err != nil {
			t.Errorf("Stdout after the cancel: %q %v", out, err)
		}
		errb, err := p.Stderr.Read(ctx, 100)
		if string(errb) != "err" || err != nil {
			t.Errorf("Stderr after the cancel: %q %v", errb, err)
		}
		p.Kill()
		return p.Wait(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A program name without a slash is looked up in the PATH of the child's
// environment when opts.Env is set (as Python's subprocess does), not in
// the parent's.
func TestSubprocess_program_found_in_child_env_PATH(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "only-in-child-path")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho found\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := runMain(t, func(ctx context.Context) (struct{}, error) {
		env := []string{"PATH=" + dir + ":/usr/bin:/bin"}
		p, err := asyncio.CreateSubprocessExec(ctx, &asyncio.SubprocessOptions{Stdout: asyncio.StdioPipe, Env: env}, "only-in-child-path")
		if err != nil {
			return struct{}{}, fmt.Errorf("CreateSubprocessExec with the program in opts.Env's PATH: %w", err)
		}
		out, _, err := p.Communicate(ctx, nil)
		if err != nil || string(out) != "found\n" {
			return struct{}{}, fmt.Errorf("Communicate = %q, %v", out, err)
		}
		// Not found in the child's PATH: a named error, even though the
		// parent's PATH might have it.
		_, err = asyncio.CreateSubprocessExec(ctx, &asyncio.SubprocessOptions{Env: []string{"PATH=" + t.TempDir()}}, "sh")
		if !errors.Is(err, exec.ErrNotFound) {
			t.Errorf("sh with an empty child PATH: err = %v, want exec.ErrNotFound", err)
		}
		return struct{}{}, nil
	}); err != nil {
		t.Fatal(err)
	}
}

// panicSubProto panics in the callback named by where.
type panicSubProto struct {
	asyncio.SubprocessProtocolBase
	where string
	lost  chan struct{}
}

func (p *panicSubProto) ConnectionMade(asyncio.SubprocessTransport) {
	if p.where == "ConnectionMade" {
		panic("boom in ConnectionMade")
	}
}

func (p *panicSubProto) PipeDataReceived(int, []byte) {
	if p.where == "PipeDataReceived" {
		panic("boom in PipeDataReceived")
	}
}

func (p *panicSubProto) ProcessExited() {
	if p.where == "ProcessExited" {
		panic("boom in ProcessExited")
	}
}

func (p *panicSubProto) ConnectionLost(error) { close(p.lost) }

// A panic in any callback of a SubprocessProtocol reaches the exception
// handler, and the rest goes on: SubprocessShell returns, ConnectionLost
// comes, the child is reaped (as asyncio, where each protocol call is its
// own callback).
func TestSubprocess_protocol_panics_reach_the_handler(t *testing.T) {
	for _, where := range []string{"ConnectionMade", "PipeDataReceived", "ProcessExited"} {
		t.Run(where, func(t *testing.T) {
			var reported []string
			_, err := runMain(t, func(ctx context.Context) (struct{}, error) {
				loop, _ := asyncio.GetRunningLoop(ctx)
				loop.SetExceptionHandler(func(_ *asyncio.Loop, c asyncio.ExceptionContext) {
					reported = append(reported, fmt.Sprint(c.Err))
				})
				p := &panicSubProto{where: where, lost: make(chan struct{})}
				start := asyncio.CreateTask(ctx, func(ctx context.Context) (asyncio.SubprocessTransport, error) {
					tr, _, err := asyncio.SubprocessShell(ctx, func() *panicSubProto { return p }, nil, "echo hi")
					return tr, err
				})
				tr, err := asyncio.WaitFor(ctx, start, 30*time.Second)
				if err != nil {
					return struct{}{}, fmt.Errorf("SubprocessShell: %w", err)
				}
				if _, err := asyncio.ToThread(ctx, func(context.Context) (struct{}, error) {
					select {
					case <-p.lost:
						return struct{}{}, nil
					case <-time.After(30 * time.Second):
						return struct{}{}, errors.New("ConnectionLost did not come")
					}
				}); err != nil {
					return struct{}{}, err
				}
				if rc, ok := tr.GetReturncode(); !ok || rc != 0 {
					t.Errorf("returncode %d, %v; want 0, true", rc, ok)
				}
				return struct{}{}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(reported) != 1 || !strings.Contains(reported[0], "boom in "+where) {
				t.Errorf("exception handler got %q, want the panic of %s", reported, where)
			}
		})
	}
}
