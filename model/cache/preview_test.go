package cache

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
)

// A file written before schema version 5 has its open rows' severity
// filled in from their labels, spelling for spelling as
// model.ParseSeverity reads them, when it is opened.
func TestSeverityBackfillIsParseSeverity(t *testing.T) {
	c, path := openTemp(t)
	spellings := []string{
		"critical", "crit", "page", "fatal", "emergency", "high", "p1", "error", "major",
		"warning", "warn", "medium", "minor", "p2", "p3",
		"info", "informational", "low", "notice", "p4", "p5",
		"CRITICAL", " Page ", "\tWarn\n", "Info", "P1", "", "none", "bogus", "critical!", "p6",
	}
	var alerts []model.Alert
	for i, s := range spellings {
		a := alert(fmt.Sprintf("S%02d", i), "severity", s)
		a.StartsAt = model.StampOf(t0.Add(time.Duration(i) * time.Minute))
		alerts = append(alerts, a)
	}
	_, err := c.Ingest("am", alerts, at(0))
	require.NoError(t, err)
	require.NoError(t, c.Close())
	db := rawDB(t, path)
	for _, q := range append(dropSince13, []string{`DROP INDEX alerts_open_severity`, `ALTER TABLE alerts DROP COLUMN severity`,
		`ALTER TABLE outage_history DROP COLUMN first_seen`, `ALTER TABLE outage_history DROP COLUMN provisional`,
		`ALTER TABLE alerts DROP COLUMN fired_seen`, `DROP INDEX acks_ended`, `ALTER TABLE acks DROP COLUMN ended_at`,
		`ALTER TABLE acks DROP COLUMN ended`, `ALTER TABLE silences DROP COLUMN starts_at`,
		`ALTER TABLE silences DROP COLUMN updated_at`, `ALTER TABLE silences DROP COLUMN state`,
		`ALTER TABLE silences DROP COLUMN matchers`, `ALTER TABLE tickets DROP COLUMN priority_name`,
		`ALTER TABLE sources DROP COLUMN findings`, `DROP TABLE pipeline_history`, `DROP INDEX audit_team`,
		`ALTER TABLE audit DROP COLUMN team`, `ALTER TABLE outbox DROP COLUMN remote`,
		`DROP INDEX outage_history_team`, `DROP INDEX source_history_team`, `ALTER TABLE outage_history DROP COLUMN team`,
		`ALTER TABLE source_history DROP COLUMN team`, `DROP TABLE team_cutoff`, `PRAGMA user_version = 4`}...) {
		_, err = db.Exec(q)
		require.NoError(t, err, q)
	}
	require.NoError(t, db.Close())

	c, err = Open(path)
	require.NoError(t, err)
	defer c.Close()
	p, err := c.Preview(len(spellings))
	require.NoError(t, err)
	require.Len(t, p.Rows, len(spellings))
	sort.SliceStable(alerts, func(i, j int) bool {
		return model.ParseSeverity(alerts[i].Labels.Get("severity")) > model.ParseSeverity(alerts[j].Labels.Get("severity"))
	})
	for i, r := range p.Rows {
		assert.Equal(t, alerts[i].Labels.Get("alertname"), r.Labels.Get("alertname"), "row %d (severity %q)", i, r.Labels.Get("severity"))
	}
}

// Preview reads the most severe open rows, oldest first within a
// severity, as Load decodes them, and counts every open row.
func TestPreviewMostSevereOpenRows(t *testing.T) {
	c, path := openTemp(t)
	sevs := []string{"warning", "info", "Critical", "none", "warn", "page", "low", "", "p2", "error"}
	var alerts []model.Alert
	for i := range 60 {
		a := alert(fmt.Sprintf("A%02d", i), "severity", sevs[i%len(sevs)])
		a.StartsAt = model.StampOf(t0.Add(-time.Duration((i*37)%60) * time.Minute))
		alerts = append(alerts, a)
	}
	_, err := c.Ingest("am", alerts, at(0))
	require.NoError(t, err)
	// Two polls without the first critical alert resolve it.
	gone := alerts[2]
	rest := append(append([]model.Alert(nil), alerts[:2]...), alerts[3:]...)
	for sec := 1; sec <= 2; sec++ {
		_, err = c.Ingest("am", rest, at(sec))
		require.NoError(t, err)
	}
	// An alert whose severity label changes (same key) moves with it.
	p1 := alert("P", "severity", "info")
	p1.Key = "prom-p"
	_, err = c.Ingest("prom", []model.Alert{p1}, at(1))
	require.NoError(t, err)
	p2 := alert("P", "severity", "critical")
	p2.Key, p2.StartsAt = "prom-p", p1.StartsAt
	_, err = c.Ingest("prom", []model.Alert{p2}, at(2))
	require.NoError(t, err)

	want := append([]model.Alert(nil), rest...)
	want = append(want, p2)
	sort.SliceStable(want, func(i, j int) bool {
		si, sj := model.ParseSeverity(want[i].Labels.Get("severity")), model.ParseSeverity(want[j].Labels.Get("severity"))
		if si != sj {
			return si > sj
		}
		return want[i].StartsAt.Before(want[j].StartsAt)
	})

	other, err := Open(path) // another process, mirror not loaded
	require.NoError(t, err)
	defer other.Close()
	p, err := other.Preview(15)
	require.NoError(t, err)
	assert.Equal(t, len(rest)+1, p.Open, "every open row is counted, the resolved one is not")
	require.Len(t, p.Rows, 15)
	loaded, _ := load(t, other) // last_seen as on disk, where it may lag
	for i, r := range p.Rows {
		assert.Equal(t, want[i].Labels.Get("alertname"), r.Labels.Get("alertname"), "row %d", i)
		assert.NotEqual(t, gone.Labels.Get("alertname"), r.Labels.Get("alertname"), "a resolved row is not open")
		assert.Equal(t, loaded[r.Source+"/"+r.Labels.Get("alertname")], r, "decoded as Load decodes it")
	}
	require.Len(t, p.Statuses, 2)
	assert.Equal(t, "am", p.Statuses[0].Name)
	assert.Equal(t, "prom", p.Statuses[1].Name)
	assert.Equal(t, len(rest), p.Statuses[0].Items)

	all, err := other.Preview(1000)
	require.NoError(t, err)
	assert.Len(t, all.Rows, all.Open, "a limit above the open rows reads them all")
	assert.Len(t, loaded, len(rest)+1)
}

func TestPreviewOfAFreshCache(t *testing.T) {
	c, _ := openTemp(t)
	p, err := c.Preview(500)
	require.NoError(t, err)
	assert.Empty(t, p.Rows)
	assert.Zero(t, p.Open)
	assert.Empty(t, p.Statuses)
	assert.Empty(t, p.Tickets)
}

// The open tickets come with the preview, the closed ones do not.
func TestPreviewTickets(t *testing.T) {
	c, path := openTemp(t)
	_, err := c.IngestTickets("rt", []model.Ticket{ticket("1", "disk full", model.Tier1), ticket("2", "vpn down", model.Tier2)}, at(0))
	require.NoError(t, err)
	_, err = c.IngestTickets("rt", []model.Ticket{ticket("2", "vpn down", model.Tier2)}, at(1))
	require.NoError(t, err)
	other, err := Open(path)
	require.NoError(t, err)
	defer other.Close()
	p, err := other.Preview(500)
	require.NoError(t, err)
	require.Len(t, p.Tickets, 1)
	assert.Equal(t, "vpn down", p.Tickets[0].Subject)
}
