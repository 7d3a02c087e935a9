//go:build unix

package asyncio_test

import (
	"context"
	"net"
	"os"
	"testing"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// test_server.py (3.13): test_unix_server_cleanup_replaced: the socket
// file replaced by someone else's socket, Close leaves that one alone.
func TestServer_test_unix_server_cleanup_replaced(t *testing.T) {
	path := t.TempDir() + "/srv"
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		srv, err := asyncio.StartUnixServer(ctx, func(context.Context, *asyncio.StreamReader, *asyncio.StreamWriter) error { return nil }, path, nil)
		if err != nil {
			return 0, err
		}
		os.Remove(path)
		other, err := net.Listen("unix", path)
		if err != nil {
			return 0, err
		}
		defer other.Close()
		srv.Close()
		if _, err := os.Stat(path); err != nil {
			t.Errorf("someone else's socket file after Close: %v, want it kept", err)
		}
		return 0, srv.WaitClosed(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
}
