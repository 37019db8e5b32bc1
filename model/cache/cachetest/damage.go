// Package cachetest damages cache files the way disks and bad copies do,
// for the tests of what sitroom does with them.
package cachetest

import (
	"database/sql"
	"encoding/binary"
	"net/url"
	"os"
	"testing"

	_ "github.com/mattn/go-sqlite3" // the driver the cache uses

	"github.com/stretchr/testify/require"
)

// DamageLastAlertsPage overwrites the next to last leaf page of the
// alerts table (some of its newest rows, deep in the file) with garbage
// and returns its page number. The cache at path must be closed (its WAL checkpointed into
// it). Opening the file still works, as do reads that do not touch that
// page; reading every open row fails with SQLite's "database disk image
// is malformed".
func DamageLastAlertsPage(t testing.TB, path string) int64 {
	t.Helper()
	_, err := os.Stat(path + "-wal")
	require.ErrorIs(t, err, os.ErrNotExist, "the cache is closed, its WAL checkpointed")
	u := url.URL{Scheme: "file", Path: path}
	db, err := sql.Open("sqlite3", u.String()+"?mode=ro&immutable=1") // immutable: no -wal or -shm left behind
	require.NoError(t, err)
	var root int64
	err = db.QueryRow(`SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = 'alerts'`).Scan(&root)
	require.NoError(t, db.Close())
	require.NoError(t, err)

	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	var h [100]byte
	_, err = f.ReadAt(h[:], 0)
	require.NoError(t, err)
	pageSize := int64(binary.BigEndian.Uint16(h[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	}
	// Down the right-most pointers of the table b-tree's interior pages
	// (type 5) to the last one, whose last cell's child is the leaf
	// (type 13) before the last: the last leaf is read by Open.
	page, leaf := root, int64(0)
	for {
		base := (page - 1) * pageSize
		hdr := base
		if page == 1 {
			hdr += 100
		}
		var ph [12]byte
		_, err := f.ReadAt(ph[:], hdr)
		require.NoError(t, err)
		if ph[0] == 13 {
			break
		}
		require.Equal(t, byte(5), ph[0], "page %d of the alerts table is a table b-tree page", page)
		cells := int64(binary.BigEndian.Uint16(ph[3:5]))
		require.NotZero(t, cells)
		var ptr [2]byte
		_, err = f.ReadAt(ptr[:], hdr+12+2*(cells-1))
		require.NoError(t, err)
		var child [4]byte
		_, err = f.ReadAt(child[:], base+int64(binary.BigEndian.Uint16(ptr[:])))
		require.NoError(t, err)
		leaf = int64(binary.BigEndian.Uint32(child[:]))
		page = int64(binary.BigEndian.Uint32(ph[8:12]))
	}
	require.NotZero(t, leaf, "the alerts table spans more than its root page")
	page = leaf
	garbage := make([]byte, pageSize)
	for i := range garbage {
		garbage[i] = byte(i*7 + 3)
	}
	_, err = f.WriteAt(garbage, (page-1)*pageSize)
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	return page
}
