package readme_test

// Each snippet of README.md stands below verbatim (its import lines
// aside), so the compiler checks it; TestSnippets checks that README.md
// and this file agree. The helpers after the first snippet are what the
// snippets assume exists.

import (
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trioasyncio/trioasyncio/asyncio"
	"github.com/trioasyncio/trioasyncio/trio"
)

// ---- README: A tour of trio (1)

func main() {
	// Run cancels ctx on SIGINT/SIGTERM and returns main's error.
	if err := trio.Run(serve); err != nil {
		log.Fatal(err)
	}
}

func serve(ctx context.Context) error {
	return trio.OpenNursery(ctx, func(ctx context.Context, n *trio.Nursery) error {
		// Children run concurrently; OpenNursery waits for all of them.
		// The first failure cancels the others and is returned.
		n.StartSoon(func(ctx context.Context) error { return crawl(ctx, "a") })
		n.StartSoon(func(ctx context.Context) error { return crawl(ctx, "b") })

		// Start waits until the child says it is ready, and hands back a value.
		addr, err := trio.Start(ctx, n, listen)
		if err != nil {
			return err
		}
		log.Println("listening on", addr)
		return nil
	})
}

func crawl(ctx context.Context, site string) error {
	// Give up on this site after 10s, but keep going: the deadline's
	// cancellation is absorbed by its own scope.
	movedOn, err := trio.MoveOnAfter(ctx, 10*time.Second, func(ctx context.Context) error {
		return fetchAll(ctx, site) // any ctx-aware code
	})
	if movedOn {
		log.Println(site, "took too long")
	}
	return err
}

// What the snippets assume.
func fetchAll(ctx context.Context, site string) error         { return trio.Checkpoint(ctx) }
func listen(ctx context.Context, started func(string)) error  { started("127.0.0.1:0"); return nil }
func work(ctx context.Context) error                          { return trio.Checkpoint(ctx) }
func flush(ctx context.Context) error                         { return nil }
func handler(ctx context.Context, s *trio.SocketStream) error { return s.Close() }

// ---- README: A tour of trio (2)

func snippetCancelScope(ctx context.Context) {
	var scope trio.CancelScope
	scope.SetDeadline(time.Now().Add(time.Second)) // movable while running, either way
	err := scope.Run(ctx, func(ctx context.Context) error {
		defer func() {
			var cleanup trio.CancelScope
			cleanup.SetShield(true) // immune to the outside, keeps its own deadline
			cleanup.Run(ctx, flush)
		}()
		return work(ctx)
	})
	// err is nil if the deadline (or scope.Cancel(), from any goroutine) ended
	// work: the scope absorbed its own cancellation. scope.CancelledCaught() says so.
	_ = err
}

// ---- README: A tour of trio (3)

func snippetChannels(ctx context.Context, n *trio.Nursery, port int) {
	tx, rx := trio.OpenMemoryChannel[string](0) // 0: a rendezvous
	n.StartSoon(func(ctx context.Context) error {
		defer tx.Close() // the last sender's Close ends the receivers' loops
		return tx.Send(ctx, "job")
	})
	for job, err := range rx.All(ctx) {
		fmt.Println(job, err)
	}

	listeners, err := trio.Start(ctx, n, func(ctx context.Context, started func([]net.Listener)) error {
		return trio.ServeTCP(ctx, handler, "127.0.0.1", 0, started) // a handler per connection
	})
	s, err := trio.OpenTCPStream(ctx, "127.0.0.1", port)
	data, err := s.ReceiveSome(ctx, 0) // cancelled with ctx; the stream stays usable
	_, _, _ = listeners, data, err
}

// ---- README: A tour of asyncio

func snippetLoop(ctx context.Context) {
	err := asyncio.OpenLoop(ctx, func(ctx context.Context, loop *asyncio.Loop) error {
		// trio code runs a coroutine as an asyncio task and gets its result.
		n, err := asyncio.RunAsyncio(ctx, func(ctx context.Context) (int, error) {
			// asyncio-flavored: one step at a time on the loop, no locks needed.
			if err := asyncio.Sleep(ctx, 100*time.Millisecond); err != nil {
				return 0, err
			}
			// asyncio code runs trio code in the loop's nursery, as a future.
			return asyncio.Await(ctx, asyncio.RunTrio(ctx, func(ctx context.Context) (int, error) {
				return 42, trio.Sleep(ctx, 100*time.Millisecond)
			}))
		})
		fmt.Println("the answer:", n)
		return err
	})
	_ = err
}

// normalize drops import lines, indentation and blank lines.
func normalize(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "import ") {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// TestSnippets checks that every Go snippet of README.md stands in this
// file, so that the compiler has checked it.
func TestSnippets(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.ReadFile("readme_test.go")
	if err != nil {
		t.Fatal(err)
	}
	here := normalize(string(self))
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	if len(blocks) == 0 {
		t.Fatal("README.md: no Go snippet found")
	}
	for i, b := range blocks {
		if !strings.Contains(here, normalize(b[1])) {
			t.Errorf("README.md's Go snippet %d is not in readme_test.go (so not compiled):\n%s", i+1, b[1])
		}
	}
}

// The snippets run (their helpers are stand-ins); snippetChannels is
// compiled only: it needs a nursery and a server.
func TestTrioTour(t *testing.T) {
	if err := serve(t.Context()); err != nil {
		t.Fatal(err)
	}
	snippetCancelScope(t.Context())
	snippetLoop(t.Context())
}
