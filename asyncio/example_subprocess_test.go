//go:build unix

package asyncio_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

// A trio program runs a child through the loop and talks to it with
// Communicate.
func ExampleProcess() {
	err := trio.Run(func(ctx context.Context) error {
		return asyncio.OpenLoop(ctx, func(ctx context.Context, loop *asyncio.Loop) error {
			out, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (string, error) {
				p, err := asyncio.CreateSubprocessExec(ctx,
					&asyncio.SubprocessOptions{Stdin: asyncio.StdioPipe, Stdout: asyncio.StdioPipe}, "tr", "a-z", "A-Z")
				if err != nil {
					return "", err
				}
				stdout, _, err := p.Communicate(ctx, []byte("hello from the loop\n"))
				if err != nil {
					return "", err
				}
				rc, _ := p.Returncode()
				return fmt.Sprintf("%s(exit %d)", stdout, rc), nil
			})
			fmt.Println(out)
			return err
		})
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// HELLO FROM THE LOOP
	// (exit 0)
}

// Lines of a child's output, read as they come.
func ExampleCreateSubprocessShell() {
	_ = asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			p, err := asyncio.CreateSubprocessShell(ctx, &asyncio.SubprocessOptions{Stdout: asyncio.StdioPipe}, "for i in 1 2 3; do echo line $i; done; exit 3")
			if err != nil {
				return 0, err
			}
			for line, err := range p.Stdout.Lines(ctx) {
				if err != nil {
					return 0, err
				}
				fmt.Print(string(line))
			}
			rc, err := p.Wait(ctx)
			fmt.Println("exit status", rc)
			return rc, err
		})
		return err
	})
	// Output:
	// line 1
	// line 2
	// line 3
	// exit status 3
}

// A child killed by a signal has a negative return code.
func ExampleProcess_Kill() {
	_ = asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			p, err := asyncio.CreateSubprocessExec(ctx, nil, "sleep", "3600")
			if err != nil {
				return 0, err
			}
			p.Kill()
			rc, err := p.Wait(ctx)
			fmt.Println(rc == -int(syscall.SIGKILL))
			return rc, err
		})
		return err
	})
	// Output: true
}

// Stdio says where each standard stream goes: here stderr joins stdout,
// stdin reads /dev/null.
func ExampleStdio() {
	_ = asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			p, err := asyncio.CreateSubprocessShell(ctx, &asyncio.SubprocessOptions{
				Stdin: asyncio.StdioDevNull, Stdout: asyncio.StdioPipe, Stderr: asyncio.StdioStdout,
			}, "cat; echo to stdout; echo to stderr >&2")
			if err != nil {
				return 0, err
			}
			out, _, err := p.Communicate(ctx, nil)
			fmt.Print(string(out))
			return 0, err
		})
		return err
	})
	// Output:
	// to stdout
	// to stderr
}

// Environment, working directory and process group of a child.
func ExampleSubprocessOptions() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	_ = asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			p, err := asyncio.CreateSubprocessShell(ctx, &asyncio.SubprocessOptions{
				Stdout:  asyncio.StdioPipe,
				Env:     []string{"GREETING=hi"},
				Dir:     dir,
				Setpgid: true, // the child leads a new process group
			}, `echo "$GREETING from $(basename "$PWD")" | sed "s/example[0-9]*/the temp dir/"`)
			if err != nil {
				return 0, err
			}
			out, _, err := p.Communicate(ctx, nil)
			fmt.Print(string(out))
			return 0, err
		})
		return err
	})
	// Output: hi from the temp dir
}

// exampleCounter is a SubprocessProtocol counting a child's output.
type exampleCounter struct {
	asyncio.SubprocessProtocolBase // no-op defaults
	bytes                          int
	done                           *asyncio.Future[int]
	t                              asyncio.SubprocessTransport
}

func (c *exampleCounter) ConnectionMade(t asyncio.SubprocessTransport) { c.t = t }
func (c *exampleCounter) PipeDataReceived(fd int, data []byte)         { c.bytes += len(data) }
func (c *exampleCounter) ProcessExited() {
	rc, _ := c.t.GetReturncode()
	fmt.Println("exited with", rc, "after", c.bytes, "bytes")
}
func (c *exampleCounter) ConnectionLost(error) { c.done.SetResult(c.bytes) }

// The callback style: a SubprocessProtocol receives the child's events.
func ExampleSubprocessProtocolBase() {
	_ = asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			c := &exampleCounter{done: asyncio.NewFuture[int](loop)}
			_, _, err := asyncio.SubprocessExec(ctx, func() *exampleCounter { return c },
				&asyncio.SubprocessOptions{Stdout: asyncio.StdioPipe}, "head", "-c", "100000", "/dev/zero")
			if err != nil {
				return 0, err
			}
			return asyncio.Await(ctx, c.done)
		})
		return err
	})
	// Output: exited with 0 after 100000 bytes
}

// A SubprocessProtocol hears which pipe each piece of output came from
// (fd 1 or 2), then that the child exited, then that the transport
// closed.
func ExampleSubprocessProtocol() {
	_ = asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			c := &exampleCounter{done: asyncio.NewFuture[int](loop)}
			var p asyncio.SubprocessProtocol = c
			_, _, err := asyncio.SubprocessShell(ctx, func() asyncio.SubprocessProtocol { return p },
				&asyncio.SubprocessOptions{Stdout: asyncio.StdioPipe}, "printf hello")
			if err != nil {
				return 0, err
			}
			return asyncio.Await(ctx, c.done)
		})
		return err
	})
	// Output: exited with 0 after 5 bytes
}

// A signal handler on the loop; SIGKILL cannot be caught.
func ExampleLoop_AddSignalHandler() {
	_ = asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			got := asyncio.NewFuture[string](loop)
			loop.AddSignalHandler(syscall.SIGUSR1, func(context.Context) { got.SetResult("got SIGUSR1") })
			syscall.Kill(os.Getpid(), syscall.SIGUSR1)
			msg, err := asyncio.Await(ctx, got)
			fmt.Println(msg)
			fmt.Println(loop.AddSignalHandler(syscall.SIGKILL, func(context.Context) {}))
			return 0, err
		})
		return err // the handler is removed when the block exits
	})
	// Output:
	// got SIGUSR1
	// asyncio: SIGKILL and SIGSTOP cannot be caught: killed
}

// exampleLines prints what a pipe carries.
type exampleLines struct {
	asyncio.ProtocolBase
	done *asyncio.Future[struct{}]
}

func (p *exampleLines) DataReceived(data []byte) { fmt.Print(strings.ToUpper(string(data))) }
func (p *exampleLines) ConnectionLost(error)     { p.done.SetResult(struct{}{}) }

// A pipe read on the loop.
func ExampleConnectReadPipe() {
	r, w, _ := os.Pipe()
	_ = asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			p := &exampleLines{done: asyncio.NewFuture[struct{}](loop)}
			if _, _, err := asyncio.ConnectReadPipe(ctx, func() *exampleLines { return p }, r); err != nil {
				return 0, err
			}
			w.Write([]byte("through a pipe\n"))
			w.Close()
			_, err := asyncio.Await(ctx, p.done)
			return 0, err
		})
		return err
	})
	// Output: THROUGH A PIPE
}

// exampleUDPEcho answers each datagram to its sender.
type exampleUDPEcho struct {
	asyncio.ProtocolBase
	t asyncio.DatagramTransport
}

func (e *exampleUDPEcho) ConnectionMade(t asyncio.Transport) { e.t = t.(asyncio.DatagramTransport) }
func (e *exampleUDPEcho) DatagramReceived(data []byte, addr net.Addr) {
	e.t.SendTo([]byte("echo: "+string(data)), addr)
}

// exampleUDPClient prints the reply.
type exampleUDPClient struct {
	asyncio.ProtocolBase
	got *asyncio.Future[string]
}

func (c *exampleUDPClient) DatagramReceived(data []byte, addr net.Addr) {
	c.got.SetResult(string(data))
}

// A UDP echo server and a client on one loop.
func ExampleDatagramTransport() {
	_ = asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			srv, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *exampleUDPEcho { return &exampleUDPEcho{} },
				&asyncio.DatagramOptions{LocalAddr: "127.0.0.1:0"})
			if err != nil {
				return 0, err
			}
			c := &exampleUDPClient{got: asyncio.NewFuture[string](loop)}
			cli, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *exampleUDPClient { return c },
				&asyncio.DatagramOptions{RemoteAddr: srv.GetExtraInfo("sockname").(net.Addr).String()})
			if err != nil {
				return 0, err
			}
			cli.Write([]byte("ping"))
			reply, err := asyncio.Await(ctx, c.got)
			fmt.Println(reply)
			return 0, err
		})
		return err // both endpoints are closed when the block exits
	})
	// Output: echo: ping
}

// A Unix datagram socket in a temporary directory.
func ExampleDatagramOptions() {
	dir, _ := os.MkdirTemp("", "dgram")
	defer os.RemoveAll(dir)
	_ = asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			c := &exampleUDPClient{got: asyncio.NewFuture[string](loop)}
			if _, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *exampleUDPClient { return c },
				&asyncio.DatagramOptions{Network: "unixgram", LocalAddr: filepath.Join(dir, "sock")}); err != nil {
				return 0, err
			}
			conn, err := net.Dial("unixgram", filepath.Join(dir, "sock"))
			if err != nil {
				return 0, err
			}
			conn.Write([]byte("hello over unixgram"))
			conn.Close()
			msg, err := asyncio.Await(ctx, c.got)
			fmt.Println(msg)
			return 0, err
		})
		return err
	})
	// Output: hello over unixgram
}

// exampleEchoChild prints what the child echoes and closes the transport
// after the first reply, which kills the child.
type exampleEchoChild struct {
	asyncio.SubprocessProtocolBase
	t    asyncio.SubprocessTransport
	done *asyncio.Future[struct{}]
}

func (p *exampleEchoChild) ConnectionMade(t asyncio.SubprocessTransport) { p.t = t }
func (p *exampleEchoChild) PipeDataReceived(fd int, data []byte) {
	fmt.Printf("fd %d: %s", fd, data)
	p.t.Close() // the child is still running: Close kills it
}
func (p *exampleEchoChild) ProcessExited() {
	rc, _ := p.t.GetReturncode()
	fmt.Println("killed:", rc == -int(syscall.SIGKILL))
}
func (p *exampleEchoChild) ConnectionLost(error) { p.done.SetResult(struct{}{}) }

// The transport of a child: write to its stdin pipe, close it to kill it.
func ExampleSubprocessTransport() {
	_ = asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			p := &exampleEchoChild{done: asyncio.NewFuture[struct{}](loop)}
			t, _, err := asyncio.SubprocessExec(ctx, func() *exampleEchoChild { return p }, nil, "cat")
			if err != nil {
				return 0, err
			}
			t.GetPipeTransport(0).Write([]byte("hello, cat\n"))
			_, err = asyncio.Await(ctx, p.done)
			return 0, err
		})
		return err
	})
	// Output:
	// fd 1: hello, cat
	// killed: true
}
