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
  demo    a short, self-explaining run of the real thing (a few seconds);
          demo SCENE runs one scene, demo -h lists them
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

// runDemo is the demo command: every scene, or those named; -h lists
// them.
func runDemo() {
	names := os.Args[2:]
	if len(names) == 1 && (names[0] == "-h" || names[0] == "-help" || names[0] == "--help") {
		fmt.Println("usage: trioasyncio demo [SCENE...]\n\nscenes:")
		for _, s := range scenes {
			fmt.Printf("  %-14s %s\n", s.name, s.title)
		}
		return
	}
	if err := trio.Run(func(ctx context.Context) error { return demo(ctx, os.Stdout, names...) }); err != nil {
		fmt.Fprintln(os.Stderr, "trioasyncio:", err)
		os.Exit(1)
	}
}
