package cache

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"sitroom/model"
)

// The tickets schema (its migration is listed in cache.go):
//
//	tickets  one row per ticket per ticket source, keyed (source, id),
//	         kept after the ticket closes (history): the fields of
//	         model.Ticket (SLA flattened into sla_* columns, fields as a
//	         JSON object), hash (model.Ticket.ContentHash of what was
//	         written), first_seen, last_seen, closed_at (0 while open) and
//	         seq (meta "tseq" of the write that last changed the row).
//
// A ticket poll writes only tickets whose ContentHash changed, opened or
// reopened, and closes (closed_at) every open ticket of the source the
// poll did not return. A poll that changes nothing writes no ticket row;
// the source status follows the same rule as an alert source's.
const schemaTickets = `CREATE TABLE tickets (
		source        TEXT    NOT NULL,
		id            TEXT    NOT NULL,
		number        TEXT    NOT NULL,
		url           TEXT    NOT NULL,
		tier          INTEGER NOT NULL,
		queue         TEXT    NOT NULL,
		priority      INTEGER NOT NULL,
		priority_raw  TEXT    NOT NULL,
		status        TEXT    NOT NULL,
		subject       TEXT    NOT NULL,
		requester     TEXT    NOT NULL,
		owner         TEXT    NOT NULL,
		created       INTEGER NOT NULL,
		updated       INTEGER NOT NULL,
		sla_known     INTEGER NOT NULL,
		sla_name      TEXT    NOT NULL,
		sla_due       INTEGER NOT NULL,
		sla_breached  INTEGER NOT NULL,
		sla_paused    INTEGER NOT NULL,
		sla_remaining INTEGER NOT NULL,
		sla_as_of     INTEGER NOT NULL,
		service       TEXT    NOT NULL,
		fields        TEXT    NOT NULL,
		hash          INTEGER NOT NULL,
		first_seen    INTEGER NOT NULL,
		last_seen     INTEGER NOT NULL,
		closed_at     INTEGER NOT NULL DEFAULT 0,
		seq           INTEGER NOT NULL,
		PRIMARY KEY (source, id)
	) WITHOUT ROWID;
	CREATE INDEX tickets_seq ON tickets(seq);
	CREATE INDEX tickets_closed ON tickets(closed_at) WHERE closed_at != 0;
	INSERT INTO meta(k, v) VALUES ('tseq', 0);`

// schemaPriorityName keeps each ticket's priority as its desk names it
// ("Medium" for RT's 85), so a console opening on the cache shows it
// before the first poll.
const schemaPriorityName = `ALTER TABLE tickets ADD COLUMN priority_name TEXT NOT NULL DEFAULT '';`

const ticketCols = `source, id, number, url, tier, queue, priority, priority_raw, status, subject, requester, owner,
	created, updated, sla_known, sla_name, sla_due, sla_breached, sla_paused, sla_remaining, sla_as_of,
	service, fields, hash, closed_at, priority_name`

// ticketMirror is the in-memory copy of the open tickets, guarded by
// connMu; pub is the published list, guarded by Cache.mu.
type ticketMirror struct {
	bySrc map[string]map[string]*tkEntry // source → id → entry
	seq   int64                          // meta tseq the mirror reflects
	dirty bool                           // pub must be rebuilt
	pub   []*model.Ticket
}

type tkEntry struct {
	hash uint64
	t    *model.Ticket
}

// TicketResult counts what one IngestTickets did.
type TicketResult struct {
	Inserted  int  // tickets new to the cache, or reopened
	Updated   int  // tickets whose content changed
	Unchanged int  // tickets returned with the same content
	Closed    int  // open tickets the poll did not return, now closed
	Wrote     bool // whether any SQL write statement ran
}

type tkChange struct {
	t      *model.Ticket
	hash   uint64
	closed bool
	fresh  bool // not open in the mirror before
}

// IngestTickets records one successful poll of a ticket source that
// returned tickets, in one transaction: tickets whose content
// (model.Ticket.ContentHash) changed, new or reopened ones are written;
// open tickets of the source that the poll did not return are closed
// (kept, with closed_at). The source status is written like Ingest's,
// including the "empty reply" note: a poll that returns no ticket while
// the source had open ones is suspect (a search that lost its queue
// rights, a desk restoring from backup answers nothing) and closes
// nothing until the source has stayed empty for EmptyHold, as for alerts.
// A ticket ID repeated within one poll is taken once. Safe for concurrent
// use; calls are serialized.
func (c *Cache) IngestTickets(source string, tickets []model.Ticket, meta PollMeta) (TicketResult, error) {
	if source == "" {
		return TicketResult{}, errors.New("cache: IngestTickets: empty source name")
	}
	if meta.At.IsZero() {
		meta.At = time.Now()
	}
	at := norm(meta.At)
	c.connMu.Lock()
	defer c.connMu.Unlock()
	if c.closed {
		return TicketResult{}, ErrClosed
	}
	res, err := c.ingestTicketsLocked(source, tickets, meta, at)
	again, err := c.recoverFrom(err)
	if again {
		return c.ingestTicketsLocked(source, tickets, meta, at)
	}
	return res, err
}

// ingestTicketsLocked is IngestTickets's work under connMu, run once more after
// recoverFrom replaced a corrupt file.
func (c *Cache) ingestTicketsLocked(source string, tickets []model.Ticket, meta PollMeta, at time.Time) (TicketResult, error) {
	synced, err := c.syncIfChanged()
	if err != nil {
		return TicketResult{}, err
	}
	var (
		res     TicketResult
		changes []tkChange
		keep    map[string]*tkEntry
		st      model.SourceStatus
		writeSt bool
		since   time.Time // the source's emptySince after this poll
	)
	plan := func() {
		res, changes = TicketResult{}, nil
		open := c.tk.bySrc[source]
		s := c.srcs[source]
		// An empty reply from a source that had tickets closes nothing
		// until the source has stayed empty for EmptyHold.
		since = time.Time{}
		holding := false
		if len(tickets) == 0 && len(open) > 0 {
			if s != nil {
				since = s.emptySince
			}
			if since.IsZero() {
				since = at
			}
			holding = at.Sub(since) < EmptyHold
		}
		keep = make(map[string]*tkEntry, len(tickets))
		slab := make([]model.Ticket, len(tickets))
		for i := range tickets {
			t := &slab[i]
			*t = tickets[i]
			t.Source = source
			t.URL = stripUserinfo(t.URL)
			if _, dup := keep[t.ID]; dup {
				continue
			}
			h := t.ContentHash()
			e := open[t.ID]
			switch {
			case e == nil:
				changes = append(changes, tkChange{t: t, hash: h, fresh: true})
				res.Inserted++
			case e.hash != h:
				changes = append(changes, tkChange{t: t, hash: h})
				res.Updated++
			default:
				res.Unchanged++
			}
			keep[t.ID] = &tkEntry{hash: h, t: t}
		}
		for id, e := range open {
			switch {
			case holding:
				keep[id] = e
			case keep[id] == nil:
				changes = append(changes, tkChange{t: e.t, hash: e.hash, closed: true})
				res.Closed++
			}
		}
		sort.Slice(changes, func(i, j int) bool { return changes[i].t.ID < changes[j].t.ID })
		if s != nil {
			st = s.status
		} else {
			st = model.SourceStatus{}
		}
		st.Name = source
		if meta.Type != "" {
			st.Type = meta.Type
		}
		st.LastAttempt, st.LastSuccess, st.LastError = at, at, ""
		st.Latency = meta.Latency
		st.Items = len(keep)
		st.Note = ""
		if len(tickets) == 0 && len(open) > 0 {
			st.Items = 0
			st.Note = fmt.Sprintf("%s; had %s", model.EmptyReplyNote, model.Plural(len(open), "ticket", "tickets"))
		}
		var d model.SourceStatus
		stored := false
		if s != nil {
			d, stored = s.disk, s.stored
		}
		writeSt = len(changes) > 0 || !stored || d.LastError != "" || d.Items != st.Items ||
			d.Note != st.Note || d.Type != st.Type || at.Sub(d.LastAttempt) > StatusRefresh
		res.Wrote = len(changes) > 0 || writeSt
	}
	plan()
	var seq int64
	if res.Wrote {
		err = c.inWriteTx(func() error {
			again, err := c.syncIfChanged()
			if err != nil {
				return err
			}
			if again {
				synced = true
				plan()
			}
			if len(changes) > 0 {
				if seq, err = c.writeTickets(source, changes, at); err != nil {
					return err
				}
			}
			if writeSt {
				return c.writeStatus(st)
			}
			return nil
		})
		if err != nil {
			if synced {
				c.publish()
			}
			return TicketResult{}, err
		}
	}
	if seq != 0 {
		c.tk.seq = seq
	}
	if c.tk.bySrc == nil {
		c.tk.bySrc = map[string]map[string]*tkEntry{}
	}
	c.tk.bySrc[source] = keep
	c.tk.dirty = true
	s := c.source(source)
	s.status = st
	s.emptySince = since
	if writeSt {
		s.disk, s.stored = st, true
	}
	c.publish()
	return res, nil
}

// writeTickets writes a ticket poll's changes inside the caller's write
// transaction and returns the tseq it wrote them under.
func (c *Cache) writeTickets(source string, changes []tkChange, at time.Time) (int64, error) {
	ctx := context.Background()
	var seq int64
	if err := c.conn.QueryRowContext(ctx, `UPDATE meta SET v = v + 1 WHERE k = 'tseq' RETURNING v`).Scan(&seq); err != nil {
		return 0, c.wrap("write tickets", err)
	}
	// One prepared statement per kind for the whole poll: preparing per
	// row cost more than the writes themselves.
	closeStmt, err := c.conn.PrepareContext(ctx, `UPDATE tickets SET closed_at = ?, seq = ? WHERE source = ? AND id = ?`)
	if err != nil {
		return 0, c.wrap("write tickets", err)
	}
	defer closeStmt.Close()
	upsert, err := c.conn.PrepareContext(ctx, `INSERT INTO tickets(`+ticketCols+`, first_seen, last_seen, seq)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)
				ON CONFLICT(source, id) DO UPDATE SET number = excluded.number, url = excluded.url, tier = excluded.tier,
				queue = excluded.queue, priority = excluded.priority, priority_raw = excluded.priority_raw,
				priority_name = excluded.priority_name, status = excluded.status, subject = excluded.subject, requester = excluded.requester,
				owner = excluded.owner, created = excluded.created, updated = excluded.updated,
				sla_known = excluded.sla_known, sla_name = excluded.sla_name, sla_due = excluded.sla_due,
				sla_breached = excluded.sla_breached, sla_paused = excluded.sla_paused,
				sla_remaining = excluded.sla_remaining, sla_as_of = excluded.sla_as_of, service = excluded.service,
				fields = excluded.fields, hash = excluded.hash, last_seen = excluded.last_seen, closed_at = 0,
				seq = excluded.seq`)
	if err != nil {
		return 0, c.wrap("write tickets", err)
	}
	defer upsert.Close()
	for _, ch := range changes {
		// The stats rollup first (stats.go): it reads the row as it was.
		t := ch.t
		next := ticketCounts{exists: true, tier: int(t.Tier), created: ns(t.Created), slaKnown: t.SLA.Known,
			slaDue: ns(t.SLA.Due), slaBreachedSet: t.SLA.Breached}
		var closeAt int64
		if ch.closed {
			closeAt = ns(at)
		}
		if err := c.ticketRollup(ctx, source, t.ID, next, closeAt); err != nil {
			return 0, err
		}
		var err error
		if ch.closed {
			_, err = closeStmt.ExecContext(ctx, ns(at), seq, source, ch.t.ID)
		} else {
			_, err = upsert.ExecContext(ctx,
				source, t.ID, t.Number, t.URL, int(t.Tier), t.Queue, int(t.Priority), t.PriorityRaw, t.Status, t.Subject,
				t.Requester, t.Owner, ns(t.Created), ns(t.Updated), b2i(t.SLA.Known), t.SLA.Name, ns(t.SLA.Due),
				b2i(t.SLA.Breached), b2i(t.SLA.Paused), int64(t.SLA.Remaining), ns(t.SLA.AsOf), t.Service,
				encodeLabels(t.Fields), int64(ch.hash), t.PriorityName, ns(at), ns(at), seq)
		}
		if err != nil {
			return 0, c.wrap("write tickets", err)
		}
	}
	return seq, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Tickets returns the open tickets of every ticket source, served from
// the in-memory mirror like Load (and synced with other processes' writes
// the same way, never waiting for a write of this Cache). The slice and
// tickets are shared and never modified; the caller must not modify them.
// Their order is unspecified.
func (c *Cache) Tickets() ([]*model.Ticket, error) {
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
	out := c.tk.pub
	c.mu.RUnlock()
	return out, err
}

// publishTickets swaps a new published ticket list in when the mirror
// changed. connMu must be held.
func (c *Cache) publishTickets() {
	if !c.tk.dirty {
		return
	}
	n := 0
	for _, m := range c.tk.bySrc {
		n += len(m)
	}
	out := make([]*model.Ticket, 0, n)
	for _, m := range c.tk.bySrc {
		for _, e := range m {
			out = append(out, e.t)
		}
	}
	c.mu.Lock()
	c.tk.pub = out
	c.mu.Unlock()
	c.tk.dirty = false
}

func (c *Cache) readTicketSeq() (int64, error) {
	var seq int64
	if err := c.conn.QueryRowContext(context.Background(), `SELECT v FROM meta WHERE k = 'tseq'`).Scan(&seq); err != nil {
		return 0, c.wrap("read tickets", err)
	}
	return seq, nil
}

// syncTickets applies the ticket rows others wrote since the mirror's
// tseq, reloading all open tickets when the counts disagree. connMu must
// be held, inside a read or write transaction.
func (c *Cache) syncTickets() error {
	seq, err := c.readTicketSeq()
	if err != nil {
		return err
	}
	if seq < c.tk.seq {
		return c.reloadTickets()
	}
	if seq != c.tk.seq {
		rs, err := c.conn.QueryContext(context.Background(), `SELECT `+ticketCols+` FROM tickets WHERE seq > ?`, c.tk.seq)
		if err != nil {
			return c.wrap("read tickets", err)
		}
		err = c.scanTickets(rs, func(e *tkEntry, closedAt int64) {
			m := c.tk.srcMap(e.t.Source)
			if closedAt != 0 {
				delete(m, e.t.ID)
			} else {
				m[e.t.ID] = e
			}
		})
		if err != nil {
			return err
		}
		c.tk.dirty = true
	}
	var open int
	if err := c.conn.QueryRowContext(context.Background(), `SELECT count(*) FROM tickets WHERE closed_at = 0`).Scan(&open); err != nil {
		return c.wrap("read tickets", err)
	}
	n := 0
	for _, m := range c.tk.bySrc {
		n += len(m)
	}
	if n != open {
		return c.reloadTickets()
	}
	c.tk.seq = seq
	return nil
}

// reloadTickets replaces the ticket mirror with the open tickets on disk.
func (c *Cache) reloadTickets() error {
	seq, err := c.readTicketSeq()
	if err != nil {
		return err
	}
	c.tk.bySrc = map[string]map[string]*tkEntry{}
	rs, err := c.conn.QueryContext(context.Background(), `SELECT `+ticketCols+` FROM tickets WHERE closed_at = 0`)
	if err != nil {
		return c.wrap("read tickets", err)
	}
	if err := c.scanTickets(rs, func(e *tkEntry, _ int64) { c.tk.srcMap(e.t.Source)[e.t.ID] = e }); err != nil {
		return err
	}
	c.tk.seq = seq
	c.tk.dirty = true
	return nil
}

func (m *ticketMirror) srcMap(source string) map[string]*tkEntry {
	if m.bySrc == nil {
		m.bySrc = map[string]map[string]*tkEntry{}
	}
	s := m.bySrc[source]
	if s == nil {
		s = map[string]*tkEntry{}
		m.bySrc[source] = s
	}
	return s
}

// scanTickets decodes ticket rows; it closes rs.
func (c *Cache) scanTickets(rs *sql.Rows, fn func(e *tkEntry, closedAt int64)) error {
	defer rs.Close()
	for rs.Next() {
		t := &model.Ticket{}
		var tier, prio, known, breached, paused int
		var created, updated, due, remaining, asOf, hash, closedAt int64
		var fields []byte
		if err := rs.Scan(&t.Source, &t.ID, &t.Number, &t.URL, &tier, &t.Queue, &prio, &t.PriorityRaw, &t.Status,
			&t.Subject, &t.Requester, &t.Owner, &created, &updated, &known, &t.SLA.Name, &due, &breached, &paused,
			&remaining, &asOf, &t.Service, &fields, &hash, &closedAt, &t.PriorityName); err != nil {
			return c.wrap("read tickets", err)
		}
		t.Tier, t.Priority = model.Tier(tier), model.Priority(prio)
		t.Created, t.Updated = fromNS(created), fromNS(updated)
		t.SLA.Known, t.SLA.Breached, t.SLA.Paused = known != 0, breached != 0, paused != 0
		t.SLA.Due, t.SLA.Remaining, t.SLA.AsOf = fromNS(due), time.Duration(remaining), fromNS(asOf)
		var err error
		if t.Fields, err = decodeLabels(fields); err != nil {
			return &rowError{path: c.path, row: fmt.Sprintf("ticket %q of %q", t.ID, t.Source), err: err}
		}
		fn(&tkEntry{hash: uint64(hash), t: t}, closedAt)
	}
	if err := rs.Err(); err != nil {
		return c.wrap("read tickets", err)
	}
	return nil
}

// ClosedTickets returns the tickets closed at or after since, oldest
// closure first, with when each closed, for handoff reports. It reads the
// file on a pooled connection, never waiting for a poll. Safe for
// concurrent use.
func (c *Cache) ClosedTickets(since time.Time) ([]model.Ticket, []time.Time, error) {
	db, done := c.pool()
	defer done()
	rs, err := db.QueryContext(context.Background(),
		`SELECT `+ticketCols+` FROM tickets WHERE closed_at != 0 AND closed_at >= ? ORDER BY closed_at, source, id`, ns(since))
	if err != nil {
		return nil, nil, c.closedOr("read ticket history", err)
	}
	var out []model.Ticket
	var at []time.Time
	err = c.scanTickets(rs, func(e *tkEntry, closedAt int64) {
		out = append(out, *e.t)
		at = append(at, fromNS(closedAt))
	})
	return out, at, err
}
