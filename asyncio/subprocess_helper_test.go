//go:build linux

package asyncio_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The test binary re-executed as a child: helperCmd returns the program
// and arguments that run TestHelperProcess in mode.
func helperCmd(mode string, args ...string) (string, []string) {
	return os.Args[0], append([]string{"-test.run=^TestHelperProcess$", "--", mode}, args...)
}

func helperEnv() []string { return append(os.Environ(), "ASYNCIO_WANT_HELPER=1") }

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
		pgid, _ := syscall.Getpgid(0)
		sid, _, _ := syscall.Syscall(syscall.SYS_GETSID, 0, 0, 0)
		fmt.Printf("%d %d %d", os.Getpid(), pgid, sid)
	case "sig-restore", "sig-ignored", "sig-close-restores":
		code = helperSignals(args[0])
	case "trio-run-sigint":
		code = helperTrioRun()
	case "sleep":
		time.Sleep(time.Hour)
	default:
		fmt.Fprintln(os.Stderr, "unknown helper mode", strings.Join(args, " "))
		code = 2
	}
	os.Exit(code)
}
