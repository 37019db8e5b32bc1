package cache

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Recovery says what OpenRecover did with a cache file it could not use:
// where the file now is, why it was set aside, and what of the operators'
// record (audit log, outbox, acks, escalations, notes) was copied into the
// fresh cache.
type Recovery struct {
	// Path is the cache file, now a fresh one.
	Path string
	// MovedTo is where the unusable file was moved (its -wal and -shm
	// files, if any, beside it with the same suffixes).
	MovedTo string
	// Reason is what was wrong with it, in words.
	Reason string
	// Copied counts the rows copied per table, in salvageTables order.
	Copied []TableCount
	// Lost says, per table, what could not be read or copied; those rows
	// are still in the moved file.
	Lost []string
}

// TableCount is a number of rows of one table.
type TableCount struct {
	Table string
	Rows  int
}

// String is the warning to show the operator, one paragraph.
func (r *Recovery) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cache %s %s; it was moved aside to %s and a fresh cache was created", r.Path, r.Reason, r.MovedTo)
	var parts []string
	for _, tc := range r.Copied {
		if tc.Rows > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", tc.Rows, tc.Table))
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(&b, "; copied into it from the old file: %s rows", strings.Join(parts, ", "))
	}
	if len(r.Lost) > 0 {
		fmt.Fprintf(&b, "; NOT copied (still in %s): %s", r.MovedTo, strings.Join(r.Lost, "; "))
	}
	return b.String()
}

// salvageTables are the tables holding what operators did, copied out of
// a corrupt cache before a fresh one replaces it, parents first (the
// others reference audit ids). Alerts, tickets, source status and history
// are rebuilt by the next polls and are not copied.
var salvageTables = []struct{ name, cols string }{
	{"audit", "id, uid, at, operator, role, host, ssh_client, verb, service, target, comment, upstream, state, reason"},
	{"outbox", "id, action_id, kind, dest, key, payload, state, attempts, next_at, ref, error, until"},
	{"acks", "id, service, alert_keys, by, at, until, comment, cleared_at, cleared_by"},
	{"escalations", "id, service, level, who, contact, by, at, comment, cleared_at"},
	{"notes", "id, service, by, at, text"},
}

// sqliteHeader opens every SQLite 3 database file.
var sqliteHeader = []byte("SQLite format 3\x00")

// OpenRecover is Open for the process that owns the cache: a file at path
// that is not a SQLite database, or a SQLite database SQLite finds corrupt
// (on opening it or by PRAGMA quick_check once opening reported a
// problem), is never deleted: it is renamed to <path>.corrupt-<UTC time>
// with its -wal and -shm files, every readable row of the audit log,
// outbox, acks, escalations and notes is copied from it into a fresh
// cache created at path, and the returned Recovery (nil when nothing was
// wrong) says so. Every other failure (locked, unreadable, a newer schema,
// a directory) is returned as Open returns it, and the file is left alone.
//
// The integrity check runs only when the file is not a database or Open
// failed with a corruption error, so a healthy cache opens as fast as with
// Open: corruption in pages that opening does not read shows later, as an
// error naming the file.
func OpenRecover(path string) (*Cache, *Recovery, error) {
	return openRecover(path, BusyTimeout, time.Now)
}

func openRecover(path string, busy time.Duration, now func() time.Time) (*Cache, *Recovery, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, nil, fmt.Errorf("cache %s: %w", path, err)
	}
	reason := foreign(abs)
	if reason == "" {
		c, err := open(path, busy)
		if err == nil || !isCorrupt(err) {
			return c, nil, err
		}
		reason = "is corrupt (" + firstProblem(abs, err) + ")"
	}
	moved, err := moveAside(abs, now().UTC())
	if err != nil {
		return nil, nil, fmt.Errorf("cache %s %s, and moving it aside failed (move it yourself; it is only a cache): %w", path, reason, err)
	}
	rec := &Recovery{Path: path, MovedTo: moved, Reason: reason}
	var rows [][][]any
	if !strings.HasPrefix(reason, "is not") {
		rows = salvage(moved, rec)
	}
	c, err := open(path, busy)
	if err != nil {
		return nil, rec, fmt.Errorf("%s; but the fresh cache could not be opened: %w", rec, err)
	}
	if len(rows) > 0 {
		restore(c, rows, rec)
	}
	return c, rec, nil
}

// foreign reports, in words, why the file at abs is not a SQLite database
// ("" when it is one, is empty or does not exist).
func foreign(abs string) string {
	f, err := os.Open(abs)
	if err != nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
		return ""
	}
	head := make([]byte, len(sqliteHeader))
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return ""
	}
	if n < len(head) || !bytes.Equal(head, sqliteHeader) {
		return "is not a SQLite database"
	}
	return ""
}

func isCorrupt(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrCorrupt || se.Code == sqlite3.ErrNotADB)
}

// firstProblem runs PRAGMA quick_check on the file, read-only, and returns
// its first finding, or openErr's SQLite message when the check cannot run.
func firstProblem(abs string, openErr error) string {
	msg := openErr.Error()
	var se sqlite3.Error
	if errors.As(openErr, &se) {
		msg = se.Error()
	}
	db, err := sql.Open("sqlite3", roDSN(abs))
	if err != nil {
		return msg
	}
	defer db.Close()
	var first string
	if err := db.QueryRow("PRAGMA quick_check(1)").Scan(&first); err != nil || first == "ok" {
		return msg
	}
	return "quick_check: " + first
}

// roDSN opens abs read-only.
func roDSN(abs string) string {
	u := url.URL{Scheme: "file", Path: abs}
	return u.String() + "?mode=ro&_busy_timeout=1000"
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// fitHeader lowers the page count in a SQLite file's header (bytes 28-31,
// trusted by SQLite while bytes 92-95 match the change counter at 24-27)
// to the number of whole pages the file holds, when it claims more.
func fitHeader(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	var h [100]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return nil // too short to hold a header: SQLite will say what it makes of it
	}
	pageSize := int64(binary.BigEndian.Uint16(h[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	}
	fi, err := f.Stat()
	if err != nil || pageSize < 512 {
		return err
	}
	have := uint32(fi.Size() / pageSize)
	if binary.BigEndian.Uint32(h[28:32]) <= have {
		return nil
	}
	binary.BigEndian.PutUint32(h[28:32], have)
	_, err = f.WriteAt(h[28:32], 28)
	return err
}

// moveAside renames abs and its -wal and -shm files to
// abs.corrupt-<at>[-n]<suffix> and returns the new name of abs.
func moveAside(abs string, at time.Time) (string, error) {
	base := abs + ".corrupt-" + at.Format("20060102T150405Z")
	dest := base
	for i := 1; ; i++ {
		if _, err := os.Lstat(dest); errors.Is(err, fs.ErrNotExist) {
			break
		}
		dest = fmt.Sprintf("%s-%d", base, i)
	}
	if err := os.Rename(abs, dest); err != nil {
		return "", err
	}
	for _, sfx := range []string{"-wal", "-shm"} {
		if err := os.Rename(abs+sfx, dest+sfx); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return dest, fmt.Errorf("moved %s but not its %s file: %w", dest, sfx, err)
		}
	}
	return dest, nil
}

// salvage reads every readable row of the salvage tables from the moved
// file; what it cannot read is noted in rec.Lost. It reads a scratch copy
// (the file and its -wal), so the moved file stays exactly as it was. In
// the copy, a header claiming more pages than the file holds (a file cut
// short) is set to what the file holds, as SQLite refuses to read such a
// file at all: the pages that are there become readable.
func salvage(moved string, rec *Recovery) [][][]any {
	out := make([][][]any, len(salvageTables))
	scratch := moved + ".salvage"
	defer func() {
		for _, sfx := range []string{"", "-wal", "-shm", "-journal"} {
			_ = os.Remove(scratch + sfx)
		}
	}()
	if err := copyFile(moved, scratch); err != nil {
		rec.Lost = append(rec.Lost, "the old file could not be read: "+err.Error())
		return out
	}
	if err := copyFile(moved+"-wal", scratch+"-wal"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		rec.Lost = append(rec.Lost, "the old file's -wal could not be read: "+err.Error())
	}
	if err := fitHeader(scratch); err != nil {
		rec.Lost = append(rec.Lost, "the old file could not be read: "+err.Error())
		return out
	}
	u := url.URL{Scheme: "file", Path: scratch}
	db, err := sql.Open("sqlite3", u.String()+"?_busy_timeout=1000")
	if err != nil {
		rec.Lost = append(rec.Lost, "the old file could not be opened: "+err.Error())
		return out
	}
	defer db.Close()
	for i, t := range salvageTables {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, t.name).Scan(&n); err != nil {
			rec.Lost = append(rec.Lost, fmt.Sprintf("%s: %v", t.name, err))
			continue
		}
		if n == 0 {
			continue // an older schema, or a file that never had it
		}
		rows, err := db.Query(`SELECT ` + t.cols + ` FROM ` + t.name + ` ORDER BY rowid`)
		if err != nil {
			rec.Lost = append(rec.Lost, fmt.Sprintf("%s: %v", t.name, err))
			continue
		}
		ncol := len(strings.Split(t.cols, ","))
		for rows.Next() {
			vals := make([]any, ncol)
			ptrs := make([]any, ncol)
			for j := range vals {
				ptrs[j] = &vals[j]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rec.Lost = append(rec.Lost, fmt.Sprintf("%s: a row: %v", t.name, err))
				continue
			}
			out[i] = append(out[i], vals)
		}
		if err := rows.Err(); err != nil {
			last := "the start"
			if k := len(out[i]); k > 0 {
				last = fmt.Sprintf("id %v", out[i][k-1][0])
			}
			rec.Lost = append(rec.Lost, fmt.Sprintf("%s: rows after %s unreadable: %v", t.name, last, err))
		}
		rows.Close()
	}
	return out
}

// restore writes the salvaged rows into the fresh cache in one
// transaction, keeping their ids (so outbox rows, acks, escalations and
// notes still point at their audit row); each row has its own savepoint,
// so one that cannot be written costs only itself.
func restore(c *Cache, rows [][][]any, rec *Recovery) {
	counts := make([]TableCount, len(salvageTables))
	var lost []string
	err := c.actTx("copy the audit log", func(ctx context.Context, tx *sql.Conn) error {
		for i, t := range salvageTables {
			ncol := len(strings.Split(t.cols, ","))
			q := `INSERT INTO ` + t.name + `(` + t.cols + `) VALUES (?` + strings.Repeat(", ?", ncol-1) + `)`
			counts[i].Table = t.name
			failed := 0
			var firstErr error
			for _, vals := range rows[i] {
				if _, err := tx.ExecContext(ctx, "SAVEPOINT salvage"); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, q, vals...); err != nil {
					failed++
					if firstErr == nil {
						firstErr = err
					}
					if _, err := tx.ExecContext(ctx, "ROLLBACK TO salvage"); err != nil {
						return err
					}
				} else {
					counts[i].Rows++
				}
				if _, err := tx.ExecContext(ctx, "RELEASE salvage"); err != nil {
					return err
				}
			}
			if failed > 0 {
				lost = append(lost, fmt.Sprintf("%s: %d rows could not be written: %v", t.name, failed, firstErr))
			}
		}
		return nil
	})
	if err != nil {
		rec.Lost = append(rec.Lost, "the copy failed, nothing was copied: "+err.Error())
		return
	}
	rec.Copied = counts
	rec.Lost = append(rec.Lost, lost...)
}
