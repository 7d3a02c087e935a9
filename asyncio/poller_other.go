//go:build !unix

package asyncio

// The loop's I/O watches Unix file descriptors with the kernel's event
// queue (epoll, kqueue). On Windows asyncio's loop is a proactor over I/O
// completion ports, a different design this loop does not have; there,
// and on other platforms without Unix file descriptors, every watch is
// refused with ErrNotSupported.

type poller struct{}

func newPoller(*Loop) (*poller, error)  { return nil, ErrNotSupported }
func (*poller) register(*fdEntry) error { return ErrNotSupported }
func (*poller) unregister(*fdEntry)     {}
func (*poller) close()                  {}

func pollNow(int, uint32) uint32 { return 0 }

func fdFileID(int) fileID { return fileID{} }
