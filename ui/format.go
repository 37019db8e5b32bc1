package ui

import (
	"fmt"
	"strings"
	"time"

	"sitroom/model"
)

// compactDuration renders d as 45s, 12m, 3h05m or 2d4h. Negative
// durations (clock skew) render as 0s.
func compactDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%dd%dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
}

// since renders the age of t at now, or "—" for a zero time.
func since(now, t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return compactDuration(now.Sub(t))
}

// stateText is the upper-case state shown on screen.
func stateText(s model.State) string {
	switch s {
	case model.StateFiring:
		return "FIRING"
	case model.StatePending:
		return "PENDING"
	case model.StateSuppressed:
		return "SILENCED"
	}
	if s == model.StateNone {
		return "—"
	}
	return strings.ToUpper(cellText(s.String()))
}

// staleText is the stale marker of a row, or "".
func staleText(now time.Time, stale bool, since time.Time) string {
	if !stale {
		return ""
	}
	if since.IsZero() {
		return "STALE"
	}
	return "STALE " + compactDuration(now.Sub(since))
}

// chip is the text of a source's header chip.
func chip(now time.Time, st *model.SourceStatus) string {
	name := cellText(st.Name)
	switch st.Health() {
	case model.HealthOK:
		return name + " ok " + compactDuration(now.Sub(st.LastSuccess)) + slowPoll(st.Latency)
	case model.HealthDegraded:
		why := st.Note
		if r := st.PipelineReason(now); r != "" {
			if why != "" {
				why += "; "
			}
			why += r
		}
		return name + " degraded: " + cellText(why)
	case model.HealthDown, model.HealthThrottled:
		word := " down"
		if st.Health() == model.HealthThrottled {
			word = " throttled"
		}
		if st.LastSuccess.IsZero() {
			return name + word + " · never ok"
		}
		return name + word + " · last good " + compactDuration(now.Sub(st.LastSuccess)) + " ago"
	}
	return name + " polling…"
}

// teamChip is the text of the team store's header chip and the health it
// is drawn in: "team ok"; "team connecting…" before the first answer;
// "team down · last sync 2m ago" (or "· never synced") once it failed,
// with "· 3 to sync" while this console's changes wait for the store.
func teamChip(now time.Time, t model.TeamState) (string, model.SourceHealth) {
	switch {
	case t.OK:
		return "team ok", model.HealthOK
	case t.Error == "" && t.LastSync.IsZero() && t.Since.IsZero():
		return "team connecting…", model.HealthUnknown
	}
	text := "team down · never synced"
	if !t.LastSync.IsZero() {
		text = "team down · last sync " + compactDuration(now.Sub(t.LastSync)) + " ago"
	}
	if t.Unsynced > 0 {
		text += fmt.Sprintf(" · %d to sync", t.Unsynced)
	}
	return text, model.HealthDown
}

// slowPoll is what an ok chip adds for a poll that took a second or
// more: " · took 3.1s". A slow source that answers within its timeout is
// ok; this says how slow.
func slowPoll(d time.Duration) string {
	switch {
	case d < time.Second:
		return ""
	case d < 10*time.Second:
		return fmt.Sprintf(" · took %.1fs", d.Seconds())
	}
	return " · took " + compactDuration(d)
}

// healthRank orders chips so the ones that need attention come first.
func healthRank(h model.SourceHealth) int {
	switch h {
	case model.HealthDown:
		return 0
	case model.HealthDegraded, model.HealthThrottled:
		return 1
	case model.HealthUnknown:
		return 2
	}
	return 3
}

// utc renders an absolute time for the detail view.
func utc(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// clock renders an absolute time as its UTC time of day when it falls on
// now's UTC day ("09:48:00 UTC"), else as utc does.
func clock(now, t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	ny, nm, nd := now.UTC().Date()
	if y, m, d := t.UTC().Date(); y == ny && m == nm && d == nd {
		return t.UTC().Format("15:04:05 UTC")
	}
	return utc(t)
}
