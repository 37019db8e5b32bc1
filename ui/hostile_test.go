package ui_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sitroom/model/hostiletest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

// The hostile text corpus (testdata/hostile/corpus.txt) is data: one Go
// quoted string per line, optionally followed by " x N" for a value
// repeated N times (the 1 MiB values). hostileCorpus generates it; go test
// ./ui -run TestHostileCorpusFile -update rewrites the file.

var hostileBase = []string{
	// tview colour, attribute, region and hyperlink tags
	"[red]boom[-]", "[::b]bold[::-]", "[yellow:red:bl]blink[-:-:-]", `["region"]in a region[""]`,
	"[:::http://evil.example]click[:::-]", "[#ff0000]hex[white]", "[[red]] escaped", "[-:-:-:-]reset",
	"[red", "]", "[]", "[::]", "[\"\"]",
	// ANSI CSI, OSC, DCS, APC/PM, SOS
	"\x1b[31mred\x1b[0m", "\x1b[2J\x1b[H", "\x1b[?1049l", "\x1b[5;10H", "\x1b[1A\x1b[2K", "\x1b[6n",
	"\x1b]8;;http://evil.example\x07click\x1b]8;;\x07", "\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\",
	"\x1b]0;pwned title\x07", "\x1b]52;c;ZXZpbA==\x07", "\x1bP+q544e\x1b\\", "\x1b_apc\x1b\\", "\x1b^pm\x1b\\", "\x1bXsos\x1b\\",
	"\x1bc", "\x1b7\x1b8", "\u009b31m", "\u009d0;title\u009c", "\u0090dcs\u009c",
	// bell, backspace, CR, NUL and friends
	"bell\x07", "back\x08\x08\x08ck", "over\rwrite", "nul\x00byte", "del\x7f", "tab\there", "two\nlines", "\x0b\x0c\x0e\x0f",
	"line\u2028sep", "para\u2029sep", "next\u0085line",
	// bidi embeddings, overrides, isolates, marks
	"invoice\u202egnp.exe", "\u202aLRE\u202c", "\u202bRLE\u202c", "\u202dLRO\u202c", "\u2066LRI\u2069", "\u2067RLI\u2069",
	"\u2068FSI\u2069", "\u200eLRM", "\u200fRLM", "\u061cALM", "\u202e\u2066nested\u2069\u202c",
	// zero-width and combining characters
	"zero\u200bwidth", "join\u200dme", "non\u200cjoin", "\ufeffbom", "word\u2060joiner", "soft\u00adhyphen",
	"e\u0301\u0301\u0301\u0301", "Z\u0351\u0337\u0322\u0315\u035ca\u0353\u0324l\u0316g\u0331o", "\u0301leading combining",
	"\u034fgrapheme joiner", "\u180emongolian",
	// wide CJK, emoji, sequences
	"漢字テスト", "한국어", "全角ＡＢＣ", "🔥🔥🔥", "👩‍👩‍👧‍👦 family", "🇫🇷🇩🇪 flags", "✋🏽 skin", "1️⃣ keycap", "❤️ variation",
	"𝕳𝖊𝖑𝖑𝖔", "\U0001F9D1\u200D\U0001F680",
	// invalid UTF-8
	"\xff\xfe", "\xc3\x28", "\xe2\x82", "\xf0\x9f\x98", "\xed\xa0\x80 surrogate", "\xc0\xaf overlong", "\x80 lone continuation",
	// miscellany: box drawing that looks like borders, private use, noncharacters
	"│─┌┐└┘├┤", "\ue000private", "\ufffe\uffff", "%s%d%n", "${jndi:ldap://x}", "<script>alert(1)</script>", "'; DROP TABLE alerts;--",
	// Markdown and HTML a report could be made to render: headings, rules,
	// lists, quotes, links, images, emphasis, code, tables, entities, a
	// trailing backslash (a hard line break)
	"# heading", "## sub", "---", "===", "* item", "1. item", "> quote", "[link](http://evil.example)", "![img](http://evil.example/x.png)",
	"<http://evil.example>", "**bold** _em_", "`code`", "~~del~~", "| a | b |", "&#x202e;gnp.exe", "&lt;b&gt;", "&#27;[31m", "trailing\\",
}

// hostileCorpus builds every string of the corpus.
func hostileCorpus() []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, s := range hostileBase {
		add(s)
	}
	for i, s := range hostileBase {
		add("checkout " + s + " service")
		next := hostileBase[(i+7)%len(hostileBase)]
		add(s + next)
	}
	return out
}

// hostileHuge are the 1 MiB values, written " x N".
var hostileHuge = []struct {
	unit string
	n    int
}{{"A", 1 << 20}, {"[red]\x1b[31m\u202e漢", 1 << 20 / 14}, {"\xff", 1 << 20}}

func TestHostileCorpusFile(t *testing.T) {
	var b strings.Builder
	b.WriteString("# hostile text for sitroom's tests: one Go-quoted string per line, \" x N\" repeats it N times\n")
	for _, s := range hostileCorpus() {
		b.WriteString(strconv.Quote(s) + "\n")
	}
	for _, h := range hostileHuge {
		fmt.Fprintf(&b, "%s x %d\n", strconv.Quote(h.unit), h.n)
	}
	hostileFile := hostiletest.Path(t)
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		if err := os.MkdirAll(filepath.Dir(hostileFile), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(hostileFile, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(hostileFile)
	if err != nil {
		t.Fatalf("%v (go test ./ui -run TestHostileCorpusFile -update writes it)", err)
	}
	if string(got) != b.String() {
		t.Fatal("testdata/hostile/corpus.txt is not what the generator makes; rerun with -update")
	}
	if n := len(hostiletest.Corpus(t)); n < 200 {
		t.Fatalf("corpus has %d strings, want at least 200", n)
	}
}

// hostileSnapshot puts the strings into every untrusted field: alert names,
// services (most are in no catalog entry, so they name outages), label keys
// and values, summaries, descriptions, runbook URLs,
// silence IDs, a source's error and note, source names, and every string
// of the tickets of an rt ticket source (ids, numbers, URLs, queues, raw
// priorities, statuses, subjects, requesters, owners, SLA names, service
// hints and fields).
func hostileSnapshot(strs []string) *model.Snapshot {
	var rows []*model.AlertRow
	at := func(i int) string { return strs[i%len(strs)] }
	for i := range strs {
		sev := []string{"critical", "warning", "info"}[i%3]
		labels := map[string]string{
			"alertname": at(i), "severity": sev, "service": at(i + 1), at(i + 2): at(i + 3), "instance": at(i + 4),
		}
		ann := map[string]string{"summary": at(i + 5), "description": at(i + 6), "runbook_url": at(i + 7)}
		state := model.StateFiring
		var sil []string
		if i%5 == 4 {
			state, sil = model.StateSuppressed, []string{at(i + 8)}
		}
		r := row([]string{"am-eu", "prom"}[i%2], state, time.Duration(i+1)*time.Minute, labels, ann, sil...)
		r.GeneratorURL = at(i + 9)
		rows = append(rows, r)
	}
	statuses := []model.SourceStatus{
		{Name: "am-eu", Type: "alertmanager", LastAttempt: ago(5 * time.Second), LastSuccess: ago(5 * time.Second), Items: len(strs)},
		{Name: "prom", Type: "prometheus", LastAttempt: ago(5 * time.Second), LastSuccess: ago(4 * time.Minute), LastError: at(3)},
		{Name: "rt", Type: "rt", LastAttempt: ago(5 * time.Second), LastSuccess: ago(5 * time.Second), Note: at(11)},
		{Name: at(12), Type: "cloudwatch", LastAttempt: ago(5 * time.Second), LastError: at(13)},
		{Name: at(14), Type: "jira", LastAttempt: ago(5 * time.Second), LastSuccess: ago(5 * time.Second), Note: at(15)},
	}
	cat := model.NewCatalog([]*model.Service{
		{Name: "checkout", Match: mustMatchers(`service=~"checkout.*"`), Owner: "team-web", DependsOn: []string{"payments"}},
		{Name: "payments", Match: mustMatchers(`service="payments"`), Owner: "team-pay"},
	})
	snap := model.BuildSnapshot(rows, statuses, model.SnapshotOptions{Now: fixedNow, Catalog: cat})
	var tickets []*model.Ticket
	for i := range strs {
		t := &model.Ticket{Source: "rt", ID: at(i), Number: at(i + 1), URL: at(i + 2), Tier: model.Tier(1 + i%2),
			Queue: at(i + 3), Priority: model.Priority(i % 6), PriorityRaw: at(i + 4), Status: at(i + 5), Subject: at(i + 6),
			Requester: at(i + 7), Created: ago(time.Duration(i+1) * 7 * time.Minute),
			Fields: model.LabelsFromMap(map[string]string{"subject": at(i + 6), "queue": at(i + 3), at(i + 8): at(i + 9)})}
		if i%3 != 0 {
			t.Owner = at(i + 8)
		}
		if i%2 == 0 {
			t.Service = at(i + 10) // a service hint naming no configured service
		} else {
			t.Fields = t.Fields.With("service", at(i+10)) // linked to checkout by its matcher
		}
		switch i % 4 {
		case 1:
			t.SLA = model.TicketSLA{Known: true, Name: at(i + 9), Due: fixedNow.Add(time.Duration(i-10) * 15 * time.Minute)}
		case 2:
			t.SLA = model.TicketSLA{Known: true, Name: at(i + 9), Paused: true, Remaining: time.Duration(i) * time.Hour, AsOf: fixedNow}
		case 3:
			t.SLA = model.TicketSLA{Known: true, Name: at(i + 9), Breached: true, Due: ago(time.Duration(i) * time.Minute)}
		}
		tickets = append(tickets, t)
	}
	model.AttachTickets(snap, tickets, []string{"rt"}, cat)
	return snap
}

// checkInert fails when any cell holds a control, bidi or line-separator
// rune, or a hyperlink, or when a border of the plain screen was
// overwritten.
func checkInert(t *testing.T, h *uitest.Harness, what string, borders map[int]rune) {
	t.Helper()
	cells, w, _ := h.Cells()
	for i, c := range cells {
		for _, r := range c.Runes {
			if unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Bidi_Control, r) || r == 0x2028 || r == 0x2029 {
				t.Fatalf("%s: cell (%d,%d) holds %U\n%s", what, i%w, i/w, r, screen(h))
			}
		}
		if c.Style != c.Style.Url("") {
			t.Fatalf("%s: cell (%d,%d) carries a hyperlink", what, i%w, i/w)
		}
		if strings.IndexFunc(string(c.Bytes), func(r rune) bool { return unicode.Is(unicode.Cc, r) }) >= 0 {
			t.Fatalf("%s: cell (%d,%d) writes %q to the terminal", what, i%w, i/w, c.Bytes)
		}
		if r, ok := borders[i]; ok && (len(c.Runes) == 0 || c.Runes[0] != r) {
			t.Fatalf("%s: border %q at (%d,%d) overwritten\n%s", what, r, i%w, i/w, screen(h))
		}
	}
}

// frame records the border cells of the current screen (the box-drawing
// runes of the panel frames on the outer rows and columns of each panel).
func frame(h *uitest.Harness) map[int]rune {
	cells, w, hh := h.Cells()
	out := map[int]rune{}
	for i, c := range cells {
		if len(c.Runes) == 0 {
			continue
		}
		switch r := c.Runes[0]; r {
		case '┌', '┐', '└', '┘', '╔', '╗', '╚', '╝':
			out[i] = r
		case '│', '║':
			if x := i % w; x == 0 || x == w-1 {
				out[i] = r
			}
		case '─', '═':
			if y := i / w; y == 0 || y == hh-1 {
				out[i] = r
			}
		}
	}
	return out
}

// Every panel (the backlog too), the alert, outage and ticket detail
// views, the help page and the ack form draw the whole corpus inert, with the frame of the plain screen intact, at a wide
// and at an 80×24 terminal.
func TestHostileCorpusThroughEveryPanel(t *testing.T) {
	corpus := hostiletest.Corpus(t)
	const chunk = 24
	for _, size := range [][2]int{{160, 48}, {80, 24}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			a := newFakeActor(model.RoleTier1)
			// Named views from a config whose names, filters, panels and
			// sorts are corpus text.
			var views []model.View
			for i := 0; i < len(corpus); i += 4 {
				at := func(k int) string { return corpus[(i+k)%len(corpus)] }
				views = append(views, model.View{Name: at(0), Filter: at(1), Panel: at(2), Sort: at(3)})
			}
			h := uitest.Start(t, ui.Options{Operator: "alice", Now: func() time.Time { return fixedNow }, Actor: a, Views: views}, size[0], size[1])
			plain := make([]string, chunk)
			for i := range plain {
				plain[i] = fmt.Sprintf("plain%d", i)
			}
			h.Push(hostileSnapshot(plain))
			borders := map[string]map[int]rune{}
			for _, k := range []string{"1", "2", "3", "4"} {
				h.Type(k)
				borders[k] = frame(h)
			}
			if len(borders["1"]) == 0 {
				t.Fatalf("no frame found on the plain screen:\n%s", screen(h))
			}
			for start := 0; start < len(corpus); start += chunk {
				strs := corpus[start:min(start+chunk, len(corpus))]
				what := fmt.Sprintf("corpus[%d:%d]", start, start+len(strs))
				h.Push(hostileSnapshot(strs))
				for _, k := range []string{"1", "2", "3", "4"} {
					h.Type(k)
					checkInert(t, h, what+" panel "+k, borders[k])
				}
				// The alert detail (with the tickets of its service) and the
				// ticket detail, of the first rows of each.
				for _, k := range []string{"2", "4"} {
					h.Type(k)
					for i := 0; i < 3; i++ {
						h.Key(tcell.KeyEnter)
						checkInert(t, h, what+" detail of panel "+k, nil)
						h.Key(tcell.KeyPgDn)
						h.Key(tcell.KeyPgDn)
						checkInert(t, h, what+" detail of panel "+k+", paged", nil)
						h.Key(tcell.KeyEscape)
						h.Type("j")
					}
				}
				// Taking the last tickets (Tier 1, no SLA) and the escalation
				// form and its review for each.
				h.Type("4")
				h.Type("G")
				for i := 0; i < 2; i++ {
					h.Type("t")
					checkInert(t, h, what+" ticket taken", borders["4"])
					h.Type("e")
					checkInert(t, h, what+" ticket escalation form", nil)
					h.Type("x")
					h.Key(tcell.KeyEnter)
					checkInert(t, h, what+" ticket escalation review", nil)
					h.Key(tcell.KeyEscape)
					h.Key(tcell.KeyEscape)
					h.Type("k")
				}
				// The outages' un-ack, escalate and note keys, on the first
				// outages (named by hostile services).
				h.Type("1")
				for i := 0; i < 2; i++ {
					for _, k := range []string{"u", "e", "n"} {
						h.Type(k)
						checkInert(t, h, what+" outage key "+k, nil)
						h.Key(tcell.KeyEscape)
					}
					h.Type("j")
				}
				h.Type("1")
				h.Type("a")
				checkInert(t, h, what+" ack form", nil)
				h.Key(tcell.KeyEnter)
				checkInert(t, h, what+" ack review", nil)
				h.Key(tcell.KeyEscape)
				h.Key(tcell.KeyEscape)
				h.Type("?")
				checkInert(t, h, what+" help", nil)
				h.Key(tcell.KeyEscape)
				// The command palette's actions, with why they cannot act on
				// the selected outage.
				h.Type(":")
				checkInert(t, h, what+" palette", nil)
				h.Key(tcell.KeyEscape)
				// The silences view over silences made of corpus text: its
				// rows, the expire and extend forms, the filter line, the
				// jump to a silence's alerts, and a new silence's editor.
				a.publish(hostileSilences(strs))
				h.Type("S")
				waitFor(t, h, " expired") // the title counts them once the board is in
				checkInert(t, h, what+" silences view", nil)
				for i := 0; i < 3; i++ {
					for _, k := range []string{"E", "+"} {
						h.Type(k)
						checkInert(t, h, what+" silences view key "+k, nil)
						h.Key(tcell.KeyEscape)
					}
					h.Type("j")
				}
				h.Type("/" + strs[0])
				checkInert(t, h, what+" silences filter", nil)
				h.Key(tcell.KeyEscape)
				h.Key(tcell.KeyEnter)
				checkInert(t, h, what+" alerts of a silence", nil)
				h.Key(tcell.KeyEscape)
				h.Key(tcell.KeyEscape)
				h.Type("2")
				for i := 0; i < 2; i++ {
					h.Type("m")
					checkInert(t, h, what+" new silence form", nil)
					h.Key(tcell.KeyEscape)
					h.Type("j")
				}
			}
			// Every named view in the palette, down to the last row.
			h.Type(":")
			m := regexp.MustCompile(`Commands \((\d+) of`).FindStringSubmatch(screen(h))
			if m == nil {
				t.Fatalf("no palette:\n%s", screen(h))
			}
			rows, _ := strconv.Atoi(m[1])
			for i := 1; i < rows; i++ {
				h.Key(tcell.KeyDown)
				if i%8 == 0 {
					checkInert(t, h, fmt.Sprintf("palette row %d", i+1), nil)
				}
			}
			checkInert(t, h, "palette, last row", nil)
			if want := fmt.Sprintf("–%d of %d", rows, rows); !h.Contains(want) {
				t.Fatalf("the palette's last row is not shown (%s):\n%s", want, screen(h))
			}
			h.Key(tcell.KeyEscape)
		})
	}
}

// hostileSilences is a board whose silences are made of strs: ids,
// sources, authors, comments and matchers (some parse, with hostile
// values; some are hostile text as they stand), in every state.
func hostileSilences(strs []string) *model.Board {
	at := func(i int) string { return strs[i%len(strs)] }
	b := &model.Board{Silences: map[string]model.Silence{}}
	states := []model.SilenceState{model.SilenceActive, model.SilencePending, model.SilenceExpired}
	for i := range strs {
		m := at(i + 4)
		if i%2 == 0 {
			m = "{alertname=" + strconv.Quote(at(i)) + ", " + model.FilterQuote(at(i+2)) + "=~" + strconv.Quote(at(i+3)) + "}"
		}
		b.Silences[fmt.Sprint(i)] = model.Silence{Source: at(i), ID: at(i + 1), CreatedBy: at(i + 2), Comment: at(i + 3),
			StartsAt: ago(time.Duration(i) * time.Minute), EndsAt: fixedNow.Add(time.Duration(i-3) * 37 * time.Minute),
			UpdatedAt: ago(time.Duration(i) * time.Second), State: states[i%3], Matchers: m}
	}
	return b
}

// kioskCounters is the wall screen's counter block: the rows above the
// panel tabs that hold the big digits or the counters' labels.
func kioskCounters(h *uitest.Harness) []string {
	var out []string
	for _, l := range h.Text() {
		if strings.Contains(l, "1 Outages") && strings.Contains(l, "2 Alerts") {
			return out
		}
		if strings.Contains(l, "█") || strings.Contains(l, "OUTAGES") {
			out = append(out, l)
		}
	}
	return nil
}

var wallClock = regexp.MustCompile(`READ-ONLY .* \d\d:\d\d:\d\d *$`)

// checkWallLayout fails unless the wall screen is whole: the top line
// with its name and clock, the footer on the last line, and one panel box
// from under the tabs to above the status line with every border cell in
// place. (Where the box starts depends on how many rows the chips take.)
func checkWallLayout(t *testing.T, h *uitest.Harness, what string) {
	t.Helper()
	cells, w, hh := h.Cells()
	at := func(x, y int) rune {
		if c := cells[y*w+x]; len(c.Runes) > 0 {
			return c.Runes[0]
		}
		return ' '
	}
	text := h.Text()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s: %s\n%s", what, fmt.Sprintf(format, args...), screen(h))
	}
	if !strings.HasPrefix(text[0], "sitroom wall screen") || !wallClock.MatchString(text[0]) {
		fail("top line broken")
	}
	if !strings.HasPrefix(text[hh-1], "q quit") {
		fail("footer broken")
	}
	top := -1
	for y := 1; y < hh; y++ {
		if strings.Contains(text[y-1], "1 Outages") && strings.Contains(text[y-1], "2 Alerts") {
			top = y
			break
		}
	}
	bottom := hh - 3
	if top < 0 || top >= bottom {
		fail("no panel tabs above a panel")
	}
	for _, c := range []struct {
		x, y int
		r    rune
	}{{0, top, '┌'}, {w - 1, top, '┐'}, {0, bottom, '└'}, {w - 1, bottom, '┘'}} {
		if at(c.x, c.y) != c.r {
			fail("corner %q at (%d,%d) is %q", c.r, c.x, c.y, at(c.x, c.y))
		}
	}
	for y := top + 1; y < bottom; y++ {
		if at(0, y) != '│' || at(w-1, y) != '│' {
			fail("side of the panel box broken on row %d", y)
		}
	}
	for x := 1; x < w-1; x++ {
		if at(x, bottom) != '─' {
			fail("bottom of the panel box broken at column %d", x)
		}
	}
}

// The wall screen draws the whole corpus inert — source names, errors and
// notes in its chips and status line, every panel it shows by key and by
// rotation — with each panel's frame as on the plain screen and the big
// counters the same as for plain text of the same shape.
func TestHostileCorpusOnTheWallScreen(t *testing.T) {
	corpus := hostiletest.Corpus(t)
	const chunk = 24
	plain := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("plain%d", i)
		}
		return out
	}
	panels := []string{"1", "2", "3", "4"}
	for _, size := range [][2]int{{160, 48}, {80, 24}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			clk := newTestClock()
			h := startKiosk(t, kioskOpts(clk.Now), size[0], size[1], hostileSnapshot(plain(chunk)))
			for _, k := range panels {
				h.Type(k)
				checkWallLayout(t, h, "plain wall panel "+k)
			}
			if len(kioskCounters(h)) == 0 {
				t.Fatalf("no counters on the plain wall screen:\n%s", screen(h))
			}
			for start := 0; start < len(corpus); start += chunk {
				strs := corpus[start:min(start+chunk, len(corpus))]
				what := fmt.Sprintf("corpus[%d:%d]", start, start+len(strs))
				snap := hostileSnapshot(strs)
				same := hostileSnapshot(plain(len(strs)))
				same.Counts, same.Backlog = snap.Counts, snap.Backlog
				h.Push(same)
				want := kioskCounters(h)
				h.Push(snap)
				if got := kioskCounters(h); strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Fatalf("%s: counters differ from plain text's\n%s\nwant\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
				check := func(what string) {
					t.Helper()
					checkInert(t, h, what, nil)
					checkWallLayout(t, h, what)
				}
				for _, k := range panels {
					h.Type(k)
					check(what + " wall panel " + k)
				}
				// Tab and the rotation step through the panels in turn.
				for i := range panels {
					h.Key(tcell.KeyTab)
					check(fmt.Sprintf("%s wall, Tab %d", what, i+1))
				}
				for i := range panels {
					tick(h, clk, ui.KioskRotateDefault)
					check(fmt.Sprintf("%s wall, rotation %d", what, i+1))
				}
				h.Type("x") // any other key flashes what the screen is
				check(what + " wall, refusal")
			}
		})
	}
}

// hostileHandoff is a shift handoff report in which every string an
// upstream, an operator or the config gave is taken from strs.
func hostileHandoff(strs []string) *model.Handoff {
	at := func(i int) string { return strs[i%len(strs)] }
	from := fixedNow.Add(-8 * time.Hour)
	r := &model.Handoff{Version: model.HandoffVersion, Zone: "UTC",
		Window: model.Window{Label: at(0), From: from, To: fixedNow}, Previous: model.Window{Label: at(1), From: from.Add(-8 * time.Hour), To: from},
		Backlog: model.HandoffBacklog{Known: true}}
	secs := func(n int64) *int64 { return &n }
	for i := range strs {
		t0 := from.Add(time.Duration(i) * time.Minute)
		o := model.HandoffOutage{Service: at(i), Severity: "critical", Opened: t0, OpenedInWindow: true, StillOpen: true, Alerts: i,
			FirstAck:    &model.ActionRef{By: at(i + 1), At: t0.Add(time.Minute), Comment: at(i + 2)},
			Escalations: []model.EscalationStep{{Level: 2, Who: at(i + 3), By: at(i + 4), At: t0.Add(2 * time.Minute), Comment: at(i + 5)}},
			TTASeconds:  secs(60)}
		r.Outages = append(r.Outages, o)
		r.Operators = append(r.Operators, model.OperatorActivity{Operator: at(i + 1), Acks: 1})
		a := model.HandoffAction{At: t0, Operator: at(i + 4), Verb: "ack", Target: at(i + 6), State: "refused", Reason: at(i + 7)}
		r.Refused = append(r.Refused, a)
		a.State = "failed"
		r.Unfinished = append(r.Unfinished, a)
		a.Verb, a.State = "ticket-escalate", "delivered"
		r.Backlog.Escalated = append(r.Backlog.Escalated, a)
		r.Backlog.Tiers = append(r.Backlog.Tiers, model.BacklogTier{Source: at(i + 8), Tier: at(i + 9), End: &model.BacklogCounts{At: t0, Open: i}})
		r.SourceOutages = append(r.SourceOutages, model.HandoffSourceDown{Source: at(i + 8), Down: t0, Error: at(i + 10), DurationSeconds: 60})
		r.ExpiringSilences = append(r.ExpiringSilences, model.ExpiringAck{Service: at(i), By: at(i + 1), At: t0, Until: fixedNow.Add(time.Hour), Silences: 1, Comment: at(i + 11)})
		r.Notes = append(r.Notes, model.HandoffNote{At: t0, By: at(i + 1), Service: at(i + 12), Text: at(i + 13)})
		r.Timeline = append(r.Timeline, model.TimelineEvent{At: t0, Kind: model.EventNote, Subject: at(i + 12), By: at(i + 1), Detail: at(i + 13)},
			model.TimelineEvent{At: t0, Kind: at(i + 14), Subject: at(i), Detail: at(i + 10)})
	}
	return r
}

// handoffFeed hands the UI whichever report the test set last.
type handoffFeed struct {
	mu sync.Mutex
	r  *model.Handoff
}

func (f *handoffFeed) set(r *model.Handoff) { f.mu.Lock(); f.r = r; f.mu.Unlock() }
func (f *handoffFeed) Handoff(context.Context) (*model.Handoff, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.r, nil
}

// The shift handoff page (h) draws a report built from the whole corpus
// inert, from its first page to its last, with the plain screen's frame.
func TestHostileCorpusThroughTheHandoffView(t *testing.T) {
	corpus := hostiletest.Corpus(t)
	const chunk = 24
	for _, size := range [][2]int{{160, 48}, {80, 24}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			feed := &handoffFeed{}
			h := uitest.Start(t, ui.Options{Operator: "alice", Now: func() time.Time { return fixedNow }, Handoff: feed}, size[0], size[1])
			plain := make([]string, chunk)
			for i := range plain {
				plain[i] = fmt.Sprintf("plain%d", i)
			}
			h.Push(hostileSnapshot(plain))
			open := func(r *model.Handoff) {
				t.Helper()
				feed.set(r)
				h.Type("h")
				deadline := time.Now().Add(10 * time.Second)
				for !h.Contains("Shift handoff") {
					if time.Now().After(deadline) {
						t.Fatalf("the handoff report did not open:\n%s", screen(h))
					}
					runtime.Gosched()
					h.WaitIdle()
				}
			}
			open(hostileHandoff(plain))
			borders := frame(h)
			if len(borders) == 0 {
				t.Fatalf("no frame on the plain report:\n%s", screen(h))
			}
			h.Key(tcell.KeyEscape)
			for start := 0; start < len(corpus); start += chunk {
				strs := corpus[start:min(start+chunk, len(corpus))]
				what := fmt.Sprintf("corpus[%d:%d]", start, start+len(strs))
				open(hostileHandoff(strs))
				checkInert(t, h, what+" handoff", borders)
				for i, last := 0, ""; i < 60 && screen(h) != last; i++ {
					last = screen(h)
					h.Key(tcell.KeyPgDn)
					checkInert(t, h, fmt.Sprintf("%s handoff, page %d", what, i+2), borders)
				}
				h.Type("G")
				checkInert(t, h, what+" handoff, end", borders)
				h.Key(tcell.KeyEscape)
			}
		})
	}
}
