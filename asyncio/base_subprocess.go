//go:build unix

package asyncio

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// The child watcher.
//
// Each child the loop starts is watched by itself only, so the loop never
// reaps a child it did not start, and children started by other code
// (os/exec, other loops) are never touched. Where the kernel gives pidfds
// (Linux 5.3 and later) the child's pidfd is watched by the loop's poller
// like any fd: it turns readable when the child exits, and the loop then
// reaps it (os.Process.Wait, which returns at once) and reports the exit.
// This costs no goroutine and no thread blocked in a wait per child.
// Elsewhere one goroutine per child waits for that pid and posts its
// status to the loop. The transport is owned by the loop: when the
// OpenLoop block exits, a child still running is killed (SIGKILL) and
// reaped (or its watcher waited for), so no zombie and no goroutine is
// left behind.

const (
	fSetPipeSz = 1031 // F_SETPIPE_SZ
	pipeSize   = 256 << 10
)

// SubprocessExec starts program with args and connects its standard
// streams as opts says, with a SubprocessProtocol made by factory
// (asyncio's loop.subprocess_exec). It returns once the protocol's
// ConnectionMade has run. program without a slash is looked up in the
// PATH of the child's environment (opts.Env's when it is set, as Python's
// subprocess does; the parent's otherwise). With nil opts the three standard streams are pipes.
//
// The transport and the child belong to the loop: when the OpenLoop block
// exits, the pipes are closed and a child still running is killed
// (SIGKILL) and reaped. Closing the transport also kills a running child,
// as asyncio does.
//
// A coroutine: call it from a task. Cost: a fork and exec on the loop's
// goroutine (about a millisecond), a goroutine per running child, and the
// pipes' registrations with the loop's poller.
func SubprocessExec[P SubprocessProtocol](ctx context.Context, factory func() P, opts *SubprocessOptions, program string, args ...string) (SubprocessTransport, P, error) {
	var zero P
	if program == "" {
		return nil, zero, ErrNoProgram
	}
	if opts == nil {
		opts = &SubprocessOptions{Stdin: StdioPipe, Stdout: StdioPipe, Stderr: StdioPipe}
	}
	path, err := lookPath(program, opts.Env)
	if err != nil {
		return nil, zero, err
	}
	return startSubprocess(ctx, factory, opts, path, append([]string{program}, args...))
}

// SubprocessShell runs cmd with /bin/sh -c, as SubprocessExec (asyncio's
// loop.subprocess_shell).
func SubprocessShell[P SubprocessProtocol](ctx context.Context, factory func() P, opts *SubprocessOptions, cmd string) (SubprocessTransport, P, error) {
	if opts == nil {
		opts = &SubprocessOptions{Stdin: StdioPipe, Stdout: StdioPipe, Stderr: StdioPipe}
	}
	return startSubprocess(ctx, factory, opts, "/bin/sh", []string{"/bin/sh", "-c", cmd})
}

// lookPath finds program as the child will see it: a name without a slash
// is searched in the PATH of env when env is set (Python's subprocess
// searches the child's PATH, not the parent's), and in the parent's
// otherwise.
func lookPath(program string, env []string) (string, error) {
	if !filepathHasNoSlash(program) {
		return program, nil
	}
	if env == nil {
		return exec.LookPath(program)
	}
	dirs := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			dirs = v // the first, as the child's own getenv finds
			break
		}
	}
	for _, dir := range filepath.SplitList(dirs) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, program)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", &exec.Error{Name: program, Err: exec.ErrNotFound}
}

func filepathHasNoSlash(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return false
		}
	}
	return true
}

func startSubprocess[P SubprocessProtocol](ctx context.Context, factory func() P, opts *SubprocessOptions, path string, argv []string) (SubprocessTransport, P, error) {
	var zero P
	l, err := GetRunningLoop(ctx)
	if err != nil {
		return nil, zero, err
	}
	if _, err := runningTask(ctx, "SubprocessExec"); err != nil {
		return nil, zero, err
	}
	s, err := l.ioState()
	if err != nil {
		return nil, zero, err
	}
	// The protocol first, as asyncio: a factory that fails leaves no child.
	proto := factory()
	if opts.Stdin.kind == stdioStdout || opts.Stdout.kind == stdioStdout {
		return nil, zero, fmt.Errorf("%w: StdioStdout is only for Stderr", ErrBadStdio)
	}
	var (
		files    [3]*os.File // the child's ends
		parent   [3]int      // the loop's ends, -1 if none
		toClose  []*os.File
		devnull  *os.File
		closeAll = func() {
			for _, f := range toClose {
				f.Close()
			}
		}
	)
	parent = [3]int{-1, -1, -1}
	fail := func(err error) (SubprocessTransport, P, error) {
		closeAll()
		for _, fd := range parent {
			if fd >= 0 {
				syscall.Close(fd)
			}
		}
		return nil, zero, err
	}
	for i, sp := range [3]Stdio{opts.Stdin, opts.Stdout, opts.Stderr} {
		switch sp.kind {
		case stdioInherit:
			files[i] = [3]*os.File{os.Stdin, os.Stdout, os.Stderr}[i]
		case stdioFile:
			if sp.file == nil {
				return fail(fmt.Errorf("%w: StdioFile(nil)", ErrBadStdio))
			}
			files[i] = sp.file
		case stdioDevNull:
			if devnull == nil {
				f, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
				if err != nil {
					return fail(err)
				}
				devnull = f
				toClose = append(toClose, f)
			}
			files[i] = devnull
		case stdioStdout:
			files[i] = files[1]
		case stdioPipe:
			var p [2]int
			if err := sysPipe(p[:]); err != nil {
				return fail(os.NewSyscallError("pipe2", err))
			}
			// A bigger pipe than the 64 KiB default: fewer wake-ups of
			// the loop per MiB. Best effort, and kept modest: pipe
			// buffers count against the user's pipe-user-pages-soft
			// (64 MiB by default), past which the kernel gives every new
			// pipe of that user a single page.
			growPipe(p[0])
			child, mine := p[0], p[1]
			if i > 0 {
				child, mine = p[1], p[0]
			}
			if err := syscall.SetNonblock(mine, true); err != nil {
				syscall.Close(child)
				syscall.Close(mine)
				return fail(os.NewSyscallError("fcntl", err))
			}
			parent[i] = mine
			f := os.NewFile(uintptr(child), "|0")
			toClose = append(toClose, f)
			files[i] = f
		}
	}
	pidfd := -1
	sys := &syscall.SysProcAttr{Setpgid: opts.Setpgid, Pgid: opts.ProcessGroup, Setsid: opts.StartNewSession}
	askPidfd(sys, &pidfd)
	attr := &os.ProcAttr{Dir: opts.Dir, Env: opts.Env, Files: files[:], Sys: sys}
	if attr.Env == nil {
		attr.Env = os.Environ()
	}
	proc, err := os.StartProcess(path, argv, attr)
	closeAll() // the child has its copies
	if err != nil {
		if pidfd >= 0 {
			syscall.Close(pidfd)
		}
		return fail(err)
	}
	t := &subprocessTransport{loop: l, io: s, proc: proc, pid: proc.Pid, done: make(chan struct{}), pending: []func(){}}
	t.proto = proto
	s.owned[t] = struct{}{}
	// Watch the child: its pidfd on the loop's poller (it turns readable
	// when the child exits), else one goroutine waiting for this pid only.
	if pidfd >= 0 {
		if e, err := s.own(pidfd, t.pidfdReady, nil); err == nil {
			t.pidfd, t.pidEnt = pidfd, e
		} else {
			syscall.Close(pidfd)
		}
	}
	if t.pidEnt == nil {
		go t.watch()
	}
	// Connect the pipes (their protocols forward to ours).
	for i, fd := range parent {
		if fd < 0 {
			continue
		}
		pp := &subprocessPipeProto{t: t, fd: i}
		var pt Transport
		var perr error
		if i == 0 {
			pt, perr = newWritePipeTransport(l, fd, pp, nil)
		} else {
			pt, perr = newReadPipeTransport(l, fd, pp, nil)
		}
		if perr != nil {
			syscall.Close(fd)
			for j := i + 1; j < 3; j++ {
				if parent[j] >= 0 {
					syscall.Close(parent[j])
				}
			}
			t.Close()
			return nil, zero, perr
		}
		t.pipes[i] = pt
		t.pipeProtos[i] = pp
	}
	// As asyncio: ConnectionMade, the calls kept for after it, and the
	// waiter, each in its own callback, so that a panic in the protocol
	// goes to the exception handler and SubprocessExec still returns.
	waiter := NewFuture[struct{}](l)
	l.CallSoon(func(context.Context) { t.proto.ConnectionMade(t) })
	l.CallSoon(func(context.Context) {
		pend := t.pending
		t.pending = nil
		for _, fn := range pend {
			if err := protect(fn); err != nil {
				l.CallExceptionHandler(ExceptionContext{Message: "asyncio: exception in a subprocess protocol's callback",
					Err: err, Extra: map[string]any{"transport": t, "protocol": t.proto}})
			}
		}
	})
	scheduleStart(l, func() {}, nil, waiter)
	if _, err := Await(ctx, waiter); err != nil {
		t.Close()
		return nil, zero, err
	}
	return t, proto, nil
}

// subprocessTransport is asyncio's BaseSubprocessTransport.
type subprocessTransport struct {
	loop       *Loop
	io         *ioState
	proc       *os.Process
	pid        int
	proto      SubprocessProtocol
	pipes      [3]Transport
	pipeProtos [3]*subprocessPipeProto
	closed     bool
	exited     bool
	returncode int
	finished   bool
	exitedSent bool
	reaped     bool
	waiters    []*Future[int]
	pending    []func()      // calls made before ConnectionMade; nil after
	done       chan struct{} // closed once the child is reaped
	torn       bool
	pidfd      int      // the child's pidfd, watched by the poller (pidEnt)
	pidEnt     *fdEntry // nil when a goroutine watches the child
}

var _ SubprocessTransport = (*subprocessTransport)(nil)

func (t *subprocessTransport) String() string {
	state := "running"
	if t.exited {
		state = fmt.Sprintf("returncode=%d", t.returncode)
	}
	c := ""
	if t.closed {
		c = " closed"
	}
	return fmt.Sprintf("<subprocessTransport%s pid=%d %s>", c, t.pid, state)
}

// watch waits for the child and posts its exit (child-watcher goroutine).
func (t *subprocessTransport) watch() {
	ps, err := t.proc.Wait()
	code := -1
	if err == nil {
		code = returncodeOf(ps)
	}
	// Posted before done is closed: a loop closing waits on done, so
	// either the post is refused (the loop is closing) or it is queued.
	_ = t.loop.postFromGoroutine(func(context.Context) { t.processExited(code) })
	close(t.done)
}

// pidfdReady: the child's pidfd is readable, so the child has exited (or
// was reaped by someone else): reap it and report its exit.
func (t *subprocessTransport) pidfdReady(uint32) {
	if t.pidEnt == nil {
		return
	}
	t.processExited(t.reap())
}

// reap stops watching the pidfd, closes it and waits for the child, which
// has exited or is dying (SIGKILL), so the wait is short; it returns the
// return code, -1 if someone else reaped the child.
func (t *subprocessTransport) reap() int {
	t.io.drop(t.pidEnt)
	t.pidEnt = nil
	syscall.Close(t.pidfd)
	t.pidfd = -1
	ps, err := t.proc.Wait()
	code := -1
	if err == nil {
		code = returncodeOf(ps)
	}
	close(t.done)
	return code
}

func (t *subprocessTransport) GetPid() int { return t.pid }

func (t *subprocessTransport) GetReturncode() (int, bool) { return t.returncode, t.exited }

func (t *subprocessTransport) GetPipeTransport(fd int) Transport {
	if fd < 0 || fd > 2 || t.pipes[fd] == nil {
		return nil
	}
	return t.pipes[fd]
}

func (t *subprocessTransport) GetExtraInfo(name string) any {
	if name == "subprocess" {
		return t.proc
	}
	return nil
}

func (t *subprocessTransport) GetProtocol() SubprocessProtocol  { return t.proto }
func (t *subprocessTransport) SetProtocol(p SubprocessProtocol) { t.proto = p }
func (t *subprocessTransport) IsClosing() bool                  { return t.closed }

func (t *subprocessTransport) SendSignal(sig os.Signal) error {
	t.loop.confined("SubprocessTransport.SendSignal")
	if t.exited || t.reapedNow() {
		return ErrProcessLookup
	}
	if err := t.proc.Signal(sig); err != nil {
		if err == os.ErrProcessDone {
			return ErrProcessLookup
		}
		return err
	}
	return nil
}

// reapedNow reports whether the watcher has reaped the child (its exit
// may not have reached the loop yet).
func (t *subprocessTransport) reapedNow() bool {
	select {
	case <-t.done:
		return true
	default:
		return false
	}
}

func (t *subprocessTransport) Terminate() error { return t.SendSignal(syscall.SIGTERM) }
func (t *subprocessTransport) Kill() error      { return t.SendSignal(syscall.SIGKILL) }

func (t *subprocessTransport) Close() {
	t.loop.confined("SubprocessTransport.Close")
	if t.closed {
		return
	}
	t.closed = true
	for _, p := range t.pipes {
		if p != nil {
			p.Close()
		}
	}
	if !t.exited && !t.reapedNow() {
		_ = t.proc.Kill()
	}
}

// call delivers a protocol call, or keeps it until ConnectionMade.
func (t *subprocessTransport) call(fn func()) {
	if t.pending != nil {
		t.pending = append(t.pending, fn)
		return
	}
	fn()
}

func (t *subprocessTransport) processExited(code int) {
	if t.exited || t.torn {
		return
	}
	t.exited, t.returncode = true, code
	for _, w := range t.waiters {
		if !w.Done() {
			w.SetResult(code)
		}
	}
	t.waiters = nil
	t.tryFinish()
}

func (t *subprocessTransport) pipeLost(fd int, err error) {
	t.call(func() { t.proto.PipeConnectionLost(fd, err) })
	t.tryFinish()
}

// tryFinish reports the exit once the child has exited and every pipe is
// closed, then ConnectionLost.
func (t *subprocessTransport) tryFinish() {
	if !t.exited || t.finished {
		return
	}
	for _, pp := range t.pipeProtos {
		if pp != nil && !pp.disconnected {
			return
		}
	}
	t.finished = true
	t.call(func() {
		// ConnectionLost is queued before ProcessExited runs, so that a
		// panic in ProcessExited (reported to the exception handler) does
		// not keep it from coming; the teardown happens even if it panics.
		t.loop.CallSoon(func(context.Context) {
			defer t.teardown(false)
			t.proto.ConnectionLost(nil)
		})
		t.proto.ProcessExited()
	})
}

// wait waits for the child's exit (asyncio's _wait).
func (t *subprocessTransport) wait(ctx context.Context) (int, error) {
	if t.exited {
		return t.returncode, nil
	}
	f := NewFuture[int](t.loop)
	t.waiters = append(t.waiters, f)
	return Await(ctx, f)
}

// closeNow is the loop's close: pipes closed, a running child killed and
// reaped, the watcher waited for.
func (t *subprocessTransport) closeNow() { t.teardown(true) }

func (t *subprocessTransport) teardown(kill bool) {
	if t.torn {
		return
	}
	t.torn = true
	delete(t.io.owned, t)
	for _, p := range t.pipes {
		if c, ok := p.(ioCloser); ok {
			c.closeNow()
		}
	}
	if kill && !t.reapedNow() {
		_ = t.proc.Kill()
	}
	if kill && t.pidEnt != nil {
		t.reap()
	}
	if kill || t.exited {
		<-t.done
	}
}

// subprocessPipeProto forwards a pipe's events to the subprocess
// transport (asyncio's WriteSubprocessPipeProto/ReadSubprocessPipeProto).
type subprocessPipeProto struct {
	ProtocolBase
	t            *subprocessTransport
	fd           int
	disconnected bool
}

func (p *subprocessPipeProto) ConnectionLost(err error) {
	p.disconnected = true
	p.t.pipeLost(p.fd, err)
}

func (p *subprocessPipeProto) PauseWriting()  { p.t.call(p.t.proto.PauseWriting) }
func (p *subprocessPipeProto) ResumeWriting() { p.t.call(p.t.proto.ResumeWriting) }

func (p *subprocessPipeProto) DataReceived(data []byte) {
	t := p.t
	if t.pending != nil {
		b := append([]byte(nil), data...)
		t.pending = append(t.pending, func() { t.proto.PipeDataReceived(p.fd, b) })
		return
	}
	t.proto.PipeDataReceived(p.fd, data)
}

func (p *subprocessPipeProto) EOFReceived() bool { return false }
