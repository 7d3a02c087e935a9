package asyncio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
)

// DefaultStreamLimit is a StreamReader's default limit: 64 KiB (asyncio's
// _DEFAULT_LIMIT).
const DefaultStreamLimit = 64 * 1024

// Errors of streams.
var (
	// ErrIncompleteRead matches every *IncompleteReadError.
	ErrIncompleteRead = errors.New("asyncio: incomplete read")
	// ErrLimitOverrun matches every *LimitOverrunError.
	ErrLimitOverrun = errors.New("asyncio: limit overrun")
	// ErrConcurrentRead is returned by a StreamReader read while another
	// task is already waiting for data on the same reader.
	ErrConcurrentRead = errors.New("asyncio: another task is already waiting for incoming data")
	// ErrConnectionLost is returned by Drain once the connection is lost
	// (asyncio's ConnectionResetError('Connection lost')).
	ErrConnectionLost = errors.New("asyncio: connection lost")
	// ErrEmptySeparator is returned by ReadUntil for an empty separator.
	ErrEmptySeparator = errors.New("asyncio: separator should be at least one byte")
	// ErrNegativeCount is returned by ReadExactly for n < 0.
	ErrNegativeCount = errors.New("asyncio: ReadExactly size can not be less than zero")
)

// IncompleteReadError is returned when the stream ended before the read
// could complete (asyncio.IncompleteReadError). It matches
// ErrIncompleteRead.
type IncompleteReadError struct {
	Partial  []byte // the bytes read before the end of the stream
	Expected int    // the bytes wanted, or -1 for "up to a separator"
}

func (e *IncompleteReadError) Error() string {
	if e.Expected < 0 {
		return fmt.Sprintf("asyncio: %d bytes read on a total of undefined expected bytes", len(e.Partial))
	}
	return fmt.Sprintf("asyncio: %d bytes read on a total of %d expected bytes", len(e.Partial), e.Expected)
}

func (e *IncompleteReadError) Is(target error) bool { return target == ErrIncompleteRead }

// LimitOverrunError is returned when the separator was not found within
// the reader's limit (asyncio.LimitOverrunError). It matches
// ErrLimitOverrun.
type LimitOverrunError struct {
	Msg      string
	Consumed int // how many bytes to consume to get past the overrun
}

func (e *LimitOverrunError) Error() string        { return "asyncio: " + e.Msg }
func (e *LimitOverrunError) Is(target error) bool { return target == ErrLimitOverrun }

// A StreamReader buffers what a connection receives and reads it in the
// ways protocols need: a line, up to a separator, exactly n bytes
// (asyncio.StreamReader). OpenConnection and StartServer make them.
//
// Its buffer holds up to twice the limit before the transport's reading is
// paused (so a slow reader stops the peer through TCP), and resumes when
// the reader has consumed down to the limit.
//
// Loop-confined; its reads are coroutines: call them from a task. One task
// at a time may wait on a reader (ErrConcurrentRead). A read cancelled
// while waiting returns the CancelledError and leaves the buffer as it
// was: no byte is lost.
type StreamReader struct {
	loop      *Loop
	limit     int
	buf       []byte
	eof       bool
	waiter    *Future[struct{}]
	err       error
	transport Transport
	paused    bool
}

// NewStreamReader returns a reader with the given limit (0 or less:
// DefaultStreamLimit), fed by FeedData and FeedEOF.
func NewStreamReader(loop *Loop, limit int) *StreamReader {
	if limit <= 0 {
		limit = DefaultStreamLimit
	}
	return &StreamReader{loop: loop, limit: limit}
}

// String describes the reader as asyncio's StreamReader repr does, with
// only the parts that are set, in this order: the bytes buffered, "eof",
// the limit if not the default, the waiting read's future, the error the
// reader failed with, its transport, and "paused" while it has paused
// the transport's reading:
//
//	<StreamReader 12 bytes eof limit=8 waiter=<Future pending> exception="…" transport=<…> paused>
func (r *StreamReader) String() string {
	var b strings.Builder
	b.WriteString("<StreamReader")
	if len(r.buf) > 0 {
		fmt.Fprintf(&b, " %d bytes", len(r.buf))
	}
	if r.eof {
		b.WriteString(" eof")
	}
	if r.limit != DefaultStreamLimit {
		fmt.Fprintf(&b, " limit=%d", r.limit)
	}
	if r.waiter != nil {
		fmt.Fprintf(&b, " waiter=%s", r.waiter)
	}
	if r.err != nil {
		fmt.Fprintf(&b, " exception=%q", r.err.Error())
	}
	if r.transport != nil {
		fmt.Fprintf(&b, " transport=%s", describeTransport(r.transport))
	}
	if r.paused {
		b.WriteString(" paused")
	}
	b.WriteString(">")
	return b.String()
}

// describeTransport is t's String, or its type for a transport without
// one.
func describeTransport(t Transport) string {
	if s, ok := t.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("<%T>", t)
}

// Exception returns the error the connection failed with, or nil.
func (r *StreamReader) Exception() error { return r.err }

// SetException fails the reader: pending and later reads return err.
func (r *StreamReader) SetException(err error) {
	r.err = err
	if w := r.waiter; w != nil {
		r.waiter = nil
		if !w.Cancelled() {
			w.SetException(err)
		}
	}
}

func (r *StreamReader) wakeup() {
	if w := r.waiter; w != nil {
		r.waiter = nil
		if !w.Cancelled() {
			w.SetResult(struct{}{})
		}
	}
}

// SetTransport sets the transport whose reading the reader pauses and
// resumes.
func (r *StreamReader) SetTransport(t Transport) { r.transport = t }

func (r *StreamReader) maybeResume() {
	if r.paused && len(r.buf) <= r.limit {
		r.paused = false
		r.transport.ResumeReading()
	}
}

// FeedEOF marks the end of the stream.
func (r *StreamReader) FeedEOF() {
	r.eof = true
	r.wakeup()
}

// AtEOF reports whether the buffer is empty and the stream has ended.
func (r *StreamReader) AtEOF() bool { return r.eof && len(r.buf) == 0 }

// FeedData appends a copy of data to the buffer. It panics after FeedEOF.
func (r *StreamReader) FeedData(data []byte) {
	if r.eof {
		panic("asyncio: StreamReader.FeedData after FeedEOF")
	}
	if len(data) == 0 {
		return
	}
	r.buf = append(r.buf, data...)
	r.wakeup()
	if r.transport != nil && !r.paused && len(r.buf) > 2*r.limit {
		r.transport.PauseReading()
		r.paused = true
	}
}

func (r *StreamReader) waitForData(ctx context.Context, fn string) error {
	if r.waiter != nil {
		return fmt.Errorf("%w (%s)", ErrConcurrentRead, fn)
	}
	if r.paused {
		r.paused = false
		r.transport.ResumeReading()
	}
	w := NewFuture[struct{}](r.loop)
	r.waiter = w
	_, err := Await(ctx, w)
	if r.waiter == w {
		r.waiter = nil
	}
	return err
}

// consume removes and returns the first n bytes of the buffer.
func (r *StreamReader) consume(n int) []byte {
	out := make([]byte, n)
	copy(out, r.buf)
	r.buf = r.buf[:copy(r.buf, r.buf[n:])]
	return out
}

// ReadLine reads one line, up to and including "\n" (asyncio's
// readline). At the end of the stream it returns the partial last line
// without "\n", and then empty slices. If the line is longer than the
// limit it returns the *LimitOverrunError and, as asyncio does, discards
// the line if its "\n" was found, else the whole buffer.
func (r *StreamReader) ReadLine(ctx context.Context) ([]byte, error) {
	line, err := r.ReadUntil(ctx, []byte{'\n'})
	var ie *IncompleteReadError
	if errors.As(err, &ie) {
		return ie.Partial, nil
	}
	var le *LimitOverrunError
	if errors.As(err, &le) {
		if bytes.HasPrefix(r.buf[le.Consumed:], []byte{'\n'}) {
			r.consume(le.Consumed + 1)
		} else {
			r.buf = r.buf[:0]
		}
		r.maybeResume()
		return nil, err
	}
	return line, err
}

// ReadUntil reads up to and including sep (asyncio's readuntil).
//
// If the stream ends first, it returns an *IncompleteReadError with what
// was buffered (which may include part of sep), and the buffer is
// emptied. If sep is not found within the limit (or found beyond it), it
// returns a *LimitOverrunError and leaves the buffer as it was, so that it
// can be read some other way.
func (r *StreamReader) ReadUntil(ctx context.Context, sep []byte) ([]byte, error) {
	return r.readUntil(ctx, "ReadUntil", [][]byte{sep})
}

// ReadUntilAny is ReadUntil with several separators (asyncio's readuntil
// given a tuple): it reads up to and including the separator whose match
// ends first in the stream (of two ending at the same byte, the shorter
// one), and fails as ReadUntil does. With no separator, or an empty one, it returns
// ErrEmptySeparator.
func (r *StreamReader) ReadUntilAny(ctx context.Context, seps ...[]byte) ([]byte, error) {
	return r.readUntil(ctx, "ReadUntilAny", seps)
}

func (r *StreamReader) readUntil(ctx context.Context, what string, seps [][]byte) ([]byte, error) {
	if len(seps) == 0 {
		return nil, ErrEmptySeparator
	}
	minLen, maxLen := len(seps[0]), len(seps[0])
	for _, sep := range seps {
		minLen, maxLen = min(minLen, len(sep)), max(maxLen, len(sep))
	}
	if minLen == 0 {
		return nil, ErrEmptySeparator
	}
	if r.err != nil {
		return nil, r.err
	}
	offset := 0
	start, end := -1, -1
	for {
		buflen := len(r.buf)
		if buflen-offset >= minLen {
			for _, sep := range seps {
				i := bytes.Index(r.buf[offset:], sep)
				if i == -1 {
					continue
				}
				i += offset
				// The match that ends first; of two ending together,
				// the shorter (asyncio tries the separators shortest
				// first).
				if e := i + len(sep); end < 0 || e < end || (e == end && i > start) {
					start, end = i, e
				}
			}
			if end >= 0 {
				break
			}
			// Keep the tail that may hold the start of the longest
			// separator; never go back before the start of the buffer.
			offset = max(0, buflen+1-maxLen)
			if offset > r.limit {
				return nil, &LimitOverrunError{"Separator is not found, and chunk exceed the limit", offset}
			}
		}
		if r.eof {
			chunk := r.consume(len(r.buf))
			return nil, &IncompleteReadError{Partial: chunk, Expected: -1}
		}
		if err := r.waitForData(ctx, what); err != nil {
			return nil, err
		}
	}
	if start > r.limit {
		return nil, &LimitOverrunError{"Separator is found, but chunk is longer than limit", start}
	}
	chunk := r.consume(end)
	r.maybeResume()
	return chunk, nil
}

// Read reads up to n bytes (asyncio's read): as soon as at least one is
// buffered it returns what is there, up to n; at the end of the stream an
// empty slice. n < 0 reads until the end of the stream; n == 0 returns at
// once.
func (r *StreamReader) Read(ctx context.Context, n int) ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	if n == 0 {
		return []byte{}, nil
	}
	if n < 0 {
		var all []byte
		for {
			b, err := r.Read(ctx, r.limit)
			if err != nil {
				// What was read stays readable: put it back in front.
				r.buf = append(all, r.buf...)
				return nil, err
			}
			if len(b) == 0 {
				if all == nil {
					all = []byte{}
				}
				return all, nil
			}
			all = append(all, b...)
		}
	}
	if len(r.buf) == 0 && !r.eof {
		if err := r.waitForData(ctx, "Read"); err != nil {
			return nil, err
		}
	}
	data := r.consume(min(n, len(r.buf)))
	r.maybeResume()
	return data, nil
}

// ReadExactly reads exactly n bytes (asyncio's readexactly). If the
// stream ends first, it returns an *IncompleteReadError with the bytes
// there were, and the buffer is emptied. Cancelled while waiting, it
// leaves every byte in the buffer.
func (r *StreamReader) ReadExactly(ctx context.Context, n int) ([]byte, error) {
	if n < 0 {
		return nil, ErrNegativeCount
	}
	if r.err != nil {
		return nil, r.err
	}
	if n == 0 {
		return []byte{}, nil
	}
	for len(r.buf) < n {
		if r.eof {
			return nil, &IncompleteReadError{Partial: r.consume(len(r.buf)), Expected: n}
		}
		if err := r.waitForData(ctx, "ReadExactly"); err != nil {
			return nil, err
		}
	}
	data := r.consume(n)
	r.maybeResume()
	return data, nil
}

// Lines iterates over the stream's lines, as ReadLine reads them, until
// the end of the stream (asyncio's async for over a reader). An error
// ends the iteration after being yielded.
func (r *StreamReader) Lines(ctx context.Context) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		for {
			line, err := r.ReadLine(ctx)
			if err != nil {
				yield(nil, err)
				return
			}
			if len(line) == 0 {
				return
			}
			if !yield(line, nil) {
				return
			}
		}
	}
}

// StreamReaderProtocol adapts a Protocol's callbacks to a StreamReader
// and a StreamWriter (asyncio.StreamReaderProtocol). OpenConnection and
// StartServer use it; use it directly to make streams over a transport of
// your own.
type StreamReaderProtocol struct {
	loop        *Loop
	reader      *StreamReader
	writer      *StreamWriter
	transport   Transport
	onConnected func(ctx context.Context, r *StreamReader, w *StreamWriter) error
	ctx         context.Context
	closed      *Future[struct{}]
	overSSL     bool

	// flow control (asyncio's FlowControlMixin)
	paused      bool
	drainWait   []*Future[struct{}]
	lost        bool
	drainClosed bool
}

// NewStreamReaderProtocol returns the protocol feeding reader. If
// onConnected is not nil, each connection makes a StreamWriter and runs
// onConnected(reader, writer) as a task with ctx's values (a server's
// client callback); an error it returns goes to the exception handler and
// closes the transport.
func NewStreamReaderProtocol(ctx context.Context, reader *StreamReader, onConnected func(ctx context.Context, r *StreamReader, w *StreamWriter) error) *StreamReaderProtocol {
	l := reader.loop
	return &StreamReaderProtocol{loop: l, reader: reader, onConnected: onConnected, ctx: ctx, closed: NewFuture[struct{}](l)}
}

func (p *StreamReaderProtocol) ConnectionMade(t Transport) {
	p.transport = t
	p.reader.SetTransport(t)
	p.overSSL = t.GetExtraInfo("sslcontext") != nil
	if p.onConnected != nil {
		p.writer = &StreamWriter{transport: t, protocol: p, reader: p.reader, loop: p.loop}
		w, r := p.writer, p.reader
		task := CreateTask(p.ctx, func(ctx context.Context) (struct{}, error) {
			return struct{}{}, p.onConnected(ctx, r, w)
		})
		task.AddDoneCallback(func(context.Context) {
			if task.Cancelled() {
				return
			}
			if err := task.Exception(); err != nil {
				p.loop.CallExceptionHandler(ExceptionContext{Message: "Unhandled exception in client_connected_cb",
					Err: err, Extra: map[string]any{"transport": t}})
				t.Close()
			}
		})
	}
}

func (p *StreamReaderProtocol) ConnectionLost(err error) {
	if err == nil {
		p.reader.FeedEOF()
	} else {
		p.reader.SetException(err)
	}
	if !p.closed.Done() {
		if err == nil {
			p.closed.SetResult(struct{}{})
		} else {
			p.closed.SetException(err)
			p.closed.Exception() // retrieved: WaitClosed is optional
		}
	}
	p.lost = true
	if p.paused {
		for _, w := range p.drainWait {
			if !w.Done() {
				if err == nil {
					w.SetResult(struct{}{})
				} else {
					w.SetException(err)
				}
			}
		}
	}
}

func (p *StreamReaderProtocol) DataReceived(data []byte) { p.reader.FeedData(data) }

func (p *StreamReaderProtocol) EOFReceived() bool {
	p.reader.FeedEOF()
	return !p.overSSL
}

func (p *StreamReaderProtocol) PauseWriting() { p.paused = true }

func (p *StreamReaderProtocol) ResumeWriting() {
	p.paused = false
	for _, w := range p.drainWait {
		if !w.Done() {
			w.SetResult(struct{}{})
		}
	}
}

func (p *StreamReaderProtocol) drainHelper(ctx context.Context) error {
	if p.lost {
		return ErrConnectionLost
	}
	if !p.paused {
		return nil
	}
	w := NewFuture[struct{}](p.loop)
	p.drainWait = append(p.drainWait, w)
	_, err := Await(ctx, w)
	for i, x := range p.drainWait {
		if x == w {
			p.drainWait = append(p.drainWait[:i], p.drainWait[i+1:]...)
			break
		}
	}
	return err
}

// A StreamWriter writes to a connection's transport, with Drain for
// backpressure (asyncio.StreamWriter). Loop-confined.
type StreamWriter struct {
	transport Transport
	protocol  *StreamReaderProtocol
	reader    *StreamReader
	loop      *Loop
}

// NewStreamWriter returns a writer over t whose flow control p reports.
func NewStreamWriter(t Transport, p *StreamReaderProtocol, r *StreamReader) *StreamWriter {
	return &StreamWriter{transport: t, protocol: p, reader: r, loop: p.loop}
}

// String describes the writer as asyncio's StreamWriter repr does: its
// transport, and its reader if it has one:
//
//	<StreamWriter transport=<…> reader=<StreamReader …>>
func (w *StreamWriter) String() string {
	s := "<StreamWriter transport=" + describeTransport(w.transport)
	if w.reader != nil {
		s += " reader=" + w.reader.String()
	}
	return s + ">"
}

// Transport returns the underlying transport.
func (w *StreamWriter) Transport() Transport { return w.transport }

// Write queues data without blocking (Transport.Write); follow with
// Drain to respect backpressure.
func (w *StreamWriter) Write(data []byte) error { return w.transport.Write(data) }

// WriteLines writes each of lines (Transport.WriteLines).
func (w *StreamWriter) WriteLines(lines [][]byte) error { return w.transport.WriteLines(lines) }

// WriteEOF closes the write side once the buffer is sent.
func (w *StreamWriter) WriteEOF() error { return w.transport.WriteEOF() }

// CanWriteEOF reports whether WriteEOF is supported.
func (w *StreamWriter) CanWriteEOF() bool { return w.transport.CanWriteEOF() }

// Close closes the transport (buffered data is sent first); WaitClosed
// waits for the end.
func (w *StreamWriter) Close() { w.transport.Close() }

// IsClosing reports whether the transport is closing.
func (w *StreamWriter) IsClosing() bool { return w.transport.IsClosing() }

// GetExtraInfo is the transport's GetExtraInfo.
func (w *StreamWriter) GetExtraInfo(name string) any { return w.transport.GetExtraInfo(name) }

// WaitClosed waits until the connection is closed and returns the error
// it was lost with, if any. A coroutine.
func (w *StreamWriter) WaitClosed(ctx context.Context) error {
	_, err := Await(ctx, w.protocol.closed)
	return err
}

// Drain waits until the transport's write buffer is back to its
// low-water mark, if it went over its high-water mark (asyncio's drain):
// call it after writes to keep memory bounded. It returns the reader's
// error if the connection failed, ErrConnectionLost once it is lost.
// Cancelled, it returns the CancelledError; the data stays queued.
// A coroutine.
func (w *StreamWriter) Drain(ctx context.Context) error {
	if w.reader != nil {
		if err := w.reader.Exception(); err != nil {
			return err
		}
	}
	if w.transport.IsClosing() {
		// Let the connection-lost callback run first.
		if err := Sleep(ctx, 0); err != nil {
			return err
		}
	}
	return w.protocol.drainHelper(ctx)
}

// OpenConnection connects to host:port and returns a reader and a writer
// for the connection (asyncio.open_connection). A coroutine; errors as
// CreateConnection's.
func OpenConnection(ctx context.Context, host string, port int, opts *ConnectOptions) (*StreamReader, *StreamWriter, error) {
	l, err := GetRunningLoop(ctx)
	if err != nil {
		return nil, nil, err
	}
	limit := 0
	if opts != nil {
		limit = opts.Limit
	}
	r := NewStreamReader(l, limit)
	p := NewStreamReaderProtocol(ctx, r, nil)
	t, _, err := CreateConnection(ctx, func() *StreamReaderProtocol { return p }, host, port, opts)
	if err != nil {
		return nil, nil, err
	}
	return r, NewStreamWriter(t, p, r), nil
}

// OpenUnixConnection connects to the Unix socket at path
// (asyncio.open_unix_connection); as OpenConnection. Of opts, Limit, TLS
// and TLSOptions apply; errors as CreateUnixConnection's.
func OpenUnixConnection(ctx context.Context, path string, opts *ConnectOptions) (*StreamReader, *StreamWriter, error) {
	l, err := GetRunningLoop(ctx)
	if err != nil {
		return nil, nil, err
	}
	limit := 0
	if opts != nil {
		limit = opts.Limit
	}
	r := NewStreamReader(l, limit)
	p := NewStreamReaderProtocol(ctx, r, nil)
	t, _, err := CreateUnixConnection(ctx, func() *StreamReaderProtocol { return p }, path, opts)
	if err != nil {
		return nil, nil, err
	}
	return r, NewStreamWriter(t, p, r), nil
}

// StartServer starts a TCP server that runs onConnected(reader, writer)
// as a task for each connection (asyncio.start_server). An error returned
// by onConnected goes to the loop's exception handler and closes the
// connection. A coroutine; as CreateServer.
func StartServer(ctx context.Context, onConnected func(ctx context.Context, r *StreamReader, w *StreamWriter) error, host string, port int, opts *ServerOptions) (*Server, error) {
	l, err := GetRunningLoop(ctx)
	if err != nil {
		return nil, err
	}
	limit := 0
	if opts != nil {
		limit = opts.Limit
	}
	return CreateServer(ctx, func() *StreamReaderProtocol {
		return NewStreamReaderProtocol(ctx, NewStreamReader(l, limit), onConnected)
	}, host, port, opts)
}

// StartUnixServer is StartServer on the Unix socket path
// (asyncio.start_unix_server).
func StartUnixServer(ctx context.Context, onConnected func(ctx context.Context, r *StreamReader, w *StreamWriter) error, path string, opts *ServerOptions) (*Server, error) {
	l, err := GetRunningLoop(ctx)
	if err != nil {
		return nil, err
	}
	limit := 0
	if opts != nil {
		limit = opts.Limit
	}
	return CreateUnixServer(ctx, func() *StreamReaderProtocol {
		return NewStreamReaderProtocol(ctx, NewStreamReader(l, limit), onConnected)
	}, path, opts)
}
