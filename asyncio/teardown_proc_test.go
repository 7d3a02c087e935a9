//go:build unix

package asyncio_test

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/internal/sigclaim"
)

// Teardown: an OpenLoop block exiting with running children, open pipes,
// datagram endpoints and signal handlers leaves no fd, goroutine,
// process, zombie or handler behind.
func TestTeardown_proc_leaves_nothing(t *testing.T) {
	noChildren(t)
	// os/signal's own goroutine starts with the first Notify and lives as
	// long as the process: start it before counting.
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	signal.Stop(ch)
	runtime.GC()
	fds0, gs0 := openFds(t), runtime.NumGoroutine()
	dir := t.TempDir()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	err = asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			for i := 0; i < 3; i++ {
				if _, err := asyncio.CreateSubprocessExec(ctx, pipes, "sleep", "3600"); err != nil {
					return 0, err
				}
			}
			if _, err := asyncio.CreateSubprocessShell(ctx, nil, "exec sleep 3600"); err != nil {
				return 0, err
			}
			if _, _, err := asyncio.ConnectReadPipe(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, r); err != nil {
				return 0, err
			}
			wt, _, err := asyncio.ConnectWritePipe(ctx, func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }, w)
			if err != nil {
				return 0, err
			}
			wt.Write(make([]byte, 1<<20))
			f := func() *asyncio.ProtocolBase { return &asyncio.ProtocolBase{} }
			if _, _, err := asyncio.CreateDatagramEndpoint(ctx, f, &asyncio.DatagramOptions{LocalAddr: "127.0.0.1:0"}); err != nil {
				return 0, err
			}
			if _, _, err := asyncio.CreateDatagramEndpoint(ctx, f, &asyncio.DatagramOptions{Network: "unixgram", LocalAddr: filepath.Join(dir, "d")}); err != nil {
				return 0, err
			}
			for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGHUP} {
				if err := loop.AddSignalHandler(sig, func(context.Context) {}); err != nil {
					return 0, err
				}
			}
			return 0, nil
		})
		if n := len(children(t)); n != 4 {
			t.Errorf("%d children running, want 4", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if c := children(t); len(c) != 0 {
		t.Errorf("children left: %v", c)
	}
	waitGoroutines(t, gs0)
	if fds := openFds(t); fds != fds0 {
		t.Errorf("fds %d before, %d after", fds0, fds)
	}
	for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGHUP} {
		if sigclaim.Claimed(sig) {
			t.Errorf("a handler for %v is left", sig)
		}
	}
}
