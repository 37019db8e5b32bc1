package ui

import (
	"fmt"
	"strconv"
	"time"

	"sitroom/model"

	"github.com/gdamore/tcell/v2"
)

// KioskRotateDefault is how long each panel shows on the wall screen
// before the next one, when Options.KioskRotate is not set.
const KioskRotateDefault = 15 * time.Second

// kiosk is the wall screen (Options.Kiosk): large counters readable across
// a room, the clock, every source chip with its data age, and under them
// the panels in turn (outages, alerts, dependencies, backlog), one per
// rotation period. It is read-only: the App is built with ReadOnly, and
// the wall screen reads its own few keys (kioskKey) instead of the panel
// bindings, so no key opens a form, a filter or a document.
//
// It holds no more than the rotation's clock: nothing grows per frame or
// per rotation. It is used on the UI goroutine only.
type kiosk struct {
	rotate time.Duration
	next   time.Time // when the next panel shows (the App's clock); zero before the first frame
	// stats puts the Stats view (the last 7 days) in the rotation, after
	// the panels (Options.KioskStats); onStats is set while it shows.
	stats   bool
	onStats bool
}

// kioskStatsEvery is how old the wall's statistics may be when they show
// again before they are read afresh.
const kioskStatsEvery = 5 * time.Minute

func newKiosk(rotate time.Duration, stats bool) *kiosk {
	if rotate <= 0 {
		rotate = KioskRotateDefault
	}
	return &kiosk{rotate: rotate, stats: stats}
}

// advance shows the panel after (d = 1) or before (d = -1) the one shown,
// the Stats view between the last panel and the first when it rotates
// too.
func (k *kiosk) advance(st *state, d int) {
	if !k.stats {
		st.focus = k.nextPanel(st, d)
		return
	}
	if k.onStats {
		k.onStats = false
		st.focus = PanelOutages
		if d < 0 {
			st.focus = k.nextPanel(st, -1)
		}
		return
	}
	next := k.nextPanel(st, d)
	if d > 0 && panelIndex(next) <= panelIndex(st.focus) || d < 0 && panelIndex(next) >= panelIndex(st.focus) {
		k.showStats(st)
		return
	}
	st.focus = next
}

// showStats shows the Stats view, reading its figures when they are
// missing or older than kioskStatsEvery.
func (k *kiosk) showStats(st *state) {
	k.onStats = true
	v := &st.stats
	v.req = StatsRequest{Days: 7, Bucket: model.BucketDay}
	if !v.loading && (v.data == nil || v.dataReq != v.req || st.now().Sub(v.at) > kioskStatsEvery) {
		st.loadStats()
	}
}

func panelIndex(p Panel) int {
	for i, q := range focusOrder {
		if q == p {
			return i
		}
	}
	return 0
}

// nextPanel is the panel after (d = 1) or before (d = -1) the shown one in
// focusOrder, skipping the backlog when no ticket source is configured.
func (k *kiosk) nextPanel(st *state, d int) Panel {
	i := 0
	for n, p := range focusOrder {
		if p == st.focus {
			i = n
		}
	}
	for range focusOrder {
		i = (i + d + len(focusOrder)) % len(focusOrder)
		if p := focusOrder[i]; p != PanelBacklog || st.snap != nil && st.snap.Backlog.Known {
			return p
		}
	}
	return PanelOutages
}

// rotateIfDue shows the next panel when its time has come. A panel chosen
// by key restarts the period (show).
func (k *kiosk) rotateIfDue(st *state, now time.Time) {
	if k.next.IsZero() {
		k.next = now.Add(k.rotate)
		return
	}
	if now.Before(k.next) {
		return
	}
	k.advance(st, 1)
	k.next = now.Add(k.rotate)
}

func (k *kiosk) show(st *state, p Panel) {
	st.focus = p
	k.onStats = false
	k.next = st.now().Add(k.rotate)
}

// handleKey is the wall screen's key dispatch: the keys the binding table
// gives the panels' quit, next-panel, prev-panel, outages, alerts, deps
// and backlog actions (remaps too) quit or show another panel (and, with
// the Stats view in the rotation, the stats action shows it); any other
// key only flashes what the screen is. Nothing else in the table runs, so
// no key opens a form, a filter or a document.
func (k *kiosk) handleKey(st *state, ev *tcell.EventKey) {
	for i := range st.bindings {
		b := &st.bindings[i]
		if b.Scope != ScopeMain || !b.matches(ev) {
			continue
		}
		switch b.Action {
		case "quit":
			st.quit()
			return
		case "next-panel":
			k.advance(st, 1)
			k.next = st.now().Add(k.rotate)
			return
		case "prev-panel":
			k.advance(st, -1)
			k.next = st.now().Add(k.rotate)
			return
		case "stats":
			if k.stats && st.onStats != nil {
				k.showStats(st)
				k.next = st.now().Add(k.rotate)
				return
			}
		case "outages":
			k.show(st, PanelOutages)
			return
		case "alerts":
			k.show(st, PanelAlerts)
			return
		case "deps":
			k.show(st, PanelDeps)
			return
		case "backlog":
			k.show(st, PanelBacklog)
			return
		}
		break
	}
	st.setFlash(fmt.Sprintf("read-only wall screen: %s quits · %s shows the next panel", st.keyOf("quit"), st.keyOf("next-panel")))
}

// bigFont is the wall screen's digits, 3×5 cells at scale 1; '#' is a
// block. Index 10 is the dash shown before the first poll.
var bigFont = [11][5]string{
	{"###", "# #", "# #", "# #", "###"},
	{" # ", "## ", " # ", " # ", "###"},
	{"###", "  #", "###", "#  ", "###"},
	{"###", "  #", "###", "  #", "###"},
	{"# #", "# #", "###", "  #", "  #"},
	{"###", "#  ", "###", "  #", "###"},
	{"###", "#  ", "###", "# #", "###"},
	{"###", "  #", "  #", "  #", "  #"},
	{"###", "# #", "###", "# #", "###"},
	{"###", "# #", "###", "  #", "###"},
	{"   ", "   ", "###", "   ", "   "},
}

// bigWidth is the width of n big digits at scale s (one blank column of
// the font's scale between digits).
func bigWidth(n, s int) int { return s * (4*n - 1) }

// bigHeight is the height of the big digits at scale s.
func bigHeight(s int) int { return 5 * s }

// drawBig draws text (digits, or "-") in the big font at scale s with its
// top-left corner at (x, y). Blocks are '█', '#' on an ASCII terminal.
func drawBig(p *painter, x, y, s int, text string, st tcell.Style) {
	for _, r := range text {
		g := 10
		if r >= '0' && r <= '9' {
			g = int(r - '0')
		}
		for row, line := range bigFont[g] {
			for col := 0; col < 3; col++ {
				if line[col] != '#' {
					continue
				}
				for dy := 0; dy < s; dy++ {
					p.fill(x+col*s, y+row*s+dy, s, '█', st)
				}
			}
		}
		x += 4 * s
	}
}

// kioskCounter is one of the wall screen's large counters.
type kioskCounter struct {
	label string
	short string // the label where label does not fit
	n     int
	hot   tcell.Style // style when n > 0
	calm  tcell.Style // style when n is 0
}

// counters are the wall screen's counters: outages, firing alerts, and
// with a ticket source Tier 1 and Tier 2 open tickets and SLA breaches,
// else critical alerts. It returns them in a fixed array and how many.
func (st *state) kioskCounters() (cs [5]kioskCounter, n int) {
	th := &st.theme
	ok := th.OK.Bold(true)
	if st.snap == nil {
		cs[0] = kioskCounter{label: "OUTAGES", short: "OUT"}
		cs[1] = kioskCounter{label: "FIRING", short: "FIRE"}
		cs[2] = kioskCounter{label: "CRITICAL", short: "CRIT"}
		return cs, 3
	}
	c := st.snap.Counts
	cs[0] = kioskCounter{"OUTAGES", "OUT", c.Outages, th.Crit.Bold(true), ok}
	cs[1] = kioskCounter{"FIRING", "FIRE", c.Firing, th.Warn.Bold(true), ok}
	if b := &st.snap.Backlog; b.Known {
		cs[2] = kioskCounter{"TIER 1 OPEN", "T1", b.Tier1.Open, th.Base.Bold(true), th.Base.Bold(true)}
		cs[3] = kioskCounter{"TIER 2 OPEN", "T2", b.Tier2.Open, th.Base.Bold(true), th.Base.Bold(true)}
		cs[4] = kioskCounter{"SLA BREACHED", "BREACH", b.Tier1.Breached + b.Tier2.Breached, th.Crit.Bold(true), ok}
		return cs, 5
	}
	cs[2] = kioskCounter{"CRITICAL", "CRIT", c.Critical, th.Crit.Bold(true), ok}
	return cs, 3
}

// counterText is a counter's value as shown and its style: "-" before the
// first poll.
func (st *state) counterText(c *kioskCounter) (string, tcell.Style) {
	switch {
	case st.snap == nil:
		return "-", st.theme.Unknown
	case c.n > 0:
		return strconv.Itoa(c.n), c.hot
	}
	return "0", c.calm
}

// kioskScale is the scale of the big digits for a w×h screen showing n
// counters over chipLines lines of chips, or 0 when the screen is too low
// for them (the counters then take one line). It depends on the screen
// size only, so the layout does not jump as counts change: two digits
// fit at this scale; a larger count is drawn smaller in the same rows.
// The counters take at most a third of the screen.
func kioskScale(w, h, n, chipLines int) int {
	cellW := (w - 2*(n-1)) / n
	rest := 1 + chipLines + 1 + 2 + 9 // top line, chips, blank, status and footer, the tabs and a panel of 5 rows
	best := 0
	for s := 1; s <= 4; s++ {
		if bigWidth(2, s) > cellW-2 || kioskCountersHeight(s) > h-rest || kioskCountersHeight(s) > h/3 {
			break
		}
		best = s
	}
	return best
}

// kioskCountersHeight is the rows the counters take at scale s: the
// digits, a blank row at scales above 1, and the label.
func kioskCountersHeight(s int) int {
	if s <= 0 {
		return 1
	}
	if s == 1 {
		return bigHeight(1) + 1
	}
	return bigHeight(s) + 2
}

// draw paints the wall screen. It runs on the UI goroutine.
func (k *kiosk) draw(st *state, s tcell.Screen) {
	w, h := s.Size()
	p := newPainter(s)
	p.ascii = st.ascii
	s.HideCursor()
	if w < MinWidth || h < MinHeight {
		st.drawTooSmall(p, w, h)
		return
	}
	now := st.now()
	k.rotateIfDue(st, now)
	// Nothing is selected by hand on the wall: each panel shows from its
	// top, and the dependencies are those of the first outage.
	st.outT.selected, st.alertT.selected, st.depT.selected, st.tkT.selected = 0, 0, 0, 0
	th := &st.theme

	// The top line: name, how many sources are failing (their data is
	// stale), the read-only badge, the date and the clock.
	clock := now.Format("15:04:05")
	st.lastClock = clock
	var right [6]seg
	n := 0
	if down := len(st.failingSources()); down > 0 {
		right[0], right[1] = seg{" " + model.Plural(down, "SOURCE", "SOURCES") + " DOWN ", th.Crit.Reverse(true).Bold(true)}, seg{"  ", th.Base}
		n = 2
	}
	right[n], right[n+1] = seg{" READ-ONLY ", th.Badge}, seg{"  ", th.Base}
	n += 2
	if w >= 60 {
		right[n] = seg{now.Format("Mon 2 Jan") + "  ", th.Base}
		n++
	}
	right[n] = seg{clock, th.Title.Bold(true)}
	rs := right[:n+1]
	rw := segsWidth(p, rs)
	p.text(0, 0, max(w-rw-2, 0), "sitroom wall screen", th.Title)
	drawSegs(p, max(w-rw, 0), 0, w, rs)

	// Every source with its data age; a source that is down is drawn in
	// reverse so it shows from across the room.
	chipLines := 1
	switch {
	case h >= 40:
		chipLines = 3
	case h >= 20:
		chipLines = 2
	}
	used := st.drawChips(p, 1, w, chipLines, now, true)
	y := 1 + max(used, 1)

	cs, n := st.kioskCounters()
	scale := kioskScale(w, h, n, chipLines)
	if scale > 0 {
		y++ // a blank row under the chips
	}
	y += st.drawKioskCounters(p, y, w, scale, cs[:n])

	bottom := h - 2 // status line, footer
	if !k.onStats {
		st.drawTabs(p, y, w)
	}
	y++
	switch {
	case k.onStats:
		st.drawStats(p, 0, y, w, bottom-y)
		st.drawStatus(p, h-2, w)
		k.drawFooter(p, st, h-1, w)
		return
	}
	switch st.focus {
	case PanelDeps:
		st.drawDeps(p, 0, y, w, bottom-y)
	case PanelBacklog:
		st.drawBacklog(p, 0, y, w, bottom-y)
	default:
		st.drawPanel(p, st.focus, 0, y, w, bottom-y)
	}
	st.drawStatus(p, h-2, w)
	k.drawFooter(p, st, h-1, w)
}

// drawKioskCounters paints the counters side by side from row y at scale
// (0: on one line) and returns the rows they took.
func (st *state) drawKioskCounters(p *painter, y, w, scale int, cs []kioskCounter) int {
	if scale == 0 {
		st.drawKioskCounterLine(p, y, w, cs)
		return 1
	}
	n := len(cs)
	cellW := (w - 2*(n-1)) / n
	for i := range cs {
		c := &cs[i]
		x := i * (cellW + 2)
		text, style := st.counterText(c)
		label := c.label
		if p.width(label) > cellW {
			label = c.short
		}
		// A count too wide for the scale is drawn smaller; one too wide
		// even at scale 1 is drawn as text.
		s := scale
		for s > 0 && bigWidth(len(text), s) > cellW {
			s--
		}
		if s == 0 {
			p.text(x+max((cellW-len(text))/2, 0), y+bigHeight(scale)/2, cellW, text, style)
		} else {
			bw := bigWidth(len(text), s)
			drawBig(p, x+(cellW-bw)/2, y+bigHeight(scale)-bigHeight(s), s, text, style)
		}
		ly := y + kioskCountersHeight(scale) - 1
		lw := min(p.width(label), cellW)
		p.text(x+(cellW-lw)/2, ly, cellW, label, st.theme.Title)
	}
	return kioskCountersHeight(scale)
}

// drawKioskCounterLine draws the counters on one line, for a screen too
// low for the big digits: with their labels when all fit, else the short
// ones.
func (st *state) drawKioskCounterLine(p *painter, y, w int, cs []kioskCounter) {
	var line [15]seg
	for _, short := range [...]bool{false, true} {
		for i := range cs {
			c := &cs[i]
			label := c.label
			if short {
				label = c.short
			}
			text, style := st.counterText(c)
			line[3*i] = seg{label + " ", st.theme.Dim}
			line[3*i+1] = seg{text, style}
			line[3*i+2] = seg{"  ", st.theme.Base}
		}
		if ss := line[:3*len(cs)-1]; short || segsWidth(p, ss) <= w {
			drawSegs(p, 0, y, w, ss)
			return
		}
	}
}

// drawFooter shows the wall screen's keys and its rotation period.
func (k *kiosk) drawFooter(p *painter, st *state, y, w int) {
	th := &st.theme
	x := 0
	for _, h := range [...][2]string{{st.keyOf("quit"), "quit"}, {st.keyOf("next-panel"), "next panel"}} {
		key, what := h[0], h[1]
		need := p.width(key) + 1 + p.width(what) + 2
		if x+need > w {
			return
		}
		x += p.text(x, y, w-x, key, th.KeyHint)
		x++
		x += p.text(x, y, w-x, what, th.Base)
		x += 2
	}
	every := k.rotate.String()
	if k.rotate%time.Minute == 0 {
		every = fmt.Sprintf("%dm", int(k.rotate/time.Minute))
	}
	rot := "panels rotate every " + every
	if rw := p.width(rot); x+rw <= w {
		p.text(w-rw, y, rw, rot, th.Dim)
	}
}

// marksSelection reports whether a panel drawn with the focus marks its
// selected row: not on the wall screen, where nobody selects anything and
// a highlighted first row would read as something singled out.
func (st *state) marksSelection(focused bool) bool { return focused && !st.wall }
