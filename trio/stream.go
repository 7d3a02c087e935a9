package trio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultReceiveSize is the most bytes [SocketStream.ReceiveSome] returns
// when called with maxBytes == 0 (Trio's receive_some(max_bytes=None)).
const DefaultReceiveSize = 64 << 10

// A SocketStream is a cancellable, bidirectional byte stream over a
// [net.Conn] (Trio's SocketStream): every blocking operation takes a ctx and
// returns promptly, with an error matching [ErrCancelled], when ctx is
// cancelled.
//
// All methods are safe for use by multiple goroutines, with Trio's rules:
// one goroutine may receive while another sends, but a second goroutine that
// calls ReceiveSome while a ReceiveSome is running (or SendAll/SendEOF while
// a SendAll/SendEOF is running) gets [ErrBusyResource] at once instead of
// interleaving its bytes with the first. Close may be called at any time
// from any goroutine; it interrupts the blocked operations, which then
// return [ErrClosedResource], as does every later operation.
//
// Errors: a cancellation matches [ErrCancelled] and [context.Canceled] or
// [context.DeadlineExceeded]; a failure of the connection (peer reset,
// broken pipe…) matches [ErrBrokenResource] and wraps the net error, so
// errors.Is(err, syscall.ECONNRESET) works too; the end of the peer's data
// is io.EOF (Go's convention; Trio returns b"").
//
// How cancellation works: while an operation blocks, a [context.AfterFunc]
// watches ctx; on cancellation it moves the conn's read (or write) deadline
// to the past, which makes the blocked Read (or Write) return, and the
// deadline is cleared again before the operation returns. The stream
// therefore owns the conn's deadlines: do not set them through Conn(); use
// ctx (for instance [MoveOnAfter] or [FailAfter]) instead. A conn whose
// SetReadDeadline/SetWriteDeadline fails (one that does not support
// deadlines) is closed by the cancellation instead, as the only way to
// interrupt it; the stream is then broken.
//
// Cost: no goroutine of its own. Each blocking call with a cancellable ctx
// registers one context.AfterFunc (no goroutine for standard-library or trio
// contexts) and, when ctx is actually cancelled during the call, costs two
// deadline updates.
type SocketStream struct {
	conn net.Conn

	closed    atomic.Bool // Close was called
	receiving atomic.Bool // a ReceiveSome is running: the receive side's lock
	sending   atomic.Bool // a SendAll or SendEOF is running: the send side's lock

	// guarded by receiving
	recvPending error // an error that came with the last data, for next time

	// guarded by sending
	eofSent    bool
	sendBroken error // set when a send stopped part-way

	mu     sync.Mutex
	broken error // set when a cancellation had to close the conn
}

// NewSocketStream returns a SocketStream over conn, which it takes over:
// closing the stream closes conn. For a *net.TCPConn it turns TCP_NODELAY
// on, as Trio does (it is already Go's default); errors doing so are
// ignored. It panics if conn is nil.
func NewSocketStream(conn net.Conn) *SocketStream {
	if conn == nil {
		panic("trio: NewSocketStream with a nil net.Conn")
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	return &SocketStream{conn: conn}
}

// Conn returns the underlying connection, for its addresses and socket
// options. Reading, writing, closing or setting deadlines through it
// bypasses the stream's guarantees.
func (s *SocketStream) Conn() net.Conn { return s.conn }

var (
	errBusyReceive  = fmt.Errorf("%w: another goroutine is already in ReceiveSome on this stream", ErrBusyResource)
	errBusySend     = fmt.Errorf("%w: another goroutine is already sending on this stream", ErrBusyResource)
	errSendAfterEOF = fmt.Errorf("%w: can't send data after sending EOF", ErrClosedResource)
)

// recvBufs holds DefaultReceiveSize buffers for ReceiveSome to read into.
var recvBufs = sync.Pool{New: func() any {
	b := make([]byte, DefaultReceiveSize)
	return &b
}}

// ReceiveSome waits until some data is available and returns it: at least
// one byte and at most maxBytes; maxBytes == 0 means [DefaultReceiveSize]
// (Go has no None: the zero value asks for the default). It panics if
// maxBytes is negative. At the end of the peer's data (the peer closed or sent
// EOF) it returns nil, io.EOF, and keeps doing so.
//
// If ctx is cancelled before data arrives, ReceiveSome returns the
// cancellation and nothing is lost: the stream stays usable, and the next
// ReceiveSome gets the data. A ctx already done on entry gets the
// cancellation even if data is waiting (a checkpoint, as in Trio); data that
// arrived as ctx was being cancelled is returned with a nil error.
//
// Other errors: [ErrBusyResource] if another goroutine is in ReceiveSome;
// [ErrClosedResource] after Close (or when Close interrupts it);
// [ErrBrokenResource] wrapping the conn's error when the connection failed.
//
// The returned slice is the caller's. Cost: one allocation of the returned
// length. The read goes through a pooled buffer of DefaultReceiveSize bytes
// (or a fresh one of maxBytes when maxBytes is larger), which a waiting
// ReceiveSome holds until it returns.
func (s *SocketStream) ReceiveSome(ctx context.Context, maxBytes int) ([]byte, error) {
	if maxBytes < 0 {
		panic(fmt.Sprintf("trio: SocketStream.ReceiveSome with negative maxBytes %d", maxBytes))
	}
	if maxBytes == 0 {
		maxBytes = DefaultReceiveSize
	}
	if s.closed.Load() {
		return nil, ErrClosedResource
	}
	if !s.receiving.CompareAndSwap(false, true) {
		return nil, errBusyReceive
	}
	defer s.receiving.Store(false)
	if err := cancelError(ctx); err != nil {
		return nil, err
	}
	if err := s.recvPending; err != nil {
		s.recvPending = nil
		return nil, err
	}
	if err := s.brokenErr(); err != nil {
		return nil, err
	}

	var buf []byte
	if maxBytes <= DefaultReceiveSize {
		bp := recvBufs.Get().(*[]byte)
		defer recvBufs.Put(bp)
		buf = (*bp)[:maxBytes]
	} else {
		buf = make([]byte, maxBytes)
	}
	n, err := s.read(ctx, buf)
	if n > 0 {
		if err != nil && (err == io.EOF || ctx.Err() == nil) {
			// Keep the error for the next call, as an io.Reader's caller
			// sees it after this data. (Under a cancellation, a conn error
			// will come again from the conn itself.)
			s.recvPending = s.readError(ctx, err)
		}
		if maxBytes > DefaultReceiveSize && n >= maxBytes/2 {
			// A fresh buffer, mostly filled: hand it over.
			return buf[:n:n], nil
		}
		return append([]byte(nil), buf[:n]...), nil
	}
	return nil, s.readError(ctx, err)
}

// read reads into p, interruptibly, and retries reads that return nothing.
func (s *SocketStream) read(ctx context.Context, p []byte) (int, error) {
	release := s.interruptOn(ctx, s.conn.SetReadDeadline)
	defer release()
	for empty := 0; ; empty++ {
		n, err := s.conn.Read(p)
		if n > 0 || err != nil {
			return n, err
		}
		if empty == 100 {
			return 0, io.ErrNoProgress
		}
		if err := cancelError(ctx); err != nil {
			return 0, err
		}
	}
}

func (s *SocketStream) readError(ctx context.Context, err error) error {
	if err == io.EOF && !s.closed.Load() {
		return io.EOF
	}
	return s.opError(ctx, err)
}

// SendAll sends all of b, waiting while the connection cannot take more.
// An empty b sends nothing, but the checks below still apply. The stream
// does not retain b.
//
// If ctx is cancelled before b is sent, SendAll returns the cancellation.
// If by then part of b was sent, the stream is in an unknown state (the peer
// got a prefix of b): the send side is then broken and every later SendAll
// or SendEOF returns an error matching [ErrBrokenResource]; only Close makes
// sense, as in Trio. If nothing was sent, the stream stays usable. A ctx
// already done on entry gets the cancellation and nothing is sent.
//
// Other errors: [ErrBusyResource] if another goroutine is in SendAll or
// SendEOF; [ErrClosedResource] after Close (or when Close interrupts it) and
// after SendEOF; [ErrBrokenResource] wrapping the conn's error when the
// connection failed.
//
// Cost: no allocation beyond the cancellation watch; the conn's Write is
// called once for all of b (net's conns write everything or fail).
func (s *SocketStream) SendAll(ctx context.Context, b []byte) error {
	if s.closed.Load() {
		return ErrClosedResource
	}
	if !s.sending.CompareAndSwap(false, true) {
		return errBusySend
	}
	defer s.sending.Store(false)
	if s.eofSent {
		return errSendAfterEOF
	}
	if err := cancelError(ctx); err != nil {
		return err
	}
	if err := s.sendBrokenErr(); err != nil {
		return err
	}
	if len(b) == 0 {
		return nil
	}

	sent, err := s.write(ctx, b)
	if err == nil {
		return nil
	}
	err = s.opError(ctx, err)
	if sent > 0 && !s.closed.Load() {
		s.sendBroken = fmt.Errorf("%w: an earlier SendAll stopped after sending %d of %d bytes (%v); the stream is in an unknown state",
			ErrBrokenResource, sent, len(b), err)
	}
	return err
}

// write writes all of b, interruptibly, and says how much it wrote.
func (s *SocketStream) write(ctx context.Context, b []byte) (int, error) {
	release := s.interruptOn(ctx, s.conn.SetWriteDeadline)
	defer release()
	sent := 0
	for sent < len(b) {
		n, err := s.conn.Write(b[sent:])
		sent += n
		if err != nil {
			return sent, err
		}
		if n == 0 {
			return sent, io.ErrShortWrite
		}
	}
	return sent, nil
}

// SendEOF closes the sending half of the connection (a TCP FIN): the peer's
// reads return io.EOF once it has read the data sent before, while this side
// can still receive (Trio's send_eof). It needs a conn with a CloseWrite
// method, such as *net.TCPConn, *net.UnixConn and *tls.Conn; for others it
// returns an error matching [errors.ErrUnsupported]. Calling it again does
// nothing; SendAll afterwards returns [ErrClosedResource].
//
// ctx matters for conns whose CloseWrite may block (a *tls.Conn sends an
// alert): a cancellation interrupts it and leaves the send side broken. A ctx
// already done on entry gets the cancellation. Other errors are those of
// SendAll.
func (s *SocketStream) SendEOF(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosedResource
	}
	if !s.sending.CompareAndSwap(false, true) {
		return errBusySend
	}
	defer s.sending.Store(false)
	cw, ok := s.conn.(interface{ CloseWrite() error })
	if !ok {
		return fmt.Errorf("trio: SendEOF: %T cannot half-close (it has no CloseWrite method): %w", s.conn, errors.ErrUnsupported)
	}
	if err := cancelError(ctx); err != nil {
		return err
	}
	if s.eofSent {
		return nil
	}
	if err := s.sendBrokenErr(); err != nil {
		return err
	}
	release := s.interruptOn(ctx, s.conn.SetWriteDeadline)
	err := cw.CloseWrite()
	release()
	if err != nil {
		err = s.opError(ctx, err)
		if IsCancellation(err) {
			s.sendBroken = fmt.Errorf("%w: an earlier SendEOF was interrupted; the stream is in an unknown state", ErrBrokenResource)
		}
		return err
	}
	s.eofSent = true
	return nil
}

// Close closes the stream and its conn (Trio's aclose). Blocked operations
// in other goroutines return [ErrClosedResource], as do all later ones.
// Closing does not wait for unsent data beyond what the conn itself does
// (for TCP, the kernel keeps sending what SendAll handed it). Close returns
// the conn's Close error the first time and nil afterwards.
func (s *SocketStream) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	err := s.conn.Close()
	if s.brokenErr() != nil {
		return nil // a cancellation already closed the conn
	}
	return err
}

// opError turns the error of a conn operation into the stream's.
func (s *SocketStream) opError(ctx context.Context, err error) error {
	switch {
	case s.closed.Load():
		return ErrClosedResource
	case ctx.Err() != nil:
		return cancelError(ctx)
	case IsCancellation(err):
		return err // from read's retry loop
	}
	if b := s.brokenErr(); b != nil {
		return b
	}
	if errors.Is(err, net.ErrClosed) {
		// Closed through Conn(): Trio reports EBADF the same way.
		return fmt.Errorf("%w: the conn was closed: %w", ErrClosedResource, err)
	}
	return fmt.Errorf("%w: %w", ErrBrokenResource, err)
}

func (s *SocketStream) sendBrokenErr() error {
	if s.sendBroken != nil {
		return s.sendBroken
	}
	return s.brokenErr()
}

func (s *SocketStream) brokenErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.broken
}

// aLongTimeAgo is a deadline in the past, which interrupts blocked I/O.
var aLongTimeAgo = time.Unix(1, 0)

// interruptOn arranges for ctx's cancellation to interrupt a blocking call
// on the conn by moving a deadline (set by setDeadline) to the past. Call
// the returned release once the blocking call has returned: if the
// cancellation has started, it waits for it to finish and then clears the
// deadline, so the next call starts afresh.
func (s *SocketStream) interruptOn(ctx context.Context, setDeadline func(time.Time) error) (release func()) {
	fired := false
	stop := afterFuncWait(ctx, func() {
		fired = true
		if err := setDeadline(aLongTimeAgo); err != nil {
			s.deadlineFailed(err)
		}
	})
	return func() {
		stop()
		if fired { // written before release returned: see afterFuncWait
			_ = setDeadline(time.Time{})
		}
	}
}

// deadlineFailed handles a conn that could not be interrupted by a deadline:
// closing it is the only way left to honour the cancellation.
func (s *SocketStream) deadlineFailed(err error) {
	if s.closed.Load() || errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrClosedPipe) {
		return // closed already: the blocked call fails anyway
	}
	s.mu.Lock()
	if s.broken == nil {
		s.broken = fmt.Errorf("%w: a cancellation closed the conn, which cannot set deadlines (%v)", ErrBrokenResource, err)
	}
	s.mu.Unlock()
	_ = s.conn.Close()
}

// afterFuncWait is context.AfterFunc(ctx, f) whose release, unlike the stop
// function of AfterFunc, returns only when f will not run or has returned:
// whatever f did is done (and visible to the caller) by then. A ctx that
// can never be cancelled costs nothing.
func afterFuncWait(ctx context.Context, f func()) (release func()) {
	if ctx.Done() == nil {
		return func() {}
	}
	done := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(done)
		f()
	})
	return func() {
		if !stop() {
			<-done
		}
	}
}
