package asyncio

import "io"

// SetLastResortOutput makes a panic of the default exception handler go
// to w instead of os.Stderr, until restore is called.
func SetLastResortOutput(w io.Writer) (restore func()) {
	old := lastResortOutput
	lastResortOutput = func() io.Writer { return w }
	return func() { lastResortOutput = old }
}
