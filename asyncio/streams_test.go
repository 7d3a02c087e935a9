package asyncio_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// onReader runs body in a task with a fresh reader of the given limit.
func onReader(t *testing.T, limit int, body func(ctx context.Context, s *asyncio.StreamReader)) {
	t.Helper()
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		loop, _ := asyncio.GetRunningLoop(ctx)
		body(ctx, asyncio.NewStreamReader(loop, limit))
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func wantBuf(t *testing.T, s *asyncio.StreamReader, want string) {
	t.Helper()
	if got := string(s.Buffered()); got != want {
		t.Errorf("buffer %q, want %q", got, want)
	}
}

func feedSoon(ctx context.Context, fn func()) {
	loop, _ := asyncio.GetRunningLoop(ctx)
	loop.CallSoon(func(context.Context) { fn() })
}

// test_streams.py: test_feed_empty_data, test_feed_nonempty_data.
func TestStreams_test_feed_data(t *testing.T) {
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedData(nil)
		wantBuf(t, s, "")
		s.FeedData([]byte("line1\nline2\n"))
		wantBuf(t, s, "line1\nline2\n")
	})
}

// test_streams.py: test_read_zero, test_read, test_read_line_breaks,
// test_read_eof, test_read_until_eof.
func TestStreams_test_read(t *testing.T) {
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedData([]byte("line1\n"))
		if b, _ := s.Read(ctx, 0); len(b) != 0 || b == nil {
			t.Errorf("Read(0) = %q", b)
		}
		wantBuf(t, s, "line1\n")
		feedSoon(ctx, func() { s.FeedData([]byte("line2\n")) })
		b, _ := s.Read(ctx, 30)
		if string(b) != "line1\n" {
			t.Errorf("Read(30) = %q", b)
		}
		wantBuf(t, s, "")
		b, _ = s.Read(ctx, 5)
		if string(b) != "line2" {
			t.Errorf("Read(5) = %q", b)
		}
		wantBuf(t, s, "\n")
	})
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		feedSoon(ctx, s.FeedEOF)
		if b, err := s.Read(ctx, 1024); len(b) != 0 || err != nil {
			t.Errorf("Read at EOF = %q, %v", b, err)
		}
		if !s.AtEOF() {
			t.Error("not AtEOF")
		}
	})
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		feedSoon(ctx, func() {
			s.FeedData([]byte("chunk1\n"))
			s.FeedData([]byte("chunk2"))
			s.FeedEOF()
		})
		b, _ := s.Read(ctx, -1)
		if string(b) != "chunk1\nchunk2" {
			t.Errorf("Read(-1) = %q", b)
		}
		wantBuf(t, s, "")
	})
}

// test_streams.py: test_read_exception, test_readline_exception,
// test_readexactly_exception, test_exception.
func TestStreams_test_read_exception(t *testing.T) {
	boom := errors.New("boom")
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedData([]byte("line\n"))
		b, _ := s.Read(ctx, 2)
		if string(b) != "li" {
			t.Errorf("Read = %q", b)
		}
		s.SetException(boom)
		if _, err := s.Read(ctx, 2); err != boom {
			t.Errorf("Read = %v", err)
		}
		if _, err := s.ReadLine(ctx); err != boom {
			t.Errorf("ReadLine = %v", err)
		}
		if _, err := s.ReadExactly(ctx, 2); err != boom {
			t.Errorf("ReadExactly = %v", err)
		}
		if s.Exception() != boom {
			t.Error("Exception")
		}
	})
}

// test_streams.py: test_exception_waiter and test_exception_cancel.
func TestStreams_test_exception_waiter(t *testing.T) {
	boom := errors.New("boom")
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		feedSoon(ctx, func() { s.SetException(boom) })
		if _, err := s.ReadLine(ctx); err != boom {
			t.Errorf("ReadLine = %v", err)
		}
		// a cancelled read leaves the reader usable
		s2 := asyncio.NewStreamReader(asyncio.CurrentTask(ctx).Loop(), 0)
		task := asyncio.CreateTask(ctx, func(ctx context.Context) ([]byte, error) { return s2.ReadLine(ctx) })
		asyncio.Sleep(ctx, 0)
		task.Cancel("")
		asyncio.Sleep(ctx, 0)
		if _, err := task.Result(); !errors.Is(err, asyncio.ErrCancelled) {
			t.Errorf("cancelled ReadLine = %v", err)
		}
		s2.SetException(boom) // no waiter to fail: must not panic
	})
}

// test_streams.py: test_readline, test_readline_eof,
// test_readline_empty_eof, test_readline_read_byte_count, test_at_eof.
func TestStreams_test_readline(t *testing.T) {
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedData([]byte("chunk1 "))
		feedSoon(ctx, func() {
			s.FeedData([]byte("chunk2 "))
			s.FeedData([]byte("chunk3 "))
			s.FeedData([]byte("\n chunk4"))
		})
		line, _ := s.ReadLine(ctx)
		if string(line) != "chunk1 chunk2 chunk3 \n" {
			t.Errorf("ReadLine = %q", line)
		}
		wantBuf(t, s, " chunk4")
	})
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedData([]byte("some data"))
		s.FeedEOF()
		line, _ := s.ReadLine(ctx)
		if string(line) != "some data" {
			t.Errorf("ReadLine at eof = %q", line)
		}
		line, _ = s.ReadLine(ctx)
		if len(line) != 0 {
			t.Errorf("ReadLine after eof = %q", line)
		}
	})
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		if s.AtEOF() {
			t.Error("AtEOF at start")
		}
		s.FeedData([]byte("some data\n"))
		s.ReadLine(ctx)
		if s.AtEOF() {
			t.Error("AtEOF before FeedEOF")
		}
		s.FeedData([]byte("some data\n"))
		s.FeedEOF()
		s.ReadLine(ctx)
		if !s.AtEOF() {
			t.Error("not AtEOF")
		}
	})
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedData([]byte("line1\nline2\nline3\n"))
		s.ReadLine(ctx)
		b, _ := s.Read(ctx, 7)
		if string(b) != "line2\nl" {
			t.Errorf("Read = %q", b)
		}
		wantBuf(t, s, "ine3\n")
	})
}

// test_streams.py: test_readline_limit_with_existing_data and
// test_readline_limit: what stays buffered after the limit is overrun.
func TestStreams_test_readline_limit(t *testing.T) {
	onReader(t, 3, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedData([]byte("li"))
		s.FeedData([]byte("ne1\nline2\n"))
		if _, err := s.ReadLine(ctx); !errors.Is(err, asyncio.ErrLimitOverrun) {
			t.Errorf("ReadLine = %v", err)
		}
		wantBuf(t, s, "line2\n")
	})
	onReader(t, 3, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedData([]byte("li"))
		s.FeedData([]byte("ne1"))
		s.FeedData([]byte("li"))
		if _, err := s.ReadLine(ctx); !errors.Is(err, asyncio.ErrLimitOverrun) {
			t.Errorf("ReadLine = %v", err)
		}
		wantBuf(t, s, "")
	})
	onReader(t, 7, func(ctx context.Context, s *asyncio.StreamReader) {
		feedSoon(ctx, func() {
			s.FeedData([]byte("chunk1"))
			s.FeedData([]byte("chunk2"))
			s.FeedData([]byte("chunk3\n"))
			s.FeedEOF()
		})
		if _, err := s.ReadLine(ctx); !errors.Is(err, asyncio.ErrLimitOverrun) {
			t.Errorf("ReadLine = %v", err)
		}
		wantBuf(t, s, "")
	})
	onReader(t, 7, func(ctx context.Context, s *asyncio.StreamReader) {
		feedSoon(ctx, func() {
			s.FeedData([]byte("chunk1"))
			s.FeedData([]byte("chunk2\n"))
			s.FeedData([]byte("chunk3\n"))
			s.FeedEOF()
		})
		if _, err := s.ReadLine(ctx); !errors.Is(err, asyncio.ErrLimitOverrun) {
			t.Errorf("ReadLine = %v", err)
		}
		wantBuf(t, s, "chunk3\n")
	})
	onReader(t, 7, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedData([]byte("1234567\n"))
		if line, _ := s.ReadLine(ctx); string(line) != "1234567\n" {
			t.Errorf("ReadLine = %q", line)
		}
		wantBuf(t, s, "")
		s.FeedData([]byte("12345678\n"))
		if _, err := s.ReadLine(ctx); err == nil {
			t.Error("no error")
		}
		wantBuf(t, s, "")
		s.FeedData([]byte("12345678"))
		if _, err := s.ReadLine(ctx); err == nil {
			t.Error("no error")
		}
		wantBuf(t, s, "")
	})
}

// test_streams.py: test_readuntil_separator, test_readuntil_multi_chunks,
// test_readuntil_multi_chunks_1, test_readuntil_eof,
// test_readuntil_limit_found_sep.
func TestStreams_test_readuntil(t *testing.T) {
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		if _, err := s.ReadUntil(ctx, nil); !errors.Is(err, asyncio.ErrEmptySeparator) {
			t.Errorf("empty separator: %v", err)
		}
		s.FeedData([]byte("lineAAA"))
		if b, _ := s.ReadUntil(ctx, []byte("AAA")); string(b) != "lineAAA" {
			t.Errorf("got %q", b)
		}
		wantBuf(t, s, "")
		s.FeedData([]byte("lineAAAxxx"))
		if b, _ := s.ReadUntil(ctx, []byte("AAA")); string(b) != "lineAAA" {
			t.Errorf("got %q", b)
		}
		wantBuf(t, s, "xxx")
	})
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedData([]byte("QWEaa"))
		s.FeedData([]byte("XYaa"))
		s.FeedData([]byte("a"))
		if b, _ := s.ReadUntil(ctx, []byte("aaa")); string(b) != "QWEaaXYaaa" {
			t.Errorf("got %q", b)
		}
		wantBuf(t, s, "")
		s.FeedData([]byte("XX"))
		feedSoon(ctx, func() { s.FeedData([]byte("aaa")) })
		if b, _ := s.ReadUntil(ctx, []byte("aaa")); string(b) != "XXaaa" {
			t.Errorf("got %q", b)
		}
	})
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedData([]byte("some dataAA"))
		s.FeedEOF()
		_, err := s.ReadUntil(ctx, []byte("AAA"))
		var ie *asyncio.IncompleteReadError
		if !errors.As(err, &ie) || string(ie.Partial) != "some dataAA" || ie.Expected != -1 ||
			!errors.Is(err, asyncio.ErrIncompleteRead) {
			t.Errorf("err = %v", err)
		}
		wantBuf(t, s, "")
	})
	onReader(t, 3, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedData([]byte("some dataAA"))
		_, err := s.ReadUntil(ctx, []byte("AAA"))
		var le *asyncio.LimitOverrunError
		if !errors.As(err, &le) || le.Msg != "Separator is not found, and chunk exceed the limit" {
			t.Errorf("err = %v", err)
		}
		wantBuf(t, s, "some dataAA")
		s.FeedData([]byte("A"))
		_, err = s.ReadUntil(ctx, []byte("AAA"))
		if !errors.As(err, &le) || le.Msg != "Separator is found, but chunk is longer than limit" {
			t.Errorf("err = %v", err)
		}
		wantBuf(t, s, "some dataAAA")
	})
}

// test_streams.py: test_readexactly_zero_or_less, test_readexactly,
// test_readexactly_limit, test_readexactly_eof.
func TestStreams_test_readexactly(t *testing.T) {
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedData([]byte("data"))
		if b, _ := s.ReadExactly(ctx, 0); len(b) != 0 {
			t.Errorf("got %q", b)
		}
		if _, err := s.ReadExactly(ctx, -1); !errors.Is(err, asyncio.ErrNegativeCount) {
			t.Errorf("err %v", err)
		}
		wantBuf(t, s, "data")
	})
	data := "chunk1\nchunk2\nchunk3\n"
	for _, limit := range []int{0, 3} {
		onReader(t, limit, func(ctx context.Context, s *asyncio.StreamReader) {
			n := 2 * len(data)
			feedSoon(ctx, func() {
				s.FeedData([]byte(data))
				s.FeedData([]byte(data))
				s.FeedData([]byte(data))
			})
			b, _ := s.ReadExactly(ctx, n)
			if string(b) != data+data {
				t.Errorf("got %q", b)
			}
			wantBuf(t, s, data)
		})
	}
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		n := 2 * len(data)
		feedSoon(ctx, func() {
			s.FeedData([]byte(data))
			s.FeedEOF()
		})
		_, err := s.ReadExactly(ctx, n)
		var ie *asyncio.IncompleteReadError
		if !errors.As(err, &ie) || string(ie.Partial) != data || ie.Expected != n {
			t.Errorf("err = %v", err)
		}
		if got := err.Error(); got != "asyncio: 21 bytes read on a total of 42 expected bytes" {
			t.Errorf("message %q", got)
		}
		wantBuf(t, s, "")
	})
}

// A read cancelled mid-way leaves the unread bytes in the buffer.
func TestStreams_cancelled_readexactly_loses_nothing(t *testing.T) {
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedData([]byte("partial"))
		task := asyncio.CreateTask(ctx, func(ctx context.Context) ([]byte, error) { return s.ReadExactly(ctx, 100) })
		asyncio.Sleep(ctx, 0)
		s.FeedData([]byte(" more"))
		asyncio.Sleep(ctx, 0)
		task.Cancel("")
		asyncio.Sleep(ctx, 0)
		asyncio.Sleep(ctx, 0)
		if !task.Cancelled() {
			t.Errorf("task not cancelled")
		}
		wantBuf(t, s, "partial more")
		s.FeedEOF()
		b, _ := s.Read(ctx, -1)
		if string(b) != "partial more" {
			t.Errorf("after cancel read %q", b)
		}
	})
}

// A second task reading while one waits gets ErrConcurrentRead.
func TestStreams_concurrent_read_refused(t *testing.T) {
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		task := asyncio.CreateTask(ctx, func(ctx context.Context) ([]byte, error) { return s.ReadLine(ctx) })
		asyncio.Sleep(ctx, 0)
		if _, err := s.Read(ctx, 1); !errors.Is(err, asyncio.ErrConcurrentRead) {
			t.Errorf("second read = %v", err)
		}
		s.FeedData([]byte("x\n"))
		b, _ := asyncio.Await(ctx, task)
		if string(b) != "x\n" {
			t.Errorf("got %q", b)
		}
	})
}

// test_streams.py: async iteration over the reader's lines.
func TestStreams_test_async_iterator(t *testing.T) {
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedData([]byte("a\nb\nc"))
		s.FeedEOF()
		var got []string
		for line, err := range s.Lines(ctx) {
			if err != nil {
				t.Error(err)
			}
			got = append(got, string(line))
		}
		if len(got) != 3 || got[2] != "c" {
			t.Errorf("lines %q", got)
		}
	})
}

// refRead is the fuzz target's reference: the operations on a plain
// byte slice, with asyncio's rules.
type refReader struct {
	buf   []byte
	limit int
}

func (r *refReader) readUntil(sep []byte) (out []byte, kind string) {
	i := bytes.Index(r.buf, sep)
	if i < 0 {
		// never found: overrun if the scanned part exceeds the limit,
		// else incomplete at EOF
		if len(r.buf)+1-len(sep) > r.limit {
			return nil, "overrun"
		}
		out, r.buf = r.buf, nil
		return out, "incomplete"
	}
	// found: but the scan may have overrun before reaching it
	if i > r.limit {
		return nil, "overrun"
	}
	out = append([]byte{}, r.buf[:i+len(sep)]...)
	r.buf = r.buf[i+len(sep):]
	return out, "ok"
}

// FuzzStreamReader feeds random chunkings and limits to ReadUntil,
// ReadLine and ReadExactly and checks them against a reference.
func FuzzStreamReader(f *testing.F) {
	f.Add([]byte("line1\nline2\nline3"), uint8(3), uint8(5), uint8(0))
	f.Add([]byte("some dataAAAmoreAAA"), uint8(1), uint8(4), uint8(1))
	f.Add([]byte("0123456789"), uint8(2), uint8(3), uint8(2))
	f.Add([]byte("\n\n\nabc\n"), uint8(7), uint8(1), uint8(0))
	f.Add(bytes.Repeat([]byte("x"), 100), uint8(9), uint8(10), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, chunk, limit, op uint8) {
		lim := int(limit%32) + 1
		ch := int(chunk%16) + 1
		_, err := runMain(t, func(ctx context.Context) (int, error) {
			loop, _ := asyncio.GetRunningLoop(ctx)
			s := asyncio.NewStreamReader(loop, lim)
			// feed in chunks from callbacks, one per iteration, then EOF
			for i := 0; i < len(data); i += ch {
				c := data[i:min(i+ch, len(data))]
				loop.CallSoon(func(context.Context) { s.FeedData(c) })
			}
			loop.CallSoon(func(context.Context) { s.FeedEOF() })
			ref := &refReader{buf: append([]byte{}, data...), limit: lim}
			sep := []byte("\n")
			if op%3 == 1 {
				sep = []byte("AAA")
			}
			for step := 0; step < 50; step++ {
				switch op % 3 {
				case 0, 1:
					// The outcome does not depend on the chunking: the
					// separator within the limit is found before the scan
					// can overrun it.
					got, err := s.ReadUntil(ctx, sep)
					want, kind := ref.readUntil(sep)
					var ie *asyncio.IncompleteReadError
					switch {
					case kind == "ok" && (err != nil || !bytes.Equal(got, want)):
						t.Errorf("ReadUntil = %q, %v; want %q", got, err, want)
					case kind == "overrun" && !errors.Is(err, asyncio.ErrLimitOverrun):
						t.Errorf("ReadUntil = %q, %v; want overrun", got, err)
					case kind == "incomplete" && (!errors.As(err, &ie) || !bytes.Equal(ie.Partial, want)):
						t.Errorf("ReadUntil = %q, %v; want incomplete %q", got, err, want)
					}
					if !bytes.Equal(s.Buffered(), ref.buf) {
						t.Errorf("buffer %q, want %q", s.Buffered(), ref.buf)
					}
					if kind != "ok" {
						return 0, nil
					}
				case 2:
					n := lim
					got, err := s.ReadExactly(ctx, n)
					if len(ref.buf) >= n {
						if err != nil || !bytes.Equal(got, ref.buf[:n]) {
							t.Errorf("ReadExactly = %q, %v; want %q", got, err, ref.buf[:n])
						}
						ref.buf = ref.buf[n:]
					} else {
						var ie *asyncio.IncompleteReadError
						if !errors.As(err, &ie) || !bytes.Equal(ie.Partial, ref.buf) {
							t.Errorf("ReadExactly = %v; want incomplete %q", err, ref.buf)
						}
						return 0, nil
					}
				}
			}
			return 0, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
