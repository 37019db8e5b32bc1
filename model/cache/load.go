package cache

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"sitroom/model"
)

const rowCols = `id, source, key, state, starts_at, generator_url, labels, annotations,
	silenced_by, inhibited_by, first_seen, last_seen, missed, resolved_at, fired_seen, digest`

// Load returns the open rows of every source and the source statuses.
//
// It is served from the in-memory mirror. If another process (or another
// Cache on the same file) has committed since the mirror was last synced,
// the changed rows are reloaded from disk first, unless a write of this
// Cache is in progress: Load never waits for one, it returns the view as
// last published, and that write syncs and republishes when it commits.
// On a sync error the published view is returned with the error.
//
// The returned slice and rows are shared and never modified afterwards; the
// caller must not modify them either, and may read them from any goroutine.
// Rows are grouped by source (sorted by name); their order within a source
// is unspecified. The statuses are the caller's copy, sorted by name.
func (c *Cache) Load() ([]*model.AlertRow, []model.SourceStatus, error) {
	var err error
	if c.lockToRead() {
		if c.closed {
			err = ErrClosed
		} else {
			var changed bool
			changed, err = c.syncRecovering()
			if changed {
				c.publish()
			}
		}
		c.connMu.Unlock()
	}
	c.mu.RLock()
	rows, sts := c.rows, c.statuses
	c.mu.RUnlock()
	return rows, append([]model.SourceStatus(nil), sts...), err
}

// LoadCommitted is Load once a write in progress has committed or
// failed: for an action about to act on rows the screen may already show
// from that write (LoadPlanned), such as an ack silencing the alerts of
// an outage that a first poll is still writing. It waits for the write;
// Load does not.
func (c *Cache) LoadCommitted() ([]*model.AlertRow, []model.SourceStatus, error) {
	c.connMu.Lock()
	c.connMu.Unlock() //nolint:staticcheck // waiting for the write is the point
	return c.Load()
}

// Preload fills the mirror now if it is not filled yet, so that the
// first Load or Ingest does not wait for it: a poller calls it on a
// goroutine of its own while its first requests are in flight. A failure
// is left for the call that needs the mirror to meet and report.
func (c *Cache) Preload() {
	if !c.loaded.Load() {
		_, _, _ = c.Load()
	}
}

// lockToRead takes connMu for Load or Tickets and reports whether it did:
// it does not wait for a write of this Cache once the mirror is loaded,
// but before that it must (an empty view would read as "nothing open").
func (c *Cache) lockToRead() bool {
	if c.loaded.Load() {
		return c.connMu.TryLock()
	}
	c.connMu.Lock()
	return true
}

// publish swaps a new view of the mirror in for Load, and drops the
// planned view of a write (LoadPlanned): the write has committed or
// failed. connMu must be held.
func (c *Cache) publish() {
	v := c.viewOf(nil)
	c.mu.Lock()
	c.rows, c.statuses = v.rows, v.statuses
	c.planned = nil
	c.mu.Unlock()
	c.publishTickets()
}

// view is what Load (or LoadPlanned) hands out: the open rows grouped by
// source, sorted by name, and the statuses.
type view struct {
	rows     []*model.AlertRow
	statuses []model.SourceStatus
}

// viewOf builds a view of the mirror; with a plan, its source's rows and
// status are the plan's, as they will be once the plan is written, and
// the mirror is not touched. Without one, each source's rows are
// re-pointed into the view. connMu must be held.
func (c *Cache) viewOf(p *plan) view {
	names := make([]string, 0, len(c.srcs)+1)
	n := 0
	for name, s := range c.srcs {
		names = append(names, name)
		n += len(s.rows)
	}
	if p != nil && p.newSrc {
		names = append(names, p.src.name)
	}
	sort.Strings(names)
	if p != nil {
		n += len(p.rows)
	}
	rows := make([]*model.AlertRow, 0, n)
	sts := make([]model.SourceStatus, 0, len(names))
	for _, name := range names {
		if p != nil && name == p.src.name {
			rows = append(rows, p.rows...)
			sts = append(sts, p.status)
			continue
		}
		s := c.srcs[name]
		start := len(rows)
		rows = append(rows, s.rows...)
		if p == nil {
			// The source's rows become its part of the view: the
			// mirror holds one slice of its rows, not two.
			s.rows = rows[start:len(rows):len(rows)]
		}
		if s.stored || !s.status.LastAttempt.IsZero() {
			sts = append(sts, s.status)
		}
	}
	return view{rows: rows[:len(rows):len(rows)], statuses: sts}
}

// OnPlanned sets fn to be called each time Ingest is about to write a
// poll, once the rows it will write are published as the planned view
// (LoadPlanned) and before the write commits; nil stops it. fn is called
// with the cache locked: it must return at once and not call the Cache
// (a poller signals its snapshot goroutine).
func (c *Cache) OnPlanned(fn func()) {
	c.mu.Lock()
	c.onPlanned = fn
	c.mu.Unlock()
}

// publishPlanned publishes the view p will make once written, for
// LoadPlanned, and tells the OnPlanned function. The mirror and what Load
// returns are not changed: what may not be stored is for the screen only.
// connMu must be held.
func (c *Cache) publishPlanned(p *plan) {
	c.mu.RLock()
	fn := c.onPlanned
	c.mu.RUnlock()
	if fn == nil {
		return
	}
	v := c.viewOf(p)
	c.mu.Lock()
	c.planned = &v
	c.mu.Unlock()
	fn()
}

// LoadPlanned returns the open rows and statuses as they will be once the
// write in progress commits (the rows of the source being written as the
// poll planned them, every other source's as Load has them), or false
// when no write is in progress. It never waits for the write. Its rows
// may never be stored: the write may fail, and then the next Load is the
// truth. For the screen only: nothing may act on or record them. The
// slice and rows are shared and read-only, as Load's.
func (c *Cache) LoadPlanned() ([]*model.AlertRow, []model.SourceStatus, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.planned == nil {
		return nil, nil, false
	}
	return c.planned.rows, append([]model.SourceStatus(nil), c.planned.statuses...), true
}

// syncIfChanged brings the mirror up to date with what other connections
// committed since the last sync, and reports whether it had to. connMu must
// be held. Called inside a transaction, its reads join it; otherwise they
// run in a read transaction of their own so they see one snapshot.
func (c *Cache) syncIfChanged() (bool, error) {
	dv, err := c.dataVersion()
	if err != nil {
		return false, err
	}
	if !c.loaded.Load() {
		if err := c.inNestedReadTx(c.fullReload); err != nil {
			return false, err
		}
		c.dv = dv
		c.loaded.Store(true)
		return true, nil
	}
	if dv == c.dv {
		return false, nil
	}
	if err := c.inNestedReadTx(c.syncDelta); err != nil {
		return false, err
	}
	c.dv = dv
	return true, nil
}

// syncRecovering is syncIfChanged for Load and Tickets: a file found
// corrupt is replaced (recoverFrom) and the fresh one loaded.
func (c *Cache) syncRecovering() (bool, error) {
	changed, err := c.syncIfChanged()
	again, err := c.recoverFrom(err)
	if again {
		_, err = c.syncIfChanged()
		return true, err
	}
	return changed, err
}

// inNestedReadTx runs fn in a read transaction unless the connection is
// already inside one.
func (c *Cache) inNestedReadTx(fn func() error) error {
	if c.inTxNow() {
		return fn()
	}
	return c.inReadTx(fn)
}

// inTxNow reports whether the dedicated connection has an open transaction.
func (c *Cache) inTxNow() bool {
	inTx := false
	_ = c.conn.Raw(func(dc any) error {
		if ac, ok := dc.(interface{ AutoCommit() bool }); ok {
			inTx = !ac.AutoCommit()
		}
		return nil
	})
	return inTx
}

func (c *Cache) readSeq() (int64, error) {
	var seq int64
	if err := c.conn.QueryRowContext(context.Background(), `SELECT v FROM meta WHERE k = 'seq'`).Scan(&seq); err != nil {
		return 0, c.wrap("read cache", err)
	}
	return seq, nil
}

// syncDelta applies the rows written by others since c.seq, then checks
// that the mirror holds as many open rows as the file, and reloads
// everything if not (rows deleted behind its back, a replaced file).
func (c *Cache) syncDelta() error {
	ctx := context.Background()
	seq, err := c.readSeq()
	if err != nil {
		return err
	}
	if seq < c.seq {
		return c.fullReload()
	}
	touched := map[*source]bool{}
	if seq != c.seq {
		rs, err := c.conn.QueryContext(ctx, `SELECT `+rowCols+` FROM alerts WHERE seq > ? ORDER BY seq, id`, c.seq)
		if err != nil {
			return c.wrap("read cache", err)
		}
		err = c.scanRows(rs, func(id int64, r *model.AlertRow, ann uint64, _ []byte) {
			s := c.source(r.Source)
			touched[s] = true
			e := s.byKey.get(r.Key)
			if r.Resolved() {
				if e != nil && e.id == id {
					s.byKey.del(r.Key)
				}
				return
			}
			if e != nil && e.id == id && e.row.LastSeen.After(r.LastSeen) {
				r.LastSeen = e.row.LastSeen // ours is fresher: last_seen on disk lags
			}
			s.byKey.set(&entry{id: id, row: r, ann: ann})
		})
		if err != nil {
			return err
		}
	}
	var open int
	if err := c.conn.QueryRowContext(ctx, `SELECT count(*) FROM alerts WHERE resolved_at IS NULL`).Scan(&open); err != nil {
		return c.wrap("read cache", err)
	}
	mirrored := 0
	for _, s := range c.srcs {
		mirrored += s.byKey.len()
	}
	if open != mirrored {
		return c.fullReload()
	}
	for s := range touched {
		s.rebuildRows()
	}
	if len(touched) > 0 && c.oncePoll {
		c.digestsStale = true // read again when asked
	}
	c.seq = seq
	if err := c.syncTickets(); err != nil {
		return err
	}
	return c.loadStatuses()
}

// fullReload replaces the mirror's rows with the open rows on disk.
func (c *Cache) fullReload() error {
	seq, err := c.readSeq()
	if err != nil {
		return err
	}
	for _, s := range c.srcs {
		s.byKey, s.digests = entryIndex{}, nil
	}
	c.digestsStale = false
	rs, err := c.conn.QueryContext(context.Background(), `SELECT `+rowCols+` FROM alerts WHERE resolved_at IS NULL`)
	if err != nil {
		return c.wrap("read cache", err)
	}
	err = c.scanRows(rs, func(id int64, r *model.AlertRow, ann uint64, digest []byte) {
		s := c.source(r.Source)
		s.byKey.set(&entry{id: id, row: r, ann: ann})
		if c.oncePoll && len(digest) == DigestSize {
			if s.digests == nil {
				s.digests = map[Digest]string{}
			}
			s.digests[Digest(digest)] = r.Key
		}
	})
	if err != nil {
		return err
	}
	for _, s := range c.srcs {
		s.rebuildRows()
	}
	c.seq = seq
	if err := c.reloadTickets(); err != nil {
		return err
	}
	return c.loadStatuses()
}

func (c *Cache) source(name string) *source {
	s := c.srcs[name]
	if s == nil {
		s = &source{name: name}
		c.srcs[name] = s
	}
	return s
}

func (s *source) rebuildRows() {
	s.rows = make([]*model.AlertRow, 0, s.byKey.len())
	for e := range s.byKey.all() {
		s.rows = append(s.rows, e.row)
	}
}

// loadStatuses merges the sources table into the mirror, keeping a status
// of ours that is newer than what the file holds (it may lag).
func (c *Cache) loadStatuses() error {
	rs, err := c.conn.QueryContext(context.Background(), `SELECT `+statusCols+` FROM sources`)
	if err != nil {
		return c.wrap("read source status", err)
	}
	return c.scanStatuses(rs, func(d model.SourceStatus) {
		s := c.source(d.Name)
		s.disk, s.stored = d, true
		if s.status.LastAttempt.IsZero() || d.LastAttempt.After(s.status.LastAttempt) {
			s.status = d
		}
		// Findings are written on their own (StoreFindings), without
		// moving last_attempt: the file's are the latest. So may be
		// the health's last read (another process's).
		s.status.Findings = d.Findings
		if d.HealthRead.After(s.status.HealthRead) {
			s.status.HealthRead = d.HealthRead
		}
	})
}

const statusCols = `name, type, last_attempt, last_success, last_error, latency_ns, items, note, findings, health_read`

// scanStatuses decodes source status rows and hands each to fn; it closes rs.
func (c *Cache) scanStatuses(rs *sql.Rows, fn func(model.SourceStatus)) error {
	defer rs.Close()
	for rs.Next() {
		var d model.SourceStatus
		var attempt, success, latency, healthRead int64
		var findings string
		if err := rs.Scan(&d.Name, &d.Type, &attempt, &success, &d.LastError, &latency, &d.Items, &d.Note, &findings, &healthRead); err != nil {
			return c.wrap("read source status", err)
		}
		d.Findings = decodeFindings(findings)
		d.LastAttempt, d.LastSuccess, d.Latency = fromNS(attempt), fromNS(success), time.Duration(latency)
		d.HealthRead = fromNS(healthRead)
		fn(d)
	}
	if err := rs.Err(); err != nil {
		return c.wrap("read source status", err)
	}
	return nil
}

// scanRows decodes alert rows and hands each to fn with the Hash of its
// annotations, of which the row keeps model.ShownAnnotations; it closes rs.
func (c *Cache) scanRows(rs *sql.Rows, fn func(id int64, r *model.AlertRow, ann uint64, digest []byte)) error {
	defer rs.Close()
	var (
		id, startsAt, firstSeen, lastSeen   int64
		firedSeen                           int64
		missed                              int
		src, key, state                     string
		genURL                              sql.RawBytes
		labels, annots, silenced, inhibited sql.RawBytes
		digest                              sql.RawBytes
		resolved                            sql.NullInt64
		// Rows are carved from slabs, as Ingest's are: one allocation
		// per chunk instead of one per row. The chunks grow, so a sync
		// of a few rows takes a small one.
		slab model.Slab[model.AlertRow]
	)
	for rs.Next() {
		if err := rs.Scan(&id, &src, &key, &state, &startsAt, &genURL, &labels, &annots,
			&silenced, &inhibited, &firstSeen, &lastSeen, &missed, &resolved, &firedSeen, &digest); err != nil {
			return c.wrap("read alerts", err)
		}
		r := slab.New(0)
		*r = model.AlertRow{Source: c.internStr(src), FirstSeen: model.Stamp(firstSeen), FiredSeen: model.Stamp(firedSeen),
			LastSeen: model.Stamp(lastSeen), Missed: missed}
		r.Key = key
		r.State, _ = model.ParseState(state)
		r.StartsAt = model.Stamp(startsAt)
		r.GeneratorURL = c.strs.str(genURL) // one per rule, repeated by its alerts
		if resolved.Valid {
			r.ResolvedAt = model.Stamp(resolved.Int64)
		}
		var err error
		if r.Labels, err = decodeLabels(labels); err == nil {
			if r.Annotations, err = decodeLabels(annots); err == nil {
				var sil, inh []string
				if sil, err = decodeListWith(silenced, c.strs); err == nil {
					inh, err = decodeListWith(inhibited, c.strs)
				}
				r.Suppressed = model.Suppress(sil, inh)
			}
		}
		if err != nil {
			return &rowError{path: c.path, row: fmt.Sprintf("alert row %d", id), err: err}
		}
		ann := r.Annotations.Hash()
		r.Annotations = model.ShownAnnotations(r.Annotations)
		fn(id, r, ann, digest)
	}
	if err := rs.Err(); err != nil {
		return c.wrap("read alerts", err)
	}
	return nil
}

// internStr shares the memory of the few distinct source names and states
// across rows. A nil intern table (history queries) copies.
func (c *Cache) internStr(s string) string {
	if c.intern == nil {
		return s
	}
	if v, ok := c.intern[s]; ok {
		return v
	}
	c.intern[s] = s
	return s
}

// Resolved returns the rows resolved at or after since, oldest resolution
// first, for handoff reports. It reads the file directly (not the mirror)
// on a pooled connection, so it never waits for Ingest. Safe for concurrent
// use.
func (c *Cache) Resolved(since time.Time) ([]*model.AlertRow, error) {
	db, done := c.pool()
	defer done()
	rs, err := db.QueryContext(context.Background(),
		`SELECT `+rowCols+` FROM alerts WHERE resolved_at IS NOT NULL AND resolved_at >= ? ORDER BY resolved_at, id`,
		ns(since))
	if err != nil {
		return nil, c.wrap("read history", err)
	}
	var out []*model.AlertRow
	h := &Cache{path: c.path, busy: c.busy} // no intern table: this may run beside Ingest
	err = h.scanRows(rs, func(_ int64, r *model.AlertRow, _ uint64, _ []byte) { out = append(out, r) })
	return out, err
}

// AlertAnnotations reads the full annotations of the alert key as the
// sources named hold it (the set with the most of them, as BuildSnapshot
// picks), for the detail view: the mirror holds only the part the panels
// draw (model.ShownAnnotations). An alert no longer open is read from its
// last row. It reads the file on a pooled connection, so it never waits
// for Ingest; safe for concurrent use.
func (c *Cache) AlertAnnotations(ctx context.Context, key string, sources []string) (model.Labels, error) {
	db, done := c.pool()
	defer done()
	var best model.Labels
	found := false
	read := func(q string) error {
		for _, src := range sources {
			var raw []byte
			err := db.QueryRowContext(ctx, q, src, key).Scan(&raw)
			if err == sql.ErrNoRows {
				continue
			}
			if err != nil {
				return c.wrap("read alert", err)
			}
			l, err := decodeLabels(raw)
			if err != nil {
				return &rowError{path: c.path, row: "alert " + key + " of " + src, err: err}
			}
			if !found || l.Len() > best.Len() {
				best, found = l, true
			}
		}
		return nil
	}
	if err := read(`SELECT annotations FROM alerts WHERE source = ? AND key = ? AND resolved_at IS NULL`); err != nil {
		return model.Labels{}, err
	}
	if !found {
		if err := read(`SELECT annotations FROM alerts WHERE source = ? AND key = ? ORDER BY id DESC LIMIT 1`); err != nil {
			return model.Labels{}, err
		}
	}
	return best, nil
}
