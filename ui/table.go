package ui

import (
	"strconv"
	"strings"
	"time"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
)

// column describes one table column. Short columns (severity, state,
// ages, counts, sources, ack, level: values a few cells wide) get their
// full width first; free-text columns (text or flex: names, services,
// owners, summaries) share what is left.
type column struct {
	title string
	min   int  // narrowest useful width
	max   int  // widest it grows to
	flex  bool // free text that takes whatever width is left (last column only)
	text  bool // free text: shares the width the short columns leave
	first int  // of a text column: the width it gets with the short columns, before the sharing
	// alt, when set, is the width of the column's short form: its cells
	// carry a shorter alternative (after altSep) drawn when the whole
	// text does not fit, so a column that cannot have its whole width
	// takes only alt cells and leaves the rest to the others.
	alt int
	// fits, of a column with a short form, are the widths of its whole
	// texts (set per frame): a column narrower than its widest whole text
	// keeps the width of the widest that still fits.
	fits []int
	// list marks a list cell's column (sources): a list that cannot be
	// whole is counted ("am-a +2"), so room given back by a short form
	// goes to the others, not to a longer count.
	list  bool
	right bool // right-aligned
}

// listSep joins the items of a list cell. Cell text is inert, so the
// separator never occurs in an item.
const listSep = "\x1f"

// altSep separates a cell's text from shorter alternatives of it ("L2
// service owner on-call" or "L2"): the first that fits is drawn, never a
// clipped "L2 ser…".
const altSep = "\x1e"

// wholeText is a cell's text without its shorter alternatives.
func wholeText(text string) string {
	whole, _, _ := strings.Cut(text, altSep)
	return whole
}

var alertCols = []column{
	{title: "SEV", min: 6, max: 6},
	{title: "STATE", min: 8, max: 13}, // "INHIBITED 1/2" only when a row says it
	{title: "AGE", min: 5, max: 5, right: true},
	{title: "NAME", min: 12, max: 40, text: true, first: 16}, // names of 16 or fewer read whole first
	{title: "SERVICE", min: 8, max: 24, text: true},
	{title: "SOURCES", min: 5, max: 30, list: true},
	{title: "", min: 9, max: 9}, // the stale marker
	{title: "SUMMARY", min: 16, max: 1 << 16, flex: true},
}

var outageCols = []column{
	{title: "SEV", min: 6, max: 6},
	{title: "SERVICE", min: 10, max: 32}, // the outage itself: whole before the rest
	{title: "FOR", min: 5, max: 5, right: true},
	{title: "", min: 9, max: 9}, // the stale marker
	{title: "ALERTS", min: 6, max: 20},
	{title: "SOURCES", min: 7, max: 30, list: true},
	{title: "OWNER", min: 10, max: 24, text: true},
}

func alertNatural(s *model.Signal, col int) int {
	switch col {
	case 1:
		switch {
		case s.Disputed():
			return len(wholeText(signalState(s)))
		case s.State == model.StateSuppressed && !s.Silenced():
			return len("INHIBITED")
		}
	case 3:
		return len(s.Name())
	case 4:
		return len(s.Service)
	case 5:
		return joinedLen(s.Sources)
	case 6:
		if s.Stale {
			return 9
		}
	}
	return 0
}

func outageNatural(o *model.Outage, col int) int {
	switch col {
	case 1:
		return len(o.Service)
	case 3:
		if o.Stale {
			return 9
		}
	case 4:
		return len(wholeText(outageAlertsText(o)))
	case 5:
		return joinedLen(o.Sources)
	case 6:
		if o.Pipeline {
			return len("(pipeline)")
		}
		if !o.Mapped {
			return len("(unmapped)")
		}
		return max(len(o.Owner), 1)
	}
	return 0
}

// alertCell is the text and style of one cell of the alerts table.
func alertCell(th *Theme, now time.Time, s *model.Signal, col int) (string, tcell.Style) {
	base := th.Base
	switch col {
	case 0:
		return th.sevLabel(s.Severity), th.severity(s.Severity)
	case 1:
		st := base
		if s.State == model.StateFiring {
			st = st.Bold(true)
		}
		if s.Disputed() || ruleInDoubt(s) {
			st = th.Warn.Bold(true)
		}
		return signalState(s), st
	case 2:
		return since(now, s.StartsAt.Time()), base
	case 3:
		return cellText(s.Name()), base
	case 4:
		return cellText(s.Service), base
	case 5:
		return listText(s.Sources), base
	case 6:
		return staleText(now, s.Stale, s.StaleSince.Time()), th.Warn
	case 7:
		if ruleInDoubt(s) { // why the state is in doubt comes first
			return "rule failing since " + s.RuleFailing.Since.UTC().Format("15:04") + " · " + cellText(s.Summary()), base
		}
		return cellText(s.Summary()), base
	}
	return "", base
}

// outageCell is the text and style of one cell of the outages table.
func outageCell(th *Theme, now time.Time, o *model.Outage, col int) (string, tcell.Style) {
	base := th.Base
	switch col {
	case 0:
		return th.sevLabel(o.Severity), th.severity(o.Severity)
	case 1:
		return cellText(o.Service), base.Bold(true)
	case 2:
		return since(now, o.Since), base
	case 3:
		return staleText(now, o.Stale, o.StaleSince), th.Warn
	case 4:
		return outageAlertsText(o), base
	case 5:
		return listText(o.Sources), base
	case 6:
		if o.Pipeline {
			return "(pipeline)", th.Dim
		}
		if !o.Mapped {
			return "(unmapped)", th.Dim
		}
		if o.Owner == "" {
			return "—", base
		}
		return cellText(o.Owner), base
	}
	return "", base
}

// signalState is the state a signal's row shows: FIRING, PENDING,
// SILENCED (silenced upstream by every source that can silence it) or
// INHIBITED (inhibited by another alert, not silenced). An alert that
// some of those sources silence or inhibit while another still pages
// counts as firing and says so: "SILENCED 1/2", "INHIBITED 1/2" (silenced
// by 1 of 2). Narrow columns get the short forms ("SIL 1/2", "INHIB"),
// after altSep. An alert whose rule fails upstream is frozen in the state
// it was last evaluated to, so a firing or pending one reads "FIRING?",
// "PENDING?".
func signalState(s *model.Signal) string {
	switch {
	case ruleInDoubt(s):
		return stateText(s.State) + "?"
	case s.Disputed():
		of := "/" + strconv.Itoa(int(s.Voters))
		if s.SilencedIn > 0 {
			n := strconv.Itoa(int(s.SilencedIn))
			return "SILENCED " + n + of + altSep + "SIL " + n + of
		}
		n := strconv.Itoa(int(s.InhibitedIn))
		return "INHIBITED " + n + of + altSep + "INH " + n + of
	case s.State == model.StateSuppressed && !s.Silenced() && s.Inhibited():
		return "INHIBITED" + altSep + "INHIB"
	}
	return stateText(s.State)
}

// ruleInDoubt reports whether the signal's state is in doubt because the
// rule behind it fails upstream: a firing or pending alert whose row is
// not disputed between Alertmanagers (that says more).
func ruleInDoubt(s *model.Signal) bool {
	return s.RuleFailing != nil && !s.Disputed() && (s.State == model.StateFiring || s.State == model.StatePending)
}

// outageAlertsText is an outage's ALERTS cell: how many alerts, and how
// many of them are silenced and inhibited upstream ("3 (1 silenced, 2
// inhibited)").
func outageAlertsText(o *model.Outage) string {
	n := strconv.Itoa(o.Alerts)
	sil, inh := strconv.Itoa(o.SilencedAlerts), strconv.Itoa(o.InhibitedAlerts)
	var alts []string // whole first, then shorter (altSep)
	switch {
	case o.SilencedAlerts > 0 && o.InhibitedAlerts > 0:
		alts = []string{n + " (" + sil + " silenced, " + inh + " inhibited)", n + " (" + sil + " sil., " + inh + " inh.)"}
	case o.SilencedAlerts > 0:
		alts = []string{n + " (" + sil + " silenced)", n + " (" + sil + " sil.)"}
	case o.InhibitedAlerts > 0:
		alts = []string{n + " (" + inh + " inhibited)", n + " (" + inh + " inh.)"}
	}
	return strings.Join(append(alts, n), altSep)
}

// fitColumns gives each column a width within avail cells (one blank cell
// between columns). Columns with nothing to show get 0. When even the
// minimum widths do not fit, columns are dropped from the right. Every
// column starts at its minimum; the short columns then grow to their
// natural width, left to right, and the free-text columns (text and
// flex) share what is left: each grows to its natural width while there
// is room, the room split evenly among those still short of it, and the
// flex column takes the rest.
func fitColumns(cols []column, natural []int, avail int) []int {
	w := make([]int, len(cols))
	active := make([]bool, len(cols))
	for i, c := range cols {
		active[i] = natural[i] > 0 || c.flex
	}
	need := func() int {
		n, k := 0, 0
		for i, c := range cols {
			if active[i] {
				n += min(c.min, natural[i])
				k++
			}
		}
		if k > 0 {
			n += k - 1
		}
		return n
	}
	for i := len(cols) - 1; i > 0 && need() > avail; i-- {
		active[i] = false
	}
	left := avail
	k := 0
	for i, c := range cols {
		if active[i] {
			w[i] = min(c.min, natural[i])
			left -= w[i]
			k++
		}
	}
	left -= max(k-1, 0)
	if left < 0 { // avail smaller than one column
		for i := range w {
			w[i] = 0
		}
		w[0] = max(avail, 0)
		return w
	}
	// short columns first, to their natural width (a text column to its
	// first width); a column with a short form that did not get its whole
	// width then keeps only the width of its widest text that fits (its
	// short form's when none does), and the short columns after it get
	// the room it leaves before the free text does
	settled := make([]bool, len(cols))
	growShort := func(again bool) {
		for i, c := range cols {
			if !active[i] || settled[i] || c.text && c.first == 0 || c.flex || left == 0 || again && c.list {
				continue
			}
			upto := min(natural[i], c.max)
			if c.text {
				upto = min(upto, c.first)
			}
			grow := min(upto-w[i], left)
			if grow > 0 {
				w[i] += grow
				left -= grow
			}
		}
	}
	growShort(false)
	reclaimed := false
	for i, c := range cols {
		if active[i] && c.alt > 0 && c.fits != nil && w[i] > c.alt && w[i] < min(natural[i], c.max) {
			keep := c.alt
			for _, f := range c.fits {
				if f <= w[i] {
					keep = max(keep, f)
				}
			}
			left += w[i] - keep
			w[i], settled[i], reclaimed = keep, true, true
		}
	}
	if reclaimed {
		growShort(true)
	}
	// then the free text, evenly
	want := func(i int) int {
		if cols[i].flex {
			return 1 << 30
		}
		return min(natural[i], cols[i].max) - w[i]
	}
	for left > 0 {
		short := 0
		for i, c := range cols {
			if active[i] && (c.text || c.flex) && want(i) > 0 {
				short++
			}
		}
		if short == 0 {
			break
		}
		share := max(left/short, 1)
		for i, c := range cols {
			if left == 0 {
				break
			}
			if active[i] && (c.text || c.flex) && want(i) > 0 {
				grow := min(share, want(i), left)
				w[i] += grow
				left -= grow
			}
		}
	}
	return w
}

// vtable is a virtual table: it holds only a selection and a scroll
// offset; rows are drawn from the current view on demand, so a snapshot
// swap is a pointer swap and 50k rows cost nothing until they are visible.
type vtable struct {
	selected int
	offset   int
	page     int // data rows visible in the last frame
}

func (t *vtable) clamp(rows int) {
	if t.selected >= rows {
		t.selected = rows - 1
	}
	if t.selected < 0 {
		t.selected = 0
	}
}

func (t *vtable) move(delta, rows int) {
	t.selected += delta
	t.clamp(rows)
}

func (t *vtable) pageSize() int { return max(t.page-1, 1) }

// draw paints the header row and the visible rows into (x, y, w, h).
func (t *vtable) draw(p *painter, th *Theme, x, y, w, h int, cols []column, natural []int, rows int,
	cell func(row, col int) (string, tcell.Style), dim func(row int) bool, focused bool) {
	if w <= 0 || h <= 0 {
		return
	}
	widths := fitColumns(cols, natural, w)
	cx := x
	for i, c := range cols {
		if widths[i] == 0 {
			continue
		}
		drawAligned(p, cx, y, widths[i], c.title, th.Title, c.right)
		cx += widths[i] + 1
	}
	t.page = h - 1
	t.clamp(rows)
	if t.page <= 0 {
		return
	}
	if t.selected < t.offset {
		t.offset = t.selected
	}
	if t.selected >= t.offset+t.page {
		t.offset = t.selected - t.page + 1
	}
	if t.offset > max(rows-t.page, 0) {
		t.offset = max(rows-t.page, 0)
	}
	for i := 0; i < t.page && t.offset+i < rows; i++ {
		row := t.offset + i
		ry := y + 1 + i
		sel := row == t.selected && focused
		isDim := dim(row)
		if sel {
			p.fill(x, ry, w, ' ', th.Selected)
		}
		cx := x
		for c, col := range cols {
			if widths[c] == 0 {
				continue
			}
			text, st := cell(row, c)
			if isDim {
				st = st.Dim(true)
			}
			if sel {
				st = st.Reverse(true)
			}
			drawAligned(p, cx, ry, widths[c], text, st, col.right)
			cx += widths[c] + 1
		}
	}
}

func drawAligned(p *painter, x, y, w int, text string, st tcell.Style, right bool) {
	if strings.Contains(text, altSep) {
		alts := strings.Split(text, altSep)
		text = alts[len(alts)-1]
		for _, a := range alts {
			if p.width(a) <= w {
				text = a
				break
			}
		}
	}
	if strings.Contains(text, listSep) {
		text = fitList(p, text, w)
	}
	if right {
		if tw := p.width(text); tw < w {
			x += w - tw
			w = tw
		}
	}
	p.text(x, y, w, text, st)
}

// listText is the text of a list cell: its items, inert, joined by
// listSep.
func listText(items []string) string {
	var b strings.Builder
	for i, s := range items {
		if i > 0 {
			b.WriteString(listSep)
		}
		b.WriteString(cellText(s))
	}
	return b.String()
}

// fitList renders a list cell's items in w cells: all of them comma-
// separated when they fit, else as many as fit followed by how many are
// left ("am-a +2"), the first one clipped when even that is too wide; in
// fewer cells than "am… +2" the list is clipped as it is.
func fitList(p *painter, text string, w int) string {
	items := strings.Split(text, listSep)
	all := strings.Join(items, ",")
	if p.width(all) <= w || len(items) == 1 {
		return all
	}
	for k := len(items) - 1; k >= 1; k-- {
		if s := strings.Join(items[:k], ",") + " +" + strconv.Itoa(len(items)-k); p.width(s) <= w {
			return s
		}
	}
	more := " +" + strconv.Itoa(len(items)-1)
	if w-len(more) < 3 { // no room to name the first one: clip the list
		return all
	}
	return p.truncate(items[0], w-len(more)) + more
}
