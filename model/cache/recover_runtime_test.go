package cache

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/cache/cachetest"
)

// fillDeep writes a cache with the operators' record (as fillForDamage)
// and 10,000 open alerts, the 500 most severe first, closes it and
// damages the alerts table's last page: Open and Preview still work, the
// first full load does not.
func fillDeep(t *testing.T, path string) (acks int, uids []string) {
	t.Helper()
	c, err := Open(path)
	require.NoError(t, err)
	acks = 40
	for i := range acks {
		a := ackAction(fmt.Sprintf("svc-%02d", i), t0.Add(time.Duration(i)*time.Minute), "am-eu")
		_, err := c.RecordAction(a)
		require.NoError(t, err)
		uids = append(uids, a.UID)
	}
	alerts := make([]model.Alert, 0, 10000)
	for i := range 10000 {
		sev := "info"
		if i < 500 {
			sev = "critical"
		}
		alerts = append(alerts, alert(fmt.Sprintf("Alert%05d", i), "severity", sev, "pad", strings.Repeat("x", 200)))
	}
	_, err = c.Ingest("am-eu", alerts, at(0))
	require.NoError(t, err)
	require.NoError(t, c.Close())
	cachetest.DamageLastAlertsPage(t, path)
	return acks, uids
}

// Damage past what Open reads shows when the open rows are first
// loaded: the file is then moved aside like OpenRecover does at start,
// the audit log, outbox and acks copied into a fresh cache first, and
// the Cache goes on with that one.
func TestLoadRecoversACacheDamagedDeep(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	acks, uids := fillDeep(t, path)

	c, err := Open(path)
	require.NoError(t, err, "the damage is past the pages Open reads")
	defer c.Close()
	pv, err := c.Preview(500)
	require.NoError(t, err, "the preview reads the most severe rows, not the damaged page")
	assert.Len(t, pv.Rows, 500)
	assert.Equal(t, 10000, pv.Open)
	assert.Nil(t, c.Recovered())

	rows, _, err := c.Load()
	require.NoError(t, err, "the damaged file is replaced, not reported forever")
	assert.Empty(t, rows, "alerts are not copied: the next poll rebuilds them")
	rec := c.Recovered()
	require.NotNil(t, rec)
	assert.Contains(t, rec.Reason, "is corrupt")
	assert.Contains(t, rec.Reason, "quick_check", "the reason is what SQLite found")
	moved, err := filepath.Glob(path + ".corrupt-*")
	require.NoError(t, err)
	assert.Equal(t, []string{rec.MovedTo}, moved, "the damaged file is kept beside the fresh one")
	checkSalvaged(t, c, rec, acks, uids)
	assert.Contains(t, rec.Note(), "cache was corrupt")
	assert.Contains(t, rec.Note(), "moved aside to "+filepath.Base(rec.MovedTo))
	assert.Contains(t, rec.Note(), fmt.Sprintf("%d audit", len(uids)))

	_, err = c.Ingest("am-eu", []model.Alert{alert("Back")}, at(60))
	require.NoError(t, err, "polling goes on into the fresh file")
	rows, _, err = c.Load()
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, "Back", rows[0].Labels.Get("alertname"))
	assert.Same(t, rec, c.Recovered(), "the fresh file is used as it is")

	// Another process opening the path now gets the fresh file.
	other, err := Open(path)
	require.NoError(t, err)
	defer other.Close()
	rows, _, err = other.Load()
	require.NoError(t, err)
	assert.Len(t, rows, 1)
}

// A poll is often what loads the rows first: the Ingest that finds the
// file corrupt replaces it and then writes its alerts into the fresh one.
func TestIngestRecoversACacheDamagedDeep(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	acks, uids := fillDeep(t, path)
	c, err := Open(path)
	require.NoError(t, err)
	defer c.Close()

	res, err := c.Ingest("am-eu", []model.Alert{alert("A"), alert("B")}, at(60))
	require.NoError(t, err)
	assert.Equal(t, 2, res.Inserted, "the poll is written into the fresh file")
	rec := c.Recovered()
	require.NotNil(t, rec)
	log, err := c.AuditLog(time.Time{})
	require.NoError(t, err)
	assert.Len(t, log, len(uids), "the audit log was copied first")
	open, err := c.OpenAcks()
	require.NoError(t, err)
	assert.Len(t, open, acks)
	rows, _, err := c.Load()
	require.NoError(t, err)
	assert.Len(t, rows, 2)
}

// A row whose stored JSON does not decode is corruption SQLite does not
// see: the file is replaced the same way, and the reason names the row.
func TestLoadRecoversARowThatDoesNotDecode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	c, err := Open(path)
	require.NoError(t, err)
	a := ackAction("svc", t0, "am-eu")
	_, err = c.RecordAction(a)
	require.NoError(t, err)
	_, err = c.Ingest("am-eu", []model.Alert{alert("A"), alert("B")}, at(0))
	require.NoError(t, err)
	require.NoError(t, c.Close())
	db := rawDB(t, path)
	var id int64
	require.NoError(t, db.QueryRow(`SELECT id FROM alerts WHERE key LIKE '%B%'`).Scan(&id))
	_, err = db.Exec(`UPDATE alerts SET labels = '{"alertname": ' WHERE id = ?`, id)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	c, err = Open(path)
	require.NoError(t, err)
	defer c.Close()
	rows, _, err := c.Load()
	require.NoError(t, err)
	assert.Empty(t, rows)
	rec := c.Recovered()
	require.NotNil(t, rec)
	assert.Contains(t, rec.Reason, fmt.Sprintf("alert row %d does not decode", id))
	log, err := c.AuditLog(time.Time{})
	require.NoError(t, err)
	require.Len(t, log, 1)
	assert.Equal(t, a.UID, log[0].UID)
}

// Only corruption replaces the file: a Cache that cannot read it for
// another reason says so and leaves it where it is.
func TestLoadLeavesTheFileAloneOnOtherErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	c, err := Open(path)
	require.NoError(t, err)
	_, err = c.Ingest("am-eu", []model.Alert{alert("A")}, at(0))
	require.NoError(t, err)
	require.NoError(t, c.Close())
	_, _, err = c.Load()
	require.ErrorIs(t, err, ErrClosed)
	assert.Nil(t, c.Recovered())
	moved, _ := filepath.Glob(path + ".corrupt-*")
	assert.Empty(t, moved)
	_, err = os.Stat(path)
	require.NoError(t, err)
}
