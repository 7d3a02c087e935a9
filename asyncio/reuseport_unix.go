//go:build unix && !solaris

package asyncio

import "golang.org/x/sys/unix"

// soReusePort is SO_REUSEPORT, whose value differs between Linux and the
// BSDs.
const soReusePort = unix.SO_REUSEPORT
