package asyncio

// White-box tests of the TLS transport's delivery of plaintext that
// arrived while reading was paused.

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

// pausableRaw stands for the socket transport under a TLS transport: only
// pausing and resuming are used here.
type pausableRaw struct{ Transport }

func (pausableRaw) PauseReading()  {}
func (pausableRaw) ResumeReading() {}
func (pausableRaw) Abort()         {}

// orderProto records what it receives, and pauses its transport when it
// receives pauseOn.
type orderProto struct {
	ProtocolBase
	tr      Transport
	got     []string
	pauseOn string
	eofs    int
}

func (o *orderProto) DataReceived(b []byte) {
	o.got = append(o.got, string(b))
	if string(b) == o.pauseOn {
		o.tr.PauseReading()
	}
}

func (o *orderProto) EOFReceived() bool {
	o.eofs++
	return false
}

func newOpenSSLProtocol(t *testing.T, loop *Loop, app *orderProto) *sslProtocol {
	t.Helper()
	p := &sslProtocol{loop: loop, raw: pausableRaw{}, state: 1, appMade: true}
	if err := p.setApp(app); err != nil {
		t.Fatal(err)
	}
	p.wcond.L = &p.wmu
	app.tr = p
	return p
}

// Plaintext decrypted while reading was paused is delivered before
// plaintext decrypted later, even when the later chunk reaches the loop
// in the same iteration as ResumeReading (the reader goroutine posted it
// before the resume).
func TestSSLProto_resume_keeps_order(t *testing.T) {
	err := OpenLoop(context.Background(), func(ctx context.Context, loop *Loop) error {
		app := &orderProto{}
		var p *sslProtocol
		onLoopInternal(loop, func(context.Context) {
			p = newOpenSSLProtocol(t, loop, app)
			p.PauseReading()
			p.plainReceived([]byte("a"))
			p.plainReceived([]byte("b"))
			p.ResumeReading()
			p.plainReceived([]byte("c")) // posted before the resume, run after it
		})
		onLoopInternal(loop, func(context.Context) {
			if got := strings.Join(app.got, ""); got != "abc" {
				t.Errorf("delivered %q, want \"abc\"", got)
			}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A protocol that pauses reading again while the held plaintext is
// delivered gets the rest, and then the end of stream, only after it
// resumes, all in order.
func TestSSLProto_pause_during_resume_delivery(t *testing.T) {
	err := OpenLoop(context.Background(), func(ctx context.Context, loop *Loop) error {
		app := &orderProto{pauseOn: "b"}
		var p *sslProtocol
		onLoopInternal(loop, func(context.Context) {
			p = newOpenSSLProtocol(t, loop, app)
			p.PauseReading()
			p.plainReceived([]byte("a"))
			p.plainReceived([]byte("b"))
			p.plainReceived([]byte("c"))
			p.ResumeReading()
			p.plainReceived([]byte("d"))
		})
		onLoopInternal(loop, func(context.Context) {
			if got := strings.Join(app.got, ""); got != "ab" {
				t.Errorf("delivered %q before the second resume, want \"ab\"", got)
			}
			p.readEnded(io.EOF)
			if app.eofs != 0 {
				t.Error("end of stream delivered while reading is paused")
			}
			p.ResumeReading()
		})
		onLoopInternal(loop, func(context.Context) {
			if got := strings.Join(app.got, ""); got != "abcd" {
				t.Errorf("delivered %q, want \"abcd\"", got)
			}
			if app.eofs != 1 {
				t.Errorf("EOFReceived called %d times, want 1", app.eofs)
			}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A read error that arrives while reading is paused is reported as that
// error once reading resumes, not as an end of stream.
func TestSSLProto_paused_read_error(t *testing.T) {
	boom := errors.New("boom")
	var reported []error
	err := OpenLoop(context.Background(), func(ctx context.Context, loop *Loop) error {
		app := &orderProto{}
		onLoopInternal(loop, func(context.Context) {
			loop.SetExceptionHandler(func(_ *Loop, c ExceptionContext) { reported = append(reported, c.Err) })
			p := newOpenSSLProtocol(t, loop, app)
			p.PauseReading()
			p.plainReceived([]byte("a"))
			p.readEnded(boom)
			p.ResumeReading()
		})
		onLoopInternal(loop, func(context.Context) {
			if got := strings.Join(app.got, ""); got != "a" {
				t.Errorf("delivered %q, want \"a\"", got)
			}
			if app.eofs != 0 {
				t.Error("a read error was delivered as an end of stream")
			}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(reported) != 1 || !errors.Is(reported[0], boom) {
		t.Errorf("exception handler got %v, want [boom]", reported)
	}
}
