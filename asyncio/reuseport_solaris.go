package asyncio

// soReusePort stands for SO_REUSEPORT, which Solaris and illumos lack: no
// option has this number, so setting it fails with the system's error.
const soReusePort = -1
