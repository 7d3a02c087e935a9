//go:build linux

package asyncio_test

import (
	"context"
	"strings"
	"syscall"
	"testing"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// The loop's I/O calls are loop-confined like CallSoon: made from trio
// code (or any goroutine) while the loop waits for work, they panic naming
// the fix, instead of racing with the loop or going unseen.
func TestNewcomer_io_calls_from_trio_code_panic(t *testing.T) {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(p[0])
	defer syscall.Close(p[1])
	err := watchdog(t, "OpenLoop", func() error {
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
