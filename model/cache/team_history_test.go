package cache

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
)

// Every write to an outage or source outage record leaves it to push to
// the team store, as it is now; a push marks it pushed unless it changed
// meanwhile.
func TestTeamHistoryPendingFollowsWrites(t *testing.T) {
	c, _ := openTemp(t)
	id, err := c.OpenOutage(model.OutageRecord{Service: "checkout", Severity: model.SevWarning, Opened: t0, FirstSeen: t0, Alerts: 1})
	require.NoError(t, err)
	sid, err := c.SourceDown("prom", t0, "connection refused")
	require.NoError(t, err)
	p, err := c.TeamHistoryPending(0)
	require.NoError(t, err)
	require.Len(t, p.Outages, 1)
	require.Len(t, p.Sources, 1)
	assert.Equal(t, id, p.Outages[0].ID)

	// Changed after it was read: the push does not clear it.
	require.NoError(t, c.UpdateOutage(id, model.SevCritical, 3, t0))
	require.NoError(t, c.TeamHistoryPushed(p))
	p2, err := c.TeamHistoryPending(0)
	require.NoError(t, err)
	require.Len(t, p2.Outages, 1, "the update is still to push")
	assert.Equal(t, model.SevCritical, p2.Outages[0].Severity)
	assert.Equal(t, 3, p2.Outages[0].Alerts)
	assert.Empty(t, p2.Sources, "the source outage went up")
	require.NoError(t, c.TeamHistoryPushed(p2))
	p3, err := c.TeamHistoryPending(0)
	require.NoError(t, err)
	assert.True(t, p3.Empty())

	for _, write := range []func() error{
		func() error { return c.CloseOutage(id, t0.Add(time.Minute), true) },
		func() error { return c.ReopenOutage(id) },
		func() error { return c.CloseOutage(id, t0.Add(2*time.Minute), false) },
		func() error { return c.SourceUp(sid, t0.Add(time.Minute)) },
	} {
		require.NoError(t, write())
		p, err := c.TeamHistoryPending(0)
		require.NoError(t, err)
		require.False(t, p.Empty(), "a write leaves something to push")
		require.NoError(t, c.TeamHistoryPushed(p))
	}
	p, err = c.TeamHistoryPending(0)
	require.NoError(t, err)
	assert.True(t, p.Empty())

	a, err := c.TeamHistoryID()
	require.NoError(t, err)
	b, err := c.TeamHistoryID()
	require.NoError(t, err)
	assert.NotZero(t, a)
	assert.Equal(t, a, b, "one id per cache file")
}

// A cut-off from the team store is recorded once however often the sync
// finds the store down, ends when it is back, and is listed by span.
func TestTeamCutOffs(t *testing.T) {
	c, _ := openTemp(t)
	require.NoError(t, c.TeamCutOff(t0))
	require.NoError(t, c.TeamCutOff(t0.Add(time.Second)))
	got, err := c.TeamCutOffs(t0.Add(-time.Hour), t0.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, []model.CutOff{{From: t0}}, got, "one, still open")
	ended, err := c.TeamReconnected(t0.Add(5 * time.Minute))
	require.NoError(t, err)
	assert.True(t, ended)
	ended, err = c.TeamReconnected(t0.Add(6 * time.Minute))
	require.NoError(t, err)
	assert.False(t, ended, "nothing open")
	require.NoError(t, c.TeamCutOff(t0.Add(time.Hour)))
	got, err = c.TeamCutOffs(t0.Add(-time.Hour), t0.Add(30*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, []model.CutOff{{From: t0, To: t0.Add(5 * time.Minute)}}, got)
	got, err = c.TeamCutOffs(t0.Add(-time.Hour), t0.Add(2*time.Hour))
	require.NoError(t, err)
	assert.Len(t, got, 2)
}
