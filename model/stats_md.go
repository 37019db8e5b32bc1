package model

import (
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Location is the zone the statistics are shown in (Zone): the shift
// schedule's.
func (s *Stats) Location() *time.Location {
	if s.loc != nil {
		return s.loc
	}
	if loc, err := time.LoadLocation(s.Zone); err == nil && s.Zone != "" {
		return loc
	}
	return time.UTC
}

// PeriodLabel names a bucket for people in the statistics' zone: "Mon 02
// Mar", with the time of day where the span cuts the bucket
// ("Wed 01 Apr 12:00").
func (s *Stats) PeriodLabel(p StatsPeriod) string {
	t := p.From.In(s.Location())
	if t.Hour() == 0 && t.Minute() == 0 {
		return t.Format("Mon 02 Jan")
	}
	return t.Format("Mon 02 Jan 15:04")
}

// TicketTotals are a period's tickets over every tier.
func (p StatsPeriod) TicketTotals() TicketCounts {
	var c TicketCounts
	for _, t := range p.Tickets {
		c.Opened += t.Opened
		c.Closed += t.Closed
		c.Breached += t.Breached
	}
	return c
}

// EscalationTotal is a period's escalations over every level.
func (p StatsPeriod) EscalationTotal() int {
	n := 0
	for _, e := range p.Escalations {
		n += e
	}
	return n
}

// sortedLevels are a map's keys ("1", "2", "10") in numeric order.
func sortedLevels[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, ea := strconv.Atoi(keys[i])
		b, eb := strconv.Atoi(keys[j])
		if ea == nil && eb == nil && a != b {
			return a < b
		}
		return keys[i] < keys[j]
	})
	return keys
}

// spanWords is the span in the statistics' zone, for a title.
func (s *Stats) spanWords() string {
	loc := s.Location()
	return s.From.In(loc).Format("Mon 02 Jan 2006 15:04") + " – " + s.To.In(loc).Format("Mon 02 Jan 2006 15:04")
}

// zoneWords names the zone for a title: Zone, or the host's zone by its
// abbreviation ("CET") when the shifts name none (Zone "Local").
func (s *Stats) zoneWords() string {
	if s.Zone == "" || s.Zone == "Local" {
		return s.From.In(s.Location()).Format("MST")
	}
	return s.Zone
}

// historyWords says whose history the statistics read, in the handoff's
// words.
func (s *Stats) historyWords() string {
	switch {
	case s.Whose == WhoseTeam:
		return "the team's (every host's view)"
	case s.WhoseDetail != "":
		return s.WhoseDetail
	}
	return "this host's"
}

// Markdown renders the statistics for pasting into a review: a title with
// the span, zone, filters and whose history, the totals, a table per
// bucket and per shift, and the top lists. Tables are padded so they read
// as plain text too. Upstream text (service, alert and source names) is
// escaped so it can neither format the report nor reach a terminal as
// control sequences.
func (s *Stats) Markdown() string {
	var b strings.Builder
	line := func(parts ...string) { b.WriteString(strings.Join(parts, "")); b.WriteByte('\n') }
	unit := "day"
	if s.Bucket == BucketWeek {
		unit = "week"
	}
	line("# NOC statistics")
	line()
	line("Span: ", s.spanWords(), " (", mdText(s.zoneWords()), "), by ", unit, "  ")
	if f := s.filterWords(mdStrong); f != "" {
		line("Filters: ", f, "  ")
	}
	if s.Whose == WhoseHost && s.WhoseDetail != "" {
		line("History: **", mdText(s.WhoseDetail), "**", errSuffix(s.WhoseError))
	} else {
		line("History: ", s.historyWords())
	}
	line()

	line("## Totals")
	line()
	for _, l := range s.totalsWords(mdText) {
		line("- ", l)
	}
	line()

	head := "Day"
	if s.Bucket == BucketWeek {
		head = "Week of"
	}
	line("## Per ", unit)
	line()
	rows := [][]string{}
	for _, p := range s.Buckets {
		rows = append(rows, append([]string{s.PeriodLabel(p)}, s.periodCells(p)...))
	}
	rows = append(rows, append([]string{"Total"}, s.periodCells(s.Totals)...))
	mdTable(&b, "l", append([]string{head}, s.periodHeads()...), rows)
	line()

	line("## Per shift")
	line()
	if s.Shift != "" {
		line("Only the ", mdText(s.Shift), " shift.")
		line()
	}
	rows = rows[:0]
	for _, sh := range s.Shifts {
		rows = append(rows, append([]string{mdText(sh.Start)}, s.periodCells(sh.StatsPeriod)...))
	}
	mdTable(&b, "l", append([]string{"Shift"}, s.periodHeads()...), rows)
	line()

	loads := func(title string, l []ServiceLoad) {
		line("## ", title)
		line()
		if len(l) == 0 {
			line("None.")
			line()
			return
		}
		rows := [][]string{}
		for i, x := range l {
			rows = append(rows, []string{strconv.Itoa(i + 1), mdStrong(x.Service), strconv.Itoa(x.Outages),
				FormatSeconds(x.Seconds), optSecs(x.TTAP50)})
		}
		mdTable(&b, "rl", []string{"#", "Service", "Outages", "In outage", "TTA p50"}, rows)
		line()
	}
	loads("Top services by outages", s.TopByOutages)
	loads("Top services by time in outage", s.TopByTime)

	line("## Flapping alerts")
	line()
	if len(s.Flapping) == 0 {
		line("None.")
	} else {
		rows = rows[:0]
		for i, f := range s.Flapping {
			rows = append(rows, []string{strconv.Itoa(i + 1), mdStrong(f.Name), mdText(f.Service), strconv.Itoa(f.Cycles)})
		}
		mdTable(&b, "rll", []string{"#", "Alert", "Service", "Firing episodes"}, rows)
	}
	line()

	line("## Noisiest sources")
	line()
	if len(s.Sources) == 0 {
		line("None.")
	} else {
		rows = rows[:0]
		for i, src := range s.Sources {
			rows = append(rows, []string{strconv.Itoa(i + 1), mdStrong(src.Source), strconv.Itoa(src.Alerts)})
		}
		mdTable(&b, "rl", []string{"#", "Source", "Alerts fired"}, rows)
	}
	return b.String()
}

// filterWords are the filters in force ("service **db**, shift 07:00"),
// each value passed through quote.
func (s *Stats) filterWords(quote func(string) string) string {
	var f []string
	if s.Service != "" {
		f = append(f, "service "+quote(s.Service))
	}
	if s.Team != "" {
		f = append(f, "team "+quote(s.Team))
	}
	if s.Shift != "" {
		f = append(f, "shift "+quote(s.Shift))
	}
	return strings.Join(f, ", ")
}

// totalsWords are the totals as sentences, text passed through esc.
func (s *Stats) totalsWords(esc func(string) string) []string {
	t := s.Totals
	var out []string
	sev := Plural(t.Outages, "outage", "outages") + " opened"
	if t.Outages > 0 {
		var parts []string
		for _, v := range statsSeverities {
			if n := t.BySeverity[v]; n > 0 {
				parts = append(parts, strconv.Itoa(n)+" "+v.Name())
			}
		}
		sev += ": " + strings.Join(parts, ", ")
	}
	out = append(out, sev)
	out = append(out, "Time to acknowledge: "+percentileWords(t.TTAP50, t.TTAP90, Plural(t.TTASamples, "outage", "outages")+" acked"))
	out = append(out, "Time to resolve: "+percentileWords(t.TTRP50, t.TTRP90, Plural(t.TTRSamples, "outage", "outages")+" resolved"))
	esc1 := Plural(t.EscalationTotal(), "escalation", "escalations")
	if len(t.Escalations) > 0 {
		var parts []string
		for _, l := range sortedLevels(t.Escalations) {
			parts = append(parts, "level "+esc(l)+": "+strconv.Itoa(t.Escalations[l]))
		}
		esc1 += " (" + strings.Join(parts, ", ") + ")"
	}
	out = append(out, esc1)
	out = append(out, Plural(t.AcksExpired, "ack", "acks")+" expired")
	if !s.HasTickets {
		out = append(out, "Tickets: no ticket source")
	} else {
		tickets := func(c TicketCounts) string {
			return Plural(c.Opened, "ticket", "tickets") + " opened, " + Plural(c.Closed, "ticket", "tickets") + " closed, " +
				Plural(c.Breached, "ticket", "tickets") + " past SLA"
		}
		tk := tickets(t.TicketTotals())
		var parts []string
		for _, tier := range sortedLevels(t.Tickets) {
			parts = append(parts, "tier "+esc(tier)+": "+tickets(t.Tickets[tier]))
		}
		if len(parts) > 1 {
			tk += " (" + strings.Join(parts, "; ") + ")"
		}
		out = append(out, tk)
	}
	out = append(out, Plural(t.Alerts, "alert", "alerts")+" fired")
	return out
}

// percentileWords are a median and p90 with how many samples they are
// of ("2 outages acked"), or "—" without any.
func percentileWords(p50, p90 *int64, samples string) string {
	if p50 == nil {
		return "— (" + samples + ")"
	}
	return "p50 " + optSecs(p50) + ", p90 " + optSecs(p90) + " (" + samples + ")"
}

// periodHeads are the column heads of a period's figures; periodCells
// its cells.
func (s *Stats) periodHeads() []string {
	h := []string{"Outages", "Crit", "Warn", "Info", "TTA p50", "TTA p90", "TTR p50", "TTR p90", "Escalations", "Acks expired"}
	if s.HasTickets {
		h = append(h, "Tickets opened", "Closed", "Past SLA")
	}
	return append(h, "Alerts")
}

func (s *Stats) periodCells(p StatsPeriod) []string {
	c := []string{strconv.Itoa(p.Outages), strconv.Itoa(p.BySeverity[SevCritical]), strconv.Itoa(p.BySeverity[SevWarning]),
		strconv.Itoa(p.BySeverity[SevInfo]), optSecs(p.TTAP50), optSecs(p.TTAP90), optSecs(p.TTRP50), optSecs(p.TTRP90),
		strconv.Itoa(p.EscalationTotal()), strconv.Itoa(p.AcksExpired)}
	if s.HasTickets {
		t := p.TicketTotals()
		c = append(c, strconv.Itoa(t.Opened), strconv.Itoa(t.Closed), strconv.Itoa(t.Breached))
	}
	return append(c, strconv.Itoa(p.Alerts))
}

// mdTable writes a Markdown table padded to its columns' widths, each
// column aligned as align says ('l' left, else right; columns past its
// end right): it renders as a table and reads as one in plain text.
// Cells must already be escaped.
func mdTable(b *strings.Builder, align string, head []string, rows [][]string) {
	left := func(i int) bool { return i < len(align) && align[i] == 'l' }
	width := make([]int, len(head))
	for i, h := range head {
		width[i] = max(3, utf8.RuneCountInString(h))
	}
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	row := func(cells []string) {
		b.WriteByte('|')
		for i, c := range cells {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if left(i) {
				b.WriteString(" " + c + pad + " |")
			} else {
				b.WriteString(" " + pad + c + " |")
			}
		}
		b.WriteByte('\n')
	}
	row(head)
	b.WriteByte('|')
	for i := range head {
		if left(i) {
			b.WriteString(" " + strings.Repeat("-", width[i]) + " |")
		} else {
			b.WriteString(" " + strings.Repeat("-", width[i]-1) + ": |")
		}
	}
	b.WriteByte('\n')
	for _, r := range rows {
		row(r)
	}
}
