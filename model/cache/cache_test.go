package cache

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
)

var t0 = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

func at(sec int) PollMeta {
	return PollMeta{At: t0.Add(time.Duration(sec) * time.Second), Latency: 30 * time.Millisecond, Type: "alertmanager"}
}

func alert(name string, extra ...string) model.Alert {
	labels := map[string]string{"alertname": name, "severity": "critical", "service": "checkout"}
	for i := 0; i+1 < len(extra); i += 2 {
		labels[extra[i]] = extra[i+1]
	}
	return model.Alert{
		Key:         model.LabelsKey(model.LabelsFromMap(labels), nil),
		Labels:      model.LabelsFromMap(labels),
		Annotations: model.LabelsFromMap(map[string]string{"summary": name + " is failing"}),
		State:       model.StateFiring,
		StartsAt:    model.StampOf(t0.Add(-time.Hour)),
	}
}

func openTemp(t *testing.T) (*Cache, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cache.db")
	c, err := Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c, path
}

// rawDB opens the file on a connection of its own, as another process would.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	require.NoError(t, err)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func dataVersion(t *testing.T, db *sql.DB) int64 {
	t.Helper()
	var v int64
	require.NoError(t, db.QueryRow("PRAGMA data_version").Scan(&v))
	return v
}

func byName(rows []*model.AlertRow) map[string]*model.AlertRow {
	m := map[string]*model.AlertRow{}
	for _, r := range rows {
		m[r.Source+"/"+r.Labels.Get("alertname")] = r
	}
	return m
}

func load(t *testing.T, c *Cache) (map[string]*model.AlertRow, map[string]model.SourceStatus) {
	t.Helper()
	rows, sts, err := c.Load()
	require.NoError(t, err)
	m := map[string]model.SourceStatus{}
	for _, s := range sts {
		m[s.Name] = s
	}
	return byName(rows), m
}

func TestOpenCreatesPrivateFileAndDirectories(t *testing.T) {
	base := t.TempDir()
	path := filepath.Join(base, "state", "sitroom", "cache.db")
	c, err := Open(path)
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, path, c.Path())

	for _, dir := range []string{filepath.Join(base, "state"), filepath.Join(base, "state", "sitroom")} {
		fi, err := os.Stat(dir)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), dir)
	}
	_, err = c.Ingest("am", []model.Alert{alert("A")}, at(0))
	require.NoError(t, err)
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(f)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), f)
	}
	var mode string
	require.NoError(t, rawDB(t, path).QueryRow("PRAGMA journal_mode").Scan(&mode))
	assert.Equal(t, "wal", mode)
}

func TestSchemaVersionAndNewerSchemaRefused(t *testing.T) {
	c, path := openTemp(t)
	db := rawDB(t, path)
	var v int
	require.NoError(t, db.QueryRow("PRAGMA user_version").Scan(&v))
	assert.Equal(t, SchemaVersion, v)
	require.NoError(t, c.Close())

	// Reopening a current file does not migrate again (the data survives).
	c2, err := Open(path)
	require.NoError(t, err)
	require.NoError(t, c2.Close())

	_, err = db.Exec(fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion+1))
	require.NoError(t, err)
	_, err = Open(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), path)
	assert.Contains(t, err.Error(), "newer")
	assert.Contains(t, err.Error(), fmt.Sprintf("schema version %d", SchemaVersion+1))
}

func TestNotASQLiteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	content := []byte(strings.Repeat("this is a config file, not a database\n", 200))
	require.NoError(t, os.WriteFile(path, content, 0o600))
	_, err := Open(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), path)
	assert.Contains(t, err.Error(), "not a SQLite database")
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, content, got, "the file must be left as it was")
}

func TestOpenDirectoryFails(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), dir)
}

func TestReopenKeepsData(t *testing.T) {
	c, path := openTemp(t)
	_, err := c.Ingest("am", []model.Alert{alert("A"), alert("B")}, at(0))
	require.NoError(t, err)
	require.NoError(t, c.RecordFailure("prom", errors.New("connection refused"), PollMeta{At: t0, Type: "prometheus"}))
	require.NoError(t, c.Close())

	c2, err := Open(path)
	require.NoError(t, err)
	defer c2.Close()
	rows, sts := load(t, c2)
	require.Len(t, rows, 2)
	a := rows["am/A"]
	require.NotNil(t, a)
	assert.Equal(t, alert("A").Key, a.Key)
	assert.Equal(t, "A is failing", a.Annotations.Get("summary"))
	assert.Equal(t, "checkout", a.Labels.Get("service"))
	assert.Equal(t, model.StateFiring, a.State)
	assert.True(t, a.StartsAt.Time().Equal(t0.Add(-time.Hour)))
	assert.True(t, a.FirstSeen.Time().Equal(t0))
	assert.Equal(t, model.HealthOK, ptr(sts["am"]).Health())
	assert.Equal(t, 2, sts["am"].Items)
	assert.Equal(t, "alertmanager", sts["am"].Type)
	assert.Equal(t, "connection refused", sts["prom"].LastError)
	assert.Equal(t, model.HealthDown, ptr(sts["prom"]).Health())
}

func ptr[T any](v T) *T { return &v }

func TestIngestInsertUpdateUnchanged(t *testing.T) {
	c, path := openTemp(t)
	other := rawDB(t, path)

	res, err := c.Ingest("am", []model.Alert{alert("A"), alert("B"), alert("C")}, at(0))
	require.NoError(t, err)
	assert.Equal(t, IngestResult{Inserted: 3, Wrote: true}, res)

	before := dataVersion(t, other)
	res, err = c.Ingest("am", []model.Alert{alert("A"), alert("B"), alert("C")}, at(5))
	require.NoError(t, err)
	assert.Equal(t, IngestResult{Unchanged: 3}, res)
	assert.Equal(t, before, dataVersion(t, other), "a poll with no changes must not commit anything")
	rows, sts := load(t, c)
	assert.True(t, rows["am/A"].LastSeen.Time().Equal(t0.Add(5*time.Second)), "last_seen is kept in memory")
	assert.True(t, sts["am"].LastSuccess.Equal(t0.Add(5*time.Second)))
	assert.Equal(t, 30*time.Millisecond, sts["am"].Latency)

	b := alert("B")
	b.Annotations = model.LabelsFromMap(map[string]string{"summary": "B is failing harder"})
	b.State = model.StateSuppressed
	b.Suppressed = model.Suppress([]string{"silence-1"}, nil)
	res, err = c.Ingest("am", []model.Alert{alert("A"), b, alert("C")}, at(10))
	require.NoError(t, err)
	assert.Equal(t, IngestResult{Updated: 1, Unchanged: 2, Wrote: true}, res)
	assert.NotEqual(t, before, dataVersion(t, other))

	rows, _ = load(t, c)
	require.Len(t, rows, 3)
	assert.Equal(t, "B is failing harder", rows["am/B"].Annotations.Get("summary"))
	assert.Equal(t, model.StateSuppressed, rows["am/B"].State)
	assert.True(t, rows["am/B"].FirstSeen.Time().Equal(t0), "an update keeps first_seen")
	assert.True(t, rows["am/B"].LastSeen.Time().Equal(t0.Add(10*time.Second)))

	// What another process reads agrees.
	c2, err := Open(path)
	require.NoError(t, err)
	defer c2.Close()
	rows2, _ := load(t, c2)
	require.Len(t, rows2, 3)
	assert.Equal(t, "B is failing harder", rows2["am/B"].Annotations.Get("summary"))
	assert.Equal(t, []string{"silence-1"}, rows2["am/B"].SilencedBy())
	assert.True(t, rows2["am/B"].FirstSeen.Time().Equal(t0))
}

func TestRowsHandedOutAreNeverModified(t *testing.T) {
	c, _ := openTemp(t)
	_, err := c.Ingest("am", []model.Alert{alert("A"), alert("B")}, at(0))
	require.NoError(t, err)
	rows, _, err := c.Load()
	require.NoError(t, err)
	snapshot := make([]model.AlertRow, len(rows))
	for i, r := range rows {
		snapshot[i] = *r
	}
	a := alert("A")
	a.Annotations = model.LabelsFromMap(map[string]string{"summary": "changed"})
	_, err = c.Ingest("am", []model.Alert{a}, at(5))
	require.NoError(t, err)
	for i, r := range rows {
		assert.Equal(t, snapshot[i].LastSeen.Time(), r.LastSeen.Time())
		assert.Equal(t, snapshot[i].Missed, r.Missed)
		assert.Equal(t, snapshot[i].Annotations, r.Annotations)
	}
	now, _ := load(t, c)
	require.Contains(t, now, "am/B")
	assert.Equal(t, "changed", now["am/A"].Annotations.Get("summary"))
	assert.Equal(t, 1, now["am/B"].Missed)
}

func TestStatusWrittenOnlyWhenItChangesOrIsOld(t *testing.T) {
	c, path := openTemp(t)
	other := rawDB(t, path)
	_, err := c.Ingest("am", []model.Alert{alert("A")}, at(0))
	require.NoError(t, err)

	v := dataVersion(t, other)
	res, err := c.Ingest("am", []model.Alert{alert("A")}, at(10))
	require.NoError(t, err)
	assert.False(t, res.Wrote)
	assert.Equal(t, v, dataVersion(t, other))

	// More than StatusRefresh since the status was written: a heartbeat.
	res, err = c.Ingest("am", []model.Alert{alert("A")}, at(16))
	require.NoError(t, err)
	assert.True(t, res.Wrote)
	assert.Equal(t, 1, res.Unchanged)
	var attempt int64
	require.NoError(t, other.QueryRow("SELECT last_attempt FROM sources WHERE name = 'am'").Scan(&attempt))
	assert.Equal(t, t0.Add(16*time.Second).UnixNano(), attempt)

	// After a failure, the next success is written at once (error cleared).
	require.NoError(t, c.RecordFailure("am", errors.New("timeout"), at(20)))
	res, err = c.Ingest("am", []model.Alert{alert("A")}, at(25))
	require.NoError(t, err)
	assert.True(t, res.Wrote)
	var lastErr string
	require.NoError(t, other.QueryRow("SELECT last_error FROM sources WHERE name = 'am'").Scan(&lastErr))
	assert.Empty(t, lastErr)
}

func TestResolveOnlyAfterTwoConsecutiveMisses(t *testing.T) {
	c, _ := openTemp(t)
	_, err := c.Ingest("am", []model.Alert{alert("A"), alert("B")}, at(0))
	require.NoError(t, err)

	res, err := c.Ingest("am", []model.Alert{alert("A")}, at(10))
	require.NoError(t, err)
	assert.Equal(t, IngestResult{Unchanged: 1, Missed: 1, Wrote: true}, res)
	rows, _ := load(t, c)
	require.Contains(t, rows, "am/B", "one miss does not resolve")
	assert.Equal(t, 1, rows["am/B"].Missed)
	assert.True(t, rows["am/B"].LastSeen.Time().Equal(t0), "a missed row keeps its last_seen")

	res, err = c.Ingest("am", []model.Alert{alert("A")}, at(20))
	require.NoError(t, err)
	assert.Equal(t, IngestResult{Unchanged: 1, Resolved: 1, Wrote: true}, res)
	rows, _ = load(t, c)
	assert.NotContains(t, rows, "am/B")
	assert.Contains(t, rows, "am/A")

	hist, err := c.Resolved(t0)
	require.NoError(t, err)
	require.Len(t, hist, 1)
	assert.Equal(t, "B", hist[0].Labels.Get("alertname"))
	assert.True(t, hist[0].ResolvedAt.Time().Equal(t0.Add(20*time.Second)))
	assert.True(t, hist[0].FirstSeen.Time().Equal(t0))
	assert.True(t, hist[0].LastSeen.Time().Equal(t0))
	assert.Equal(t, 2, hist[0].Missed)

	later, err := c.Resolved(t0.Add(21 * time.Second))
	require.NoError(t, err)
	assert.Empty(t, later)
}

func TestReappearanceResetsMissed(t *testing.T) {
	c, _ := openTemp(t)
	both := []model.Alert{alert("A"), alert("B")}
	_, err := c.Ingest("am", both, at(0))
	require.NoError(t, err)
	_, err = c.Ingest("am", []model.Alert{alert("A")}, at(10))
	require.NoError(t, err)
	res, err := c.Ingest("am", both, at(20))
	require.NoError(t, err)
	assert.Equal(t, IngestResult{Unchanged: 2, Wrote: true}, res, "the reset is written")
	rows, _ := load(t, c)
	require.Contains(t, rows, "am/B")
	assert.Equal(t, 0, rows["am/B"].Missed)

	// A single miss after the reset still does not resolve.
	res, err = c.Ingest("am", []model.Alert{alert("A")}, at(30))
	require.NoError(t, err)
	assert.Equal(t, 1, res.Missed)
	assert.Equal(t, 0, res.Resolved)
	rows, _ = load(t, c)
	assert.Contains(t, rows, "am/B")
	assert.True(t, rows["am/B"].LastSeen.Time().Equal(t0.Add(20*time.Second)))
}

func TestResolvedKeyComesBackAsNewRow(t *testing.T) {
	c, path := openTemp(t)
	_, err := c.Ingest("am", []model.Alert{alert("A")}, at(0))
	require.NoError(t, err)
	_, err = c.Ingest("am", []model.Alert{alert("Z")}, at(10))
	require.NoError(t, err)
	_, err = c.Ingest("am", []model.Alert{alert("Z")}, at(20))
	require.NoError(t, err)
	rows, _ := load(t, c)
	assert.NotContains(t, rows, "am/A")

	res, err := c.Ingest("am", []model.Alert{alert("A"), alert("Z")}, at(30))
	require.NoError(t, err)
	assert.Equal(t, 1, res.Inserted)
	rows, _ = load(t, c)
	require.Contains(t, rows, "am/A")
	assert.True(t, rows["am/A"].FirstSeen.Time().Equal(t0.Add(30*time.Second)), "a new open row")

	hist, err := c.Resolved(time.Time{})
	require.NoError(t, err)
	require.Len(t, hist, 1)
	assert.True(t, hist[0].FirstSeen.Time().Equal(t0))
	assert.True(t, hist[0].ResolvedAt.Time().Equal(t0.Add(20*time.Second)))

	var n int
	require.NoError(t, rawDB(t, path).QueryRow("SELECT count(*) FROM alerts WHERE key = ?", alert("A").Key).Scan(&n))
	assert.Equal(t, 2, n)
}

func TestRecordFailureKeepsRowsOpen(t *testing.T) {
	c, path := openTemp(t)
	_, err := c.Ingest("am", []model.Alert{alert("A"), alert("B")}, at(0))
	require.NoError(t, err)
	other := rawDB(t, path)
	for i := 1; i <= 3; i++ {
		v := dataVersion(t, other)
		err := c.RecordFailure("am", errors.New(`Get "http://noc:s3cret@am.example:9093/api/v2/alerts": dial tcp: connection refused`), at(10*i))
		require.NoError(t, err)
		assert.NotEqual(t, v, dataVersion(t, other), "a failure is always written")
	}
	rows, sts := load(t, c)
	require.Len(t, rows, 2)
	assert.Equal(t, 0, rows["am/A"].Missed)
	st := sts["am"]
	assert.Equal(t, model.HealthDown, st.Health())
	assert.True(t, st.LastSuccess.Equal(t0))
	assert.True(t, st.LastAttempt.Equal(t0.Add(30*time.Second)))
	assert.Contains(t, st.LastError, "connection refused")
	assert.NotContains(t, st.LastError, "s3cret")

	var stored string
	require.NoError(t, other.QueryRow("SELECT last_error FROM sources WHERE name = 'am'").Scan(&stored))
	assert.NotContains(t, stored, "s3cret")
	assert.Contains(t, stored, "am.example:9093")

	snap := model.BuildSnapshot(mustRows(t, c), []model.SourceStatus{st}, model.SnapshotOptions{Now: t0.Add(time.Minute)})
	require.Len(t, snap.Signals, 2)
	assert.True(t, snap.Signals[0].Stale)

	res, err := c.Ingest("am", []model.Alert{alert("A"), alert("B")}, at(40))
	require.NoError(t, err)
	assert.Equal(t, 2, res.Unchanged)
	_, sts = load(t, c)
	assert.Equal(t, model.HealthOK, ptr(sts["am"]).Health())
}

func mustRows(t *testing.T, c *Cache) []*model.AlertRow {
	rows, _, err := c.Load()
	require.NoError(t, err)
	return rows
}

func TestEmptyReplyNote(t *testing.T) {
	c, _ := openTemp(t)
	_, err := c.Ingest("am", []model.Alert{alert("A"), alert("B")}, at(0))
	require.NoError(t, err)

	// An Alertmanager that restarted answers [] for a while: nothing is
	// counted as missed, let alone resolved, until EmptyHold has passed.
	for _, sec := range []int{10, 20, 60, 170} {
		res, err := c.Ingest("am", nil, at(sec))
		require.NoError(t, err)
		assert.Zero(t, res.Missed, "at %ds", sec)
		assert.Zero(t, res.Resolved, "at %ds", sec)
	}
	rows, sts := load(t, c)
	assert.Len(t, rows, 2, "empty replies within EmptyHold resolve nothing")
	assert.Equal(t, "empty reply; had 2 alerts", sts["am"].Note)
	assert.Equal(t, model.HealthDegraded, ptr(sts["am"]).Health())
	snap := model.BuildSnapshot(mustRows(t, c), []model.SourceStatus{sts["am"]}, model.SnapshotOptions{Now: t0})
	require.Len(t, snap.Signals, 2)
	assert.True(t, snap.Signals[0].Stale, "rows of a suspect empty reply show as stale")

	// Still empty after EmptyHold: now they are missed, and resolved after
	// two such polls.
	after := int(EmptyHold/time.Second) + 10
	res, err := c.Ingest("am", nil, at(after))
	require.NoError(t, err)
	assert.Equal(t, 2, res.Missed)
	res, err = c.Ingest("am", nil, at(after+10))
	require.NoError(t, err)
	assert.Equal(t, 2, res.Resolved)
	rows, _ = load(t, c)
	assert.Empty(t, rows)

	_, err = c.Ingest("am", []model.Alert{alert("C")}, at(after+20))
	require.NoError(t, err)
	_, sts = load(t, c)
	assert.Empty(t, sts["am"].Note)
	assert.Empty(t, sts["am"].LastError)
}

// The hold restarts whenever the source answers with alerts again.
func TestEmptyHoldRestartsAfterAReply(t *testing.T) {
	c, _ := openTemp(t)
	hold := int(EmptyHold / time.Second)
	_, err := c.Ingest("am", []model.Alert{alert("A")}, at(0))
	require.NoError(t, err)
	_, err = c.Ingest("am", nil, at(10))
	require.NoError(t, err)
	_, err = c.Ingest("am", []model.Alert{alert("A")}, at(hold))
	require.NoError(t, err)
	res, err := c.Ingest("am", nil, at(hold+20))
	require.NoError(t, err)
	assert.Zero(t, res.Missed, "a new empty spell starts its own hold")
}

func TestRepeatedKeyInOnePollTakenOnce(t *testing.T) {
	c, _ := openTemp(t)
	res, err := c.Ingest("am", []model.Alert{alert("A"), alert("A"), alert("B")}, at(0))
	require.NoError(t, err)
	assert.Equal(t, 2, res.Inserted)
	res, err = c.Ingest("am", []model.Alert{alert("A"), alert("B"), alert("A")}, at(5))
	require.NoError(t, err)
	assert.Equal(t, IngestResult{Unchanged: 2}, res)
	assert.Len(t, mustRows(t, c), 2)
}

func TestEmptyKeyGetsLabelsKey(t *testing.T) {
	c, _ := openTemp(t)
	a := alert("A")
	a.Key = ""
	_, err := c.Ingest("am", []model.Alert{a}, at(0))
	require.NoError(t, err)
	rows := mustRows(t, c)
	require.Len(t, rows, 1)
	assert.Equal(t, alert("A").Key, rows[0].Key)
}

func TestCredentialsInGeneratorURLNotStored(t *testing.T) {
	c, path := openTemp(t)
	a := alert("A")
	a.GeneratorURL = "https://admin:hunter2@prom.example/graph?g0.expr=up"
	_, err := c.Ingest("prom", []model.Alert{a}, at(0))
	require.NoError(t, err)
	require.NoError(t, c.Close())
	var u string
	require.NoError(t, rawDB(t, path).QueryRow("SELECT generator_url FROM alerts").Scan(&u))
	assert.Equal(t, "https://prom.example/graph?g0.expr=up", u)
	for _, f := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		require.NoError(t, err)
		assert.NotContains(t, string(b), "hunter2", f)
	}
}

func TestHostileTextRoundTrips(t *testing.T) {
	c, path := openTemp(t)
	a := alert("A")
	a.Annotations = model.LabelsFromMap(map[string]string{
		"summary":     "[red]boom[-] \x1b]8;;http://x\x1b\\ \u202e\x00 \"quoted\" 'single'; DROP TABLE alerts;--",
		"description": strings.Repeat("x", 1<<20),
	})
	_, err := c.Ingest("am", []model.Alert{a}, at(0))
	require.NoError(t, err)
	c2, err := Open(path)
	require.NoError(t, err)
	defer c2.Close()
	rows := mustRows(t, c2)
	require.Len(t, rows, 1)
	assert.True(t, model.LabelsFromPairs("summary", a.Annotations.Get("summary")).Equal(rows[0].Annotations),
		"the mirror holds the summary the panels draw, byte for byte")
	full, err := c2.AlertAnnotations(context.Background(), a.Key, []string{"am"})
	require.NoError(t, err)
	assert.True(t, a.Annotations.Equal(full), "the detail reads every annotation back from the file")
}

func TestAnnotationsOutOfTheMirror(t *testing.T) {
	c, path := openTemp(t)
	a := alert("A")
	a.Annotations = model.LabelsFromMap(map[string]string{
		"summary": "disk full", "description": "the long text", "runbook_url": "https://rb/disk",
	})
	_, err := c.Ingest("am", []model.Alert{a}, at(0))
	require.NoError(t, err)
	rows := mustRows(t, c)
	require.Len(t, rows, 1)
	assert.Equal(t, map[string]string{"summary": "disk full", "runbook_url": "https://rb/disk"}, rows[0].Annotations.Map(),
		"the mirror keeps what the panels draw and the runbook key opens")

	// A change of an annotation the mirror does not hold is still a change.
	b := a
	b.Annotations = a.Annotations.With("description", "another text")
	res, err := c.Ingest("am", []model.Alert{b}, at(10))
	require.NoError(t, err)
	assert.Equal(t, 1, res.Updated)
	res, err = c.Ingest("am", []model.Alert{b}, at(20))
	require.NoError(t, err)
	assert.Equal(t, 0, res.Updated, "and the same annotations again are not")

	// Another process loading the file sees the same, and the same change
	// detection: the annotations' hash survives a reload.
	c2, err := Open(path)
	require.NoError(t, err)
	defer c2.Close()
	rows = mustRows(t, c2)
	assert.Equal(t, "disk full", rows[0].Annotations.Get("summary"))
	assert.False(t, rows[0].Annotations.Has("description"))
	res, err = c2.Ingest("am", []model.Alert{b}, at(30))
	require.NoError(t, err)
	assert.Equal(t, 0, res.Updated)
	assert.Equal(t, 1, res.Unchanged)
	full, err := c2.AlertAnnotations(context.Background(), a.Key, []string{"other", "am"})
	require.NoError(t, err)
	assert.Equal(t, "another text", full.Get("description"))

	// A resolved alert's detail still reads its last annotations.
	for i := range 2 {
		_, err = c2.Ingest("am", nil, at(40+10*i))
		require.NoError(t, err)
	}
	_, err = c2.Ingest("am", []model.Alert{alert("B")}, at(60))
	require.NoError(t, err)
	full, err = c2.AlertAnnotations(context.Background(), a.Key, []string{"am"})
	require.NoError(t, err)
	assert.Equal(t, "another text", full.Get("description"))
}

func TestTwoCachesOnOneFile(t *testing.T) {
	c1, path := openTemp(t)
	c2, err := Open(path)
	require.NoError(t, err)
	defer c2.Close()

	_, err = c1.Ingest("am", []model.Alert{alert("A"), alert("B")}, at(0))
	require.NoError(t, err)
	rows, sts := load(t, c2)
	assert.Len(t, rows, 2)
	assert.Equal(t, 2, sts["am"].Items)

	a := alert("A")
	a.Annotations = model.LabelsFromMap(map[string]string{"summary": "updated"})
	_, err = c1.Ingest("am", []model.Alert{a}, at(10))
	require.NoError(t, err)
	rows, _ = load(t, c2)
	require.Len(t, rows, 2)
	assert.Equal(t, "updated", rows["am/A"].Annotations.Get("summary"))
	assert.Equal(t, 1, rows["am/B"].Missed)

	_, err = c1.Ingest("am", []model.Alert{a}, at(20))
	require.NoError(t, err)
	rows, _ = load(t, c2)
	assert.Len(t, rows, 1)
	assert.NotContains(t, rows, "am/B")

	// The other way round, and a source the first one never polled.
	_, err = c2.Ingest("prom", []model.Alert{alert("P")}, at(25))
	require.NoError(t, err)
	require.NoError(t, c2.RecordFailure("am", errors.New("503 Service Unavailable"), at(26)))
	rows, sts = load(t, c1)
	assert.Contains(t, rows, "prom/P")
	assert.Contains(t, rows, "am/A")
	assert.Equal(t, "503 Service Unavailable", sts["am"].LastError)

	// c1 ingests again after c2 wrote: its diff starts from what c2 wrote.
	res, err := c1.Ingest("am", []model.Alert{a}, at(30))
	require.NoError(t, err)
	assert.Equal(t, 1, res.Unchanged)
	assert.True(t, res.Wrote, "clearing the error is written")
	_, sts = load(t, c2)
	assert.Empty(t, sts["am"].LastError)
}

func TestLastSeenOnDiskLagsUntilTheRowIsWritten(t *testing.T) {
	c1, path := openTemp(t)
	c2, err := Open(path)
	require.NoError(t, err)
	defer c2.Close()
	_, err = c1.Ingest("am", []model.Alert{alert("A")}, at(0))
	require.NoError(t, err)
	_, err = c1.Ingest("am", []model.Alert{alert("A")}, at(10))
	require.NoError(t, err)

	rows, _ := load(t, c1)
	assert.True(t, rows["am/A"].LastSeen.Time().Equal(t0.Add(10*time.Second)))
	rows, _ = load(t, c2)
	assert.True(t, rows["am/A"].LastSeen.Time().Equal(t0), "documented lag: nothing was written at 10s")

	_, err = c1.Ingest("am", []model.Alert{alert("B")}, at(20)) // A missed: the row is written with the last_seen held in memory
	require.NoError(t, err)
	rows, _ = load(t, c2)
	assert.True(t, rows["am/A"].LastSeen.Time().Equal(t0.Add(10*time.Second)))
}

func TestLeaseTakeoverOnlyAfterExpiry(t *testing.T) {
	c1, path := openTemp(t)
	c2, err := Open(path)
	require.NoError(t, err)
	defer c2.Close()
	ttl := 10 * time.Second

	ok, err := c1.TryLease("host-a:1", ttl, t0)
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = c2.TryLease("host-b:2", ttl, t0.Add(5*time.Second))
	require.NoError(t, err)
	assert.False(t, ok, "held and not expired")

	ok, err = c1.TryLease("host-a:1", ttl, t0.Add(8*time.Second)) // renew until 18s
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = c2.TryLease("host-b:2", ttl, t0.Add(15*time.Second))
	require.NoError(t, err)
	assert.False(t, ok, "the renewal moved the expiry")

	holder, exp, err := c2.LeaseHolder()
	require.NoError(t, err)
	assert.Equal(t, "host-a:1", holder)
	assert.True(t, exp.Equal(t0.Add(18*time.Second)))

	ok, err = c2.TryLease("host-b:2", ttl, t0.Add(18*time.Second))
	require.NoError(t, err)
	assert.True(t, ok, "expired: taken over")
	ok, err = c1.TryLease("host-a:1", ttl, t0.Add(19*time.Second))
	require.NoError(t, err)
	assert.False(t, ok, "the old holder lost it")

	require.NoError(t, c1.ReleaseLease("host-a:1")) // not held: no effect
	ok, err = c1.TryLease("host-a:1", ttl, t0.Add(20*time.Second))
	require.NoError(t, err)
	assert.False(t, ok)

	require.NoError(t, c2.ReleaseLease("host-b:2"))
	ok, err = c1.TryLease("host-a:1", ttl, t0.Add(21*time.Second))
	require.NoError(t, err)
	assert.True(t, ok, "released: taken at once")
}

func TestLeaseRaceHasOneWinner(t *testing.T) {
	_, path := openTemp(t)
	const n = 6
	caches := make([]*Cache, n)
	for i := range caches {
		c, err := Open(path)
		require.NoError(t, err)
		defer c.Close()
		caches[i] = c
	}
	var wg sync.WaitGroup
	won := make([]bool, n)
	for i := range caches {
		wg.Go(func() {
			ok, err := caches[i].TryLease(fmt.Sprintf("h%d", i), time.Minute, t0)
			assert.NoError(t, err)
			won[i] = ok
		})
	}
	wg.Wait()
	winners := 0
	for _, w := range won {
		if w {
			winners++
		}
	}
	assert.Equal(t, 1, winners)
}

func TestLockedByAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	c, err := open(path, 200*time.Millisecond)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Ingest("am", []model.Alert{alert("A")}, at(0))
	require.NoError(t, err)

	holder := rawDB(t, path)
	conn, err := holder.Conn(t.Context())
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(t.Context(), "BEGIN IMMEDIATE")
	require.NoError(t, err)
	defer conn.ExecContext(t.Context(), "ROLLBACK")

	_, err = c.Ingest("am", []model.Alert{alert("B")}, at(10))
	require.Error(t, err)
	assert.Contains(t, err.Error(), path)
	assert.Contains(t, err.Error(), "locked by another process")

	// Reads are not blocked by the other writer, and the failed write left
	// the mirror as it was.
	rows, _, err := c.Load()
	require.NoError(t, err)
	assert.Len(t, rows, 1)

	_, err = conn.ExecContext(t.Context(), "ROLLBACK")
	require.NoError(t, err)
	res, err := c.Ingest("am", []model.Alert{alert("B")}, at(10))
	require.NoError(t, err)
	assert.Equal(t, 1, res.Inserted)
	assert.Equal(t, 1, res.Missed)
}

func TestClosed(t *testing.T) {
	c, _ := openTemp(t)
	require.NoError(t, c.Close())
	_, err := c.Ingest("am", nil, at(0))
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, c.RecordFailure("am", errors.New("x"), at(0)), ErrClosed)
	_, err = c.TryLease("h", time.Second, t0)
	assert.ErrorIs(t, err, ErrClosed)
	require.NoError(t, c.Close())
}

func TestConcurrentLoadAndIngest(t *testing.T) {
	c1, path := openTemp(t)
	c2, err := Open(path)
	require.NoError(t, err)
	defer c2.Close()

	const n = 300
	base := make([]model.Alert, n)
	for i := range base {
		base[i] = alert(fmt.Sprintf("A%03d", i), "instance", fmt.Sprint(i))
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		defer close(stop)
		for round := 0; round < 40; round++ {
			poll := make([]model.Alert, 0, n)
			for i, a := range base {
				if (i+round)%7 == 0 {
					continue // churn: some go missing, some resolve, some come back
				}
				if i%10 == round%10 {
					a.Annotations = model.LabelsFromMap(map[string]string{"summary": fmt.Sprint("round ", round)})
				}
				poll = append(poll, a)
			}
			_, err := c1.Ingest("am", poll, at(round))
			assert.NoError(t, err)
		}
	})
	reader := func(c *Cache) {
		for {
			select {
			case <-stop:
				return
			default:
			}
			rows, sts, err := c.Load()
			assert.NoError(t, err)
			seen := map[string]bool{}
			for _, r := range rows {
				assert.False(t, r.Resolved())
				assert.False(t, seen[r.Key], "an open key appears once per source")
				seen[r.Key] = true
				_ = r.Labels.Get("alertname") + r.Annotations.Get("summary")
			}
			snap := model.BuildSnapshot(rows, sts, model.SnapshotOptions{Now: t0})
			assert.LessOrEqual(t, len(snap.Signals), n)
		}
	}
	wg.Go(func() { reader(c1) })
	wg.Go(func() { reader(c1) })
	wg.Go(func() { reader(c2) })
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_, err := c2.TryLease("other", time.Second, t0)
			assert.NoError(t, err)
			_, err = c2.Resolved(t0)
			assert.NoError(t, err)
		}
	})
	wg.Wait()

	// Both views converge on what is on disk.
	r1 := keysOf(mustRows(t, c1))
	r2 := keysOf(mustRows(t, c2))
	c3, err := Open(path)
	require.NoError(t, err)
	defer c3.Close()
	r3 := keysOf(mustRows(t, c3))
	assert.Equal(t, r3, r1)
	assert.Equal(t, r3, r2)
	assert.NotEmpty(t, r3)
}

func keysOf(rows []*model.AlertRow) []string {
	var ks []string
	for _, r := range rows {
		ks = append(ks, fmt.Sprintf("%s/%s/%d/%s", r.Source, r.Key, r.Missed, r.Annotations.Get("summary")))
	}
	sort.Strings(ks)
	return ks
}

func TestTakeLeaseFromOnlyFromTheNamedHolder(t *testing.T) {
	c, _ := openTemp(t)
	ok, err := c.TryLease("h:1", time.Hour, t0)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = c.TakeLeaseFrom("h:2", "h:9", time.Minute, t0)
	require.NoError(t, err)
	assert.False(t, ok, "h:9 does not hold it")
	ok, err = c.TakeLeaseFrom("h:2", "h:1", time.Minute, t0)
	require.NoError(t, err)
	assert.True(t, ok)
	holder, _, err := c.LeaseHolder()
	require.NoError(t, err)
	assert.Equal(t, "h:2", holder)
}

// An empty reply from an upstream that has been running since before the
// last poll that had alerts is the truth: its alerts are missed at once
// and resolved after two polls, and the source is not degraded. One that
// restarted since is held, and its note says so.
func TestEmptyReplyBelievedUnlessTheUpstreamRestarted(t *testing.T) {
	up := func(sec int, uptime time.Duration) PollMeta {
		m := at(sec)
		m.Uptime, m.UptimeKnown = uptime, true
		return m
	}
	c, _ := openTemp(t)
	_, err := c.Ingest("am", []model.Alert{alert("A")}, at(0))
	require.NoError(t, err)
	res, err := c.Ingest("am", nil, up(10, 24*time.Hour))
	require.NoError(t, err)
	assert.False(t, res.Held)
	assert.Equal(t, 1, res.Missed)
	_, sts := load(t, c)
	assert.Empty(t, sts["am"].Note)
	assert.Equal(t, model.HealthOK, ptr(sts["am"]).Health(), "a quiet night is not a degraded source")
	res, err = c.Ingest("am", nil, up(20, 24*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 1, res.Resolved, "resolved within two polls, not after EmptyHold")

	c2, _ := openTemp(t)
	_, err = c2.Ingest("am", []model.Alert{alert("A"), alert("B")}, at(0))
	require.NoError(t, err)
	res, err = c2.Ingest("am", nil, up(40, 5*time.Second)) // started 35s after the last poll with alerts
	require.NoError(t, err)
	assert.True(t, res.Held)
	assert.Zero(t, res.Missed)
	_, sts = load(t, c2)
	assert.Equal(t, "empty reply; had 2 alerts; restarted 5s ago, waiting for re-sends", sts["am"].Note)
	assert.Equal(t, model.HealthDegraded, ptr(sts["am"]).Health())
}

// An alert pending for its rule's for is first seen long before it fires:
// the poll that first returns it firing is recorded apart (fired_seen),
// survives a reload from disk, and a pending-only alert has none.
func TestFiredSeenIsWhenItWasFirstSeenFiring(t *testing.T) {
	c, path := openTemp(t)
	a := alert("SlowBurn")
	a.State = model.StatePending
	_, err := c.Ingest("prom", []model.Alert{a}, at(0))
	require.NoError(t, err)
	rows := mustRows(t, c)
	require.Len(t, rows, 1)
	assert.True(t, rows[0].FiredSeen.IsZero(), "only pending so far")
	a.State = model.StateFiring
	_, err = c.Ingest("prom", []model.Alert{a}, at(60))
	require.NoError(t, err)
	_, err = c.Ingest("prom", []model.Alert{a}, at(70))
	require.NoError(t, err)
	require.NoError(t, c.Close())
	c2, err := Open(path)
	require.NoError(t, err)
	defer c2.Close()
	rows = mustRows(t, c2)
	require.Len(t, rows, 1)
	assert.Equal(t, t0, rows[0].FirstSeen.Time())
	assert.Equal(t, t0.Add(60*time.Second), rows[0].FiredSeen.Time())
}

// An ack may be made on an outage the screen shows from a poll still
// being written (LoadPlanned): the rows it silences must be that poll's.
func TestLoadCommittedWaitsForTheWriteTheScreenShows(t *testing.T) {
	c, _ := openTemp(t)
	_, _, err := c.Load() // the mirror is loaded: Load no longer waits
	require.NoError(t, err)
	planned, release := make(chan struct{}), make(chan struct{})
	c.OnPlanned(func() {
		close(planned)
		<-release
	})
	written := make(chan error, 1)
	go func() {
		_, err := c.Ingest("am", benchAlerts(3), at(0))
		written <- err
	}()
	<-planned
	rows, _, err := c.Load()
	require.NoError(t, err)
	assert.Empty(t, rows, "Load does not wait for the write")
	got := make(chan []*model.AlertRow, 1)
	go func() {
		rows, _, err := c.LoadCommitted()
		assert.NoError(t, err)
		got <- rows
	}()
	select {
	case rows := <-got:
		t.Fatalf("LoadCommitted returned %d rows before the write committed", len(rows))
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	require.NoError(t, <-written)
	assert.Len(t, <-got, 3, "the rows of the write the screen showed")
}

// In a process that polls once, a poll keeps the rows it finds unchanged
// as they are (the very rows, so a snapshot built of them before the poll
// stays valid) and writes nothing for them; a changed row is replaced and
// written, and a row back after a missed poll is written with its miss
// count reset, as in any process.
func TestPollsOnceKeepsUnchangedRows(t *testing.T) {
	_, path := openTemp(t)
	first, err := Open(path)
	require.NoError(t, err)
	_, err = first.Ingest("am", []model.Alert{alert("A"), alert("B"), alert("C")}, at(0))
	require.NoError(t, err)
	_, err = first.Ingest("am", []model.Alert{alert("A"), alert("B")}, at(15)) // C missed once
	require.NoError(t, err)
	require.NoError(t, first.Close())

	c := openPollingOnce(t, path)
	before, _, err := c.Load()
	require.NoError(t, err)
	b := alert("B")
	b.Annotations = model.LabelsFromMap(map[string]string{"summary": "B is failing harder"})
	res, err := c.Ingest("am", []model.Alert{alert("A"), b, alert("C")}, at(30))
	require.NoError(t, err)
	assert.Equal(t, IngestResult{Updated: 1, Unchanged: 2, Wrote: true}, res)
	after, _, err := c.Load()
	require.NoError(t, err)
	was, now := byName(before), byName(after)
	assert.Same(t, was["am/A"], now["am/A"], "an unchanged row is kept as it is")
	assert.NotSame(t, was["am/B"], now["am/B"], "a changed row is replaced")
	assert.Equal(t, "B is failing harder", now["am/B"].Annotations.Get("summary"))
	assert.NotSame(t, was["am/C"], now["am/C"], "a row back after a miss is replaced")
	assert.Zero(t, now["am/C"].Missed)
	var missed int
	require.NoError(t, rawDB(t, path).QueryRow(`SELECT missed FROM alerts WHERE key = ?`, alert("C").Key).Scan(&missed))
	assert.Zero(t, missed, "the reset miss count is written")

	res, err = c.Ingest("am", []model.Alert{alert("A"), b, alert("C")}, at(45))
	require.NoError(t, err)
	assert.Equal(t, IngestResult{Unchanged: 3}, res, "nothing changed: nothing written")
}
