package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runBenchCmd runs the bench subcommand with args and returns its exit
// status, stdout and stderr.
func runBenchCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := benchMain(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func wantContains(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, s)
		}
	}
}

// The quick round measures every workload and its floors and prints the
// table, with a progress line per step on stderr.
func TestBench_quick(t *testing.T) {
	code, out, errOut := runBenchCmd(t, "-quick")
	if code != 0 {
		t.Fatalf("exit status: got %d, want 0\n%s\n%s", code, out, errOut)
	}
	for _, c := range benchCases() {
		wantContains(t, "the table", out, c.title)
	}
	wantContains(t, "the table", out,
		"quick round", "Go floor: slice-of-func queue", "Go floor: iter.Pull", "RunAsyncio(ctx, noop)",
		"gojaloop", "×", "cpu-ns/op", "W5 TCP echo", "rt/s", "Go floor: goroutine per connection")
	if strings.Contains(out, "Peers not found") {
		t.Errorf("the table speaks of peers without -peers:\n%s", out)
	}
	wantContains(t, "stderr", errOut, "bench [1/", "W1 callbacks: asyncio loop")
}

// -peers runs the peers found (python3 here) and names those that are
// not, with how to install them.
func TestBench_peers(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3 on this machine")
	}
	missing := filepath.Join(t.TempDir(), "no-such-binary")
	code, out, errOut := runBenchCmd(t, "-quick", "-peers", "-run", "^W1$",
		"-node", missing, "-go", missing)
	if code != 0 {
		t.Fatalf("exit status: got %d, want 0\n%s\n%s", code, out, errOut)
	}
	wantContains(t, "the table", out,
		"CPython 3.", "Side by side", "CPython asyncio",
		"Peers not found:",
		"Node: no Node", "apt-get install nodejs",
		"goja_nodejs: no go command", "install Go",
	)
	// The CPython figure has a ratio to the Go floor of the same run.
	for line := range strings.SplitSeq(out, "\n") {
		if strings.Contains(line, "CPython 3.") && !strings.Contains(line, "×") {
			t.Errorf("the CPython row has no ratio: %q", line)
		}
	}
	if strings.Contains(out, "Node v") {
		t.Errorf("the Node peer ran though its binary was missing:\n%s", out)
	}
}

// Without the peer programs, every peer is reported missing, with the
// way to fix it; the Go figures are still measured.
func TestBench_peersDirMissing(t *testing.T) {
	code, out, errOut := runBenchCmd(t, "-quick", "-peers", "-run", "^W1$",
		"-peers-dir", filepath.Join(t.TempDir(), "nowhere"))
	if code != 0 {
		t.Fatalf("exit status: got %d, want 0\n%s\n%s", code, out, errOut)
	}
	wantContains(t, "the table", out, "Go floor: slice-of-func queue", "Peers not found:")
	for _, name := range knownPeerNames {
		wantContains(t, "the table", out, "  "+name+": ")
	}
}

// The Node peer runs W7's scripts, the text gojaloop runs.
func TestBench_nodePeer(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("no node on this machine")
	}
	missing := filepath.Join(t.TempDir(), "no-such-binary")
	code, out, errOut := runBenchCmd(t, "-quick", "-peers", "-run", "W7-promise-chain|^W3$|^W5$",
		"-python", missing, "-go", missing)
	if code != 0 {
		t.Fatalf("exit status: got %d, want 0\n%s\n%s", code, out, errOut)
	}
	wantContains(t, "the table", out, "Node v", "W7 JS promise chain", "W3 ping-pong", "promises", "W5 TCP echo")
	for line := range strings.SplitSeq(out, "\n") {
		if strings.Contains(line, "Node v") && strings.Contains(line, "2,000") && !strings.Contains(line, "rt/s") {
			t.Errorf("Node's W5 row has no rt/s: %q", line)
		}
	}
}

// -json writes the raw figures; -svg a well-formed chart.
func TestBench_jsonSVG(t *testing.T) {
	dir := t.TempDir()
	jsonFile, svgFile := filepath.Join(dir, "bench.json"), filepath.Join(dir, "bench.svg")
	code, out, errOut := runBenchCmd(t, "-quick", "-run", "^W1$|^W3$|W6|W7-runonloop", "-json", jsonFile, "-svg", svgFile)
	if code != 0 {
		t.Fatalf("exit status: got %d, want 0\n%s\n%s", code, out, errOut)
	}

	data, err := os.ReadFile(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	var rep benchReport
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("the JSON: %v\n%s", err, data)
	}
	if !rep.Quick || rep.Count != 1 || rep.Go == "" || rep.CPUs < 1 {
		t.Errorf("the JSON's header: got %+v", rep)
	}
	kinds := map[string]int{}
	for _, f := range rep.Figures {
		kinds[f.Kind]++
		if f.Err != "" || f.NsPerOp <= 0 || f.N <= 0 || f.AllocsOp == nil || len(f.Samples) != f.Runs || f.Op == "" {
			t.Errorf("figure %s %s: got %+v, want a measurement", f.Case, f.Impl, *f)
		}
		if f.Kind == "floor" && f.Impl == "Go floor: slice-of-func queue" && (!f.Reference || f.Ratio != 1) {
			t.Errorf("W1's floor: got reference=%v ratio=%v, want the reference, at 1", f.Reference, f.Ratio)
		}
		if f.Kind == "loop" && f.Case != "W7-runonloop" && f.Ratio <= 0 {
			t.Errorf("%s: got ratio %v, want > 0", f.Title, f.Ratio)
		}
	}
	if kinds["loop"] != 5 || kinds["floor"] != 5 || kinds["peer"] != 0 {
		t.Errorf("figures by kind: got %v, want 5 loop, 5 floor, no peer", kinds)
	}

	svg, err := os.ReadFile(svgFile)
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(svg))
	var root string
	rects, texts := 0, 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed: %v\n%s", err, svg)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root == "" {
				root = se.Name.Local
				if se.Name.Space != "http://www.w3.org/2000/svg" {
					t.Errorf("the SVG's namespace: got %q", se.Name.Space)
				}
			}
			switch se.Name.Local {
			case "rect":
				rects++
			case "text":
				texts++
			}
		}
	}
	if root != "svg" {
		t.Errorf("the SVG's root: got %q, want svg", root)
	}
	// A background and one bar per figure that is not its case's
	// reference (W7 has none without -peers): W1 loop, W3 loop and chan,
	// two W6 calls.
	if rects != 1+5 {
		t.Errorf("rects: got %d, want %d\n%s", rects, 1+5, svg)
	}
	wantContains(t, "the SVG", string(svg), "W1 callbacks", "W6 trio→asyncio", "1×")
}

// -h prints the flags and succeeds; a wrong flag or argument is a usage
// error; a -run that matches nothing is an error.
func TestBench_usage(t *testing.T) {
	if code, _, errOut := runBenchCmd(t, "-h"); code != 0 || !strings.Contains(errOut, "-peers") {
		t.Errorf("-h: got %d %q, want 0 and the flags", code, errOut)
	}
	if code, _, _ := runBenchCmd(t, "-nosuchflag"); code != 2 {
		t.Errorf("a wrong flag: got %d, want 2", code)
	}
	if code, _, _ := runBenchCmd(t, "extra"); code != 2 {
		t.Errorf("an argument: got %d, want 2", code)
	}
	if code, _, errOut := runBenchCmd(t, "-run", "^nothing$"); code != 1 || !strings.Contains(errOut, "matches no workload") {
		t.Errorf("-run nothing: got %d %q, want 1", code, errOut)
	}
}
