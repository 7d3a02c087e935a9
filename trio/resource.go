package trio

import "errors"

// The errors of Trio's resource protocol, shared by every trio object that
// can be closed or that offers non-blocking variants of its operations:
// memory channels, streams, locks. Memory channels return them as they are;
// streams wrap them with detail (the underlying net error, with %w), so
// test for them with errors.Is.
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
	// receive handle was closed; for a stream, a peer reset, or a send side
	// left in an unknown state by a cancelled or failed SendAll.
	ErrBrokenResource = errors.New("trio: resource broken")

	// ErrBusyResource is returned when another goroutine is already using
	// the resource the same way (trio.BusyResourceError): two concurrent
	// ReceiveSome calls on one stream, say.
	ErrBusyResource = errors.New("trio: resource busy")
)
