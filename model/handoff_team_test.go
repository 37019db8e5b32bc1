package model

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A team-mode report says whose history it read, lists the stretches this
// host was cut off from the team store within the shift, and which hosts
// saw each outage and each source down; outside team mode it says nothing
// of a team.
func TestHandoffTeamSection(t *testing.T) {
	from := time.Date(2026, 12, 7, 7, 0, 0, 0, time.UTC)
	w := Window{Label: "day", From: from, To: from.Add(8 * time.Hour)}
	opt := HandoffOptions{Window: w, Previous: Window{From: from.Add(-8 * time.Hour), To: from},
		Next: Window{From: w.To, To: w.To.Add(8 * time.Hour)}}
	h := &History{From: opt.Previous.From, To: w.To,
		Outages: []OutageRecord{{Service: "checkout", Severity: SevCritical, Opened: from.Add(time.Hour), FirstSeen: from.Add(time.Hour),
			Closed: from.Add(2 * time.Hour), Alerts: 2, Hosts: []string{"noc-a", "noc-b"}}},
		SourceOutages: []SourceOutage{{Source: "prom-b", Down: from.Add(3 * time.Hour), Up: from.Add(4 * time.Hour), Error: "refused", Host: "noc-b"}},
	}
	r := BuildHandoff(h, opt)
	assert.Nil(t, r.Team, "no team store, no team section")
	js, err := r.JSON()
	require.NoError(t, err)
	assert.NotContains(t, string(js), `"team"`)

	h.Team = TeamHistory{Mode: true, CutOff: []CutOff{
		{From: from.Add(-2 * time.Hour), To: from.Add(-time.Hour)},          // before the shift
		{From: from.Add(-30 * time.Minute), To: from.Add(30 * time.Minute)}, // across its start
		{From: from.Add(7 * time.Hour)},                                     // still cut off
	}}
	r = BuildHandoff(h, opt)
	require.NotNil(t, r.Team)
	assert.Equal(t, "team", r.Team.History)
	require.Len(t, r.Team.CutOff, 2, "those in the shift")
	assert.EqualValues(t, 30*60, r.Team.CutOff[0].Seconds, "within the shift")
	require.NotNil(t, r.Team.CutOff[0].To)
	assert.Nil(t, r.Team.CutOff[1].To)
	assert.EqualValues(t, 3600, r.Team.CutOff[1].Seconds)
	md := r.Markdown()
	assert.Contains(t, md, "History: the team's")
	assert.Contains(t, md, "this host cut off from the team store Mon 07 Dec 06:30, back Mon 07 Dec 07:30 (30m in this shift)")
	assert.Contains(t, md, "still cut off")
	assert.Contains(t, md, "seen by noc-a, noc-b")
	assert.Contains(t, md, "**prom-b** from noc-b down")
	assert.Equal(t, []string{"noc-a", "noc-b"}, r.Outages[0].Hosts)
	assert.Equal(t, "noc-b", r.SourceOutages[0].Host)

	h.Team.Unreachable, h.Team.Error = true, "connection refused"
	r = BuildHandoff(h, opt)
	assert.Equal(t, "host", r.Team.History)
	assert.Equal(t, TeamUnreachableNote, r.Team.Note)
	md = r.Markdown()
	assert.Contains(t, md, "**team store unreachable: this host's history only**: connection refused")
	assert.False(t, strings.Contains(md, "History: the team's"))
}
