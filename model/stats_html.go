package model

import (
	"bytes"
	"html/template"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// HTML renders the statistics as one self-contained HTML file for an
// e-mail: inline CSS, no script, no external link, font or image; the
// tables of the Markdown form and two SVG charts drawn with plain
// elements (outages per bucket by severity, TTA and TTR p50 per bucket).
// Text is escaped by html/template, and upstream text is made inert
// first (control and bidi characters as spaces, long text cut).
func (s *Stats) HTML() ([]byte, error) {
	unit := "day"
	head := "Day"
	if s.Bucket == BucketWeek {
		unit, head = "week", "Week of"
	}
	d := statsHTMLData{Span: s.spanWords(), Zone: inertText(s.zoneWords()), Unit: unit, Filters: s.filterWords(inertText),
		History: s.historyWords(), Totals: s.totalsWords(inertText), Shift: inertText(s.Shift),
		Bars: s.barChart(), Lines: s.lineChart()}
	heads := s.periodHeads()
	d.BucketTable.Head = append([]string{head}, heads...)
	for _, p := range s.Buckets {
		d.BucketTable.Rows = append(d.BucketTable.Rows, append([]string{s.PeriodLabel(p)}, s.periodCells(p)...))
	}
	d.BucketTable.Foot = append([]string{"Total"}, s.periodCells(s.Totals)...)
	d.ShiftTable.Head = append([]string{"Shift"}, heads...)
	for _, sh := range s.Shifts {
		d.ShiftTable.Rows = append(d.ShiftTable.Rows, append([]string{inertText(sh.Start)}, s.periodCells(sh.StatsPeriod)...))
	}
	loads := func(title string, l []ServiceLoad) statsHTMLTable {
		t := statsHTMLTable{Title: title, Head: []string{"#", "Service", "Outages", "In outage", "TTA p50"}}
		for i, x := range l {
			t.Rows = append(t.Rows, []string{strconv.Itoa(i + 1), inertText(x.Service), strconv.Itoa(x.Outages),
				FormatSeconds(x.Seconds), optSecs(x.TTAP50)})
		}
		return t
	}
	d.Tops = append(d.Tops, loads("Top services by outages", s.TopByOutages), loads("Top services by time in outage", s.TopByTime))
	flap := statsHTMLTable{Title: "Flapping alerts", Head: []string{"#", "Alert", "Service", "Firing episodes"}}
	for i, f := range s.Flapping {
		flap.Rows = append(flap.Rows, []string{strconv.Itoa(i + 1), inertText(f.Name), inertText(f.Service), strconv.Itoa(f.Cycles)})
	}
	src := statsHTMLTable{Title: "Noisiest sources", Head: []string{"#", "Source", "Alerts fired"}}
	for i, x := range s.Sources {
		src.Rows = append(src.Rows, []string{strconv.Itoa(i + 1), inertText(x.Source), strconv.Itoa(x.Alerts)})
	}
	d.Tops = append(d.Tops, flap, src)
	var b bytes.Buffer
	if err := statsHTMLTemplate.Execute(&b, d); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

type statsHTMLData struct {
	Span, Zone, Unit, Filters, History, Shift string
	Totals                                    []string
	Bars, Lines                               svgChart
	BucketTable, ShiftTable                   statsHTMLTable
	Tops                                      []statsHTMLTable
}

type statsHTMLTable struct {
	Title      string
	Head, Foot []string
	Rows       [][]string
}

// svgChart is a chart as plain SVG elements, coordinates computed here.
type svgChart struct {
	W, H   int
	Label  string
	Rects  []svgRect
	Lines  []svgLine
	Polys  []svgPoly
	Dots   []svgDot
	Texts  []svgText
	Legend []svgLegend
}

type svgRect struct {
	X, Y, W, H, Fill, Title string
}

type svgLine struct{ X1, Y1, X2, Y2 string }

type svgPoly struct{ Points, Stroke string }

type svgDot struct{ X, Y, Fill, Title string }

type svgText struct{ X, Y, Anchor, Text string }

type svgLegend struct{ Fill, Text string }

const (
	chartW, chartH                 = 760, 220
	chartLeft, chartRight, chartUp = 56, 12, 12
	chartDown                      = 36
)

var severityColour = map[Severity]string{SevCritical: "#c0392b", SevWarning: "#e08e0b", SevInfo: "#2e86c1", SevNone: "#7f8c8d"}

func fx(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// frame draws the axes, three grid lines labelled by label, and the
// first, middle and last buckets' names under the x axis.
func (s *Stats) frame(c *svgChart, top float64, label func(float64) string) {
	plotH := float64(chartH - chartUp - chartDown)
	for i := 0; i <= 2; i++ {
		v := top * float64(i) / 2
		y := float64(chartH-chartDown) - plotH*float64(i)/2
		c.Lines = append(c.Lines, svgLine{X1: fx(chartLeft), Y1: fx(y), X2: fx(chartW - chartRight), Y2: fx(y)})
		c.Texts = append(c.Texts, svgText{X: fx(chartLeft - 6), Y: fx(y + 4), Anchor: "end", Text: label(v)})
	}
	n := len(s.Buckets)
	slot := float64(chartW-chartLeft-chartRight) / float64(max(n, 1))
	for _, i := range []int{0, n / 2, n - 1} {
		if i < 0 || i >= n || (i == n/2 && (i == 0 || i == n-1)) {
			continue
		}
		c.Texts = append(c.Texts, svgText{X: fx(chartLeft + slot*(float64(i)+0.5)), Y: fx(chartH - chartDown + 18),
			Anchor: "middle", Text: s.PeriodLabel(s.Buckets[i])})
	}
}

// barChart is outages opened per bucket, stacked by severity.
func (s *Stats) barChart() svgChart {
	c := svgChart{W: chartW, H: chartH, Label: "Outages opened per bucket, by severity"}
	most := 0
	for _, p := range s.Buckets {
		most = max(most, p.Outages)
	}
	top := float64(max(most, 2))
	if int(top)%2 == 1 {
		top++
	}
	s.frame(&c, top, func(v float64) string { return strconv.Itoa(int(v)) })
	plotH := float64(chartH - chartUp - chartDown)
	slot := float64(chartW-chartLeft-chartRight) / float64(max(len(s.Buckets), 1))
	gap := slot * 0.15
	for i, p := range s.Buckets {
		y := float64(chartH - chartDown)
		for _, sev := range statsSeverities {
			n := p.BySeverity[sev]
			if n == 0 {
				continue
			}
			h := plotH * float64(n) / top
			y -= h
			c.Rects = append(c.Rects, svgRect{X: fx(chartLeft + slot*float64(i) + gap/2), Y: fx(y), W: fx(slot - gap), H: fx(h),
				Fill: severityColour[sev], Title: s.PeriodLabel(p) + ": " + strconv.Itoa(n) + " " + sev.Name()})
		}
	}
	for _, sev := range statsSeverities[:3] {
		c.Legend = append(c.Legend, svgLegend{Fill: severityColour[sev], Text: sev.Name()})
	}
	return c
}

// lineChart is TTA and TTR p50 per bucket; a bucket without a sample
// breaks the line.
func (s *Stats) lineChart() svgChart {
	c := svgChart{W: chartW, H: chartH, Label: "Time to acknowledge and to resolve (p50) per bucket"}
	var most int64
	for _, p := range s.Buckets {
		for _, v := range []*int64{p.TTAP50, p.TTRP50} {
			if v != nil {
				most = max(most, *v)
			}
		}
	}
	top := float64(max(most, 60))
	s.frame(&c, top, func(v float64) string { return FormatSeconds(int64(v)) })
	plotH := float64(chartH - chartUp - chartDown)
	slot := float64(chartW-chartLeft-chartRight) / float64(max(len(s.Buckets), 1))
	series := []struct {
		name, colour string
		get          func(StatsPeriod) *int64
	}{
		{"TTA p50", "#2e86c1", func(p StatsPeriod) *int64 { return p.TTAP50 }},
		{"TTR p50", "#8e44ad", func(p StatsPeriod) *int64 { return p.TTRP50 }},
	}
	for _, sr := range series {
		var pts []string
		flush := func() {
			if len(pts) > 1 {
				c.Polys = append(c.Polys, svgPoly{Points: strings.Join(pts, " "), Stroke: sr.colour})
			}
			pts = nil
		}
		for i, p := range s.Buckets {
			v := sr.get(p)
			if v == nil {
				flush()
				continue
			}
			x, y := fx(chartLeft+slot*(float64(i)+0.5)), fx(float64(chartH-chartDown)-plotH*float64(*v)/top)
			pts = append(pts, x+","+y)
			c.Dots = append(c.Dots, svgDot{X: x, Y: y, Fill: sr.colour, Title: s.PeriodLabel(p) + ": " + sr.name + " " + FormatSeconds(*v)})
		}
		flush()
		c.Legend = append(c.Legend, svgLegend{Fill: sr.colour, Text: sr.name})
	}
	return c
}

// inertText makes untrusted text inert for HTML before html/template
// escapes it (inertRunes, nothing escaped).
func inertText(s string) string {
	return strings.TrimSpace(inertRunes(s, ""))
}

// inertRunes is s with control and bidi characters as spaces, invalid
// UTF-8 as U+FFFD, each rune of escape backslash-escaped, and text past
// 300 runes cut with "…": what the report formats share.
func inertRunes(s, escape string) string {
	const max = 300
	var b strings.Builder
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if n++; n > max {
			b.WriteString("…")
			break
		}
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune('\uFFFD')
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029':
			b.WriteByte(' ')
		case strings.ContainsRune(escape, r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

var statsHTMLTemplate = template.Must(template.New("stats").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>NOC statistics</title>
<style>
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222; margin: 24px; max-width: 1100px; }
h1 { font-size: 22px; margin-bottom: 4px; }
h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
p.meta { margin: 2px 0; color: #555; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
td.name { text-align: left; white-space: normal; overflow-wrap: anywhere; max-width: 420px; }
thead th { background: #f3f3f3; }
tfoot td { font-weight: bold; background: #fafafa; }
svg { display: block; margin: 8px 0; }
svg text { font-size: 11px; fill: #555; }
svg line { stroke: #e3e3e3; stroke-width: 1; }
.legend span { display: inline-block; margin-right: 14px; font-size: 12px; }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
</style>
</head>
<body>
<h1>NOC statistics</h1>
<p class="meta">Span: {{.Span}} ({{.Zone}}), by {{.Unit}}</p>
{{if .Filters}}<p class="meta">Filters: {{.Filters}}</p>
{{end}}<p class="meta">History: {{.History}}</p>
<h2>Totals</h2>
<ul>
{{range .Totals}}<li>{{.}}</li>
{{end}}</ul>
<h2>Outages per {{.Unit}}</h2>
{{template "chart" .Bars}}
<h2>Time to acknowledge and resolve per {{.Unit}}</h2>
{{if .Lines.Dots}}{{template "chart" .Lines}}{{else}}<p>Nothing to measure: no outage acknowledged or resolved.</p>
{{end}}<h2>Per {{.Unit}}</h2>
{{template "table" .BucketTable}}
<h2>Per shift</h2>
{{if .Shift}}<p>Only the {{.Shift}} shift.</p>
{{end}}{{template "table" .ShiftTable}}
{{range .Tops}}<h2>{{.Title}}</h2>
{{if .Rows}}{{template "table" .}}{{else}}<p>None.</p>
{{end}}{{end}}</body>
</html>
{{define "table"}}<table>
<thead><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr>{{range $i, $c := .}}{{if and (eq $i 1) (gt (len $.Head) 3) (eq (index $.Head 0) "#")}}<td class="name">{{$c}}</td>{{else}}<td>{{$c}}</td>{{end}}{{end}}</tr>
{{end}}</tbody>
{{if .Foot}}<tfoot><tr>{{range .Foot}}<td>{{.}}</td>{{end}}</tr></tfoot>
{{end}}</table>
{{end}}
{{define "chart"}}<svg width="{{.W}}" height="{{.H}}" viewBox="0 0 {{.W}} {{.H}}" role="img" aria-label="{{.Label}}">
{{range .Lines}}<line x1="{{.X1}}" y1="{{.Y1}}" x2="{{.X2}}" y2="{{.Y2}}"></line>
{{end}}{{range .Rects}}<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" fill="{{.Fill}}"><title>{{.Title}}</title></rect>
{{end}}{{range .Polys}}<polyline points="{{.Points}}" fill="none" stroke="{{.Stroke}}" stroke-width="2"></polyline>
{{end}}{{range .Dots}}<circle cx="{{.X}}" cy="{{.Y}}" r="2.5" fill="{{.Fill}}"><title>{{.Title}}</title></circle>
{{end}}{{range .Texts}}<text x="{{.X}}" y="{{.Y}}" text-anchor="{{.Anchor}}">{{.Text}}</text>
{{end}}</svg>
<p class="legend">{{range .Legend}}<span><i style="background: {{.Fill}}"></i>{{.Text}}</span>{{end}}</p>
{{end}}`))
