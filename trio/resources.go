package trio

import "errors"

// The errors of Trio's resource protocol (trio.ClosedResourceError,
// trio.BrokenResourceError, trio.BusyResourceError). Operations may return
// them wrapped with more detail, so test for them with errors.Is.

// ErrClosedResource: the handle was closed by this side.
var ErrClosedResource = errors.New("trio: resource closed")

// ErrBrokenResource: the resource broke (peer gone, stream in an unknown state).
var ErrBrokenResource = errors.New("trio: resource broken")

// ErrBusyResource: another goroutine is already using the resource this way.
var ErrBusyResource = errors.New("trio: resource busy")
