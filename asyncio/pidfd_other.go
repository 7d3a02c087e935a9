//go:build unix && !linux

package asyncio

import "syscall"

// askPidfd: this system has no pidfds; each child is watched by a
// goroutine waiting for its pid.
func askPidfd(*syscall.SysProcAttr, *int) {}
