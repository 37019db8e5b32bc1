package teamstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"sitroom/model"
)

const outageCols = `id, service, severity, opened_at, first_seen, closed_at, provisional, alerts`

func scanOutage(r pgx.Row, extra ...any) (model.OutageRecord, error) {
	var o model.OutageRecord
	var sev string
	var closed *time.Time
	err := r.Scan(append([]any{&o.ID, &o.Service, &sev, &o.Opened, &o.FirstSeen, &closed, &o.Provisional, &o.Alerts}, extra...)...)
	o.Severity, o.Closed = model.ParseSeverity(sev), val(closed)
	return o, err
}

func scanSourceOutage(r pgx.Row, extra ...any) (model.SourceOutage, error) {
	var s model.SourceOutage
	var up *time.Time
	err := r.Scan(append([]any{&s.ID, &s.Source, &s.Down, &up, &s.Error}, extra...)...)
	s.Up = val(up)
	return s, err
}

// OpenOutage records the outage o (its Service, Severity, Opened,
// FirstSeen and Alerts) and returns its id. The team has one record per
// outage: when one with the same service and Opened is there (another
// console recorded it), that one is kept, with the most alerts either
// saw, and its id returned.
func (s *Store) OpenOutage(ctx context.Context, o model.OutageRecord) (int64, error) {
	var id int64
	err := s.write(ctx, "record an outage", func(c pgx.Tx) error {
		return c.QueryRow(ctx, `INSERT INTO outage_history(service, severity, opened_at, first_seen, alerts)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (service, opened_at) DO UPDATE SET alerts = greatest(outage_history.alerts, excluded.alerts)
			RETURNING id`, o.Service, o.Severity.Name(), o.Opened, o.FirstSeen, o.Alerts).Scan(&id)
	})
	return id, err
}

// UpdateOutage records a worse severity, more alerts or an earlier start
// (an alert that began before the others joined it) for an open outage.
// An earlier start another record of the service already has is left.
func (s *Store) UpdateOutage(ctx context.Context, id int64, sev model.Severity, alerts int, opened time.Time) error {
	return s.write(ctx, "update an outage", func(c pgx.Tx) error {
		_, err := c.Exec(ctx, `UPDATE outage_history o SET severity = $2, alerts = $3,
			opened_at = CASE WHEN EXISTS (SELECT 1 FROM outage_history x WHERE x.service = o.service
				AND x.opened_at = least(o.opened_at, $4) AND x.id != o.id) THEN o.opened_at ELSE least(o.opened_at, $4) END
			WHERE id = $1`, id, sev.Name(), alerts, opened)
		return err
	})
}

// CloseOutage records that the outage closed at closed, provisionally
// (the anti-flap grace runs: ReopenOutage may take it back) or for good.
// A final close is never undone.
func (s *Store) CloseOutage(ctx context.Context, id int64, closed time.Time, provisional bool) error {
	return s.write(ctx, "close an outage", func(c pgx.Tx) error {
		_, err := c.Exec(ctx, `UPDATE outage_history SET closed_at = $2, provisional = $3
			WHERE id = $1 AND (closed_at IS NULL OR provisional)`, id, closed, provisional)
		return err
	})
}

// ReopenOutage takes back a provisional close: the outage came back
// within the grace and is the same outage.
func (s *Store) ReopenOutage(ctx context.Context, id int64) error {
	return s.write(ctx, "reopen an outage", func(c pgx.Tx) error {
		_, err := c.Exec(ctx, `UPDATE outage_history SET closed_at = NULL, provisional = false WHERE id = $1 AND provisional`, id)
		return err
	})
}

// OpenOutageRecords lists the outages recorded as open or provisionally
// closed, oldest first: what a console taking the team lease over
// carries on recording.
func (s *Store) OpenOutageRecords(ctx context.Context) ([]model.OutageRecord, error) {
	var out []model.OutageRecord
	err := s.do(ctx, "read outage history", func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT `+outageCols+` FROM outage_history WHERE closed_at IS NULL OR provisional ORDER BY id`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (model.OutageRecord, error) { return scanOutage(r) })
		return err
	})
	return out, err
}

// SourceDown records that source's polls started failing at at, with the
// failure in words, and returns the record's id (the existing one when
// that stretch is recorded already).
func (s *Store) SourceDown(ctx context.Context, source string, at time.Time, errText string) (int64, error) {
	var id int64
	err := s.write(ctx, "record a source outage", func(c pgx.Tx) error {
		return c.QueryRow(ctx, `INSERT INTO source_history(source, down_at, error) VALUES ($1, $2, $3)
			ON CONFLICT (source, down_at) DO UPDATE SET error = source_history.error RETURNING id`,
			source, at, clip(errText)).Scan(&id)
	})
	return id, err
}

// SourceUp records that the source outage id ended at at.
func (s *Store) SourceUp(ctx context.Context, id int64, at time.Time) error {
	return s.write(ctx, "record a source recovery", func(c pgx.Tx) error {
		_, err := c.Exec(ctx, `UPDATE source_history SET up_at = $2 WHERE id = $1 AND up_at IS NULL`, id, at)
		return err
	})
}

// OpenSourceOutages lists the sources recorded as down, oldest first.
func (s *Store) OpenSourceOutages(ctx context.Context) ([]model.SourceOutage, error) {
	var out []model.SourceOutage
	err := s.do(ctx, "read source history", func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT id, source, down_at, up_at, error FROM source_history WHERE up_at IS NULL ORDER BY id`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (model.SourceOutage, error) { return scanSourceOutage(r) })
		return err
	})
	return out, err
}

// RecordBacklog stores ticket backlog samples (one per source, tier and
// time; a sample recorded again replaces the first).
func (s *Store) RecordBacklog(ctx context.Context, samples []model.BacklogSample) error {
	return s.write(ctx, "record the ticket backlog", func(tx pgx.Tx) error {
		for _, b := range samples {
			if _, err := tx.Exec(ctx, `INSERT INTO backlog_samples(at, source, tier, open, unassigned, breached)
				VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (source, tier, at) DO UPDATE SET open = excluded.open,
				unassigned = excluded.unassigned, breached = excluded.breached`,
				b.At, b.Source, b.Tier, b.Open, b.Unassigned, b.Breached); err != nil {
				return err
			}
		}
		return nil
	})
}

// PushViews records this host's view (Options.Host) of the outages and
// source outages its console recorded in the cache cacheID, each keyed by
// its id there: a record pushed again is rewritten only when it changed
// (a close, a reopen, a worse severity), so pushing the same views twice
// changes nothing. The team's history is derived from every host's views
// (History).
func (s *Store) PushViews(ctx context.Context, cacheID int64, outages []model.OutageRecord, sources []model.SourceOutage) error {
	if len(outages) == 0 && len(sources) == 0 {
		return nil
	}
	return s.write(ctx, "push this host's history", func(tx pgx.Tx) error {
		for _, o := range outages {
			if _, err := tx.Exec(ctx, `INSERT INTO outage_views AS v(host, cache_id, local_id, service, severity, opened_at,
				first_seen, closed_at, provisional, alerts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
				ON CONFLICT (host, cache_id, local_id) DO UPDATE SET service = excluded.service, severity = excluded.severity,
				opened_at = excluded.opened_at, first_seen = excluded.first_seen, closed_at = excluded.closed_at,
				provisional = excluded.provisional, alerts = excluded.alerts
				WHERE (v.service, v.severity, v.opened_at, v.first_seen, v.closed_at, v.provisional, v.alerts) IS DISTINCT FROM
				(excluded.service, excluded.severity, excluded.opened_at, excluded.first_seen, excluded.closed_at,
				excluded.provisional, excluded.alerts)`,
				s.host, cacheID, o.ID, o.Service, o.Severity.Name(), o.Opened, o.FirstSeen, ptrTime(o.Closed), o.Provisional && !o.Closed.IsZero(),
				o.Alerts); err != nil {
				return err
			}
		}
		for _, d := range sources {
			if _, err := tx.Exec(ctx, `INSERT INTO source_views AS v(host, cache_id, local_id, source, down_at, up_at, error)
				VALUES ($1, $2, $3, $4, $5, $6, $7)
				ON CONFLICT (host, cache_id, local_id) DO UPDATE SET source = excluded.source, down_at = excluded.down_at,
				up_at = excluded.up_at, error = excluded.error
				WHERE (v.source, v.down_at, v.up_at, v.error) IS DISTINCT FROM (excluded.source, excluded.down_at,
				excluded.up_at, excluded.error)`,
				s.host, cacheID, d.ID, d.Source, d.Down, ptrTime(d.Up), clip(d.Error)); err != nil {
				return err
			}
		}
		return nil
	})
}

// ptrTime is t, or NULL for the zero time.
func ptrTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// teamOutages derives the team's outages from every host's view (and
// the records of outage_history, written by consoles of schema 2, as a
// view of no host): one outage per service and opened_at — when its
// first alert began firing upstream, which every host watching it agrees
// on. It is closed only when no host holds it open, at the latest close
// among hosts (provisional if that close is); its severity is the worst,
// its alerts the most, its first sight the earliest any host had; hosts
// are the hosts that saw it. $1 and $2 are the span: outages opened
// before $2 and closed at or after $1, or open.
const teamOutages = `WITH v AS (
		SELECT host, service, severity, opened_at, first_seen, closed_at, provisional, alerts FROM outage_views
		UNION ALL
		SELECT '', service, severity, opened_at, first_seen, closed_at, provisional, alerts FROM outage_history
	), g AS (
		SELECT service, opened_at,
			(array_agg(severity ORDER BY CASE severity WHEN 'critical' THEN 3 WHEN 'warning' THEN 2 WHEN 'info' THEN 1 ELSE 0 END DESC))[1] AS severity,
			min(first_seen) AS first_seen,
			bool_or(closed_at IS NULL) AS open,
			max(closed_at) AS closed_at,
			(array_agg(provisional ORDER BY closed_at DESC NULLS LAST, provisional DESC))[1] AS provisional,
			max(alerts) AS alerts,
			coalesce(array_agg(DISTINCT host ORDER BY host) FILTER (WHERE host != ''), '{}') AS hosts
		FROM v WHERE (service, opened_at) IN (SELECT service, opened_at FROM v
			WHERE opened_at < $2 AND (closed_at IS NULL OR closed_at >= $1))
		GROUP BY service, opened_at
	)
	SELECT 0::bigint, service, severity, opened_at, first_seen, CASE WHEN open THEN NULL ELSE closed_at END,
		NOT open AND provisional, alerts, hosts
	FROM g WHERE opened_at < $2 AND (open OR closed_at >= $1) ORDER BY opened_at, service`

// teamSourceOutages lists every host's view of its sources' outages,
// with the host, and the records of source_history (of no host),
// overlapping the span [$1, $2).
const teamSourceOutages = `SELECT 0::bigint, source, down_at, up_at, error, host FROM (
		SELECT host, source, down_at, up_at, error FROM source_views
		UNION ALL
		SELECT '', source, down_at, up_at, error FROM source_history
	) s WHERE down_at < $2 AND (up_at IS NULL OR up_at >= $1) ORDER BY down_at, host, source`

// History reads, in one snapshot, what the team store holds of [from,
// to) for a handoff, as Cache.History reads it: the team's outages
// (teamOutages: one per outage whichever hosts saw it, with those hosts)
// and every host's source outages (with the host) overlapping it, the actions in it (and, for outages opened
// before from, their earlier ones) and those still unfinished,
// escalations, notes, acks in force at to with their silence counts,
// backlog samples (with the last one before from), and the acks in force
// now. What only the hosts' caches hold — alert episodes, upstream
// silences, open alerts — is left empty for the caller to fill.
func (s *Store) History(ctx context.Context, from, to time.Time) (*model.History, error) {
	var h *model.History
	err := s.do(ctx, "read history", func(c *pgx.Conn) error {
		h = &model.History{From: from, To: to}
		return pgx.BeginTxFunc(ctx, c, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, teamOutages, from, to)
			if err != nil {
				return err
			}
			if h.Outages, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (model.OutageRecord, error) {
				var hosts []string
				o, err := scanOutage(r, &hosts)
				o.Hosts = hosts
				return o, err
			}); err != nil {
				return err
			}
			earliest := from
			for _, o := range h.Outages {
				if o.Opened.Before(earliest) {
					earliest = o.Opened
				}
			}
			rows, err = tx.Query(ctx, teamSourceOutages, from, to)
			if err != nil {
				return err
			}
			if h.SourceOutages, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (model.SourceOutage, error) {
				var host string
				d, err := scanSourceOutage(r, &host)
				d.Host = host
				return d, err
			}); err != nil {
				return err
			}
			rows, err = tx.Query(ctx, `SELECT `+auditCols+` FROM `+auditFrom+`
				WHERE a.at < $1 AND (a.at >= $2 OR s.state IN ('pending', 'failed')) ORDER BY a.at, a.seq`, to, earliest)
			if err != nil {
				return err
			}
			if h.Audit, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (model.AuditEntry, error) { return scanAudit(r) }); err != nil {
				return err
			}
			rows, err = tx.Query(ctx, `SELECT service, level, who, contact, operator, at, comment FROM escalations
				WHERE at >= $1 AND at < $2 ORDER BY at, seq`, earliest, to)
			if err != nil {
				return err
			}
			if h.Escalations, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (model.Escalation, error) {
				var e model.Escalation
				err := r.Scan(&e.Service, &e.Level, &e.Who, &e.Contact, &e.By, &e.At, &e.Comment)
				return e, err
			}); err != nil {
				return err
			}
			rows, err = tx.Query(ctx, `SELECT service, operator, at, text FROM notes WHERE at >= $1 AND at < $2 ORDER BY at, seq`, from, to)
			if err != nil {
				return err
			}
			if h.Notes, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (model.Note, error) {
				var n model.Note
				err := r.Scan(&n.Service, &n.By, &n.At, &n.Text)
				return n, err
			}); err != nil {
				return err
			}
			rows, err = tx.Query(ctx, `SELECT a.uid, a.service, a.alert_keys, a.operator, a.at, a.until, a.comment, a.cleared_at,
				(SELECT count(*) FROM deliveries d WHERE d.action_uid = a.uid AND d.kind = 'silence')
				FROM acks a WHERE a.at < $1 AND a.until >= $1 AND (a.cleared_at IS NULL OR a.cleared_at > $1) ORDER BY a.at, a.seq`, to)
			if err != nil {
				return err
			}
			if h.Acks, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (model.AckRecord, error) {
				var a model.AckRecord
				var cleared *time.Time
				err := r.Scan(&a.UID, &a.Service, &a.AlertKeys, &a.By, &a.At, &a.Until, &a.Comment, &cleared, &a.Silences)
				a.Cleared = val(cleared)
				return a, err
			}); err != nil {
				return err
			}
			rows, err = tx.Query(ctx, `SELECT uid, service, alert_keys, operator, at, until, comment FROM acks
				WHERE cleared_at IS NULL AND until > now() ORDER BY at, seq`)
			if err != nil {
				return err
			}
			if h.AcksNow, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (model.Ack, error) {
				var a model.Ack
				err := r.Scan(&a.UID, &a.Service, &a.AlertKeys, &a.By, &a.At, &a.Until, &a.Comment)
				return a, err
			}); err != nil {
				return err
			}
			rows, err = tx.Query(ctx, `SELECT at, source, tier, open, unassigned, breached FROM backlog_samples b
				WHERE at < $2 AND (at >= $1 OR at = (SELECT max(b2.at) FROM backlog_samples b2 WHERE b2.source = b.source
				AND b2.tier = b.tier AND b2.at <= $1)) ORDER BY at, source, tier`, from, to)
			if err != nil {
				return err
			}
			h.Backlog, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (model.BacklogSample, error) {
				var b model.BacklogSample
				err := r.Scan(&b.At, &b.Source, &b.Tier, &b.Open, &b.Unassigned, &b.Breached)
				return b, err
			})
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}
