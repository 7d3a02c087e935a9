//go:build unix && !linux

package asyncio

// growPipe does nothing: only Linux can resize a pipe's buffer.
func growPipe(fd int) {}
