package teamstore_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/teamstore/pgtest"
)

// The team's history is derived from every host's view: an outage two
// hosts saw (same service and opened) is one, closed only when both
// closed, at the later close, with the worst severity, the most alerts,
// the earliest first sight and both hosts; one only host B saw is there
// too; views pushed again change nothing.
func TestHostViewsMakeOneTeamHistory(t *testing.T) {
	srv, url := fresh(t)
	a, b := open(t, srv, url, "noc-a"), open(t, srv, url, "noc-b")
	ctx := context.Background()
	const cacheA, cacheB = 11, 22
	checkoutA := model.OutageRecord{ID: 1, Service: "checkout", Severity: model.SevWarning, Opened: t0,
		FirstSeen: t0.Add(20 * time.Second), Alerts: 2}
	checkoutB := model.OutageRecord{ID: 7, Service: "checkout", Severity: model.SevCritical, Opened: t0,
		FirstSeen: t0.Add(5 * time.Second), Alerts: 1}
	onlyB := model.OutageRecord{ID: 8, Service: "ledger", Severity: model.SevWarning, Opened: t0.Add(3 * time.Minute),
		FirstSeen: t0.Add(3 * time.Minute), Alerts: 1}
	require.NoError(t, a.PushViews(ctx, cacheA, []model.OutageRecord{checkoutA}, nil))
	require.NoError(t, b.PushViews(ctx, cacheB, []model.OutageRecord{checkoutB, onlyB},
		[]model.SourceOutage{{ID: 3, Source: "prom-b", Down: t0.Add(time.Minute), Error: "connection refused"}}))

	history := func() *model.History {
		t.Helper()
		h, err := a.History(ctx, t0.Add(-time.Hour), t0.Add(time.Hour))
		require.NoError(t, err)
		return h
	}
	h := history()
	require.Len(t, h.Outages, 2, "one record per outage: %+v", h.Outages)
	co := h.Outages[0]
	assert.Equal(t, "checkout", co.Service)
	assert.True(t, co.Opened.Equal(t0))
	assert.Equal(t, model.SevCritical, co.Severity, "the worst either saw")
	assert.Equal(t, 2, co.Alerts, "the most either saw")
	assert.True(t, co.FirstSeen.Equal(t0.Add(5*time.Second)), "the earliest sight: %v", co.FirstSeen)
	assert.True(t, co.Closed.IsZero(), "open")
	assert.Equal(t, []string{"noc-a", "noc-b"}, co.Hosts)
	assert.Equal(t, "ledger", h.Outages[1].Service, "the outage only B saw")
	assert.Equal(t, []string{"noc-b"}, h.Outages[1].Hosts)
	require.Len(t, h.SourceOutages, 1)
	assert.Equal(t, "noc-b", h.SourceOutages[0].Host, "with the host that saw it down")
	assert.True(t, h.SourceOutages[0].Up.IsZero())

	// A closes: B still holds it open, so the team's outage is open.
	checkoutA.Closed = t0.Add(10 * time.Minute)
	require.NoError(t, a.PushViews(ctx, cacheA, []model.OutageRecord{checkoutA}, nil))
	assert.True(t, history().Outages[0].Closed.IsZero(), "open while one host holds it open")

	// B closes, provisionally, later than A: closed at B's close,
	// provisional; then B's close is final.
	checkoutB.Closed, checkoutB.Provisional = t0.Add(12*time.Minute), true
	require.NoError(t, b.PushViews(ctx, cacheB, []model.OutageRecord{checkoutB}, nil))
	co = history().Outages[0]
	assert.True(t, co.Closed.Equal(t0.Add(12*time.Minute)), "the latest close: %v", co.Closed)
	assert.True(t, co.Provisional, "the latest close is provisional")
	checkoutB.Provisional = false
	require.NoError(t, b.PushViews(ctx, cacheB, []model.OutageRecord{checkoutB}, nil))
	co = history().Outages[0]
	assert.False(t, co.Provisional)

	// A span after A's close but before B's still has it.
	h2, err := b.History(ctx, t0.Add(11*time.Minute), t0.Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, h2.Outages, 2)
	assert.Equal(t, []string{"noc-a", "noc-b"}, h2.Outages[0].Hosts, "whole, though A's view closed before the span")

	// Pushed again, unchanged: no row moves.
	cur := viewsSeq(t, srv, url)
	require.NoError(t, a.PushViews(ctx, cacheA, []model.OutageRecord{checkoutA}, nil))
	require.NoError(t, b.PushViews(ctx, cacheB, []model.OutageRecord{checkoutB, onlyB},
		[]model.SourceOutage{{ID: 3, Source: "prom-b", Down: t0.Add(time.Minute), Error: "connection refused"}}))
	assert.Equal(t, cur, viewsSeq(t, srv, url), "views pushed twice change nothing")
	assert.Equal(t, h2.Outages, func() []model.OutageRecord {
		h, err := b.History(ctx, t0.Add(11*time.Minute), t0.Add(time.Hour))
		require.NoError(t, err)
		return h.Outages
	}())

	// Another cache on host A (one moved aside, its ids starting again)
	// never overwrites the first one's view.
	other := model.OutageRecord{ID: 1, Service: "search", Severity: model.SevInfo, Opened: t0.Add(30 * time.Minute),
		FirstSeen: t0.Add(30 * time.Minute), Alerts: 1}
	require.NoError(t, a.PushViews(ctx, 99, []model.OutageRecord{other}, nil))
	assert.Len(t, history().Outages, 3)
}

// viewsSeq is the highest seq of the host views: it moves with every row
// written.
func viewsSeq(t *testing.T, srv *pgtest.Server, url string) int64 {
	t.Helper()
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(url)
	require.NoError(t, err)
	pw, err := os.ReadFile(srv.PasswordFile)
	require.NoError(t, err)
	cfg.Password = strings.TrimSpace(string(pw))
	c, err := pgx.ConnectConfig(ctx, cfg)
	require.NoError(t, err)
	defer c.Close(ctx)
	var seq int64
	require.NoError(t, c.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM (SELECT seq FROM outage_views
		UNION ALL SELECT seq FROM source_views) s`).Scan(&seq))
	require.NotZero(t, seq)
	return seq
}
