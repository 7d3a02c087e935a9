// Command trioasyncio shows the library at work.
//
//	go run ./cmd/trioasyncio demo
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/trioasyncio/trioasyncio/trio"
)

func main() {
	if len(os.Args) != 2 || os.Args[1] != "demo" {
		fmt.Fprintln(os.Stderr, "usage: trioasyncio demo")
		os.Exit(2)
	}
	if err := trio.Run(func(ctx context.Context) error { return demo(ctx, os.Stdout) }); err != nil {
		fmt.Fprintln(os.Stderr, "trioasyncio:", err)
		os.Exit(1)
	}
}
