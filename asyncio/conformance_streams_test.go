//go:build unix

package asyncio_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// httpdResponse is what test_utils.run_test_server's handler answers.
const httpdResponse = "HTTP/1.0 200 OK\r\nServer: test\r\nContent-Length: 12\r\n\r\nTest message"

// runTestServer is test_utils.run_test_server (and run_test_unix_server
// with network "unix"): a plain, goroutine-driven server answering each
// request (read up to the empty line) with httpdResponse and closing the
// connection. It returns the listener's address; the server stops at the
// end of the test.
func runTestServer(t *testing.T, network, addr string) net.Addr {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(30 * time.Second))
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					if line == "\r\n" {
						break
					}
				}
				c.Write([]byte(httpdResponse))
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln.Addr()
}

// collectHandler records the loop's exception handler reports.
type collectHandler struct {
	mu   sync.Mutex
	msgs []asyncio.ExceptionContext
}

func newCollect(loop *asyncio.Loop) *collectHandler {
	c := &collectHandler{}
	loop.SetExceptionHandler(func(_ *asyncio.Loop, ec asyncio.ExceptionContext) {
		c.mu.Lock()
		c.msgs = append(c.msgs, ec)
		c.mu.Unlock()
	})
	return c
}

func (c *collectHandler) get() []asyncio.ExceptionContext {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]asyncio.ExceptionContext(nil), c.msgs...)
}

// streamsMain runs main as a task of a fresh loop whose exception
// handler collects the reports, and returns them.
func streamsMain(t *testing.T, main func(ctx context.Context) error) []asyncio.ExceptionContext {
	t.Helper()
	var col *collectHandler
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		col = newCollect(loop)
		if _, err := runTask(ctx, loop, func(ctx context.Context) (int, error) { return 0, main(ctx) }); err != nil {
			t.Errorf("main: %v", err)
		}
	})
	return col.get()
}

func tcpHostPort(a net.Addr) (string, int) {
	ta := a.(*net.TCPAddr)
	return ta.IP.String(), ta.Port
}

// test_streams.py: test_open_connection_error and
// test_open_unix_connection_error: the protocol's connection lost with an
// error fails the reader's read with it; closing the writer then reports
// nothing to the exception handler.
func TestStreams_test_open_connection_error(t *testing.T) {
	zero := errors.New("ZeroDivisionError")
	check := func(t *testing.T, open func(ctx context.Context) (*asyncio.StreamReader, *asyncio.StreamWriter, error)) {
		msgs := streamsMain(t, func(ctx context.Context) error {
			r, w, err := open(ctx)
			if err != nil {
				return err
			}
			w.Transport().GetProtocol().(*asyncio.StreamReaderProtocol).ConnectionLost(zero)
			if b, err := r.Read(ctx, -1); err != zero {
				t.Errorf("Read(-1) = %q, %v; want %v", b, err, zero)
			}
			w.Close()
			return asyncio.Sleep(ctx, 10*time.Millisecond)
		})
		if len(msgs) != 0 {
			t.Errorf("exception handler got %v, want nothing", msgs)
		}
	}
	t.Run("tcp", func(t *testing.T) {
		host, port := tcpHostPort(runTestServer(t, "tcp", "127.0.0.1:0"))
		check(t, func(ctx context.Context) (*asyncio.StreamReader, *asyncio.StreamWriter, error) {
			return asyncio.OpenConnection(ctx, host, port, nil)
		})
	})
	t.Run("unix", func(t *testing.T) {
		path := runTestServer(t, "unix", t.TempDir()+"/httpd").String()
		check(t, func(ctx context.Context) (*asyncio.StreamReader, *asyncio.StreamWriter, error) {
			return asyncio.OpenUnixConnection(ctx, path, nil)
		})
	})
}

// test_streams.py: test_invalid_limit. asyncio refuses a limit ≤ 0 with
// ValueError; here NewStreamReader documents 0 or less as "the default
// limit" instead, so the case checks that: such a reader has the
// default limit (its String shows no limit=).
func TestStreams_test_invalid_limit(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		for _, limit := range []int{0, -1} {
			if got := asyncio.NewStreamReader(loop, limit).String(); got != "<StreamReader>" {
				t.Errorf("NewStreamReader(%d): %s, want the default limit", limit, got)
			}
		}
	})
}

// test_streams.py: test_read_limit: Read(n) is not bound by the limit.
func TestStreams_test_read_limit(t *testing.T) {
	onReader(t, 3, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedData([]byte("chunk"))
		b, err := s.Read(ctx, 5)
		if err != nil || string(b) != "chunk" {
			t.Errorf("Read(5) = %q, %v", b, err)
		}
		wantBuf(t, s, "")
	})
}

// test_streams.py: test_readline_nolimit_nowait: the line is already
// buffered (over two chunks); the rest stays.
func TestStreams_test_readline_nolimit_nowait(t *testing.T) {
	data := []byte("line1\nline2\nline3\n")
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedData(data[:6])
		s.FeedData(data[6:])
		line, err := s.ReadLine(ctx)
		if err != nil || string(line) != "line1\n" {
			t.Errorf("ReadLine = %q, %v", line, err)
		}
		wantBuf(t, s, "line2\nline3\n")
	})
}

// test_streams.py: test___repr__, test___repr__nondefault_limit,
// test___repr__eof, test___repr__data.
func TestStreams_test___repr__(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		onLoop(ctx, loop, func(context.Context) {
			if got := asyncio.NewStreamReader(loop, 0).String(); got != "<StreamReader>" {
				t.Errorf("repr = %s", got)
			}
			if got := asyncio.NewStreamReader(loop, 123).String(); got != "<StreamReader limit=123>" {
				t.Errorf("repr nondefault limit = %s", got)
			}
			s := asyncio.NewStreamReader(loop, 0)
			s.FeedEOF()
			if got := s.String(); got != "<StreamReader eof>" {
				t.Errorf("repr eof = %s", got)
			}
			s = asyncio.NewStreamReader(loop, 0)
			s.FeedData([]byte("data"))
			if got := s.String(); got != "<StreamReader 4 bytes>" {
				t.Errorf("repr data = %s", got)
			}
		})
	})
}

// test_streams.py: test___repr__exception and test___repr__waiter: the
// error the reader failed with, and the future of a read waiting for
// data while it waits (gone once the read has its data).
func TestStreams_test___repr__exception_waiter(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		s := asyncio.NewStreamReader(loop, 0)
		s.SetException(errors.New("RuntimeError"))
		if got := s.String(); got != `<StreamReader exception="RuntimeError">` {
			t.Errorf("repr exception = %s", got)
		}

		s = asyncio.NewStreamReader(loop, 0)
		read := asyncio.CreateTask(ctx, func(ctx context.Context) ([]byte, error) { return s.ReadExactly(ctx, 4) })
		runBriefly(ctx)
		if got := s.String(); !regexp.MustCompile(`^<StreamReader waiter=<Future pending[^>]*>>$`).MatchString(got) {
			t.Errorf("repr waiter = %s", got)
		}
		s.FeedData([]byte("data"))
		if b, err := asyncio.Await(ctx, read); err != nil || string(b) != "data" {
			t.Errorf("read = %q, %v", b, err)
		}
		if got := s.String(); got != "<StreamReader>" {
			t.Errorf("repr after the read = %s", got)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_streams.py: test_multiple_drain (cpython#74116): while writing is
// paused, ten concurrent Drains all wait, and all return once writing
// resumes.
func TestStreams_test_multiple_drain(t *testing.T) {
	host, port := tcpHostPort(runTestServer(t, "tcp", "127.0.0.1:0"))
	streamsMain(t, func(ctx context.Context) error {
		loop, _ := asyncio.GetRunningLoop(ctx)
		_, w, err := asyncio.OpenConnection(ctx, host, port, nil)
		if err != nil {
			return err
		}
		defer w.Close()
		proto := w.Transport().GetProtocol().(*asyncio.StreamReaderProtocol)
		proto.PauseWriting()
		resumed := false
		loop.CallLater(100*time.Millisecond, func(context.Context) { resumed = true; proto.ResumeWriting() })
		drained := 0
		var tasks []*asyncio.Task[struct{}]
		for range 10 {
			tasks = append(tasks, asyncio.CreateTask(ctx, func(ctx context.Context) (struct{}, error) {
				err := w.Drain(ctx)
				if !resumed {
					t.Error("Drain returned while writing was paused")
				}
				drained++
				return struct{}{}, err
			}))
		}
		for _, task := range tasks {
			if _, err := asyncio.Await[struct{}](ctx, task); err != nil {
				t.Errorf("Drain: %v", err)
			}
		}
		if drained != 10 {
			t.Errorf("drained %d, want 10", drained)
		}
		return nil
	})
}

// request writes a request to the test server and checks the status line
// is read back.
func request(t *testing.T, ctx context.Context, r *asyncio.StreamReader, w *asyncio.StreamWriter) {
	t.Helper()
	w.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
	line, err := r.ReadLine(ctx)
	if err != nil || string(line) != "HTTP/1.0 200 OK\r\n" {
		t.Errorf("ReadLine = %q, %v", line, err)
	}
}

func readBody(t *testing.T, ctx context.Context, r *asyncio.StreamReader) {
	t.Helper()
	data, err := r.Read(ctx, -1)
	if err != nil || !bytes.HasSuffix(data, []byte("\r\n\r\nTest message")) {
		t.Errorf("Read(-1) = %q, %v", data, err)
	}
}

// test_streams.py: test_wait_closed_on_close, test_async_writer_api:
// IsClosing turns true at Close and WaitClosed returns; nothing reaches
// the exception handler.
func TestStreams_test_wait_closed_on_close(t *testing.T) {
	host, port := tcpHostPort(runTestServer(t, "tcp", "127.0.0.1:0"))
	msgs := streamsMain(t, func(ctx context.Context) error {
		r, w, err := asyncio.OpenConnection(ctx, host, port, nil)
		if err != nil {
			return err
		}
		request(t, ctx, r, w)
		readBody(t, ctx, r)
		if w.IsClosing() {
			t.Error("IsClosing before Close")
		}
		w.Close()
		if !w.IsClosing() {
			t.Error("not IsClosing after Close")
		}
		return w.WaitClosed(ctx)
	})
	if len(msgs) != 0 {
		t.Errorf("exception handler got %v", msgs)
	}
}

// test_streams.py: test_wait_closed_on_close_with_unread_data.
func TestStreams_test_wait_closed_on_close_with_unread_data(t *testing.T) {
	host, port := tcpHostPort(runTestServer(t, "tcp", "127.0.0.1:0"))
	msgs := streamsMain(t, func(ctx context.Context) error {
		r, w, err := asyncio.OpenConnection(ctx, host, port, nil)
		if err != nil {
			return err
		}
		request(t, ctx, r, w)
		w.Close()
		return w.WaitClosed(ctx)
	})
	if len(msgs) != 0 {
		t.Errorf("exception handler got %v", msgs)
	}
}

// test_streams.py: test_async_writer_api_exception_after_close: a write
// and Drain after Close fail (ConnectionResetError in asyncio); nothing
// reaches the exception handler.
func TestStreams_test_async_writer_api_exception_after_close(t *testing.T) {
	host, port := tcpHostPort(runTestServer(t, "tcp", "127.0.0.1:0"))
	msgs := streamsMain(t, func(ctx context.Context) error {
		r, w, err := asyncio.OpenConnection(ctx, host, port, nil)
		if err != nil {
			return err
		}
		request(t, ctx, r, w)
		readBody(t, ctx, r)
		w.Close()
		werr := w.Write([]byte("data"))
		derr := w.Drain(ctx)
		if werr == nil && derr == nil {
			t.Error("Write and Drain after Close: no error")
		}
		if derr != nil && !errors.Is(derr, asyncio.ErrConnectionLost) {
			t.Errorf("Drain after Close = %v, want ErrConnectionLost", derr)
		}
		return nil
	})
	if len(msgs) != 0 {
		t.Errorf("exception handler got %v", msgs)
	}
}

// test_streams.py: test_eof_feed_when_closing_writer (bpo-35065): once the
// writer is closed, the reader is at EOF and reads b"".
func TestStreams_test_eof_feed_when_closing_writer(t *testing.T) {
	host, port := tcpHostPort(runTestServer(t, "tcp", "127.0.0.1:0"))
	msgs := streamsMain(t, func(ctx context.Context) error {
		r, w, err := asyncio.OpenConnection(ctx, host, port, nil)
		if err != nil {
			return err
		}
		w.Close()
		if err := w.WaitClosed(ctx); err != nil {
			t.Errorf("WaitClosed = %v", err)
		}
		if !r.AtEOF() {
			t.Error("reader not AtEOF after the writer closed")
		}
		b, err := r.Read(ctx, -1)
		if err != nil || len(b) != 0 {
			t.Errorf("Read(-1) = %q, %v; want empty", b, err)
		}
		return nil
	})
	if len(msgs) != 0 {
		t.Errorf("exception handler got %v", msgs)
	}
}

// test_streams.py: test_unhandled_exceptions: an error returned by the
// server's client callback reaches the exception handler as "Unhandled
// exception in client_connected_cb".
func TestStreams_test_unhandled_exceptions(t *testing.T) {
	boom := errors.New("test")
	msgs := streamsMain(t, func(ctx context.Context) error {
		srv, err := asyncio.StartServer(ctx, func(ctx context.Context, r *asyncio.StreamReader, w *asyncio.StreamWriter) error {
			return boom
		}, "127.0.0.1", 0, nil)
		if err != nil {
			return err
		}
		if err := srv.StartServing(); err != nil {
			t.Errorf("StartServing = %v", err)
		}
		_, w, err := asyncio.OpenConnection(ctx, "127.0.0.1", mustAddr(t, srv).Port, nil)
		if err != nil {
			return err
		}
		w.Write([]byte("test msg"))
		if err := w.Drain(ctx); err != nil {
			t.Errorf("Drain = %v", err)
		}
		w.Close()
		w.WaitClosed(ctx)
		srv.Close()
		return srv.WaitClosed(ctx)
	})
	if len(msgs) == 0 {
		t.Fatal("exception handler got nothing")
	}
	if msgs[0].Message != "Unhandled exception in client_connected_cb" || !errors.Is(msgs[0].Err, boom) {
		t.Errorf("exception handler got %q, %v", msgs[0].Message, msgs[0].Err)
	}
}

// test_streams.py: test_read_all_from_pipe_reader: a StreamReader fed by
// a read pipe's transport reads everything up to the writer's close.
func TestStreams_test_read_all_from_pipe_reader(t *testing.T) {
	data := []byte(strings.Repeat("data", 1000) + "\n")
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		rf, wf, err := os.Pipe()
		if err != nil {
			return 0, err
		}
		reader := asyncio.NewStreamReader(loop, 1)
		proto := asyncio.NewStreamReaderProtocol(ctx, reader, nil)
		tr, _, err := asyncio.ConnectReadPipe(ctx, func() *asyncio.StreamReaderProtocol { return proto }, rf)
		if err != nil {
			wf.Close()
			return 0, err
		}
		go func() {
			wf.Write(data)
			wf.Close()
		}()
		got, err := reader.Read(ctx, -1)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("Read(-1) = %d bytes, %v; want %d bytes", len(got), err, len(data))
		}
		tr.Close()
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_streams.py: test_readuntil_multi_separator: with several
// separators, ReadUntilAny stops at the match that ends first, even if
// another separator's match starts earlier.
func TestStreams_test_readuntil_multi_separator(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		s := asyncio.NewStreamReader(loop, 0)
		s.FeedData([]byte("line 1\nline 2\r"))
		for _, want := range []string{"line 1\n", "line 2\r"} {
			if got, err := s.ReadUntilAny(ctx, []byte("\r"), []byte("\n")); err != nil || string(got) != want {
				t.Errorf("ReadUntilAny = %q, %v; want %q", got, err, want)
			}
		}
		if b := s.Buffered(); len(b) != 0 {
			t.Errorf("left %q", b)
		}
		s.FeedData([]byte("ABCDEFG"))
		if got, err := s.ReadUntilAny(ctx, []byte("DEF"), []byte("BCDE")); err != nil || string(got) != "ABCDE" {
			t.Errorf("ReadUntilAny = %q, %v; want \"ABCDE\"", got, err)
		}
		if b := s.Buffered(); string(b) != "FG" {
			t.Errorf("left %q, want \"FG\"", b)
		}
		// The match that ends first wins, not the one that starts first.
		s.FeedData([]byte("xABCDy"))
		if got, err := s.ReadUntilAny(ctx, []byte("ABCD"), []byte("BC")); err != nil || string(got) != "FGxABC" {
			t.Errorf("ReadUntilAny = %q, %v; want \"FGxABC\"", got, err)
		}
		s.ReadUntilAny(ctx, []byte("y"))
		for _, seps := range [][][]byte{nil, {[]byte("a"), {}}} {
			if _, err := s.ReadUntilAny(ctx, seps...); !errors.Is(err, asyncio.ErrEmptySeparator) {
				t.Errorf("ReadUntilAny(%q) = %v, want ErrEmptySeparator", seps, err)
			}
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_streams.py: test_readuntil_multi_separator_limit: a separator
// found past the limit is a LimitOverrunError, and the buffer is kept.
func TestStreams_test_readuntil_multi_separator_limit(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		s := asyncio.NewStreamReader(loop, 3)
		s.FeedData([]byte("some dataA"))
		// Both end at the same byte: the shorter one's match starts past
		// the limit, whatever the order of the separators.
		for _, seps := range [][][]byte{{[]byte("A"), []byte("ome dataA")}, {[]byte("ome dataA"), []byte("A")}} {
			_, err := s.ReadUntilAny(ctx, seps...)
			var le *asyncio.LimitOverrunError
			if !errors.As(err, &le) || !strings.Contains(le.Error(), "is found") {
				t.Errorf("separators %q: err = %v, want a LimitOverrunError \"… is found …\"", seps, err)
			}
		}
		if b := s.Buffered(); string(b) != "some dataA" {
			t.Errorf("left %q", b)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_streams.py: test_readuntil_multi_separator_negative_offset: the
// buffer holds enough for the shortest separator but not the longest;
// the search goes on from the start of the buffer as data arrives.
func TestStreams_test_readuntil_multi_separator_negative_offset(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		s := asyncio.NewStreamReader(loop, 0)
		s.FeedData([]byte("data"))
		task := asyncio.CreateTask(ctx, func(ctx context.Context) ([]byte, error) {
			return s.ReadUntilAny(ctx, []byte("A"), []byte("long sep"))
		})
		loop.CallSoon(func(context.Context) { s.FeedData([]byte("Z")) })
		loop.CallSoon(func(context.Context) { s.FeedData([]byte("Aaaa")) })
		if got, err := asyncio.Await(ctx, task); err != nil || string(got) != "dataZA" {
			t.Errorf("ReadUntilAny = %q, %v; want \"dataZA\"", got, err)
		}
		if b := s.Buffered(); string(b) != "aaa" {
			t.Errorf("left %q, want \"aaa\"", b)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// test_streams.py: test___repr__exception.
func TestStreams_test___repr__exception(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		s := asyncio.NewStreamReader(loop, 0)
		s.SetException(errors.New("boom"))
		if got := s.String(); got != `<StreamReader exception="boom">` {
			t.Errorf("repr = %s", got)
		}
	})
}

// test_streams.py: test___repr__waiter: a read waiting shows; once it is
// done, it no longer does.
func TestStreams_test___repr__waiter(t *testing.T) {
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		s := asyncio.NewStreamReader(loop, 0)
		task := asyncio.CreateTask(ctx, func(ctx context.Context) ([]byte, error) { return s.Read(ctx, 1) })
		runBriefly(ctx)
		if got := s.String(); !strings.HasPrefix(got, "<StreamReader waiter=<Future pending") {
			t.Errorf("repr while a read waits = %s", got)
		}
		s.FeedData([]byte("x"))
		if _, err := asyncio.Await(ctx, task); err != nil {
			return 0, err
		}
		if got := s.String(); got != "<StreamReader>" {
			t.Errorf("repr after the read = %s", got)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// reprTransport is a transport known only by its String.
type reprTransport struct{ asyncio.Transport }

func (reprTransport) String() string { return "<Transport>" }

// test_streams.py: test___repr__transport.
func TestStreams_test___repr__transport(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		s := asyncio.NewStreamReader(loop, 0)
		s.SetTransport(reprTransport{})
		if got := s.String(); got != "<StreamReader transport=<Transport>>" {
			t.Errorf("repr = %s", got)
		}
	})
}

// test_streams.py: test_open_unix_connection_no_loop_ssl:
// OpenUnixConnection with TLS to a TLS server on a Unix socket; the
// request's answer is read whole.
func TestStreams_test_open_unix_connection_no_loop_ssl(t *testing.T) {
	serverCfg, clientCfg := testCerts()
	path := filepath.Join(t.TempDir(), "tls.sock")
	ln, err := tls.Listen("unix", path, serverCfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		for {
			l, err := br.ReadString('\n')
			if err != nil || l == "\r\n" {
				break
			}
		}
		c.Write([]byte(httpdResponse))
		br.ReadString('\n') // the client's close
	}()
	defer func() { ln.Close(); <-done }()
	msgs := streamsMain(t, func(ctx context.Context) error {
		r, w, err := asyncio.OpenUnixConnection(ctx, path,
			&asyncio.ConnectOptions{TLS: clientCfg, TLSOptions: asyncio.TLSOptions{ServerHostname: "localhost"}})
		if err != nil {
			return err
		}
		if w.GetExtraInfo("sslcontext") != clientCfg {
			t.Error("not a TLS connection")
		}
		request(t, ctx, r, w)
		rest, err := r.ReadExactly(ctx, len(httpdResponse)-len("HTTP/1.0 200 OK\r\n"))
		if err != nil || !strings.HasSuffix(string(rest), "\r\n\r\nTest message") {
			t.Errorf("ReadExactly = %q, %v", rest, err)
		}
		w.Close()
		return w.WaitClosed(ctx)
	})
	if len(msgs) != 0 {
		t.Errorf("exception handler got %v", msgs)
	}
	// A handshake failure is returned, the connection closed.
	ln2, err := tls.Listen("unix", path+"2", serverCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ln2.Close()
	go func() {
		if c, err := ln2.Accept(); err == nil {
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	streamsMain(t, func(ctx context.Context) error {
		_, _, err := asyncio.OpenUnixConnection(ctx, path+"2", &asyncio.ConnectOptions{TLS: &tls.Config{ServerName: "localhost"}})
		var verr *tls.CertificateVerificationError
		if !errors.As(err, &verr) {
			t.Errorf("untrusted server: err = %v, want a certificate verification error", err)
		}
		return nil
	})
}

// test_streams.py: test_unhandled_cancel: a client callback that closes
// its writer and cancels its own task reports nothing to the exception
// handler.
func TestStreams_test_unhandled_cancel(t *testing.T) {
	msgs := streamsMain(t, func(ctx context.Context) error {
		srv, err := asyncio.StartServer(ctx, func(ctx context.Context, r *asyncio.StreamReader, w *asyncio.StreamWriter) error {
			w.Close()
			asyncio.CurrentTask(ctx).Cancel()
			return asyncio.Sleep(ctx, time.Hour)
		}, "127.0.0.1", 0, nil)
		if err != nil {
			return err
		}
		_, w, err := asyncio.OpenConnection(ctx, "127.0.0.1", mustAddr(t, srv).Port, nil)
		if err != nil {
			return err
		}
		w.Write([]byte("test msg"))
		w.Drain(ctx)
		w.Close()
		w.WaitClosed(ctx)
		srv.Close()
		return srv.WaitClosed(ctx)
	})
	if len(msgs) != 0 {
		t.Errorf("exception handler got %v", msgs)
	}
}

// test_streams.py: test_drain_raises (bpo-25441): the server closes the
// connection at once; a client writing and draining in a loop gets the
// connection's loss (EPIPE, ECONNRESET or ErrConnectionLost from Drain,
// asyncio's ConnectionResetError; or ErrTransportClosing from the next
// Write, where asyncio's write does not fail) instead of spinning, and
// nothing reaches the exception handler.
func TestStreams_test_drain_raises(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
	}()
	host, port := tcpHostPort(ln.Addr())
	msgs := streamsMain(t, func(ctx context.Context) error {
		_, w, err := asyncio.OpenConnection(ctx, host, port, nil)
		if err != nil {
			return err
		}
		defer w.Close()
		for i := 0; ; i++ {
			err := w.Write([]byte("foo\n"))
			if err == nil {
				err = w.Drain(ctx)
			}
			if err != nil {
				if !errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.ECONNRESET) &&
					!errors.Is(err, asyncio.ErrConnectionLost) && !errors.Is(err, asyncio.ErrTransportClosing) {
					t.Errorf("after %d writes: %v, want the connection's loss", i, err)
				}
				return nil
			}
			if i == 1_000_000 {
				t.Error("a million writes and drains to a closed connection succeeded")
				return nil
			}
		}
	})
	if len(msgs) != 0 {
		t.Errorf("exception handler got %v", msgs)
	}
}

// openConnection is _basetest_open_connection: a GET to the test HTTP
// server over the streams open gives; the answer's first line, then the
// rest up to EOF; nothing reaches the exception handler.
func openConnection(t *testing.T, open func(ctx context.Context) (*asyncio.StreamReader, *asyncio.StreamWriter, error)) {
	t.Helper()
	msgs := streamsMain(t, func(ctx context.Context) error {
		r, w, err := open(ctx)
		if err != nil {
			return err
		}
		request(t, ctx, r, w)
		readBody(t, ctx, r)
		w.Close()
		return nil
	})
	if len(msgs) != 0 {
		t.Errorf("exception handler got %v", msgs)
	}
}

// test_streams.py: test_open_connection.
func TestStreams_test_open_connection(t *testing.T) {
	host, port := tcpHostPort(runTestServer(t, "tcp", "127.0.0.1:0"))
	openConnection(t, func(ctx context.Context) (*asyncio.StreamReader, *asyncio.StreamWriter, error) {
		return asyncio.OpenConnection(ctx, host, port, nil)
	})
}

// test_streams.py: test_open_unix_connection.
func TestStreams_test_open_unix_connection(t *testing.T) {
	path := runTestServer(t, "unix", t.TempDir()+"/httpd").String()
	openConnection(t, func(ctx context.Context) (*asyncio.StreamReader, *asyncio.StreamWriter, error) {
		return asyncio.OpenUnixConnection(ctx, path, nil)
	})
}

// test_streams.py: test_async_writer_api: Write, ReadLine, Read to EOF,
// Close and WaitClosed in one coroutine; nothing reaches the exception
// handler.
func TestStreams_test_async_writer_api(t *testing.T) {
	host, port := tcpHostPort(runTestServer(t, "tcp", "127.0.0.1:0"))
	msgs := streamsMain(t, func(ctx context.Context) error {
		r, w, err := asyncio.OpenConnection(ctx, host, port, nil)
		if err != nil {
			return err
		}
		request(t, ctx, r, w)
		readBody(t, ctx, r)
		w.Close()
		return w.WaitClosed(ctx)
	})
	if len(msgs) != 0 {
		t.Errorf("exception handler got %v", msgs)
	}
}
