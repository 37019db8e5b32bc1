package model

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAttachTicketsSummaryLinksAndOrder(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	ms, err := ParseMatchers(`subject=~".*db-main.*"`)
	require.NoError(t, err)
	cat := NewCatalog([]*Service{{Name: "db-main", Match: [][]*Matcher{ms}}, {Name: "payments"}})
	tk := func(src, id string, tier Tier, owner string, created time.Duration, due time.Duration, p Priority, subject string) *Ticket {
		x := &Ticket{Source: src, ID: id, Tier: tier, Owner: owner, Priority: p, Subject: subject,
			Created: now.Add(-created), Fields: LabelsFromMap(map[string]string{"subject": subject})}
		if due != 0 {
			x.SLA = TicketSLA{Known: true, Due: now.Add(due)}
		}
		return x
	}
	tickets := []*Ticket{
		tk("rt", "1", Tier1, "", 3*time.Hour, -10*time.Minute, PriorityHigh, "db-main replication lag"), // breached
		tk("rt", "2", Tier1, "bob", time.Hour, 20*time.Minute, PriorityLow, "printer"),                  // breaching soon
		tk("rt", "3", Tier1, "", 10*time.Minute, 0, PriorityCritical, "vpn"),                            // no SLA
		tk("sn", "4", Tier2, "", 5*time.Hour, 2*time.Hour, PriorityModerate, "other"),
		tk("gone", "5", Tier1, "", time.Hour, 0, PriorityLow, "from a source no longer configured"),
	}
	tickets[3].Service = "payments"
	snap := BuildSnapshot(nil, []SourceStatus{{Name: "rt", LastSuccess: now}, {Name: "sn", LastError: "HTTP 500", LastSuccess: now.Add(-time.Hour)}},
		SnapshotOptions{Now: now, Catalog: cat})
	AttachTickets(snap, tickets, []string{"rt", "sn"}, cat)

	require.True(t, snap.Backlog.Known)
	assert.Equal(t, TierSummary{Tier: Tier1, Open: 3, Unassigned: 2, Breached: 1, BreachingSoon: 1, Oldest: now.Add(-3 * time.Hour)}, snap.Backlog.Tier1)
	assert.Equal(t, TierSummary{Tier: Tier2, Open: 1, Unassigned: 1, Oldest: now.Add(-5 * time.Hour)}, snap.Backlog.Tier2)

	var order []string
	for _, it := range snap.Tickets {
		order = append(order, it.Ticket.ID)
	}
	assert.Equal(t, []string{"1", "2", "4", "3"}, order, "breached first, then least time left, no SLA last")

	assert.Equal(t, "db-main", snap.Tickets[0].Service, "linked by a catalog matcher over the subject")
	assert.Equal(t, "payments", snap.Tickets[2].Service, "linked by the ticket's service field")
	assert.Empty(t, snap.Tickets[1].Service)
	assert.True(t, snap.Tickets[2].Stale, "a ticket of a failing source is stale")
	assert.False(t, snap.Tickets[0].Stale)

	held := BuildSnapshot(nil, []SourceStatus{{Name: "rt", LastSuccess: now, Note: EmptyReplyNote + "; had 3 tickets"}, {Name: "sn", LastSuccess: now}},
		SnapshotOptions{Now: now, Catalog: cat})
	AttachTickets(held, tickets, []string{"rt", "sn"}, cat)
	for _, it := range held.Tickets {
		assert.Equal(t, it.Ticket.Source == "rt", it.Stale, "only the tickets of the source held on an empty reply are stale: %s", it.Ticket.ID)
	}

	assert.Equal(t, ServiceState{Tickets: 1, TicketsKnown: true}, snap.Service("db-main"))
	assert.Equal(t, ServiceState{TicketsKnown: true}, snap.Service("checkout"), "known zero once a ticket source is configured")
	assert.Len(t, snap.TicketsOf("payments"), 1)

	none := BuildSnapshot(nil, nil, SnapshotOptions{Now: now})
	AttachTickets(none, tickets, nil, cat)
	assert.False(t, none.Backlog.Known)
	assert.False(t, none.Service("db-main").TicketsKnown, "without a ticket source counts stay unknown")
}
