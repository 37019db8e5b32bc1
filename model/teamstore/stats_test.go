package teamstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
)

// The team's stats: an outage two hosts saw counts once, with both hosts;
// its first ack is the first the team made (not the refused one, nor one
// before it opened); escalations and lapsed acks come from the team's
// audit; a service filter narrows them all.
func TestTeamStatsFacts(t *testing.T) {
	srv, url := fresh(t)
	a, b := open(t, srv, url, "noc-a"), open(t, srv, url, "noc-b")
	ctx := context.Background()
	h := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }
	checkout := model.OutageRecord{ID: 1, Service: "checkout", Severity: model.SevWarning, Opened: h(0), FirstSeen: h(0), Alerts: 2,
		Closed: h(2)}
	checkoutB := checkout
	checkoutB.ID, checkoutB.Severity, checkoutB.Closed = 5, model.SevCritical, h(1.5)
	ledger := model.OutageRecord{ID: 6, Service: "ledger", Severity: model.SevWarning, Opened: h(1), FirstSeen: h(1), Alerts: 1}
	require.NoError(t, a.PushViews(ctx, 11, []model.OutageRecord{checkout}, nil))
	require.NoError(t, b.PushViews(ctx, 22, []model.OutageRecord{checkoutB, ledger}, nil))

	early := ack("u-early", "checkout", h(-1)) // before it opened; lapses at 1h
	refused := ack("u-refused", "checkout", h(0).Add(time.Minute))
	refused.State, refused.Reason = model.ActionRefused, "not allowed"
	first := ack("u-first", "checkout", h(0).Add(5*time.Minute))
	first.Until = h(0.5)
	_, err := a.Push(ctx, early, refused, first, escalate("u-esc", "checkout", h(0).Add(10*time.Minute), 2))
	require.NoError(t, err)

	f, err := b.StatsFacts(ctx, model.StatsQuery{From: h(-0.5), To: h(3)})
	require.NoError(t, err)
	assert.True(t, f.Team.Mode)
	require.Len(t, f.Outages, 2, "checkout once, whichever host saw it: %+v", f.Outages)
	co := f.Outages[0]
	assert.Equal(t, "checkout", co.Service)
	assert.Equal(t, model.SevCritical, co.Severity, "the worst either saw")
	assert.Equal(t, []string{"noc-a", "noc-b"}, co.Hosts)
	assert.True(t, co.Closed.Equal(h(2)), "closed at the later close: %v", co.Closed)
	assert.True(t, co.FirstAck.Equal(h(0).Add(5*time.Minute)), "first ack: %v", co.FirstAck)
	assert.Equal(t, "ledger", f.Outages[1].Service)
	assert.True(t, f.Outages[1].FirstAck.IsZero())
	require.Len(t, f.Escalations, 1)
	assert.Equal(t, 2, f.Escalations[0].Level)
	assert.Equal(t, "carol", f.Escalations[0].Operator)
	var lapsed []time.Time
	for _, x := range f.AcksExpired {
		lapsed = append(lapsed, x.At)
	}
	assert.Equal(t, []time.Time{h(0.5), h(1)}, lapsed, "the first ack lapsed at 0h30, the early one at 1h")
	assert.Empty(t, f.AlertHours, "the caller fills these from the cache")
	assert.Empty(t, f.TicketHours)

	l, err := a.StatsFacts(ctx, model.StatsQuery{From: h(-0.5), To: h(3), Services: []string{"ledger"}})
	require.NoError(t, err)
	require.Len(t, l.Outages, 1)
	assert.Equal(t, "ledger", l.Outages[0].Service)
	assert.Empty(t, l.Escalations)
	assert.Empty(t, l.AcksExpired)
}
