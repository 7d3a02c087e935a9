//go:build unix

package asyncio_test

import (
	"context"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// The loop's I/O calls are loop-confined like CallSoon: made from trio
// code (or any goroutine) while the loop waits for work, they panic naming
// the fix, instead of racing with the loop or going unseen.
func TestNewcomer_io_calls_from_trio_code_panic(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	p := [2]int{int(r.Fd()), int(w.Fd())}
	err = watchdog(t, "OpenLoop", func() error {
		return asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
			loop.Synchronize(ctx) // the loop is now waiting for work
			noop := func(context.Context) {}
			for name, call := range map[string]func(){
				"Loop.AddReader":           func() { loop.AddReader(p[0], noop) },
				"Loop.AddWriter":           func() { loop.AddWriter(p[1], noop) },
				"Loop.RemoveReader":        func() { loop.RemoveReader(p[0]) },
				"Loop.RemoveWriter":        func() { loop.RemoveWriter(p[1]) },
				"Loop.AddSignalHandler":    func() { loop.AddSignalHandler(syscall.SIGUSR2, noop) },
				"Loop.RemoveSignalHandler": func() { loop.RemoveSignalHandler(syscall.SIGUSR2) },
			} {
				msg := mustPanic(t, call)
				if want := name + " called from outside its loop"; !strings.Contains(msg, want) {
					t.Errorf("%s from trio code: got %q, want it to contain %q", name, msg, want)
				}
			}
			// The right way works.
			if _, err := asyncio.RunSync(ctx, func(context.Context) (struct{}, error) {
				if err := loop.AddReader(p[0], noop); err != nil {
					return struct{}{}, err
				}
				_, err := loop.RemoveReader(p[0])
				return struct{}{}, err
			}); err != nil {
				t.Errorf("AddReader/RemoveReader inside RunSync: %v", err)
			}
			return nil
		})
	})
	if err != nil {
		t.Errorf("OpenLoop: got %v, want nil", err)
	}
}

// A transport's methods are loop-confined too: a Write or Close made from
// trio code while the loop waits for work panics naming the fix, instead
// of racing with the loop's own use of the transport.
func TestNewcomer_transport_calls_from_trio_code_panic(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	err = watchdog(t, "OpenLoop", func() error {
		return asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
			tr, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (asyncio.Transport, error) {
				tr, _, err := asyncio.CreateConnection(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, "127.0.0.1", port, nil)
				return tr, err
			})
			if err != nil {
				return err
			}
			c, err := ln.Accept()
			if err != nil {
				return err
			}
			defer c.Close()
			loop.Synchronize(ctx) // the loop is now waiting for work
			for name, call := range map[string]func(){
				"Transport.Write":         func() { tr.Write([]byte("x")) },
				"Transport.WriteEOF":      func() { tr.WriteEOF() },
				"Transport.PauseReading":  func() { tr.PauseReading() },
				"Transport.ResumeReading": func() { tr.ResumeReading() },
				"Transport.Close":         func() { tr.Close() },
				"Transport.Abort":         func() { tr.Abort() },
			} {
				msg := mustPanic(t, call)
				if want := name + " called from outside its loop"; !strings.Contains(msg, want) {
					t.Errorf("%s from trio code: got %q, want it to contain %q", name, msg, want)
				}
			}
			// The right way works.
			_, err = asyncio.RunSync(ctx, func(context.Context) (struct{}, error) {
				defer tr.Close()
				return struct{}{}, tr.Write([]byte("x"))
			})
			return err
		})
	})
	if err != nil {
		t.Errorf("OpenLoop: got %v, want nil", err)
	}
}
