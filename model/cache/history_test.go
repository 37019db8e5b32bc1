package cache

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
)

// A cache at schema 2 (actions, no history) migrates and keeps its audit
// log; the history tables then exist.
func TestMigrationFromVersion2AddsHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v2.db")
	db := rawDB(t, path)
	for _, m := range migrations[:2] {
		_, err := db.Exec(m)
		require.NoError(t, err)
	}
	_, err := db.Exec(`INSERT INTO audit(uid, at, operator, role, host, ssh_client, verb, service, target, comment, state)
		VALUES ('u1', 5, 'alice', 'tier1', 'h', '', 'note', '', 'shift', 'handover', 'delivered')`)
	require.NoError(t, err)
	_, err = db.Exec(`PRAGMA user_version = 2`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	require.NoError(t, os.Chmod(path, 0o600))

	c, err := Open(path)
	require.NoError(t, err)
	defer c.Close()
	log, err := c.AuditLog(time.Time{})
	require.NoError(t, err)
	require.Len(t, log, 1, "schema 2's audit log survives")
	_, err = c.OpenOutage(model.OutageRecord{Service: "checkout", Severity: model.SevCritical, Opened: t0, Alerts: 2})
	require.NoError(t, err, "the history tables exist")
}

func TestOutageAndSourceHistoryInWindow(t *testing.T) {
	c, _ := openTemp(t)
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	old, err := c.OpenOutage(model.OutageRecord{Service: "db-main", Severity: model.SevWarning, Opened: h(-10), Alerts: 1})
	require.NoError(t, err)
	require.NoError(t, c.CloseOutage(old, h(-9), false))
	carried, err := c.OpenOutage(model.OutageRecord{Service: "payments", Severity: model.SevWarning, Opened: h(-1), Alerts: 1})
	require.NoError(t, err)
	require.NoError(t, c.UpdateOutage(carried, model.SevCritical, 3, h(-1)))
	require.NoError(t, c.CloseOutage(carried, h(2), false))
	still, err := c.OpenOutage(model.OutageRecord{Service: "checkout", Severity: model.SevCritical, Opened: h(3), Alerts: 2})
	require.NoError(t, err)
	src, err := c.SourceDown("am-eu", h(1), "connection refused")
	require.NoError(t, err)
	require.NoError(t, c.SourceUp(src, h(1).Add(10*time.Minute)))
	// an ack made an hour before the window on the carried-over outage
	ack := ackAction("payments", h(-1).Add(5*time.Minute), "am")
	_, err = c.RecordAction(ack)
	require.NoError(t, err)
	// an ack in the window whose silences outlive it
	late := ackAction("checkout", h(4), "am-a", "am-b")
	late.Until = h(9)
	_, err = c.RecordAction(late)
	require.NoError(t, err)

	hist, err := c.History(h(0), h(8))
	require.NoError(t, err)
	var svcs []string
	for _, o := range hist.Outages {
		svcs = append(svcs, o.Service)
	}
	assert.Equal(t, []string{"payments", "checkout"}, svcs, "only outages overlapping the window, oldest first")
	assert.Equal(t, model.SevCritical, hist.Outages[0].Severity, "the worst severity seen")
	assert.Equal(t, 3, hist.Outages[0].Alerts)
	assert.True(t, hist.Outages[1].Closed.IsZero())
	require.Len(t, hist.SourceOutages, 1)
	assert.Equal(t, "connection refused", hist.SourceOutages[0].Error)
	require.Len(t, hist.Audit, 2, "the ack before the window is read for the carried-over outage")
	assert.Equal(t, "payments", hist.Audit[0].Service)
	require.Len(t, hist.Acks, 1, "only the ack still in force at the window's end")
	assert.Equal(t, "checkout", hist.Acks[0].Service)
	assert.Equal(t, 4, hist.Acks[0].Silences, "two alerts on two Alertmanagers")

	open, err := c.OpenOutageRecords()
	require.NoError(t, err)
	require.Len(t, open, 1)
	assert.Equal(t, still, open[0].ID)
}

func TestPruneKeepsWhatIsOpen(t *testing.T) {
	c, _ := openTemp(t)
	old, err := c.OpenOutage(model.OutageRecord{Service: "db-main", Severity: model.SevCritical, Opened: t0, Alerts: 1})
	require.NoError(t, err)
	require.NoError(t, c.CloseOutage(old, t0.Add(time.Hour), false))
	_, err = c.OpenOutage(model.OutageRecord{Service: "payments", Severity: model.SevCritical, Opened: t0, Alerts: 1}) // open for 40 days
	require.NoError(t, err)
	up, err := c.SourceDown("am", t0, "timed out")
	require.NoError(t, err)
	require.NoError(t, c.SourceUp(up, t0.Add(time.Minute)))
	_, err = c.SourceDown("prom", t0, "HTTP 503") // still down
	require.NoError(t, err)
	note := &model.Action{AuditEntry: model.AuditEntry{At: t0, Operator: "alice", Verb: model.VerbNote, Target: "shift", Comment: "old note"}}
	_, err = c.RecordAction(note)
	require.NoError(t, err)

	n, err := c.Prune(t0.Add(30 * 24 * time.Hour))
	require.NoError(t, err)
	assert.Equal(t, int64(4), n, "closed outage, ended source outage, note and its audit row")
	open, err := c.OpenOutageRecords()
	require.NoError(t, err)
	require.Len(t, open, 1)
	assert.Equal(t, "payments", open[0].Service)
	down, err := c.OpenSourceOutages()
	require.NoError(t, err)
	require.Len(t, down, 1)
	assert.Equal(t, "prom", down[0].Source)
	log, err := c.AuditLog(time.Time{})
	require.NoError(t, err)
	assert.Empty(t, log)
}
