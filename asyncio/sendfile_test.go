//go:build unix

package asyncio_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// collectProto collects what a server connection receives.
type collectProto struct {
	asyncio.ProtocolBase
	buf  bytes.Buffer
	done *asyncio.Future[struct{}]
}

func (p *collectProto) DataReceived(b []byte) { p.buf.Write(b) }
func (p *collectProto) ConnectionLost(error)  { p.done.SetResult(struct{}{}) }

func sendfileData(t *testing.T, n int) (*os.File, []byte) {
	data := make([]byte, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	path := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, data
}

// sendfileOver connects a client to a sink server, runs send on the
// client's transport, closes it and returns what the server received.
func sendfileOver(t *testing.T, send func(ctx context.Context, tr asyncio.Transport) error) []byte {
	got, err := runProcLoop(t, func(ctx context.Context) ([]byte, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		sink := &collectProto{done: asyncio.NewFuture[struct{}](l)}
		srv, err := asyncio.CreateServer(ctx, func() *collectProto { return sink }, "127.0.0.1", 0, nil)
		if err != nil {
			return nil, err
		}
		tr, _, err := asyncio.CreateConnection(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, "127.0.0.1", mustAddr(t, srv).Port, nil)
		if err != nil {
			return nil, err
		}
		if err := send(ctx, tr); err != nil {
			return nil, err
		}
		tr.Close()
		if _, err := asyncio.Await(ctx, sink.done); err != nil {
			return nil, err
		}
		srv.Close()
		return sink.buf.Bytes(), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestSendfile_test_sendfile(t *testing.T) {
	if !asyncio.HaveSendfile {
		t.Skip("no sendfile(2) on this system")
	}
	f, data := sendfileData(t, 8<<20)
	got := sendfileOver(t, func(ctx context.Context, tr asyncio.Transport) error {
		tr.Write([]byte("head:")) // buffered data goes first
		n, err := asyncio.Sendfile(ctx, tr, f, 0, 0, false)
		if err != nil || n != int64(len(data)) {
			t.Errorf("Sendfile %d, %v", n, err)
		}
		if pos, _ := f.Seek(0, io.SeekCurrent); pos != int64(len(data)) {
			t.Errorf("file position %d", pos)
		}
		return tr.Write([]byte(":tail"))
	})
	want := append(append([]byte("head:"), data...), ":tail"...)
	if !bytes.Equal(got, want) {
		t.Fatalf("received %d bytes, want %d (equal prefix: %v)", len(got), len(want), bytes.HasPrefix(want, got))
	}
}

func TestSendfile_test_sendfile_partial_offset_count(t *testing.T) {
	if !asyncio.HaveSendfile {
		t.Skip("no sendfile(2) on this system")
	}
	f, data := sendfileData(t, 1<<20)
	got := sendfileOver(t, func(ctx context.Context, tr asyncio.Transport) error {
		n, err := asyncio.Sendfile(ctx, tr, f, 1000, 100, false)
		if err != nil || n != 100 {
			t.Errorf("Sendfile %d, %v", n, err)
		}
		if pos, _ := f.Seek(0, io.SeekCurrent); pos != 1100 {
			t.Errorf("file position %d, want 1100", pos)
		}
		return nil
	})
	if !bytes.Equal(got, data[1000:1100]) {
		t.Fatalf("received %d bytes", len(got))
	}
}

func TestSendfile_test_sendfile_zero_size_and_bad_range(t *testing.T) {
	f, _ := sendfileData(t, 0)
	got := sendfileOver(t, func(ctx context.Context, tr asyncio.Transport) error {
		n, err := asyncio.Sendfile(ctx, tr, f, 0, 0, true)
		if err != nil || n != 0 {
			t.Errorf("Sendfile %d, %v", n, err)
		}
		if _, err := asyncio.Sendfile(ctx, tr, f, -1, 0, true); !errors.Is(err, asyncio.ErrSendfileRange) {
			t.Errorf("negative offset: %v", err)
		}
		if msg := mustPanic(t, func() { asyncio.Sendfile(ctx, tr, nil, 0, 0, true) }); !strings.Contains(msg, "nil file") {
			t.Errorf("Sendfile with a nil file panics with %q", msg)
		}
		return nil
	})
	if len(got) != 0 {
		t.Fatalf("received %d bytes", len(got))
	}
}

func TestSendfile_test_sendfile_force_fallback_and_not_available(t *testing.T) {
	f, data := sendfileData(t, 4<<20)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	read := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(r)
		r.Close()
		read <- b
	}()
	_, err = runProcLoop(t, func(ctx context.Context) (int, error) {
		l, _ := asyncio.GetRunningLoop(ctx)
		p := newRecProto(t, l)
		tr, _, err := asyncio.ConnectWritePipe(ctx, func() *recProto { return p }, w)
		if err != nil {
			return 0, err
		}
		if _, err := asyncio.Sendfile(ctx, tr, f, 0, 0, false); !errors.Is(err, asyncio.ErrSendfileNotAvailable) {
			t.Errorf("no fallback on a pipe: %v", err)
		}
		n, err := asyncio.Sendfile(ctx, tr, f, 0, 0, true)
		if err != nil || n != int64(len(data)) {
			t.Errorf("fallback Sendfile %d, %v", n, err)
		}
		if tr.GetProtocol() != asyncio.BaseProtocol(p) {
			t.Error("protocol not restored")
		}
		tr.Close()
		_, err = asyncio.Await(ctx, p.done)
		return 0, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := <-read; !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, want %d", len(got), len(data))
	}
}
