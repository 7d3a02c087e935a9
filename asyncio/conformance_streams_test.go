//go:build unix

package asyncio_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
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
