package model

import (
	"bytes"
	"encoding/csv"
	"sitroom/model/hostiletest"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
)

// hostileStats are statistics in which every upstream string (service,
// alert and source names, the filters, the team store's error) is taken
// from strs, each string as a service in the top lists.
func hostileStats(t *testing.T, strs []string) *Stats {
	f, opt := statsFixture(t)
	at := func(i int) string { return strs[i%len(strs)] }
	f.Outages, f.AlertHours, f.Flapping = nil, nil, nil
	for i := range strs {
		t0 := f.From.Add(time.Duration(i) * 17 * time.Minute)
		f.Outages = append(f.Outages, StatsOutage{Service: at(i), Severity: SevCritical, Opened: t0, FirstAck: t0.Add(time.Minute),
			Closed: t0.Add(time.Hour)})
		f.AlertHours = append(f.AlertHours, AlertHour{Hour: t0.Truncate(time.Hour), Source: at(i + 1), Fired: 1 + i})
		f.Flapping = append(f.Flapping, FlappingAlert{Key: at(i + 3), Name: at(i + 3), Service: at(i), Cycles: 2 + i})
	}
	f.Team = TeamHistory{Mode: true, Unreachable: true, Error: at(4)}
	opt.Service, opt.Team, opt.Top = at(5), at(6), len(strs)
	return BuildStats(f, opt)
}

// extraHostile are HTML attacks the shared corpus does not spell out.
var extraHostile = []string{
	`"><img src=x onerror=alert(1)>`,
	`'><svg onload=alert(1)>`,
	`javascript:alert(1)`,
	`</style><script>alert(1)</script>`,
	`</title><a href="http://evil.example">x</a>`,
	`<!-- comment --><iframe src="http://evil.example"></iframe>`,
	`]]><foreignObject><body onload=alert(1)>`,
	`&lt;script&gt;`,
}

var statsHTMLElements = map[string]bool{"html": true, "head": true, "meta": true, "title": true, "style": true, "body": true,
	"h1": true, "h2": true, "p": true, "ul": true, "li": true, "table": true, "thead": true, "tbody": true, "tfoot": true,
	"tr": true, "th": true, "td": true, "span": true, "i": true, "svg": true, "line": true, "rect": true, "polyline": true,
	"circle": true, "text": true}

// htmlShape is what the parse test looks at: element counts by name, and
// the text of the cells that hold names.
type htmlShape struct {
	elements map[string]int
	names    []string
}

func parseStatsHTML(t *testing.T, b []byte) htmlShape {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(b))
	require.NoError(t, err)
	shape := htmlShape{elements: map[string]int{}}
	var text func(n *html.Node) string
	text = func(n *html.Node) string {
		if n.Type == html.TextNode {
			return n.Data
		}
		var s strings.Builder
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			s.WriteString(text(c))
		}
		return s.String()
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			shape.elements[n.Data]++
			assert.True(t, statsHTMLElements[n.Data], "element <%s> in the output", n.Data)
			for _, a := range n.Attr {
				assert.False(t, strings.HasPrefix(strings.ToLower(a.Key), "on"), "event handler attribute %s on <%s>", a.Key, n.Data)
				assert.NotContains(t, []string{"href", "src", "xlink:href", "action", "srcset"}, strings.ToLower(a.Key),
					"a link attribute on <%s>", n.Data)
				assert.NotContains(t, strings.ToLower(a.Val), "javascript:", "attribute %s on <%s>", a.Key, n.Data)
				if a.Key == "class" && a.Val == "name" {
					shape.names = append(shape.names, text(n))
				}
			}
			if n.Data == "style" {
				css := text(n)
				assert.NotContains(t, css, "url(", "no external resource from CSS")
				assert.NotContains(t, css, "@import")
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return shape
}

func TestStatsHTMLOfHostileText(t *testing.T) {
	corpus := append(hostiletest.Corpus(t), extraHostile...)
	s := hostileStats(t, corpus)
	b, err := s.HTML()
	require.NoError(t, err)
	got := parseStatsHTML(t, b)

	// The same statistics with harmless names have the same elements: the
	// corpus injected none.
	benign := make([]string, len(corpus))
	for i := range benign {
		benign[i] = "svc-" + strings.Repeat("x", i%7) + itoa(i)
	}
	bb, err := hostileStats(t, benign).HTML()
	require.NoError(t, err)
	assert.Equal(t, parseStatsHTML(t, bb).elements, got.elements, "the hostile text added or removed elements")
	assert.Equal(t, 0, got.elements["script"])

	// Every name is in its cell as text: exactly the string where it holds
	// nothing to make inert, else without control or bidi characters.
	names := map[string]bool{}
	for _, n := range got.names {
		names[n] = true
		for _, r := range n {
			assert.False(t, unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r), "%q in a cell", r)
		}
	}
	exact := 0
	for _, c := range corpus {
		if inert := strings.TrimSpace(c); inertText(c) == inert && utf8.ValidString(c) && inert != "" && !strings.ContainsRune(c, '\uFFFD') {
			assert.True(t, names[inert], "%q is not shown as text", c)
			exact++
		}
	}
	assert.Greater(t, exact, 150, "most of the corpus is shown as it is")
	for _, c := range extraHostile {
		assert.True(t, names[c], "%q is shown as text", c)
		if strings.ContainsAny(c, "<>") {
			assert.NotContains(t, string(b), c, "%q reaches the file unescaped", c)
		}
	}
}

func TestStatsHTMLIsSelfContained(t *testing.T) {
	f, opt := statsFixture(t)
	b, err := BuildStats(f, opt).HTML()
	require.NoError(t, err)
	shape := parseStatsHTML(t, b)
	assert.Equal(t, 2, shape.elements["svg"], "two charts")
	assert.Equal(t, 5, shape.elements["rect"], "one bar segment per severity per day with outages")
	assert.Equal(t, 5, shape.elements["circle"], "3 TTA and 2 TTR points")
	out := string(b)
	assert.Contains(t, out, "<title>Thu 26 Mar: 1 critical</title>")
	assert.Contains(t, out, "<td class=\"name\">search | &lt;b&gt;*x*&lt;/b&gt;</td>")
	assert.Contains(t, out, "<li>5 outages opened: 2 critical, 2 warning, 1 info</li>")
	assert.NotContains(t, out, "http")
}

func TestStatsCSV(t *testing.T) {
	f, opt := statsFixture(t)
	b, err := BuildStats(f, opt).CSV()
	require.NoError(t, err)
	assert.True(t, bytes.HasSuffix(b, []byte("\r\n")), "RFC 4180 line ends")
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 1+7+1, "header, one row per day, totals")
	assert.Equal(t, StatsCSVColumns, rows[0])
	col := func(row []string, name string) string {
		for i, c := range StatsCSVColumns {
			if c == name {
				return row[i]
			}
		}
		t.Fatalf("no column %s", name)
		return ""
	}
	first, empty, dst, total := rows[1], rows[2], rows[4], rows[8]
	assert.Equal(t, "bucket", col(first, "row"))
	assert.Equal(t, "2026-03-26", col(first, "label"))
	assert.Equal(t, "2026-03-29T00:00:00Z", col(dst, "from"))
	assert.Equal(t, "2026-03-29T23:00:00Z", col(dst, "to"), "the 23-hour day")
	assert.Equal(t, "2", col(first, "outages"))
	assert.Equal(t, "300", col(first, "tta_p50_s"))
	assert.Equal(t, "", col(empty, "tta_p50_s"), "nothing to measure: empty")
	assert.Equal(t, "0", col(empty, "tta_samples"))
	assert.Equal(t, "total", col(total, "row"))
	assert.Equal(t, "2026-03-26/2026-04-01", col(total, "label"))
	assert.Equal(t, "5", col(total, "outages"))
	assert.Equal(t, "1", col(total, "escalations_l2"))
	assert.Equal(t, "1", col(total, "t2_past_sla"))
	assert.Equal(t, "10", col(total, "alerts"))

	f.HasTickets = false
	b, err = BuildStats(f, opt).CSV()
	require.NoError(t, err)
	rows, err = csv.NewReader(bytes.NewReader(b)).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, "", col(rows[8], "tickets_opened"), "no ticket source: empty, not zero")
}

func TestCSVSafe(t *testing.T) {
	for in, want := range map[string]string{
		"=cmd|' /C calc'!A0": "'=cmd|' /C calc'!A0",
		"+1":                 "'+1",
		"-2+3":               "'-2+3",
		"@SUM(A1)":           "'@SUM(A1)",
		"\t=1":               "'\t=1",
		" =1":                "' =1",
		"db-main":            "db-main",
		"2026-03-26":         "2026-03-26",
		"":                   "",
	} {
		assert.Equal(t, want, csvSafe(in), "%q", in)
	}
}

// TestStatsMarkdownOfHostileText: upstream text can neither break the
// tables nor reach the terminal as control sequences.
func TestStatsMarkdownOfHostileText(t *testing.T) {
	corpus := append(hostiletest.Corpus(t), extraHostile...)
	md := hostileStats(t, corpus).Markdown()
	for _, r := range md {
		if r != '\n' {
			require.False(t, unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029',
				"%U in the Markdown", r)
		}
	}
	assert.True(t, utf8.ValidString(md))
	// Every table row has as many unescaped pipes as its header.
	cols := 0
	for _, l := range strings.Split(md, "\n") {
		if !strings.HasPrefix(l, "|") {
			cols = 0
			continue
		}
		n := strings.Count(l, "|") - strings.Count(l, `\|`)
		if cols == 0 {
			cols = n
		}
		require.Equal(t, cols, n, "row %q", l)
	}
	assert.NotContains(t, md, "<script>")
	assert.Contains(t, md, `**checkout \<script\>alert(1)\</script\> service**`)
}
