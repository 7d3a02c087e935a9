package asyncio

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Errors of TLS.
var (
	// ErrTLSHandshakeTimeout is returned when the TLS handshake takes
	// longer than its timeout; the connection is aborted.
	ErrTLSHandshakeTimeout = errors.New("asyncio: TLS handshake is taking too long: aborting the connection")
	// ErrTLSWriteEOF is returned by WriteEOF on a TLS transport: TLS has
	// no half close.
	ErrTLSWriteEOF = errors.New("asyncio: TLS transports cannot write EOF")
	// ErrTLSServerHostname is returned by CreateUnixConnection and
	// OpenUnixConnection for a TLS connection with no name to check the
	// server's certificate against.
	ErrTLSServerHostname = errors.New("asyncio: a TLS connection to a Unix socket needs a server hostname (TLSOptions.ServerHostname or the config's ServerName)")
)

// Default TLS timeouts (asyncio's SSL_HANDSHAKE_TIMEOUT and
// SSL_SHUTDOWN_TIMEOUT).
const (
	defaultTLSHandshakeTimeout = 60 * time.Second
	defaultTLSShutdownTimeout  = 30 * time.Second
)

// TLS design: crypto/tls works on a net.Conn and blocks, so each TLS
// connection has two goroutines of its own, a reader (handshake, then
// decryption) and a writer (encryption, then close_notify), working on an
// in-memory net.Conn (memConn). The loop feeds memConn the ciphertext the
// socket transport receives; what crypto/tls writes to memConn is posted
// to the loop and written by the socket transport. Plaintext reaches the
// application's protocol on the loop, through CallSoonThreadsafe. The
// goroutines end when the connection ends, and at the latest when the
// loop closes (which waits for them).

// memConn is the net.Conn crypto/tls runs over. Goroutine-safe.
type memConn struct {
	mu     sync.Mutex
	cond   sync.Cond
	in     []byte
	eof    bool
	closed bool
	out    func(b []byte) error // posts ciphertext to the loop
	laddr  net.Addr
	raddr  net.Addr
}

func newMemConn(out func([]byte) error, laddr, raddr net.Addr) *memConn {
	c := &memConn{out: out, laddr: laddr, raddr: raddr}
	c.cond.L = &c.mu
	return c
}

func (c *memConn) feed(b []byte) {
	c.mu.Lock()
	c.in = append(c.in, b...)
	c.mu.Unlock()
	c.cond.Broadcast()
}

func (c *memConn) feedEOF() {
	c.mu.Lock()
	c.eof = true
	c.mu.Unlock()
	c.cond.Broadcast()
}

func (c *memConn) Read(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.in) == 0 && !c.eof && !c.closed {
		c.cond.Wait()
	}
	if c.closed {
		return 0, net.ErrClosed
	}
	if len(c.in) == 0 {
		return 0, io.EOF
	}
	n := copy(b, c.in)
	c.in = c.in[n:]
	if len(c.in) == 0 {
		c.in = nil
	}
	return n, nil
}

func (c *memConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return 0, net.ErrClosed
	}
	if err := c.out(append([]byte(nil), b...)); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (c *memConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cond.Broadcast()
	return nil
}

func (c *memConn) LocalAddr() net.Addr                { return c.laddr }
func (c *memConn) RemoteAddr() net.Addr               { return c.raddr }
func (c *memConn) SetDeadline(t time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(t time.Time) error { return nil }

// TLSOptions are the options of a TLS connection (CreateConnection's and
// CreateServer's TLS, StartTLS).
type TLSOptions struct {
	// ServerHostname is the name the server's certificate is checked
	// against (client side; default: the config's ServerName, else the
	// host connected to).
	ServerHostname string
	// HandshakeTimeout bounds the handshake (default 60 s).
	HandshakeTimeout time.Duration
	// ShutdownTimeout bounds each half of the closing handshake on Close:
	// sending close_notify, then waiting for the peer's close_notify or
	// end of stream before the connection is closed (default 30 s).
	ShutdownTimeout time.Duration
}

// sslProtocol is the protocol of the socket transport under a TLS
// connection, and the TLS transport the application's protocol sees
// (asyncio's SSLProtocol and _SSLProtocolTransport in one).
type sslProtocol struct {
	loop       *Loop
	raw        Transport
	app        BaseProtocol
	dapp       Protocol
	bapp       BufferedProtocol
	cfg        *tls.Config
	serverSide bool
	opts       TLSOptions
	waiter     *Future[struct{}]
	noMade     bool // StartTLS: the protocol is already connected

	mc   *memConn
	conn *tls.Conn
	wg   sync.WaitGroup

	// writer queue, guarded by wmu
	wmu      sync.Mutex
	wcond    sync.Cond
	wq       [][]byte
	wclose   bool // send close_notify after the queue, then stop
	wstop    bool // stop now
	goneLeft int  // goroutines still running (loop-confined)

	sendingNotify atomic.Bool // the writer is sending close_notify, all else is sent

	// loop-confined
	state       int // 0 handshaking, 1 open, 2 closing, 3 closed
	appMade     bool
	closing     bool
	readPaused  bool
	pending     [][]byte // plaintext held while reading is paused, oldest first
	pendingEnd  error    // how reading ended (io.EOF or an error), held behind pending
	wsize       int      // plaintext queued, not yet encrypted
	high, low   int
	appPaused   bool
	rawPaused   bool
	lostCalled  bool
	tlsState    tls.ConnectionState
	extraRawErr error
	owned       bool
	readDone    bool         // the reader has ended (peer's close_notify, EOF or an error)
	awaitPeer   *TimerHandle // close_notify sent: waiting for the peer's end
	allSent     bool         // close_notify and all before it were handed to the kernel
}

var _ Transport = (*sslProtocol)(nil)

// String describes the TLS transport: its state and the socket transport
// it runs over.
func (p *sslProtocol) String() string {
	state := [...]string{"handshaking", "open", "closing", "closed"}[p.state]
	if p.raw == nil {
		return "<TLS transport " + state + ">"
	}
	return fmt.Sprintf("<TLS transport %s over %s>", state, describeTransport(p.raw))
}

func newSSLProtocol(l *Loop, app BaseProtocol, cfg *tls.Config, serverSide bool, opts TLSOptions, waiter *Future[struct{}]) (*sslProtocol, error) {
	p := &sslProtocol{loop: l, cfg: cfg, serverSide: serverSide, opts: opts, waiter: waiter,
		high: defaultHighWater, low: defaultHighWater / 4}
	if p.opts.HandshakeTimeout <= 0 {
		p.opts.HandshakeTimeout = defaultTLSHandshakeTimeout
	}
	if p.opts.ShutdownTimeout <= 0 {
		p.opts.ShutdownTimeout = defaultTLSShutdownTimeout
	}
	if err := p.setApp(app); err != nil {
		return nil, err
	}
	p.wcond.L = &p.wmu
	return p, nil
}

func (p *sslProtocol) setApp(app BaseProtocol) error {
	switch a := app.(type) {
	case BufferedProtocol:
		p.bapp, p.dapp = a, nil
	case Protocol:
		p.dapp, p.bapp = a, nil
	default:
		return fmt.Errorf("%w: %T", ErrNotAProtocol, app)
	}
	p.app = app
	return nil
}

// post runs fn on the loop, from the TLS goroutines.
func (p *sslProtocol) post(fn func()) error {
	_, err := p.loop.CallSoonThreadsafe(func(context.Context) { fn() })
	return err
}

// ConnectionMade: the socket transport is there; start the handshake.
func (p *sslProtocol) ConnectionMade(raw Transport) {
	p.raw = raw
	laddr, _ := raw.GetExtraInfo("sockname").(net.Addr)
	raddr, _ := raw.GetExtraInfo("peername").(net.Addr)
	p.mc = newMemConn(func(b []byte) error {
		notify := p.sendingNotify.Load()
		return p.post(func() {
			if !p.raw.IsClosing() {
				p.raw.Write(b)
				if notify && p.raw.GetWriteBufferSize() == 0 {
					p.allSent = true
				}
			}
		})
	}, laddr, raddr)
	cfg := p.cfg
	if p.serverSide {
		p.conn = tls.Server(p.mc, cfg)
	} else {
		if p.opts.ServerHostname != "" && cfg.ServerName != p.opts.ServerHostname {
			cfg = cfg.Clone()
			cfg.ServerName = p.opts.ServerHostname
		}
		p.conn = tls.Client(p.mc, cfg)
	}
	if s, err := p.loop.ioState(); err == nil {
		s.owned[p] = struct{}{}
		p.owned = true
	}
	p.goneLeft = 2
	p.wg.Add(2)
	go p.reader()
	go p.writer()
}

func (p *sslProtocol) goroutineDone() {
	p.goneLeft--
	if p.goneLeft == 0 && p.owned {
		if s := p.loop.io; s != nil && !s.closed {
			delete(s.owned, p)
		}
		p.owned = false
	}
}

// reader is the TLS goroutine that shakes hands, then decrypts.
func (p *sslProtocol) reader() {
	defer p.wg.Done()
	defer p.post(p.goroutineDone)
	ctx, cancel := context.WithTimeout(context.Background(), p.opts.HandshakeTimeout)
	err := p.conn.HandshakeContext(ctx)
	if err != nil && ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("%w (after %v)", ErrTLSHandshakeTimeout, p.opts.HandshakeTimeout)
	}
	cancel()
	var st tls.ConnectionState
	if err == nil {
		st = p.conn.ConnectionState()
	}
	if p.post(func() { p.handshakeDone(st, err) }) != nil || err != nil {
		return
	}
	buf := make([]byte, 64*1024)
	for {
		n, err := p.conn.Read(buf)
		if n > 0 {
			data := append([]byte(nil), buf[:n]...)
			if p.post(func() { p.plainReceived(data) }) != nil {
				return
			}
		}
		if err != nil {
			if p.post(func() { p.readEnded(err) }) != nil {
				return
			}
			return
		}
	}
}

// writer is the TLS goroutine that encrypts.
func (p *sslProtocol) writer() {
	defer p.wg.Done()
	defer p.post(p.goroutineDone)
	for {
		p.wmu.Lock()
		for len(p.wq) == 0 && !p.wclose && !p.wstop {
			p.wcond.Wait()
		}
		if p.wstop {
			p.wmu.Unlock()
			return
		}
		if len(p.wq) == 0 && p.wclose {
			p.wmu.Unlock()
			done := make(chan struct{})
			p.sendingNotify.Store(true)
			go func() {
				p.conn.CloseWrite() // close_notify (waits for the handshake)
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(p.opts.ShutdownTimeout):
				p.mc.Close()
				<-done
			}
			p.post(p.shutdownDone)
			return
		}
		b := p.wq[0]
		p.wq[0] = nil
		p.wq = p.wq[1:]
		p.wmu.Unlock()
		_, err := p.conn.Write(b)
		n := len(b)
		if p.post(func() { p.plainSent(n, err) }) != nil {
			return
		}
		if err != nil {
			return
		}
	}
}

func (p *sslProtocol) stopGoroutines() {
	p.wmu.Lock()
	p.wstop = true
	p.wmu.Unlock()
	p.wcond.Broadcast()
	if p.mc != nil {
		p.mc.Close()
	}
}

// closeNow is the loop's teardown: end the goroutines and wait for them.
func (p *sslProtocol) closeNow() {
	p.stopGoroutines()
	p.wg.Wait()
	if p.raw != nil {
		if c, ok := p.raw.(ioCloser); ok {
			c.closeNow()
		}
	}
}

func (p *sslProtocol) handshakeDone(st tls.ConnectionState, err error) {
	if p.state != 0 {
		return
	}
	if err != nil {
		p.state = 3
		p.stopGoroutines()
		if p.waiter != nil && !p.waiter.Done() {
			p.waiter.SetException(err)
		}
		p.raw.Close() // sends the alert crypto/tls wrote, then closes
		return
	}
	p.state = 1
	p.tlsState = st
	p.appMade = true
	if !p.noMade {
		p.app.ConnectionMade(p)
	}
	if p.waiter != nil && !p.waiter.Done() {
		p.waiter.SetResult(struct{}{})
	}
}

func (p *sslProtocol) plainReceived(data []byte) {
	if (p.state != 1 && p.state != 2) || p.extraRawErr != nil || p.closing {
		return // after Close, what the peer sends is discarded, as in asyncio
	}
	// Plaintext still held from a pause goes first: a chunk the reader
	// posted before ResumeReading can run before the held chunks are
	// delivered.
	if p.readPaused || len(p.pending) > 0 {
		p.pending = append(p.pending, data)
		return
	}
	p.deliver(data)
}

// deliverPending delivers the plaintext held while reading was paused, in
// order, until the protocol pauses reading again; then, if nothing is
// held any more, how reading ended.
func (p *sslProtocol) deliverPending() {
	for len(p.pending) > 0 && !p.readPaused {
		if (p.state != 1 && p.state != 2) || p.extraRawErr != nil {
			p.pending = nil
			return
		}
		d := p.pending[0]
		p.pending[0] = nil
		p.pending = p.pending[1:]
		p.deliver(d)
	}
	if len(p.pending) > 0 || p.readPaused {
		return
	}
	p.pending = nil
	if err := p.pendingEnd; err != nil {
		p.pendingEnd = nil
		p.readEnded(err)
	}
}

func (p *sslProtocol) deliver(data []byte) {
	if p.bapp != nil {
		for len(data) > 0 {
			buf := p.bapp.GetBuffer(len(data))
			if len(buf) == 0 {
				// Nothing could ever be delivered: fail, as the socket
				// transports do, instead of looping.
				p.fatal(errors.New("asyncio: GetBuffer returned an empty buffer"))
				return
			}
			n := copy(buf, data)
			p.bapp.BufferUpdated(n)
			data = data[n:]
		}
		return
	}
	p.dapp.DataReceived(data)
}

func (p *sslProtocol) readEnded(err error) {
	p.readDone = true
	if p.awaitPeer != nil {
		p.awaitPeer.Cancel()
		p.awaitPeer = nil
		p.raw.Close()
		return
	}
	if p.state != 1 && p.state != 2 {
		return
	}
	if p.readPaused || len(p.pending) > 0 {
		p.pendingEnd = err
		return
	}
	if errors.Is(err, io.EOF) {
		var eof interface{ EOFReceived() bool } = p.dapp
		if p.bapp != nil {
			eof = p.bapp
		}
		eof.EOFReceived() // keeping a TLS connection open has no effect, as in asyncio
		p.Close()
		return
	}
	if errors.Is(err, net.ErrClosed) {
		return
	}
	p.fatal(err)
}

func (p *sslProtocol) fatal(err error) {
	var se *os.SyscallError
	if !errors.As(err, &se) {
		p.loop.CallExceptionHandler(ExceptionContext{Message: "Fatal error on SSL transport", Err: err,
			Extra: map[string]any{"transport": p, "protocol": p.app}})
	}
	p.extraRawErr = err
	p.stopGoroutines()
	p.raw.Abort()
}

func (p *sslProtocol) plainSent(n int, err error) {
	p.wsize -= n
	p.maybeResume()
	if err != nil && p.state < 3 {
		p.fatal(err)
	}
}

// shutdownDone: our close_notify is sent. As asyncio does, the socket is
// closed once the peer has ended its side too (its close_notify or its end
// of stream), or after the shutdown timeout: closing at once would make
// the peer's own close_notify fail to send.
func (p *sslProtocol) shutdownDone() {
	if p.raw.IsClosing() {
		return
	}
	if p.readDone || p.state == 3 {
		p.raw.Close()
		return
	}
	p.raw.ResumeReading() // the peer's close_notify must get through
	p.awaitPeer = p.loop.CallLater(p.opts.ShutdownTimeout, func(context.Context) {
		p.awaitPeer = nil
		if !p.raw.IsClosing() {
			p.raw.Close()
		}
	})
}

// DataReceived: ciphertext from the socket.
func (p *sslProtocol) DataReceived(data []byte) { p.mc.feed(data) }

// EOFReceived: the socket's end of stream; crypto/tls reports it.
func (p *sslProtocol) EOFReceived() bool {
	p.mc.feedEOF()
	return true
}

// ConnectionLost: the socket is closed.
func (p *sslProtocol) ConnectionLost(err error) {
	if err == nil {
		err = p.extraRawErr
	}
	if p.allSent && p.extraRawErr == nil {
		// Everything, close_notify included, had been handed to the
		// kernel: a peer that resets the connection instead of answering
		// with its close_notify loses this end nothing.
		err = nil
	}
	if p.awaitPeer != nil {
		p.awaitPeer.Cancel()
		p.awaitPeer = nil
	}
	p.stopGoroutines()
	wasHandshaking := p.state == 0
	p.state = 3
	if wasHandshaking && p.waiter != nil && !p.waiter.Done() {
		if err == nil {
			err = fmt.Errorf("asyncio: connection lost during the TLS handshake: %w", ErrConnectionLost)
		}
		p.waiter.SetException(err)
	}
	if p.appMade && !p.lostCalled {
		p.lostCalled = true
		p.app.ConnectionLost(err)
	}
}

func (p *sslProtocol) PauseWriting() {
	p.rawPaused = true
	p.maybePause()
}

func (p *sslProtocol) ResumeWriting() {
	p.rawPaused = false
	p.maybeResume()
}

func (p *sslProtocol) maybePause() {
	if !p.appPaused && (p.rawPaused || p.wsize > p.high) {
		p.appPaused = true
		p.app.PauseWriting()
	}
}

func (p *sslProtocol) maybeResume() {
	if p.appPaused && !p.rawPaused && p.wsize <= p.low {
		p.appPaused = false
		p.app.ResumeWriting()
	}
}

// The Transport the application sees.

func (p *sslProtocol) GetExtraInfo(name string) any {
	switch name {
	case "sslcontext":
		return p.cfg
	case "peercert":
		if len(p.tlsState.PeerCertificates) > 0 {
			return p.tlsState.PeerCertificates[0]
		}
		return nil
	case "cipher":
		if p.tlsState.CipherSuite != 0 {
			return tls.CipherSuiteName(p.tlsState.CipherSuite)
		}
		return nil
	case "ssl_object":
		return p.tlsState
	}
	if p.raw == nil {
		return nil
	}
	return p.raw.GetExtraInfo(name)
}

func (p *sslProtocol) IsClosing() bool { return p.closing || p.state == 3 }

func (p *sslProtocol) Close() {
	p.loop.confined("Transport.Close")
	if p.closing {
		return
	}
	p.closing = true
	if p.state == 3 {
		return
	}
	p.state = 2
	p.wmu.Lock()
	p.wclose = true
	p.wmu.Unlock()
	p.wcond.Broadcast()
}

func (p *sslProtocol) Abort() {
	p.loop.confined("Transport.Abort")
	p.closing = true
	p.stopGoroutines()
	if p.raw != nil {
		p.raw.Abort()
	}
}

func (p *sslProtocol) SetProtocol(bp BaseProtocol) {
	p.loop.confined("Transport.SetProtocol")
	if err := p.setApp(bp); err != nil {
		panic(err)
	}
}

func (p *sslProtocol) GetProtocol() BaseProtocol { return p.app }

func (p *sslProtocol) IsReading() bool { return !p.closing && !p.readPaused }

func (p *sslProtocol) PauseReading() {
	p.loop.confined("Transport.PauseReading")
	if p.readPaused {
		return
	}
	p.readPaused = true
	p.raw.PauseReading()
}

func (p *sslProtocol) ResumeReading() {
	p.loop.confined("Transport.ResumeReading")
	if !p.readPaused {
		return
	}
	p.readPaused = false
	if len(p.pending) > 0 || p.pendingEnd != nil {
		p.loop.CallSoon(func(context.Context) { p.deliverPending() })
	}
	p.raw.ResumeReading()
}

func (p *sslProtocol) Write(data []byte) error {
	p.loop.confined("Transport.Write")
	if p.closing || p.state >= 2 {
		return ErrTransportClosing
	}
	if len(data) == 0 {
		return nil
	}
	b := append([]byte(nil), data...)
	p.wsize += len(b)
	p.wmu.Lock()
	p.wq = append(p.wq, b)
	p.wmu.Unlock()
	p.wcond.Signal()
	p.maybePause()
	return nil
}

func (p *sslProtocol) WriteLines(lines [][]byte) error {
	p.loop.confined("Transport.WriteLines")
	for _, l := range lines {
		if err := p.Write(l); err != nil {
			return err
		}
	}
	return nil
}

func (p *sslProtocol) WriteEOF() error   { return ErrTLSWriteEOF }
func (p *sslProtocol) CanWriteEOF() bool { return false }

func (p *sslProtocol) SetWriteBufferLimits(high, low int) error {
	p.loop.confined("Transport.SetWriteBufferLimits")
	h, l, err := writeBufferLimits(high, low)
	if err != nil {
		return err
	}
	p.high, p.low = h, l
	p.maybePause()
	return nil
}

func (p *sslProtocol) GetWriteBufferLimits() (low, high int) { return p.low, p.high }

func (p *sslProtocol) GetWriteBufferSize() int {
	n := p.wsize
	if p.raw != nil {
		n += p.raw.GetWriteBufferSize()
	}
	return n
}

// StartTLS upgrades the live transport t, whose protocol is p, to TLS
// and returns the TLS transport (asyncio's loop.start_tls): from then on
// p receives plaintext through the new transport, and t must not be used
// directly. t may itself be a TLS transport (TLS inside TLS). serverSide
// says which end of the handshake this is. It returns once the handshake
// is done. As in asyncio, p may be given the first plaintext as soon as
// the handshake is done, before StartTLS has returned the TLS transport to
// its caller: p must be ready for data from then on. A handshake failure
// (a bad certificate, ErrTLSHandshakeTimeout) closes the connection and is
// returned. A coroutine: call it from a task. A nil cfg is a programmer's
// error: it panics.
func StartTLS(ctx context.Context, t Transport, p BaseProtocol, cfg *tls.Config, serverSide bool, opts *TLSOptions) (Transport, error) {
	if cfg == nil {
		panic("asyncio: StartTLS needs a *tls.Config, got nil")
	}
	l, err := GetRunningLoop(ctx)
	if err != nil {
		return nil, err
	}
	o := TLSOptions{}
	if opts != nil {
		o = *opts
	}
	waiter := NewFuture[struct{}](l)
	sp, err := newSSLProtocol(l, p, cfg, serverSide, o, waiter)
	if err != nil {
		return nil, err
	}
	sp.noMade = true
	t.PauseReading()
	t.SetProtocol(sp)
	l.CallSoon(func(context.Context) { sp.ConnectionMade(t) })
	l.CallSoon(func(context.Context) { t.ResumeReading() })
	if _, err := Await(ctx, waiter); err != nil {
		t.Close()
		return nil, err
	}
	return sp, nil
}

// StartTLS upgrades the writer's connection to TLS (asyncio's
// StreamWriter.start_tls); the reader and writer go on over TLS. A
// coroutine.
func (w *StreamWriter) StartTLS(ctx context.Context, cfg *tls.Config, opts *TLSOptions) error {
	if err := w.Drain(ctx); err != nil {
		return err
	}
	serverSide := w.protocol.onConnected != nil
	t, err := StartTLS(ctx, w.transport, w.protocol, cfg, serverSide, opts)
	if err != nil {
		return err
	}
	w.transport = t
	w.protocol.transport = t
	w.protocol.overSSL = true
	if w.reader != nil {
		w.reader.SetTransport(t)
	}
	return nil
}
