package cache

import (
	"context"
	"database/sql"
	"time"

	"sitroom/model"
)

// Schema version 4 adds the history a shift handoff is built from,
// recorded by the polling process:
//
//	outage_history   one row per outage: service, severity (worst seen),
//	                 opened_at, closed_at (0 while open), alerts (most seen
//	                 at once). Acks and escalations are joined from the
//	                 audit log and escalations by service and time.
//	source_history   one row per stretch a source was down: source,
//	                 down_at (first failed attempt), up_at (first success
//	                 after; 0 while down), error (in words, from upstream).
//	backlog_samples  ticket backlog per source and tier over time: at,
//	                 source, tier, open, unassigned, breached. Written by
//	                 RecordBacklog, from the poller's snapshots.
//
// Prune drops what is older than the retention. Version 6 adds the
// honest times (schemaOutageTimes).
const schemaHistory = `CREATE TABLE outage_history (
		id        INTEGER PRIMARY KEY,
		service   TEXT    NOT NULL,
		severity  TEXT    NOT NULL,
		opened_at INTEGER NOT NULL,
		closed_at INTEGER NOT NULL DEFAULT 0,
		alerts    INTEGER NOT NULL
	);
	CREATE INDEX outage_history_open ON outage_history(service) WHERE closed_at = 0;
	CREATE INDEX outage_history_opened ON outage_history(opened_at);
	CREATE TABLE source_history (
		id      INTEGER PRIMARY KEY,
		source  TEXT    NOT NULL,
		down_at INTEGER NOT NULL,
		up_at   INTEGER NOT NULL DEFAULT 0,
		error   TEXT    NOT NULL
	);
	CREATE INDEX source_history_down ON source_history(down_at);
	CREATE TABLE backlog_samples (
		at         INTEGER NOT NULL,
		source     TEXT    NOT NULL,
		tier       TEXT    NOT NULL,
		open       INTEGER NOT NULL,
		unassigned INTEGER NOT NULL,
		breached   INTEGER NOT NULL,
		PRIMARY KEY (source, tier, at)
	) WITHOUT ROWID;
	CREATE INDEX backlog_samples_at ON backlog_samples(at);`

// Schema version 6: an outage opens when its alerts began firing upstream,
// and ends the moment they went:
//
//	first_seen   when this console first saw the outage's alerts (opened_at
//	             is when they began firing upstream; 0 in rows written
//	             before version 6, which opened when first seen)
//	provisional  1 while closed_at is the moment the outage went but the
//	             anti-flap grace has not passed: it may still reopen as the
//	             same outage
const schemaOutageTimes = `ALTER TABLE outage_history ADD COLUMN first_seen INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE outage_history ADD COLUMN provisional INTEGER NOT NULL DEFAULT 0;`

// Schema version 7: when each alert row was first seen firing (or
// silenced or inhibited, which are firing upstream): an alert pending for
// its rule's `for` is first seen long before it fires, and its start is
// checked against this, not against first_seen. Rows written before
// version 7 that are not pending count as firing when first seen.
const schemaFiredSeen = `ALTER TABLE alerts ADD COLUMN fired_seen INTEGER NOT NULL DEFAULT 0;
	UPDATE alerts SET fired_seen = first_seen WHERE state != 'pending';`

// Schema version 13: team mode (model/teamstore) keeps every host's view
// of the history in the team store, pushed from here:
//
//	outage_history, source_history  gain team: how many local writes to
//	                 the record are not yet in the team store (each write
//	                 adds one; 0 once pushed, see TeamHistoryPending). Rows
//	                 existing at migration keep 1, so a cache that joins a
//	                 team brings its history.
//	team_cutoff      each stretch this console could not reach the team
//	                 store: down_at (the sync found it down), up_at (back;
//	                 0 while cut off).
const schemaTeamHistory = `ALTER TABLE outage_history ADD COLUMN team INTEGER NOT NULL DEFAULT 1;
	ALTER TABLE source_history ADD COLUMN team INTEGER NOT NULL DEFAULT 1;
	CREATE INDEX outage_history_team ON outage_history(id) WHERE team > 0;
	CREATE INDEX source_history_team ON source_history(id) WHERE team > 0;
	CREATE TABLE team_cutoff (
		id      INTEGER PRIMARY KEY,
		down_at INTEGER NOT NULL,
		up_at   INTEGER NOT NULL DEFAULT 0
	);`

// OpenOutage records the outage o (its Service, Severity, Opened,
// FirstSeen and Alerts) and returns its id. Safe for concurrent use.
func (c *Cache) OpenOutage(o model.OutageRecord) (int64, error) {
	var id int64
	err := c.actTx("record an outage", func(ctx context.Context, tx *sql.Conn) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO outage_history(service, severity, opened_at, first_seen, alerts) VALUES (?, ?, ?, ?, ?)`,
			o.Service, o.Severity.Name(), ns(o.Opened), ns(o.FirstSeen), o.Alerts)
		if err != nil {
			return c.wrap("record an outage", err)
		}
		id, err = res.LastInsertId()
		return err
	})
	return id, err
}

// UpdateOutage records a worse severity, more alerts or an earlier start
// (an alert that began before the others joined it) for an open outage.
func (c *Cache) UpdateOutage(id int64, sev model.Severity, alerts int, opened time.Time) error {
	return c.actTx("update an outage", func(ctx context.Context, tx *sql.Conn) error {
		_, err := tx.ExecContext(ctx, `UPDATE outage_history SET severity = ?, alerts = ?, opened_at = min(opened_at, ?), team = team + 1 WHERE id = ?`,
			sev.Name(), alerts, ns(opened), id)
		if err != nil {
			return c.wrap("update an outage", err)
		}
		return nil
	})
}

// CloseOutage records that the outage closed at closed.
//
// A provisional close is the moment the outage went, recorded at once so
// that a report read during the anti-flap grace already shows it ended;
// ReopenOutage takes it back if the outage returns within the grace, and a
// final close (provisional false) settles it.
func (c *Cache) CloseOutage(id int64, closed time.Time, provisional bool) error {
	return c.actTx("close an outage", func(ctx context.Context, tx *sql.Conn) error {
		if _, err := tx.ExecContext(ctx, `UPDATE outage_history SET closed_at = ?, provisional = ?, team = team + 1
			WHERE id = ? AND (closed_at = 0 OR provisional = 1)`,
			ns(closed), provisional, id); err != nil {
			return c.wrap("close an outage", err)
		}
		return nil
	})
}

// ReopenOutage takes back a provisional close: the outage came back within
// the grace and is the same outage.
func (c *Cache) ReopenOutage(id int64) error {
	return c.actTx("reopen an outage", func(ctx context.Context, tx *sql.Conn) error {
		if _, err := tx.ExecContext(ctx, `UPDATE outage_history SET closed_at = 0, provisional = 0, team = team + 1 WHERE id = ? AND provisional = 1`, id); err != nil {
			return c.wrap("reopen an outage", err)
		}
		return nil
	})
}

// OpenOutageRecords lists the outages recorded as open or provisionally
// closed, oldest first.
func (c *Cache) OpenOutageRecords() ([]model.OutageRecord, error) {
	db, done := c.pool()
	defer done()
	return c.outageRecords(context.Background(), db, `WHERE closed_at = 0 OR provisional = 1 ORDER BY id`)
}

// SourceDown records that source's polls started failing at at, with the
// failure in words, and returns the record's id.
func (c *Cache) SourceDown(source string, at time.Time, errText string) (int64, error) {
	var id int64
	err := c.actTx("record a source outage", func(ctx context.Context, tx *sql.Conn) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO source_history(source, down_at, error) VALUES (?, ?, ?)`,
			source, ns(at), clipError(errText))
		if err != nil {
			return c.wrap("record a source outage", err)
		}
		id, err = res.LastInsertId()
		return err
	})
	return id, err
}

// SourceUp records that the source outage id ended at at.
func (c *Cache) SourceUp(id int64, at time.Time) error {
	return c.actTx("record a source recovery", func(ctx context.Context, tx *sql.Conn) error {
		if _, err := tx.ExecContext(ctx, `UPDATE source_history SET up_at = ?, team = team + 1 WHERE id = ? AND up_at = 0`, ns(at), id); err != nil {
			return c.wrap("record a source recovery", err)
		}
		return nil
	})
}

// OpenSourceOutages lists the sources recorded as down, oldest first.
func (c *Cache) OpenSourceOutages() ([]model.SourceOutage, error) {
	db, done := c.pool()
	defer done()
	return c.sourceOutages(context.Background(), db, `WHERE up_at = 0 ORDER BY id`)
}

// RecordBacklog stores ticket backlog samples (one per source and tier);
// the poller's history recorder writes them from its snapshots.
func (c *Cache) RecordBacklog(samples []model.BacklogSample) error {
	return c.actTx("record the ticket backlog", func(ctx context.Context, tx *sql.Conn) error {
		for _, s := range samples {
			if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO backlog_samples(at, source, tier, open, unassigned, breached)
				VALUES (?, ?, ?, ?, ?, ?)`, ns(s.At), s.Source, s.Tier, s.Open, s.Unassigned, s.Breached); err != nil {
				return c.wrap("record the ticket backlog", err)
			}
		}
		return nil
	})
}

// Prune deletes history older than before, the resolved alert rows too:
// PruneHistory with one horizon.
func (c *Cache) Prune(before time.Time) (int64, error) {
	return c.PruneHistory(Retention{Before: before})
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (c *Cache) outageRecords(ctx context.Context, q querier, where string, args ...any) ([]model.OutageRecord, error) {
	var out []model.OutageRecord
	err := c.query(ctx, q, "read outage history", `SELECT id, service, severity, opened_at, closed_at, alerts, first_seen, provisional
		FROM outage_history `+where,
		func(r *sql.Rows) error {
			var o model.OutageRecord
			var sev string
			var opened, closed, firstSeen int64
			if err := r.Scan(&o.ID, &o.Service, &sev, &opened, &closed, &o.Alerts, &firstSeen, &o.Provisional); err != nil {
				return err
			}
			o.Severity, o.Opened, o.Closed = model.ParseSeverity(sev), fromNS(opened), fromNS(closed)
			o.FirstSeen = fromNS(firstSeen)
			if o.FirstSeen.IsZero() {
				o.FirstSeen = o.Opened // written before version 6: opened when first seen
			}
			out = append(out, o)
			return nil
		}, args...)
	return out, err
}

func (c *Cache) sourceOutages(ctx context.Context, q querier, where string, args ...any) ([]model.SourceOutage, error) {
	var out []model.SourceOutage
	err := c.query(ctx, q, "read source history", `SELECT id, source, down_at, up_at, error FROM source_history `+where,
		func(r *sql.Rows) error {
			var s model.SourceOutage
			var down, up int64
			if err := r.Scan(&s.ID, &s.Source, &down, &up, &s.Error); err != nil {
				return err
			}
			s.Down, s.Up = fromNS(down), fromNS(up)
			out = append(out, s)
			return nil
		}, args...)
	return out, err
}

func (c *Cache) query(ctx context.Context, q querier, op, query string, scan func(*sql.Rows) error, args ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return c.closedOr(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return c.wrap(op, err)
		}
	}
	if err := rows.Err(); err != nil {
		return c.wrap(op, err)
	}
	return nil
}

// History reads, in one read transaction, everything a handoff report for
// [from, to) needs: outages, source outages and alerting pipeline
// episodes overlapping it, alerts that
// fired or resolved in it, the actions in it (and, for outages opened
// before from, their earlier acks and escalations), actions still
// unfinished, notes, the notify actions' messages with their channels'
// states, acks in force at to with their silence counts, and backlog
// samples. It reads the file on a pooled connection, never the
// poll's; call it off the UI goroutine. Safe for concurrent use.
func (c *Cache) History(from, to time.Time) (*model.History, error) {
	db, done := c.pool()
	defer done()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, c.closedOr("read history", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return nil, c.closedOr("read history", err)
	}
	defer conn.ExecContext(ctx, "ROLLBACK") //nolint:errcheck // read-only
	f, t := ns(from), ns(to)
	h := &model.History{From: from, To: to}
	if h.Outages, err = c.outageRecords(ctx, conn, `WHERE opened_at < ? AND (closed_at = 0 OR closed_at >= ?) ORDER BY opened_at, id`, t, f); err != nil {
		return nil, err
	}
	earliest := f
	for _, o := range h.Outages {
		earliest = min(earliest, ns(o.Opened))
	}
	if h.SourceOutages, err = c.sourceOutages(ctx, conn, `WHERE down_at < ? AND (up_at = 0 OR up_at >= ?) ORDER BY down_at, id`, t, f); err != nil {
		return nil, err
	}
	if h.Pipeline, err = c.pipelineEpisodes(ctx, conn, f, t); err != nil {
		return nil, err
	}
	err = c.query(ctx, conn, "read the audit log", `SELECT id, uid, at, operator, role, host, ssh_client, verb,
		service, target, comment, upstream, state, reason FROM audit
		WHERE at < ?1 AND (at >= ?2 OR state IN ('pending', 'failed')) ORDER BY at, id`, func(r *sql.Rows) error {
		var e model.AuditEntry
		var at int64
		var role, verb, state string
		if err := r.Scan(&e.ID, &e.UID, &at, &e.Operator, &role, &e.Host, &e.SSHClient, &verb, &e.Service,
			&e.Target, &e.Comment, &e.Upstream, &state, &e.Reason); err != nil {
			return err
		}
		e.At, e.Verb, e.State = fromNS(at), model.Verb(verb), model.ActionState(state)
		e.Role, _ = model.ParseRole(role)
		h.Audit = append(h.Audit, e)
		return nil
	}, t, earliest)
	if err != nil {
		return nil, err
	}
	if h.Notifications, err = c.notificationRecords(ctx, conn, earliest, t); err != nil {
		return nil, err
	}
	err = c.query(ctx, conn, "read escalations", `SELECT id, service, level, who, contact, by, at, comment FROM escalations
		WHERE at >= ? AND at < ? ORDER BY at, id`, func(r *sql.Rows) error {
		var e model.Escalation
		var at int64
		if err := r.Scan(&e.ActionID, &e.Service, &e.Level, &e.Who, &e.Contact, &e.By, &at, &e.Comment); err != nil {
			return err
		}
		e.At = fromNS(at)
		h.Escalations = append(h.Escalations, e)
		return nil
	}, earliest, t)
	if err != nil {
		return nil, err
	}
	err = c.query(ctx, conn, "read notes", `SELECT id, service, by, at, text FROM notes WHERE at >= ? AND at < ? ORDER BY at, id`,
		func(r *sql.Rows) error {
			var n model.Note
			var at int64
			if err := r.Scan(&n.ID, &n.Service, &n.By, &at, &n.Text); err != nil {
				return err
			}
			n.At = fromNS(at)
			h.Notes = append(h.Notes, n)
			return nil
		}, f, t)
	if err != nil {
		return nil, err
	}
	err = c.query(ctx, conn, "read acks", `SELECT acks.id, audit.uid, acks.service, acks.alert_keys, acks.by, acks.at, acks.until,
		acks.comment, acks.cleared_at, (SELECT count(*) FROM outbox WHERE outbox.action_id = acks.id AND outbox.kind = 'silence')
		FROM acks JOIN audit ON audit.id = acks.id
		WHERE acks.at < ?1 AND acks.until >= ?1 AND (acks.cleared_at = 0 OR acks.cleared_at > ?1) ORDER BY acks.id`,
		func(r *sql.Rows) error {
			var a model.AckRecord
			var keys string
			var at, until, cleared int64
			if err := r.Scan(&a.ActionID, &a.UID, &a.Service, &keys, &a.By, &at, &until, &a.Comment, &cleared, &a.Silences); err != nil {
				return err
			}
			a.AlertKeys, _ = decodeList([]byte(keys))
			a.At, a.Until, a.Cleared = fromNS(at), fromNS(until), fromNS(cleared)
			h.Acks = append(h.Acks, a)
			return nil
		}, t)
	if err != nil {
		return nil, err
	}
	// Every firing span of the alerts that fired or resolved in the span,
	// with the spans of the same alerts that overlap it, so a source
	// that stops while another still holds the alert is no resolve.
	var spans []model.AlertSpan
	err = c.query(ctx, conn, "read alert history", `SELECT source, key, labels, starts_at, first_seen, fired_seen, resolved_at FROM alerts
		WHERE state != 'pending' AND first_seen < ?2 AND (resolved_at IS NULL OR resolved_at >= ?1)
		AND key IN (SELECT key FROM alerts WHERE state != 'pending'
			AND ((fired_seen >= ?1 AND fired_seen < ?2) OR (resolved_at >= ?1 AND resolved_at < ?2)))
		ORDER BY id`,
		func(r *sql.Rows) error {
			var sp model.AlertSpan
			var labels string
			var starts, first, fired int64
			var resolved sql.NullInt64
			if err := r.Scan(&sp.Source, &sp.Key, &labels, &starts, &first, &fired, &resolved); err != nil {
				return err
			}
			l, _ := decodeMap([]byte(labels))
			sp.Name, sp.Service, sp.Severity = l["alertname"], l["service"], model.ParseSeverity(l["severity"])
			if sp.Service == "" {
				sp.Service = l["job"]
			}
			seen := fromNS(fired)
			if seen.IsZero() {
				seen = fromNS(first)
			}
			sp.Began = model.BeganAt(fromNS(starts), seen)
			if resolved.Valid {
				sp.Resolved = fromNS(resolved.Int64)
			}
			spans = append(spans, sp)
			return nil
		}, f, t)
	if err != nil {
		return nil, err
	}
	h.Alerts = model.AlertEpisodes(spans)
	if err := c.readSilenced(ctx, conn, h); err != nil {
		return nil, err
	}
	err = c.query(ctx, conn, "read the ticket backlog", `SELECT at, source, tier, open, unassigned, breached FROM backlog_samples
		WHERE at < ?2 AND (at >= ?1 OR at = (SELECT max(b.at) FROM backlog_samples b WHERE b.source = backlog_samples.source
		AND b.tier = backlog_samples.tier AND b.at <= ?1)) ORDER BY at`,
		func(r *sql.Rows) error {
			var s model.BacklogSample
			var at int64
			if err := r.Scan(&at, &s.Source, &s.Tier, &s.Open, &s.Unassigned, &s.Breached); err != nil {
				return err
			}
			s.At = fromNS(at)
			h.Backlog = append(h.Backlog, s)
			return nil
		}, f, t)
	if err != nil {
		return nil, err
	}
	return h, nil
}

// readSilenced reads into h what the handoff says of silences and of
// being acknowledged: the open alerts of the services with an open
// outage, and the upstream silences not sitroom's own (no marker, or the
// marker of an ack that ended upstream) silencing open alerts.
func (c *Cache) readSilenced(ctx context.Context, conn *sql.Conn, h *model.History) error {
	open := map[string]bool{}
	for _, o := range h.Outages {
		if o.Closed.IsZero() {
			open[o.Service] = true
		}
	}
	services := map[string]map[string]bool{} // silence id → services
	err := c.query(ctx, conn, "read open alerts", `SELECT key, labels, silenced_by, state FROM alerts
		WHERE resolved_at IS NULL AND state != 'pending' ORDER BY id`, func(r *sql.Rows) error {
		var key, labels, silenced, state string
		if err := r.Scan(&key, &labels, &silenced, &state); err != nil {
			return err
		}
		l, _ := decodeMap([]byte(labels))
		svc := l["service"]
		if svc == "" {
			svc = l["job"]
		}
		ids, _ := decodeList([]byte(silenced))
		for _, id := range ids {
			if services[id] == nil {
				services[id] = map[string]bool{}
			}
			services[id][svc] = true
		}
		if open[svc] && (state == model.StateFiring.String() || len(ids) > 0) {
			h.OpenAlerts = append(h.OpenAlerts, model.OpenAlert{Service: svc, Key: key,
				Severity: model.ParseSeverity(l["severity"]), SilencedBy: ids})
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = c.query(ctx, conn, "read acks", `SELECT acks.id, acks.service, acks.alert_keys, acks.by, acks.at, acks.until, acks.comment
		FROM acks WHERE acks.cleared_at = 0 AND acks.until > ? ORDER BY acks.id`, func(r *sql.Rows) error {
		var a model.Ack
		var keys string
		var at, until int64
		if err := r.Scan(&a.ActionID, &a.Service, &keys, &a.By, &at, &until, &a.Comment); err != nil {
			return err
		}
		a.AlertKeys, _ = decodeList([]byte(keys))
		a.At, a.Until = fromNS(at), fromNS(until)
		h.AcksNow = append(h.AcksNow, a)
		return nil
	}, ns(time.Now()))
	if err != nil {
		return err
	}
	ended := map[string]bool{}
	err = c.query(ctx, conn, "read silences", `SELECT audit.uid FROM acks JOIN audit ON audit.id = acks.id WHERE acks.ended_at != 0`,
		func(r *sql.Rows) error {
			var uid string
			if err := r.Scan(&uid); err != nil {
				return err
			}
			ended[uid] = true
			return nil
		})
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	return c.query(ctx, conn, "read silences", `SELECT source, id, created_by, comment, ends_at, starts_at, updated_at,
		state, matchers FROM silences WHERE state != 'expired' ORDER BY ends_at, id, source`, func(r *sql.Rows) error {
		var s model.Silence
		var ends, starts, updated int64
		var state string
		if err := r.Scan(&s.Source, &s.ID, &s.CreatedBy, &s.Comment, &ends, &starts, &updated, &state, &s.Matchers); err != nil {
			return err
		}
		s.EndsAt, s.StartsAt, s.UpdatedAt, s.State = fromNS(ends), fromNS(starts), fromNS(updated), model.SilenceState(state)
		if uid := markedUID(s.Comment); (uid != "" && !ended[uid]) || seen[s.ID] || len(services[s.ID]) == 0 {
			return nil // sitroom's own ack, listed by another member of the pair, or silencing nothing open
		}
		seen[s.ID] = true
		h.Silences = append(h.Silences, model.SilenceRecord{Silence: s, Services: model.SortedKeys(services[s.ID])})
		return nil
	})
}

// Handoff reads the history a handoff report with these options needs and
// builds it (model.BuildHandoff). It runs SQL: never call it on the UI
// goroutine.
func (c *Cache) Handoff(opt model.HandoffOptions) (*model.Handoff, error) {
	h, err := c.History(opt.From(), opt.Window.To)
	if err != nil {
		return nil, err
	}
	return model.BuildHandoff(h, opt), nil
}
