package ui

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
)

// MaxInertBytes bounds how much of one untrusted value Inert keeps: longer
// input is cut at a rune boundary and ends with "… (N bytes more)".
const MaxInertBytes = 64 << 10

// maxDetailBytes bounds one label or annotation value in the detail view,
// so a megabyte value is a screenful or two, not thousands of lines.
const maxDetailBytes = 8 << 10

// maxCellBytes bounds a value drawn in a table cell before it is made inert;
// a cell is never wider than a terminal line, so more is never shown.
const maxCellBytes = 512

// Inert makes one untrusted string safe to draw as a single line of literal
// text. Nothing in it is ever interpreted: tview style and region tags are
// not parsed anywhere in this package (text is drawn cell by cell), and
// Inert replaces what a terminal or a reader could be fooled by:
//
//   - C0 controls, DEL and C1 controls become visible escapes (`\x1b`,
//     `\x7f`, `\u009b`); a tab becomes a space and a newline becomes "↵";
//   - bidi embeddings, overrides, isolates and marks (U+202A–U+202E,
//     U+2066–U+2069, U+200E, U+200F, U+061C) and the line and paragraph
//     separators U+2028/U+2029 become visible escapes (`\u202e`);
//   - invalid UTF-8 becomes U+FFFD;
//   - input longer than MaxInertBytes is cut, ending "… (N bytes more)".
//
// It is safe to call from any goroutine.
func Inert(s string) string { return inertN(s, MaxInertBytes) }

// inertN is Inert with a bound of limit bytes.
func inertN(s string, limit int) string {
	more := 0
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		more = len(s) - cut
		s = s[:cut]
	}
	if more == 0 && isPlainASCII(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			b.WriteRune(utf8.RuneError)
			i++
			continue
		}
		i += size
		switch {
		case r == '\t':
			b.WriteByte(' ')
		case r == '\n':
			b.WriteRune('↵')
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r <= 0x9f, isBidiControl(r), r == 0x2028, r == 0x2029:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	if more > 0 {
		b.WriteString("… (" + model.Plural(more, "byte", "bytes") + " more)")
	}
	return b.String()
}

func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// isInert reports whether Inert would leave s as it is: no control, C1,
// bidi or line-separator character and no invalid UTF-8 (tab and newline
// count as controls). It allocates nothing.
func isInert(s string) bool {
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 || r <= 0x9f || isBidiControl(r) || r == 0x2028 || r == 0x2029 {
			return false
		}
		i += size
	}
	return true
}

func isBidiControl(r rune) bool {
	return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 ||
		r == 0x200e || r == 0x200f || r == 0x061c
}

// cellText bounds an untrusted value for a table cell and makes it inert.
// A cut value ends with "…".
func cellText(s string) string {
	if len(s) <= maxCellBytes {
		return Inert(s)
	}
	cut := maxCellBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return Inert(s[:cut]) + "…"
}

// painter draws literal text cell by cell. It never parses style tags, so
// it is the only way text reaches the screen in this package, and it makes
// any text that is not inert so (see Inert) before drawing it: whoever
// calls it, nothing that reaches a cell can act on the terminal. A painter
// is used by one goroutine.
type painter struct {
	scr tcell.Screen
	cb  tcell.CellBuffer // a one-cell scratch buffer used to split graphemes and measure them
	// ascii draws the UI's own glyphs (lines, bullets, arrows, …) as
	// ASCII look-alikes of the same width; see asciiTerminal.
	ascii bool
}

// asciiGlyph maps the UI's own non-ASCII glyphs to one ASCII cell each,
// for terminals that cannot draw them. Anything else is drawn as it is.
var asciiGlyph = map[string]string{
	"─": "-", "│": "|", "┌": "+", "┐": "+", "└": "+", "┘": "+", "├": "+", "┤": "+",
	"▲": "!", "◆": "*", "●": "i", "·": ".", "—": "-", "…": "~", "▸": ">", "◀": "<",
	"▏": "|", "↵": "$", "↓": "v", "↑": "^", "→": ">", "←": "<", "✗": "x", "✓": "v",
	"×": "x", "≥": ">", "≤": "<", "•": "*", "▶": ">", "█": "#",
}

// glyph is g as drawn: its ASCII look-alike on an ASCII terminal.
func (p *painter) glyph(g string) string {
	if p.ascii {
		if a, ok := asciiGlyph[g]; ok {
			return a
		}
	}
	return g
}

func newPainter(s tcell.Screen) *painter {
	p := &painter{scr: s}
	p.cb.Resize(1, 1)
	return p
}

// next splits off the first grapheme cluster of s and its display width.
func (p *painter) next(s string) (g, rest string, w int) {
	rest, w = p.cb.Put(0, 0, s, tcell.StyleDefault)
	if len(rest) == len(s) { // nothing consumed; never loop forever
		_, size := utf8.DecodeRuneInString(s)
		return s[:size], s[size:], 1
	}
	return s[:len(s)-len(rest)], rest, w
}

// width is the display width of s.
func (p *painter) width(s string) int {
	if isPlainASCII(s) {
		return len(s)
	}
	n := 0
	for s != "" {
		var w int
		_, s, w = p.next(s)
		n += w
	}
	return n
}

// text draws s at (x, y) within maxW cells and returns the width drawn. Text
// that does not fit ends with "…"; a wide glyph is never cut in half.
func (p *painter) text(x, y, maxW int, s string, st tcell.Style) int {
	if maxW <= 0 || s == "" {
		return 0
	}
	if !isPlainASCII(s) && !isInert(s) {
		s = Inert(s)
	}
	fits := true
	if isPlainASCII(s) {
		fits = len(s) <= maxW
	} else if len(s) > maxW { // a short string always fits: every glyph is ≥ 1 byte per cell
		fits = p.width(s) <= maxW
	}
	limit := maxW
	if !fits {
		limit = maxW - 1
	}
	used := 0
	for s != "" {
		g, rest, w := p.next(s)
		if used+w > limit {
			break
		}
		if w > 0 {
			p.scr.Put(x+used, y, p.glyph(g), st)
		}
		used += w
		s = rest
	}
	if !fits {
		p.scr.Put(x+used, y, p.glyph("…"), st)
		used++
	}
	return used
}

// fill paints n cells from (x, y) with r.
func (p *painter) fill(x, y, n int, r rune, st tcell.Style) {
	if p.ascii && r >= 0x80 {
		if a, ok := asciiGlyph[string(r)]; ok {
			r = rune(a[0])
		}
	}
	for i := 0; i < n; i++ {
		p.scr.SetContent(x+i, y, r, nil, st)
	}
}

// truncate cuts s to at most maxW cells, ending with "…" when cut.
func (p *painter) truncate(s string, maxW int) string {
	if maxW <= 0 {
		return ""
	}
	if p.width(s) <= maxW {
		return s
	}
	var b strings.Builder
	used := 0
	for s != "" {
		g, rest, w := p.next(s)
		if used+w > maxW-1 {
			break
		}
		b.WriteString(g)
		used += w
		s = rest
	}
	b.WriteString("…")
	return b.String()
}
