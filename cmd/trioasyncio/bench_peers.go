package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The peers are programs of the project, in bench/peers, that run the
// same workloads on another system. Each is started once per run:
//
//	PROGRAM [ARGS] CASE N     (W7 cases get their script on stdin)
//
// and prints one JSON line, {"impl": ..., "ns_per_op": ..., "cpu_ns_per_op": ...}
// (and "allocs_per_op" or a "note" that qualifies the figure, if it has
// them), or {"skip": REASON} for a case it does not run. With --check it prints
// {"impl": ..., "cases": [...]} if its system is there, and fails with the
// reason otherwise.

// knownPeerNames is the order of the peers in the tables.
var knownPeerNames = []string{"CPython asyncio", "uvloop", "trio-asyncio", "Node", "goja_nodejs"}

// A missingPeer is a peer the command could not run, and how to get it.
type missingPeer struct {
	Peer    string `json:"peer"`
	Reason  string `json:"reason"`
	Install string `json:"install"`
}

// A peer is one found on the machine.
type peer struct {
	name  string
	impl  string   // the system and its version, as the peer names it
	argv  []string // the program and its leading arguments
	dir   string   // where it runs
	cases []string // the case ids it runs
}

func (p *peer) supports(c benchCase) bool { return slices.Contains(p.cases, c.id) }

// peerLine is what a peer prints.
type peerLine struct {
	Impl    string   `json:"impl"`
	Cases   []string `json:"cases"`
	NsPerOp float64  `json:"ns_per_op"`
	CPUNsOp float64  `json:"cpu_ns_per_op"`
	Allocs  *float64 `json:"allocs_per_op"`
	Skip    string   `json:"skip"`
	Note    string   `json:"note"`
	N       int      `json:"n"` // the n it ran, if not the one asked for
}

// call runs the peer with args (and stdin) and decodes its last line.
func (p *peer) call(ctx context.Context, stdin string, args ...string) (peerLine, error) {
	argv := append(slices.Clone(p.argv), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = p.dir
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var line peerLine
	if err != nil {
		msg := strings.TrimSpace(errOut.String())
		if lines := strings.Split(msg, "\n"); len(lines) > 0 && lines[len(lines)-1] != "" {
			msg = lines[len(lines)-1]
		}
		if ctx.Err() != nil {
			msg = "timed out"
		}
		if msg == "" {
			msg = err.Error()
		}
		return line, errors.New(msg)
	}
	text := strings.TrimSpace(out.String())
	if i := strings.LastIndexByte(text, '\n'); i >= 0 {
		text = text[i+1:]
	}
	if err := json.Unmarshal([]byte(text), &line); err != nil {
		return line, fmt.Errorf("unreadable answer %q: %v", text, err)
	}
	return line, nil
}

// measure runs case c at size n count times and keeps the median.
func (p *peer) measure(cfg benchConfig, c benchCase, n int) *figure {
	f := &figure{Case: c.id, Title: c.title, Op: c.op, Impl: p.impl, Kind: "peer", Peer: p.name, N: n}
	var runs []peerLine
	for range cfg.count {
		ctx, cancel := context.WithTimeout(context.Background(), cfg.peerLimit)
		line, err := p.call(ctx, c.script, c.id, strconv.Itoa(n))
		cancel()
		switch {
		case err != nil:
			f.Err = err.Error()
			return f
		case line.Skip != "":
			f.Err = "skipped: " + line.Skip
			return f
		}
		runs = append(runs, line)
		f.Samples = append(f.Samples, line.NsPerOp)
	}
	slices.SortFunc(runs, func(a, b peerLine) int { return cmp.Compare(a.NsPerOp, b.NsPerOp) })
	m := runs[len(runs)/2]
	f.Runs, f.NsPerOp, f.AllocsOp, f.Note = len(runs), m.NsPerOp, m.Allocs, m.Note
	if m.N > 0 {
		f.N = m.N
	}
	f.Metrics = map[string]float64{}
	if m.CPUNsOp > 0 {
		f.Metrics["cpu-ns/op"] = m.CPUNsOp
	}
	if c.id == "W5" && m.NsPerOp > 0 {
		f.Metrics["rt/s"] = 1e9 / m.NsPerOp // W5's own unit: round trips per second
	}
	return f
}

// Install hints.
const (
	installPython  = "apt-get install python3 (Debian, Ubuntu), or https://www.python.org/downloads/; then pass -python PATH if it is neither python3 on PATH nor /usr/bin/python3"
	installUvloop  = "apt-get install python3-uvloop (Debian, Ubuntu: for /usr/bin/python3), or pip install uvloop (for the python3 on PATH)"
	installTrioAio = "pip install trio-asyncio (Debian does not package it)"
	installNode    = "apt-get install nodejs (Debian, Ubuntu), or https://nodejs.org; then pass -node PATH if it is not node on PATH"
	installGo      = "install Go (https://go.dev/dl/) and run the command from the project's source tree (go run ./cmd/trioasyncio bench -peers); or pass -go PATH"
	installSource  = "run the command from the project's source tree, or pass -peers-dir DIR (the directory of asyncio_peer.py)"
)

// findPeers looks for every peer: it checks each with --check (and builds
// the Go one). cleanup removes what it built.
func findPeers(cfg benchConfig, stderr io.Writer) (found []*peer, missing []missingPeer, cleanup func()) {
	cleanup = func() {}
	dir := cfg.peersDir
	if dir == "" {
		dir = locatePeersDir()
	}
	if dir == "" {
		for _, name := range knownPeerNames {
			missing = append(missing, missingPeer{name, "the peer programs (bench/peers) were not found", installSource})
		}
		return nil, missing, cleanup
	}
	dir, _ = filepath.Abs(dir)
	check := func(name string, argv []string, install string) {
		fmt.Fprintf(stderr, "bench: looking for %s\n", name)
		p, err := checkPeer(name, argv, dir)
		if err != nil {
			missing = append(missing, missingPeer{name, err.Error(), install})
			return
		}
		found = append(found, p)
	}

	// The Python peers: each flavor runs on the first interpreter that
	// has it (Debian's python3-uvloop is for /usr/bin/python3, which may
	// not be the python3 first on PATH).
	pythons := []string{cfg.python}
	if cfg.python == "" {
		pythons = []string{"python3", "/usr/bin/python3"}
	}
	var interps []string
	var pyErrs []string
	for _, name := range pythons {
		path, err := exec.LookPath(name)
		if err != nil {
			pyErrs = append(pyErrs, err.Error())
			continue
		}
		real, err := filepath.EvalSymlinks(path)
		if err != nil {
			real = path
		}
		if !slices.Contains(interps, real) {
			interps = append(interps, real)
		}
	}
	script := filepath.Join(dir, "asyncio_peer.py")
	for _, fl := range []struct{ name, flavor, install string }{
		{"CPython asyncio", "asyncio", installPython},
		{"uvloop", "uvloop", installUvloop},
		{"trio-asyncio", "trio-asyncio", installTrioAio},
	} {
		if len(interps) == 0 {
			missing = append(missing, missingPeer{fl.name, "no Python interpreter: " + strings.Join(pyErrs, "; "), installPython})
			continue
		}
		fmt.Fprintf(stderr, "bench: looking for %s\n", fl.name)
		var reasons []string
		for _, py := range interps {
			p, err := checkPeer(fl.name, []string{py, script, "--loop", fl.flavor}, dir)
			if err == nil {
				found = append(found, p)
				reasons = nil
				break
			}
			reasons = append(reasons, py+": "+err.Error())
		}
		if reasons != nil {
			missing = append(missing, missingPeer{fl.name, strings.Join(reasons, "; "), fl.install})
		}
	}

	if node, err := exec.LookPath(cfg.node); err != nil {
		missing = append(missing, missingPeer{"Node", fmt.Sprintf("no Node: %v", err), installNode})
	} else {
		check("Node", []string{node, filepath.Join(dir, "node_peer.js")}, installNode)
	}

	goTool, err := exec.LookPath(cfg.goTool)
	root := filepath.Dir(filepath.Dir(dir))
	switch {
	case err != nil:
		missing = append(missing, missingPeer{"goja_nodejs", fmt.Sprintf("no go command to build its peer: %v", err), installGo})
	case !fileExists(filepath.Join(root, "go.mod")) || !fileExists(filepath.Join(dir, "goja_nodejs", "main.go")):
		missing = append(missing, missingPeer{"goja_nodejs", "its peer's source (bench/peers/goja_nodejs) was not found", installSource})
	default:
		tmp, err := os.MkdirTemp("", "trioasyncio-bench-")
		if err != nil {
			missing = append(missing, missingPeer{"goja_nodejs", err.Error(), installGo})
			break
		}
		cleanup = func() { os.RemoveAll(tmp) }
		fmt.Fprintf(stderr, "bench: building the goja_nodejs peer (go build ./bench/peers/goja_nodejs)\n")
		bin := filepath.Join(tmp, "goja_nodejs_peer")
		if runtime.GOOS == "windows" {
			bin += ".exe"
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		build := exec.CommandContext(ctx, goTool, "build", "-o", bin, "./bench/peers/goja_nodejs")
		build.Dir = root
		out, err := build.CombinedOutput()
		cancel()
		if err != nil {
			missing = append(missing, missingPeer{"goja_nodejs", "its peer did not build: " + strings.TrimSpace(string(out)), installGo})
			break
		}
		check("goja_nodejs", []string{bin}, installGo)
	}
	return found, missing, cleanup
}

// checkPeer asks the peer program argv whether its system is there.
func checkPeer(name string, argv []string, dir string) (*peer, error) {
	p := &peer{name: name, argv: argv, dir: dir}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	line, err := p.call(ctx, "", "--check")
	if err != nil {
		return nil, err
	}
	p.impl, p.cases = line.Impl, line.Cases
	return p, nil
}

// locatePeersDir finds bench/peers: above the working directory, or
// beside this source file (go run keeps its path).
func locatePeersDir() string {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		starts = append(starts, filepath.Dir(file))
	}
	for _, d := range starts {
		for {
			cand := filepath.Join(d, "bench", "peers")
			if fileExists(filepath.Join(cand, "asyncio_peer.py")) {
				return cand
			}
			parent := filepath.Dir(d)
			if parent == d {
				break
			}
			d = parent
		}
	}
	return ""
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
