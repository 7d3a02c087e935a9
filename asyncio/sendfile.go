package asyncio

import "errors"

// Errors of Sendfile.
var (
	// ErrSendfileNotAvailable is returned by Sendfile with fallback false
	// when the transport cannot send a file with sendfile(2) (TLS, pipes,
	// platforms without it), as asyncio's SendfileNotAvailableError.
	ErrSendfileNotAvailable = errors.New("asyncio: sendfile is not available for this transport")
	// ErrSendfileNotSupported is returned by Sendfile, whatever fallback
	// says, for a transport that carries no stream (a datagram
	// transport), as asyncio's RuntimeError "not supported".
	ErrSendfileNotSupported = errors.New("asyncio: sendfile is not supported for this transport")
	// ErrSendfileRange is returned for a negative offset or count.
	ErrSendfileRange = errors.New("asyncio: sendfile offset and count must not be negative")
	// ErrSendfileInProgress is returned by a transport's Write while
	// Sendfile sends on it.
	ErrSendfileInProgress = errors.New("asyncio: unable to write; sendfile is in progress")
)
