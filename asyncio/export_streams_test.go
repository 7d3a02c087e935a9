package asyncio

// Buffered returns a copy of what the reader has buffered (tests check
// asyncio's exact buffer semantics).
func (r *StreamReader) Buffered() []byte { return append([]byte{}, r.buf...) }
