package demo

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources/tickets/servicenow"
)

// The demo's noc-desk serves tickets linked to the cascade through the
// real ServiceNow client: a breached P1 on payments, a Tier 2 ticket on
// db-main, one breaching soon; and it takes an escalation.
func TestDeskTicketsFollowTheCascade(t *testing.T) {
	d, err := Start(t.Context(), Options{Speed: 1}) // the real clock, as the ServiceNow client reads it
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, d.Close()) })
	var sc = d.Config().Sources[4]
	src, err := servicenow.FromConfig(sc)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	list, err := src.Fetch(ctx)
	require.NoError(t, err)
	require.Len(t, list, 5)
	tickets := make([]*model.Ticket, len(list))
	for i := range list {
		list[i].Source = "noc-desk"
		tickets[i] = &list[i]
	}
	snap := model.BuildSnapshot(nil, []model.SourceStatus{{Name: "noc-desk", LastSuccess: d.start}}, model.SnapshotOptions{Now: d.start, Catalog: d.Config().Catalog()})
	model.AttachTickets(snap, tickets, []string{"noc-desk"}, d.Config().Catalog())
	first := snap.Tickets[0].Ticket
	assert.Equal(t, "INC0052001", first.Number)
	assert.True(t, first.SLA.BreachedAt(d.start), "the payments P1 is breached")
	assert.Equal(t, "payments", snap.Tickets[0].Service)
	assert.Equal(t, model.TierSummary{Tier: model.Tier1, Open: 4, Unassigned: 3, Breached: 1, BreachingSoon: 1, Oldest: first.Created.Add(-(5*time.Hour - 35*time.Minute))},
		snap.Backlog.Tier1)
	assert.Equal(t, 1, snap.Backlog.Tier2.Open)
	assert.Equal(t, 1, snap.Service("db-main").Tickets)

	require.NoError(t, src.Escalate(ctx, first.ID, "to tier 2"))
	list, err = src.Fetch(ctx)
	require.NoError(t, err)
	for _, tk := range list {
		if tk.ID == first.ID {
			assert.Equal(t, model.Tier2, tk.Tier, "escalation moves it to NOC Tier 2")
		}
	}
}
