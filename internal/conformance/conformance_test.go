// Package conformance checks that CONFORMANCE.md, the map of upstream test
// cases to this project's tests, stays true: every Go test a row cites
// exists, each file's header and the summary table count what its rows
// say, and every case still PARTIAL or MISSING is listed with its reason.
//
// After editing rows, rewrite the counts with
//
//	go test ./internal/conformance -update
package conformance

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the counts in CONFORMANCE.md from its rows")

const docPath = "../../CONFORMANCE.md"

var statuses = []string{"COVERED", "PARTIAL", "MISSING", "N/A", "I/O"}

type counts map[string]int

func (c counts) total() int {
	n := 0
	for _, s := range statuses {
		n += c[s]
	}
	return n
}

// coverage is COVERED / (total − N/A − I/O), rounded down so that a file
// at 94.9% does not read as 95%.
func (c counts) coverage() string {
	den := c.total() - c["N/A"] - c["I/O"]
	if den == 0 {
		return "—"
	}
	return fmt.Sprintf("%d%%", c["COVERED"]*100/den)
}

func (c counts) add(d counts) {
	for _, s := range statuses {
		c[s] += d[s]
	}
}

type row struct {
	file, upstream, status, test, note string
	line                               int
}

type section struct {
	title  string // "CPython test_futures.py"
	group  string // "CPython"
	header int    // line index of the "Total …" sentence, or -1
	rows   []row
	counts counts
}

var (
	headerRE  = regexp.MustCompile(`Total \d+; covered \d+, partial \d+, missing \d+, N/A \d+, I/O \d+; coverage (\d+%|—)\.`)
	summaryRE = regexp.MustCompile(`^\| (\*\*)?(.+?)(\*\*)? \|( \**\d+\**\s*\|){6} \**(\d+%|—)\** \|$`)
)

// parse reads the document's per-file sections (### headings under a
// ## group heading) and their table rows.
func parse(t *testing.T, lines []string) []*section {
	var secs []*section
	var group string
	var cur *section
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "## "):
			group = strings.TrimPrefix(l, "## ")
			cur = nil
		case strings.HasPrefix(l, "### "):
			cur = &section{title: strings.TrimPrefix(l, "### "), group: group, header: -1, counts: counts{}}
			secs = append(secs, cur)
		case cur != nil && headerRE.MatchString(l) && cur.header < 0:
			cur.header = i
		case cur != nil && strings.HasPrefix(l, "| `"):
			cells := splitRow(l)
			if len(cells) < 4 {
				t.Errorf("CONFORMANCE.md:%d: a row needs 4 cells: %s", i+1, l)
				continue
			}
			r := row{file: cur.title, upstream: strings.Trim(cells[0], "`"), status: cells[1],
				test: strings.Trim(cells[2], "`"), note: cells[3], line: i + 1}
			known := false
			for _, s := range statuses {
				known = known || r.status == s
			}
			if !known {
				t.Errorf("CONFORMANCE.md:%d: unknown status %q", r.line, r.status)
				continue
			}
			cur.rows = append(cur.rows, r)
			cur.counts[r.status]++
		}
	}
	return secs
}

// splitRow splits a table row on the unescaped pipes between its cells.
func splitRow(l string) []string {
	l = strings.TrimSuffix(strings.TrimPrefix(l, "| "), " |")
	var cells []string
	var b strings.Builder
	for i := 0; i < len(l); i++ {
		switch {
		case l[i] == '\\' && i+1 < len(l) && l[i+1] == '|':
			b.WriteString(`\|`)
			i++
		case strings.HasPrefix(l[i:], " | "):
			cells = append(cells, b.String())
			b.Reset()
			i += 2
		default:
			b.WriteByte(l[i])
		}
	}
	return append(cells, b.String())
}

// goTests returns the names of the Test and Example functions of the
// module's test files.
func goTests(t *testing.T) map[string]bool {
	names := map[string]bool{}
	fn := regexp.MustCompile(`(?m)^func ((Test|Example)\w*)\(`)
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != "../.." {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range fn.FindAllStringSubmatch(string(src), -1) {
			names[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func TestConformanceMap(t *testing.T) {
	src, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	secs := parse(t, lines)
	if len(secs) == 0 {
		t.Fatal("no per-file sections found")
	}
	tests := goTests(t)

	// Every row that claims a Go test cites one that exists; a COVERED or
	// PARTIAL row must cite one.
	for _, s := range secs {
		for _, r := range s.rows {
			switch {
			case r.test != "" && !tests[r.test]:
				t.Errorf("CONFORMANCE.md:%d: %s cites %s, which no test file defines", r.line, r.upstream, r.test)
			case r.test == "" && (r.status == "COVERED" || r.status == "PARTIAL"):
				t.Errorf("CONFORMANCE.md:%d: %s is %s but cites no Go test", r.line, r.upstream, r.status)
			}
		}
	}

	// Every case still PARTIAL or MISSING is listed under the remaining
	// misses, with its reason.
	misses := section0(lines, "## Remaining misses")
	for _, s := range secs {
		for _, r := range s.rows {
			if (r.status == "PARTIAL" || r.status == "MISSING") && !strings.Contains(misses, "`"+r.upstream+"`") {
				t.Errorf("CONFORMANCE.md:%d: %s is %s but not listed under \"Remaining misses\"", r.line, r.upstream, r.status)
			}
		}
	}

	// The counts: each file's header sentence and the summary table.
	want := map[string]string{}
	groups := map[string]counts{}
	var order []string
	for _, s := range secs {
		if s.header < 0 {
			t.Errorf("%s: no \"Total …; coverage …\" sentence", s.title)
			continue
		}
		c := s.counts
		sentence := fmt.Sprintf("Total %d; covered %d, partial %d, missing %d, N/A %d, I/O %d; coverage %s.",
			c.total(), c["COVERED"], c["PARTIAL"], c["MISSING"], c["N/A"], c["I/O"], c.coverage())
		if got := headerRE.FindString(lines[s.header]); got != sentence {
			if *update {
				lines[s.header] = headerRE.ReplaceAllLiteralString(lines[s.header], sentence)
			} else {
				t.Errorf("%s: header says %q, its rows say %q (go test ./internal/conformance -update)", s.title, got, sentence)
			}
		}
		want[s.title] = summaryRow(s.title, c, false)
		if groups[s.group] == nil {
			groups[s.group] = counts{}
			order = append(order, s.group)
		}
		groups[s.group].add(c)
	}
	for _, g := range order {
		want[g+" total"] = summaryRow(g+" total", groups[g], true)
	}
	seen := map[string]bool{}
	for i, l := range lines {
		m := summaryRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		name := m[2]
		w, ok := want[name]
		if !ok {
			t.Errorf("CONFORMANCE.md:%d: summary row %q has no section", i+1, name)
			continue
		}
		seen[name] = true
		if l != w {
			if *update {
				lines[i] = w
			} else {
				t.Errorf("CONFORMANCE.md:%d: summary row\n  is   %s\n  want %s\n(go test ./internal/conformance -update)", i+1, l, w)
			}
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("the summary table has no row for %q", name)
		}
	}
	if *update {
		if err := os.WriteFile(docPath, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func summaryRow(name string, c counts, bold bool) string {
	cells := []string{name}
	for _, n := range []int{c.total(), c["COVERED"], c["PARTIAL"], c["MISSING"], c["N/A"], c["I/O"]} {
		cells = append(cells, fmt.Sprint(n))
	}
	cells = append(cells, c.coverage())
	if bold {
		for i, s := range cells {
			cells[i] = "**" + s + "**"
		}
	}
	return "| " + strings.Join(cells, " | ") + " |"
}

// section0 returns the text under the heading that starts with prefix, up
// to the next heading of the same or a higher level.
func section0(lines []string, prefix string) string {
	var b strings.Builder
	in := false
	for _, l := range lines {
		if strings.HasPrefix(l, "## ") || strings.HasPrefix(l, "# ") {
			in = strings.HasPrefix(l, prefix)
			continue
		}
		if in {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}
