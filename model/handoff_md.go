package model

import (
	"strconv"
	"strings"
	"time"
)

// Markdown renders the report as Markdown that reads cleanly as plain text
// in a terminal and renders in a ticket: headings, bullet lists and one
// small table. Text from upstreams and operators is escaped so it can
// neither format the report nor reach the terminal as control sequences.
func (r *Handoff) Markdown() string {
	var b strings.Builder
	loc := r.loc
	if loc == nil {
		loc = time.UTC
	}
	tm := func(t time.Time) string { return t.In(loc).Format("Mon 02 Jan 15:04") }
	hm := func(t time.Time) string { return t.In(loc).Format("15:04") }
	line := func(parts ...string) { b.WriteString(strings.Join(parts, "")); b.WriteByte('\n') }

	line("# Shift handoff: ", mdText(r.Window.Label))
	line()
	line("Window: ", tm(r.Window.From), " – ", tm(r.Window.To), " (", mdText(r.Zone), ")  ")
	line("Previous: ", tm(r.Previous.From), " – ", tm(r.Previous.To))
	if t := r.Team; t != nil {
		line()
		if t.Note != "" {
			line("**", mdText(t.Note), "**", errSuffix(t.Error))
		} else {
			line("History: the team's (every host's view)")
		}
		for _, c := range t.CutOff {
			to := "still cut off"
			if c.To != nil {
				to = "back " + tm(*c.To)
			}
			line("- this host cut off from the team store ", tm(c.From), ", ", to, " (", FormatSeconds(c.Seconds), " in this shift)")
		}
	}
	line()

	line("## Outages")
	line()
	if len(r.Outages) == 0 {
		line("None.")
	}
	for _, o := range r.Outages {
		state := "still open"
		if o.Closed != nil {
			state = "resolved " + tm(*o.Closed)
			if o.Provisional {
				state += " (provisional: within the anti-flap grace)"
			}
		}
		carried := ""
		if !o.OpenedInWindow {
			carried = ", carried over"
		}
		line("- ", mdStrong(o.Service), " — ", o.Severity, ", opened ", tm(o.Opened), carried, ", ", state,
			", ", FormatSeconds(o.DurationSeconds), " · ", Plural(o.Alerts, "alert", "alerts"))
		if len(o.Hosts) > 0 {
			line("  - seen by ", mdText(strings.Join(o.Hosts, ", ")))
		}
		if o.SeenLateSeconds != nil {
			line("  - began ", FormatSeconds(*o.SeenLateSeconds), " before this console saw it (first seen ", tm(o.FirstSeen), ")")
		}
		switch {
		case o.FirstAck != nil:
			line("  - first ack: ", mdText(o.FirstAck.By), " at ", hm(o.FirstAck.At), " (TTA ", FormatSeconds(*o.TTASeconds), ")",
				quoted(o.FirstAck.Comment))
		case o.Acknowledged:
			line("  - acknowledged upstream: silenced")
		default:
			line("  - not acknowledged")
		}
		for _, s := range o.Silences {
			line("  - silenced upstream by ", mdText(s.By), " from ", tm(s.Starts), " until ", tm(s.Ends), " (", mdText(s.Source),
				" silence ", mdText(shortID(s.ID)), ")", quoted(s.Comment))
		}
		for _, a := range o.AcksEnded {
			line("  - ", hm(a.At), " ", mdText(a.Comment))
		}
		if o.FirstAck != nil && o.StillOpen && !o.Acknowledged {
			line("  - not acknowledged now")
		}
		for _, e := range o.Escalations {
			who := ""
			if e.Who != "" {
				who = " (" + mdText(e.Who) + ")"
			}
			line("  - escalated to level ", strconv.Itoa(e.Level), who, " by ", mdText(e.By), " at ", hm(e.At), quoted(e.Comment))
		}
		if o.TTRSeconds != nil {
			line("  - TTR ", FormatSeconds(*o.TTRSeconds))
		}
	}
	line()

	line("## Time to acknowledge and resolve")
	line()
	line("| | this shift | previous shift |")
	line("|---|---|---|")
	row := func(name string, a, p string) { line("| ", name, " | ", a, " | ", p, " |") }
	row("outages opened", strconv.Itoa(r.Stats.Opened), strconv.Itoa(r.PreviousStats.Opened))
	row("outages resolved", strconv.Itoa(r.Stats.Closed), strconv.Itoa(r.PreviousStats.Closed))
	row("still open at end", strconv.Itoa(r.Stats.StillOpen), strconv.Itoa(r.PreviousStats.StillOpen))
	row("TTA p50", optSecs(r.Stats.TTAP50), optSecs(r.PreviousStats.TTAP50))
	row("TTA p90", optSecs(r.Stats.TTAP90), optSecs(r.PreviousStats.TTAP90))
	row("TTR p50", optSecs(r.Stats.TTRP50), optSecs(r.PreviousStats.TTRP50))
	row("TTR p90", optSecs(r.Stats.TTRP90), optSecs(r.PreviousStats.TTRP90))
	line()

	line("## By operator")
	line()
	if len(r.Operators) == 0 {
		line("No actions.")
	}
	for _, o := range r.Operators {
		line("- ", mdText(o.Operator), ": ", Plural(o.Acks, "ack", "acks"), ", ", Plural(o.Unacks, "un-ack", "un-acks"), ", ",
			Plural(o.Escalations, "escalation", "escalations"), ", ",
			Plural(o.TicketEscalations, "ticket escalation", "ticket escalations"), ", ", Plural(o.Takes, "take", "takes"), ", ",
			Plural(o.Notes, "note", "notes"), ", ", Plural(o.Notifications, "notification", "notifications"), ", ",
			strconv.Itoa(o.Refused), " refused")
	}
	line()

	actions := func(title string, list []HandoffAction, none string) {
		line("## ", title)
		line()
		if len(list) == 0 {
			line(none)
		}
		for _, a := range list {
			why := ""
			if a.Reason != "" {
				why = ": " + mdText(a.Reason)
			}
			line("- ", tm(a.At), " ", mdText(a.Operator), " ", mdText(a.Verb), " ", mdText(a.Target), " — ", mdText(a.State), why)
		}
		line()
	}
	actions("Refused actions", r.Refused, "None.")
	actions("Actions not yet delivered", r.Unfinished, "None: every action reached its upstreams.")

	line("## Ticket backlog")
	line()
	if !r.Backlog.Known {
		line("Not recorded: no ticket source was sampled in this window.")
	}
	for _, t := range r.Backlog.Tiers {
		start := counts(t.Start)
		if t.Start == nil && t.KnownFrom != nil {
			start = "not known before " + tm(*t.KnownFrom)
		}
		line("- ", mdText(t.Source), " ", mdText(t.Tier), ": start ", start, "; end ", counts(t.End))
	}
	line()
	if len(r.Backlog.Escalated) == 0 {
		line("Tickets escalated to Tier 2 through sitroom: none.")
	} else {
		line("Tickets escalated to Tier 2 through sitroom:")
		line()
		for _, a := range r.Backlog.Escalated {
			line("- ", tm(a.At), " ", mdText(a.Operator), " ", mdText(a.Target), " — ", mdText(a.State))
		}
	}
	line()

	line("## Sources down")
	line()
	if len(r.SourceOutages) == 0 {
		line("None.")
	}
	for _, s := range r.SourceOutages {
		up := "still down"
		if s.Up != nil {
			up = "up " + tm(*s.Up)
		}
		from := ""
		if s.Host != "" {
			from = " from " + mdText(s.Host)
		}
		line("- ", mdStrong(s.Source), from, " down ", tm(s.Down), ", ", up, " (", FormatSeconds(s.DurationSeconds), " in this shift): ", mdText(s.Error))
	}
	line()

	line("## Alerting pipeline")
	line()
	if len(r.Pipeline) == 0 {
		line("No degradation of the alerting pipeline in this shift.")
	}
	for _, p := range r.Pipeline {
		end := "still degraded"
		if p.Ended != nil {
			end = "ended " + tm(*p.Ended)
		}
		line("- ", mdStrong(p.Source), " ", mdText(p.What), ": began ", tm(p.Began), ", ", end, " (",
			FormatSeconds(p.Seconds), " in this shift, ", FormatSeconds(p.TotalSeconds), " in all)", quoted(p.Text))
	}
	line()

	line("## Silences expiring next shift")
	line()
	if len(r.ExpiringSilences) == 0 {
		line("None.")
	}
	for _, a := range r.ExpiringSilences {
		if a.External {
			line("- ", mdStrong(a.Service), " silenced upstream by ", mdText(a.By), " since ", tm(a.At), ", expires ", tm(a.Until),
				" (", mdText(a.Source), " silence ", mdText(shortID(a.SilenceID)), ")", quoted(a.Comment))
			continue
		}
		line("- ", mdStrong(a.Service), " acked by ", mdText(a.By), " at ", tm(a.At), ", expires ", tm(a.Until),
			" (", Plural(a.Silences, "silence", "silences"), ")", quoted(a.Comment))
	}
	line()

	line("## Notifications")
	line()
	if len(r.Notifications) == 0 {
		line("None: no team was told of an outage, and none had to be.")
	}
	for _, n := range r.Notifications {
		line("- ", mdStrong(n.Service), " (opened ", tm(n.Opened), ")")
		for _, t := range n.Told {
			line("  - ", hm(t.At), " ", mdText(t.By), " told ", mdStrong(t.Team), " (", mdText(t.Kind), ") through ", toldVia(t))
		}
		if len(n.NeverTold) > 0 {
			never := make([]string, len(n.NeverTold))
			for i, t := range n.NeverTold {
				never[i] = mdStrong(t)
			}
			line("  - never told: ", strings.Join(never, ", "))
		}
	}
	line()

	line("## Notes")
	line()
	if len(r.Notes) == 0 {
		line("None.")
	}
	for _, n := range r.Notes {
		on := "shift"
		if n.Service != "" {
			on = mdText(n.Service)
		}
		line("- ", tm(n.At), " ", mdText(n.By), " on ", on, ": ", mdText(n.Text))
	}
	return b.String()
}

// TimelineMarkdown renders the timeline as a Markdown list, one event a line.
func (r *Handoff) TimelineMarkdown() string {
	var b strings.Builder
	loc := r.loc
	if loc == nil {
		loc = time.UTC
	}
	b.WriteString("## Timeline\n\n")
	if len(r.Timeline) == 0 {
		b.WriteString("Nothing happened.\n")
	}
	for _, e := range r.Timeline {
		b.WriteString("- " + e.At.In(loc).Format("15:04:05") + " " + mdText(EventWords(e.Kind)) + " " + mdText(e.Subject))
		if e.By != "" {
			b.WriteString(" by " + mdText(e.By))
		}
		if e.Detail != "" {
			b.WriteString(" — " + mdText(e.Detail))
		}
		b.WriteByte('\n')
	}
	if r.TimelineCut > 0 {
		b.WriteString("- … " + Plural(r.TimelineCut, "later event", "later events") + " left off\n")
	}
	return b.String()
}

// EventWords names a timeline event kind for people; a kind it does not
// know is returned as it is (untrusted: it comes from the cache).
func EventWords(kind string) string {
	switch kind {
	case EventAlertFired:
		return "alert fired"
	case EventAlertResolved:
		return "alert resolved"
	case EventOutageOpened:
		return "outage opened"
	case EventAcked:
		return "acked"
	case EventUnacked:
		return "un-acked"
	case EventAckEnded:
		return "ack ended upstream on"
	case EventEscalated:
		return "escalated"
	case EventTicketEscalated:
		return "escalated to Tier 2:"
	case EventTicketTaken:
		return "taken:"
	case EventNote:
		return "note on"
	case EventOutageClosed:
		return "outage resolved"
	case EventSourceDown:
		return "source down"
	case EventSourceUp:
		return "source up"
	}
	return kind
}

// shortID is the first 8 characters of a silence id, as amtool's
// operators recognise them.
func shortID(id string) string {
	if r := []rune(id); len(r) > 8 {
		return string(r[:8])
	}
	return id
}

func counts(c *BacklogCounts) string {
	if c == nil {
		return "—"
	}
	return strconv.Itoa(c.Open) + " open, " + strconv.Itoa(c.Unassigned) + " unassigned, " + strconv.Itoa(c.Breached) + " SLA breached"
}

func optSecs(v *int64) string {
	if v == nil {
		return "—"
	}
	return FormatSeconds(*v)
}

func quoted(s string) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	return ": “" + mdText(s) + "”"
}

// mdStrong is untrusted text in bold; blank text is shown as "—" ("****"
// is not bold).
func mdStrong(s string) string {
	t := mdText(s)
	if t == "" {
		t = "—"
	}
	return "**" + t + "**"
}

// mdText makes untrusted text safe to place in Markdown printed to a
// terminal: control characters (escape sequences, newlines), bidi
// overrides and invalid UTF-8 become spaces or U+FFFD, Markdown
// punctuation and "&" (an entity such as &rlm; renders as a bidi mark)
// are backslash-escaped, and very long text is cut. White space
// at its ends is dropped: after a list marker it would turn the item into
// a code block, and inside ** it stops the text being bold ("** x**" is
// literal asterisks); a leading "-", "+", "1." or "1)" is escaped, as it
// would start a list inside the list item the text begins.
func mdText(s string) string {
	t := strings.TrimSpace(inertRunes(s, "\\`*_[]<>|#~&"))
	// Where the text starts a list item's content, a leading "-", "+" or
	// "1." / "1)" would start a list inside it.
	if t != "" && (t[0] == '-' || t[0] == '+') {
		return `\` + t
	}
	if n := len(t) - len(strings.TrimLeft(t, "0123456789")); n > 0 && n < len(t) && (t[n] == '.' || t[n] == ')') {
		return t[:n] + `\` + t[n:]
	}
	return t
}

// toldVia is a message's channels and what became of it: "slack, email —
// delivered" when every channel fared alike, else each channel's state
// ("slack delivered, email pending: HTTP 500 … — pending").
func toldVia(t HandoffTold) string {
	same := true
	for _, c := range t.Channels {
		same = same && c.State == t.Channels[0].State
	}
	via := make([]string, len(t.Channels))
	failure := ""
	for i, c := range t.Channels {
		via[i] = mdText(c.Type)
		if !same {
			via[i] += " " + mdText(c.State) + errSuffix(c.Error)
		} else if c.Error != "" {
			failure = c.Error
		}
	}
	return strings.Join(via, ", ") + " — " + mdText(t.State) + errSuffix(failure)
}

// errSuffix is ": err" in Markdown, or nothing.
func errSuffix(err string) string {
	if err == "" {
		return ""
	}
	return ": " + mdText(err)
}
