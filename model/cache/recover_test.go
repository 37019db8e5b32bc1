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
)

var recoverAt = func() time.Time { return time.Date(2026, 11, 26, 10, 15, 0, 0, time.UTC) }

// A text file where the cache should be is moved aside, byte for byte,
// and a working cache takes its place.
func TestOpenRecoverMovesATextFileAside(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cache.db")
	content := []byte(strings.Repeat("this is a config file, not a database\n", 200))
	require.NoError(t, os.WriteFile(path, content, 0o600))

	c, rec, err := openRecover(path, BusyTimeout, recoverAt)
	require.NoError(t, err)
	defer c.Close()
	require.NotNil(t, rec)
	assert.Equal(t, path+".corrupt-20261126T101500Z", rec.MovedTo)
	got, err := os.ReadFile(rec.MovedTo)
	require.NoError(t, err)
	assert.Equal(t, content, got, "the file is moved, not changed")
	msg := rec.String()
	assert.Contains(t, msg, path+" is not a SQLite database")
	assert.Contains(t, msg, "moved aside to "+rec.MovedTo)
	assert.Contains(t, msg, "fresh cache")

	_, err = c.Ingest("am", []model.Alert{alert("A")}, at(0))
	require.NoError(t, err, "the fresh cache works")
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	// A second bad file in the same second does not overwrite the first.
	require.NoError(t, c.Close())
	_ = os.Remove(path + "-wal")
	_ = os.Remove(path + "-shm")
	require.NoError(t, os.WriteFile(path, []byte("garbage again, a longer line than a header"), 0o600))
	c2, rec2, err := openRecover(path, BusyTimeout, recoverAt)
	require.NoError(t, err)
	defer c2.Close()
	assert.Equal(t, path+".corrupt-20261126T101500Z-1", rec2.MovedTo)
	got, err = os.ReadFile(rec.MovedTo)
	require.NoError(t, err)
	assert.Equal(t, content, got)
}

// fillForDamage writes a cache whose first pages hold the operators'
// record (acks with pending silences, notes, an escalation) and whose last
// pages hold many alerts, and closes it (checkpointed into the main file).
func fillForDamage(t *testing.T, path string) (acks int, uids []string) {
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
	note := &model.Action{AuditEntry: model.AuditEntry{At: t0, Operator: "bob", Role: model.RoleTier1, Verb: model.VerbNote,
		Service: "svc-00", Comment: "db failover started 09:02"}}
	_, err = c.RecordAction(note)
	require.NoError(t, err)
	uids = append(uids, note.UID)
	var alerts []model.Alert
	for i := range 3000 {
		alerts = append(alerts, alert(fmt.Sprintf("Alert%04d", i), "pad", strings.Repeat("x", 200)))
	}
	_, err = c.Ingest("am-eu", alerts, at(0))
	require.NoError(t, err)
	require.NoError(t, c.Close())
	_, err = os.Stat(path + "-wal")
	require.ErrorIs(t, err, os.ErrNotExist, "closing checkpoints the WAL into the file")
	return acks, uids
}

func checkSalvaged(t *testing.T, c *Cache, rec *Recovery, acks int, uids []string) {
	t.Helper()
	log, err := c.AuditLog(time.Time{})
	require.NoError(t, err)
	var got []string
	for _, e := range log {
		got = append(got, e.UID)
	}
	assert.ElementsMatch(t, uids, got, "every audit row is in the fresh cache")
	open, err := c.OpenAcks()
	require.NoError(t, err)
	assert.Len(t, open, acks, "the acks are still in force")
	due, err := c.DueDeliveries(t0.Add(24*time.Hour), 1000)
	require.NoError(t, err)
	assert.Len(t, due, 2*acks, "the undelivered silences are still due")
	b, err := c.Board(t0, 10)
	require.NoError(t, err)
	require.NotNil(t, b)
	assert.Contains(t, rec.String(), fmt.Sprintf("%d audit", len(uids)))
	assert.Contains(t, rec.String(), fmt.Sprintf("%d outbox", 2*acks))
	assert.Empty(t, rec.Lost)
	rows, _, err := c.Load()
	require.NoError(t, err)
	assert.Empty(t, rows, "alerts are not copied: the next poll rebuilds them")
}

// A SQLite file cut short (a disk that filled, a bad copy) fails to open;
// it is moved aside and everything operators did is copied out first.
func TestOpenRecoverTruncatedSQLiteKeepsTheAuditLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	acks, uids := fillForDamage(t, path)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(path, fi.Size()*2/3))
	_, err = Open(path)
	require.Error(t, err, "a truncated cache does not open")

	c, rec, err := openRecover(path, BusyTimeout, recoverAt)
	require.NoError(t, err)
	defer c.Close()
	require.NotNil(t, rec)
	assert.Contains(t, rec.String(), "is corrupt")
	moved, err := os.Stat(rec.MovedTo)
	require.NoError(t, err)
	assert.Equal(t, fi.Size()*2/3, moved.Size(), "the old file is kept as it was")
	checkSalvaged(t, c, rec, acks, uids)
}

// A SQLite file with garbage over the alerts table's root page: the
// alerts cannot be read, the audit log can.
func TestOpenRecoverGarbledSQLiteKeepsTheAuditLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	acks, uids := fillForDamage(t, path)
	db := rawDB(t, path)
	var root int64
	var pageSize int64
	require.NoError(t, db.QueryRow(`SELECT rootpage FROM sqlite_master WHERE name = 'alerts'`).Scan(&root))
	require.NoError(t, db.QueryRow(`PRAGMA page_size`).Scan(&pageSize))
	require.NoError(t, db.Close())
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	garbage := make([]byte, pageSize)
	for i := range garbage {
		garbage[i] = byte(i*7 + 3)
	}
	_, err = f.WriteAt(garbage, (root-1)*pageSize)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	c, rec, err := openRecover(path, BusyTimeout, recoverAt)
	require.NoError(t, err)
	defer c.Close()
	require.NotNil(t, rec)
	assert.Contains(t, rec.String(), "is corrupt")
	checkSalvaged(t, c, rec, acks, uids)
}

// When the audit table itself is damaged, what cannot be read or copied
// is named in the warning, and stays in the moved file.
func TestOpenRecoverSaysWhatItCouldNotCopy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	fillForDamage(t, path)
	db := rawDB(t, path)
	var auditRoot, alertsRoot, pageSize int64
	require.NoError(t, db.QueryRow(`SELECT rootpage FROM sqlite_master WHERE name = 'audit'`).Scan(&auditRoot))
	require.NoError(t, db.QueryRow(`SELECT rootpage FROM sqlite_master WHERE name = 'alerts'`).Scan(&alertsRoot))
	require.NoError(t, db.QueryRow(`PRAGMA page_size`).Scan(&pageSize))
	require.NoError(t, db.Close())
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	for _, root := range []int64{auditRoot, alertsRoot} {
		_, err = f.WriteAt([]byte{0x42}, (root-1)*pageSize) // not a b-tree page type
		require.NoError(t, err)
	}
	require.NoError(t, f.Close())

	c, rec, err := openRecover(path, BusyTimeout, recoverAt)
	require.NoError(t, err)
	defer c.Close()
	require.NotNil(t, rec)
	msg := rec.String()
	assert.Contains(t, msg, "NOT copied (still in "+rec.MovedTo+")")
	assert.Regexp(t, `audit: .*malformed`, msg)
	assert.Contains(t, msg, "outbox: 80 rows could not be written", "outbox rows whose audit row is lost are named, not dropped quietly")
	assert.Contains(t, msg, "acks: 40 rows could not be written")
	assert.Contains(t, msg, "notes: 1 row could not be written")
}

// Only a file SQLite calls not-a-database or corrupt is moved: a file of
// a newer schema is refused and left where it is.
func TestOpenRecoverLeavesANewerSchemaAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	c, err := Open(path)
	require.NoError(t, err)
	require.NoError(t, c.Close())
	db := rawDB(t, path)
	_, err = db.Exec(fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion+1))
	require.NoError(t, err)
	require.NoError(t, db.Close())

	_, rec, err := OpenRecover(path)
	require.Error(t, err)
	assert.Nil(t, rec)
	assert.Contains(t, err.Error(), "newer")
	matches, _ := filepath.Glob(path + ".corrupt-*")
	assert.Empty(t, matches, "nothing moved")

	// And a healthy file opens with no recovery at all.
	require.NoError(t, os.Remove(path))
	c, rec, err = OpenRecover(path)
	require.NoError(t, err)
	assert.Nil(t, rec)
	require.NoError(t, c.Close())
}
