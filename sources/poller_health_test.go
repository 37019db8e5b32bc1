package sources_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources"
)

// healthy is an alert source whose upstream reports on its own pipeline.
type healthy struct {
	reads atomic.Int32
	mu    sync.Mutex
	fs    []model.Finding
	err   error
}

func (h *healthy) Name() string { return "prom" }
func (h *healthy) Type() string { return "prometheus" }
func (h *healthy) Fetch(context.Context) ([]model.Alert, error) {
	labels := map[string]string{"alertname": "A", "severity": "critical"}
	return []model.Alert{{Key: model.LabelsKey(model.LabelsFromMap(labels), nil), Labels: model.LabelsFromMap(labels), State: model.StateFiring, StartsAt: model.StampOf(time.Unix(1e9, 0))}}, nil
}
func (h *healthy) Health(context.Context) ([]model.Finding, error) {
	h.reads.Add(1)
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.fs, h.err
}
func (h *healthy) set(fs []model.Finding, err error) {
	h.mu.Lock()
	h.fs, h.err = fs, err
	h.mu.Unlock()
}

// The pipeline's health is read at the first poll and then every
// HealthEvery, not every poll; what it finds shows on the source's
// status (degraded, with why); a poll with nothing new writes nothing;
// a read that fails is a note, not a fault.
func TestPollerReadsHealthOnItsOwnClock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	c := openCache(t, path)
	src := &healthy{}
	src.set([]model.Finding{{Kind: model.FindingRule, Subject: "g/JoinBroken", Text: "found duplicate series", Severe: true}}, nil)
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	p := sources.NewPoller(c, []sources.Job{{Source: src, Interval: 5 * time.Second}}, sources.PollerOptions{Now: func() time.Time { return now }})
	ctx := context.Background()

	require.NoError(t, p.PollOnce(ctx))
	assert.EqualValues(t, 1, src.reads.Load(), "read at the first poll")
	snap, err := p.Snapshot()
	require.NoError(t, err)
	st := snap.Sources[0]
	assert.Equal(t, model.HealthDegraded, st.Health())
	assert.Equal(t, "1 rule failing", st.PipelineReason(now))

	db, err := sql.Open("sqlite3", "file:"+path)
	require.NoError(t, err)
	defer db.Close()
	db.SetMaxOpenConns(1)
	dv := func() (v int64) {
		require.NoError(t, db.QueryRow("PRAGMA data_version").Scan(&v))
		return v
	}
	before := dv()
	now = now.Add(10 * time.Second)
	require.NoError(t, p.PollOnce(ctx))
	assert.EqualValues(t, 1, src.reads.Load(), "not read again within HealthEvery")
	assert.Equal(t, before, dv(), "a poll with no changes writes nothing")

	now = now.Add(sources.HealthEvery)
	require.NoError(t, p.PollOnce(ctx))
	assert.EqualValues(t, 2, src.reads.Load(), "read again after HealthEvery")

	src.set(nil, errors.New("HTTP 502 Bad Gateway"))
	now = now.Add(sources.HealthEvery)
	require.NoError(t, p.PollOnce(ctx), "a failed health read is no fault of the source")
	snap, err = p.Snapshot()
	require.NoError(t, err)
	st = snap.Sources[0]
	assert.Equal(t, model.HealthOK, st.Health())
	require.Len(t, st.Findings, 1)
	assert.Equal(t, model.FindingNote, st.Findings[0].Kind)
	assert.Equal(t, "HTTP 502 Bad Gateway", st.Findings[0].Text)
}

// The health keeps its clock from one process to the next: a poller that
// starts on the cache (the next `poll --once` of a timer, a restarted
// console) within HealthEvery of the last read does not read it again,
// and keeps the findings shown; one that starts later does.
func TestHealthClockOutlivesThePoller(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	src := &healthy{}
	src.set([]model.Finding{{Kind: model.FindingReload, Subject: "config reload failed", Severe: true}}, nil)
	ctx := context.Background()
	pollOnce := func() *model.Snapshot {
		t.Helper()
		c := openCache(t, path)
		defer c.Close()
		p := sources.NewPoller(c, []sources.Job{{Source: src, Interval: 5 * time.Second}}, sources.PollerOptions{Now: func() time.Time { return now }})
		p.OneShot()
		require.NoError(t, p.PollOnce(ctx))
		snap, err := p.Snapshot()
		require.NoError(t, err)
		return snap
	}

	snap := pollOnce()
	assert.EqualValues(t, 1, src.reads.Load(), "the first poller on the cache reads the health")
	assert.Equal(t, now, snap.Sources[0].HealthRead)

	now = now.Add(sources.HealthEvery - time.Second)
	snap = pollOnce()
	assert.EqualValues(t, 1, src.reads.Load(), "not read again by the next process within HealthEvery")
	assert.Equal(t, "config reload failed 29s ago", snap.Sources[0].PipelineReason(now), "the findings stored are still shown")

	now = now.Add(2 * time.Second)
	pollOnce()
	assert.EqualValues(t, 2, src.reads.Load(), "read again once HealthEvery has passed since the last read")
}
