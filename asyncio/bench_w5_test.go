//go:build linux

package asyncio_test

import (
	"testing"

	"github.com/trioasyncio/trioasyncio/internal/workloads"
)

// W5 (BENCH.md): 50 clients × round trips of 64 bytes against an echo
// server, all connected before timing, TCP_NODELAY on both ends. One op =
// one round trip; b.N round trips are spread over the 50 clients; rt/s is
// round trips per second. The bodies live in internal/workloads, which
// the bench command (go run ./cmd/trioasyncio bench) runs too. Run as
//
//	go test -run '^$' -bench W5 -benchtime 100000x ./asyncio/
//
// (100,000 round trips = 50 × 2,000, BENCH.md's W5 exactly).
func BenchmarkW5Echo(b *testing.B) {
	// Both sides Protocols on one loop.
	b.Run("protocols", func(b *testing.B) { bench(b, workloads.W5EchoProtocols) })
	// Both sides streams on one loop.
	b.Run("streams", func(b *testing.B) { bench(b, workloads.W5EchoStreams) })
	// The Go floor: a goroutine per connection on each side.
	b.Run("goroutine-net", func(b *testing.B) { bench(b, workloads.W5FloorGoroutineNet) })
	// Protocols on two loops behind one reuse-port server.
	b.Run("protocols-2-reuseport-loops", func(b *testing.B) { bench(b, workloads.W5EchoProtocols2Loops) })
}
