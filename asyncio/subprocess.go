package asyncio

import (
	"context"
	"errors"
	"os"
	"syscall"
)

// Errors of subprocesses.
var (
	// ErrProcessLookup is returned by SendSignal, Terminate and Kill once
	// the child has been reaped (asyncio's ProcessLookupError): its pid
	// may belong to another process by now, so no signal is sent.
	ErrProcessLookup = errors.New("asyncio: no such process (the child has exited)")
	// ErrNoProgram is returned by SubprocessExec for an empty program.
	ErrNoProgram = errors.New("asyncio: no program to run")
	// ErrBadStdio is returned for a Stdio that does not fit its stream
	// (StdioStdout anywhere but in Stderr).
	ErrBadStdio = errors.New("asyncio: invalid standard stream specification")
)

type stdioKind uint8

const (
	stdioInherit stdioKind = iota
	stdioPipe
	stdioDevNull
	stdioStdout
	stdioFile
)

// Stdio says what one of a child's standard streams is connected to
// (asyncio's stdin=/stdout=/stderr= arguments). The zero Stdio is
// StdioInherit.
type Stdio struct {
	kind stdioKind
	file *os.File
}

var (
	// StdioInherit: the child shares the parent's stream (asyncio's None).
	StdioInherit = Stdio{}
	// StdioPipe: a pipe to the loop (asyncio's subprocess.PIPE).
	StdioPipe = Stdio{kind: stdioPipe}
	// StdioDevNull: /dev/null (asyncio's subprocess.DEVNULL).
	StdioDevNull = Stdio{kind: stdioDevNull}
	// StdioStdout, for Stderr only: the child's stderr goes where its
	// stdout goes (asyncio's subprocess.STDOUT).
	StdioStdout = Stdio{kind: stdioStdout}
)

// StdioFile connects the stream to f (a file, a pipe end, a socket…).
// f stays the caller's: the child gets a copy of its descriptor.
func StdioFile(f *os.File) Stdio { return Stdio{kind: stdioFile, file: f} }

// SubprocessOptions are the options of the subprocess functions. With nil
// options SubprocessExec and SubprocessShell make a pipe of each standard
// stream (asyncio's defaults for loop.subprocess_exec), and
// CreateSubprocessExec and CreateSubprocessShell let the child inherit
// them (asyncio's defaults for create_subprocess_exec). In non-nil
// options a zero Stdio means StdioInherit.
type SubprocessOptions struct {
	Stdin, Stdout, Stderr Stdio
	// Env is the child's environment ("KEY=value"); nil inherits the
	// parent's.
	Env []string
	// Dir is the child's working directory; "" keeps the parent's.
	Dir string
	// ProcessGroup, if Setpgid, puts the child in that process group (0:
	// a new group led by the child), as Python's process_group=.
	Setpgid      bool
	ProcessGroup int
	// StartNewSession runs the child in a new session (setsid), as
	// Python's start_new_session=True.
	StartNewSession bool
	// Limit is the StreamReaders' limit for CreateSubprocess* (0:
	// DefaultStreamLimit).
	Limit int
}

// SubprocessProtocol receives a child's events (asyncio.SubprocessProtocol).
// The loop calls them on the loop: ConnectionMade once, then
// PipeDataReceived and PipeConnectionLost for the pipes, then, once the
// child has exited and every pipe is closed, ProcessExited, then
// ConnectionLost(nil). Embed SubprocessProtocolBase for no-op defaults.
type SubprocessProtocol interface {
	// ConnectionMade is called once the child is started and its pipes
	// are connected.
	ConnectionMade(t SubprocessTransport)
	// PipeDataReceived is called with what the child wrote on its stdout
	// (fd 1) or stderr (fd 2). data is valid only during the call.
	PipeDataReceived(fd int, data []byte)
	// PipeConnectionLost is called when one of the pipes (0, 1 or 2) is
	// closed; err is nil for a regular end.
	PipeConnectionLost(fd int, err error)
	// ProcessExited is called once the child has exited and its pipes are
	// closed.
	ProcessExited()
	// ConnectionLost is called last, once.
	ConnectionLost(err error)
	// PauseWriting and ResumeWriting report the stdin pipe's flow
	// control, as for other transports.
	PauseWriting()
	ResumeWriting()
}

// SubprocessProtocolBase gives a subprocess protocol no-op callbacks.
// Embed it and override what you need.
type SubprocessProtocolBase struct{}

func (SubprocessProtocolBase) ConnectionMade(SubprocessTransport) {}
func (SubprocessProtocolBase) PipeDataReceived(int, []byte)       {}
func (SubprocessProtocolBase) PipeConnectionLost(int, error)      {}
func (SubprocessProtocolBase) ProcessExited()                     {}
func (SubprocessProtocolBase) ConnectionLost(error)               {}
func (SubprocessProtocolBase) PauseWriting()                      {}
func (SubprocessProtocolBase) ResumeWriting()                     {}

// SubprocessTransport is a running child as its protocol sees it
// (asyncio.SubprocessTransport). Loop-confined.
type SubprocessTransport interface {
	// GetPid returns the child's process id.
	GetPid() int
	// GetReturncode returns the child's exit status and true once it has
	// exited: its exit code, or -N if signal N killed it.
	GetReturncode() (int, bool)
	// GetPipeTransport returns the transport of the child's stdin (0),
	// stdout (1) or stderr (2) pipe, or nil if that stream is not a pipe.
	GetPipeTransport(fd int) Transport
	// SendSignal sends sig to the child; ErrProcessLookup once reaped.
	SendSignal(sig os.Signal) error
	// Terminate sends SIGTERM; Kill sends SIGKILL.
	Terminate() error
	Kill() error
	// Close closes the pipes and kills the child if it is still running
	// (asyncio's behaviour); its exit is still reported.
	Close()
	// IsClosing reports whether Close was called.
	IsClosing() bool
	// GetExtraInfo returns "subprocess" (*os.Process) or nil.
	GetExtraInfo(name string) any
	// GetProtocol and SetProtocol get and switch the protocol.
	GetProtocol() SubprocessProtocol
	SetProtocol(p SubprocessProtocol)
}

// returncodeOf is a child's Returncode: its exit code, or -N if signal N
// killed it.
func returncodeOf(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -int(ws.Signal())
	}
	return ps.ExitCode()
}

// CreateSubprocessExec starts program with args and returns a Process
// whose Stdin, Stdout and Stderr are streams for the standard streams
// made StdioPipe in opts (asyncio's create_subprocess_exec). program
// without a slash is looked up in PATH. With nil opts the child inherits
// all three.
//
// The child belongs to the loop: if the OpenLoop block exits while it
// runs, it is killed (SIGKILL) and reaped; the loop never reaps a child
// it did not start. A trio deadline cancelling Wait or Communicate does
// not kill the child (as in asyncio): kill it yourself if you want it
// gone.
//
// A coroutine: call it from a task. Errors: the start's (errors.Is with
// os.ErrNotExist for a missing program), ErrNotSupported on Windows.
func CreateSubprocessExec(ctx context.Context, opts *SubprocessOptions, program string, args ...string) (*Process, error) {
	if opts == nil {
		opts = &SubprocessOptions{}
	}
	return createProcess(ctx, opts, false, program, args)
}

// CreateSubprocessShell runs cmd with /bin/sh -c, as CreateSubprocessExec
// (asyncio's create_subprocess_shell). Quote what you pass to the shell.
func CreateSubprocessShell(ctx context.Context, opts *SubprocessOptions, cmd string) (*Process, error) {
	if opts == nil {
		opts = &SubprocessOptions{}
	}
	return createProcess(ctx, opts, true, cmd, nil)
}

func createProcess(ctx context.Context, opts *SubprocessOptions, shell bool, program string, args []string) (*Process, error) {
	l, err := GetRunningLoop(ctx)
	if err != nil {
		return nil, err
	}
	limit := opts.Limit
	if limit <= 0 {
		limit = DefaultStreamLimit
	}
	proto := &subprocessStreamProtocol{loop: l, ctx: ctx, limit: limit}
	factory := func() *subprocessStreamProtocol { return proto }
	var t SubprocessTransport
	if shell {
		t, _, err = SubprocessShell(ctx, factory, opts, program)
	} else {
		t, _, err = SubprocessExec(ctx, factory, opts, program, args...)
	}
	if err != nil {
		return nil, err
	}
	return &Process{t: t, proto: proto, Stdin: proto.stdin, Stdout: proto.stdout, Stderr: proto.stderr}, nil
}

// communicateChunk is how much of its input Communicate hands the stdin
// pipe at once.
const communicateChunk = 256 << 10

// A collector takes a pipe's data for Communicate, bypassing its
// StreamReader's limit and flow control (Communicate reads all anyway).
type collector struct {
	buf  []byte
	done *Future[struct{}]
}

// add appends data, doubling the buffer when it is full: append's growth
// of large slices (a quarter at a time) would copy what Communicate has
// already collected about four times over.
func (c *collector) add(data []byte) {
	if n := len(c.buf) + len(data); n > cap(c.buf) {
		nb := make([]byte, len(c.buf), max(n, 2*cap(c.buf), 64<<10))
		copy(nb, c.buf)
		c.buf = nb
	}
	c.buf = append(c.buf, data...)
}

// collect reads the stream of fd to its end for Communicate: what r has
// buffered, then every byte as it arrives, without pausing the pipe.
// Cancelled, it puts what it took back into r, in order.
func (p *subprocessStreamProtocol) collect(ctx context.Context, fd int, r *StreamReader) ([]byte, error) {
	if r.eof || r.err != nil || r.waiter != nil || p.collectors[fd] != nil {
		return r.Read(ctx, -1)
	}
	c := &collector{buf: r.buf, done: NewFuture[struct{}](p.loop)}
	r.buf = nil
	p.collectors[fd] = c
	if r.paused {
		r.paused = false
		r.transport.ResumeReading()
	}
	_, err := Await(ctx, c.done)
	p.collectors[fd] = nil
	if err != nil {
		r.buf = append(c.buf, r.buf...)
		return nil, err
	}
	if c.buf == nil {
		c.buf = []byte{}
	}
	return c.buf, nil
}

// subprocessStreamProtocol feeds a Process's streams
// (asyncio.subprocess.SubprocessStreamProtocol).
type subprocessStreamProtocol struct {
	loop                   *Loop
	ctx                    context.Context
	limit                  int
	t                      SubprocessTransport
	stdin                  *StreamWriter
	stdout, stderr         *StreamReader
	stdinProto             *StreamReaderProtocol // the stdin pipe's flow control
	pipes                  map[int]bool
	exited, transportClose bool
	collectors             [3]*collector // Communicate's, while it reads
}

func (p *subprocessStreamProtocol) ConnectionMade(t SubprocessTransport) {
	p.t = t
	p.pipes = map[int]bool{}
	if pt := t.GetPipeTransport(1); pt != nil {
		p.stdout = NewStreamReader(p.loop, p.limit)
		p.stdout.SetTransport(pt)
		p.pipes[1] = true
	}
	if pt := t.GetPipeTransport(2); pt != nil {
		p.stderr = NewStreamReader(p.loop, p.limit)
		p.stderr.SetTransport(pt)
		p.pipes[2] = true
	}
	if pt := t.GetPipeTransport(0); pt != nil {
		p.stdinProto = NewStreamReaderProtocol(p.ctx, NewStreamReader(p.loop, p.limit), nil)
		p.stdinProto.transport = pt
		p.stdin = NewStreamWriter(pt, p.stdinProto, nil)
		p.pipes[0] = true
	}
}

func (p *subprocessStreamProtocol) PipeDataReceived(fd int, data []byte) {
	if fd >= 0 && fd < 3 && p.collectors[fd] != nil {
		p.collectors[fd].add(data)
		return
	}
	switch fd {
	case 1:
		if p.stdout != nil {
			p.stdout.FeedData(data)
		}
	case 2:
		if p.stderr != nil {
			p.stderr.FeedData(data)
		}
	}
}

func (p *subprocessStreamProtocol) PipeConnectionLost(fd int, err error) {
	switch fd {
	case 0:
		if p.stdinProto != nil {
			p.stdinProto.ConnectionLost(err)
		}
	case 1, 2:
		r := p.stdout
		if fd == 2 {
			r = p.stderr
		}
		if r != nil {
			if err == nil {
				r.FeedEOF()
			} else {
				r.SetException(err)
			}
		}
		if c := p.collectors[fd]; c != nil {
			if err == nil {
				c.done.SetResult(struct{}{})
			} else {
				c.done.SetException(err)
			}
		}
	}
	delete(p.pipes, fd)
	p.maybeCloseTransport()
}

func (p *subprocessStreamProtocol) ProcessExited() {
	p.exited = true
	p.maybeCloseTransport()
}

func (p *subprocessStreamProtocol) maybeCloseTransport() {
	if len(p.pipes) == 0 && p.exited && !p.transportClose {
		p.transportClose = true
		p.t.Close()
	}
}

func (p *subprocessStreamProtocol) ConnectionLost(error) {}

func (p *subprocessStreamProtocol) PauseWriting() {
	if p.stdinProto != nil {
		p.stdinProto.PauseWriting()
	}
}

func (p *subprocessStreamProtocol) ResumeWriting() {
	if p.stdinProto != nil {
		p.stdinProto.ResumeWriting()
	}
}

// A Process is a child started by CreateSubprocessExec or
// CreateSubprocessShell (asyncio.subprocess.Process). Stdin is a
// StreamWriter to the child's stdin if it is a pipe (else nil), Stdout
// and Stderr StreamReaders of its stdout and stderr pipes (else nil).
// Loop-confined: use it from the loop's tasks.
type Process struct {
	Stdin  *StreamWriter
	Stdout *StreamReader
	Stderr *StreamReader
	t      SubprocessTransport
	proto  *subprocessStreamProtocol
}

// Pid returns the child's process id.
func (p *Process) Pid() int { return p.t.GetPid() }

// Returncode returns the child's exit status and true once it has exited:
// its exit code, or -N if signal N killed it.
func (p *Process) Returncode() (int, bool) { return p.t.GetReturncode() }

// SendSignal sends sig to the child. Once the child has been reaped it
// returns ErrProcessLookup and sends nothing.
func (p *Process) SendSignal(sig os.Signal) error { return p.t.SendSignal(sig) }

// Terminate sends SIGTERM to the child.
func (p *Process) Terminate() error { return p.t.Terminate() }

// Kill sends SIGKILL to the child.
func (p *Process) Kill() error { return p.t.Kill() }

// Wait waits for the child to exit and returns its Returncode. It does
// not read the pipes: a child writing more than a pipe holds to a pipe
// nobody reads blocks forever; use Communicate then. Cancelled, it
// returns the CancelledError and the child keeps running. A coroutine.
func (p *Process) Wait(ctx context.Context) (int, error) {
	return subprocessWait(ctx, p.t)
}

// Communicate writes input to the child's stdin (if it is a pipe) and
// closes it, reads its stdout and stderr pipes to the end, all at once so
// that no pipe fills up, then waits for the child to exit (asyncio's
// communicate). It returns what was read (nil for a stream that is not a
// pipe). A child that stops reading its stdin early (a broken pipe) is
// not an error. Cancelled, it returns the CancelledError: the child keeps
// running, and what was read so far stays in Stdout and Stderr. Cost: the
// output is gathered in memory (no flow control: Communicate reads
// everything anyway), input is handed to the pipe in 256 KiB chunks. A
// coroutine.
func (p *Process) Communicate(ctx context.Context, input []byte) (stdout, stderr []byte, err error) {
	feed := CreateTask(ctx, func(ctx context.Context) ([]byte, error) {
		if p.Stdin == nil {
			return nil, nil
		}
		// In chunks, so that the transport never copies all of input.
		for off := 0; off < len(input); off += communicateChunk {
			if werr := p.Stdin.Write(input[off:min(off+communicateChunk, len(input))]); werr != nil {
				break // the pipe is closed: the child does not read
			}
			if derr := p.Stdin.Drain(ctx); derr != nil {
				if brokenPipe(derr) {
					break
				}
				return nil, derr
			}
		}
		p.Stdin.Close()
		return nil, nil
	})
	read := func(fd int, r *StreamReader) *Task[[]byte] {
		return CreateTask(ctx, func(ctx context.Context) ([]byte, error) {
			if r == nil {
				return nil, nil
			}
			b, err := p.proto.collect(ctx, fd, r)
			if err != nil && brokenPipe(err) {
				err = nil
			}
			return b, err
		})
	}
	outT, errT := read(1, p.Stdout), read(2, p.Stderr)
	res, err := Await[[][]byte](ctx, Gather[[]byte](ctx, feed, outT, errT))
	if err != nil {
		return nil, nil, err
	}
	if _, err := p.Wait(ctx); err != nil {
		return nil, nil, err
	}
	return res[1], res[2], nil
}

// subprocessWait waits for t's child to exit.
func subprocessWait(ctx context.Context, t SubprocessTransport) (int, error) {
	if w, ok := t.(interface {
		wait(ctx context.Context) (int, error)
	}); ok {
		return w.wait(ctx)
	}
	return 0, ErrNotSupported
}

func brokenPipe(err error) bool {
	return errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, ErrConnectionLost)
}
