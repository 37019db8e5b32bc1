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

	"sitroom/model"
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
	// At is when it was moved (UTC).
	At time.Time
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
	if c := r.copied(); c != "" {
		fmt.Fprintf(&b, "; copied into it from the old file: %s rows", c)
	}
	if len(r.Lost) > 0 {
		fmt.Fprintf(&b, "; NOT copied (still in %s): %s", r.MovedTo, strings.Join(r.Lost, "; "))
	}
	return b.String()
}

// Note is the warning in one short line for a status line: when, where
// the file went (beside the cache), what was copied; String has the
// details.
func (r *Recovery) Note() string {
	var b strings.Builder
	if strings.HasPrefix(r.Reason, "is not") {
		b.WriteString("cache was not a SQLite database")
	} else {
		b.WriteString("cache was corrupt")
	}
	if !r.At.IsZero() {
		fmt.Fprintf(&b, " at %s", r.At.Local().Format("15:04:05"))
	}
	fmt.Fprintf(&b, ": moved aside to %s, a fresh one was created", filepath.Base(r.MovedTo))
	if c := r.copied(); c != "" {
		fmt.Fprintf(&b, " with %s rows copied", c)
	}
	if len(r.Lost) > 0 {
		b.WriteString("; some rows NOT copied, see the log")
	}
	return b.String()
}

// copied lists the rows copied per table: "41 audit, 80 outbox".
func (r *Recovery) copied() string {
	var parts []string
	for _, tc := range r.Copied {
		if tc.Rows > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", tc.Rows, tc.Table))
		}
	}
	return strings.Join(parts, ", ")
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
// Open: corruption in pages that opening does not read shows later, when
// the open rows are loaded or written, and the file is replaced then the
// same way (see Recovered).
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
	c, rec, err := replace(path, abs, busy, now().UTC(), reason)
	if c != nil {
		c.recovered = rec
	}
	return c, rec, err
}

// replace moves the unusable file at abs aside, copies the operators'
// record out of it (unless it is not SQLite at all) into a fresh cache
// created at path, and returns that cache.
func replace(path, abs string, busy time.Duration, at time.Time, reason string) (*Cache, *Recovery, error) {
	moved, err := moveAside(abs, at)
	if err != nil {
		return nil, nil, fmt.Errorf("cache %s %s, and moving it aside failed (move it yourself; it is only a cache): %w", path, reason, err)
	}
	rec := &Recovery{Path: path, MovedTo: moved, Reason: reason, At: at}
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

// Recovered returns what the last replacement of this Cache's file did
// (nil if it never was replaced): by OpenRecover, or at run time, when
// loading or writing the open rows found the file corrupt (see recoverFrom).
func (c *Cache) Recovered() *Recovery {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.recovered
}

// recoverFrom replaces the file as OpenRecover does when err (from a call
// holding connMu, its transaction rolled back) says it is corrupt: damage
// Open does not read shows only when the open rows are loaded or written.
// The file is closed, moved aside with the operators' record copied into
// a fresh cache at the same path, whose connections this Cache then uses,
// with an empty mirror loaded again by the next call. It reports whether
// the caller should try again; it returns err unchanged when the file is
// not corrupt, and err joined with what went wrong when the replacement
// failed. If the file at the path is no longer the one this Cache opened
// (another process replaced it), that one is opened, and nothing moved.
// connMu must be held.
func (c *Cache) recoverFrom(err error) (bool, error) {
	if err == nil || c.closed || !isCorrupt(err) {
		return false, err
	}
	abs, aerr := filepath.Abs(c.path)
	if aerr != nil {
		return false, err
	}
	reason := "is corrupt (" + firstProblem(abs, err) + ")"
	if cerr := c.closeFile(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	var fresh *Cache
	var rec *Recovery
	var rerr error
	if fi, serr := os.Stat(abs); serr == nil && c.file != nil && !os.SameFile(fi, c.file) {
		fresh, rerr = open(c.path, c.busy)
	} else {
		fresh, rec, rerr = replace(c.path, abs, c.busy, time.Now().UTC(), reason)
		if fresh == nil {
			fresh, _ = open(c.path, c.busy) // the file as it is, if that can be opened at all
		}
	}
	if fresh == nil {
		c.closed = true
		return false, errors.Join(err, rerr)
	}
	c.poolMu.Lock()
	c.db = fresh.db
	c.poolMu.Unlock()
	c.conn, c.st, c.file = fresh.conn, fresh.st, fresh.file
	c.dv, c.seq, c.srcs, c.intern, c.strs = 0, 0, fresh.srcs, fresh.intern, fresh.strs
	c.loaded.Store(false)
	c.mu.Lock()
	c.rows, c.statuses, c.tk = nil, nil, ticketMirror{}
	if rec != nil {
		c.recovered = rec
	}
	c.mu.Unlock()
	if rerr != nil {
		return false, errors.Join(err, rerr)
	}
	return true, nil
}

// rowError is a row whose stored JSON does not decode: the file is
// corrupt although SQLite reads it.
type rowError struct {
	path, row string
	err       error
}

func (e *rowError) Error() string {
	return fmt.Sprintf("cache %s is corrupt (%s; move it aside, it is only a cache): %v", e.path, e.row, e.err)
}

func (e *rowError) Unwrap() error { return e.err }

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
	var re *rowError
	return errors.As(err, &re) || errors.As(err, &se) && (se.Code == sqlite3.ErrCorrupt || se.Code == sqlite3.ErrNotADB)
}

// firstProblem runs PRAGMA quick_check on the file, read-only, and returns
// its first finding, or openErr's SQLite message when the check cannot run.
func firstProblem(abs string, openErr error) string {
	msg := openErr.Error()
	var se sqlite3.Error
	var re *rowError
	if errors.As(openErr, &re) {
		msg = re.row + " does not decode: " + re.err.Error()
	} else if errors.As(openErr, &se) {
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
				lost = append(lost, fmt.Sprintf("%s: %s could not be written: %v", t.name, model.Plural(failed, "row", "rows"), firstErr))
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
