package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"

	"sitroom/model/hostiletest"
)

// renderRunbook lays out src as the runbook view does, for a terminal
// named term, wrapped to w columns.
func renderRunbook(t testing.TB, src, term string, w int) (*document, *painter) {
	t.Helper()
	st := newState(Options{Term: term}, true)
	d := &document{}
	st.renderMarkdown(d, src)
	p := newPainter(nil)
	d.wrap(p, w)
	return d, p
}

// screenText is the wrapped document as plain lines: label, text, cells
// at their columns (code from its first column).
func screenText(d *document, p *painter) []string {
	out := make([]string, 0, len(d.wrapped))
	for _, l := range d.wrapped {
		row := []rune(strings.Repeat(" ", 400))
		put := func(x int, s string) {
			for _, r := range s {
				if x >= 0 && x < len(row) {
					row[x] = r
				}
				x++
			}
		}
		if r := l.dl.rail; r != nil {
			put(r.x, r.text)
		}
		if l.first {
			put(l.dl.indent, l.dl.label)
		}
		switch {
		case l.cells != nil:
			for _, c := range l.cells {
				s := spansText(fitSpans(p, c.spans, c.w))
				x := c.x
				if c.align == alignRight {
					x += c.w - p.width(s)
				}
				put(x, s)
			}
		case l.dl.rule:
			put(l.x, strings.Repeat("─", 3))
		case l.spans != nil:
			put(l.x, spansText(l.spans))
		default:
			put(l.x, l.text)
		}
		out = append(out, strings.TrimRight(string(row), " "))
	}
	return out
}

func TestMarkdownLayout(t *testing.T) {
	src := "# Title\n\n" +
		"Text with *emphasis*, **strong**, ~~struck~~ and `code`,\nsoft-wrapped.\n\n" +
		"3. third\n4. fourth\n   - nested under fourth\n     1. deeper\n\n" +
		"> quoted\n> > twice\n\n" +
		"```\n\tindented with a tab; a very long command line that must never be wrapped by the renderer at all\n```\n\n" +
		"    indented code\n\n" +
		"| a | long header |\n|---|--:|\n| x | 1 |\n\n" +
		"<div>raw <b>html</b></div>\n\n" +
		"See [the guide](https://wiki.example/guide), [failover](failover.md), <https://x.example/a>, www.example.org and [bad](javascript:alert(1)).\n\n" +
		"***\n"
	d, p := renderRunbook(t, src, "", 40)
	got := screenText(d, p)
	want := []string{
		"TITLE",
		"",
		"Text with emphasis, strong, struck and",
		"code, soft-wrapped.",
		"",
		"  3. third",
		"  4. fourth",
		"     • nested under fourth",
		"       1. deeper",
		"",
		"  │ quoted",
		"  │",
		"  │ │ twice",
		"",
		"      indented with a tab; a very long command line that must never be wrapped by the renderer at all",
		"",
		"  indented code",
		"",
		"a  long header",
		"x            1",
		"",
		"<div>raw <b>html</b></div>",
		"",
		"See the guide",
		"<https://wiki.example/guide>, failover",
		"<failover.md>, https://x.example/a,",
		"www.example.org and bad",
		"<javascript:alert(1)>.",
		"",
		"───",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("layout:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Emphasis, strikethrough and code keep their styles.
	styles := map[string]tcell.Style{}
	for _, l := range d.lines {
		for _, s := range l.spans {
			styles[strings.TrimSpace(s.text)] = s.st
		}
	}
	th := DefaultTheme(true)
	for text, st := range map[string]tcell.Style{"emphasis": th.Base.Italic(true), "strong": th.Base.Bold(true), "struck": th.Base.StrikeThrough(true)} {
		if styles[text] != st {
			t.Errorf("%q is not drawn in its style", text)
		}
	}
}

// Links are OSC 8 hyperlinks on a terminal that takes them, and only to
// web and mail addresses; elsewhere the address follows the text.
func TestMarkdownLinks(t *testing.T) {
	src := "See [the guide](https://wiki.example/guide), [failover](failover.md), <https://x.example/a>, [bad](javascript:alert(1)) and <ops@example.org>.\n"
	d, p := renderRunbook(t, src, "xterm-256color", 200)
	linked := map[string]string{}
	for _, l := range d.wrapped {
		for _, s := range l.spans {
			for _, url := range []string{"https://wiki.example/guide", "https://x.example/a", "mailto:ops@example.org"} {
				if s.st != s.st.Url("") && s.st == s.st.Url(url) {
					linked[s.text] = url
				}
			}
		}
	}
	if len(linked) != 3 || linked["the guide"] == "" || linked["https://x.example/a"] == "" || linked["ops@example.org"] == "" {
		t.Errorf("hyperlinks: %v", linked)
	}
	text := strings.Join(screenText(d, p), "\n")
	if !strings.Contains(text, "See the guide, failover <failover.md>, https://x.example/a, bad <javascript:alert(1)> and ops@example.org.") {
		t.Errorf("on an OSC 8 terminal:\n%s", text)
	}
	for _, term := range []string{"", "linux", "screen-256color", "tmux-256color", "vt220", "dumb"} {
		d, _ := renderRunbook(t, src, term, 200)
		for _, l := range d.wrapped {
			for _, s := range l.spans {
				if s.st != s.st.Url("") {
					t.Errorf("TERM=%q: %q is a hyperlink", term, s.text)
				}
			}
		}
	}
}

// A table wider than the page keeps its narrow columns whole and cuts
// the wide ones with "…"; code is never wrapped.
func TestMarkdownNarrowTable(t *testing.T) {
	src := "| Role | Who | Phone |\n|---|---|--:|\n| DBA on call | PagerDuty schedule dba-primary, then the data team lead | +44 20 7946 0958 |\n\n" +
		"```\n" + strings.Repeat("x", 300) + "\n```\n"
	d, p := renderRunbook(t, src, "", 40)
	got := screenText(d, p)
	if len(got) < 4 || !strings.HasPrefix(got[0], "Role") || !strings.HasPrefix(got[1], "DBA on call  ") || !strings.Contains(got[1], "PagerDuty sc…") {
		t.Errorf("narrow table:\n%s", strings.Join(got, "\n"))
	}
	for _, l := range got[:2] {
		if w := p.width(l); w > 40 {
			t.Errorf("a table row is %d cells wide on a 40-cell page: %q", w, l)
		}
	}
	code := 0
	for _, l := range d.wrapped {
		if l.dl.verbatim {
			code++
			if l.text != strings.Repeat("x", 300) {
				t.Errorf("a code line was changed: %q", l.text)
			}
		}
	}
	if code != 1 {
		t.Errorf("a 300-column code line took %d screen lines", code)
	}
	if d.codeW != 302 {
		t.Errorf("codeW = %d, want 302", d.codeW)
	}
}

// Every string of the hostile corpus, wherever a runbook puts it (text,
// heading, list, quote, code, table, link text and address, inline code,
// raw HTML), reaches the page inert, and no hyperlink goes anywhere but
// a printable web or mail address the runbook names.
func TestHostileCorpusThroughRunbooks(t *testing.T) {
	corpus := hostiletest.Corpus(t)
	for _, term := range []string{"xterm-256color", ""} {
		for i, s := range corpus {
			one := strings.ReplaceAll(s, "\n", " ")
			src := "# " + one + "\n\n" + s + "\n\n- " + one + "\n  1. " + one + "\n\n> " + one + "\n\n" +
				"```\n" + s + "\n```\n\n| h | " + one + " |\n|---|---|\n| " + one + " | x |\n\n" +
				"[" + one + "](" + one + ") [x](<" + one + ">) `" + one + "` <span title=\"" + one + "\">" + one + "</span>\n"
			if len(src) > maxRunbookBytes { // what readRunbook would read
				src = src[:maxRunbookBytes]
			}
			for _, w := range []int{76, 196} {
				d, p := renderRunbook(t, src, term, w)
				check := func(where, text string, st tcell.Style) {
					if !isInert(text) {
						t.Fatalf("corpus[%d] TERM=%q: %s %q is not inert", i, term, where, text)
					}
					if url := styleURL(st); url != "" && !safeLink(url) {
						t.Fatalf("corpus[%d] TERM=%q: %s %q is a hyperlink to somewhere unsafe", i, term, where, text)
					}
				}
				for _, l := range d.wrapped {
					check("label", l.dl.label, l.dl.lstyle)
					check("text", l.text, l.dl.style)
					for _, sp := range l.spans {
						check("span", sp.text, sp.st)
					}
					for _, c := range l.cells {
						for _, sp := range fitSpans(p, c.spans, c.w) {
							check("cell", sp.text, sp.st)
						}
					}
				}
			}
		}
	}
}

// styleURL is the hyperlink address st carries ("" for none). tcell has
// no getter for it.
func styleURL(st tcell.Style) string {
	return reflect.ValueOf(st).FieldByName("url").String()
}

// safeLink is what may be a hyperlink: an http(s) or mailto address of
// printable ASCII.
func safeLink(url string) bool {
	low := strings.ToLower(url)
	if !strings.HasPrefix(low, "http://") && !strings.HasPrefix(low, "https://") && !strings.HasPrefix(low, "mailto:") {
		return false
	}
	for i := 0; i < len(url); i++ {
		if url[i] <= ' ' || url[i] >= 0x7f {
			return false
		}
	}
	return true
}

// megaRunbook is about 1 MiB of realistic runbook: the NOC's runbook
// repeated.
func megaRunbook(b testing.TB) string {
	body, err := os.ReadFile(filepath.Join("..", "testdata", "runbooks", "db-main-failover.md"))
	if err != nil {
		b.Fatal(err)
	}
	var sb strings.Builder
	for i := 0; sb.Len() < maxRunbookBytes-len(body); i++ {
		fmt.Fprintf(&sb, "## Section %d\n\n", i)
		sb.Write(body)
	}
	return sb.String()
}

// BenchmarkRenderRunbook1MiB is a 1 MiB runbook parsed, laid out and
// wrapped for an 80-column page (budget: 50 ms).
func BenchmarkRenderRunbook1MiB(b *testing.B) {
	src := megaRunbook(b)
	st := newState(Options{Term: "xterm-256color"}, false)
	p := newPainter(nil)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		d := &document{}
		st.renderMarkdown(d, src)
		d.wrap(p, 76)
	}
}

// A file whose markdown would take the parser minutes (nesting thousands
// deep, unclosed link destinations by the thousand, megabyte lines) is
// shown as plain text with the reason, every line inert; a realistic
// megabyte runbook is laid out as markdown.
func TestRunbookTooComplexShownPlain(t *testing.T) {
	n := maxRunbookBytes
	for name, src := range map[string]string{
		"nested quotes": strings.Repeat(">", 200) + " deep\n",
		"nested lists":  strings.Repeat("1. ", 100) + "deep\n",
		"indented lists": func() string {
			var b strings.Builder
			for i := 0; i < 200; i++ {
				b.WriteString(strings.Repeat("  ", i) + "- x\n")
			}
			return b.String()
		}(),
		"unclosed links":  strings.Repeat(strings.Repeat("[a](", 1000)+"\n\n", n/4002),
		"a megabyte line": strings.Repeat("*a", n/2),
		"a long word":     "see " + strings.Repeat("x", 5000) + "\x1b[2J\n",
	} {
		d, p := renderRunbook(t, src, "xterm-256color", 76)
		if !strings.HasPrefix(d.lines[0].text, "Shown as plain text: ") {
			t.Errorf("%s: laid out as markdown (%q)", name, d.lines[0].text)
		}
		for _, l := range d.wrapped {
			if !isInert(l.text) {
				t.Fatalf("%s: %q is not inert", name, l.text)
			}
		}
		_ = p
	}
	d, _ := renderRunbook(t, megaRunbook(t), "", 76)
	if strings.HasPrefix(d.lines[0].text, "Shown as plain text") || len(d.wrapped) < 10000 {
		t.Errorf("a realistic 1 MiB runbook is not laid out as markdown: %q, %d lines", d.lines[0].text, len(d.wrapped))
	}
}
