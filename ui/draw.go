package ui

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"time"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
)

// rect is a rectangle of cells.
type rect struct{ x, y, w, h int }

func (r rect) has(x, y int) bool { return x >= r.x && x < r.x+r.w && y >= r.y && y < r.y+r.h }

// placed is a panel and the box it is drawn in.
type placed struct {
	panel Panel
	r     rect
}

// screenLayout is where draw puts things on a screen in the state's
// current mode. The mouse reads it back to find what was clicked.
type screenLayout struct {
	tooSmall bool
	wide     bool
	bottom   int  // the row under the panels (the filter line, else the status line)
	filter   bool // the filter line is shown, on row bottom
	doc      bool // a document (detail, help) fills the panel area
	tabsY    int  // the tab strip's row, -1 when panels show side by side
	panels   [4]placed
	n        int // panels placed
}

// at is the panel drawn at (x, y), if any.
func (l *screenLayout) at(x, y int) (placed, bool) {
	for _, pl := range l.panels[:l.n] {
		if pl.r.has(x, y) {
			return pl, true
		}
	}
	return placed{}, false
}

// layout decides where draw puts the panels on a w×h screen.
func (st *state) layout(w, h int) screenLayout {
	l := screenLayout{tabsY: -1}
	if w < MinWidth || h < MinHeight {
		l.tooSmall = true
		return l
	}
	l.wide = w >= WideWidth
	y := 2
	l.bottom = h - 2 // status line, footer
	if st.mode == modeFilter || st.filterText != "" {
		l.bottom--
		l.filter = true
	}
	if st.mode == modeDetail || st.mode == modeHelp || st.mode == modeStats || st.mode == modeForm && (st.formPrev == modeDetail || st.formPrev == modeHelp) {
		l.doc = true
		return l
	}
	add := func(p Panel, x, y, w, h int) {
		l.panels[l.n] = placed{p, rect{x, y, w, h}}
		l.n++
	}
	if l.wide {
		lw := w * 9 / 20 // outages carry ack, level and counts; alerts the rest
		area := l.bottom - y
		oh := area / 2
		add(PanelOutages, 0, y, lw, oh)
		add(PanelDeps, 0, y+oh, lw, area-oh)
		if st.snap != nil && st.snap.Backlog.Known || st.focus == PanelBacklog {
			ah := area * 11 / 20 // alerts over the backlog
			add(PanelAlerts, lw, y, w-lw, ah)
			add(PanelBacklog, lw, y+ah, w-lw, area-ah)
			return l
		}
		add(PanelAlerts, lw, y, w-lw, area)
		return l
	}
	l.tabsY = y
	area := l.bottom - y - 1
	if h >= TallHeight && (st.focus == PanelOutages || st.focus == PanelDeps) {
		// Tall but narrow (120×40): the outages over the dependencies of
		// the selected one, as the wide screen's left column has them.
		oh := area / 2
		add(PanelOutages, 0, y+1, w, oh)
		add(PanelDeps, 0, y+1+oh, w, area-oh)
		return l
	}
	add(st.focus, 0, y+1, w, area)
	return l
}

// draw paints the whole screen. It runs on the UI goroutine (or on a test's
// goroutine for a screen nobody else draws on).
func (st *state) draw(s tcell.Screen) {
	w, h := s.Size()
	p := newPainter(s)
	p.ascii = st.ascii
	l := st.layout(w, h)
	if l.tooSmall {
		s.HideCursor()
		st.drawTooSmall(p, w, h)
		return
	}
	st.wide = l.wide
	st.drawHeader(p, 0, w)
	y := 2
	st.drawFooter(p, h-1, w)
	st.drawStatus(p, h-2, w)
	if l.filter {
		st.drawFilterLine(p, s, l.bottom, w)
	} else {
		s.HideCursor()
	}
	if st.mode == modeForm {
		defer st.drawForm(p, 0, y, w, l.bottom-y)
	}
	if st.mode == modePalette {
		defer st.drawPalette(p, 0, y, w, l.bottom-y)
	}
	if st.mode == modeStats {
		st.drawStats(p, 0, y, w, l.bottom-y)
		return
	}
	if l.doc {
		st.drawDoc(p, 0, y, w, l.bottom-y)
		return
	}
	if st.silencesShown() {
		st.drawSilences(p, 0, y, w, l.bottom-y)
		return
	}
	if l.tabsY >= 0 {
		st.drawTabs(p, l.tabsY, w)
	}
	for _, pl := range l.panels[:l.n] {
		st.drawPlaced(p, pl)
	}
}

// drawPlaced draws a panel in its box.
func (st *state) drawPlaced(p *painter, pl placed) {
	r := pl.r
	switch pl.panel {
	case PanelDeps:
		st.drawDeps(p, r.x, r.y, r.w, r.h)
	case PanelBacklog:
		st.drawBacklog(p, r.x, r.y, r.w, r.h)
	default:
		st.drawPanel(p, pl.panel, r.x, r.y, r.w, r.h)
	}
}

func (st *state) drawTooSmall(p *painter, w, h int) {
	msg := fmt.Sprintf("terminal too small (%d×%d), need ≥ %d×%d", w, h, MinWidth, MinHeight)
	lines := wordWrap(msg, max(w, 1))
	top := max((h-len(lines))/2, 0)
	for i, l := range lines {
		if top+i >= h {
			break
		}
		lw := p.width(l)
		p.text(max((w-lw)/2, 0), top+i, w, l, st.theme.Title)
	}
}

// wordWrap breaks trusted text at spaces into lines of at most w runes.
func wordWrap(s string, w int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
			line = word
		case len([]rune(line))+1+len([]rune(word)) <= w:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	return append(lines, line)
}

// seg is a piece of a line with its own style.
type seg struct {
	text string
	st   tcell.Style
}

func segsWidth(p *painter, ss []seg) int {
	n := 0
	for _, s := range ss {
		n += p.width(s.text)
	}
	return n
}

// drawSegs draws segments from x within maxW cells, cutting the last one
// that does not fit with "…"; it returns the width used.
func drawSegs(p *painter, x, y, maxW int, ss []seg) int {
	used := 0
	for _, s := range ss {
		if used >= maxW {
			break
		}
		used += p.text(x+used, y, maxW-used, s.text, s.st)
	}
	return used
}

// operatorLabel is who acts, as the header names them: in team mode the
// operator the team store authenticated, with their role
// (model.TeamState.OperatorLabel), else the OS user with the config's.
func (st *state) operatorLabel() string {
	if st.board != nil && st.board.Team.Configured {
		if l := st.board.Team.OperatorLabel(); l != "" {
			return l
		}
	}
	return st.operator
}

// operatorShort is operatorLabel without the OS user ("ops1 · tier1"),
// for a header too narrow for both it and the counts.
func (st *state) operatorShort() string {
	if st.board != nil && st.board.Team.Configured && st.board.Team.User != "" {
		t := st.board.Team
		t.OSUser = ""
		return t.OperatorLabel()
	}
	return st.operator
}

// drawHeader paints the two header lines: counts, operator and clock; then
// one chip per source.
func (st *state) drawHeader(p *painter, y, w int) {
	th := &st.theme
	now := st.now()
	clock := now.Format("15:04:05")
	st.lastClock = clock

	var right []seg
	if st.readOnly {
		right = append(right, seg{" READ-ONLY ", th.Badge}, seg{" ", th.Base})
	}
	opAt := -1
	if op := st.operatorLabel(); op != "" {
		opAt = len(right)
		right = append(right, seg{cellText(op), th.Base.Bold(true)}, seg{"  ", th.Base})
	}
	right = append(right, seg{clock, th.Title})

	c := model.Counts{}
	if st.snap != nil {
		c = st.snap.Counts
	}
	hot := func(n int, style tcell.Style) tcell.Style {
		if n > 0 {
			return style
		}
		return th.Base
	}
	long := []seg{
		{"sitroom", th.Title}, {"  ", th.Base},
		{model.Plural(c.Outages, "outage", "outages"), hot(c.Outages, th.Crit)}, {" · ", th.Dim},
		{fmt.Sprintf("%d firing", c.Firing), hot(c.Firing, th.Base.Bold(true))}, {" · ", th.Dim},
		{fmt.Sprintf("%d critical", c.Critical), hot(c.Critical, th.Crit)}, {" · ", th.Dim},
		{fmt.Sprintf("%d silenced", c.Silenced), th.Base}, {" · ", th.Dim},
	}
	short := []seg{
		{fmt.Sprintf("OUT %d", c.Outages), hot(c.Outages, th.Crit)}, {" ", th.Base},
		{fmt.Sprintf("FIRE %d", c.Firing), hot(c.Firing, th.Base.Bold(true))}, {" ", th.Base},
		{fmt.Sprintf("CRIT %d", c.Critical), hot(c.Critical, th.Crit)}, {" ", th.Base},
		{fmt.Sprintf("SIL %d", c.Silenced), th.Base}, {" ", th.Base},
	}
	// Inhibited alerts are counted apart from silenced ones, as the
	// Alertmanager does, when there are any.
	if c.Inhibited > 0 {
		long = append(long, seg{fmt.Sprintf("%d inhibited", c.Inhibited), th.Base}, seg{" · ", th.Dim})
		short = append(short, seg{fmt.Sprintf("INH %d", c.Inhibited), th.Base}, seg{" ", th.Base})
	}
	dropTo, dropFrom := 6, len(short)+2 // silenced, inhibited and pending give way first
	long = append(long,
		seg{fmt.Sprintf("%d pending", c.Pending), th.Base}, seg{" · ", th.Dim},
		seg{fmt.Sprintf("%d stale", c.Stale), hot(c.Stale, th.Warn)})
	short = append(short,
		seg{fmt.Sprintf("PEND %d", c.Pending), th.Base}, seg{" ", th.Base},
		seg{fmt.Sprintf("STALE %d", c.Stale), hot(c.Stale, th.Warn)})
	if st.snap != nil && (st.snap.Loading > 0 || st.snap.Built.IsZero() && st.snap.CacheError != "") {
		// A preview: its counts are of the most severe alerts only. Or
		// nothing could be read (the status line says why).
		note := seg{"loading " + groupDigits(st.snap.Loading) + " alerts…", th.Unknown}
		switch {
		case st.snap.CacheError != "" && st.snap.Loading > 0:
			note = seg{groupDigits(st.snap.Loading) + " alerts not loaded: cache unreadable", th.ErrorText}
		case st.snap.CacheError != "":
			note = seg{"no data: cache unreadable", th.ErrorText}
		}
		long = []seg{long[0], long[1], note}
		short = []seg{note}
	}
	if st.snap != nil && st.snap.Backlog.Known {
		b := &st.snap.Backlog
		breached := b.Tier1.Breached + b.Tier2.Breached
		// counts from a failing ticket source are its last good poll's:
		// marked, as its rows are
		mark, base := "", th.Base
		if b.Stale {
			mark, base = "*", th.Warn
		}
		long = append(long, seg{" · ", th.Dim},
			seg{fmt.Sprintf("%d T1%s", b.Tier1.Open, mark), base}, seg{" · ", th.Dim},
			seg{fmt.Sprintf("%d T2%s", b.Tier2.Open, mark), base}, seg{" · ", th.Dim},
			seg{fmt.Sprintf("%d SLA breached%s", breached, mark), hot(breached, th.Crit)})
		short = append(short, seg{" ", th.Base},
			seg{fmt.Sprintf("T1 %d%s", b.Tier1.Open, mark), base}, seg{" ", th.Base},
			seg{fmt.Sprintf("T2 %d%s", b.Tier2.Open, mark), base}, seg{" ", th.Base},
			seg{fmt.Sprintf("BREACH %d%s", breached, mark), hot(breached, th.Crit)})
	}
	rw := segsWidth(p, right)
	if opAt >= 0 && segsWidth(p, short)+2+rw > w {
		// Too narrow for the counts and "ops1 (database) as OS user
		// root": the OS user gives way (the help page still says it).
		right[opAt].text = cellText(st.operatorShort())
		rw = segsWidth(p, right)
	}
	left := long
	if segsWidth(p, long)+2+rw > w {
		left = short
	}
	if segsWidth(p, left)+2+rw > w && len(short) > dropFrom+2 {
		// Still too wide (80 columns with tickets, a read-only badge and
		// an operator): silenced, inhibited and pending go first.
		left = append(append([]seg(nil), short[:dropTo]...), short[dropFrom:]...)
	}
	lw := max(w-rw-2, 0)
	drawSegs(p, 0, y, lw, left)
	rx := max(w-rw, 0)
	drawSegs(p, rx, y, w-rx, right)

	st.drawChips(p, y+1, w, 1, now, false)
}

// groupDigits writes n (not negative) with its thousands separated: 10,000.
func groupDigits(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// drawChips paints one chip per source from row y over at most lines
// rows, the ones that need attention first; chips that do not fit end in
// "+N more". In team mode the team store's chip follows the sources'
// chips, except when the store is down: then it comes first, so that a
// console cut off from its team says so even at 80 columns, where the
// sources' chips give way to it. With loud (the wall screen) a failing
// chip is drawn in reverse. It returns the rows used.
func (st *state) drawChips(p *painter, y, w, lines int, now time.Time, loud bool) int {
	th := &st.theme
	if st.snap == nil {
		msg := "waiting for the first poll…"
		if st.feedClosed {
			msg = "feed stopped: no data"
		}
		p.text(0, y, w, msg, th.Unknown)
		return 1
	}
	type chipItem struct {
		text string
		h    model.SourceHealth
	}
	srcs := st.snap.Sources
	items := make([]chipItem, 0, len(srcs)+1)
	if len(srcs) == 0 {
		items = append(items, chipItem{"no sources configured", model.HealthUnknown})
	}
	idx := make([]int, len(srcs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		return healthRank(srcs[idx[a]].Health()) < healthRank(srcs[idx[b]].Health())
	})
	for _, i := range idx {
		items = append(items, chipItem{chip(now, &srcs[i]), srcs[i].Health()})
	}
	if st.board != nil && st.board.Team.Configured {
		text, h := teamChip(now, st.board.Team)
		if h == model.HealthDown {
			items = append([]chipItem{{text, h}}, items...)
		} else {
			items = append(items, chipItem{text, h})
		}
	}
	x, line := 0, 0
	for n, it := range items {
		style := th.health(it.h)
		if loud && (it.h == model.HealthDown || it.h == model.HealthThrottled) {
			style = style.Reverse(true).Bold(true)
		}
		cw := p.width(it.text)
		restAfter := len(items) - n - 1
		moreW := func() int {
			if restAfter > 0 && line == lines-1 {
				return len(fmt.Sprintf("  +%d more", restAfter))
			}
			return 0
		}
		sep := 0
		if x > 0 {
			sep = 2
		}
		if x+sep+cw+moreW() > w && x > 0 && line+1 < lines {
			line, x, sep = line+1, 0, 0 // on the next row
		}
		if x+sep+cw+moreW() > w {
			more := len(items) - n
			if x == 0 { // not even one chip fits whole on a row: cut it
				x += p.text(x, y+line, max(w-moreW(), 1), it.text, style)
				more--
			}
			if more > 0 {
				p.text(x, y+line, w-x, fmt.Sprintf("  +%d more", more), th.Dim)
			}
			return line + 1
		}
		x += sep
		x += p.text(x, y+line, w-x, it.text, style)
	}
	return line + 1
}

// tab is one label of the tab strip.
type tab struct {
	panel Panel
	label string
}

// tabs are the tab strip's labels.
func (st *state) tabs() [4]tab {
	return [4]tab{
		{PanelOutages, " 1 Outages (" + st.count(len(st.v.outs)) + ") "},
		{PanelAlerts, " 2 Alerts (" + st.count(len(st.v.sigs)) + ") "},
		{PanelDeps, " 3 Deps "},
		{PanelBacklog, " 4 Backlog "},
	}
}

func (st *state) drawTabs(p *painter, y, w int) {
	th := &st.theme
	x := 0
	for _, t := range st.tabs() {
		style := th.Dim
		label := t.label
		if t.panel == st.focus {
			style = th.Selected.Bold(true)
			label = "▸" + label[1:]
		}
		x += p.text(x, y, w-x, label, style)
		x += p.text(x, y, w-x, " ", th.Base)
	}
	p.text(x, y, w-x, "Tab: switch", th.Dim)
}

// tabAt is the panel whose tab is drawn at column x of the tab strip.
func (st *state) tabAt(p *painter, x int) (Panel, bool) {
	left := 0
	for _, t := range st.tabs() {
		right := left + p.width(t.label)
		if x >= left && x < right {
			return t.panel, true
		}
		left = right + 1
	}
	return 0, false
}

// drawBox paints a border with a title and returns the inner rectangle.
func drawBox(p *painter, th *Theme, x, y, w, h int, title string, focused bool) (ix, iy, iw, ih int) {
	if w < 2 || h < 2 {
		return x, y, 0, 0
	}
	bs := th.Border
	if focused {
		bs = th.Focus
	}
	g := &th.Glyphs
	p.fill(x+1, y, w-2, g.H, bs)
	p.fill(x+1, y+h-1, w-2, g.H, bs)
	for i := 1; i < h-1; i++ {
		p.fill(x, y+i, 1, g.V, bs)
		p.fill(x+w-1, y+i, 1, g.V, bs)
	}
	p.fill(x, y, 1, g.TL, bs)
	p.fill(x+w-1, y, 1, g.TR, bs)
	p.fill(x, y+h-1, 1, g.BL, bs)
	p.fill(x+w-1, y+h-1, 1, g.BR, bs)
	if title != "" && w > 6 {
		ts := th.Title
		if focused {
			ts = th.Focus
		}
		p.text(x+2, y, w-4, " "+title+" ", ts)
	}
	return x + 1, y + 1, w - 2, h - 2
}

// panelTitle is "1 Outages (5)", or "1 Outages 2 of 5 · service=x" when filtered.
func (st *state) panelTitle(which Panel) string {
	var name string
	var n, total int
	switch which {
	case PanelOutages:
		name, n = "1 Outages", len(st.v.outs)
		if st.snap != nil {
			total = len(st.snap.Outages)
		}
	default:
		name, n = "2 Alerts", len(st.v.sigs)
		if st.snap != nil {
			total = len(st.snap.Signals)
		}
	}
	var t string
	if !st.filter.active() {
		t = fmt.Sprintf("%s (%s)", name, st.count(n))
	} else {
		t = fmt.Sprintf("%s %s of %s · %s", name, st.count(n), st.count(total), cellText(strings.TrimSpace(st.filter.raw)))
	}
	if which == PanelOutages {
		switch {
		case st.flat:
			t += " · flat"
		case st.v.nested > 0:
			t += " · " + model.Plural(st.v.nested, "symptom", "symptoms") + " nested"
		}
	}
	return t
}

// count is how a count of outages or alerts reads: "12", or "12+" while
// the snapshot is a preview of the most severe alerts (Snapshot.Loading),
// whose counts are only the least there are.
func (st *state) count(n int) string {
	if st.snap != nil && st.snap.Loading > 0 {
		return strconv.Itoa(n) + "+"
	}
	return strconv.Itoa(n)
}

// drawPanel paints the outages or alerts panel in a box at (x, y, w, h).
func (st *state) drawPanel(p *painter, which Panel, x, y, w, h int) {
	th := &st.theme
	focused := which == st.focus && st.mode != modeDetail && st.mode != modeHelp
	ix, iy, iw, ih := drawBox(p, th, x, y, w, h, st.panelTitle(which), focused)
	if iw <= 0 || ih <= 0 {
		return
	}
	now := st.now()
	v := st.v
	if which == PanelOutages {
		if len(v.outs) == 0 {
			st.drawEmpty(p, ix, iy, iw, "No outages", "no outages match the filter")
			return
		}
		cols, nat := st.outageColumns(p)
		drawCols := cols
		if cols == nil {
			drawCols, nat = outageCols, v.outNat
		}
		st.outT.draw(p, th, ix, iy, iw, ih, drawCols, nat, len(v.outs),
			func(row, col int) (string, tcell.Style) {
				if cols != nil && col >= actionAt {
					if col < actionAt+len(actionCols) {
						return st.outageActionCell(v.outs[row], col-actionAt)
					}
					col -= len(actionCols)
				}
				text, style := outageCell(th, now, v.outs[row], col)
				if col == 1 && v.outNest[row] != "" {
					text = v.outNest[row] + text
					style = style.Bold(false)
				}
				return text, style
			},
			func(row int) bool { return v.outs[row].Stale }, st.marksSelection(focused))
		return
	}
	if len(v.sigs) == 0 {
		st.drawEmpty(p, ix, iy, iw, "No alerts", "no alerts match the filter")
		return
	}
	st.alertT.draw(p, th, ix, iy, iw, ih, alertCols, v.sigNat, len(v.sigs),
		func(row, col int) (string, tcell.Style) {
			if col == 1 && st.board != nil && ackedAlert(st.board, v.sigs[row]) {
				return "ACK", th.Base // acknowledged here: the silences are sitroom's
			}
			return alertCell(th, now, v.sigs[row], col)
		},
		func(row int) bool { return v.sigs[row].Stale }, st.marksSelection(focused))
}

func (st *state) drawEmpty(p *painter, x, y, w int, calm, filtered string) {
	th := &st.theme
	msg, style := calm, th.OK
	switch {
	case st.snap == nil && st.feedClosed:
		msg, style = "no data: the feed stopped", th.ErrorText
	case st.snap == nil:
		msg, style = "waiting for the first poll…", th.Unknown
	case allSourcesDown(st.snap):
		msg, style = "no data: all sources down", th.ErrorText
	case st.filter.active():
		msg, style = filtered, th.Dim
	}
	p.text(x+1, y+1, w-1, msg, style)
}

func allSourcesDown(s *model.Snapshot) bool {
	if len(s.Sources) == 0 {
		return false
	}
	for i := range s.Sources {
		if h := s.Sources[i].Health(); h != model.HealthDown && h != model.HealthThrottled {
			return false
		}
	}
	return true
}

func (st *state) drawDoc(p *painter, x, y, w, h int) {
	if st.doc == nil {
		return
	}
	ix, iy, iw, ih := drawBox(p, &st.theme, x, y, w, h, st.doc.title, true)
	if iw <= 2 || ih <= 0 {
		return
	}
	st.doc.draw(p, ix+1, iy, iw-2, ih)
	if len(st.doc.wrapped) > ih { // scroll position on the bottom border
		pos := fmt.Sprintf(" %d–%d of %d ", st.doc.offset+1, min(st.doc.offset+ih, len(st.doc.wrapped)), len(st.doc.wrapped))
		pw := p.width(pos)
		if pw+4 < w {
			p.text(x+w-2-pw, y+h-1, pw, pos, st.theme.Dim)
		}
	}
}

// drawFilterLine shows the filter line as typed. A line that does not
// parse has the offending character marked and the error after it
// ("✗ at 5: …"); the panels keep the last filter that parsed.
func (st *state) drawFilterLine(p *painter, s tcell.Screen, y, w int) {
	th := &st.theme
	x := p.text(0, y, w, "/", th.KeyHint)
	var hint string
	hintStyle := th.Dim
	switch {
	case st.filterErr != nil:
		hint = "  ✗ " + cellText(fmt.Sprintf("at %d: %s", st.filterErr.Pos, st.filterErr.Msg))
		hintStyle = th.ErrorText
		if st.filter.active() {
			hint += " · showing " + cellText(strings.TrimSpace(st.filter.raw))
		}
	case st.mode == modeFilter:
		hint = "  Enter keep · Esc clear"
	default:
		hint = "  (filter kept; / edit · Esc clear)"
	}
	hw := p.width(hint)
	room := max(w-x-min(hw, w/2)-1, 1)
	var qw int
	if e := st.filterErr; e != nil {
		// The text before the error, the character at it (or a marked
		// blank at the end of the line) and the rest.
		r := []rune(st.filterText)
		at := min(max(e.Pos-1, 0), len(r))
		before, mark, after := string(r[:at]), " ", ""
		if at < len(r) {
			mark, after = string(r[at:at+1]), string(r[at+1:])
		}
		bold := th.Base.Bold(true)
		qw = p.text(x, y, room, cellText(before), bold)
		qw += p.text(x+qw, y, room-qw, cellText(mark), th.ErrorText.Reverse(true))
		qw += p.text(x+qw, y, room-qw, cellText(after), bold)
		if st.mode == modeFilter {
			s.ShowCursor(x+qw, y)
		}
	} else {
		qw = p.text(x, y, room, cellText(st.filterText), th.Base.Bold(true))
		if st.mode == modeFilter {
			s.ShowCursor(x+qw, y)
		}
	}
	if st.mode != modeFilter {
		s.HideCursor()
	}
	if x+qw+1 < w {
		p.text(x+qw+1, y, w-x-qw-1, hint, hintStyle)
	}
}

// failingSources are the sources whose last poll failed (down or
// throttled): their data on screen is stale.
func (st *state) failingSources() []*model.SourceStatus {
	var down []*model.SourceStatus
	if st.snap != nil {
		for i := range st.snap.Sources {
			if h := st.snap.Sources[i].Health(); h == model.HealthDown || h == model.HealthThrottled {
				down = append(down, &st.snap.Sources[i])
			}
		}
	}
	return down
}

// drawStatus shows the flash message, or else what is wrong with the
// sources (the full error text is on the help page).
func (st *state) drawStatus(p *painter, y, w int) {
	th := &st.theme
	if st.flash != "" {
		p.text(0, y, w, st.flash, th.Flash)
		return
	}
	if st.feedClosed {
		p.text(0, y, w, "feed stopped: the screen shows the last data received", th.ErrorText)
		return
	}
	if st.snap == nil {
		return
	}
	if st.snap.CacheError != "" {
		p.text(0, y, w, cellText(st.snap.CacheError), th.ErrorText)
		return
	}
	if st.snap.CacheNote != "" {
		// Rare, and it explains why alerts and history start afresh;
		// the chips still say which sources are down.
		p.text(0, y, w, cellText(st.snap.CacheNote), th.Warn)
		return
	}
	down := st.failingSources()
	if len(down) == 0 {
		return
	}
	var ss []seg
	if len(down) > 1 {
		ss = append(ss, seg{model.Plural(len(down), "source", "sources") + " failing (? for all errors) · ", th.ErrorText})
	}
	ss = append(ss, seg{cellText(down[0].Name) + ": ", th.ErrorText.Bold(true)}, seg{cellText(down[0].LastError), th.ErrorText})
	drawSegs(p, 0, y, w, ss)
}

func (st *state) drawFooter(p *painter, y, w int) {
	th := &st.theme
	x := 0
	for i, hnt := range footerHints(st.bindings, st.scope()) {
		need := p.width(hnt[0]) + 1 + p.width(hnt[1])
		if i > 0 {
			need += 2
		}
		if x+need > w {
			break
		}
		if i > 0 {
			x += 2
		}
		x += p.text(x, y, w-x, hnt[0], th.KeyHint)
		x++
		x += p.text(x, y, w-x, hnt[1], th.Base)
	}
}
