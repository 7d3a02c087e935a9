package asyncio_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// test_streams.py's StreamReader cases, one Go test per case, on a
// reader fed by hand (feed_data / feed_eof), as upstream.

// streamsData is test_streams.py's DATA.
const streamsData = "line1\nline2\nline3\n"

// readTask starts read in a task and returns a function awaiting it.
func readTask(ctx context.Context, read func(ctx context.Context) ([]byte, error)) func() ([]byte, error) {
	task := asyncio.CreateTask(ctx, read)
	return func() ([]byte, error) { return asyncio.Await(ctx, task) }
}

func TestStreams_test_feed_empty_data(t *testing.T) {
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedData(nil)
		wantBuf(t, s, "")
	})
}

func TestStreams_test_feed_nonempty_data(t *testing.T) {
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedData([]byte(streamsData))
		wantBuf(t, s, streamsData)
	})
}

func TestStreams_test_read_zero(t *testing.T) {
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedData([]byte(streamsData))
		if b, err := s.Read(ctx, 0); err != nil || len(b) != 0 {
			t.Errorf("Read(0) = %q, %v", b, err)
		}
		wantBuf(t, s, streamsData)
	})
}

func TestStreams_test_read_line_breaks(t *testing.T) {
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedData([]byte("line1"))
		s.FeedData([]byte("line2"))
		if b, err := s.Read(ctx, 5); err != nil || string(b) != "line1" {
			t.Errorf("Read(5) = %q, %v", b, err)
		}
		wantBuf(t, s, "line2")
	})
}

func TestStreams_test_read_eof(t *testing.T) {
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		read := readTask(ctx, func(ctx context.Context) ([]byte, error) { return s.Read(ctx, 1024) })
		feedSoon(ctx, s.FeedEOF)
		if b, err := read(); err != nil || len(b) != 0 {
			t.Errorf("Read at EOF = %q, %v", b, err)
		}
		wantBuf(t, s, "")
	})
}

func TestStreams_test_read_until_eof(t *testing.T) {
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		read := readTask(ctx, func(ctx context.Context) ([]byte, error) { return s.Read(ctx, -1) })
		feedSoon(ctx, func() {
			s.FeedData([]byte("chunk1\n"))
			s.FeedData([]byte("chunk2"))
			s.FeedEOF()
		})
		if b, err := read(); err != nil || string(b) != "chunk1\nchunk2" {
			t.Errorf("Read(-1) = %q, %v", b, err)
		}
		wantBuf(t, s, "")
	})
}

func TestStreams_test_readline_limit_with_existing_data(t *testing.T) {
	onReader(t, 3, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedData([]byte("li"))
		s.FeedData([]byte("ne1\nline2\n"))
		if _, err := s.ReadLine(ctx); !errors.Is(err, asyncio.ErrLimitOverrun) {
			t.Errorf("ReadLine = %v, want a LimitOverrunError", err)
		}
		wantBuf(t, s, "line2\n")
	})
	onReader(t, 3, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedData([]byte("li"))
		s.FeedData([]byte("ne1"))
		s.FeedData([]byte("li"))
		if _, err := s.ReadLine(ctx); !errors.Is(err, asyncio.ErrLimitOverrun) {
			t.Errorf("ReadLine = %v, want a LimitOverrunError", err)
		}
		wantBuf(t, s, "")
	})
}

func TestStreams_test_at_eof(t *testing.T) {
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		if s.AtEOF() {
			t.Error("AtEOF on a new reader")
		}
		s.FeedData([]byte("some data\n"))
		if s.AtEOF() {
			t.Error("AtEOF with data")
		}
		s.ReadLine(ctx)
		if s.AtEOF() {
			t.Error("AtEOF before FeedEOF")
		}
		s.FeedData([]byte("some data\n"))
		s.FeedEOF()
		s.ReadLine(ctx)
		if !s.AtEOF() {
			t.Error("not AtEOF after reading everything up to FeedEOF")
		}
	})
}

func TestStreams_test_readline_eof(t *testing.T) {
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedData([]byte("some data"))
		s.FeedEOF()
		if b, err := s.ReadLine(ctx); err != nil || string(b) != "some data" {
			t.Errorf("ReadLine = %q, %v", b, err)
		}
	})
}

func TestStreams_test_readline_empty_eof(t *testing.T) {
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedEOF()
		if b, err := s.ReadLine(ctx); err != nil || len(b) != 0 {
			t.Errorf("ReadLine = %q, %v", b, err)
		}
	})
}

func TestStreams_test_readline_read_byte_count(t *testing.T) {
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedData([]byte(streamsData))
		s.ReadLine(ctx)
		if b, err := s.Read(ctx, 7); err != nil || string(b) != "line2\nl" {
			t.Errorf("Read(7) = %q, %v", b, err)
		}
		wantBuf(t, s, "ine3\n")
	})
}

func TestStreams_test_readline_exception(t *testing.T) {
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedData([]byte("line\n"))
		if b, err := s.ReadLine(ctx); err != nil || string(b) != "line\n" {
			t.Errorf("ReadLine = %q, %v", b, err)
		}
		boom := errors.New("ValueError")
		s.SetException(boom)
		if _, err := s.ReadLine(ctx); err != boom {
			t.Errorf("ReadLine after SetException = %v, want it", err)
		}
		wantBuf(t, s, "")
	})
}

func TestStreams_test_readuntil_separator(t *testing.T) {
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		if _, err := s.ReadUntil(ctx, nil); !errors.Is(err, asyncio.ErrEmptySeparator) {
			t.Errorf("ReadUntil(empty) = %v", err)
		}
		if _, err := s.ReadUntilAny(ctx, []byte{}); !errors.Is(err, asyncio.ErrEmptySeparator) {
			t.Errorf("ReadUntilAny(empty) = %v", err)
		}
		if _, err := s.ReadUntilAny(ctx); !errors.Is(err, asyncio.ErrEmptySeparator) {
			t.Errorf("ReadUntilAny() = %v", err)
		}
	})
}

func TestStreams_test_readuntil_multi_chunks(t *testing.T) {
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		for _, c := range []struct{ feed, want, left string }{
			{"lineAAA", "lineAAA", ""},
			{"lineAAA", "lineAAA", ""},
			{"lineAAAxxx", "lineAAA", "xxx"},
		} {
			s.FeedData([]byte(c.feed))
			if b, err := s.ReadUntil(ctx, []byte("AAA")); err != nil || string(b) != c.want {
				t.Errorf("ReadUntil = %q, %v; want %q", b, err, c.want)
			}
			wantBuf(t, s, c.left)
		}
	})
}

func TestStreams_test_readuntil_multi_chunks_1(t *testing.T) {
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		for _, c := range []struct {
			feeds []string
			want  string
		}{
			{[]string{"QWEaa", "XYaa", "a"}, "QWEaaXYaaa"},
			{[]string{"QWEaa", "XYa", "aa"}, "QWEaaXYaaa"},
			{[]string{"aaa"}, "aaa"},
			{[]string{"Xaaa"}, "Xaaa"},
			{[]string{"XXX", "a", "a", "a"}, "XXXaaa"},
		} {
			for _, f := range c.feeds {
				s.FeedData([]byte(f))
			}
			if b, err := s.ReadUntil(ctx, []byte("aaa")); err != nil || string(b) != c.want {
				t.Errorf("ReadUntil after %q = %q, %v; want %q", c.feeds, b, err, c.want)
			}
			wantBuf(t, s, "")
		}
	})
}

func TestStreams_test_readuntil_eof(t *testing.T) {
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedData([]byte("some dataAA"))
		s.FeedEOF()
		_, err := s.ReadUntil(ctx, []byte("AAA"))
		var ie *asyncio.IncompleteReadError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), "undefined expected bytes") ||
			string(ie.Partial) != "some dataAA" || ie.Expected != -1 {
			t.Errorf("ReadUntil = %v, want an IncompleteReadError with everything", err)
		}
		wantBuf(t, s, "")
	})
}

func TestStreams_test_readuntil_limit_found_sep(t *testing.T) {
	onReader(t, 3, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedData([]byte("some dataAA"))
		if _, err := s.ReadUntil(ctx, []byte("AAA")); !errors.Is(err, asyncio.ErrLimitOverrun) || !strings.Contains(err.Error(), "not found") {
			t.Errorf("ReadUntil = %v, want a LimitOverrunError \"… not found …\"", err)
		}
		wantBuf(t, s, "some dataAA")
		s.FeedData([]byte("A"))
		if _, err := s.ReadUntil(ctx, []byte("AAA")); !errors.Is(err, asyncio.ErrLimitOverrun) || !strings.Contains(err.Error(), "is found") {
			t.Errorf("ReadUntil = %v, want a LimitOverrunError \"… is found …\"", err)
		}
		wantBuf(t, s, "some dataAAA")
	})
}

func TestStreams_test_readexactly_zero_or_less(t *testing.T) {
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedData([]byte(streamsData))
		if b, err := s.ReadExactly(ctx, 0); err != nil || len(b) != 0 {
			t.Errorf("ReadExactly(0) = %q, %v", b, err)
		}
		wantBuf(t, s, streamsData)
		if _, err := s.ReadExactly(ctx, -1); !errors.Is(err, asyncio.ErrNegativeCount) || !strings.Contains(err.Error(), "less than zero") {
			t.Errorf("ReadExactly(-1) = %v", err)
		}
		wantBuf(t, s, streamsData)
	})
}

func TestStreams_test_readexactly_limit(t *testing.T) {
	onReader(t, 3, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedData([]byte("chunk"))
		if b, err := s.ReadExactly(ctx, 5); err != nil || string(b) != "chunk" {
			t.Errorf("ReadExactly(5) = %q, %v", b, err)
		}
		wantBuf(t, s, "")
	})
}

func TestStreams_test_readexactly_eof(t *testing.T) {
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		n := 2 * len(streamsData)
		read := readTask(ctx, func(ctx context.Context) ([]byte, error) { return s.ReadExactly(ctx, n) })
		feedSoon(ctx, func() {
			s.FeedData([]byte(streamsData))
			s.FeedEOF()
		})
		_, err := read()
		var ie *asyncio.IncompleteReadError
		if !errors.As(err, &ie) || string(ie.Partial) != streamsData || ie.Expected != n ||
			!strings.HasSuffix(err.Error(), "18 bytes read on a total of 36 expected bytes") {
			t.Errorf("ReadExactly = %v, want 18 bytes read on a total of 36", err)
		}
		wantBuf(t, s, "")
	})
}

func TestStreams_test_readexactly_exception(t *testing.T) {
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		s.FeedData([]byte("line\n"))
		if b, err := s.ReadExactly(ctx, 2); err != nil || string(b) != "li" {
			t.Errorf("ReadExactly(2) = %q, %v", b, err)
		}
		boom := errors.New("ValueError")
		s.SetException(boom)
		if _, err := s.ReadExactly(ctx, 2); err != boom {
			t.Errorf("ReadExactly after SetException = %v, want it", err)
		}
	})
}

func TestStreams_test_exception(t *testing.T) {
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		if s.Exception() != nil {
			t.Errorf("Exception() = %v on a new reader", s.Exception())
		}
		boom := errors.New("ValueError")
		s.SetException(boom)
		if s.Exception() != boom {
			t.Errorf("Exception() = %v, want the one set", s.Exception())
		}
	})
}

// test_streams.py: test_exception_cancel: a read cancelled while it
// waits, then SetException: nothing fails, no read is left waiting, and
// the reader reads no more.
func TestStreams_test_exception_cancel(t *testing.T) {
	onReader(t, 0, func(ctx context.Context, s *asyncio.StreamReader) {
		task := asyncio.CreateTask(ctx, s.ReadLine)
		runBriefly(ctx)
		task.Cancel()
		runBriefly(ctx)
		boom := errors.New("message")
		s.SetException(boom)
		runBriefly(ctx)
		if !task.Cancelled() {
			t.Error("the read is not cancelled")
		}
		if strings.Contains(s.String(), "waiter=") {
			t.Errorf("a read still waits: %s", s)
		}
		if _, err := s.ReadLine(ctx); err != boom {
			t.Errorf("ReadLine after SetException = %v, want it", err)
		}
	})
}

func TestStreams_test___repr__nondefault_limit(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		if got := asyncio.NewStreamReader(loop, 123).String(); got != "<StreamReader limit=123>" {
			t.Errorf("repr = %s", got)
		}
	})
}

func TestStreams_test___repr__eof(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		s := asyncio.NewStreamReader(loop, 0)
		s.FeedEOF()
		if got := s.String(); got != "<StreamReader eof>" {
			t.Errorf("repr = %s", got)
		}
	})
}

func TestStreams_test___repr__data(t *testing.T) {
	withLoop(t, func(ctx context.Context, loop *asyncio.Loop) {
		s := asyncio.NewStreamReader(loop, 0)
		s.FeedData([]byte("data"))
		if got := s.String(); got != "<StreamReader 4 bytes>" {
			t.Errorf("repr = %s", got)
		}
	})
}
