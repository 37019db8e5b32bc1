package ui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
)

// depRow is one line of the dependencies panel: a name cell (tree glyphs
// and service, or a heading) and the segments after it. Every text in it
// is already inert.
type depRow struct {
	name    string
	nameSt  tcell.Style
	rest    []seg
	service string // the service a row names (for Enter), raw; "" for other lines
	wide    bool   // the name spans the whole line (headings, sentences)
	group   int    // rows of one group align their second column: 1 trees, 2 teams
}

// depsCache holds the rows of the dependencies panel for one outage of
// one snapshot, so frames and keys do not rebuild them.
type depsCache struct {
	snap    *model.Snapshot
	board   *model.Board
	minute  int64 // the clock's minute: "told 12m ago" follows it
	service string
	built   bool
	rows    []depRow
}

// depRows returns the rows for the selected outage, rebuilding them only
// when the snapshot or the selection changed.
func (st *state) depRows() []depRow {
	o := st.selectedOutage()
	svc := ""
	if o != nil {
		svc = o.Service
	}
	c := &st.deps
	minute := st.now().Unix() / 60
	if c.built && c.snap == st.snap && c.board == st.board && c.minute == minute && c.service == svc {
		return c.rows
	}
	if c.service != svc {
		st.depT.selected, st.depT.offset = 0, 0
	}
	*c = depsCache{snap: st.snap, board: st.board, minute: minute, service: svc, built: true, rows: st.buildDepRows(o)}
	return c.rows
}

func (st *state) selectedDepRow() *depRow {
	rows := st.depRows()
	if i := st.depT.selected; i >= 0 && i < len(rows) {
		return &rows[i]
	}
	return nil
}

// serviceStateSegs describes a service's live state: its outage or
// firing alerts, or ok.
func (st *state) serviceStateSegs(name string) []seg {
	th := &st.theme
	ss := st.snap.Service(name)
	switch {
	case ss.Outage != nil:
		o := ss.Outage
		out := []seg{{o.Severity.String(), th.severity(o.Severity)}, {" outage · " + model.Plural(o.Alerts, "alert", "alerts"), th.Base.Bold(true)}}
		if o.Stale {
			out = append(out, seg{" · " + staleText(st.now(), true, o.StaleSince), th.Warn})
		}
		return out
	case ss.Firing > 0:
		return []seg{{ss.Severity.String(), th.severity(ss.Severity)}, {" " + strconv.Itoa(ss.Firing) + " firing", th.Base}}
	case ss.Pending > 0:
		return []seg{{"ok", th.OK}, {" · " + strconv.Itoa(ss.Pending) + " pending", th.Dim}}
	}
	return []seg{{"ok", th.OK}}
}

// ticketSeg is the ticket count of a service, or "—" while no ticket
// source reports on it (a count of zero would be a claim).
func ticketSeg(th *Theme, ss model.ServiceState) seg {
	if !ss.TicketsKnown {
		return seg{" · tickets —", th.Dim}
	}
	return seg{" · " + model.Plural(ss.Tickets, "ticket", "tickets"), th.Base}
}

// treePrefixes draws the tree glyphs of pre-ordered nodes.
func treePrefixes(nodes []model.DepNode) []string {
	last := make([]bool, len(nodes))
	seen := map[int]bool{}
	for i := len(nodes) - 1; i >= 0; i-- {
		if p := nodes[i].Parent; !seen[p] {
			seen[p] = true
			last[i] = true
		}
	}
	cont := make([]string, len(nodes))
	out := make([]string, len(nodes))
	for i, n := range nodes {
		up := ""
		if n.Parent >= 0 {
			up = cont[n.Parent]
		}
		if last[i] {
			out[i], cont[i] = up+"└─ ", up+"   "
		} else {
			out[i], cont[i] = up+"├─ ", up+"│  "
		}
	}
	return out
}

// buildDepRows lays out the panel for outage o.
func (st *state) buildDepRows(o *model.Outage) []depRow {
	th := &st.theme
	var rows []depRow
	line := func(text string, style tcell.Style) {
		rows = append(rows, depRow{name: text, nameSt: style, wide: true})
	}
	if o == nil {
		return nil
	}
	name := cellText(o.Service)
	if o.Pipeline && o.Impact == nil {
		return st.pipelineDepRows(o)
	}
	if o.Impact == nil {
		line(name+": not in the service catalog (unmapped).", th.Base)
		line("No dependencies are claimed for it;", th.Dim)
		line("no team is listed to notify.", th.Dim)
		return rows
	}
	im := o.Impact
	switch {
	case o.IsSymptom():
		up := 0
		for _, n := range im.Upstream {
			if n.Service == o.ProbableCause {
				up = n.Depth
			}
		}
		rest := []seg{{cellText(o.ProbableCause), th.Crit}, {" (", th.Base}}
		rest = append(rest, stateOf(th, st.snap.Outage(o.ProbableCause))...)
		if o.CauseInhibits {
			rest = append(rest, seg{", its alerts inhibit this outage's)", th.Base})
		} else {
			rest = append(rest, seg{", " + model.Plural(up, "level", "levels") + " up)", th.Base})
		}
		rows = append(rows, depRow{name: "Probable cause: ", nameSt: th.Title, wide: true, service: o.ProbableCause, rest: rest})
	case len(o.Symptoms) > 0:
		line(fmt.Sprintf("Probable cause of %s: nothing upstream is down.", model.Plural(len(o.Symptoms), "other outage", "other outages")), th.Crit)
	default:
		line("Nothing upstream is down.", th.Base)
	}

	rows = append(rows, depRow{})
	line(fmt.Sprintf("Upstream — %s depends on (%d)", name, len(im.Upstream)), th.Title)
	if len(im.Upstream) == 0 {
		line(" nothing in the catalog", th.Dim)
	}
	for i, pre := range treePrefixes(im.Upstream) {
		n := im.Upstream[i]
		r := depRow{name: " " + pre + cellText(n.Service), nameSt: th.Base, service: n.Service, rest: st.serviceStateSegs(n.Service), group: 1}
		if n.Service == o.ProbableCause {
			r.nameSt = th.Crit
			r.rest = append(r.rest, seg{"  ◀ probable cause", th.Crit})
		}
		rows = append(rows, r)
	}

	rows = append(rows, depRow{})
	line(fmt.Sprintf("Downstream — impacted (%d)", len(im.Downstream)), th.Title)
	if len(im.Downstream) == 0 {
		line(" nothing in the catalog depends on "+name, th.Dim)
	}
	for i, pre := range treePrefixes(im.Downstream) {
		n := im.Downstream[i]
		ss := st.snap.Service(n.Service)
		rest := append([]seg{{"impacted · ", th.Warn}}, st.serviceStateSegs(n.Service)...)
		rest = append(rest, ticketSeg(th, ss))
		rows = append(rows, depRow{name: " " + pre + cellText(n.Service), nameSt: th.Base, service: n.Service, rest: rest, group: 1})
	}

	rows = append(rows, depRow{})
	// The probable cause's owner is told too: its outage is theirs.
	cause := st.causeToTell(o)
	n := len(im.Notify)
	if cause != nil {
		n++
	}
	line(fmt.Sprintf("Notify — %s (y copies)", model.Plural(n, "team", "teams")), th.Title)
	chans := st.teamChannels()
	for _, t := range im.Notify {
		owner := cellText(t.Owner)
		if t.Owner == "" {
			owner = "(no owner)"
		}
		contacts := inertJoin(t.Contacts)
		if contacts == "" {
			contacts = "no contact in the catalog"
		}
		rest := []seg{{contacts, th.Base}, {"  (" + inertJoin(t.Services) + ")", th.Dim}}
		if t.Owner != "" {
			if n := st.noticeSeg(o, t.Owner, chans); n.text != "" {
				rest = append([]seg{n, {" · ", th.Dim}}, rest...)
			}
		}
		rows = append(rows, depRow{name: " " + owner, nameSt: th.Base.Bold(true), group: 2, rest: rest})
	}
	if c := cause; c != nil {
		rest := []seg{{"owns the probable cause", th.Base}, {"  (" + cellText(c.Service) + ")", th.Dim}}
		if n := st.noticeSeg(o, c.Owner, chans); n.text != "" {
			rest = append([]seg{n, {" · ", th.Dim}}, rest...)
		}
		rows = append(rows, depRow{name: " " + cellText(c.Owner), nameSt: th.Base.Bold(true), group: 2, rest: rest})
	}
	return rows
}

// pipelineDepRows lays out the panel for an outage of the alerting
// pipeline: which services its failing rules watch, one a row (Enter
// goes to it), since nothing watches them while the rules fail.
func (st *state) pipelineDepRows(o *model.Outage) []depRow {
	th := &st.theme
	var rows []depRow
	line := func(text string, style tcell.Style) {
		rows = append(rows, depRow{name: text, nameSt: style, wide: true})
	}
	line(cellText(o.Service)+": alerting rules fail upstream.", th.Base)
	line("Their alerts show FIRING?: frozen as last evaluated.", th.Dim)
	rows = append(rows, depRow{})
	if len(o.Blinds) == 0 {
		line("Not watched while its rules fail: no service in the catalog", th.Dim)
	} else {
		line(fmt.Sprintf("Not watched while its rules fail (%d)", len(o.Blinds)), th.Title)
	}
	for _, svc := range o.Blinds {
		rest := append([]seg{{"unwatched · ", th.Warn}}, st.serviceStateSegs(svc)...)
		rows = append(rows, depRow{name: " " + cellText(svc), nameSt: th.Base, service: svc, rest: rest, group: 1})
	}
	rows = append(rows, depRow{})
	line("The source's findings are on the ? page (Sources).", th.Dim)
	return rows
}

// stateOf is a short description of an outage for a sentence.
func stateOf(th *Theme, o *model.Outage) []seg {
	if o == nil {
		return []seg{{"recovered", th.OK}}
	}
	return []seg{{o.Severity.String(), th.severity(o.Severity)}, {" outage", th.Base}}
}

// depsTitle is "3 Dependencies · db-main".
func (st *state) depsTitle() string {
	if o := st.selectedOutage(); o != nil {
		return "3 Dependencies · " + cellText(o.Service)
	}
	return "3 Dependencies"
}

// drawDeps paints the dependencies panel in a box at (x, y, w, h).
func (st *state) drawDeps(p *painter, x, y, w, h int) {
	th := &st.theme
	focused := st.focus == PanelDeps && st.mode != modeDetail && st.mode != modeHelp
	ix, iy, iw, ih := drawBox(p, th, x, y, w, h, st.depsTitle(), focused)
	if iw <= 0 || ih <= 0 {
		return
	}
	rows := st.depRows()
	if len(rows) == 0 {
		msg := "No outage selected"
		if len(st.v.outs) == 0 {
			msg = "No outages"
		}
		st.drawEmpty(p, ix, iy, iw, msg, "no outages match the filter")
		return
	}
	t := &st.depT
	t.page = ih
	t.clamp(len(rows))
	if t.selected < t.offset {
		t.offset = t.selected
	}
	if t.selected >= t.offset+t.page {
		t.offset = t.selected - t.page + 1
	}
	t.offset = min(t.offset, max(len(rows)-t.page, 0))
	var nameWs [3]int
	for _, r := range rows {
		if !r.wide {
			nameWs[r.group] = max(nameWs[r.group], min(p.width(r.name), max(iw/2, 12)))
		}
	}
	for i := 0; i < ih && t.offset+i < len(rows); i++ {
		r := &rows[t.offset+i]
		ry := iy + i
		sel := st.marksSelection(focused) && t.offset+i == t.selected
		style := func(s tcell.Style) tcell.Style {
			if sel {
				return s.Reverse(true)
			}
			return s
		}
		if sel {
			p.fill(ix, ry, iw, ' ', th.Selected)
		}
		cx := ix + 1
		avail := iw - 1
		if r.wide {
			used := p.text(cx, ry, avail, r.name, style(r.nameSt))
			cx += used
			avail -= used
		} else {
			nameW := nameWs[r.group]
			p.text(cx, ry, min(nameW, avail), r.name, style(r.nameSt))
			cx += nameW + 2
			avail -= nameW + 2
		}
		for _, s := range r.rest {
			if avail <= 0 {
				break
			}
			used := p.text(cx, ry, avail, s.text, style(s.st))
			cx += used
			avail -= used
		}
	}
}

// enterDep follows the selected row: to the service's outage when it has
// one, else to its alerts.
func (st *state) enterDep() {
	r := st.selectedDepRow()
	if r == nil || r.service == "" {
		return
	}
	if st.snap.Outage(r.service) != nil {
		if st.filter.active() {
			st.setFilter("")
		}
		if i := st.v.outageIndex(r.service); i >= 0 {
			st.outT.selected = i
		}
		st.focus = PanelOutages
		return
	}
	st.focus = PanelAlerts
	st.setFilter("service=" + r.service)
	st.alertT.selected, st.alertT.offset = 0, 0
	if len(st.v.sigs) == 0 {
		st.setFlash(cellText(r.service) + ": nothing open")
	}
}

// toggleNesting switches the outages panel between symptoms nested under
// their cause and one flat list.
func (st *state) toggleNesting() {
	st.flat = !st.flat
	st.rebuild(st.selectedOutageService(), st.selectedSignalKey())
	if st.flat {
		st.setFlash("outages: flat list")
	} else {
		st.setFlash("outages: symptoms nested under their probable cause")
	}
}

func (st *state) copyDisabled() string {
	o := st.selectedOutage()
	switch {
	case o == nil:
		return "no outage selected"
	case o.Impact == nil && o.Pipeline:
		return cellText(o.Service) + " is an outage of the alerting pipeline: no team in the catalog to notify"
	case o.Impact == nil:
		return cellText(o.Service) + " is not in the service catalog: no team to notify"
	case st.scr == nil:
		return "no terminal to copy through"
	}
	return ""
}

// notifyText is what `y` copies: who to tell about the selected outage,
// one team a line. Contacts come from the config and are made inert like
// any other text.
func notifyText(o *model.Outage, cause *model.Outage) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Outage %s (%s) — notify:\n", Inert(o.Service), o.Severity.String())
	for _, t := range o.Impact.Notify {
		owner := Inert(t.Owner)
		if t.Owner == "" {
			owner = "(no owner)"
		}
		fmt.Fprintf(&b, "%s: %s (%s)\n", owner, orDash(inertJoin(t.Contacts)), inertJoin(t.Services))
	}
	if cause != nil {
		fmt.Fprintf(&b, "%s: owns the probable cause (%s)\n", Inert(cause.Owner), Inert(cause.Service))
	}
	return b.String()
}

// causeToTell is the outage of o's probable cause when its owner is not
// among the teams o's impact already names, else nil: the dependencies
// panel and y list that owner too.
func (st *state) causeToTell(o *model.Outage) *model.Outage {
	c := st.snap.Outage(o.ProbableCause)
	if c == nil || c.Owner == "" || o.Impact == nil {
		return nil
	}
	for _, t := range o.Impact.Notify {
		if t.Owner == c.Owner {
			return nil
		}
	}
	return c
}

// copyNotify puts who to notify on the terminal's clipboard with OSC 52.
// tcell encodes the text (base64) and writes the sequence itself, so
// nothing in the text can reach the terminal as a control sequence.
func (st *state) copyNotify() {
	o := st.selectedOutage()
	cause := st.causeToTell(o)
	n := len(o.Impact.Notify)
	if cause != nil {
		n++
	}
	st.scr.SetClipboard([]byte(notifyText(o, cause)))
	st.setFlash(fmt.Sprintf("sent %s to notify for %s to the terminal clipboard (OSC 52)",
		model.Plural(n, "team", "teams"), cellText(o.Service)))
}
