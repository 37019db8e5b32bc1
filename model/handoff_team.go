package model

import "time"

// TeamHistory says, in team mode, whose history a History is and when
// this host could not reach the team store.
type TeamHistory struct {
	// Mode is set when a team store is configured.
	Mode bool
	// Unreachable is set when the team store could not be read: the
	// history is this host's own (its outages, source outages and the
	// actions its cache holds), not the team's. Error says why.
	Unreachable bool
	Error       string
	// CutOff are the stretches this host's console could not reach the
	// team store (its sync found it down, then back; To zero while still
	// cut off), those overlapping the history's span, oldest first.
	CutOff []CutOff
}

// CutOff is a stretch of time a host's console could not reach the team
// store: what it recorded then reached the team when it came back; the
// team's actions of that time reached it then.
type CutOff struct {
	From time.Time
	To   time.Time // zero: still cut off
}

// TeamUnreachableNote is what a report read from one host's history
// because the team store could not be reached says of itself.
const TeamUnreachableNote = "team store unreachable: this host's history only"

// HandoffTeam is what a team-mode report says of its history: whose it
// is (History "team", or "host" when the store could not be read, with
// Note saying so) and the stretches this host was cut off from the store
// within the window.
type HandoffTeam struct {
	History string          `json:"history"` // team or host
	Note    string          `json:"note"`
	Error   string          `json:"error"`
	CutOff  []HandoffCutOff `json:"cut_off"`
}

// HandoffCutOff is a stretch this host could not reach the team store
// overlapping the window; To is nil while it still could not.
type HandoffCutOff struct {
	From time.Time  `json:"from"`
	To   *time.Time `json:"to"`
	// Seconds is the time cut off within the window.
	Seconds int64 `json:"seconds"`
}

// handoffTeam is the report's team section for w, nil outside team mode.
func handoffTeam(t TeamHistory, w Window) *HandoffTeam {
	if !t.Mode {
		return nil
	}
	ht := &HandoffTeam{History: "team", CutOff: []HandoffCutOff{}}
	if t.Unreachable {
		ht.History, ht.Note, ht.Error = "host", TeamUnreachableNote, t.Error
	}
	for _, c := range t.CutOff {
		if !overlaps(c.From, c.To, w) {
			continue
		}
		hc := HandoffCutOff{From: c.From.UTC()}
		end := w.To
		if !c.To.IsZero() && c.To.Before(w.To) {
			to := c.To.UTC()
			hc.To, end = &to, c.To
		}
		start := c.From
		if start.Before(w.From) {
			start = w.From
		}
		hc.Seconds = secs(end.Sub(start))
		ht.CutOff = append(ht.CutOff, hc)
	}
	return ht
}
