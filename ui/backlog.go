package ui

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
)

// ticketSort is the order of the backlog's ticket list; `s` cycles it.
type ticketSort int

const (
	sortSLA      ticketSort = iota // least SLA time left first (breached first)
	sortAge                        // oldest first
	sortPriority                   // P1 first
	numTicketSorts
)

func (s ticketSort) String() string {
	switch s {
	case sortAge:
		return "age"
	case sortPriority:
		return "priority"
	}
	return "SLA left"
}

// ticketCols are the backlog table's columns. SUBJECT takes the rest of
// the width; SLA left comes early so a narrow terminal keeps it.
var ticketCols = []column{
	{title: "TICKET", min: 10, max: 14},
	{title: "T", min: 2, max: 2},
	{title: "PRI", min: 3, max: 3},
	{title: "SLA LEFT", min: 12, max: 15}, // "BREACHED 99d23h"
	{title: "AGE", min: 5, max: 6, right: true},
	{title: "STATUS", min: 6, max: 12},
	{title: "OWNER", min: 5, max: 14},
	{title: "REQUESTER", min: 9, max: 18},
	{title: "SUBJECT", min: 16, max: 1 << 16, flex: true},
}

// backlogCache holds the sorted, filtered ticket list of one snapshot, so
// frames and keys do not sort or filter again.
type backlogCache struct {
	snap   *model.Snapshot
	sort   ticketSort
	filter filterSpec
	board  *model.Board // the acks a filter on @acked saw
	list   []*model.TicketItem
	nat    []int
	// matched is the filtered list in SLA order, before sorting: a
	// longer filter text narrows it instead of scanning every ticket.
	matched []*model.TicketItem
	// hay is each ticket's searchable text in lower case (number,
	// subject, requester, owner, status, queue), kept across snapshots
	// for the tickets that did not change (a Ticket is never modified).
	hay     map[*model.Ticket]string
	haySnap *model.Snapshot
}

// ticketHay is the lower-cased text the filter searches in a ticket; the
// fields are joined by a byte no filter line holds, so a match never
// spans two fields.
func ticketHay(t *model.Ticket) string {
	return strings.ToLower(t.Number + "\x00" + t.Subject + "\x00" + t.Requester + "\x00" + t.Owner + "\x00" + t.Status + "\x00" + t.Queue)
}

// filterTickets returns the tickets of the snapshot the filter keeps, in
// SLA order (model.Filter.MatchTicket): free text is a case-insensitive
// part of the number, subject, requester, owner, status, queue or linked
// service; `service=<name>` keeps the tickets linked to that service.
func (c *backlogCache) filterTickets(snap *model.Snapshot, f filterSpec, board *model.Board, prev *backlogCache) []*model.TicketItem {
	if !f.active() {
		return snap.Tickets
	}
	from := snap.Tickets
	if prev.snap == snap && prev.matched != nil && prev.filter.active() && (prev.board == board || !f.f.UsesAcks()) &&
		f.f.Narrows(prev.filter.f) {
		from = prev.matched
	}
	out := make([]*model.TicketItem, 0, 64)
	if len(f.f.Words) > 0 && c.haySnap != snap {
		old := c.hay
		c.hay = make(map[*model.Ticket]string, len(snap.Tickets))
		for _, it := range snap.Tickets {
			h, ok := old[it.Ticket]
			if !ok {
				h = ticketHay(it.Ticket)
			}
			c.hay[it.Ticket] = h
		}
		c.haySnap = snap
	}
	env := filterEnv(snap, board)
	for _, it := range from {
		if f.f.MatchTicket(it, c.hay[it.Ticket], env) {
			out = append(out, it)
		}
	}
	return out
}

// backlog returns the tickets in the chosen order and the columns'
// natural widths.
func (st *state) backlog() ([]*model.TicketItem, []int) {
	c := &st.bl
	if c.snap == st.snap && c.sort == st.tkSort && c.filter.same(st.filter) && (c.board == st.board || !st.filter.f.UsesAcks()) && c.nat != nil {
		return c.list, c.nat
	}
	prev := *c
	var list, matched []*model.TicketItem
	if st.snap != nil {
		matched = c.filterTickets(st.snap, st.filter, st.board, &prev)
		list = matched // already in SLA order
		if st.tkSort != sortSLA {
			list = append([]*model.TicketItem(nil), list...)
			less := model.AgeLess
			if st.tkSort == sortPriority {
				less = model.PriorityLess
			}
			sort.SliceStable(list, func(i, j int) bool { return less(list[i].Ticket, list[j].Ticket) })
		}
	}
	keep := ""
	if it := st.selectedTicket(); it != nil {
		keep = it.Ticket.Key()
	}
	now := st.now()
	*c = backlogCache{snap: st.snap, sort: st.tkSort, filter: st.filter, board: st.board, list: list, matched: matched, hay: c.hay, haySnap: c.haySnap}
	c.nat = naturalWidths(ticketCols, len(list), func(row, col int) int {
		t, _ := ticketCell(&st.theme, now, list[row], col)
		return len(wholeText(t))
	})
	if keep != "" {
		for i, it := range list {
			if it.Ticket.Key() == keep {
				st.tkT.selected = i
				break
			}
		}
	}
	st.tkT.selected = max(min(st.tkT.selected, len(list)-1), 0)
	return list, c.nat
}

func (st *state) selectedTicket() *model.TicketItem {
	list := st.bl.list
	if st.bl.snap != st.snap {
		return nil
	}
	if i := st.tkT.selected; i >= 0 && i < len(list) {
		return list[i]
	}
	return nil
}

// slaText is the SLA cell: "BREACHED 12m" (how long ago), the time left,
// "paused 1h" for a stopped clock, or "—" without an SLA.
func slaText(now time.Time, s model.TicketSLA) (string, bool) {
	left, ok := s.Left(now)
	switch {
	case !ok:
		return "—", false
	case s.BreachedAt(now):
		if left < 0 {
			// shorter forms where the whole does not fit: never a
			// clipped "BREACHED 99d2…"
			ago := compactDuration(-left)
			alts := []string{"BREACHED " + ago}
			if i := strings.IndexByte(ago, 'd'); i > 0 && i < len(ago)-1 {
				alts = append(alts, "BREACHED "+ago[:i+1])
			}
			return strings.Join(append(alts, "BREACHED"), altSep), true
		}
		return "BREACHED", true
	case s.Paused:
		return "paused " + compactDuration(left), false
	}
	return compactDuration(left), false
}

// ticketCell is the text and style of one cell of the backlog table.
// Ticket text is untrusted: every upstream string goes through cellText.
func ticketCell(th *Theme, now time.Time, it *model.TicketItem, col int) (string, tcell.Style) {
	t := it.Ticket
	base := th.Base
	switch col {
	case 0:
		n := t.Number
		if n == "" {
			n = t.ID
		}
		return cellText(n), base.Bold(true)
	case 1:
		if t.Tier == model.Tier2 {
			return t.Tier.String(), th.Info
		}
		return t.Tier.String(), base
	case 2:
		st := base
		if t.Priority == model.PriorityCritical {
			st = th.Crit
		} else if t.Priority == model.PriorityHigh {
			st = th.Warn
		}
		return t.Priority.String(), st
	case 3:
		text, breached := slaText(now, t.SLA)
		switch {
		case breached:
			return text, th.Crit.Reverse(true)
		case text != "—" && !t.SLA.Paused:
			if left, _ := t.SLA.Left(now); left <= model.BreachingSoon {
				return text, th.Warn.Bold(true)
			}
		}
		return text, base
	case 4:
		return since(now, t.Created), base
	case 5:
		return cellText(t.Status), base
	case 6:
		if t.Owner == "" {
			return "nobody", th.Warn
		}
		return cellText(t.Owner), base
	case 7:
		return orDash(cellText(t.Requester)), base
	case 8:
		s := cellText(t.Subject)
		if it.Stale {
			s = staleText(now, true, it.StaleSince) + " " + s
		}
		return s, base
	}
	return "", base
}

// tierSummarySegs is one summary line of the backlog: "T1  3 open ·
// 2 unassigned · oldest 3h05m · 1 BREACHED · 1 within 30m".
func (st *state) tierSummarySegs(s *model.TierSummary) []seg {
	th := &st.theme
	now := st.now()
	hot := func(n int, style tcell.Style) tcell.Style {
		if n > 0 {
			return style
		}
		return th.Base
	}
	out := []seg{
		{s.Tier.String() + "  ", th.Title},
		{fmt.Sprintf("%d open", s.Open), th.Base.Bold(true)}, {" · ", th.Dim},
		{fmt.Sprintf("%d unassigned", s.Unassigned), hot(s.Unassigned, th.Warn)}, {" · ", th.Dim},
		{"oldest " + since(now, s.Oldest), th.Base}, {" · ", th.Dim},
		{fmt.Sprintf("%d SLA BREACHED", s.Breached), hot(s.Breached, th.Crit)}, {" · ", th.Dim},
		{fmt.Sprintf("%d breaching <30m", s.BreachingSoon), hot(s.BreachingSoon, th.Warn)},
	}
	if b := &st.snap.Backlog; b.Stale {
		// a ticket source is failing: these are its last good poll's,
		// said first so a narrow line keeps it
		asOf := "as of —"
		if !b.StaleSince.IsZero() {
			asOf = "as of " + b.StaleSince.Local().Format("15:04")
		}
		out = append(out[:2:2], append([]seg{{" " + asOf, th.Warn}}, out[2:]...)...)
	}
	return out
}

// backlogTitle is "4 Backlog (12) · by SLA left".
func (st *state) backlogTitle() string {
	n := 0
	if st.snap != nil {
		n = len(st.snap.Tickets)
	}
	if st.filter.active() && st.snap != nil {
		list, _ := st.backlog()
		return fmt.Sprintf("4 Backlog (%d of %d) · by %s", len(list), n, st.tkSort)
	}
	return fmt.Sprintf("4 Backlog (%d) · by %s", n, st.tkSort)
}

// drawBacklog paints the backlog panel in a box at (x, y, w, h): the
// per-tier summary lines, then the ticket table.
func (st *state) drawBacklog(p *painter, x, y, w, h int) {
	th := &st.theme
	focused := st.focus == PanelBacklog && st.mode != modeDetail && st.mode != modeHelp
	ix, iy, iw, ih := drawBox(p, th, x, y, w, h, st.backlogTitle(), focused)
	if iw <= 0 || ih <= 0 {
		return
	}
	if st.snap == nil || !st.snap.Backlog.Known {
		msg := "No ticket source configured (rt, jira or servicenow)"
		if st.snap == nil {
			msg = ""
		}
		st.drawEmpty(p, ix, iy, iw, msg, msg)
		return
	}
	b := &st.snap.Backlog
	row := iy
	for _, s := range []*model.TierSummary{&b.Tier1, &b.Tier2} {
		if row < iy+ih {
			drawSegs(p, ix+1, row, iw-1, st.tierSummarySegs(s))
			row++
		}
	}
	list, nat := st.backlog()
	if row >= iy+ih {
		return
	}
	if len(list) == 0 {
		if st.filter.active() && len(st.snap.Tickets) > 0 {
			p.text(ix+1, row, iw-1, "No ticket matches the filter", th.Dim)
			return
		}
		p.text(ix+1, row, iw-1, "No open tickets", th.OK)
		return
	}
	now := st.now()
	if st.board != nil && len(st.board.Pending) > 0 && len(nat) > 6 {
		// room for "escalating…" and "taking…" (the cached widths are
		// the tickets' own)
		nat = append([]int(nil), nat...)
		nat[5], nat[6] = max(nat[5], utf8.RuneCountInString("escalating…")), max(nat[6], utf8.RuneCountInString("taking…"))
	}
	st.tkT.draw(p, th, ix, row, iw, iy+ih-row, ticketCols, nat, len(list),
		func(r, col int) (string, tcell.Style) { return st.pendingTicketCell(th, now, list[r], col) },
		func(r int) bool { return list[r].Stale }, st.marksSelection(focused))
}

// pendingTicketCell is ticketCell with the actions on the ticket still in
// the outbox shown: "escalating…" in STATUS, "taking…" in OWNER.
func (st *state) pendingTicketCell(th *Theme, now time.Time, it *model.TicketItem, col int) (string, tcell.Style) {
	if col == 5 || col == 6 {
		verb, words := model.VerbTicketEscalate, "escalating…"
		if col == 6 {
			verb, words = model.VerbTake, "taking…"
		}
		ref := ticketRef(it)
		if st.board.PendingOf(verb, (&model.ActionRequest{Verb: verb, Ticket: ref}).Target()) != nil {
			return words, th.Info
		}
	}
	return ticketCell(th, now, it, col)
}

// cycleSort switches the backlog between SLA left, age and priority order.
func (st *state) cycleSort() {
	keep := st.selectedTicket()
	st.tkSort = (st.tkSort + 1) % numTicketSorts
	list, _ := st.backlog()
	st.tkT.selected, st.tkT.offset = 0, 0
	if keep != nil {
		for i, it := range list {
			if it == keep {
				st.tkT.selected = i
			}
		}
	}
	st.setFlash("backlog sorted by " + st.tkSort.String())
}

func (st *state) sortDisabled() string {
	if st.focus != PanelBacklog {
		return "sorting applies to the backlog (4)"
	}
	return ""
}

// ticketRef is what an action on the selected ticket names.
func ticketRef(it *model.TicketItem) model.TicketRef {
	t := it.Ticket
	return model.TicketRef{Source: t.Source, ID: t.ID, Number: t.Number, Tier: t.Tier, Owner: t.Owner}
}

// ticketActDisabled says why e or t cannot act on the backlog now.
func (st *state) ticketActDisabled() string {
	if st.actor == nil {
		return "no action log in this console"
	}
	if st.selectedTicket() == nil {
		return "select a ticket"
	}
	return ""
}

func (st *state) takeDisabled() string {
	if st.focus != PanelBacklog {
		return "select a ticket in the backlog (4)"
	}
	if why := st.ticketActDisabled(); why != "" {
		return why
	}
	if it := st.selectedTicket(); it.Ticket.Owner != "" && it.Ticket.Owner == st.actor.Operator().User {
		return "already yours"
	}
	return ""
}

// startTake asks to make the operator the selected ticket's owner.
func (st *state) startTake() {
	it := st.selectedTicket()
	req := model.ActionRequest{Verb: model.VerbTake, Service: it.Service, Ticket: ticketRef(it)}
	if st.refused(st.keyOf("take"), req) {
		return
	}
	st.setFlash("taking " + cellText(req.Ticket.Label()) + "…")
	st.act(req)
}

// startTicketEscalate opens the form escalating the selected Tier 1
// ticket to Tier 2.
func (st *state) startTicketEscalate() {
	it := st.selectedTicket()
	req := model.ActionRequest{Verb: model.VerbTicketEscalate, Service: it.Service, Ticket: ticketRef(it), Comment: "x"}
	if st.refused(st.keyOf("escalate"), req) {
		return
	}
	req.Comment = ""
	label := cellText(req.Ticket.Label())
	f := &form{req: req, title: "Escalate ticket " + label + " to Tier 2", fields: []formField{{label: "Comment"}}}
	f.summary = []string{fmt.Sprintf("Moves %s (%s) to Tier 2 and adds your comment as an internal note.", label, cellText(it.Ticket.Subject))}
	if o := st.snap.Outage(it.Service); o != nil {
		f.summary = append(f.summary, fmt.Sprintf("The note names the linked outage %s (%s) and its impact.", cellText(o.Service), o.Severity))
	} else {
		f.summary = append(f.summary, "No open outage is linked to this ticket.")
	}
	st.openForm(f)
}

// appendTickets lists the open tickets linked to service in a detail
// document.
func (st *state) appendTickets(d *document, service string) {
	if st.snap == nil || !st.snap.Backlog.Known {
		return
	}
	th := &st.theme
	now := st.now()
	list := st.snap.TicketsOf(service)
	d.blank()
	d.heading(fmt.Sprintf("Tickets of %s (%d)", Inert(service), len(list)), th.Title)
	if len(list) == 0 {
		d.add(docLine{text: "none open", style: th.Dim})
	}
	for _, it := range list {
		t := it.Ticket
		sla, breached := slaText(now, t.SLA)
		sla = wholeText(sla)
		style := th.Base
		if breached {
			style = th.Crit
		}
		n := t.Number
		if n == "" {
			n = t.ID
		}
		d.add(docLine{label: Inert(n), labelW: detailLabelW, lstyle: th.Title, style: style,
			text: fmt.Sprintf("%s %s · SLA %s · %s · owner %s · %s", t.Tier, t.Priority, sla, Inert(t.Status),
				orDash(Inert(t.Owner)), Inert(t.Subject))})
	}
}

// buildTicketDetail lays out everything known about one ticket.
func (st *state) buildTicketDetail(it *model.TicketItem) *document {
	th := &st.theme
	now := st.now()
	t := it.Ticket
	n := t.Number
	if n == "" {
		n = t.ID
	}
	d := &document{title: "Ticket " + cellText(n)}
	field := func(label, text string, style tcell.Style) {
		d.add(docLine{label: label, labelW: detailLabelW, text: text, lstyle: th.Title, style: style})
	}
	field("Subject", Inert(t.Subject), th.Base.Bold(true))
	field("Source", Inert(t.Source)+" · id "+Inert(t.ID), th.Base)
	field("Tier", t.Tier.String()+" · queue "+orDash(Inert(t.Queue)), th.Base)
	prio := Inert(t.PriorityLabel()) + " (" + orDash(Inert(t.PriorityRaw)) + ")"
	if t.PriorityName != "" {
		prio += " " + t.Priority.String() // the upstream's name beside its number
	}
	field("Priority", prio, th.Base)
	field("Status", Inert(t.Status), th.Base)
	sla, breached := slaText(now, t.SLA)
	sla = wholeText(sla)
	style := th.Base
	if breached {
		style = th.Crit
	}
	if t.SLA.Known && t.SLA.Name != "" {
		sla += " (" + Inert(t.SLA.Name) + ")"
	}
	field("SLA left", sla, style)
	field("Requester", orDash(Inert(t.Requester)), th.Base)
	field("Owner", orDash(Inert(t.Owner)), th.Base)
	field("Created", utc(t.Created)+ago(now, t.Created), th.Base)
	field("Updated", utc(t.Updated)+ago(now, t.Updated), th.Base)
	field("Service", orDash(Inert(it.Service)), th.Base)
	field("URL", orDash(Inert(t.URL)), th.Base)
	if it.Stale {
		field("Stale", staleText(now, true, it.StaleSince)+": its source is failing; shown from the cache", th.Warn)
	}
	d.blank()
	kvSection(d, th, fmt.Sprintf("Fields (%d)", t.Fields.Len()), t.Fields)
	return d
}

// ackDisabled is a's disabled reason: tickets are not acknowledged.
func (st *state) ackDisabled() string {
	if st.focus == PanelBacklog {
		return "acks are for outages and alerts; on a ticket, t takes it and e escalates it"
	}
	return st.actDisabled()
}

// escalateDisabled is e's disabled reason: on the backlog it escalates the
// selected ticket, elsewhere the selected outage.
func (st *state) escalateDisabled() string {
	if st.focus == PanelBacklog {
		return st.ticketActDisabled()
	}
	return st.actDisabled()
}

// enterTicket opens the selected ticket's detail view.
func (st *state) enterTicket() {
	if it := st.selectedTicket(); it != nil {
		st.detailOf = ""
		st.mode = modeDetail
		st.doc = st.buildTicketDetail(it)
	}
}
