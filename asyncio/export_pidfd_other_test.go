//go:build unix && !linux

package asyncio

import "testing"

// WithoutPidfd does nothing here: without pidfds, every child is watched
// by a goroutine already.
func WithoutPidfd(testing.TB) {}
