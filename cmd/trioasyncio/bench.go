package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/trioasyncio/trioasyncio/gojaloop"
	"github.com/trioasyncio/trioasyncio/internal/workloads"
)

// The bench subcommand runs the project's workloads (W1–W7) and their Go
// floors in one process and prints a table: time per op, allocations per
// op, and the ratio to the workload's reference measured in the same run
// (its Go floor, or for W7 goja_nodejs's eventloop). With -peers it runs
// the same workloads on the other systems found on the machine.

const benchUsage = `usage: trioasyncio bench [flags]

Runs the project's workloads W1–W7 on the loop, beside their Go floors (the
same work in plain Go), in one process, and prints per-op time, allocations
and the ratio to the floor measured in the same run. A progress line goes to
stderr. Compare figures within one run: the ratios, not the nanoseconds.

flags:
`

// A benchImpl is one implementation of a case: the loop's, or a Go floor.
type benchImpl struct {
	name string
	run  func(t workloads.Timer, n int) error
}

// A benchCase is one comparison: the loop's figure beside its floors and,
// with -peers, the peers' figures for the same workload.
type benchCase struct {
	id     string      // the name peers are given, e.g. "W1" or "W6-trio-to-asyncio"
	title  string      // e.g. "W1 callbacks"
	op     string      // what one op is, e.g. "callback"
	n      int         // the reference size
	quickN int         // the size of the -quick round
	ours   benchImpl   // the headline figure
	also   []benchImpl // other figures of the loop (W4: eager tasks; W5: streams, two loops)
	floors []benchImpl // the first is the reference of the ratios
	// peerRef names the peer that is the reference when there is no Go
	// floor (goja_nodejs for W7).
	peerRef string
	// script is the JavaScript W7 runs; peers that run JavaScript get it
	// on stdin.
	script string
	// pending says why the case is not measured on this system.
	pending string
}

// newJSLoop is the JavaScript loop W7 runs on: gojaloop's.
func newJSLoop() workloads.JSLoop { return gojaloop.NewEventLoop(gojaloop.EnableConsole(false)) }

// onJSLoop adapts a W7 workload to a case: each run gets a fresh loop.
func onJSLoop(w func(workloads.Timer, workloads.JSLoop, int) error) func(workloads.Timer, int) error {
	return func(t workloads.Timer, n int) error { return w(t, newJSLoop(), n) }
}

// benchCases lists every case, in the order of the table.
func benchCases() []benchCase {
	cs := []benchCase{
		{id: "W1", title: "W1 callbacks", op: "callback", n: workloads.W1N, quickN: 20_000,
			ours:   benchImpl{"asyncio loop (CallSoon chain)", workloads.W1CallbackChain},
			floors: []benchImpl{{"Go floor: slice-of-func queue", workloads.W1FloorSliceQueue}}},
		{id: "W2", title: "W2 timers", op: "timer", n: workloads.W2N, quickN: 4_000,
			ours:   benchImpl{"asyncio loop (CallLater)", workloads.W2Timers},
			floors: []benchImpl{{"Go floor: one-goroutine timer heap", workloads.W2FloorTimerHeap}}},
		{id: "W3", title: "W3 ping-pong", op: "one-way switch", n: workloads.W3N, quickN: 4_000,
			ours: benchImpl{"asyncio loop (two tasks, futures)", workloads.W3PingPong},
			floors: []benchImpl{
				{"Go floor: iter.Pull", workloads.W3FloorIterPull},
				{"Go floor: unbuffered channels", workloads.W3FloorChan},
			}},
		{id: "W4", title: "W4 spawn", op: "task", n: workloads.W4N, quickN: 2_000,
			ours: benchImpl{"asyncio loop (CreateTask, Sleep 0)", workloads.W4Spawn},
			also: []benchImpl{{"the same, eager tasks (EagerTaskFactory)", workloads.W4SpawnEager}},
			floors: []benchImpl{
				{"Go floor: goroutines + WaitGroup", workloads.W4FloorGoroutines},
				{"Go floor: the same, GOMAXPROCS 1", workloads.W4FloorGoroutines1P},
			}},
		{id: "W5", title: "W5 TCP echo", op: "round trip", n: workloads.W5N, quickN: 2_000,
			ours: benchImpl{"asyncio loop (Protocols)", workloads.W5EchoProtocols},
			also: []benchImpl{
				{"asyncio loop (streams)", workloads.W5EchoStreams},
				{"two asyncio loops (Protocols, reuse-port)", workloads.W5EchoProtocols2Loops},
			},
			floors: []benchImpl{
				{"Go floor: goroutine per connection", workloads.W5FloorGoroutineNet},
				{"Go floor: the same, GOMAXPROCS 1", workloads.W5FloorGoroutineNet1P},
			}},
		{id: "W6-trio-to-asyncio", title: "W6 trio→asyncio", op: "call", n: workloads.W6N, quickN: 500,
			ours:   benchImpl{"RunAsyncio(ctx, noop)", workloads.W6RunAsyncio},
			floors: []benchImpl{{"Go floor: channel round trip", workloads.W6FloorChanRoundTrip}}},
		{id: "W6-asyncio-to-trio", title: "W6 asyncio→trio", op: "call", n: workloads.W6N, quickN: 500,
			ours:   benchImpl{"Await(RunTrio(ctx, noop))", workloads.W6RunTrio},
			floors: []benchImpl{{"Go floor: goroutine per call", workloads.W6FloorGoroutinePerCall}}},
	}
	for _, w := range workloads.W7 {
		cs = append(cs, benchCase{id: w.ID, title: w.Title, op: w.Op, n: workloads.W7N, quickN: 1_000,
			ours: benchImpl{"gojaloop", onJSLoop(w.Run)}, peerRef: "goja_nodejs", script: w.Script})
	}
	if runtime.GOOS == "windows" {
		for i := range cs {
			if cs[i].id == "W5" {
				cs[i].pending = "the loop's network I/O needs Unix file descriptors"
			}
		}
	}
	return cs
}

// A figure is one measurement: one implementation of one case.
type figure struct {
	Case      string             `json:"case"`
	Title     string             `json:"title"`
	Op        string             `json:"op"` // what one op is
	Impl      string             `json:"impl"`
	Kind      string             `json:"kind"` // "loop", "floor" or "peer"
	Peer      string             `json:"peer,omitempty"`
	N         int                `json:"n"`
	Runs      int                `json:"runs"`
	NsPerOp   float64            `json:"ns_per_op"`                   // the median of the runs
	Samples   []float64          `json:"samples_ns_per_op,omitempty"` // every run's, in order
	AllocsOp  *float64           `json:"allocs_per_op,omitempty"`
	BytesOp   *float64           `json:"bytes_per_op,omitempty"`
	Metrics   map[string]float64 `json:"metrics,omitempty"`
	Ratio     float64            `json:"ratio,omitempty"` // to the case's reference; 0 if none
	Reference bool               `json:"reference,omitempty"`
	Note      string             `json:"note,omitempty"` // what qualifies the figure
	Err       string             `json:"error,omitempty"`
	Pending   string             `json:"pending,omitempty"` // why it is not measured here
}

// A benchReport is what -json writes.
type benchReport struct {
	Date    time.Time     `json:"date"`
	Command string        `json:"command"`
	Go      string        `json:"go"`
	OS      string        `json:"os"`
	Arch    string        `json:"arch"`
	CPUs    int           `json:"cpus"`
	CPU     string        `json:"cpu,omitempty"`
	Quick   bool          `json:"quick"`
	Count   int           `json:"count"`
	Figures []*figure     `json:"figures"`
	Pending []string      `json:"pending,omitempty"`
	Missing []missingPeer `json:"missing_peers,omitempty"`
}

// progress writes the progress line: rewritten in place on a terminal,
// one line per step otherwise.
type progress struct {
	w     io.Writer
	tty   bool
	total int
	step  int
	width int
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) next(format string, args ...any) {
	p.step++
	line := fmt.Sprintf("bench [%d/%d] %s", p.step, p.total, fmt.Sprintf(format, args...))
	if !p.tty {
		fmt.Fprintln(p.w, line)
		return
	}
	w := utf8.RuneCountInString(line)
	pad := max(0, p.width-w)
	p.width = w
	fmt.Fprintf(p.w, "\r%s%s", line, strings.Repeat(" ", pad))
}

func (p *progress) done() {
	if p.tty {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.width))
	}
}

// benchConfig is the parsed command line.
type benchConfig struct {
	quick     bool
	count     int
	run       *regexp.Regexp
	jsonFile  string
	svgFile   string
	peers     bool
	python    string
	node      string
	goTool    string
	peersDir  string
	peerLimit time.Duration
}

// benchMain is the bench subcommand; it returns the exit status.
func benchMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), benchUsage)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), "\nworkloads: W1 callbacks, W2 timers, W3 ping-pong, W4 spawn, W5 TCP echo,\nW6 the trio/asyncio boundary, W7 JavaScript on the loop (gojaloop).\n")
	}
	var cfg benchConfig
	var runPattern string
	fs.BoolVar(&cfg.quick, "quick", false, "run a small round (about a second; the figures are only indicative)")
	fs.IntVar(&cfg.count, "count", 0, "runs of each figure; the table shows the median (default 3, or 1 with -quick)")
	fs.StringVar(&runPattern, "run", "", "run only the cases whose id or title matches this regular expression (e.g. 'W1|W3')")
	fs.StringVar(&cfg.jsonFile, "json", "", "write the raw figures to this `file` as JSON")
	fs.StringVar(&cfg.svgFile, "svg", "", "write a bar chart of the ratios (log scale) to this `file` as SVG")
	fs.BoolVar(&cfg.peers, "peers", false, "also run the workloads on the peers found on the machine: CPython asyncio, uvloop, trio-asyncio, Node, goja_nodejs")
	fs.StringVar(&cfg.python, "python", "", "the Python interpreter the Python peers run on (default: python3 on PATH, then /usr/bin/python3)")
	fs.StringVar(&cfg.node, "node", "node", "the Node binary of the Node peer")
	fs.StringVar(&cfg.goTool, "go", "go", "the go command that builds the goja_nodejs peer")
	fs.StringVar(&cfg.peersDir, "peers-dir", "", "the directory of the peer programs (default: bench/peers of the source tree)")
	fs.DurationVar(&cfg.peerLimit, "peer-timeout", 5*time.Minute, "the longest one peer run may take")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "trioasyncio bench: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	if cfg.count <= 0 {
		cfg.count = 3
		if cfg.quick {
			cfg.count = 1
		}
	}
	if runPattern != "" {
		re, err := regexp.Compile(runPattern)
		if err != nil {
			fmt.Fprintf(stderr, "trioasyncio bench: -run: %v\n", err)
			return 2
		}
		cfg.run = re
	}
	rep, err := runBench(cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "trioasyncio bench:", err)
		return 1
	}
	rep.Command = "trioasyncio bench " + strings.Join(args, " ")
	writeTable(stdout, rep)
	if cfg.jsonFile != "" {
		data, err := json.MarshalIndent(rep, "", "  ")
		if err == nil {
			err = os.WriteFile(cfg.jsonFile, append(data, '\n'), 0o644)
		}
		if err != nil {
			fmt.Fprintln(stderr, "trioasyncio bench: -json:", err)
			return 1
		}
	}
	if cfg.svgFile != "" {
		if err := os.WriteFile(cfg.svgFile, []byte(renderSVG(rep)), 0o644); err != nil {
			fmt.Fprintln(stderr, "trioasyncio bench: -svg:", err)
			return 1
		}
	}
	for _, f := range rep.Figures {
		if f.Err != "" {
			return 1
		}
	}
	return 0
}

// runBench measures every selected case (and the peers with -peers).
func runBench(cfg benchConfig, stderr io.Writer) (*benchReport, error) {
	rep := &benchReport{
		Date:  time.Now().UTC(),
		Go:    runtime.Version(),
		OS:    runtime.GOOS,
		Arch:  runtime.GOARCH,
		CPUs:  runtime.GOMAXPROCS(0),
		CPU:   cpuModel(),
		Quick: cfg.quick,
		Count: cfg.count,
	}
	var cases []benchCase
	for _, c := range benchCases() {
		if cfg.run == nil || cfg.run.MatchString(c.id) || cfg.run.MatchString(c.title) {
			cases = append(cases, c)
		}
	}
	if len(cases) == 0 {
		return nil, fmt.Errorf("-run matches no workload")
	}
	var peers []*peer
	if cfg.peers {
		var cleanup func()
		var missing []missingPeer
		peers, missing, cleanup = findPeers(cfg, stderr)
		defer cleanup()
		// An interrupt removes what findPeers built before the exit.
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		defer func() {
			signal.Stop(sig)
			close(sig)
		}()
		go func() {
			if _, ok := <-sig; ok {
				cleanup()
				os.Exit(130)
			}
		}()
		rep.Missing = missing
	}
	total := 0
	for _, c := range cases {
		if c.pending != "" {
			continue
		}
		total += 1 + len(c.also) + len(c.floors)
		for _, p := range peers {
			if p.supports(c) {
				total++
			}
		}
	}
	prog := newProgress(stderr, total)
	defer prog.done()
	for _, c := range cases {
		n := c.n
		if cfg.quick {
			n = c.quickN
		}
		if c.pending != "" {
			rep.Pending = append(rep.Pending, c.title+": "+c.pending)
			rep.Figures = append(rep.Figures, &figure{Case: c.id, Title: c.title, Op: c.op, Impl: c.ours.name, Kind: "loop", N: n, Pending: c.pending})
			continue
		}
		var figs []*figure
		impls := append(append([]benchImpl{c.ours}, c.also...), c.floors...)
		for i, impl := range impls {
			prog.next("%s: %s, n = %d", c.title, impl.name, n)
			kind := "floor"
			if i <= len(c.also) {
				kind = "loop"
			}
			figs = append(figs, measureGo(c, impl, kind, n, cfg.count))
		}
		for _, p := range peers {
			if !p.supports(c) {
				continue
			}
			prog.next("%s: %s, n = %d", c.title, p.name, n)
			figs = append(figs, p.measure(cfg, c, n))
		}
		setRatios(c, figs)
		rep.Figures = append(rep.Figures, figs...)
	}
	return rep, nil
}

// measureGo runs impl count times and keeps the median run.
func measureGo(c benchCase, impl benchImpl, kind string, n, count int) *figure {
	f := &figure{Case: c.id, Title: c.title, Op: c.op, Impl: impl.name, Kind: kind, N: n}
	var runs []workloads.Result
	for range count {
		r, err := workloads.Measure(impl.run, n)
		if err != nil {
			f.Err = err.Error()
			return f
		}
		runs = append(runs, r)
		f.Samples = append(f.Samples, r.NsPerOp)
	}
	slices.SortFunc(runs, func(a, b workloads.Result) int { return cmp.Compare(a.NsPerOp, b.NsPerOp) })
	m := runs[len(runs)/2]
	f.Runs, f.NsPerOp, f.AllocsOp, f.BytesOp = len(runs), m.NsPerOp, &m.AllocsPerOp, &m.BytesPerOp
	if len(m.Metrics) > 0 {
		f.Metrics = m.Metrics
	}
	return f
}

// setRatios sets each figure's ratio to the case's reference: its first
// Go floor, or the peer named by peerRef.
func setRatios(c benchCase, figs []*figure) {
	var ref *figure
	for _, f := range figs {
		if f.Err != "" || f.NsPerOp <= 0 {
			continue
		}
		if (len(c.floors) > 0 && f.Kind == "floor" && f.Impl == c.floors[0].name) ||
			(c.peerRef != "" && f.Kind == "peer" && f.Peer == c.peerRef) {
			ref = f
			break
		}
	}
	if ref == nil {
		return
	}
	ref.Reference = true
	for _, f := range figs {
		if f.Err == "" && f.NsPerOp > 0 {
			f.Ratio = f.NsPerOp / ref.NsPerOp
		}
	}
}

// cpuModel is the CPU's model name, where the system says it.
func cpuModel() string {
	fh, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
