package main

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// renderSVG draws the report as horizontal bars: each figure's ratio to
// its case's reference (time per op ÷ the reference's), on a log scale,
// the bars starting at 1× (the reference). Hand-written SVG, no script,
// no external style, so it displays as an image anywhere (README).
func renderSVG(rep *benchReport) string {
	type bar struct {
		label, value, color string
		ratio               float64
	}
	type group struct {
		title, ref string
		bars       []bar
	}
	var groups []group
	lo, hi := 1.0, 10.0
	for _, c := range caseOrder(rep) {
		var g group
		for _, f := range rep.Figures {
			if f.Case != c || f.Err != "" || f.Ratio <= 0 {
				continue
			}
			g.title = f.Title
			label := f.Impl
			if f.Kind == "peer" {
				label = f.Peer
			}
			if f.Reference {
				g.ref = label + " = 1× (" + fmtNs(f.NsPerOp) + " ns/op)"
				continue
			}
			g.bars = append(g.bars, bar{label, fmtRatio(f.Ratio), svgColor(f), f.Ratio})
			lo, hi = math.Min(lo, f.Ratio), math.Max(hi, f.Ratio)
		}
		if len(g.bars) > 0 {
			groups = append(groups, g)
		}
	}
	loExp, hiExp := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))

	const (
		width    = 880
		labelW   = 300 // the labels, left of the chart
		chartW   = 500
		rowH     = 16
		barH     = 11
		groupGap = 12
		titleH   = 58
	)
	x := func(r float64) float64 {
		return labelW + chartW*(math.Log10(r)-loExp)/(hiExp-loExp)
	}
	height := titleH + 20
	for _, g := range groups {
		height += rowH*(len(g.bars)+1) + groupGap
	}

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n",
		width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="10" y="18" font-size="14" font-weight="bold">%s</text>`+"\n",
		esc("trioasyncio bench: time per op ÷ the reference measured in the same run (log scale, lower is faster)"))
	machine := fmt.Sprintf("%s, %s %s/%s, %d CPUs", rep.Date.Format("2006-01-02"), rep.Go, rep.OS, rep.Arch, rep.CPUs)
	if rep.CPU != "" {
		machine += " (" + rep.CPU + ")"
	}
	if rep.Quick {
		machine += ", quick round"
	}
	fmt.Fprintf(&b, `<text x="10" y="34" fill="#555555">%s</text>`+"\n",
		esc(machine+"; the reference is the first Go floor, or goja_nodejs for W7"))

	// The scale's labels; the grid is drawn per group, beside the bars
	// only, so that it never crosses a group's title line.
	for e := loExp; e <= hiExp; e++ {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#555555">%s</text>`+"\n",
			x(math.Pow(10, e)), titleH-10, esc(fmtRatio(math.Pow(10, e))))
	}
	grid := func(y0, y1 float64) {
		for e := loExp; e <= hiExp; e++ {
			sw, col := "1", "#dddddd"
			if e == 0 {
				sw, col = "2", "#333333"
			}
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="%s" stroke-width="%s"/>`+"\n",
				x(math.Pow(10, e)), y0, x(math.Pow(10, e)), y1, col, sw)
		}
	}

	y := float64(titleH)
	for _, g := range groups {
		fmt.Fprintf(&b, `<text x="10" y="%.0f"><tspan font-weight="bold">%s</tspan>`, y+12, esc(g.title))
		if g.ref != "" {
			fmt.Fprintf(&b, `<tspan dx="12" fill="#555555">reference: %s</tspan>`, esc(g.ref))
		}
		b.WriteString("</text>\n")
		y += rowH
		grid(y-2, y+float64(rowH*len(g.bars))+2)
		for _, br := range g.bars {
			x0, x1 := x(1), x(br.ratio)
			if x1 < x0 {
				x0, x1 = x1, x0
			}
			fmt.Fprintf(&b, `<text x="%d" y="%.0f" text-anchor="end">%s</text>`+"\n", labelW-8, y+10, esc(br.label))
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.0f" width="%.1f" height="%d" fill="%s"><title>%s</title></rect>`+"\n",
				x0, y+1, math.Max(x1-x0, 1), barH, br.color, esc(br.label+": "+br.value))
			fmt.Fprintf(&b, `<text x="%.1f" y="%.0f">%s</text>`+"\n", math.Max(x(br.ratio), x(1))+4, y+10, esc(br.value))
			y += rowH
		}
		y += groupGap
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func svgColor(f *figure) string {
	switch {
	case f.Kind == "loop":
		return "#1f77b4"
	case f.Kind == "floor":
		return "#aaaaaa"
	}
	switch f.Peer {
	case "CPython asyncio":
		return "#d62728"
	case "uvloop":
		return "#ff7f0e"
	case "trio-asyncio":
		return "#9467bd"
	case "Node":
		return "#2ca02c"
	case "goja_nodejs":
		return "#8c564b"
	}
	return "#7f7f7f"
}

func esc(s string) string { return html.EscapeString(s) }
