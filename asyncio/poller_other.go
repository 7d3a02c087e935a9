//go:build !linux

package asyncio

// The loop's I/O needs a poller; this platform has none yet, so every
// watch is refused with ErrNotSupported (see poller_linux.go for the
// design).

type poller struct{}

func newPoller(*Loop) (*poller, error)  { return nil, ErrNotSupported }
func (*poller) register(*fdEntry) error { return ErrNotSupported }
func (*poller) unregister(*fdEntry)     {}
func (*poller) close()                  {}

func pollNow(int, uint32) uint32 { return 0 }
