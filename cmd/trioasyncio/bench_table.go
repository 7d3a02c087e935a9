package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// writeTable prints the report: every figure with its ratio, then (with
// peers) the side-by-side matrix, then what could not be measured.
func writeTable(w io.Writer, rep *benchReport) {
	fmt.Fprintf(w, "trioasyncio bench: %s %s/%s, %d CPUs", rep.Go, rep.OS, rep.Arch, rep.CPUs)
	if rep.CPU != "" {
		fmt.Fprintf(w, " (%s)", rep.CPU)
	}
	fmt.Fprintf(w, ", %s, ", rep.Date.Format("2006-01-02 15:04 MST"))
	if rep.Count == 1 {
		fmt.Fprint(w, "one run of each")
	} else {
		fmt.Fprintf(w, "median of %d runs", rep.Count)
	}
	if rep.Quick {
		fmt.Fprint(w, ", quick round (small n: indicative only)")
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "ratio = time per op / the reference's (marked *), measured in this run: the first Go floor, or goja_nodejs for W7.")
	fmt.Fprintln(w)

	rows := [][]string{{"workload", "", "implementation", "n", "ns/op", "allocs/op", "ratio", "notes"}}
	last := ""
	for _, f := range rep.Figures {
		title := ""
		if f.Case != last {
			title = f.Title
			last = f.Case
		}
		mark := " "
		if f.Reference {
			mark = "*"
		}
		if f.Pending != "" {
			rows = append(rows, []string{title, mark, f.Impl, "", "—", "", "", f.Pending})
			continue
		}
		if f.Err != "" {
			rows = append(rows, []string{title, mark, f.Impl, "", "failed", "", "", f.Err})
			continue
		}
		rows = append(rows, []string{title, mark, f.Impl, commas(float64(f.N)),
			fmtNs(f.NsPerOp), fmtAllocs(f.AllocsOp), fmtRatio(f.Ratio), notes(f)})
	}
	writeGrid(w, rows, "lllrrrrl")

	if peers := peerNames(rep); len(peers) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Side by side: ns per op (ratio to the row's reference, measured in this run; lower is faster):")
		fmt.Fprintln(w)
		rows := [][]string{append(append([]string{"workload", "this project"}, peers...), "reference")}
		for _, c := range caseOrder(rep) {
			var ours, ref *figure
			byPeer := map[string]*figure{}
			for _, f := range rep.Figures {
				if f.Case != c {
					continue
				}
				switch {
				case f.Kind == "loop" && ours == nil:
					ours = f
				case f.Kind == "peer":
					byPeer[f.Peer] = f
				}
				if f.Reference {
					ref = f
				}
			}
			if ours == nil || ours.Err != "" || ours.Pending != "" {
				continue
			}
			row := []string{ours.Title + ", ns/" + ours.Op, cell(ours)}
			for _, p := range peers {
				row = append(row, cell(byPeer[p]))
			}
			refCell := "—"
			if ref != nil {
				refCell = fmtNs(ref.NsPerOp) + " (" + ref.Impl + ")"
				if ref.Kind == "peer" {
					refCell = fmtNs(ref.NsPerOp) + " (" + ref.Peer + ")"
				}
			}
			rows = append(rows, append(row, refCell))
		}
		writeGrid(w, rows, "l"+strings.Repeat("r", len(peers)+1)+"l")
	}
	if len(rep.Missing) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Peers not found:")
		for _, m := range rep.Missing {
			fmt.Fprintf(w, "  %s: %s\n      to install: %s\n", m.Peer, m.Reason, m.Install)
		}
	}
}

// peerNames lists the peers that have a figure, in the order of
// knownPeers.
func peerNames(rep *benchReport) []string {
	seen := map[string]bool{}
	for _, f := range rep.Figures {
		if f.Kind == "peer" {
			seen[f.Peer] = true
		}
	}
	var names []string
	for _, p := range knownPeerNames {
		if seen[p] {
			names = append(names, p)
			delete(seen, p)
		}
	}
	return append(names, slices.Sorted(maps.Keys(seen))...)
}

func caseOrder(rep *benchReport) []string {
	var ids []string
	for _, f := range rep.Figures {
		if !slices.Contains(ids, f.Case) {
			ids = append(ids, f.Case)
		}
	}
	return ids
}

func cell(f *figure) string {
	if f == nil {
		return "—"
	}
	if f.Err != "" {
		return "failed"
	}
	if f.Ratio == 0 {
		return fmtNs(f.NsPerOp)
	}
	return fmtNs(f.NsPerOp) + " (" + fmtRatio(f.Ratio) + ")"
}

func fmtNs(ns float64) string {
	switch {
	case ns < 10:
		return strconv.FormatFloat(ns, 'f', 2, 64)
	case ns < 100:
		return strconv.FormatFloat(ns, 'f', 1, 64)
	default:
		return commas(ns)
	}
}

func fmtAllocs(a *float64) string {
	if a == nil {
		return "—"
	}
	if *a < 100 {
		return strconv.FormatFloat(*a, 'f', 2, 64)
	}
	return commas(*a)
}

func fmtRatio(r float64) string {
	switch {
	case r == 0:
		return "—"
	case r < 10:
		return strconv.FormatFloat(r, 'f', 2, 64) + "×"
	case r < 100:
		return strconv.FormatFloat(r, 'f', 1, 64) + "×"
	default:
		return commas(r) + "×"
	}
}

// notes is the notes column: the figure's note and its metrics.
func notes(f *figure) string {
	s := fmtMetrics(f.Metrics)
	if f.Note != "" && s != "" {
		return s + "; " + f.Note
	}
	return s + f.Note
}

func fmtMetrics(m map[string]float64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		s := strconv.FormatFloat(v, 'g', 4, 64)
		if v >= 100 {
			s = commas(v)
		}
		parts = append(parts, s+" "+k)
	}
	return strings.Join(parts, ", ")
}

// commas formats x rounded to an integer with thousands separators.
func commas(x float64) string {
	s := strconv.FormatFloat(x, 'f', 0, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// writeGrid prints rows as columns two spaces apart; align has one letter
// per column, l (left) or r (right).
func writeGrid(w io.Writer, rows [][]string, align string) {
	widths := make([]int, len(align))
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		for i, c := range row {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i > 0 {
				b.WriteString("  ")
			}
			if align[i] == 'r' {
				b.WriteString(pad + c)
			} else {
				b.WriteString(c + pad)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}
