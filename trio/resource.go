package trio

import "errors"

// The errors of Trio's resource protocol, shared by every trio object that
// can be closed or that offers non-blocking variants of its operations:
// memory channels now, streams and locks as they come. They are returned as
// they are (not wrapped), so both == and errors.Is work.
var (
	// ErrWouldBlock is returned by the Try… variants of blocking operations
	// (Trio's *_nowait methods raising trio.WouldBlock) when the operation
	// cannot complete at once. Nothing happened: no value moved.
	ErrWouldBlock = errors.New("trio: operation would block")

	// ErrClosedResource is returned when the handle an operation uses was
	// closed by its own holder (trio.ClosedResourceError): an operation
	// started on a closed handle, or one blocked on a handle that another
	// goroutine closes, which then wakes with this error. It signals a bug
	// in the caller's ownership of the handle, not a condition to wait out.
	ErrClosedResource = errors.New("trio: resource closed")

	// ErrBrokenResource is returned when the other end went away
	// (trio.BrokenResourceError): for a memory channel, a send after every
	// receive handle was closed.
	ErrBrokenResource = errors.New("trio: resource broken")
)
