package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
)

// TeamChannels is what an Actor that can notify teams also offers: each
// configured team's channel types in config order ("slack", "email").
// An Actor without it has no team to notify.
type TeamChannels interface {
	TeamChannels() map[string][]string
}

// teamChannels is the team → channel types of the actor, nil without any.
func (st *state) teamChannels() map[string][]string {
	if tc, ok := st.actor.(TeamChannels); ok {
		return tc.TeamChannels()
	}
	return nil
}

// notifyOutage is the outage N acts on: the selected outage, or on the
// alerts panel the outage of the selected alert's service.
func (st *state) notifyOutage() *model.Outage {
	if st.snap == nil {
		return nil
	}
	svc, _, _ := st.actionTarget()
	return st.snap.Outage(svc)
}

// teamsToTell lists the teams an outage affects, each once, nearest
// first: its own team, the owners of its downstream services, the owner
// of its probable cause.
func (st *state) teamsToTell(o *model.Outage) []string {
	teams := model.TeamsToTell(o, nil)
	if o != nil && o.ProbableCause != "" && st.snap != nil {
		if c := st.snap.Outage(o.ProbableCause); c != nil && c.Owner != "" {
			seen := false
			for _, t := range teams {
				seen = seen || t == c.Owner
			}
			if !seen {
				teams = append(teams, c.Owner)
			}
		}
	}
	return teams
}

// notifiable is the teams of o that have a channel: those N tells and
// UNTOLD counts.
func (st *state) notifiable(o *model.Outage, chans map[string][]string) []string {
	var out []string
	for _, t := range st.teamsToTell(o) {
		if len(chans[t]) > 0 {
			out = append(out, t)
		}
	}
	return out
}

func (st *state) notifyDisabled() string {
	if why := st.actDisabled(); why != "" {
		return why
	}
	if st.notifyOutage() == nil {
		return "select an outage"
	}
	return ""
}

// noticeText says what a team was told about an outage open since since:
// "told 12m ago by alice · slack, email", "pending", "failed: HTTP 403 …"
// or "not told"; the words are inert.
func (st *state) noticeText(n *model.Notice, since time.Time, withChannels bool) (string, tcell.Style) {
	th := &st.theme
	switch {
	case n == nil:
		return "not told", th.Warn
	case n.State == model.ActionFailed:
		return "failed: " + cellText(model.OneLine(n.Error, 120)), th.Crit
	case n.State == model.ActionPending && !n.Told(since):
		return "pending", th.Warn
	case !n.Told(since):
		return "not told", th.Warn
	}
	what := "told"
	if n.Kind == model.NotifyResolved {
		what = "told resolved"
	}
	// Said to the minute: the panel is drawn again once a minute.
	ago := "just now"
	if d := st.now().Sub(n.At); d >= time.Minute {
		ago = compactDuration(d.Truncate(time.Minute)) + " ago"
	}
	t := fmt.Sprintf("%s %s by %s", what, ago, cellText(n.By))
	if withChannels && len(n.Channels) > 0 {
		t += " · " + inertJoin(n.Channels)
	}
	if n.State == model.ActionPending {
		t += " (update pending)"
	}
	return t, th.OK
}

// notifyDraft is the message the form starts with: the outage in one
// paragraph, for the operator to edit.
func (st *state) notifyDraft(o *model.Outage, m *model.NotifyMessage) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s is down since %s UTC.", o.Severity.String(), o.Service, o.Since.UTC().Format("15:04"))
	if m.Cause != "" {
		fmt.Fprintf(&b, " Probable cause: %s.", m.Cause)
	}
	if len(m.Impacted) > 0 {
		fmt.Fprintf(&b, " Impacted: %s.", strings.Join(m.Impacted, ", "))
	}
	if m.Acked != "" {
		fmt.Fprintf(&b, " Acknowledged: %s.", m.Acked)
	} else {
		b.WriteString(" Not acknowledged.")
	}
	fmt.Fprintf(&b, " Escalation level %d", m.Level)
	if m.Who != "" {
		fmt.Fprintf(&b, " (%s)", m.Who)
	}
	b.WriteString(".")
	if m.Runbook != "" {
		fmt.Fprintf(&b, " Runbook: %s", m.Runbook)
	}
	return model.OneLine(b.String(), 1500)
}

// notifyMessage is the outage's context as the channels carry it.
func (st *state) notifyMessage(o *model.Outage) *model.NotifyMessage {
	now := st.now()
	m := &model.NotifyMessage{Service: o.Service, Severity: o.Severity.Name(), Since: o.Since, Cause: o.ProbableCause,
		Runbook: o.Runbook}
	if o.Impact != nil {
		for _, n := range o.Impact.Downstream {
			m.Impacted = append(m.Impacted, n.Service)
		}
	}
	if a := st.board.AckOf(o.Service); a != nil {
		m.Acked = fmt.Sprintf("acked by %s %s ago", a.By, compactDuration(now.Sub(a.At)))
		if a.Comment != "" {
			m.Acked += ": " + a.Comment
		}
	}
	m.Level = st.board.LevelOf(o.Service)
	if st.actor != nil {
		if l := st.actor.Policy().Level(m.Level); l != nil {
			m.Who = l.Who
		}
	}
	m.Text = st.notifyDraft(o, m)
	return m
}

// startNotify opens the notify form: the teams the outage affects with
// their channels and whether they were told, and the message, prefilled
// and editable; Enter reviews, Enter again sends through the outbox.
func (st *state) startNotify() {
	o := st.notifyOutage()
	if o == nil {
		st.setFlash(st.keyOf("notify") + ": select an outage")
		return
	}
	chans := st.teamChannels()
	all := st.teamsToTell(o)
	teams := st.notifiable(o, chans)
	req := model.ActionRequest{Verb: model.VerbNotify, Service: o.Service, Teams: teams, Notify: &model.NotifyMessage{}}
	if st.refused(st.keyOf("notify"), req) {
		return
	}
	if len(teams) == 0 {
		switch {
		case len(all) == 0:
			st.setFlash(fmt.Sprintf("%s: no team owns %s or what it impacts", st.keyOf("notify"), cellText(o.Service)))
		default:
			st.setFlash(fmt.Sprintf("%s: no notify channel configured for %s", st.keyOf("notify"), inertJoin(all)))
		}
		return
	}
	m := st.notifyMessage(o)
	req.Notify = m
	told, channels := 0, 0
	var lines []string
	for _, t := range all {
		c := chans[t]
		channels += len(c)
		if len(c) == 0 {
			lines = append(lines, fmt.Sprintf("%s · no channel: not told", t))
			continue
		}
		n := st.board.NoticeOf(o.Service, t)
		if n.Told(o.Since) {
			told++
		}
		state, _ := st.noticeText(n, o.Since, false)
		lines = append(lines, fmt.Sprintf("%s · %s · %s", t, strings.Join(c, ", "), state))
	}
	title := "Notify the teams of " + o.Service
	if told > 0 {
		title = "Update the teams on " + o.Service
	}
	lines = append(lines, fmt.Sprintf("Sends %s to %s through the outbox: retried until delivered, each once.",
		model.Plural(channels, "message", "messages"), model.Plural(len(teams), "team", "teams")))
	f := &form{req: req, title: title, fields: []formField{{label: "Message", value: m.Text}}}
	// The message whole, as typed: the field shows only its end.
	f.live = func() []string { return append(append([]string(nil), lines...), "As sent: "+f.fields[0].value) }
	st.openForm(f)
}

// untoldText is the UNTOLD mark of an outage some team of which was not
// told within the policy's notify_after, or "".
func (st *state) untoldText(o *model.Outage) string {
	if st.actor == nil {
		return ""
	}
	after := st.actor.Policy().NotifyAfter
	if after <= 0 {
		return ""
	}
	chans := st.teamChannels()
	if len(chans) == 0 {
		return ""
	}
	if len(model.Untold(o, st.board, st.notifiable(o, chans), after, st.now())) == 0 {
		return ""
	}
	return "UNTOLD"
}

func (st *state) nextUntoldDisabled() string {
	switch {
	case st.actor == nil:
		return "no action log in this console: notifications are not known"
	case st.actor.Policy().NotifyAfter <= 0:
		return "notify_after is not set: no outage is UNTOLD"
	}
	return ""
}

// nextUntold selects the next outage marked UNTOLD: some team it affects
// was not told within notify_after.
func (st *state) nextUntold() {
	st.focus = PanelOutages
	outs := st.v.outs
	i, nth, total := jumpFrom(st.outT.selected, len(outs), func(i int) bool { return st.untoldText(outs[i]) != "" })
	if i >= 0 {
		st.outT.selected = i
		st.setFlash(fmt.Sprintf("UNTOLD outage %d of %d", nth, total))
		return
	}
	msg := "no UNTOLD outage"
	if st.filter.active() {
		msg += " matches the filter"
	}
	st.setFlash(msg)
}

// noticeRows are the Notify section's state rows of the dependencies
// panel: per team to tell, what it was told.
func (st *state) noticeSeg(o *model.Outage, team string, chans map[string][]string) seg {
	if len(chans[team]) == 0 {
		if chans == nil {
			return seg{}
		}
		return seg{"no channel", st.theme.Dim}
	}
	t, style := st.noticeText(st.board.NoticeOf(o.Service, team), o.Since, true)
	return seg{t, style}
}
