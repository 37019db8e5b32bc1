package ui

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/gdamore/tcell/v2"
	"github.com/yuin/goldmark"
	gast "github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// markdownParser is CommonMark with GitHub's tables, strikethrough,
// autolinks and task lists. Only its parser is used: the AST is laid out
// as document lines by mdLayout, never rendered as HTML.
var markdownParser = sync.OnceValue(func() parser.Parser {
	return goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough,
		extension.Linkify, extension.TaskList)).Parser()
})

// renderMarkdown lays out a runbook as document lines: headings (bold; the
// first two levels underlined, a top-level one in capitals), paragraphs
// wrapped, emphasis, ordered and bullet lists (nested ones indented under
// their parent's text; task items as ☐/☑), block quotes behind a bar,
// fenced and indented code kept verbatim (never wrapped: cut at the edge
// and scrolled sideways), GFM tables as aligned columns, links as OSC 8
// hyperlinks where the terminal takes them and "text <url>" where not,
// thematic breaks as a line, raw HTML as text. Every piece of text goes
// through Inert; nothing in the file is interpreted beyond this.
func (st *state) renderMarkdown(d *document, src string) {
	th := st.theme
	renderMarkdown(d, src, &th, st.osc8Links())
}

// renderMarkdown lays src out into d with theme th, links as OSC 8 when
// links is set. It touches no state, so a worker may run it.
func renderMarkdown(d *document, src string, th *Theme, links bool) {
	if why := tooComplex(src); why != "" {
		renderPlain(d, src, why, th)
		return
	}
	source := []byte(src)
	d.lines = slices.Grow(d.lines, strings.Count(src, "\n")) // about a line a line
	doc := markdownParser().Parse(text.NewReader(source))
	l := &mdLayout{d: d, th: th, src: source, links: links}
	l.blocks(doc, mdCtx{style: th.Base}, false)
	for n := len(d.lines); n > 0 && isBlankLine(&d.lines[n-1]); n-- {
		d.lines = d.lines[:n-1]
	}
}

// Bounds of what is laid out as markdown. CommonMark parsing takes time
// that grows with the square of a block's nesting and of runs of text
// without a space (an unclosed link destination is looked for to the end
// of its paragraph); no runbook a person writes comes near these bounds,
// and a file past them is shown as plain text, so a hostile file cannot
// hold the screen for minutes.
const (
	maxMarkdownDepth  = 32       // block quotes and list markers opening one line
	maxMarkdownLine   = 16 << 10 // one line outside code
	maxMarkdownWord   = 4 << 10  // text without a space, outside code
	maxMarkdownOpens  = 32       // link destinations and tags opened in one word
	maxMarkdownIndent = 128      // leading spaces of a line outside fenced code
	maxTableColumns   = 64       // a table's columns shown
)

// tooComplex says why src is not laid out as markdown, or "".
func tooComplex(src string) string {
	fence := ""
	for len(src) > 0 {
		line := src
		if i := strings.IndexByte(src, '\n'); i >= 0 {
			line, src = src[:i], src[i+1:]
		} else {
			src = ""
		}
		t := strings.TrimLeft(line, " \t")
		if fence != "" {
			if strings.HasPrefix(t, fence) {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
			fence = t[:3]
			continue
		}
		if len(line) > maxMarkdownLine {
			return "a line is longer than " + strconv.Itoa(maxMarkdownLine>>10) + " KiB"
		}
		if containerDepth(t) > maxMarkdownDepth {
			// always plural: the bounds are constants well above 1
			return "a line opens more than " + strconv.Itoa(maxMarkdownDepth) + " nested quotes or lists"
		}
		if len(line)-len(t) > maxMarkdownIndent {
			// always plural: the bounds are constants well above 1
			return "a line is indented more than " + strconv.Itoa(maxMarkdownIndent) + " columns"
		}
		run, opens := 0, 0
		for i := 0; i < len(line); i++ {
			switch c := line[i]; {
			case c == ' ' || c == '\t':
				run, opens = 0, 0
				continue
			case c == '<' || c == '(' && i > 0 && line[i-1] == ']':
				if opens++; opens > maxMarkdownOpens {
					// always plural: the bounds are constants well above 1
					return "a word opens more than " + strconv.Itoa(maxMarkdownOpens) + " links or tags"
				}
			}
			if run++; run > maxMarkdownWord {
				return "a word is longer than " + strconv.Itoa(maxMarkdownWord>>10) + " KiB"
			}
		}
	}
	return ""
}

// containerDepth counts the block quote and list markers that open t.
func containerDepth(t string) int {
	n := 0
	for t != "" {
		t = strings.TrimLeft(t, " \t")
		switch {
		case t == "":
		case t[0] == '>':
			t = t[1:]
		case (t[0] == '-' || t[0] == '*' || t[0] == '+') && len(t) > 1 && (t[1] == ' ' || t[1] == '\t'):
			t = t[2:]
		default:
			i := 0
			for i < len(t) && i < 9 && t[i] >= '0' && t[i] <= '9' {
				i++
			}
			if i == 0 || i+1 >= len(t) || t[i] != '.' && t[i] != ')' || t[i+1] != ' ' && t[i+1] != '\t' {
				return n
			}
			t = t[i+2:]
		}
		n++
	}
	return n
}

// renderPlain shows src line by line as plain text (wrapped, inert),
// after a line saying why it is not laid out as markdown.
func renderPlain(d *document, src, why string, th *Theme) {
	d.add(docLine{text: "Shown as plain text: " + why + ".", style: th.Warn})
	d.blank()
	for _, line := range strings.Split(src, "\n") {
		d.add(docLine{text: Inert(expandTabs(strings.TrimRight(line, "\r"))), style: th.Base})
	}
}

// osc8Links reports whether links are drawn as OSC 8 hyperlinks: on a
// terminal known to take them (tcell writes them for xterm-like
// terminals; not for the Linux console, vt100s, dumb terminals, or
// screen and tmux, which may drop them). Elsewhere a link shows its
// address after its text.
func (st *state) osc8Links() bool {
	if st.ascii || st.term == "" {
		return false
	}
	for _, p := range []string{"linux", "screen", "tmux", "vt", "dumb", "ansi", "cons"} {
		if strings.HasPrefix(st.term, p) {
			return false
		}
	}
	return true
}

// mdLayout walks a parsed runbook into a document.
type mdLayout struct {
	d     *document
	th    *Theme
	src   []byte
	links bool
}

// mdCtx is where a block goes: the column its text starts at, the label
// its first line carries (a list marker), the quote bars on its left and
// the style of its text.
type mdCtx struct {
	indent int
	label  string
	labelW int
	rail   *docRail
	inList bool
	style  tcell.Style
}

// line is a docLine in the context: indented, with the quote bars.
func (l *mdLayout) line(c *mdCtx) docLine {
	dl := docLine{indent: c.indent, style: c.style, rail: c.rail}
	if c.label != "" {
		dl.indent, dl.label, dl.labelW, dl.lstyle = c.indent-c.labelW, c.label, c.labelW, l.th.KeyHint
		c.label = "" // only the first line of the first block
	}
	return dl
}

func isBlankLine(dl *docLine) bool {
	return dl.text == "" && dl.spans == nil && dl.label == "" && !dl.verbatim && !dl.rule && dl.table == nil
}

// blank adds an empty line (with the quote bars), never two in a row.
func (l *mdLayout) blank(c *mdCtx) {
	if n := len(l.d.lines); n == 0 || isBlankLine(&l.d.lines[n-1]) {
		return
	}
	l.d.add(docLine{rail: c.rail})
}

// blocks lays out the block children of parent, an empty line between
// them unless tight (the items of a tight list).
func (l *mdLayout) blocks(parent gast.Node, c mdCtx, tight bool) {
	for n := parent.FirstChild(); n != nil; n = n.NextSibling() {
		if n != parent.FirstChild() && !tight {
			l.blank(&c)
		}
		l.block(n, &c)
	}
}

func (l *mdLayout) block(n gast.Node, c *mdCtx) {
	th := l.th
	switch n := n.(type) {
	case *gast.Paragraph, *gast.TextBlock:
		l.paragraph(n, c, c.style)
	case *gast.Heading:
		st := th.Title.Underline(n.Level <= 2)
		before := len(l.d.lines)
		l.paragraph(n, c, st)
		if n.Level == 1 {
			for i := before; i < len(l.d.lines); i++ {
				for j := range l.d.lines[i].spans {
					s := &l.d.lines[i].spans[j]
					s.text = strings.ToUpper(s.text)
				}
			}
		}
	case *gast.ThematicBreak:
		dl := l.line(c)
		dl.rule, dl.style = true, th.Dim
		l.d.add(dl)
	case *gast.FencedCodeBlock, *gast.CodeBlock:
		l.code(n, c)
	case *gast.HTMLBlock:
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			dl := l.line(c)
			dl.text, dl.style = Inert(strings.TrimRight(expandTabs(string(seg.Value(l.src))), "\r\n ")), th.Dim
			l.d.add(dl)
		}
		if n.HasClosure() {
			dl := l.line(c)
			dl.text, dl.style = Inert(strings.TrimRight(string(n.ClosureLine.Value(l.src)), "\r\n ")), th.Dim
			l.d.add(dl)
		}
	case *gast.Blockquote:
		q := *c
		r := &docRail{x: c.indent, st: th.Dim}
		if c.rail != nil {
			r.text, r.x = c.rail.text, c.rail.x
		} else if !c.inList {
			r.x += 2
			q.indent += 2
		}
		r.text += "│ "
		q.rail = r
		q.indent += 2
		q.style = th.Dim
		if c.label != "" { // a quote that opens a list item: the marker first
			l.d.add(l.line(c))
		}
		l.blocks(n, q, false)
	case *gast.List:
		l.list(n, c)
	case *east.Table:
		l.table(n, c)
	default:
		if n.HasChildren() {
			l.blocks(n, *c, false)
		}
	}
}

// paragraph lays out the inline content of n, one docLine per hard line
// break.
func (l *mdLayout) paragraph(n gast.Node, c *mdCtx, st tcell.Style) {
	var t inlineText
	l.inlines(n, st, &t)
	for _, ss := range t.result() {
		dl := l.line(c)
		dl.spans = ss
		if dl.spans == nil {
			dl.spans = []span{}
		}
		l.d.add(dl)
	}
}

// code lays out a code block verbatim, line by line: tabs expanded, every
// line inert, never wrapped.
func (l *mdLayout) code(n gast.Node, c *mdCtx) {
	if c.label != "" { // a code block that opens a list item: the marker alone first
		l.d.add(l.line(c))
	}
	lines := n.Lines()
	for i := 0; i < lines.Len(); i++ {
		seg := lines.At(i)
		v := strings.TrimRight(string(seg.Value(l.src)), "\r\n")
		dl := l.line(c)
		dl.indent += 2
		dl.text, dl.verbatim, dl.style = Inert(expandTabs(v)), true, c.style
		l.d.add(dl)
	}
}

// expandTabs replaces tabs with spaces to the next multiple of 4 columns
// (Inert would make each a single space).
func expandTabs(s string) string {
	if strings.IndexByte(s, '\t') < 0 {
		return s
	}
	var b strings.Builder
	col := 0
	for _, r := range s {
		if r == '\t' {
			n := 4 - col%4
			b.WriteString("    "[:n])
			col += n
			continue
		}
		b.WriteRune(r)
		col++
	}
	return b.String()
}

// list lays out a list: its markers in a column (ordered ones numbered
// from the list's start), the items' text after them, a nested list under
// its parent's text.
func (l *mdLayout) list(n *gast.List, c *mdCtx) {
	base := c.indent
	if !c.inList {
		base += 2
	}
	labelW := 2
	if n.IsOrdered() {
		last := n.Start + n.ChildCount() - 1
		labelW = len(strconv.Itoa(max(last, n.Start))) + 2
	}
	if c.label != "" { // a list that opens a list item: the outer marker alone first
		l.d.add(l.line(c))
	}
	num := n.Start
	for item := n.FirstChild(); item != nil; item = item.NextSibling() {
		if item != n.FirstChild() && !n.IsTight {
			l.blank(c)
		}
		marker := "•"
		if n.IsOrdered() {
			marker = strconv.Itoa(num) + string(n.Marker)
			num++
		}
		if box := taskBox(item); box != nil {
			marker = "☐"
			if box.IsChecked {
				marker = "☑"
			}
			box.Parent().RemoveChild(box.Parent(), box)
		}
		ic := mdCtx{indent: base + labelW, label: marker, labelW: labelW, rail: c.rail, inList: true, style: c.style}
		if !item.HasChildren() {
			l.d.add(l.line(&ic))
			continue
		}
		l.blocks(item, ic, n.IsTight)
	}
}

// taskBox is the check box that opens a task list item, if any.
func taskBox(item gast.Node) *east.TaskCheckBox {
	if first := item.FirstChild(); first != nil {
		if box, ok := first.FirstChild().(*east.TaskCheckBox); ok {
			return box
		}
	}
	return nil
}

// inlines appends the inline content of n to t in style st.
func (l *mdLayout) inlines(n gast.Node, st tcell.Style, t *inlineText) {
	th := l.th
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *gast.Text:
			v := c.Segment.Value(l.src)
			if c.IsRaw() {
				t.add(Inert(string(v)), st)
			} else {
				t.add(Inert(unescape(v)), st)
			}
			switch {
			case c.HardLineBreak():
				t.lineBreak()
			case c.SoftLineBreak():
				t.add(" ", st)
			}
		case *gast.String:
			t.add(Inert(string(c.Value)), st)
		case *gast.CodeSpan:
			var b strings.Builder
			for t := c.FirstChild(); t != nil; t = t.NextSibling() {
				if t, ok := t.(*gast.Text); ok {
					b.Write(t.Segment.Value(l.src))
				}
			}
			t.add(Inert(strings.ReplaceAll(b.String(), "\n", " ")), th.KeyHint)
		case *gast.Emphasis:
			es := st.Italic(true)
			if c.Level >= 2 {
				es = st.Bold(true)
			}
			l.inlines(c, es, t)
		case *east.Strikethrough:
			l.inlines(c, st.StrikeThrough(true), t)
		case *gast.Link:
			l.link(c, string(c.Destination), "", st, t)
		case *gast.Image:
			l.link(c, string(c.Destination), "image: ", st, t)
		case *gast.AutoLink:
			url := string(c.URL(l.src))
			if c.AutoLinkType == gast.AutoLinkEmail && !strings.HasPrefix(strings.ToLower(url), "mailto:") {
				url = "mailto:" + url
			}
			label := Inert(string(c.Label(l.src)))
			if ls, ok := l.linkStyle(st, url); ok {
				t.add(label, ls)
			} else {
				t.add(label, st.Underline(true))
			}
		case *gast.RawHTML:
			segs := c.Segments
			for i := 0; i < segs.Len(); i++ {
				s := segs.At(i)
				t.add(Inert(strings.ReplaceAll(string(s.Value(l.src)), "\n", " ")), th.Dim)
			}
		case *east.TaskCheckBox:
			if c.IsChecked {
				t.add("[x] ", st)
			} else {
				t.add("[ ] ", st)
			}
		default:
			l.inlines(c, st, t)
		}
	}
}

// link lays out a link's (or image's) text: as an OSC 8 hyperlink to
// url where the terminal takes them and url is a web or mail address,
// else followed by "<url>".
func (l *mdLayout) link(n gast.Node, url, prefix string, st tcell.Style, t *inlineText) {
	ls, osc := l.linkStyle(st, url)
	if !osc {
		ls = st.Underline(true)
	}
	var inner inlineText
	inner.add(prefix, ls)
	l.inlines(n, ls, &inner)
	ss := inner.flat() // a link takes no line break
	for _, s := range ss {
		t.add(s.text, s.st)
	}
	if osc || url == "" {
		return
	}
	label := spansText(ss)
	shown := Inert(url)
	switch {
	case strings.TrimSpace(strings.TrimPrefix(label, prefix)) == "":
		t.add(shown, ls)
	case label != shown:
		t.add(" <"+shown+">", l.th.Dim)
	}
}

// linkStyle is st as an OSC 8 hyperlink to url, when links are drawn so
// and url is an absolute http, https or mailto address of printable
// ASCII (nothing else may reach the escape sequence tcell writes).
func (l *mdLayout) linkStyle(st tcell.Style, url string) (tcell.Style, bool) {
	if !l.links || len(url) > 2048 {
		return st, false
	}
	low := strings.ToLower(url)
	if !strings.HasPrefix(low, "https://") && !strings.HasPrefix(low, "http://") && !strings.HasPrefix(low, "mailto:") {
		return st, false
	}
	for i := 0; i < len(url); i++ {
		if url[i] <= ' ' || url[i] >= 0x7f {
			return st, false
		}
	}
	return st.Underline(true).Url(url), true
}

// inlineText collects inline text as spans, one list of them per line
// (hard line breaks end a line). Pieces of one style are joined into one
// span without copying what came before each time.
type inlineText struct {
	lines [][]span
	spans []span
	b     strings.Builder
	st    tcell.Style
	open  bool // b holds text in style st
}

// add appends s in style st.
func (t *inlineText) add(s string, st tcell.Style) {
	if s == "" {
		return
	}
	if t.open && t.st != st {
		t.flush()
	}
	t.b.WriteString(s)
	t.st, t.open = st, true
}

func (t *inlineText) flush() {
	if t.open {
		t.spans = append(t.spans, span{text: t.b.String(), st: t.st})
		t.b.Reset()
		t.open = false
	}
}

// lineBreak ends the current line.
func (t *inlineText) lineBreak() {
	t.flush()
	t.lines = append(t.lines, t.spans)
	t.spans = nil
}

// result is every line's spans.
func (t *inlineText) result() [][]span {
	t.flush()
	return append(t.lines, t.spans)
}

// flat is the spans of every line on one line, a space for each break
// (a link or a table cell takes no line break).
func (t *inlineText) flat() []span {
	lines := t.result()
	if len(lines) == 1 {
		return lines[0]
	}
	var out inlineText
	for i, ln := range lines {
		if i > 0 {
			out.add(" ", out.st)
		}
		for _, s := range ln {
			out.add(s.text, s.st)
		}
	}
	out.flush()
	return out.spans
}

// unescape is markdown text as it reads: backslash escapes of punctuation
// dropped, entity and numeric character references resolved (what a
// reference produces is made inert with the rest).
func unescape(v []byte) string {
	if bytes.IndexByte(v, '\\') < 0 && bytes.IndexByte(v, '&') < 0 {
		return string(v)
	}
	var b strings.Builder
	start := 0
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) && util.IsPunct(v[i+1]) {
			b.Write(util.ResolveEntityNames(util.ResolveNumericReferences(v[start:i])))
			b.WriteByte(v[i+1])
			i++
			start = i + 1
		}
	}
	b.Write(util.ResolveEntityNames(util.ResolveNumericReferences(v[start:])))
	return b.String()
}

// table lays out a GFM table: a docTable sized when the document is
// wrapped to a width.
func (l *mdLayout) table(n *east.Table, c *mdCtx) {
	t := &docTable{}
	for row := n.FirstChild(); row != nil; row = row.NextSibling() {
		header := false
		if _, ok := row.(*east.TableHeader); ok {
			header = true
		}
		var cells [][]span
		for cell := row.FirstChild(); cell != nil && len(cells) < maxTableColumns; cell = cell.NextSibling() {
			st := c.style
			if header {
				st = l.th.Title
			}
			var ct inlineText
			l.inlines(cell, st, &ct)
			cells = append(cells, ct.flat())
			if len(t.aligns) < len(cells) {
				a := alignLeft
				if tc, ok := cell.(*east.TableCell); ok {
					switch tc.Alignment {
					case east.AlignRight:
						a = alignRight
					case east.AlignCenter:
						a = alignCenter
					}
				}
				t.aligns = append(t.aligns, a)
			}
		}
		t.rows = append(t.rows, cells)
	}
	if c.label != "" {
		l.d.add(l.line(c))
	}
	dl := l.line(c)
	dl.table = t
	l.d.add(dl)
}
