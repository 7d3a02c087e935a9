// Command goja_nodejs is the goja_nodejs peer of `trioasyncio bench
// -peers`: W7's workloads (internal/workloads) on goja_nodejs's own
// eventloop, the package gojaloop is a drop-in for.
//
//	goja_nodejs CASE N
//	goja_nodejs --check
//
// It prints one JSON line: {"impl", "ns_per_op", "cpu_ns_per_op"}, or
// {"skip"} for a case it does not run; --check prints {"impl", "cases"}.
// W7 scripts come with the workloads, so its stdin is not read.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	nodeloop "github.com/dop251/goja_nodejs/eventloop"
	"github.com/trioasyncio/trioasyncio/internal/workloads"
)

func main() {
	impl := "goja_nodejs eventloop"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/dop251/goja_nodejs" {
				// A pseudo-version's date is enough: v0.0.0-20260212.
				v, _, _ := strings.Cut(d.Version, "-")
				if rest, ok := strings.CutPrefix(d.Version, v+"-"); ok && len(rest) >= 8 {
					v += "-" + rest[:8]
				}
				impl += " " + v
			}
		}
	}
	var cases []string
	for _, w := range workloads.W7 {
		cases = append(cases, w.ID)
	}
	out := json.NewEncoder(os.Stdout)
	if len(os.Args) == 2 && os.Args[1] == "--check" {
		out.Encode(map[string]any{"impl": impl, "cases": cases})
		return
	}
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: goja_nodejs CASE N | --check")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil || n <= 0 {
		fmt.Fprintln(os.Stderr, "goja_nodejs: N must be a positive integer")
		os.Exit(2)
	}
	for _, w := range workloads.W7 {
		if w.ID != os.Args[1] {
			continue
		}
		loop := nodeloop.NewEventLoop(nodeloop.EnableConsole(false))
		r, err := workloads.Measure(func(t workloads.Timer, n int) error { return w.Run(t, loop, n) }, n)
		if err != nil {
			fmt.Fprintln(os.Stderr, "goja_nodejs:", err)
			os.Exit(1)
		}
		out.Encode(map[string]any{
			"impl": impl, "case": w.ID, "n": n,
			"ns_per_op": r.NsPerOp, "cpu_ns_per_op": r.Metrics["cpu-ns/op"],
			"allocs_per_op": r.AllocsPerOp,
		})
		return
	}
	out.Encode(map[string]any{"impl": impl, "skip": impl + " does not run " + os.Args[1]})
}
