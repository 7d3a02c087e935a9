package asyncio_test

import (
	"os"
	"runtime"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them.
func TestMain(m *testing.M) {
	shortTempDirs()
	goleak.VerifyTestMain(m)
}

// shortTempDirs puts the tests' temporary directories under /tmp where a
// Unix socket path is limited to 104 bytes (macOS, the BSDs) and the
// usual temporary directory is long (macOS's /var/folders/…): the socket
// paths the tests make in t.TempDir() then fit. GOTMPDIR, if set, wins.
func shortTempDirs() {
	if runtime.GOOS == "linux" || runtime.GOOS == "windows" || os.Getenv("GOTMPDIR") != "" {
		return
	}
	if fi, err := os.Stat("/tmp"); err == nil && fi.IsDir() {
		os.Setenv("GOTMPDIR", "/tmp")
	}
}
