// Package sigclaim records which signals an asyncio loop handles, so that
// trio.Run leaves those signals to the loop instead of cancelling the
// program on them.
package sigclaim

import (
	"os"
	"sync"
)

var (
	mu     sync.Mutex
	claims = map[os.Signal]int{}
)

// Claim records one more handler for sig.
func Claim(sig os.Signal) {
	mu.Lock()
	claims[sig]++
	mu.Unlock()
}

// Release forgets one handler for sig.
func Release(sig os.Signal) {
	mu.Lock()
	if claims[sig]--; claims[sig] <= 0 {
		delete(claims, sig)
	}
	mu.Unlock()
}

// Claimed reports whether some loop handles sig.
func Claimed(sig os.Signal) bool {
	mu.Lock()
	defer mu.Unlock()
	return claims[sig] > 0
}
