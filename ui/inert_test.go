package ui

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gdamore/tcell/v2"
)

func TestInert(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"[red]boom[-]", "[red]boom[-]"},
		{`["x"]region[""]`, `["x"]region[""]`},
		{"[:::http://evil]click", "[:::http://evil]click"},
		{"a\x1b[31mred", `a\x1b[31mred`},
		{"\x1b]8;;http://evil\x07click\x1b]8;;\x07", `\x1b]8;;http://evil\x07click\x1b]8;;\x07`},
		{"bell\x07 nul\x00 del\x7f", `bell\x07 nul\x00 del\x7f`},
		{"c1 \u009b31m \u0085", `c1 \u009b31m \u0085`},
		{"tab\there", "tab here"},
		{"two\nlines\r", `two↵lines\x0d`},
		{"invoice\u202Egnp.exe", `invoice\u202egnp.exe`},
		{"\u2066isolate\u2069 \u200f", `\u2066isolate\u2069 \u200f`},
		{"bad \xff\xfe utf8", "bad \uFFFD\uFFFD utf8"},
		{"truncated \xe2\x82", "truncated \uFFFD\uFFFD"},
		{"emoji 🔥 and 漢字", "emoji 🔥 and 漢字"},
		{"line\u2028sep", `line\u2028sep`},
	}
	for _, c := range cases {
		if got := Inert(c.in); got != c.want {
			t.Errorf("Inert(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestInertBoundsHugeValues(t *testing.T) {
	huge := strings.Repeat("é", 1<<19) // 1 MiB, two bytes per rune
	got := Inert(huge)
	if !strings.HasSuffix(got, " bytes more)") || len(got) > MaxInertBytes+64 {
		t.Fatalf("1 MiB value not bounded: %d bytes, ends %q", len(got), got[len(got)-30:])
	}
	if !utf8.ValidString(got) {
		t.Fatal("cut inside a rune")
	}
	cell := cellText(huge)
	if len(cell) > maxCellBytes+8 || !strings.HasSuffix(cell, "…") {
		t.Fatalf("cell text not bounded with an ellipsis: %d bytes", len(cell))
	}
}

func FuzzInert(f *testing.F) {
	for _, s := range []string{"[red]x", "\x1b]8;;u\x07", "\u202e", "\xff", "a\tb\nc", strings.Repeat("x", MaxInertBytes+3)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Inert(s)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		for _, r := range out {
			if r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f || isBidiControl(r) || r == 0x2028 || r == 0x2029 {
				t.Fatalf("Inert(%q) kept control %U", s, r)
			}
		}
		if len(out) > 6*MaxInertBytes+64 {
			t.Fatalf("output of %d bytes not bounded", len(out))
		}
		if len(out) <= MaxInertBytes && Inert(out) != out {
			t.Fatalf("not idempotent on %q", s)
		}
		// Drawn, it occupies cells exactly as measured and never runs past the limit.
		scr := tcell.NewSimulationScreen("UTF-8")
		if err := scr.Init(); err != nil {
			t.Fatal(err)
		}
		scr.SetSize(30, 1)
		p := newPainter(scr)
		if w := p.text(0, 0, 30, cellText(s), tcell.StyleDefault); w > 30 {
			t.Fatalf("drew %d cells into 30", w)
		}
	})
}

func TestPainterTruncatesWithoutCuttingGlyphs(t *testing.T) {
	scr := tcell.NewSimulationScreen("UTF-8")
	if err := scr.Init(); err != nil {
		t.Fatal(err)
	}
	scr.SetSize(20, 1)
	p := newPainter(scr)
	// 漢 is two cells wide: in 6 cells "ab漢漢" (6) fits exactly; "ab漢漢c" does not and must
	// end "ab漢…" (5 cells) rather than half a glyph.
	for _, c := range []struct {
		in   string
		w    int
		want string
	}{
		{"ab漢漢", 6, "ab漢漢"},
		{"ab漢漢c", 6, "ab漢…"},
		{"abcdefgh", 5, "abcd…"},
		{"abc", 5, "abc"},
	} {
		scr.Clear()
		n := p.text(0, 0, c.w, c.in, tcell.StyleDefault)
		scr.Show()
		cells, _, _ := scr.GetContents()
		var b strings.Builder
		for _, cell := range cells[:c.w] {
			b.WriteString(string(cell.Runes))
		}
		got := strings.TrimRight(b.String(), " ")
		if got != c.want || n > c.w {
			t.Errorf("text(%q, %d) = %q (%d cells), want %q", c.in, c.w, got, n, c.want)
		}
	}
}

func TestCompactDuration(t *testing.T) {
	for d, want := range map[string]string{"45s": "45s", "12m": "12m", "3h5m": "3h05m", "52h": "2d4h", "-3s": "0s"} {
		dd, _ := timeParse(d)
		if got := compactDuration(dd); got != want {
			t.Errorf("compactDuration(%s) = %s, want %s", d, got, want)
		}
	}
}

func timeParse(s string) (d time.Duration, err error) { return time.ParseDuration(s) }
