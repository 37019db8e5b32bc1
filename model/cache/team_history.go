package cache

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"time"

	"sitroom/model"
)

// TeamHistory is this console's history records with writes not yet in
// the team store (TeamHistoryPending), each with the change counter it
// was read at, for TeamHistoryPushed.
type TeamHistory struct {
	Outages        []model.OutageRecord
	OutageCounters []int64
	Sources        []model.SourceOutage
	SourceCounters []int64
}

// Empty reports whether there is nothing to push.
func (h *TeamHistory) Empty() bool { return len(h.Outages) == 0 && len(h.Sources) == 0 }

// TeamHistoryPending lists up to limit (100 when <= 0) outage records and
// as many source outages written here and not yet in the team store,
// oldest first, as they are now. Safe for concurrent use.
func (c *Cache) TeamHistoryPending(limit int) (*TeamHistory, error) {
	if limit <= 0 {
		limit = 100
	}
	db, done := c.pool()
	defer done()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, c.closedOr("read history to share", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return nil, c.closedOr("read history to share", err)
	}
	defer conn.ExecContext(ctx, "ROLLBACK") //nolint:errcheck // read-only
	h := &TeamHistory{}
	err = c.query(ctx, conn, "read history to share", `SELECT id, service, severity, opened_at, closed_at, alerts, first_seen,
		provisional, team FROM outage_history WHERE team > 0 ORDER BY id LIMIT ?`, func(r *sql.Rows) error {
		var o model.OutageRecord
		var sev string
		var opened, closed, firstSeen, team int64
		if err := r.Scan(&o.ID, &o.Service, &sev, &opened, &closed, &o.Alerts, &firstSeen, &o.Provisional, &team); err != nil {
			return err
		}
		o.Severity, o.Opened, o.Closed, o.FirstSeen = model.ParseSeverity(sev), fromNS(opened), fromNS(closed), fromNS(firstSeen)
		if o.FirstSeen.IsZero() {
			o.FirstSeen = o.Opened
		}
		h.Outages = append(h.Outages, o)
		h.OutageCounters = append(h.OutageCounters, team)
		return nil
	}, limit)
	if err != nil {
		return nil, err
	}
	err = c.query(ctx, conn, "read history to share", `SELECT id, source, down_at, up_at, error, team FROM source_history
		WHERE team > 0 ORDER BY id LIMIT ?`, func(r *sql.Rows) error {
		var s model.SourceOutage
		var down, up, team int64
		if err := r.Scan(&s.ID, &s.Source, &down, &up, &s.Error, &team); err != nil {
			return err
		}
		s.Down, s.Up = fromNS(down), fromNS(up)
		h.Sources = append(h.Sources, s)
		h.SourceCounters = append(h.SourceCounters, team)
		return nil
	}, limit)
	if err != nil {
		return nil, err
	}
	return h, nil
}

// TeamHistoryPushed records that the team store holds h's records as
// TeamHistoryPending read them: each one's counter goes to 0 if it is
// unchanged since, so a write made meanwhile stays to be pushed. Safe for
// concurrent use, also across processes.
func (c *Cache) TeamHistoryPushed(h *TeamHistory) error {
	if h == nil || h.Empty() {
		return nil
	}
	const op = "record history shared"
	return c.actTx(op, func(ctx context.Context, tx *sql.Conn) error {
		for i, o := range h.Outages {
			if _, err := tx.ExecContext(ctx, `UPDATE outage_history SET team = 0 WHERE id = ? AND team = ?`, o.ID, h.OutageCounters[i]); err != nil {
				return c.wrap(op, err)
			}
		}
		for i, s := range h.Sources {
			if _, err := tx.ExecContext(ctx, `UPDATE source_history SET team = 0 WHERE id = ? AND team = ?`, s.ID, h.SourceCounters[i]); err != nil {
				return c.wrap(op, err)
			}
		}
		return nil
	})
}

// TeamCutOff records that this console found the team store down at at:
// a cut-off begins, unless one is open already. Safe for concurrent use.
func (c *Cache) TeamCutOff(at time.Time) error {
	const op = "record a cut-off from the team store"
	return c.actTx(op, func(ctx context.Context, tx *sql.Conn) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO team_cutoff(down_at) SELECT ?
			WHERE NOT EXISTS (SELECT 1 FROM team_cutoff WHERE up_at = 0)`, ns(at)); err != nil {
			return c.wrap(op, err)
		}
		return nil
	})
}

// TeamReconnected records that this console reached the team store again
// at at: the open cut-off, if any, ends. It reports whether one did. Safe
// for concurrent use.
func (c *Cache) TeamReconnected(at time.Time) (bool, error) {
	const op = "record the end of a cut-off from the team store"
	var ended bool
	err := c.actTx(op, func(ctx context.Context, tx *sql.Conn) error {
		res, err := tx.ExecContext(ctx, `UPDATE team_cutoff SET up_at = max(?, down_at) WHERE up_at = 0`, ns(at))
		if err != nil {
			return c.wrap(op, err)
		}
		n, _ := res.RowsAffected()
		ended = n > 0
		return nil
	})
	return ended, err
}

// TeamCutOffs lists the stretches this console could not reach the team
// store that overlap [from, to), oldest first (To zero while still cut
// off). Safe for concurrent use.
func (c *Cache) TeamCutOffs(from, to time.Time) ([]model.CutOff, error) {
	db, done := c.pool()
	defer done()
	var out []model.CutOff
	err := c.query(context.Background(), db, "read cut-offs from the team store", `SELECT down_at, up_at FROM team_cutoff
		WHERE down_at < ? AND (up_at = 0 OR up_at >= ?) ORDER BY down_at, id`, func(r *sql.Rows) error {
		var down, up int64
		if err := r.Scan(&down, &up); err != nil {
			return err
		}
		out = append(out, model.CutOff{From: fromNS(down), To: fromNS(up)})
		return nil
	}, ns(to), ns(from))
	return out, err
}

// TeamHistoryID is this cache file's id in the team store's host views
// (meta "team_history_id", random, made on first use): the records of a
// cache that replaced another on the same host (a damaged one moved
// aside, whose ids start again at 1) never overwrite the first one's.
// Safe for concurrent use.
func (c *Cache) TeamHistoryID() (int64, error) {
	const op = "read the cache's team id"
	var id int64
	err := c.actTx(op, func(ctx context.Context, tx *sql.Conn) error {
		err := tx.QueryRowContext(ctx, `SELECT v FROM meta WHERE k = 'team_history_id'`).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			id = rand.Int64N(1<<62) + 1
			_, err = tx.ExecContext(ctx, `INSERT INTO meta(k, v) VALUES ('team_history_id', ?)`, id)
		}
		if err != nil {
			return c.wrap(op, err)
		}
		return nil
	})
	return id, err
}
