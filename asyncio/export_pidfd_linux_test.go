package asyncio

import "testing"

// WithoutPidfd makes the loops started during the test watch their
// children with a goroutine each, as on kernels without pidfds.
func WithoutPidfd(t testing.TB) {
	old := pidfdWorks
	pidfdWorks = func() bool { return false }
	t.Cleanup(func() { pidfdWorks = old })
}
