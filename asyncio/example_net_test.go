//go:build unix

package asyncio_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

// exampleEcho is an echo server's protocol: what it receives, it sends
// back.
type exampleEcho struct {
	asyncio.ProtocolBase // no-op defaults for the callbacks not written here
	t                    asyncio.Transport
}

func (p *exampleEcho) ConnectionMade(t asyncio.Transport) { p.t = t }
func (p *exampleEcho) DataReceived(data []byte)           { p.t.Write(data) }

// exampleClient sends one message, prints the reply and closes.
type exampleClient struct {
	asyncio.ProtocolBase
	msg  string
	t    asyncio.Transport
	done *asyncio.Future[struct{}]
}

func (c *exampleClient) ConnectionMade(t asyncio.Transport) {
	c.t = t
	t.Write([]byte(c.msg))
}

func (c *exampleClient) DataReceived(data []byte) {
	fmt.Printf("client got %q\n", data)
	c.t.Close()
}

func (c *exampleClient) ConnectionLost(err error) {
	fmt.Println("client lost the connection:", err)
	c.done.SetResult(struct{}{})
}

// A Protocol server and a Protocol client on one loop: asyncio's
// callback style. The callbacks come on the loop, in order.
func ExampleProtocol() {
	err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			srv, err := asyncio.CreateServer(ctx, func() *exampleEcho { return &exampleEcho{} }, "127.0.0.1", 0, nil)
			if err != nil {
				return 0, err
			}
			defer srv.Close()
			port := srv.Sockets()[0].(*net.TCPAddr).Port
			client := &exampleClient{msg: "hello", done: asyncio.NewFuture[struct{}](loop)}
			if _, _, err := asyncio.CreateConnection(ctx, func() *exampleClient { return client }, "127.0.0.1", port, nil); err != nil {
				return 0, err
			}
			_, err = asyncio.Await(ctx, client.done)
			return 0, err
		})
		return err
	})
	fmt.Println("OpenLoop:", err)
	// Output:
	// client got "hello"
	// client lost the connection: <nil>
	// OpenLoop: <nil>
}

// ProtocolBase gives the callbacks a protocol does not care about: this
// one only counts bytes.
func ExampleProtocolBase() {
	type counter struct {
		asyncio.ProtocolBase
		n int
	}
	var c counter
	var p asyncio.Protocol = &c
	p.DataReceived([]byte("abc"))
	c.n += 3
	fmt.Println(c.n, p.EOFReceived())
	// Output: 3 false
}

// exampleBuffered receives straight into its own buffer.
type exampleBuffered struct {
	asyncio.ProtocolBase
	buf  [16]byte
	got  strings.Builder
	done *asyncio.Future[struct{}]
}

func (p *exampleBuffered) GetBuffer(int) []byte { return p.buf[:] }
func (p *exampleBuffered) BufferUpdated(n int)  { p.got.Write(p.buf[:n]) }
func (p *exampleBuffered) ConnectionLost(error) { p.done.SetResult(struct{}{}) }

// A BufferedProtocol lends the transport its buffer: no copy, and no
// allocation per read.
func ExampleBufferedProtocol() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Write([]byte("a message longer than the buffer"))
			c.Close()
		}
	}()
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (string, error) {
			p := &exampleBuffered{done: asyncio.NewFuture[struct{}](loop)}
			if _, _, err := asyncio.CreateConnection(ctx, func() *exampleBuffered { return p }, "127.0.0.1", ln.Addr().(*net.TCPAddr).Port, nil); err != nil {
				return "", err
			}
			asyncio.Await(ctx, p.done)
			fmt.Println(p.got.String())
			return "", nil
		})
		return err
	})
	// Output: a message longer than the buffer
}

// flowProto prints the flow-control callbacks.
type flowProto struct {
	asyncio.ProtocolBase
	t asyncio.Transport
}

func (p *flowProto) ConnectionMade(t asyncio.Transport) { p.t = t }
func (p *flowProto) PauseWriting()                      { fmt.Println("pause writing") }
func (p *flowProto) ResumeWriting()                     { fmt.Println("resume writing") }

// A Transport buffers what the kernel does not take; its protocol is told
// to pause when the buffer goes over the high-water mark, and to resume
// when it drains to the low one.
func ExampleTransport() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			srv, err := asyncio.CreateServer(ctx, func() *exampleEcho { return &exampleEcho{} }, "127.0.0.1", 0, nil)
			if err != nil {
				return 0, err
			}
			defer srv.Close()
			t, p, err := asyncio.CreateConnection(ctx, func() *flowProto { return &flowProto{} }, "127.0.0.1", srv.Sockets()[0].(*net.TCPAddr).Port, nil)
			if err != nil {
				return 0, err
			}
			low, high := t.GetWriteBufferLimits()
			fmt.Println("limits:", low, high)
			t.Write(make([]byte, 64<<20)) // far more than the socket takes at once
			fmt.Println("buffered:", t.GetWriteBufferSize() > high)
			for t.GetWriteBufferSize() > 0 {
				asyncio.Sleep(ctx, time.Millisecond)
			}
			_ = p
			t.Close()
			return 0, nil
		})
		return err
	})
	// Output:
	// limits: 16384 65536
	// pause writing
	// buffered: true
	// resume writing
}

// A Server serves until ServeForever is cancelled, and is closed then.
func ExampleServer() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			srv, err := asyncio.CreateServer(ctx, func() *exampleEcho { return &exampleEcho{} }, "127.0.0.1", 0,
				&asyncio.ServerOptions{NoStartServing: true})
			if err != nil {
				return 0, err
			}
			fmt.Println("serving:", srv.IsServing())
			err = asyncio.Timeout(ctx, 10*time.Millisecond, func(ctx context.Context, _ *asyncio.TimeoutScope) error {
				return srv.ServeForever(ctx)
			})
			fmt.Println("ServeForever:", err)
			fmt.Println("serving:", srv.IsServing(), "sockets:", srv.Sockets())
			return 0, srv.WaitClosed(ctx)
		})
		return err
	})
	// Output:
	// serving: false
	// ServeForever: asyncio: timeout
	// serving: false sockets: []
}

// ServerOptions.ReusePort lets N loops, one per core, each in its own
// OpenLoop inside one trio nursery, serve one port: the kernel spreads
// the connections over their sockets.
func ExampleServerOptions_reusePort() {
	n := max(2, runtime.NumCPU())
	ports := make(chan int, n)
	served := make(chan int, n*4)
	err := trio.OpenNursery(context.Background(), func(ctx context.Context, nursery *trio.Nursery) error {
		var port int
		for i := 0; i < n; i++ {
			// The first loop picks the port; the others join it.
			p := 0
			if i > 0 {
				p = <-ports
				ports <- p
			}
			started := make(chan struct{})
			nursery.StartSoon(func(ctx context.Context) error {
				return asyncio.OpenLoop(ctx, func(ctx context.Context, loop *asyncio.Loop) error {
					srv, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (*asyncio.Server, error) {
						return asyncio.StartServer(ctx, func(ctx context.Context, r *asyncio.StreamReader, w *asyncio.StreamWriter) error {
							served <- i
							w.Write([]byte("hi\n"))
							w.Close()
							return nil
						}, "127.0.0.1", p, &asyncio.ServerOptions{ReusePort: true})
					})
					if err != nil {
						return err
					}
					if i == 0 {
						ports <- srv.Sockets()[0].(*net.TCPAddr).Port
					}
					close(started)
					return trio.SleepForever(ctx)
				})
			})
			<-started
		}
		port = <-ports
		for i := 0; i < n*4; i++ {
			c, err := net.Dial("tcp", fmt.Sprint("127.0.0.1:", port))
			if err != nil {
				return err
			}
			b := make([]byte, 3)
			c.Read(b)
			c.Close()
		}
		nursery.CancelScope().Cancel()
		return nil
	})
	close(served)
	count := 0
	for range served {
		count++
	}
	fmt.Println(err, count == n*4)
	// Output: <nil> true
}

// StartServer runs a coroutine per connection with a reader and a
// writer; OpenConnection gives a client the same pair.
func ExampleStartServer() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			srv, err := asyncio.StartServer(ctx, func(ctx context.Context, r *asyncio.StreamReader, w *asyncio.StreamWriter) error {
				for line, err := range r.Lines(ctx) {
					if err != nil {
						return err
					}
					w.Write([]byte(strings.ToUpper(string(line))))
					if err := w.Drain(ctx); err != nil {
						return err
					}
				}
				w.Close()
				return nil
			}, "127.0.0.1", 0, nil)
			if err != nil {
				return 0, err
			}
			defer srv.Close()
			r, w, err := asyncio.OpenConnection(ctx, "127.0.0.1", srv.Sockets()[0].(*net.TCPAddr).Port, nil)
			if err != nil {
				return 0, err
			}
			w.Write([]byte("hello\nworld\n"))
			w.WriteEOF()
			all, err := r.Read(ctx, -1)
			fmt.Printf("%q %v\n", all, err)
			w.Close()
			return 0, w.WaitClosed(ctx)
		})
		return err
	})
	// Output: "HELLO\nWORLD\n" <nil>
}

// A trio program uses an asyncio server through RunAsyncio: a nursery of
// trio clients talks to it over plain net.Conn.
func ExampleStartServer_trioClients() {
	err := asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		srv, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (*asyncio.Server, error) {
			return asyncio.StartServer(ctx, func(ctx context.Context, r *asyncio.StreamReader, w *asyncio.StreamWriter) error {
				name, err := r.ReadLine(ctx)
				if err != nil {
					return err
				}
				w.Write([]byte("hello, " + string(name)))
				w.Close()
				return nil
			}, "127.0.0.1", 0, nil)
		})
		if err != nil {
			return err
		}
		addr := srv.Sockets()[0].String()
		replies := make(chan string, 3)
		err = trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
			for _, name := range []string{"ann", "bob", "cy"} {
				n.StartSoon(func(ctx context.Context) error {
					c, err := net.Dial("tcp", addr)
					if err != nil {
						return err
					}
					defer c.Close()
					fmt.Fprintln(c, name)
					b := make([]byte, 64)
					k, _ := c.Read(b)
					replies <- strings.TrimSpace(string(b[:k]))
					return nil
				})
			}
			return nil
		})
		close(replies)
		var got []string
		for r := range replies {
			got = append(got, r)
		}
		sort.Strings(got)
		fmt.Println(strings.Join(got, "; "))
		return err
	})
	fmt.Println("OpenLoop:", err)
	// Output:
	// hello, ann; hello, bob; hello, cy
	// OpenLoop: <nil>
}

// A StreamReader's reads: a line, up to a separator, exactly n bytes.
func ExampleStreamReader() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			r := asyncio.NewStreamReader(loop, 0)
			r.FeedData([]byte("GET / HTTP/1.0\r\nHost: x\r\n\r\nbody!"))
			r.FeedEOF()
			line, _ := r.ReadLine(ctx)
			head, _ := r.ReadUntil(ctx, []byte("\r\n\r\n"))
			body, _ := r.ReadExactly(ctx, 5)
			fmt.Printf("%q %q %q %v\n", line, head, body, r.AtEOF())
			return 0, nil
		})
		return err
	})
	// Output: "GET / HTTP/1.0\r\n" "Host: x\r\n\r\n" "body!" true
}

// A StreamWriter's Drain waits while the peer is not reading fast
// enough; here the peer reads, and Drain returns.
func ExampleStreamWriter() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			n, _ := io.Copy(io.Discard, c)
			fmt.Println("peer read", n, "bytes")
			c.Close()
		}
	}()
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			_, w, err := asyncio.OpenConnection(ctx, "127.0.0.1", ln.Addr().(*net.TCPAddr).Port, nil)
			if err != nil {
				return 0, err
			}
			for i := 0; i < 16; i++ {
				w.Write(make([]byte, 1<<20))
				if err := w.Drain(ctx); err != nil {
					return 0, err
				}
			}
			w.Close()
			return 0, w.WaitClosed(ctx)
		})
		return err
	})
	time.Sleep(100 * time.Millisecond) // let the peer print
	// Output: peer read 16777216 bytes
}

// StreamReaderProtocol makes streams over any transport: here the
// protocol of CreateConnection.
func ExampleStreamReaderProtocol() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Write([]byte("220 ready\r\n"))
			c.Close()
		}
	}()
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			r := asyncio.NewStreamReader(loop, 0)
			p := asyncio.NewStreamReaderProtocol(ctx, r, nil)
			t, _, err := asyncio.CreateConnection(ctx, func() *asyncio.StreamReaderProtocol { return p }, "127.0.0.1", ln.Addr().(*net.TCPAddr).Port, nil)
			if err != nil {
				return 0, err
			}
			w := asyncio.NewStreamWriter(t, p, r)
			line, _ := r.ReadLine(ctx)
			fmt.Printf("%q\n", line)
			w.Close()
			return 0, nil
		})
		return err
	})
	// Output: "220 ready\r\n"
}

// IncompleteReadError: the stream ended first; Partial has what came.
func ExampleIncompleteReadError() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			r := asyncio.NewStreamReader(loop, 0)
			r.FeedData([]byte("abc"))
			r.FeedEOF()
			_, err := r.ReadExactly(ctx, 10)
			var ie *asyncio.IncompleteReadError
			fmt.Println(errors.As(err, &ie), string(ie.Partial), ie.Expected)
			fmt.Println(err)
			return 0, nil
		})
		return err
	})
	// Output:
	// true abc 10
	// asyncio: 3 bytes read on a total of 10 expected bytes
}

// LimitOverrunError: the separator is not within the limit. ReadUntil
// leaves the buffer as it was, so it can be read another way.
func ExampleLimitOverrunError() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			r := asyncio.NewStreamReader(loop, 4)
			r.FeedData([]byte("too long line\n"))
			_, err := r.ReadUntil(ctx, []byte("\n"))
			var le *asyncio.LimitOverrunError
			fmt.Println(errors.As(err, &le), le.Consumed, errors.Is(err, asyncio.ErrLimitOverrun))
			b, _ := r.ReadExactly(ctx, 14) // still all there
			fmt.Printf("%q\n", b)
			return 0, nil
		})
		return err
	})
	// Output:
	// true 13 true
	// "too long line\n"
}

// ConnectOptions: bind the local side, or restrict the address family.
func ExampleConnectOptions() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			srv, err := asyncio.CreateServer(ctx, func() *exampleEcho { return &exampleEcho{} }, "127.0.0.1", 0, nil)
			if err != nil {
				return 0, err
			}
			defer srv.Close()
			t, _, err := asyncio.CreateConnection(ctx, func() *exampleEcho { return &exampleEcho{} }, "localhost", srv.Sockets()[0].(*net.TCPAddr).Port,
				&asyncio.ConnectOptions{Network: "tcp4", LocalAddr: "127.0.0.1:0"})
			if err != nil {
				return 0, err
			}
			fmt.Println(t.GetExtraInfo("sockname").(*net.TCPAddr).IP)
			t.Close()
			return 0, nil
		})
		return err
	})
	// Output: 127.0.0.1
}

// OpenUnixConnection with the reader's limit set through ConnectOptions.
func ExampleOpenUnixConnection() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := dir + "/sock"
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			srv, err := asyncio.StartUnixServer(ctx, func(ctx context.Context, r *asyncio.StreamReader, w *asyncio.StreamWriter) error {
				w.Write([]byte("a line longer than eight bytes\n"))
				w.Close()
				return nil
			}, path, nil)
			if err != nil {
				return 0, err
			}
			defer srv.Close()
			r, w, err := asyncio.OpenUnixConnection(ctx, path, &asyncio.ConnectOptions{Limit: 8})
			if err != nil {
				return 0, err
			}
			defer w.Close()
			_, err = r.ReadLine(ctx)
			fmt.Println(errors.Is(err, asyncio.ErrLimitOverrun))
			return 0, nil
		})
		return err
	})
	// Output: true
}

// AddReader runs its callback while the fd is readable.
func ExampleLoop_AddReader() {
	fds, _ := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	defer syscall.Close(fds[0])
	defer syscall.Close(fds[1])
	syscall.SetNonblock(fds[0], true) // AddReader's fds must be non-blocking
	syscall.Write(fds[1], []byte("ping"))
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (string, error) {
			got := asyncio.NewFuture[string](loop)
			loop.AddReader(fds[0], func(context.Context) {
				b := make([]byte, 16)
				n, _ := syscall.Read(fds[0], b)
				loop.RemoveReader(fds[0])
				got.SetResult(string(b[:n]))
			})
			s, err := asyncio.Await(ctx, got)
			fmt.Println(s)
			return s, err
		})
		return err
	})
	// Output: ping
}

// exampleDgram answers each datagram.
type exampleDgram struct {
	asyncio.ProtocolBase
	t    asyncio.DatagramTransport
	got  chan string
	echo bool
}

func (p *exampleDgram) ConnectionMade(t asyncio.Transport) { p.t = t.(asyncio.DatagramTransport) }
func (p *exampleDgram) DatagramReceived(b []byte, addr net.Addr) {
	if p.echo {
		p.t.SendTo([]byte(strings.ToUpper(string(b))), addr)
		return
	}
	p.got <- string(b)
}

// A DatagramProtocol on a UDP endpoint; the DatagramTransport sends.
func ExampleDatagramProtocol() {
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			srv, _, err := asyncio.CreateDatagramEndpoint(ctx, func() *exampleDgram { return &exampleDgram{echo: true} },
				&asyncio.DatagramOptions{LocalAddr: "127.0.0.1:0"})
			if err != nil {
				return 0, err
			}
			defer srv.Close()
			client := &exampleDgram{got: make(chan string, 1)}
			var t asyncio.DatagramTransport
			t, _, err = asyncio.CreateDatagramEndpoint(ctx, func() *exampleDgram { return client },
				&asyncio.DatagramOptions{RemoteAddr: srv.GetExtraInfo("sockname").(net.Addr).String()})
			if err != nil {
				return 0, err
			}
			defer t.Close()
			t.SendTo([]byte("hello, udp"), nil)
			for len(client.got) == 0 {
				asyncio.Sleep(ctx, time.Millisecond)
			}
			fmt.Println(<-client.got)
			return 0, nil
		})
		return err
	})
	// Output: HELLO, UDP
}

// BaseProtocol is what every stream protocol implements; ProtocolBase
// gives it for free.
func ExampleBaseProtocol() {
	var p asyncio.BaseProtocol = &exampleEcho{}
	_, isProtocol := p.(asyncio.Protocol)
	_, isBuffered := p.(asyncio.BufferedProtocol)
	fmt.Println(isProtocol, isBuffered)
	// Output: true false
}

// TLSOptions: a TLS server and client (certificates generated for the
// example), with a short handshake timeout.
func ExampleTLSOptions() {
	serverCfg, clientCfg := testCerts()
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			srv, err := asyncio.StartServer(ctx, streamEcho, "127.0.0.1", 0, &asyncio.ServerOptions{TLS: serverCfg})
			if err != nil {
				return 0, err
			}
			defer srv.Close()
			r, w, err := asyncio.OpenConnection(ctx, "127.0.0.1", srv.Sockets()[0].(*net.TCPAddr).Port,
				&asyncio.ConnectOptions{TLS: clientCfg, TLSOptions: asyncio.TLSOptions{HandshakeTimeout: 5 * time.Second}})
			if err != nil {
				return 0, err
			}
			w.Write([]byte("over TLS\n"))
			line, _ := r.ReadLine(ctx)
			fmt.Printf("%q %v\n", line, w.GetExtraInfo("peercert") != nil)
			w.Close()
			return 0, nil
		})
		return err
	})
	// Output: "over TLS\n" true
}

// SockRecvfromInto: one datagram into a caller's buffer, limited to its
// first 5 bytes (asyncio's nbytes=5); the rest of the datagram is cut.
func ExampleSockRecvfromInto() {
	a, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()
	b, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	_, err = asyncio.Run(context.Background(), func(ctx context.Context) (int, error) {
		if _, err := asyncio.SockSendto(ctx, a, []byte("hello, datagram"), b.LocalAddr()); err != nil {
			return 0, err
		}
		buf := make([]byte, 64)
		n, from, err := asyncio.SockRecvfromInto(ctx, b, buf[:5])
		if err != nil {
			return 0, err
		}
		fmt.Printf("%d %q from a: %v\n", n, buf[:n], from.String() == a.LocalAddr().String())
		return n, nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output: 5 "hello" from a: true
}

// OpenUnixConnection with TLS: a TLS echo server on a Unix socket and a
// client that checks the server's certificate against "localhost" (a
// Unix socket has no host name of its own to check it against).
func ExampleOpenUnixConnection_tls() {
	serverCfg, clientCfg := testCerts()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := dir + "/sock"
	asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			srv, err := asyncio.StartUnixServer(ctx, streamEcho, path, &asyncio.ServerOptions{TLS: serverCfg})
			if err != nil {
				return 0, err
			}
			defer srv.Close()
			r, w, err := asyncio.OpenUnixConnection(ctx, path, &asyncio.ConnectOptions{TLS: clientCfg,
				TLSOptions: asyncio.TLSOptions{ServerHostname: "localhost", HandshakeTimeout: 5 * time.Second}})
			if err != nil {
				return 0, err
			}
			w.Write([]byte("TLS over a Unix socket\n"))
			line, _ := r.ReadLine(ctx)
			fmt.Printf("%q\n", line)
			w.Close()
			return 0, w.WaitClosed(ctx)
		})
		if err != nil {
			fmt.Println(err)
		}
		return nil
	})
	// Output: "TLS over a Unix socket\n"
}
