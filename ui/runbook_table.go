package ui

import "strings"

// Cell alignments of a table column.
const (
	alignLeft = iota
	alignRight
	alignCenter
)

// docTable is a GFM table of a runbook: its rows (the first is the
// header) of cells of inert spans, laid out to the width of the page
// when the document is wrapped.
type docTable struct {
	aligns []int
	rows   [][][]span
	natW   []int // each column's widest cell, measured once
}

// cellLine is one cell of a table row on screen: its spans cut to w
// cells (ending "…" when cut) and aligned.
type cellLine struct {
	x, w  int
	align int
	spans []span
}

// tableGap is the space between two columns.
const tableGap = 2

// layout places the table's columns in avail cells from column indent:
// every column as wide as its widest cell when they fit; when not, the
// narrow columns keep their width and the wide ones share what is left,
// their cells cut with "…". No rule is drawn under the header: it is
// set in the title style.
func (t *docTable) layout(p *painter, avail, indent int) [][]cellLine {
	cols := len(t.aligns)
	if t.natW == nil {
		t.natW = make([]int, cols)
		for _, row := range t.rows {
			for i, c := range row {
				if i < cols {
					t.natW[i] = max(t.natW[i], p.width(spansText(c)))
				}
			}
		}
	}
	widths := append([]int(nil), t.natW...)
	room := avail - tableGap*(cols-1)
	total := 0
	for _, w := range widths {
		total += w
	}
	if total > room {
		order := make([]int, cols) // narrowest first
		for i := range order {
			order[i] = i
		}
		for i := 1; i < cols; i++ {
			for j := i; j > 0 && t.natW[order[j]] < t.natW[order[j-1]]; j-- {
				order[j], order[j-1] = order[j-1], order[j]
			}
		}
		left := room
		for k, i := range order {
			share := max(left/(cols-k), 1)
			widths[i] = min(t.natW[i], share)
			left -= widths[i]
		}
	}
	out := make([][]cellLine, 0, len(t.rows))
	for _, row := range t.rows {
		line := make([]cellLine, 0, cols)
		x := indent
		for i := 0; i < cols; i++ {
			var c []span
			if i < len(row) {
				c = row[i]
			}
			line = append(line, cellLine{x: x, w: widths[i], align: t.aligns[i], spans: c})
			x += widths[i] + tableGap
		}
		out = append(out, line)
	}
	return out
}

// draw paints the cell at row y of a page that starts at x0 and is w
// cells wide.
func (c *cellLine) draw(p *painter, x0, y, w int) {
	cw := min(c.w, w-c.x)
	if cw <= 0 {
		return
	}
	ss := fitSpans(p, c.spans, cw)
	used := 0
	for _, s := range ss {
		used += p.width(s.text)
	}
	x := x0 + c.x
	switch c.align {
	case alignRight:
		x += cw - used
	case alignCenter:
		x += (cw - used) / 2
	}
	for _, s := range ss {
		x += p.text(x, y, x0+c.x+cw-x, s.text, s.st)
	}
}

// fitSpans cuts spans to at most w cells, the last cell "…" when cut.
func fitSpans(p *painter, ss []span, w int) []span {
	total := 0
	for _, s := range ss {
		total += p.width(s.text)
	}
	if total <= w {
		return ss
	}
	out := make([]span, 0, len(ss))
	used := 0
	for _, s := range ss {
		var b strings.Builder
		rest := s.text
		for rest != "" {
			g, next, gw := p.next(rest)
			if used+gw > w-1 {
				break
			}
			b.WriteString(g)
			used += gw
			rest = next
		}
		if b.Len() > 0 {
			out = append(out, span{text: b.String(), st: s.st})
		}
		if rest != "" {
			last := s.st
			out = append(out, span{text: "…", st: last})
			break
		}
	}
	return out
}
