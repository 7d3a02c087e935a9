package asyncio

import "errors"

// Errors of signal handlers.
var (
	// ErrUncatchableSignal is returned by AddSignalHandler for SIGKILL and
	// SIGSTOP, which no process can catch.
	ErrUncatchableSignal = errors.New("asyncio: SIGKILL and SIGSTOP cannot be caught")
	// ErrInvalidSignal is returned for a signal number out of range.
	ErrInvalidSignal = errors.New("asyncio: invalid signal number")
)
