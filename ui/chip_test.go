package ui

import (
	"testing"
	"time"

	"sitroom/model"
)

func TestChipSaysThrottledNotDown(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		st   model.SourceStatus
		want string
	}{
		{model.SourceStatus{Name: "aws-eu", LastAttempt: now, LastSuccess: now.Add(-3 * time.Minute), LastError: "throttled by AWS (Throttling); backing off"}, "aws-eu throttled · last good 3m ago"},
		{model.SourceStatus{Name: "aws-eu", LastAttempt: now, LastSuccess: now, Note: "throttled by AWS twice; data is current"}, "aws-eu throttled · last good 0s ago"},
		{model.SourceStatus{Name: "am", LastAttempt: now, LastSuccess: now.Add(-time.Minute), LastError: "connection refused"}, "am down · last good 1m ago"},
		{model.SourceStatus{Name: "am", LastAttempt: now, LastSuccess: now.Add(-5 * time.Second)}, "am ok 5s"},
		{model.SourceStatus{Name: "rt-noc", LastAttempt: now, LastSuccess: now.Add(-4 * time.Second), Latency: 3140 * time.Millisecond}, "rt-noc ok 4s · took 3.1s"},
		{model.SourceStatus{Name: "rt-noc", LastAttempt: now, LastSuccess: now, Latency: 75 * time.Second}, "rt-noc ok 0s · took 1m"},
		{model.SourceStatus{Name: "am", LastAttempt: now, LastSuccess: now, Latency: 900 * time.Millisecond}, "am ok 0s"},
	}
	for _, c := range cases {
		if got := chip(now, &c.st); got != c.want {
			t.Errorf("chip = %q, want %q", got, c.want)
		}
	}
	th := DefaultTheme(false)
	if th.health(model.HealthThrottled) == th.health(model.HealthDown) {
		t.Error("a throttled chip must not look like a down one")
	}
}

// The team store's chip says whether this console reaches the team's
// shared state, how long ago it last did, and how much waits for it.
func TestTeamChipWords(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		st   model.TeamState
		want string
		h    model.SourceHealth
	}{
		{model.TeamState{Configured: true, OK: true, LastSync: now.Add(-time.Second)}, "team ok", model.HealthOK},
		{model.TeamState{Configured: true}, "team connecting…", model.HealthUnknown},
		{model.TeamState{Configured: true, Since: now.Add(-2 * time.Minute), LastSync: now.Add(-2 * time.Minute), Error: "connection refused"},
			"team down · last sync 2m ago", model.HealthDown},
		{model.TeamState{Configured: true, Since: now, Error: "password authentication failed", Unsynced: 1},
			"team down · never synced · 1 to sync", model.HealthDown},
		{model.TeamState{Configured: true, Since: now.Add(-time.Hour), LastSync: now.Add(-75 * time.Minute), Error: "timeout", Unsynced: 3},
			"team down · last sync 1h15m ago · 3 to sync", model.HealthDown},
	}
	for _, c := range cases {
		got, h := teamChip(now, c.st)
		if got != c.want || h != c.h {
			t.Errorf("teamChip(%+v) = %q, %s; want %q, %s", c.st, got, h, c.want, c.h)
		}
	}
}
