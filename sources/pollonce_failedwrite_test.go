package sources_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/sources"
	"sitroom/sources/sourcetest"
)

// `poll --once` builds the history's snapshot while its write commits,
// and shows it to the history recorder only once the write did: a write
// that fails records nothing of the rows it did not store, and says so;
// the next run that stores them records their outage.
func TestPollOnceRecordsNoHistoryOfAFailedWrite(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	am.PostAlerts(t, sourcetest.PostableAlert{Labels: map[string]string{"alertname": "CheckoutDown", "severity": "critical", "service": "checkout"}})
	path := filepath.Join(t.TempDir(), "cache.db")
	c := openCache(t, path)
	once := func() error {
		p := sources.NewPoller(c, []sources.Job{{Source: amSource(t, "am", am), Interval: time.Minute}},
			sources.PollerOptions{Holder: "cron:1", History: sources.NewHistoryRecorder(c, sources.HistoryOptions{})})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		return p.PollOnce(ctx)
	}

	// Every insert of an alert row fails, as on a full disk, after a
	// moment's work (a count over a join of 4M rows), so the snapshot of
	// the planned rows is built while the write is in progress.
	db, err := sql.Open("sqlite3", path)
	require.NoError(t, err)
	defer db.Close()
	for _, q := range []string{
		`CREATE TABLE test_slow(i INTEGER)`,
		`WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM r WHERE i < 2000) INSERT INTO test_slow SELECT i FROM r`,
		`CREATE TRIGGER test_full BEFORE INSERT ON alerts BEGIN
			SELECT RAISE(ABORT, 'database or disk is full') FROM (SELECT count(*) FROM test_slow a, test_slow b);
		END`,
	} {
		_, err = db.Exec(q)
		require.NoError(t, err)
	}
	err = once()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "am: cache: ")
	assert.Contains(t, err.Error(), "database or disk is full")
	open, err := c.OpenOutageRecords()
	require.NoError(t, err)
	assert.Empty(t, open, "no history of an alert that was not stored")
	rows, _, err := c.Load()
	require.NoError(t, err)
	assert.Empty(t, rows)

	_, err = db.Exec(`DROP TRIGGER test_full`)
	require.NoError(t, err)
	require.NoError(t, once())
	open, err = c.OpenOutageRecords()
	require.NoError(t, err)
	require.Len(t, open, 1, "the outage stored by the next run is in the history")
	assert.Equal(t, "checkout", open[0].Service)
}
