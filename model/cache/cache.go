// Package cache is sitroom's local SQLite cache: the alerts every source
// returned, the polling status of each source, the history of resolved
// alerts and the poller lease, shared by every sitroom process on the host.
//
// # Schema (version 16, kept in PRAGMA user_version; version 2's tables are
// described in actions.go, version 3's in tickets.go, versions 4, 6, 7 and
// 13 in history.go, version 5's index in preview.go, version 8's columns
// in actions.go, version 9's in tickets.go, versions 10, 11 and 15 in
// findings.go, version 12's columns in team.go, version 14's rollups in
// stats.go, version 16's column in digest.go)
//
//	alerts   one row per alert per source while it is open, kept after it
//	         resolves (history):
//	         id, source, key, state, starts_at, generator_url (user info stripped),
//	         labels, annotations (JSON objects), silenced_by, inhibited_by
//	         (JSON arrays), first_seen, last_seen, missed, resolved_at,
//	         fired_seen (version 7: first seen firing or suppressed)
//	         (NULL while open), seq (the write that last changed the row),
//	         severity (model.Severity of the severity label; version 5),
//	         digest (version 16: of the alert object the row was last
//	         written from, by a process that polls once; else NULL).
//	         Unique (source, key) WHERE resolved_at IS NULL, so a key that
//	         resolves and comes back is a new row and history keeps the old;
//	         index on resolved_at for history, on seq for incremental
//	         reloads, and of the open rows on severity for Preview.
//	sources  one row per source: type, last_attempt, last_success,
//	         last_error, latency_ns, items, note, findings (version 10:
//	         what its upstream reports of its alerting pipeline, JSON),
//	         health_read (version 15: when that was last read).
//	pipeline_history  (version 11) each episode of a severe finding:
//	         source, kind, subject, text, began, ended (0 while open).
//	lease    the poller heartbeat: holder, expires_at.
//	meta     k/v integers; "seq" counts the writes that changed alerts,
//	         "team_cursor" is the team store's cursor (version 12),
//	         "team_history_id" the file's id in the team's history views.
//
// Every time is stored as INTEGER unix nanoseconds (UTC); 0 is the zero time.
// Migrations run in one IMMEDIATE transaction at Open; a file whose schema
// version is newer than this build knows is refused rather than touched.
//
// # Writes follow churn, not poll size
//
// The Cache keeps an in-memory mirror of the open rows, (source, key) → row,
// and Ingest diffs each poll against it, comparing each alert with its row
// field by field over what model.Alert.ContentHash covers (exact, and a
// fraction of the cost of hashing every alert every poll): only inserted,
// changed, missed, resolved or reappearing rows are written, all in one
// transaction with prepared statements. A poll that changes nothing runs no
// SQL write statement at all. In particular last_seen is kept in memory and
// written only when the row is written for another reason (content change,
// miss, resolution, reappearance), so last_seen on disk may lag: another
// process reading the file sees the last_seen of the last write. The source
// status row follows the same rule: it is written when the error, item
// count, note or type changed, or when it was last written more than
// StatusRefresh ago, so its last_attempt/last_success/latency on disk may
// lag by up to that much.
//
// # Concurrency
//
// Several processes may share one file (WAL journal, synchronous=NORMAL,
// busy_timeout 5 s). Readers never block the writer nor the writer readers;
// two writers queue on SQLite's write lock up to the busy timeout, after
// which the error names the file and says it is locked.
//
// Within a process every method of a Cache is safe for concurrent use. All
// writes and mirror maintenance run on one dedicated connection guarded by a
// mutex; the published view (the open rows and source statuses Load returns)
// is swapped under a second, read-write mutex held only for a pointer swap.
// Open does not fill the mirror: the first call that needs it does (and a
// Load or Tickets until then waits for it, rather than answer "nothing
// open"); Preview reads the file without it. Once it is filled, Load
// never waits for a write transaction of its own Cache: it tries the
// connection mutex and, if a write (an Ingest, say) holds it, it returns the
// published view as it stands, which that write will refresh when it
// commits. Otherwise it asks SQLite (PRAGMA data_version on the dedicated
// connection, which changes only when another connection committed) whether
// anyone else wrote, and if so reloads just the rows whose seq is newer,
// plus the small sources table. Every write also performs that check first,
// inside its transaction, so it never diffs against a stale mirror.
//
// Rows handed out are never modified afterwards: an update publishes a new
// *model.AlertRow. Ingest keeps references to the maps and slices of the
// alerts it is given; the caller must not modify them after the call.
package cache

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"

	"sitroom/model"
)

// SchemaVersion is the schema version this build writes and understands.
const SchemaVersion = 16

// BusyTimeout is how long a statement waits for another process's write
// lock before failing with a "locked" error.
const BusyTimeout = 5 * time.Second

// StatusRefresh is the longest a successful poll's status goes unwritten
// when nothing else about the source changed.
const StatusRefresh = 15 * time.Second

// ErrClosed is returned by methods called after Close.
var ErrClosed = errors.New("cache is closed")

// migrations[i] moves the schema from version i to i+1.
var migrations = []string{
	`CREATE TABLE alerts (
		id            INTEGER PRIMARY KEY,
		source        TEXT    NOT NULL,
		key           TEXT    NOT NULL,
		state         TEXT    NOT NULL,
		starts_at     INTEGER NOT NULL,
		generator_url TEXT    NOT NULL,
		labels        TEXT    NOT NULL,
		annotations   TEXT    NOT NULL,
		silenced_by   TEXT    NOT NULL,
		inhibited_by  TEXT    NOT NULL,
		first_seen    INTEGER NOT NULL,
		last_seen     INTEGER NOT NULL,
		missed        INTEGER NOT NULL DEFAULT 0,
		resolved_at   INTEGER,
		seq           INTEGER NOT NULL
	);
	CREATE UNIQUE INDEX alerts_open ON alerts(source, key) WHERE resolved_at IS NULL;
	CREATE INDEX alerts_resolved_at ON alerts(resolved_at) WHERE resolved_at IS NOT NULL;
	CREATE INDEX alerts_seq ON alerts(seq);
	CREATE TABLE sources (
		name         TEXT    PRIMARY KEY,
		type         TEXT    NOT NULL,
		last_attempt INTEGER NOT NULL,
		last_success INTEGER NOT NULL,
		last_error   TEXT    NOT NULL,
		latency_ns   INTEGER NOT NULL,
		items        INTEGER NOT NULL,
		note         TEXT    NOT NULL
	) WITHOUT ROWID;
	CREATE TABLE lease (
		name       TEXT    PRIMARY KEY,
		holder     TEXT    NOT NULL,
		expires_at INTEGER NOT NULL
	) WITHOUT ROWID;
	CREATE TABLE meta (
		k TEXT    PRIMARY KEY,
		v INTEGER NOT NULL
	) WITHOUT ROWID;
	INSERT INTO meta(k, v) VALUES ('seq', 0);`,
	schemaActions,      // 2: audit log, outbox, acks, escalations, notes, silences (actions.go)
	schemaTickets,      // 3: tickets of the ticket sources, open and closed (tickets.go)
	schemaHistory,      // 4: outage, source and ticket backlog history (history.go)
	schemaSeverity,     // 5: open alerts by severity, for Preview (preview.go)
	schemaOutageTimes,  // 6: outages' first sight and provisional close (history.go)
	schemaFiredSeen,    // 7: when each alert row was first seen firing (history.go)
	schemaSilenceState, // 8: silences' start, state and matchers; acks ended upstream (actions.go)
	schemaPriorityName, // 9: tickets' priority as their desk names it (tickets.go)
	schemaFindings,     // 10: what each source's upstream reports of its alerting pipeline (findings.go)
	schemaPipeline,     // 11: the episodes of those findings, for the handoff (findings.go)
	schemaTeam,         // 12: what a console of a team has to push, deliveries of others, the team cursor (team.go)
	schemaTeamHistory,  // 13: history records not yet in the team store, cut-offs from it (history.go)
	schemaStats,        // 14: alert episode rollups and the indexes stats read a year through (stats.go)
	schemaHealthRead,   // 15: when each source's pipeline health was last read (findings.go)
	schemaAlertDigest,  // 16: the digest of the alert object each row was last written from (digest.go)
}

// Cache is an open cache file. See the package documentation for the
// concurrency contract.
type Cache struct {
	path string
	busy time.Duration
	// poolMu guards db, the pool for the calls that need no mirror
	// (history, actions, Preview): they hold it read-locked while they use
	// the pool (see pool), and a recovery (Recovered) takes it to swap a
	// fresh file's pool in. Taken after connMu, never before it.
	poolMu sync.RWMutex
	db     *sql.DB
	// recovered is the last replacement of a corrupt file, guarded by mu.
	recovered *Recovery
	// file is the file opened (nil if it could not be read), to tell
	// whether another process has replaced it; guarded by connMu.
	file os.FileInfo

	// connMu guards conn, the prepared statements and the mirror below.
	connMu sync.Mutex
	conn   *sql.Conn
	st     stmts
	closed bool
	dv     int64 // PRAGMA data_version of conn when the mirror was last synced
	// loaded is set once the mirror has been filled from the file, by the
	// first call that needs it (Load, Tickets, Ingest, IngestTickets,
	// RecordFailure), not by Open. Read without connMu by Load and Tickets.
	loaded atomic.Bool
	seq    int64 // meta seq the mirror reflects
	srcs   map[string]*source
	gen    uint64 // poll generation, marks the rows seen by one Ingest
	// oncePoll: the process polls once (PollsOnce), so a poll keeps the
	// rows it finds unchanged as they are.
	oncePoll bool
	// digestsStale: a write of this process changed rows since the
	// digests were loaded
	digestsStale bool
	intern       map[string]string
	strs         *interner // shares repeated label and annotation text among loaded rows

	// mu guards the published view.
	mu       sync.RWMutex
	rows     []*model.AlertRow
	statuses []model.SourceStatus
	// planned is the view of a write in progress, published before it
	// commits for the screen only (LoadPlanned, OnPlanned; load.go).
	planned   *view
	onPlanned func()

	tk ticketMirror // open tickets (tickets.go): mirror under connMu, published list under mu

	statsMu sync.Mutex // one StatsFacts at a time takes its connections (stats.go)
}

// source is the mirror of one source: its open rows and status.
type source struct {
	name   string
	byKey  entryIndex
	rows   []*model.AlertRow // open rows as published
	status model.SourceStatus
	disk   model.SourceStatus // the status as last written to or read from disk
	stored bool               // a status row exists on disk
	// digests maps the digests of the open rows to their keys, in a
	// process that polls once (see AlertDigests); replaced, not
	// modified.
	digests map[Digest]string
	// emptySince is when the source began answering with no alerts (or
	// tickets) while the cache held open ones (zero otherwise); see
	// EmptyHold.
	emptySince time.Time
}

// entry is one open row of the mirror.
type entry struct {
	id   int64
	row  *model.AlertRow
	seen uint64 // generation of the last Ingest that returned it
	// ann is the Hash of the row's full annotations: the row holds only
	// model.ShownAnnotations, the file the rest.
	ann uint64
}

// Open opens the cache file at path, creating it (mode 0600, parent
// directories 0700) if it does not exist, and migrating its schema. The
// open rows are loaded into memory by the first call that needs them (a
// Load, say), so Open returns in a few milliseconds whatever the size of
// the file, and Preview can show the most severe rows meanwhile. Open reads
// the root pages of the alerts and tickets tables, so a file damaged there
// fails here. Errors name the path and say what is wrong:
// not a SQLite database, corrupt, locked by another process, or written by
// a newer schema version.
func Open(path string) (*Cache, error) { return open(path, BusyTimeout) }

func open(path string, busy time.Duration) (*Cache, error) {
	if path == "" {
		return nil, errors.New("cache: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("cache %s: %w", path, err)
	}
	if err := prepareFile(abs); err != nil {
		return nil, fmt.Errorf("cache %s: %w", path, err)
	}
	u := url.URL{Scheme: "file", Path: abs}
	// _mutex=no opens each connection in SQLite's multi-thread mode:
	// without the lock SQLite otherwise takes and releases around every
	// call (three per column of each row read), a fifth of the time of
	// reading the open rows. database/sql never uses one connection from
	// two goroutines at once, which is what that mode asks; the driver's
	// interrupt of a cancelled query is safe from any thread in any mode.
	dsn := u.String() + fmt.Sprintf("?_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=%d&_foreign_keys=1&_mutex=no",
		busy.Milliseconds())
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, wrapErr(path, busy, "open", err)
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(2)
	c := &Cache{path: path, busy: busy, db: db, srcs: map[string]*source{}, intern: map[string]string{}, strs: newInterner()}
	c.file, _ = os.Stat(abs)
	if err := c.init(); err != nil {
		if c.conn != nil {
			c.st.close()
			c.conn.Close()
		}
		db.Close()
		return nil, err
	}
	return c, nil
}

func prepareFile(abs string) error {
	dir := filepath.Dir(abs)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		if err := os.Chmod(dir, 0o700); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	fi, err := os.Stat(abs)
	switch {
	case err == nil:
		if fi.IsDir() {
			return errors.New("is a directory, not a cache file")
		}
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil // another process created it in the meantime
	}
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (c *Cache) init() error {
	ctx := context.Background()
	conn, err := c.db.Conn(ctx)
	if err != nil {
		return c.wrap("open", err)
	}
	c.conn = conn
	if err := c.migrate(ctx); err != nil {
		return err
	}
	if err := c.st.prepare(ctx, conn); err != nil {
		return c.wrap("prepare statements", err)
	}
	// The tables' root pages: what loading the mirror here would have
	// found damaged first. Pages further in show when it is loaded.
	for _, q := range []string{
		`SELECT count(*) FROM (SELECT 1 FROM alerts ORDER BY id DESC LIMIT 1)`,
		`SELECT count(*) FROM (SELECT 1 FROM tickets ORDER BY source DESC, id DESC LIMIT 1)`,
	} {
		var n int
		if err := c.conn.QueryRowContext(ctx, q).Scan(&n); err != nil {
			return c.wrap("read cache", err)
		}
	}
	return nil
}

func (c *Cache) userVersion(ctx context.Context) (int, error) {
	var v int
	if err := c.conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, c.wrap("read schema version", err)
	}
	return v, nil
}

func (c *Cache) migrate(ctx context.Context) error {
	v, err := c.userVersion(ctx)
	if err != nil {
		return err
	}
	if v > SchemaVersion {
		return newerSchemaErr(c.path, v)
	}
	if v == SchemaVersion {
		return nil
	}
	return c.inWriteTx(func() error {
		v, err := c.userVersion(ctx) // another process may have migrated meanwhile
		if err != nil {
			return err
		}
		if v > SchemaVersion {
			return newerSchemaErr(c.path, v)
		}
		for ; v < SchemaVersion; v++ {
			if _, err := c.conn.ExecContext(ctx, migrations[v]); err != nil {
				return c.wrap(fmt.Sprintf("migrate schema %d to %d", v, v+1), err)
			}
		}
		if _, err := c.conn.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion)); err != nil {
			return c.wrap("set schema version", err)
		}
		return nil
	})
}

func newerSchemaErr(path string, v int) error {
	return fmt.Errorf("cache %s was written by a newer sitroom (schema version %d; this build knows up to %d): "+
		"upgrade sitroom or use another --db file", path, v, SchemaVersion)
}

// Path is the path the cache was opened with.
func (c *Cache) Path() string { return c.path }

// Close releases the file. Methods called afterwards return ErrClosed; Load
// keeps serving the last published view with ErrClosed.
func (c *Cache) Close() error {
	c.connMu.Lock()
	defer c.connMu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	if err := c.closeFile(); err != nil {
		return c.wrap("close", err)
	}
	return nil
}

// closeFile closes the statements, the dedicated connection and the pool,
// after every call using the pool has finished. connMu must be held.
func (c *Cache) closeFile() error {
	c.st.close()
	err := c.conn.Close()
	c.poolMu.Lock()
	defer c.poolMu.Unlock()
	if err2 := c.db.Close(); err == nil {
		err = err2
	}
	return err
}

// pool returns the connection pool for a call that does not use the
// dedicated connection, and the release to call when that call is done
// with it (a recovery waits for it before it closes the pool). A holder
// must not take connMu.
func (c *Cache) pool() (*sql.DB, func()) {
	c.poolMu.RLock()
	return c.db, c.poolMu.RUnlock
}

// inWriteTx runs fn inside BEGIN IMMEDIATE … COMMIT on the dedicated
// connection; connMu must be held (or the Cache not yet shared).
func (c *Cache) inWriteTx(fn func() error) error {
	return c.inTx("BEGIN IMMEDIATE", fn)
}

// inReadTx runs fn inside a deferred (read) transaction, so every read in
// fn sees one snapshot.
func (c *Cache) inReadTx(fn func() error) error {
	return c.inTx("BEGIN", fn)
}

func (c *Cache) inTx(begin string, fn func() error) error {
	ctx := context.Background()
	if _, err := c.conn.ExecContext(ctx, begin); err != nil {
		return c.wrap("begin transaction", err)
	}
	if err := fn(); err != nil {
		if _, rbErr := c.conn.ExecContext(ctx, "ROLLBACK"); rbErr != nil {
			return errors.Join(err, c.wrap("rollback", rbErr))
		}
		return err
	}
	if _, err := c.conn.ExecContext(ctx, "COMMIT"); err != nil {
		_, _ = c.conn.ExecContext(ctx, "ROLLBACK")
		return c.wrap("commit", err)
	}
	return nil
}

func (c *Cache) dataVersion() (int64, error) {
	var v int64
	if err := c.conn.QueryRowContext(context.Background(), "PRAGMA data_version").Scan(&v); err != nil {
		return 0, c.wrap("read data_version", err)
	}
	return v, nil
}

func (c *Cache) wrap(op string, err error) error { return wrapErr(c.path, c.busy, op, err) }

// wrapErr turns a SQLite error into a message that names the file and says
// what is wrong with it in words.
func wrapErr(path string, busy time.Duration, op string, err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrNotADB:
			return fmt.Errorf("cache %s is not a SQLite database (move it aside; it is only a cache and will be rebuilt): %w", path, err)
		case sqlite3.ErrCorrupt:
			return fmt.Errorf("cache %s is corrupt (move it aside; it is only a cache and will be rebuilt): %w", path, err)
		case sqlite3.ErrBusy, sqlite3.ErrLocked:
			return fmt.Errorf("cache %s is locked by another process (waited %s to %s): %w", path, busy, op, err)
		case sqlite3.ErrReadonly, sqlite3.ErrPerm, sqlite3.ErrCantOpen, sqlite3.ErrAuth:
			return fmt.Errorf("cache %s cannot be opened for writing (%s): %w", path, op, err)
		case sqlite3.ErrFull:
			return fmt.Errorf("cache %s: disk full (%s): %w", path, op, err)
		}
	}
	return fmt.Errorf("cache %s: %s: %w", path, op, err)
}

// stmts are the statements prepared once on the dedicated connection.
type stmts struct {
	insert, update, touch, digest, status, bumpSeq *sql.Stmt
}

func (s *stmts) prepare(ctx context.Context, conn *sql.Conn) error {
	var err error
	p := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = conn.PrepareContext(ctx, q)
		return st
	}
	s.insert = p(`INSERT INTO alerts(source, key, state, starts_at, generator_url, labels, annotations,
		silenced_by, inhibited_by, first_seen, last_seen, missed, resolved_at, seq, severity, fired_seen, digest)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, ?, ?, ?, ?)`)
	s.update = p(`UPDATE alerts SET state = ?, starts_at = ?, generator_url = ?, labels = ?,
		annotations = ?, silenced_by = ?, inhibited_by = ?, last_seen = ?, missed = 0, seq = ?,
		severity = ?, fired_seen = ?, digest = ? WHERE id = ?`)
	s.digest = p(`UPDATE alerts SET digest = ? WHERE id = ?`)
	s.touch = p(`UPDATE alerts SET last_seen = ?, missed = ?, resolved_at = ?, seq = ? WHERE id = ?`)
	s.status = p(`INSERT INTO sources(name, type, last_attempt, last_success, last_error, latency_ns, items, note, health_read)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(name) DO UPDATE SET type = excluded.type, last_attempt = excluded.last_attempt,
		last_success = excluded.last_success, last_error = excluded.last_error,
		latency_ns = excluded.latency_ns, items = excluded.items, note = excluded.note,
		health_read = max(health_read, excluded.health_read)`)
	s.bumpSeq = p(`UPDATE meta SET v = v + 1 WHERE k = 'seq' RETURNING v`)
	return err
}

func (s *stmts) close() {
	for _, st := range []*sql.Stmt{s.insert, s.update, s.touch, s.digest, s.status, s.bumpSeq} {
		if st != nil {
			st.Close()
		}
	}
}
