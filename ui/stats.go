package ui

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/guptarohit/asciigraph"

	"sitroom/model"
)

// The NOC statistics laid out for a terminal: `sitroom stats --format text`
// (StatsText) and the console's Stats view (stats_view.go) draw the same
// lines, so what the ops lead reads in a shell and on the console agree.
// Every figure is model.Stats' (model.BuildStats); this file only lays
// them out: a summary, charts drawn with block glyphs (outages per
// bucket, the top lists as bars) and line charts of MTTA and MTTR
// (asciigraph), then the per-bucket and per-shift tables.

// StatsTextOptions say how StatsText draws.
type StatsTextOptions struct {
	// Width is the terminal's width in cells; below StatsMinWidth it is
	// StatsMinWidth, 0 is StatsDefaultWidth.
	Width int
	// Color writes ANSI colours (SGR); the text reads the same without.
	Color bool
	// Span names the window in words ("the last 7 days") where the
	// report says there was nothing; "" says "this period".
	Span string
}

// Widths of the text report.
const (
	StatsDefaultWidth = 100
	StatsMinWidth     = 60
)

// statsClass is what a piece of a stats line is, drawn as a colour on a
// terminal (ANSI) or a theme style on the console.
type statsClass uint8

const (
	scBase statsClass = iota
	scDim
	scTitle
	scHead // a table's column headings
	scCrit
	scWarn
	scOK
	scBar  // bars and lines of the charts
	scBar2 // the second series
)

// statsSpan is a piece of a stats line; its text is inert.
type statsSpan struct {
	text string
	c    statsClass
}

// statsLine is one line of the layout.
type statsLine []statsSpan

func (l statsLine) text() string {
	var b strings.Builder
	for _, s := range l {
		b.WriteString(s.text)
	}
	return b.String()
}

// trimRight is l without the blanks that end it.
func (l statsLine) trimRight() statsLine {
	for len(l) > 0 {
		last := &l[len(l)-1]
		t := strings.TrimRight(last.text, " ")
		if t != "" {
			out := append(statsLine(nil), l...)
			out[len(out)-1].text = t
			return out
		}
		l = l[:len(l)-1]
	}
	return l
}

// sgr is the ANSI colour of each class.
var sgr = [...]string{scBase: "", scDim: "2", scTitle: "1", scHead: "1", scCrit: "31", scWarn: "33", scOK: "32", scBar: "36", scBar2: "35"}

// StatsText writes s as the text report, laid out for opt.Width columns.
func StatsText(w io.Writer, s *model.Stats, opt StatsTextOptions) error {
	width := opt.Width
	if width == 0 {
		width = StatsDefaultWidth
	}
	width = max(width, StatsMinWidth)
	var b strings.Builder
	for _, l := range statsLines(s, width, opt.Span, false) {
		l = l.trimRight()
		var line strings.Builder
		for _, sp := range l {
			if opt.Color && sgr[sp.c] != "" && sp.text != "" {
				line.WriteString("\x1b[" + sgr[sp.c] + "m" + sp.text + "\x1b[0m")
			} else {
				line.WriteString(sp.text)
			}
		}
		b.WriteString(line.String())
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// statsLayout accumulates the lines of the layout.
type statsLayout struct {
	lines []statsLine
	w     int
	p     *painter
	loc   *time.Location
	s     *model.Stats
	// view: the console's Stats view, whose box title already names
	// the window, the bucket and the service.
	view bool
}

func (l *statsLayout) add(spans ...statsSpan) { l.lines = append(l.lines, statsLine(spans)) }
func (l *statsLayout) blank()                 { l.lines = append(l.lines, nil) }
func (l *statsLayout) heading(t string)       { l.blank(); l.add(statsSpan{t, scTitle}) }

func sp(t string, c statsClass) statsSpan { return statsSpan{t, c} }

// width is how many cells t takes.
func (l *statsLayout) width(t string) int { return l.p.width(t) }

// fit cuts t to n cells ("…" at the end) or pads it with spaces to n.
func (l *statsLayout) fit(t string, n int) string {
	if n <= 0 {
		return ""
	}
	if l.width(t) > n {
		t = l.p.truncate(t, n)
	}
	return t + strings.Repeat(" ", max(n-l.width(t), 0))
}

// right pads t on the left to n cells.
func (l *statsLayout) right(t string, n int) string {
	return strings.Repeat(" ", max(n-l.width(t), 0)) + t
}

// statsLines lays s out for width cells. span names the window in words
// for the "nothing happened" lines; view lays it out for the Stats view
// (its title says less: the box's title says the rest).
func statsLines(s *model.Stats, width int, span string, view bool) []statsLine {
	loc, err := time.LoadLocation(s.Zone)
	if err != nil || s.Zone == "" {
		loc = time.UTC
	}
	l := &statsLayout{w: width, p: newPainter(nil), loc: loc, s: s, view: view}
	if span == "" {
		span = "this period"
	}
	if view && width >= statsTwoColumns {
		// Two columns: the summary and charts on the left, the top lists
		// and tables on the right.
		lw := (width - 3) / 2
		left := &statsLayout{w: lw, p: l.p, loc: loc, s: s, view: true}
		left.head(span)
		right := &statsLayout{w: width - lw - 3, p: l.p, loc: loc, s: s, view: true}
		right.rest()
		rs := right.lines
		if len(rs) > 0 && rs[0] == nil {
			rs = rs[1:] // the blank line over the first heading
		}
		for i := 0; i < max(len(left.lines), len(rs)); i++ {
			var row statsLine
			used := 0
			if i < len(left.lines) {
				row = append(row, left.lines[i].trimRight()...)
				used = l.width(row.text())
			}
			row = append(row, sp(strings.Repeat(" ", max(lw-used, 0))+" │ ", scDim))
			if i < len(rs) {
				row = append(row, rs[i]...)
			}
			l.lines = append(l.lines, row)
		}
		return l.lines
	}
	l.head(span)
	l.rest()
	return l.lines
}

// statsTwoColumns is the width from which the Stats view shows two
// columns.
const statsTwoColumns = 150

// head lays out the title, the summary and the charts.
func (l *statsLayout) head(span string) []statsLine {
	s := l.s
	l.title()
	l.summary(span)
	if s.Totals.Outages > 0 || s.Totals.Alerts > 0 {
		l.outageChart()
		l.lineCharts()
	}
	return l.lines
}

// rest lays out the top lists and the per-bucket and per-shift tables.
func (l *statsLayout) rest() {
	s := l.s
	l.tops()
	if s.Totals.Outages > 0 || s.Totals.Alerts > 0 || s.Totals.AcksExpired > 0 || sumMap(s.Totals.Escalations) > 0 {
		l.bucketTable()
		l.shiftTable()
	}
}

// bucketWord is the bucket's name: "day" or "week".
func bucketWord(b model.StatsBucket) string {
	if b == model.BucketWeek {
		return "week"
	}
	return "day"
}

func (l *statsLayout) title() {
	s := l.s
	from, to := s.From.In(l.loc), s.To.In(l.loc)
	last := to.Add(-time.Nanosecond)
	zone := l.loc.String()
	if zone == "Local" {
		zone = from.Format("MST") // the host's zone, by its abbreviation
	}
	dates := from.Format("Mon 2 Jan 2006") + " – " + last.Format("Mon 2 Jan 2006") + " (" + zone + ")"
	if l.view {
		if s.Shift != "" {
			dates += " · shift " + cellText(s.Shift)
		}
		l.add(sp(dates, scDim))
		l.whose()
		return
	}
	parts := []string{"NOC statistics", dates, "by " + bucketWord(s.Bucket)}
	switch {
	case s.Service != "":
		parts = append(parts, "service "+cellText(s.Service))
	case s.Team != "":
		parts = append(parts, "team "+cellText(s.Team))
	default:
		parts = append(parts, "all services")
	}
	if s.Shift != "" {
		parts = append(parts, "shift "+cellText(s.Shift))
	}
	line := parts[0]
	for _, part := range parts[1:] {
		if l.width(line+" · "+part) > l.w {
			l.add(sp(line, scTitle))
			line = part
			continue
		}
		line += " · " + part
	}
	l.add(sp(line, scTitle))
	l.whose()
}

// whose says whose history the figures are: this host's, the team's, or
// this host's because the team store could not be read.
func (l *statsLayout) whose() {
	s := l.s
	whose := "this host's history"
	if s.Whose == "team" {
		whose = "the team's history (every host's view)"
	}
	if s.WhoseDetail != "" || s.WhoseError != "" {
		d := cellText(s.WhoseDetail)
		if d == "" {
			d = model.TeamUnreachableNote
		}
		if s.WhoseError != "" {
			d += ": " + cellText(s.WhoseError)
		}
		l.add(sp(d, scWarn))
		return
	}
	l.add(sp(whose, scDim))
}

// dur is a median or p90 as the handoff writes durations; "–" for none.
func dur(p *int64) string {
	if p == nil {
		return "–"
	}
	return model.FormatSeconds(*p)
}

func (l *statsLayout) summary(span string) {
	t := &l.s.Totals
	const lw = 14
	row := func(label string, spans ...statsSpan) {
		l.add(append([]statsSpan{sp(l.fit(label, lw), scDim)}, spans...)...)
	}
	l.blank()
	if t.Outages == 0 {
		row("Outages", sp("no outages in "+span, scOK))
	} else {
		spans := []statsSpan{sp(model.Plural(t.Outages, "outage", "outages"), scBase)}
		if sev := severityText(t.BySeverity); sev != "" {
			spans = append(spans, sp(" ("+sev+")", scDim))
		}
		row("Outages", spans...)
	}
	if t.TTASamples > 0 {
		row("MTTA", sp("p50 "+dur(t.TTAP50)+" · p90 "+dur(t.TTAP90), scBase), sp(" ("+model.Plural(t.TTASamples, "outage", "outages")+" acknowledged)", scDim))
	} else if t.Outages > 0 {
		row("MTTA", sp("no outage acknowledged", scWarn))
	}
	if t.TTRSamples > 0 {
		row("MTTR", sp("p50 "+dur(t.TTRP50)+" · p90 "+dur(t.TTRP90), scBase), sp(" ("+model.Plural(t.TTRSamples, "outage", "outages")+" resolved)", scDim))
	} else if t.Outages > 0 {
		row("MTTR", sp("no outage resolved", scWarn))
	}
	if n := sumMap(t.Escalations); n > 0 {
		row("Escalations", sp(model.Plural(n, "escalation", "escalations"), scBase), sp(" ("+levelsText(t.Escalations)+")", scDim))
	} else {
		row("Escalations", sp("none", scDim))
	}
	if t.AcksExpired > 0 {
		row("Acks expired", sp(model.Plural(t.AcksExpired, "ack", "acks")+" lapsed while the outage was open", scWarn))
	} else {
		row("Acks expired", sp("none", scDim))
	}
	if t.Alerts > 0 {
		row("Alerts", sp(groupDigits(t.Alerts)+" began firing", scBase))
	} else {
		row("Alerts", sp("none began firing", scDim))
	}
	if !l.s.HasTickets {
		row("Tickets", sp("no ticket source", scDim))
		return
	}
	tiers := sortedKeys(t.Tickets)
	if len(tiers) == 0 {
		row("Tickets", sp("none opened or closed", scDim))
	}
	for _, tier := range tiers {
		c := t.Tickets[tier]
		cls := scBase
		if c.Breached > 0 {
			cls = scWarn
		}
		row("Tickets T"+tier, sp(fmt.Sprintf("%s opened · %s closed · %s past SLA", groupDigits(c.Opened), groupDigits(c.Closed), groupDigits(c.Breached)), cls))
	}
}

// severityText is "critical 3 · warning 9", most severe first.
func severityText(m map[model.Severity]int) string {
	var parts []string
	for _, sev := range []struct {
		s    model.Severity
		name string
	}{{model.SevCritical, "critical"}, {model.SevWarning, "warning"}, {model.SevInfo, "info"}, {model.SevNone, "no severity"}} {
		if n := m[sev.s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", sev.name, n))
		}
	}
	return strings.Join(parts, " · ")
}

func levelsText(m map[string]int) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, "level "+cellText(k)+": "+strconv.Itoa(m[k]))
	}
	return strings.Join(parts, " · ")
}

func sumMap(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// sortedKeys are m's keys in numeric order when they are numbers.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	num := func(k string) int {
		n, err := strconv.Atoi(k)
		if err != nil {
			return math.MaxInt
		}
		return n
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0; j-- {
			a, b := keys[j-1], keys[j]
			if num(a) > num(b) || num(a) == num(b) && a > b {
				keys[j-1], keys[j] = b, a
			}
		}
	}
	return keys
}

// bucketLabel is a bucket's start as a row label: "Mon 2 Feb", or the
// week's Monday "wk 2 Feb".
func (l *statsLayout) bucketLabel(t time.Time) string {
	t = t.In(l.loc)
	if l.s.Bucket == model.BucketWeek {
		return "wk " + t.Format("2 Jan")
	}
	return t.Format("Mon 2 Jan")
}

// eighths are the block glyphs of a bar's top, by eighths.
var eighths = []rune{' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'}

const statsChartHeight = 6

// outageChart draws outages opened per bucket as vertical bars of block
// glyphs, the most critical share marked, with the count axis on the
// left and the first and last bucket under it.
func (l *statsLayout) outageChart() {
	bs := l.s.Buckets
	if len(bs) == 0 {
		return
	}
	l.heading("Outages per " + bucketWord(l.s.Bucket))
	peak := 0
	for _, b := range bs {
		peak = max(peak, b.Outages)
	}
	axisW := len(strconv.Itoa(peak)) + 2
	avail := l.w - axisW
	// Columns per bucket, or buckets per column when there are more
	// buckets than columns.
	cw, group := 1, 1
	switch {
	case len(bs) > avail:
		group = (len(bs) + avail - 1) / avail
	case len(bs)*2 <= avail:
		cw = min(avail/len(bs), 4)
	}
	var vals []int
	for i := 0; i < len(bs); i += group {
		n := 0
		for j := i; j < min(i+group, len(bs)); j++ {
			n += bs[j].Outages
		}
		vals = append(vals, n)
	}
	if group > 1 {
		peak = 0
		for _, v := range vals {
			peak = max(peak, v)
		}
		axisW = len(strconv.Itoa(peak)) + 2
	}
	if peak == 0 {
		l.add(sp("no outages opened", scOK))
		return
	}
	h := statsChartHeight
	for row := h - 1; row >= 0; row-- {
		label := ""
		switch row {
		case h - 1:
			label = strconv.Itoa(peak)
		case 0:
			label = "0"
		}
		var b strings.Builder
		for _, v := range vals {
			// v in eighths of a row, a non-zero count at least one eighth
			e := (v*h*8 + peak - 1) / peak
			if v > 0 {
				e = max(e, 1)
			}
			cell := e - row*8
			g := ' '
			switch {
			case cell >= 8:
				g = '█'
			case cell > 0:
				g = eighths[cell]
			case row == 0 && v == 0:
				g = '·'
			}
			bar := strings.Repeat(string(g), max(cw-1, 1))
			if cw > 1 {
				bar += " "
			}
			b.WriteString(bar)
		}
		l.add(sp(l.right(label, axisW-2)+" ┤", scDim), sp(b.String(), scBar))
	}
	l.axis(axisW, len(vals)*cw, bs[0].From, bs[len(bs)-1].From)
	if group > 1 {
		l.add(sp(strings.Repeat(" ", axisW)+"each column: "+cases(l.s.Bucket == model.BucketWeek, model.Plural(group, "week", "weeks"), model.Plural(group, "day", "days")), scDim))
	}
}

// axis writes the first and last bucket's labels under a chart of n
// columns from column x.
func (l *statsLayout) axis(x, n int, first, last time.Time) {
	a, b := l.bucketLabel(first), l.bucketLabel(last)
	if first.Equal(last) {
		l.add(sp(strings.Repeat(" ", x)+a, scDim))
		return
	}
	n = min(n, l.w-x)
	gap := n - l.width(a) - l.width(b)
	if gap < 1 {
		l.add(sp(strings.Repeat(" ", x)+a+" – "+b, scDim))
		return
	}
	l.add(sp(strings.Repeat(" ", x)+a+strings.Repeat(" ", gap)+b, scDim))
}

// lineCharts draws MTTA and MTTR p50 per bucket as line charts, each on
// its own scale (an MTTR of hours would flatten an MTTA of minutes).
func (l *statsLayout) lineCharts() {
	bs := l.s.Buckets
	if len(bs) < 2 {
		return
	}
	if l.s.Totals.TTASamples == 0 && l.s.Totals.TTRSamples == 0 {
		l.heading("MTTA and MTTR p50 per " + bucketWord(l.s.Bucket))
		l.add(sp("nothing to measure: no outage acknowledged or resolved", scDim))
		return
	}
	for _, c := range []struct {
		name string
		get  func(p *model.StatsPeriod) *int64
		cls  statsClass
	}{
		{"MTTA p50 per " + bucketWord(l.s.Bucket), func(p *model.StatsPeriod) *int64 { return p.TTAP50 }, scBar},
		{"MTTR p50 per " + bucketWord(l.s.Bucket), func(p *model.StatsPeriod) *int64 { return p.TTRP50 }, scBar2},
	} {
		data := make([]float64, len(bs))
		n := 0
		for i := range bs {
			data[i] = math.NaN()
			if v := c.get(&bs[i]); v != nil {
				data[i] = float64(*v)
				n++
			}
		}
		l.heading(c.name)
		if n == 0 {
			l.add(sp("nothing to measure", scDim))
			continue
		}
		l.lineChart(data, c.cls)
	}
}

// lineChart plots data (seconds, NaN where nothing was measured) with a
// duration axis.
func (l *statsLayout) lineChart(data []float64, cls statsClass) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range data {
		if !math.IsNaN(v) {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if hi == lo {
		hi = lo + 60
	}
	label := func(v float64) string { return model.FormatSeconds(int64(math.Round(v))) }
	labelW := max(l.width(label(lo)), l.width(label(hi)), l.width(label((lo+hi)/2))) + 1
	plotW := max(l.w-labelW-3, 10)
	if len(data) > 0 && plotW > len(data)*4 {
		plotW = len(data) * 4
	}
	plot := func(w int) string {
		return asciigraph.Plot(data,
			asciigraph.Height(statsChartHeight-1),
			asciigraph.Width(w),
			asciigraph.LowerBound(lo), asciigraph.UpperBound(hi),
			asciigraph.YAxisValueFormatter(func(v float64) string { return l.right(label(v), labelW) }),
		)
	}
	out := plot(plotW)
	widest := 0
	for _, line := range strings.Split(out, "\n") {
		widest = max(widest, l.width(line))
	}
	if widest > l.w { // the axis took more than reckoned
		plotW -= widest - l.w
		out = plot(plotW)
	}
	var first int
	for i, line := range strings.Split(out, "\n") {
		// the axis (label and tick) apart from the line, for colour
		cut := strings.IndexAny(line, "┤┼")
		if cut < 0 {
			l.add(sp(line, cls))
			continue
		}
		cut += len("┤")
		if i == 0 {
			first = l.width(line[:cut])
		}
		l.add(sp(line[:cut], scDim), sp(line[cut:], cls))
	}
	l.axis(first, plotW, l.s.Buckets[0].From, l.s.Buckets[len(l.s.Buckets)-1].From)
}

// barRows draws a top list as horizontal bars: name, bar, value.
func (l *statsLayout) barRows(names, values []string, weights []float64, cls statsClass) {
	if len(names) == 0 {
		return
	}
	nameW, valW := 0, 0
	for i := range names {
		nameW = max(nameW, l.width(names[i]))
		valW = max(valW, l.width(values[i]))
	}
	nameW = min(nameW, max(l.w/3, 12))
	barW := min(max(l.w-nameW-valW-4, 8), 50)
	peak := 0.0
	for _, w := range weights {
		peak = max(peak, w)
	}
	for i := range names {
		n := 0
		if peak > 0 {
			n = int(math.Round(weights[i] / peak * float64(barW) * 8))
		}
		if weights[i] > 0 {
			n = max(n, 1)
		}
		bar := strings.Repeat("█", n/8)
		if r := n % 8; r > 0 {
			bar += string([]rune{' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'}[r])
		}
		l.add(sp(l.fit(names[i], nameW)+"  ", scBase), sp(bar, cls), sp(strings.Repeat(" ", max(barW-l.width(bar), 0))+"  "+l.right(values[i], valW), scBase))
	}
}

func (l *statsLayout) tops() {
	s := l.s
	if len(s.TopByOutages) > 0 {
		l.heading("Top services by outages")
		barsOf(l, s.TopByOutages, scCrit, func(t model.ServiceLoad) (string, string, float64) {
			v := model.Plural(t.Outages, "outage", "outages")
			if t.TTAP50 != nil {
				v += " · MTTA " + model.FormatSeconds(*t.TTAP50)
			}
			return cellText(t.Service), v, float64(t.Outages)
		})
	}
	if len(s.TopByTime) > 0 {
		l.heading("Top services by time in outage")
		barsOf(l, s.TopByTime, scWarn, func(t model.ServiceLoad) (string, string, float64) {
			return cellText(t.Service), model.FormatSeconds(t.Seconds), float64(t.Seconds)
		})
	}
	l.heading("Flapping alerts")
	if len(s.Flapping) == 0 {
		l.add(sp("no alert fired twice", scOK))
	} else {
		barsOf(l, s.Flapping, scWarn, func(f model.FlappingAlert) (string, string, float64) {
			n := cellText(f.Name)
			if f.Service != "" {
				n += " · " + cellText(f.Service)
			}
			return n, model.Plural(f.Cycles, "cycle", "cycles"), float64(f.Cycles)
		})
	}
	if len(s.Sources) > 0 {
		l.heading("Noisiest sources")
		barsOf(l, s.Sources, scBar, func(v model.SourceVolume) (string, string, float64) {
			return cellText(v.Source), groupDigits(v.Alerts) + " " + pluralWord(v.Alerts, "alert", "alerts"), float64(v.Alerts)
		})
	}
}

// barsOf draws one bar row per item of a top list: its name, the value
// written beside the bar, and the bar's weight.
func barsOf[T any](l *statsLayout, items []T, cls statsClass, row func(T) (name, value string, weight float64)) {
	names, vals, ws := make([]string, len(items)), make([]string, len(items)), make([]float64, len(items))
	for i, it := range items {
		names[i], vals[i], ws[i] = row(it)
	}
	l.barRows(names, vals, ws, cls)
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// statsCol is a column of the per-bucket and per-shift tables.
type statsCol struct {
	head  string
	w     int
	val   func(p *model.StatsPeriod) string
	wants bool // shown only when there is room
}

// periodCols are the tables' columns, the optional ones last.
func (l *statsLayout) periodCols() []statsCol {
	cols := []statsCol{
		{head: "Outages", w: 7, val: func(p *model.StatsPeriod) string { return strconv.Itoa(p.Outages) }},
		{head: "Crit", w: 4, val: func(p *model.StatsPeriod) string { return strconv.Itoa(p.BySeverity[model.SevCritical]) }},
		{head: "MTTA p50", w: 8, val: func(p *model.StatsPeriod) string { return dur(p.TTAP50) }},
		{head: "p90", w: 6, val: func(p *model.StatsPeriod) string { return dur(p.TTAP90) }},
		{head: "MTTR p50", w: 8, val: func(p *model.StatsPeriod) string { return dur(p.TTRP50) }},
		{head: "p90", w: 6, val: func(p *model.StatsPeriod) string { return dur(p.TTRP90) }},
		{head: "Esc", w: 4, val: func(p *model.StatsPeriod) string { return strconv.Itoa(sumMap(p.Escalations)) }, wants: true},
		{head: "Expired", w: 7, val: func(p *model.StatsPeriod) string { return strconv.Itoa(p.AcksExpired) }, wants: true},
		{head: "Alerts", w: 7, val: func(p *model.StatsPeriod) string { return groupDigits(p.Alerts) }, wants: true},
	}
	if l.s.HasTickets {
		cols = append(cols, statsCol{head: "Tickets o/c/SLA", w: 15, wants: true, val: func(p *model.StatsPeriod) string {
			var o, c, b int
			for _, t := range p.Tickets {
				o, c, b = o+t.Opened, c+t.Closed, b+t.Breached
			}
			return fmt.Sprintf("%d/%d/%d", o, c, b)
		}})
	}
	return cols
}

// table writes rows of periods under a label column of labelW cells,
// with as many columns as fit.
func (l *statsLayout) table(first string, labelW int, labels []string, ps []*model.StatsPeriod) {
	cols := l.periodCols()
	used := labelW
	n := 0
	for _, c := range cols {
		if used+1+c.w > l.w {
			break
		}
		used += 1 + c.w
		n++
	}
	cols = cols[:n]
	head := l.fit(first, labelW)
	for _, c := range cols {
		head += " " + l.right(c.head, c.w)
	}
	l.add(sp(head, scHead))
	for i, p := range ps {
		row := l.fit(labels[i], labelW)
		for _, c := range cols {
			row += " " + l.right(c.val(p), c.w)
		}
		cls := scBase
		if p.Outages == 0 {
			cls = scDim
		}
		l.add(sp(row, cls))
	}
}

func (l *statsLayout) bucketTable() {
	bs := l.s.Buckets
	if len(bs) == 0 {
		return
	}
	l.heading("Per " + bucketWord(l.s.Bucket))
	labels := make([]string, len(bs))
	ps := make([]*model.StatsPeriod, len(bs))
	for i := range bs {
		labels[i], ps[i] = l.bucketLabel(bs[i].From), &bs[i]
	}
	l.table(cases(l.s.Bucket == model.BucketWeek, "Week", "Day"), 10, labels, ps)
}

func cases(c bool, a, b string) string {
	if c {
		return a
	}
	return b
}

func (l *statsLayout) shiftTable() {
	sh := l.s.Shifts
	if len(sh) == 0 {
		return
	}
	l.heading("Per shift (by the shift's start)")
	labels := make([]string, len(sh))
	ps := make([]*model.StatsPeriod, len(sh))
	for i := range sh {
		labels[i], ps[i] = cellText(sh[i].Start), &sh[i].StatsPeriod
	}
	l.table("Shift", 10, labels, ps)
}
