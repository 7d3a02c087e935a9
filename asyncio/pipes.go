package asyncio

import "errors"

// Errors of pipe transports.
var (
	// ErrNotAPipe is returned by ConnectReadPipe and ConnectWritePipe for
	// a file that is not a pipe, FIFO, socket or character device (a
	// regular file cannot be watched for readiness).
	ErrNotAPipe = errors.New("asyncio: pipe transport is only for pipes, sockets and character devices")
	// ErrReadOnlyPipe is returned by the write methods of a read pipe's
	// transport.
	ErrReadOnlyPipe = errors.New("asyncio: a read pipe transport cannot write")
)
