//go:build unix

package asyncio_test

import (
	"bytes"
	"context"
	"syscall"
	"testing"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// Transcriptions of trio-asyncio's tests/test_aio_subprocess.py: a trio
// caller drives subprocess protocols on the loop through RunAsyncio.

// mySubprocessProtocol is the tests' MySubprocessProtocol.
type mySubprocessProtocol struct {
	t           *testing.T
	state       string
	transport   asyncio.SubprocessTransport
	connected   *asyncio.Future[struct{}]
	completed   *asyncio.Future[struct{}]
	disconnects [3]*asyncio.Future[struct{}]
	data        [3]bytes.Buffer
	gotData     [3]*asyncio.Event
	returncode  int
	exited      bool
}

func newMySubprocessProtocol(t *testing.T, l *asyncio.Loop) *mySubprocessProtocol {
	p := &mySubprocessProtocol{t: t, state: "INITIAL", connected: asyncio.NewFuture[struct{}](l), completed: asyncio.NewFuture[struct{}](l)}
	for i := range p.disconnects {
		p.disconnects[i] = asyncio.NewFuture[struct{}](l)
		p.gotData[i] = &asyncio.Event{}
	}
	return p
}

func (p *mySubprocessProtocol) check(want string) {
	if p.state != want {
		p.t.Errorf("state %s, want %s", p.state, want)
	}
}

func (p *mySubprocessProtocol) ConnectionMade(t asyncio.SubprocessTransport) {
	p.transport = t
	p.check("INITIAL")
	p.state = "CONNECTED"
	p.connected.SetResult(struct{}{})
}

func (p *mySubprocessProtocol) ConnectionLost(error) {
	p.check("CONNECTED")
	p.state = "CLOSED"
	p.completed.SetResult(struct{}{})
}

func (p *mySubprocessProtocol) PipeDataReceived(fd int, data []byte) {
	p.check("CONNECTED")
	p.data[fd].Write(data)
	p.gotData[fd].Set()
}

func (p *mySubprocessProtocol) PipeConnectionLost(fd int, err error) {
	p.check("CONNECTED")
	if err != nil {
		p.disconnects[fd].SetException(err)
	} else {
		p.disconnects[fd].SetResult(struct{}{})
	}
}

func (p *mySubprocessProtocol) ProcessExited() {
	p.check("CONNECTED")
	p.returncode, p.exited = p.transport.GetReturncode()
}

func (p *mySubprocessProtocol) PauseWriting()  {}
func (p *mySubprocessProtocol) ResumeWriting() {}

// aioSubprocess runs body on a fresh loop from trio-flavored code.
func aioSubprocess(t *testing.T, body func(ctx context.Context, l *asyncio.Loop) error) {
	t.Helper()
	defer noChildren(t)
	err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, l *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) { return 0, body(ctx, l) })
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func startHelper(ctx context.Context, t *testing.T, l *asyncio.Loop, mode string, opts *asyncio.SubprocessOptions) (asyncio.SubprocessTransport, *mySubprocessProtocol, error) {
	if opts == nil {
		opts = &asyncio.SubprocessOptions{Stdin: asyncio.StdioPipe, Stdout: asyncio.StdioPipe, Stderr: asyncio.StdioPipe}
	}
	opts.Env = helperEnv()
	prog, args := helperCmd(mode)
	p := newMySubprocessProtocol(t, l)
	tr, _, err := asyncio.SubprocessExec(ctx, func() *mySubprocessProtocol { return p }, opts, prog, args...)
	return tr, p, err
}

func TestAioSubprocess_test_subprocess_exec(t *testing.T) {
	aioSubprocess(t, func(ctx context.Context, l *asyncio.Loop) error {
		tr, p, err := startHelper(ctx, t, l, "echo", nil)
		if err != nil {
			return err
		}
		if _, err := asyncio.Await(ctx, p.connected); err != nil {
			return err
		}
		p.check("CONNECTED")
		tr.GetPipeTransport(0).Write([]byte("Python The Winner"))
		p.gotData[1].Wait(ctx)
		tr.Close()
		if _, err := asyncio.Await(ctx, p.completed); err != nil {
			return err
		}
		if p.returncode != -int(syscall.SIGKILL) || p.data[1].String() != "Python The Winner" {
			t.Errorf("rc %d, data %q", p.returncode, p.data[1].String())
		}
		return nil
	})
}

func TestAioSubprocess_test_subprocess_interactive(t *testing.T) {
	aioSubprocess(t, func(ctx context.Context, l *asyncio.Loop) error {
		tr, p, err := startHelper(ctx, t, l, "echo", nil)
		if err != nil {
			return err
		}
		stdin := tr.GetPipeTransport(0)
		stdin.Write([]byte("Python "))
		p.gotData[1].Wait(ctx)
		p.gotData[1].Clear()
		if p.data[1].String() != "Python " {
			t.Errorf("data %q", p.data[1].String())
		}
		stdin.Write([]byte("The Winner"))
		for p.data[1].String() != "Python The Winner" {
			if err := p.gotData[1].Wait(ctx); err != nil {
				return err
			}
			p.gotData[1].Clear()
		}
		tr.Close()
		_, err = asyncio.Await(ctx, p.completed)
		if p.returncode != -int(syscall.SIGKILL) {
			t.Errorf("rc %d", p.returncode)
		}
		return err
	})
}

func TestAioSubprocess_test_subprocess_shell(t *testing.T) {
	aioSubprocess(t, func(ctx context.Context, l *asyncio.Loop) error {
		p := newMySubprocessProtocol(t, l)
		tr, _, err := asyncio.SubprocessShell(ctx, func() *mySubprocessProtocol { return p }, nil, "echo Python")
		if err != nil {
			return err
		}
		tr.GetPipeTransport(0).Close()
		if _, err := asyncio.Await(ctx, p.completed); err != nil {
			return err
		}
		for i, d := range p.disconnects {
			if !d.Done() {
				t.Errorf("pipe %d not disconnected", i)
			}
		}
		if p.returncode != 0 || p.data[1].String() != "Python\n" || p.data[2].Len() != 0 {
			t.Errorf("rc %d, stdout %q, stderr %q", p.returncode, p.data[1].String(), p.data[2].String())
		}
		tr.Close()
		return nil
	})
}

func TestAioSubprocess_test_subprocess_exitcode_and_close_after_finish(t *testing.T) {
	aioSubprocess(t, func(ctx context.Context, l *asyncio.Loop) error {
		p := newMySubprocessProtocol(t, l)
		tr, _, err := asyncio.SubprocessShell(ctx, func() *mySubprocessProtocol { return p }, &asyncio.SubprocessOptions{}, "exit 7")
		if err != nil {
			return err
		}
		for fd := 0; fd < 3; fd++ {
			if tr.GetPipeTransport(fd) != nil {
				t.Errorf("pipe %d exists", fd)
			}
		}
		if _, err := asyncio.Await(ctx, p.completed); err != nil {
			return err
		}
		if p.returncode != 7 {
			t.Errorf("rc %d", p.returncode)
		}
		tr.Close()
		return nil
	})
}

func TestAioSubprocess_test_subprocess_kill_terminate_send_signal(t *testing.T) {
	for _, c := range []struct {
		sig  syscall.Signal
		send func(asyncio.SubprocessTransport) error
	}{
		{syscall.SIGKILL, asyncio.SubprocessTransport.Kill},
		{syscall.SIGTERM, asyncio.SubprocessTransport.Terminate},
		{syscall.SIGHUP, func(tr asyncio.SubprocessTransport) error { return tr.SendSignal(syscall.SIGHUP) }},
	} {
		aioSubprocess(t, func(ctx context.Context, l *asyncio.Loop) error {
			tr, p, err := startHelper(ctx, t, l, "sleep", nil)
			if err != nil {
				return err
			}
			if err := c.send(tr); err != nil {
				return err
			}
			if _, err := asyncio.Await(ctx, p.completed); err != nil {
				return err
			}
			if p.returncode != -int(c.sig) {
				t.Errorf("%v: rc %d", c.sig, p.returncode)
			}
			tr.Close()
			return nil
		})
	}
}

func TestAioSubprocess_test_subprocess_stderr(t *testing.T) {
	aioSubprocess(t, func(ctx context.Context, l *asyncio.Loop) error {
		tr, p, err := startHelper(ctx, t, l, "echo2", nil)
		if err != nil {
			return err
		}
		tr.GetPipeTransport(0).Write([]byte("test"))
		if _, err := asyncio.Await(ctx, p.completed); err != nil {
			return err
		}
		tr.Close()
		if p.data[1].String() != "OUT:test" || p.data[2].String() != "ERR:test" || p.returncode != 0 {
			t.Errorf("stdout %q stderr %q rc %d", p.data[1].String(), p.data[2].String(), p.returncode)
		}
		return nil
	})
}

func TestAioSubprocess_test_subprocess_stderr_redirect_to_stdout(t *testing.T) {
	aioSubprocess(t, func(ctx context.Context, l *asyncio.Loop) error {
		tr, p, err := startHelper(ctx, t, l, "echo2", &asyncio.SubprocessOptions{Stdin: asyncio.StdioPipe, Stdout: asyncio.StdioPipe, Stderr: asyncio.StdioStdout})
		if err != nil {
			return err
		}
		if tr.GetPipeTransport(1) == nil || tr.GetPipeTransport(2) != nil {
			t.Error("pipes 1 and 2")
		}
		tr.GetPipeTransport(0).Write([]byte("test"))
		if _, err := asyncio.Await(ctx, p.completed); err != nil {
			return err
		}
		tr.Close()
		if p.data[1].String() != "OUT:testERR:test" || p.data[2].Len() != 0 || p.returncode != 0 {
			t.Errorf("stdout %q stderr %q rc %d", p.data[1].String(), p.data[2].String(), p.returncode)
		}
		return nil
	})
}

func TestAioSubprocess_test_subprocess_close_client_stream(t *testing.T) {
	aioSubprocess(t, func(ctx context.Context, l *asyncio.Loop) error {
		tr, p, err := startHelper(ctx, t, l, "echo3", nil)
		if err != nil {
			return err
		}
		stdin, stdout := tr.GetPipeTransport(0), tr.GetPipeTransport(1)
		stdin.Write([]byte("test"))
		p.gotData[1].Wait(ctx)
		if p.data[1].String() != "OUT:test" {
			t.Errorf("stdout %q", p.data[1].String())
		}
		stdout.Close()
		if _, err := asyncio.Await(ctx, p.disconnects[1]); err != nil {
			return err
		}
		stdin.Write([]byte("xxx"))
		p.gotData[2].Wait(ctx)
		if p.data[2].String() != "ERR:BrokenPipeError" {
			t.Errorf("stderr %q", p.data[2].String())
		}
		tr.Close()
		_, err = asyncio.Await(ctx, p.completed)
		if p.returncode != -int(syscall.SIGKILL) {
			t.Errorf("rc %d", p.returncode)
		}
		return err
	})
}

func TestAioSubprocess_test_subprocess_wait_no_same_group(t *testing.T) {
	aioSubprocess(t, func(ctx context.Context, l *asyncio.Loop) error {
		p := newMySubprocessProtocol(t, l)
		tr, _, err := asyncio.SubprocessShell(ctx, func() *mySubprocessProtocol { return p }, &asyncio.SubprocessOptions{StartNewSession: true}, "exit 7")
		if err != nil {
			return err
		}
		_, err = asyncio.Await(ctx, p.completed)
		if p.returncode != 7 {
			t.Errorf("rc %d", p.returncode)
		}
		tr.Close()
		return err
	})
}
