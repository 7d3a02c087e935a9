//go:build unix

package asyncio_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"

	"github.com/trioasyncio/trioasyncio/asyncio"
)

// countProto echoes and counts the connections open at once.
type countProto struct {
	asyncio.ProtocolBase
	t    asyncio.Transport
	open *int
	max  *int
}

func (p *countProto) ConnectionMade(t asyncio.Transport) {
	p.t = t
	*p.open++
	*p.max = max(*p.max, *p.open)
}
func (p *countProto) DataReceived(b []byte) { p.t.Write(b) }
func (p *countProto) ConnectionLost(error)  { *p.open-- }

const scaleConns = 10000

// TestScale_helper is the client side of TestScale_10000_connections, run
// in a child process (each process has its own fd limit): it opens
// scaleConns connections, has each echo a message, prints "ok" with all of
// them open, and closes them when its stdin ends.
func TestScale_helper(t *testing.T) {
	addr := os.Getenv("ASYNCIO_SCALE_ADDR")
	if addr == "" {
		t.Skip("helper process only")
	}
	conns := make([]net.Conn, scaleConns)
	var wg sync.WaitGroup
	errs := make(chan error, scaleConns)
	sem := make(chan struct{}, 200)
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			conns[i] = c
			c.Write([]byte("ping"))
			b := make([]byte, 4)
			if _, err := io.ReadFull(c, b); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		fmt.Println("error:", err)
		return
	}
	fmt.Println("ok")
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
}

// 10,000 concurrent connections on one loop: a child process connects
// them all, each echoes a message, and all are open at once.
func TestScale_10000_connections(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < scaleConns+500 {
		lim.Cur = max(lim.Cur, scaleConns+500)
		if lim.Max < lim.Cur {
			t.Skipf("the fd limit (%d) is below %d", lim.Max, scaleConns+500)
		}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Skipf("cannot raise the fd limit: %v", err)
		}
	}
	maxOpen := 0
	_, err := runMain(t, func(ctx context.Context) (int, error) {
		open := 0
		srv, err := asyncio.CreateServer(ctx, func() *countProto { return &countProto{open: &open, max: &maxOpen} }, "127.0.0.1", 0,
			&asyncio.ServerOptions{Backlog: 4096})
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		addr := srv.Sockets()[0].String()
		_, err = asyncio.Await(ctx, asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestScale_helper$", "-test.v")
			cmd.Env = append(os.Environ(), "ASYNCIO_SCALE_ADDR="+addr)
			stdin, _ := cmd.StdinPipe()
			stdout, _ := cmd.StdoutPipe()
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				return 0, err
			}
			sc := bufio.NewScanner(stdout)
			result := ""
			for sc.Scan() {
				line := sc.Text()
				if line == "ok" || len(line) > 6 && line[:6] == "error:" {
					result = line
					break
				}
			}
			stdin.Close()
			io.Copy(io.Discard, stdout) // the child exits once its stdin ends
			werr := cmd.Wait()
			if result != "ok" {
				return 0, fmt.Errorf("helper: %q, %v", result, werr)
			}
			return 0, nil
		}))
		return 0, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if maxOpen != scaleConns {
		t.Fatalf("at most %d connections open at once, want %d", maxOpen, scaleConns)
	}
}
