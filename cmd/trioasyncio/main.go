// Command trioasyncio shows the library at work, and measures it.
//
//	go run ./cmd/trioasyncio demo
//	go run ./cmd/trioasyncio bench [-quick] [-peers] [-json FILE] [-svg FILE]
//
// demo walks through structured concurrency, the asyncio loop inside it
// and the boundary between the two, in a few seconds. bench runs the
// project's benchmark workloads beside their Go floors (and, with -peers,
// on CPython asyncio, uvloop, trio-asyncio, Node and goja_nodejs, where
// found) and prints the figures as ratios measured in the same run;
// bench -h lists its flags.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/trioasyncio/trioasyncio/trio"
)

const usage = `usage: trioasyncio COMMAND [flags]

commands:
  demo    a short, self-explaining run of the real thing (a few seconds)
  bench   the benchmark workloads beside their Go floors and, with -peers,
          beside CPython asyncio, uvloop, trio-asyncio, Node and goja_nodejs
          (trioasyncio bench -h lists its flags)
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "demo":
		runDemo()
	case "bench":
		os.Exit(benchMain(os.Args[2:], os.Stdout, os.Stderr))
	case "-h", "-help", "--help", "help":
		fmt.Fprint(os.Stdout, usage)
	default:
		fmt.Fprintf(os.Stderr, "trioasyncio: unknown command %q\n\n", os.Args[1])
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
}

// runDemo is the demo command.
func runDemo() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: trioasyncio demo")
		os.Exit(2)
	}
	if err := trio.Run(func(ctx context.Context) error { return demo(ctx, os.Stdout) }); err != nil {
		fmt.Fprintln(os.Stderr, "trioasyncio:", err)
		os.Exit(1)
	}
}
