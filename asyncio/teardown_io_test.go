//go:build unix

package asyncio_test

import (
	"context"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

func openFds(t *testing.T) int {
	dir := "/proc/self/fd"
	if runtime.GOOS == "darwin" {
		dir = "/dev/fd" // macOS lists every open fd there
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Skipf("no %s", dir)
	}
	return len(ents)
}

// Teardown: an OpenLoop block exiting with open connections, a serving
// server, a Unix server, a reader, a writer and a pending accept leaves
// no fd, goroutine or callback behind.
func TestTeardown_io_leaves_no_fd_or_goroutine(t *testing.T) {
	a, b := socketpair(t) // the test's own: watched, not closed by the loop
	ext, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ext.Close()
	runtime.GC()
	fds0, gs0 := openFds(t), runtime.NumGoroutine()
	ran := make(chan string, 100)
	err = asyncio.OpenLoop(context.Background(), func(ctx context.Context, loop *asyncio.Loop) error {
		_, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			srv, err := asyncio.CreateServer(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", 0, nil)
			if err != nil {
				return 0, err
			}
			if _, err := asyncio.CreateUnixServer(ctx, func() *echoProto { return &echoProto{} }, t.TempDir()+"/s", nil); err != nil {
				return 0, err
			}
			for i := 0; i < 5; i++ {
				tr, _, err := asyncio.CreateConnection(ctx, func() *echoProto { return &echoProto{} }, "127.0.0.1", mustAddr(t, srv).Port, nil)
				if err != nil {
					return 0, err
				}
				tr.SetWriteBufferLimits(1<<30, -1)
				tr.Write(make([]byte, 4<<20)) // a buffer still pending at the end
			}
			loop.AddReader(rawFd(a), func(context.Context) { ran <- "reader" })
			loop.AddWriter(rawFd(b), func(context.Context) {})
			// an accept still waiting when the block ends
			asyncio.CreateTask(ctx, func(ctx context.Context) (int, error) {
				_, _, err := asyncio.SockAccept(ctx, ext.(*net.TCPListener))
				return 0, err
			})
			asyncio.Sleep(ctx, 10*time.Millisecond)
			return 0, nil
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	b.Write([]byte("after")) // the reader must not run any more
	deadline := time.Now().Add(5 * time.Second)
	for {
		fds, gs := openFds(t), runtime.NumGoroutine()
		if fds == fds0 && gs <= gs0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after OpenLoop: %d fds (before %d), %d goroutines (before %d)", fds, fds0, gs, gs0)
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case <-ran:
		// the reader ran while the loop was open: fine; none after
	default:
	}
	time.Sleep(10 * time.Millisecond)
	if len(ran) > 1 {
		t.Errorf("reader ran %d times", len(ran))
	}
}
