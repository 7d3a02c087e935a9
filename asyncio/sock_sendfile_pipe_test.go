//go:build unix

package asyncio_test

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// SockSendfile from a pipe, which sendfile(2) cannot read from an offset:
// what the pipe gives is read and sent (asyncio falls back the same way),
// to its end or up to count; an offset is refused.
func TestSendfile_sock_sendfile_from_a_pipe(t *testing.T) {
	for _, count := range []int64{0, 5} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("hello, pipe"))
		w.Close()
		addr, got := sockSendfileSink(t)
		sock := newSock(t, syscall.AF_INET, syscall.SOCK_STREAM)
		n, err := runMain(t, func(ctx context.Context) (int64, error) {
			if err := asyncio.SockConnect(ctx, sock, addr); err != nil {
				return 0, err
			}
			if _, err := asyncio.SockSendfile(ctx, sock, r, 3, 0); !errors.Is(err, syscall.ESPIPE) {
				t.Errorf("SockSendfile from offset 3 of a pipe: got %v, want ESPIPE", err)
			}
			return asyncio.SockSendfile(ctx, sock, r, 0, count)
		})
		sock.Close()
		b := <-got
		r.Close()
		want := "hello, pipe"
		if count > 0 {
			want = want[:count]
		}
		if err != nil || n != int64(len(want)) || string(b) != want {
			t.Errorf("count %d: SockSendfile = %d, %v, peer got %q; want %d, nil, %q", count, n, err, b, len(want), want)
		}
	}
}
