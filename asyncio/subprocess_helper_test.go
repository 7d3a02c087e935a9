//go:build unix

package asyncio_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The test binary re-executed as a child: helperCmd returns the program
// and arguments that run TestHelperProcess in mode.
func helperCmd(mode string, args ...string) (string, []string) {
	return os.Args[0], append([]string{"-test.run=^TestHelperProcess$", "--", mode}, args...)
}

// helperEnv marks the child as a helper; a race-detector build would
// otherwise sleep a second at exit.
func helperEnv() []string {
	return append(os.Environ(), "ASYNCIO_WANT_HELPER=1", "GORACE=atexit_sleep_ms=0")
}

// TestHelperProcess is not a test: it is the child of the subprocess
// tests, doing what its mode says and exiting.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("ASYNCIO_WANT_HELPER") != "1" {
		return
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	code := 0
	switch args[0] {
	case "echo": // stdin to stdout
		io.Copy(os.Stdout, os.Stdin)
	case "echo-both": // stdin to stdout and stderr
		b, _ := io.ReadAll(os.Stdin)
		os.Stdout.Write(b)
		os.Stderr.Write(b)
	case "big": // n bytes on stdout and stderr at once
		n, _ := strconv.Atoi(args[1])
		var wg sync.WaitGroup
		for _, f := range []*os.File{os.Stdout, os.Stderr} {
			wg.Add(1)
			go func(f *os.File) {
				defer wg.Done()
				chunk := bytes.Repeat([]byte{'x'}, 64*1024)
				for left := n; left > 0; {
					c := chunk[:min(left, len(chunk))]
					f.Write(c)
					left -= len(c)
				}
			}(f)
		}
		wg.Wait()
	case "close-stdout": // close stdout early, then wait for stdin's end
		os.Stdout.Write([]byte("early\n"))
		os.Stdout.Close()
		io.Copy(io.Discard, os.Stdin)
		code = 7
	case "exit":
		code, _ = strconv.Atoi(args[1])
	case "env":
		fmt.Print(os.Getenv(args[1]))
	case "pwd":
		d, _ := os.Getwd()
		fmt.Print(d)
	case "ids": // pid pgid sid
		pgid, _ := unix.Getpgid(0)
		sid, _ := unix.Getsid(0)
		fmt.Printf("%d %d %d", os.Getpid(), pgid, sid)
	case "sig-restore", "sig-ignored", "sig-close-restores":
		code = helperSignals(args[0])
	case "trio-run-sigint":
		code = helperTrioRun()
	case "echo2": // one read, echoed as OUT: on stdout and ERR: on stderr
		b := make([]byte, 1024)
		n, _ := os.Stdin.Read(b)
		os.Stdout.Write(append([]byte("OUT:"), b[:n]...))
		os.Stderr.Write(append([]byte("ERR:"), b[:n]...))
	case "echo3": // echo as OUT: until stdin ends; a failed write is told on stderr
		signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE) // EPIPE, not death
		b := make([]byte, 1024)
		for {
			n, err := os.Stdin.Read(b)
			if n == 0 || err != nil {
				break
			}
			if _, err := syscall.Write(1, append([]byte("OUT:"), b[:n]...)); err != nil {
				name := "OSError"
				if err == syscall.EPIPE {
					name = "BrokenPipeError"
				}
				os.Stderr.Write([]byte("ERR:" + name))
			}
		}
	case "sleep":
		time.Sleep(time.Hour)
	default:
		fmt.Fprintln(os.Stderr, "unknown helper mode", strings.Join(args, " "))
		code = 2
	}
	os.Exit(code)
}
