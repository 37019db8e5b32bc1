package ui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
)

// docLine is one logical line of a scrollable document: an optional label
// in a fixed-width column, then text that wraps under itself. Both are inert.
type docLine struct {
	indent int
	label  string
	labelW int
	text   string
	lstyle tcell.Style
	style  tcell.Style
	// spans, when set, are the text as pieces in their own styles (a
	// runbook's emphasis, code and links); they wrap as one text.
	spans []span
	// rail is drawn on every screen line the line takes (the bars of a
	// block quote); nil for none.
	rail *docRail
	// verbatim text is one line of code: never wrapped nor re-flowed,
	// cut at the right edge and scrolled sideways (document.hoff).
	verbatim bool
	// rule draws a horizontal line (a thematic break).
	rule bool
	// table is laid out when the document is wrapped to a width.
	table *docTable
}

// docRail is text drawn at column x of every screen line of the lines
// that share it.
type docRail struct {
	text string
	x    int
	st   tcell.Style
}

// span is a piece of text with its own style. Its text is inert.
type span struct {
	text string
	st   tcell.Style
}

// screenLine is one screen line of a docLine wrapped to a width: its
// part of the text (or of the spans, or a table row's cells) from column
// x; the label, quote bars and styles are the docLine's.
type screenLine struct {
	dl    *docLine
	x     int
	text  string
	spans []span
	cells []cellLine // a table row
	first bool       // the docLine's first line: its label goes here
}

// document is a scrollable text page: the alert detail view and the help page.
type document struct {
	title string
	// head are lines shown above the others (a runbook's revision); they
	// may arrive after the document opened (setHead).
	head  []docLine
	lines []docLine
	sig   *model.Signal // the signal shown, for the detail view
	// url is the web address `y` copies (a runbook that is a web page).
	url string
	// back is the document (with its detail key and mode) Esc returns to:
	// a runbook opened from an alert's detail returns there.
	back     *document
	backOf   string
	backMode mode
	offset   int
	page     int // lines visible in the last frame
	wrapW    int
	wrapped  []screenLine
	// hoff is how far verbatim lines (code) are scrolled sideways; codeW
	// the width the widest of them needs, from the left edge.
	hoff  int
	codeW int
}

func (d *document) add(l docLine) { d.lines = append(d.lines, l) }
func (d *document) blank()        { d.lines = append(d.lines, docLine{}) }
func (d *document) heading(s string, st tcell.Style) {
	d.lines = append(d.lines, docLine{text: s, style: st})
}

func (d *document) scroll(delta int) {
	d.offset += delta
	d.clampOffset()
}

func (d *document) clampOffset() {
	maxOff := max(len(d.wrapped)-d.page, 0)
	if d.wrapW == 0 { // not drawn yet: clamp against logical lines
		maxOff = max(len(d.head)+len(d.lines)-1, 0)
	}
	d.offset = min(max(d.offset, 0), maxOff)
}

// scrollSideways moves verbatim lines by delta columns, within the width
// the widest of them needs.
func (d *document) scrollSideways(delta int) {
	d.hoff = min(max(d.hoff+delta, 0), max(d.codeW-d.wrapW, 0))
}

// setHead replaces the lines above the document's text. A reader who has
// scrolled keeps the same text in view.
// setLines replaces the document's lines (a runbook laid out by a
// worker), keeping the reader's place when it is already drawn.
func (d *document) setLines(lines []docLine) {
	d.lines = lines
	if w := d.wrapW; w != 0 {
		d.wrapW = 0
		d.wrapped = d.wrapped[:0]
		d.wrap(newPainter(nil), w)
		d.clampOffset()
	}
}

func (d *document) setHead(head []docLine) {
	before := len(d.wrapped)
	w := d.wrapW
	d.head = head
	if w == 0 {
		return
	}
	d.wrapW = 0
	d.wrapped = d.wrapped[:0]
	p := newPainter(nil)
	d.wrap(p, w)
	if d.offset > 0 {
		d.offset += len(d.wrapped) - before
		d.clampOffset()
	}
}

// wrap splits every line to width w.
func (d *document) wrap(p *painter, w int) {
	if d.wrapW == w {
		return
	}
	d.wrapW = w
	d.wrapped = slices.Grow(d.wrapped[:0], len(d.head)+len(d.lines)+len(d.lines)/4)
	d.codeW = 0
	for i := range d.head {
		d.wrapLine(p, &d.head[i], w)
	}
	for i := range d.lines {
		d.wrapLine(p, &d.lines[i], w)
	}
	d.hoff = min(d.hoff, max(d.codeW-w, 0))
	d.clampOffset()
}

func (d *document) wrapLine(p *painter, l *docLine, w int) {
	switch {
	case l.table != nil:
		for _, row := range l.table.layout(p, w-l.indent, l.indent) {
			d.wrapped = append(d.wrapped, screenLine{dl: l, cells: row})
		}
		return
	case l.rule:
		d.wrapped = append(d.wrapped, screenLine{dl: l, x: l.indent})
		return
	}
	tx := l.indent + l.labelW
	if l.label != "" && l.labelW == 0 {
		tx = l.indent + p.width(l.label) + 1
	}
	avail := w - tx
	first := true
	if avail < 8 && !l.verbatim { // too narrow for a label column: text on its own lines
		if l.label != "" {
			d.wrapped = append(d.wrapped, screenLine{dl: l, x: w, first: true})
			first = false
		}
		tx, avail = l.indent, w-l.indent
	}
	if l.verbatim {
		d.wrapped = append(d.wrapped, screenLine{dl: l, x: tx, text: l.text, first: first})
		d.codeW = max(d.codeW, tx+p.width(l.text))
		return
	}
	text := l.text
	if l.spans != nil {
		text = spansText(l.spans)
	}
	pos := 0 // byte offset of rest in text
	rest := text
	for once := true; once || rest != ""; once = false {
		chunk, next := splitWidth(p, rest, avail)
		sl := screenLine{dl: l, x: tx, first: first}
		switch {
		case l.spans != nil && len(chunk) == len(text):
			sl.spans = l.spans // the whole line fits
		case l.spans != nil:
			sl.spans = sliceSpans(l.spans, pos, pos+len(chunk))
		default:
			sl.text = chunk
		}
		d.wrapped = append(d.wrapped, sl)
		pos += len(rest) - len(next)
		rest, first = next, false
	}
}

// spansText is the text of spans, joined.
func spansText(ss []span) string {
	if len(ss) == 1 {
		return ss[0].text
	}
	n := 0
	for _, s := range ss {
		n += len(s.text)
	}
	var b strings.Builder
	b.Grow(n)
	for _, s := range ss {
		b.WriteString(s.text)
	}
	return b.String()
}

// sliceSpans is the part of spans between byte offsets from and to of
// their joined text.
func sliceSpans(ss []span, from, to int) []span {
	var out []span
	at := 0
	for _, s := range ss {
		end := at + len(s.text)
		if end > from && at < to {
			a, b := max(from-at, 0), min(to-at, len(s.text))
			out = append(out, span{text: s.text[a:b], st: s.st})
		}
		if end >= to {
			break
		}
		at = end
	}
	return out
}

// splitWidth cuts s after at most w cells (at least one grapheme).
func splitWidth(p *painter, s string, w int) (head, rest string) {
	if w <= 0 {
		w = 1
	}
	i := 0
	if n := min(len(s), w+1); isPlainASCII(s[:n]) { // one byte a cell
		i = min(len(s), w)
	} else {
		used := 0
		r := s
		for r != "" {
			g, next, gw := p.next(r)
			if used+gw > w && i > 0 {
				break
			}
			used += gw
			i += len(g)
			r = next
		}
	}
	if i < len(s) && s[i] == ' ' { // the break falls on a space: it ends the line
		return s[:i], s[i+1:]
	}
	if i < len(s) { // mid-word: break after the last space, if any
		if j := strings.LastIndexByte(s[:i], ' '); j > 0 {
			i = j + 1
		}
	}
	return s[:i], s[i:]
}

// draw paints the document's lines into (x, y, w, h).
func (d *document) draw(p *painter, x, y, w, h int) {
	if w <= 0 || h <= 0 {
		return
	}
	d.wrap(p, w)
	d.page = h
	d.clampOffset()
	for i := 0; i < h && d.offset+i < len(d.wrapped); i++ {
		l := &d.wrapped[d.offset+i]
		dl := l.dl
		if r := dl.rail; r != nil && r.x < w {
			p.text(x+r.x, y+i, w-r.x, r.text, r.st)
		}
		if l.first && dl.label != "" {
			p.text(x+dl.indent, y+i, min(w-dl.indent, max(l.x-dl.indent-1, 1)), dl.label, dl.lstyle)
		}
		switch {
		case l.x >= w:
		case l.cells != nil:
			for _, c := range l.cells {
				if c.x < w {
					c.draw(p, x, y+i, w)
				}
			}
		case dl.rule:
			p.fill(x+l.x, y+i, min(w-l.x, ruleWidth), '─', dl.style)
		case dl.verbatim:
			drawVerbatim(p, x+l.x, y+i, w-l.x, l.text, d.hoff, dl.style)
		case l.spans != nil:
			used := 0
			for _, s := range l.spans {
				if used >= w-l.x {
					break
				}
				used += p.text(x+l.x+used, y+i, w-l.x-used, s.text, s.st)
			}
		default:
			p.text(x+l.x, y+i, w-l.x, l.text, dl.style)
		}
	}
}

// ruleWidth is the length of a thematic break.
const ruleWidth = 40

// drawVerbatim draws a line of code from column hoff within maxW cells:
// "…" marks text cut at either edge.
func drawVerbatim(p *painter, x, y, maxW int, s string, hoff int, st tcell.Style) {
	if maxW <= 0 {
		return
	}
	skipped := 0
	for skipped < hoff && s != "" {
		var w int
		_, s, w = p.next(s)
		skipped += w
	}
	if s == "" {
		return
	}
	if hoff > 0 {
		p.text(x, y, 1, "…", st)
		if skipped > hoff { // a wide glyph straddled the edge
			s = strings.Repeat(" ", skipped-hoff) + s
		}
		_, s, _ = p.next(s)
		x, maxW = x+1, maxW-1
	}
	p.text(x, y, maxW, s, st)
}

const detailLabelW = 14

// buildDetail lays out everything known about one signal. gone marks a
// signal that is no longer in the current snapshot.
func (st *state) buildDetail(s *model.Signal, gone bool) *document {
	th := &st.theme
	now := st.now()
	d := &document{title: "Alert " + cellText(s.Name()), sig: s}
	field := func(label, text string, style tcell.Style) {
		d.add(docLine{label: label, labelW: detailLabelW, text: text, lstyle: th.Title, style: style})
	}
	if gone {
		d.add(docLine{text: "This alert is no longer in the feed (resolved or its source was removed); showing the last known state.", style: th.Warn})
		d.blank()
	}
	field("Name", Inert(s.Name()), th.Base.Bold(true))
	field("Severity", s.Severity.String()+" ("+s.Severity.Name()+")", th.severity(s.Severity))
	field("State", wholeText(signalState(s)), th.Base)
	if f := s.RuleFailing; f != nil {
		rule := "failing upstream since " + utc(f.Since) + ago(now, f.Since)
		if f.Error != "" {
			rule += ": " + inertN(f.Error, maxDetailBytes)
		}
		field("Rule", rule, th.Warn)
	}
	svc := Inert(s.Service)
	if s.Mapped {
		svc += "  (from the service catalog)"
	} else {
		svc += "  (not in the catalog: from the alert's labels)"
	}
	field("Service", svc, th.Base)
	field("Starts at", utc(s.StartsAt.Time())+ago(now, s.StartsAt.Time()), th.Base)
	field("First seen", utc(s.FirstSeen.Time())+ago(now, s.FirstSeen.Time()), th.Base)
	field("Last seen", utc(s.LastSeen.Time())+ago(now, s.LastSeen.Time()), th.Base)
	field("Sources", inertJoin(s.Sources), th.Base)
	if s.Stale {
		field("Stale", staleText(now, true, s.StaleSince.Time())+": no source holding it polled successfully; shown from the cache", th.Warn)
	}
	st.suppressionLines(d, s)
	field("Runbook", orDash(Inert(s.RunbookURL())), th.Base)
	field("Generator", orDash(Inert(s.GeneratorURL)), th.Base)
	d.blank()
	kvSection(d, th, fmt.Sprintf("Labels (%d)", s.Labels.Len()), s.Labels)
	d.blank()
	st.annotationSection(d, s)
	st.appendActions(d, s)
	st.appendTickets(d, s.Service)
	return d
}

// ago is " (12m ago)" for a non-zero time, or "".
func ago(now, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return " (" + compactDuration(now.Sub(t)) + " ago)"
}

func kvSection(d *document, th *Theme, title string, m model.Labels) {
	d.heading(title, th.Title)
	keys := m.Names() // sorted
	lw := 0
	for _, k := range keys {
		lw = max(lw, len(Inert(k)))
	}
	lw = min(lw, 24) + 2
	for _, k := range keys {
		label := Inert(k)
		v := m.Get(k)
		if len(v) > maxDetailBytes {
			v = inertN(v, maxDetailBytes) // bound before splitting into lines
		}
		parts := strings.Split(v, "\n")
		for i, part := range parts {
			l := docLine{indent: 2, labelW: lw, text: Inert(part), lstyle: th.Dim, style: th.Base}
			if i == 0 {
				l.label = label
			}
			d.add(l)
		}
	}
	if len(keys) == 0 {
		d.add(docLine{indent: 2, text: "none", style: th.Dim})
	}
}

func inertJoin(ss []string) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = Inert(s)
	}
	return strings.Join(out, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// pipelineBlock lists what a source reports of its own alerting pipeline,
// one finding after another: its kind, subject and since when, then the
// upstream's own words (inert) on a line of their own. Severe findings
// are drawn in the warning style, notes dimmed. Nothing is added for a
// source without findings: that its pipeline is fine is not knowable.
func pipelineBlock(d *document, th *Theme, now time.Time, fs []model.Finding) {
	if len(fs) == 0 {
		return
	}
	severe := 0
	for _, f := range fs {
		if f.Severe {
			severe++
		}
	}
	head := model.Plural(len(fs), "finding", "findings")
	hst := th.Base
	if severe > 0 {
		head += fmt.Sprintf(" (%d severe)", severe)
		hst = th.Warn
	}
	d.add(docLine{indent: 4, label: "pipeline", labelW: 14, text: head, lstyle: th.Dim, style: hst})
	for _, f := range fs {
		style := th.Base
		switch {
		case f.Severe:
			style = th.Warn
		case f.Kind == model.FindingNote:
			style = th.Dim
		}
		text := Inert(f.Subject)
		if !f.Since.IsZero() {
			text += " · since " + clock(now, f.Since) + ago(now, f.Since)
		}
		d.add(docLine{indent: 6, label: Inert(string(f.Kind)), labelW: 9, text: text, lstyle: style.Bold(f.Severe), style: style})
		if f.Text != "" {
			d.add(docLine{indent: 6, labelW: 9, text: inertN(f.Text, maxDetailBytes), style: style})
		}
	}
}

// teamHelp is the team store's entry in the help page's Sources: its
// state, when it last synced, since when it is down and why, and how many
// of this console's changes wait for it.
func teamHelp(d *document, th *Theme, now time.Time, t model.TeamState) {
	_, h := teamChip(now, t)
	state := "OK"
	switch h {
	case model.HealthDown:
		state = "DOWN"
	case model.HealthUnknown:
		state = "CONNECTING"
	}
	d.add(docLine{indent: 2, label: "team", text: state + "  team store (PostgreSQL)", lstyle: th.health(h).Bold(true), style: th.health(h)})
	sub := func(label, text string, style tcell.Style) {
		d.add(docLine{indent: 4, label: label, labelW: 14, text: text, lstyle: th.Dim, style: style})
	}
	last := "never this run"
	if !t.LastSync.IsZero() {
		last = utc(t.LastSync) + ago(now, t.LastSync)
	}
	sub("last sync", last, th.Base)
	if !t.OK && !t.Since.IsZero() {
		sub("down since", utc(t.Since)+ago(now, t.Since), th.Base)
	}
	if t.Error != "" {
		sub("error", Inert(t.Error), th.ErrorText)
	}
	if t.Unsynced > 0 {
		sub("to sync", model.Plural(t.Unsynced, "change", "changes")+" of this console not yet in the team store", th.Warn)
	}
	if l := t.OperatorLabel(); l != "" {
		sub("acting as", Inert(l), th.Base)
		switch {
		case t.Enforced:
			sub("identity", "authenticated by the team store, role from its group roles", th.Base)
		case t.Verified:
			sub("identity", "not enforced by the team store: the OS user, with the config's role", th.Warn)
		}
	}
	if t.Refused != "" {
		sub("last refused", Inert(t.Refused)+ago(now, t.RefusedAt), th.Warn)
	}
}

// buildHelp lists every binding of the table by scope, then the full state
// of every source (including its last error, which the header chip cannot
// hold), then a legend.
func (st *state) buildHelp() *document {
	th := &st.theme
	now := st.now()
	title := "Help"
	if st.version != "" {
		title = "Help — sitroom " + Inert(st.version)
	}
	d := &document{title: title}
	for _, scope := range []Scope{ScopeMain, ScopeDetail, ScopeHelp, ScopeFilter, ScopeForm, ScopePalette, ScopeStats, ScopeSilences} {
		if !hasScope(st.bindings, scope) {
			continue // the action form in a read-only console
		}
		d.heading(scopeTitles[scope], th.Title)
		for _, b := range st.bindings {
			if b.Scope != scope {
				continue
			}
			text := b.Desc
			if b.disabled != nil {
				if why := b.disabled(st); why != "" {
					text += "  (unavailable: " + why + ")"
				}
			}
			d.add(docLine{indent: 2, label: b.Keys, labelW: 12, text: text, lstyle: th.KeyHint, style: th.Base})
		}
		if scope == ScopeFilter {
			for _, l := range [][2]string{
				{"text", "matches name, service, state, severity, sources, summary, labels, annotations; a ticket's number, subject, people, status, queue (any case)"},
				{"label=v", "label equals v (also !=, =~ regex, !~); service=X is service X exactly"},
				{"@source=s", "from source s; @state=firing · @age>10m · @acked=false · @tier=1 · @sla<30m"},
				{"a b", "every term must match; \"a b\" keeps the space"},
			} {
				d.add(docLine{indent: 2, label: l[0], labelW: 12, text: l[1], lstyle: th.KeyHint, style: th.Base})
			}
		}
		d.blank()
	}
	d.heading("Sources", th.Title)
	if st.snap == nil || len(st.snap.Sources) == 0 {
		d.add(docLine{indent: 2, text: "no source status yet", style: th.Dim})
	} else {
		for i := range st.snap.Sources {
			s := &st.snap.Sources[i]
			h := s.Health()
			name := cellText(s.Name)
			ht := strings.ToUpper(string(h))
			if h == model.HealthUnknown {
				ht = "NOT POLLED YET"
			}
			d.add(docLine{indent: 2, label: name, text: ht + "  " + cellText(s.Type), lstyle: th.health(h).Bold(true), style: th.health(h)})
			sub := func(label, text string, style tcell.Style) {
				d.add(docLine{indent: 4, label: label, labelW: 14, text: text, lstyle: th.Dim, style: style})
			}
			sub("last good", utc(s.LastSuccess)+ago(now, s.LastSuccess), th.Base)
			sub("last attempt", utc(s.LastAttempt)+ago(now, s.LastAttempt), th.Base)
			if s.LastError == "" && !s.LastAttempt.IsZero() {
				what := "alerts"
				if model.IsTicketSourceType(s.Type) {
					what = "tickets"
				}
				sub("last poll", fmt.Sprintf("%d %s in %s", s.Items, what, s.Latency.Round(1e6)), th.Base)
			}
			if s.LastError != "" {
				sub("error", Inert(s.LastError), th.ErrorText)
			}
			if s.Note != "" {
				sub("note", Inert(s.Note), th.Warn)
			}
			pipelineBlock(d, th, now, s.Findings)
		}
	}
	if st.board != nil && st.board.Team.Configured {
		teamHelp(d, th, now, st.board.Team)
	}
	if st.snap != nil && (st.snap.CacheError != "" || st.snap.CacheNote != "") {
		d.blank()
		d.heading("Cache", th.Title)
		if st.snap.CacheError != "" {
			d.add(docLine{indent: 2, label: "error", labelW: 14, text: Inert(st.snap.CacheError), lstyle: th.Dim, style: th.ErrorText})
		}
		if st.snap.CacheNote != "" {
			d.add(docLine{indent: 2, label: "note", labelW: 14, text: Inert(st.snap.CacheNote), lstyle: th.Dim, style: th.Warn})
		}
	}
	d.blank()
	d.heading("Legend", th.Title)
	for _, l := range [][2]string{
		{"CRIT WARN INFO", "severity (also coloured red, yellow, blue)"},
		{"FIRING", "active upstream; PENDING: waiting for its for: duration; SILENCED: silenced or inhibited"},
		{"FIRING?", "its rule fails upstream: frozen in the state it was last evaluated to"},
		{"STALE 4m", "no source holding the row polled successfully for 4m; shown from the cache"},
		{"(unmapped)", "a service named by the alert's labels, not in the service catalog"},
		{"ok 5s", "source chip: last successful poll 5s ago; down: the last poll failed"},
	} {
		d.add(docLine{indent: 2, label: l[0], labelW: 16, text: l[1], lstyle: th.Title, style: th.Base})
	}
	return d
}
