package model

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A handoff over a window that began before the first backlog sample
// says from when the backlog is known instead of presenting a later
// sample as the start; with a sample at or before the start, that one is
// the start.
func TestHandoffBacklogStartNotKnownBeforeFirstSample(t *testing.T) {
	from := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	w := Window{Label: "late shift", From: from, To: from.Add(8 * time.Hour)}
	first := from.Add(7*time.Hour + 54*time.Minute) // the console started at 22:54
	h := &History{From: from, To: w.To, Backlog: []BacklogSample{
		{At: first, Source: "rt-noc", Tier: "T1", Open: 17, Unassigned: 11, Breached: 3},
		{At: first.Add(5 * time.Minute), Source: "rt-noc", Tier: "T1", Open: 16, Unassigned: 10, Breached: 3},
		{At: from.Add(-time.Hour), Source: "rt-noc", Tier: "T2", Open: 4, Unassigned: 1, Breached: 0},
		{At: from.Add(time.Hour), Source: "rt-noc", Tier: "T2", Open: 5, Unassigned: 2, Breached: 1},
	}}
	r := BuildHandoff(h, HandoffOptions{Window: w})
	require.Len(t, r.Backlog.Tiers, 2)
	t1, t2 := r.Backlog.Tiers[0], r.Backlog.Tiers[1]
	assert.Nil(t, t1.Start, "no sample at or before the window's start")
	require.NotNil(t, t1.KnownFrom)
	assert.Equal(t, first, *t1.KnownFrom)
	assert.Equal(t, 16, t1.End.Open)
	require.NotNil(t, t2.Start)
	assert.Equal(t, 4, t2.Start.Open, "the last sample before the start")
	assert.Nil(t, t2.KnownFrom)

	md := r.Markdown()
	assert.Contains(t, md, "- rt-noc T1: start not known before Mon 02 Mar 22:54; end 16 open, 10 unassigned, 3 SLA breached")
	assert.Contains(t, md, "- rt-noc T2: start 4 open, 1 unassigned, 0 SLA breached; end 5 open")
	assert.NotContains(t, md, "start 17 open")
	js, err := json.Marshal(r)
	require.NoError(t, err)
	assert.Contains(t, string(js), `"known_from":"2026-03-02T22:54:00Z"`)
}

// Ticket escalations and takes count in the operator lines and appear in
// the timeline, delivered, failed or refused.
func TestHandoffCountsTicketEscalationsAndTakes(t *testing.T) {
	from := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	w := Window{Label: "late shift", From: from, To: from.Add(8 * time.Hour)}
	var audit []AuditEntry
	for i := range 5 {
		audit = append(audit, AuditEntry{ID: int64(i + 1), At: from.Add(time.Duration(i+1) * time.Minute), Operator: "alice",
			Verb: VerbTicketEscalate, Target: "ticket rt-noc #" + itoa(100+i), State: ActionDelivered})
	}
	audit = append(audit,
		AuditEntry{ID: 6, At: from.Add(10 * time.Minute), Operator: "alice", Verb: VerbTicketEscalate, Target: "ticket rt-noc #100",
			State: ActionRefused, Reason: "already Tier 2"},
		AuditEntry{ID: 7, At: from.Add(11 * time.Minute), Operator: "alice", Verb: VerbTake, Target: "ticket rt-noc #200", State: ActionDelivered},
		AuditEntry{ID: 8, At: from.Add(12 * time.Minute), Operator: "alice", Verb: VerbTake, Target: "ticket rt-noc #201", State: ActionFailed,
			Reason: "no such user"})
	r := BuildHandoff(&History{From: from, To: w.To, Audit: audit}, HandoffOptions{Window: w})
	require.Len(t, r.Operators, 1)
	op := r.Operators[0]
	assert.Equal(t, 5, op.TicketEscalations)
	assert.Equal(t, 2, op.Takes)
	assert.Equal(t, 1, op.Refused)
	md := r.Markdown()
	assert.Contains(t, md, "- alice: 0 acks, 0 un-acks, 0 escalations, 5 ticket escalations, 2 takes, 0 notes, 0 notifications, 1 refused")
	tl := r.TimelineMarkdown()
	for _, want := range []string{
		"- 15:01:00 escalated to Tier 2: ticket rt-noc \\#100 by alice — delivered",
		"- 15:10:00 escalated to Tier 2: ticket rt-noc \\#100 by alice — refused: already Tier 2",
		"- 15:11:00 taken: ticket rt-noc \\#200 by alice — delivered",
		"- 15:12:00 taken: ticket rt-noc \\#201 by alice — failed: no such user",
	} {
		assert.Contains(t, tl, want)
	}
	assert.Equal(t, 8, strings.Count(tl, "ticket rt-noc"), "every ticket escalation and take, refused ones too")
}
