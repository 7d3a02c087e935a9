package asyncio

import "net"

// BaseProtocol is what every protocol implements (asyncio.BaseProtocol):
// the callbacks of a connection's life and of write flow control. The
// loop calls them on the loop, in asyncio's order: ConnectionMade once,
// then the data callbacks, then ConnectionLost exactly once. Embed
// ProtocolBase to get no-op defaults.
type BaseProtocol interface {
	// ConnectionMade is called when the connection is made, with its
	// transport; keep it to write.
	ConnectionMade(t Transport)
	// ConnectionLost is called once, when the connection is closed: err
	// is nil for a regular close, end of stream or the transport's Abort,
	// else the error that closed it (ECONNRESET…).
	ConnectionLost(err error)
	// PauseWriting is called when the transport's write buffer goes over
	// its high-water mark; ResumeWriting when it drains to its low-water
	// mark. They alternate, PauseWriting first.
	PauseWriting()
	ResumeWriting()
}

// Protocol is a stream protocol receiving data as it arrives
// (asyncio.Protocol).
type Protocol interface {
	BaseProtocol
	// DataReceived is called with the bytes received. data is valid only
	// during the call (the loop reuses its read buffer): copy what you
	// keep.
	DataReceived(data []byte)
	// EOFReceived is called when the peer has closed its side (half
	// close). Return false to close the transport (the default), true to
	// keep it open for writing and close it yourself.
	EOFReceived() bool
}

// BufferedProtocol is a stream protocol that lends the transport its own
// buffer to receive into, saving a copy (asyncio.BufferedProtocol).
type BufferedProtocol interface {
	BaseProtocol
	// GetBuffer returns a non-empty buffer to receive into; sizeHint is
	// -1 (no hint) here, as in asyncio.
	GetBuffer(sizeHint int) []byte
	// BufferUpdated tells how many bytes were received into the buffer
	// GetBuffer returned.
	BufferUpdated(n int)
	// EOFReceived as Protocol's.
	EOFReceived() bool
}

// DatagramProtocol receives datagrams (asyncio.DatagramProtocol), from
// the DatagramTransport that CreateDatagramEndpoint gives its
// ConnectionMade. Embed ProtocolBase for the defaults.
type DatagramProtocol interface {
	BaseProtocol
	// DatagramReceived is called with each datagram and its sender; data
	// is valid only during the call.
	DatagramReceived(data []byte, addr net.Addr)
	// ErrorReceived is called when a send or receive fails (an ICMP
	// error, ECONNREFUSED…); the transport stays open.
	ErrorReceived(err error)
}

// ProtocolBase gives a protocol the default behaviour of asyncio's base
// classes: every callback does nothing and EOFReceived returns false.
// Embed it and override what you need.
type ProtocolBase struct{}

func (ProtocolBase) ConnectionMade(Transport)          {}
func (ProtocolBase) ConnectionLost(error)              {}
func (ProtocolBase) PauseWriting()                     {}
func (ProtocolBase) ResumeWriting()                    {}
func (ProtocolBase) DataReceived([]byte)               {}
func (ProtocolBase) EOFReceived() bool                 { return false }
func (ProtocolBase) DatagramReceived([]byte, net.Addr) {}
func (ProtocolBase) ErrorReceived(error)               {}
