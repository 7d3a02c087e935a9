package gojaloop

import (
	"runtime"
	"strconv"
)

// goid returns the id of the calling goroutine. The loop uses it only to
// tell whether a Stop or Terminate comes from code the loop itself is
// running (which must not wait for the loop), so its cost (one short stack
// read, about a microsecond) is paid at start and stop, never per job.
func goid() int64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	// "goroutine 123 [running]:..."
	const prefix = len("goroutine ")
	if len(b) <= prefix {
		return -1
	}
	b = b[prefix:]
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	id, err := strconv.ParseInt(string(b[:i]), 10, 64)
	if err != nil {
		return -1
	}
	return id
}
