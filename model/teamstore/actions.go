package teamstore

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"sitroom/model"
)

// tz is t for a nullable timestamptz column: NULL when zero.
func tz(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// val is the time a nullable column held, zero for NULL.
func val(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// maxError is how much of an upstream's error text a row keeps.
const maxError = 1000

func clip(s string) string {
	if len(s) > maxError {
		return s[:maxError]
	}
	return s
}

// Push records actions as the cache recorded them (model.Action with its
// audit row, effect and deliveries), each in its own transaction: the
// audit row, then its effect — an ack, the clearing of a service's acks
// (un-ack, clear), an escalation (clearing the service's earlier one), a
// note — and its deliveries in the outbox. An action whose uid is already
// there is skipped whole, so pushing the same action twice, or from two
// consoles, records it once. Clearing only moves forward: it never
// un-clears, and an action pushed late (a console copying what it did
// while the store was down) clears only what was made before it; an ack
// or escalation pushed after a later un-ack or escalation of its service
// arrives already cleared. It reports how many actions were new; an
// action the server refuses stops it with a *RefusedError (see Sync).
func (s *Store) Push(ctx context.Context, actions ...model.Action) (int, error) {
	n := 0
	for i := range actions {
		a := &actions[i]
		if a.UID == "" {
			return n, s.wrap("record an action", errors.New("action without uid"))
		}
		var added bool
		err := s.write(ctx, "record an action", func(tx pgx.Tx) error {
			var err error
			added, err = pushOne(ctx, tx, a)
			return err
		})
		if err != nil {
			if r := s.refusal(ctx, a, err); r != nil {
				return n, r
			}
			return n, err
		}
		if added {
			n++
		}
	}
	return n, nil
}

func pushOne(ctx context.Context, tx pgx.Tx, a *model.Action) (bool, error) {
	state := a.State
	if state == "" {
		state = model.ActionDelivered
		if len(a.Deliveries) > 0 {
			state = model.ActionPending
		}
	}
	// The audit row is immutable (the server stamps and chains it); what
	// changes of the action later lives in action_state.
	tag, err := tx.Exec(ctx, `INSERT INTO audit(uid, at, operator, role, host, ssh_client, verb, service, target,
		comment) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (uid) DO NOTHING`,
		a.UID, a.At, a.Operator, a.Role.String(), a.Host, a.SSHClient, string(a.Verb), a.Service, a.Target, a.Comment)
	if err != nil || tag.RowsAffected() == 0 {
		return false, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO action_state(uid, state, upstream, reason) VALUES ($1, $2, $3, $4)`,
		a.UID, string(state), a.Upstream, a.Reason); err != nil {
		return false, err
	}
	if state == model.ActionRefused {
		return true, nil
	}
	switch a.Verb {
	case model.VerbAck:
		keys := a.AlertKeys
		if keys == nil {
			keys = []string{}
		}
		_, err = tx.Exec(ctx, `INSERT INTO acks(uid, service, alert_keys, operator, at, until, comment, cleared_at, cleared_by)
			SELECT $1::text, $2::text, $3::text[], $4::text, $5::timestamptz, $6::timestamptz, $7::text, u.at, coalesce(u.operator, '')
			FROM (SELECT NULL) AS one LEFT JOIN LATERAL (SELECT au.at, au.operator FROM audit au
				JOIN action_state st ON st.uid = au.uid
				WHERE au.service = $2 AND au.verb IN ('unack', 'clear') AND st.state != 'refused' AND au.at > $5
				ORDER BY au.at LIMIT 1) AS u ON true`,
			a.UID, a.Service, keys, a.Operator, a.At, a.Until, a.Comment)
	case model.VerbUnack, model.VerbClear:
		_, err = tx.Exec(ctx, `UPDATE acks SET cleared_at = $2, cleared_by = $3
			WHERE service = $1 AND cleared_at IS NULL AND at <= $2`, a.Service, a.At, a.Operator)
		if err == nil && a.Verb == model.VerbClear {
			_, err = tx.Exec(ctx, `UPDATE escalations SET cleared_at = $2
				WHERE service = $1 AND cleared_at IS NULL AND at <= $2`, a.Service, a.At)
		}
	case model.VerbEscalate:
		_, err = tx.Exec(ctx, `UPDATE escalations SET cleared_at = $2
			WHERE service = $1 AND cleared_at IS NULL AND at <= $2`, a.Service, a.At)
		if err == nil {
			_, err = tx.Exec(ctx, `INSERT INTO escalations(uid, service, level, who, contact, operator, at, comment, cleared_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8,
				(SELECT min(at) FROM escalations WHERE service = $2 AND at > $7))`,
				a.UID, a.Service, a.Level, a.Who, a.Contact, a.Operator, a.At, a.Comment)
		}
	case model.VerbNote:
		_, err = tx.Exec(ctx, `INSERT INTO notes(uid, service, operator, at, text) VALUES ($1, $2, $3, $4, $5)`,
			a.UID, a.Service, a.Operator, a.At, a.Comment)
	}
	if err != nil {
		return false, err
	}
	for _, d := range a.Deliveries {
		if err := insertDelivery(ctx, tx, a.UID, a.At, d); err != nil {
			return false, err
		}
	}
	return true, nil
}

// insertDelivery queues d for the action uid made at at (its first try
// then when d has no NextAt), in d's state, pending when it has none.
func insertDelivery(ctx context.Context, tx pgx.Tx, uid string, at time.Time, d model.Delivery) error {
	next := d.NextAt
	if next.IsZero() {
		next = at
	}
	st := d.State
	if st == "" {
		st = model.ActionPending
	}
	_, err := tx.Exec(ctx, `INSERT INTO deliveries(action_uid, kind, dest, key, payload, state, attempts, next_at, ref, error, until)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (action_uid, kind, dest, key) DO NOTHING`,
		uid, d.Kind, d.Dest, d.Key, d.Payload, string(st), d.Attempts, next, d.Ref, clip(d.Error), tz(d.Until))
	return err
}

// EndAck records that the ack uid ended upstream at at, and why in words
// (model.Ack.Ended): it is cleared by "upstream" if it was not cleared
// before, and its silences not yet created are cancelled.
func (s *Store) EndAck(ctx context.Context, uid, why string, at time.Time) error {
	return s.write(ctx, "end an ack", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE acks SET cleared_at = $2, cleared_by = 'upstream', ended_at = $2, ended = $3
			WHERE uid = $1 AND cleared_at IS NULL`, uid, at, why)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE deliveries SET state = 'cancelled'
			WHERE action_uid = $1 AND kind = 'silence' AND state = 'pending'`, uid); err != nil {
			return err
		}
		return settle(ctx, tx, uid)
	})
}

// settle derives an action's state (action_state) from its deliveries: delivered
// when every one is done, failed when one failed for good, with the
// upstream references and the last error. The row is written only when
// that changes it (its seq moves only then); a refused one never is.
func settle(ctx context.Context, tx pgx.Tx, uid string) error {
	_, err := tx.Exec(ctx, `UPDATE action_state SET state = d.new_state, upstream = d.refs, reason = d.last_error
		FROM (SELECT CASE WHEN coalesce(bool_or(state = 'failed'), false) THEN 'failed'
				WHEN coalesce(bool_or(state = 'pending'), false) THEN 'pending' ELSE 'delivered' END AS new_state,
			coalesce(string_agg(nullif(ref, ''), ',' ORDER BY id), '') AS refs,
			coalesce((array_agg(error ORDER BY id DESC) FILTER (WHERE error != ''))[1], '') AS last_error
			FROM deliveries WHERE action_uid = $1) AS d
		WHERE uid = $1 AND action_state.state != 'refused'
			AND (action_state.state, action_state.upstream, action_state.reason) IS DISTINCT FROM (d.new_state, d.refs, d.last_error)`, uid)
	return err
}

const deliveryCols = `d.id, d.action_uid, a.operator, a.comment, d.kind, d.dest, d.key, d.payload, d.state,
	d.attempts, d.next_at, d.ref, d.error, d.until`

func scanDelivery(r pgx.Row) (model.Delivery, error) {
	var d model.Delivery
	var state string
	var until *time.Time
	err := r.Scan(&d.ID, &d.ActionUID, &d.Operator, &d.Comment, &d.Kind, &d.Dest, &d.Key, &d.Payload, &state,
		&d.Attempts, &d.NextAt, &d.Ref, &d.Error, &until)
	d.State, d.Until = model.ActionState(state), val(until)
	return d, err
}

// ClaimDeliveries takes up to limit pending deliveries due now (the
// server's clock) for one attempt by holder, oldest first: each is due
// again hold from now, so a claim whose console died is taken up again
// then. Rows another console is claiming at the same moment are skipped
// (FOR UPDATE SKIP LOCKED): of twenty consoles claiming at once, each
// delivery goes to one. A claim that finds nothing due writes nothing
// (notifies no one). The ActionID of a delivery is 0; ActionUID names
// its action.
func (s *Store) ClaimDeliveries(ctx context.Context, holder string, limit int, hold time.Duration) ([]model.Delivery, error) {
	var out []model.Delivery
	err := s.write(ctx, "claim deliveries", func(c pgx.Tx) error {
		out = out[:0]
		// Locked first, updated only when some are due: an update of no
		// row would still notify every console (the statement trigger),
		// and the lease holder claims several times a second.
		rows, err := c.Query(ctx, `SELECT id FROM deliveries WHERE state = 'pending' AND next_at <= now()
			ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, limit)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil || len(ids) == 0 {
			return err
		}
		rows, err = c.Query(ctx, `UPDATE deliveries d SET next_at = now() + $2 * interval '1 microsecond', claimed_by = $3
			FROM audit a WHERE d.id = ANY($1) AND a.uid = d.action_uid
			RETURNING `+deliveryCols, ids, hold.Microseconds(), holder)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (model.Delivery, error) { return scanDelivery(r) })
		return err
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

// FinishDelivery records one attempt of a claimed delivery: d.State is
// delivered, failed (for good) or pending (retried at d.NextAt), with
// d.Ref and d.Error; attempts goes up by one. Its action's audit row
// follows. A delivery no longer pending (cancelled meanwhile, or finished
// by an earlier try of the same call) is left alone.
func (s *Store) FinishDelivery(ctx context.Context, d model.Delivery) error {
	return s.write(ctx, "record a delivery", func(tx pgx.Tx) error {
		var uid string
		err := tx.QueryRow(ctx, `UPDATE deliveries SET state = $2, attempts = attempts + 1, next_at = $3, ref = $4,
			error = $5, claimed_by = '' WHERE id = $1 AND state = 'pending' RETURNING action_uid`,
			d.ID, string(d.State), d.NextAt, d.Ref, clip(d.Error)).Scan(&uid)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		return settle(ctx, tx, uid)
	})
}

// Deliveries lists every delivery of the action uid, in the order queued.
func (s *Store) Deliveries(ctx context.Context, uid string) ([]model.Delivery, error) {
	var out []model.Delivery
	err := s.do(ctx, "read the outbox", func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT `+deliveryCols+` FROM deliveries d JOIN audit a ON a.uid = d.action_uid
			WHERE d.action_uid = $1 ORDER BY d.id`, uid)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (model.Delivery, error) { return scanDelivery(r) })
		return err
	})
	return out, err
}

// leaseName is the one team lease: the right to record the team's
// history, deliver its outbox and clear acks of resolved outages.
const leaseName = "team"

// TryLease takes or renews the team lease for holder until ttl from now
// by the server's clock, if it is free, lapsed or already holder's. It
// reports whether holder holds it after the call. Of several consoles
// racing for a lapsed lease exactly one wins. A console whose role may not
// hold the lease (a viewer: the holder delivers the team's outbox and
// records its history) never takes it: false, and no error.
func (s *Store) TryLease(ctx context.Context, holder string, ttl time.Duration) (bool, error) {
	if holder == "" || ttl <= 0 {
		return false, s.wrap("take the team lease", errors.New("a holder and a positive ttl are needed"))
	}
	var n int64
	err := s.write(ctx, "take the team lease", func(c pgx.Tx) error {
		tag, err := c.Exec(ctx, `INSERT INTO team_lease(name, holder, expires_at)
			VALUES ($1, $2, now() + $3 * interval '1 microsecond')
			ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
			WHERE team_lease.holder = excluded.holder OR team_lease.expires_at <= now()`,
			leaseName, holder, ttl.Microseconds())
		n = tag.RowsAffected()
		return err
	})
	if denied(err) {
		return false, nil
	}
	return n == 1, err
}

// Release gives the team lease up if holder holds it, so another console
// takes it at once rather than when it lapses.
func (s *Store) Release(ctx context.Context, holder string) error {
	return s.write(ctx, "release the team lease", func(c pgx.Tx) error {
		_, err := c.Exec(ctx, `UPDATE team_lease SET holder = '', expires_at = now() WHERE name = $1 AND holder = $2`,
			leaseName, holder)
		if denied(err) {
			return nil // a role that may not hold the lease holds none
		}
		return err
	})
}

// LeaseHolder names who holds the team lease and until when; "" when no
// one does (never taken, released or lapsed by the server's clock).
func (s *Store) LeaseHolder(ctx context.Context) (string, time.Time, error) {
	var holder string
	var until time.Time
	err := s.do(ctx, "read the team lease", func(c *pgx.Conn) error {
		err := c.QueryRow(ctx, `SELECT holder, expires_at FROM team_lease WHERE name = $1 AND expires_at > now() AND holder != ''`,
			leaseName).Scan(&holder, &until)
		if errors.Is(err, pgx.ErrNoRows) {
			holder, until = "", time.Time{}
			return nil
		}
		return err
	})
	return holder, until, err
}

// HostStatus is one host's status of one source.
type HostStatus struct {
	Host string
	model.SourceStatus
}

// PutStatus records this console's (Options.Host) status of its sources.
func (s *Store) PutStatus(ctx context.Context, statuses ...model.SourceStatus) error {
	return s.write(ctx, "record source status", func(tx pgx.Tx) error {
		for _, st := range statuses {
			findings := st.Findings
			if findings == nil {
				findings = []model.Finding{}
			}
			fj, err := json.Marshal(findings)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO source_status(host, source, type, last_attempt, last_success,
				last_error, latency_us, items, note, findings) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
				ON CONFLICT (host, source) DO UPDATE SET type = excluded.type, last_attempt = excluded.last_attempt,
				last_success = excluded.last_success, last_error = excluded.last_error, latency_us = excluded.latency_us,
				items = excluded.items, note = excluded.note, findings = excluded.findings
				WHERE (source_status.type, source_status.last_attempt, source_status.last_success, source_status.last_error,
					source_status.latency_us, source_status.items, source_status.note, source_status.findings)
				IS DISTINCT FROM (excluded.type, excluded.last_attempt, excluded.last_success, excluded.last_error,
					excluded.latency_us, excluded.items, excluded.note, excluded.findings)`,
				s.host, st.Name, st.Type, tz(st.LastAttempt), tz(st.LastSuccess), clip(st.LastError),
				st.Latency.Microseconds(), st.Items, st.Note, string(fj)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Changes is every row changed after a cursor, as model values.
type Changes struct {
	Audit       []model.AuditEntry
	Acks        []AckRow
	Escalations []EscalationRow
	Notes       []NoteRow
	Deliveries  []model.Delivery
	// Lease is the team lease row when it changed (taken, renewed,
	// released); nil when it did not.
	Lease         *Lease
	Statuses      []HostStatus
	Outages       []model.OutageRecord
	SourceOutages []model.SourceOutage
	Backlog       []model.BacklogSample
}

// Empty reports whether nothing changed.
func (c *Changes) Empty() bool {
	return len(c.Audit)+len(c.Acks)+len(c.Escalations)+len(c.Notes)+len(c.Deliveries)+len(c.Statuses)+
		len(c.Outages)+len(c.SourceOutages)+len(c.Backlog) == 0 && c.Lease == nil
}

// AckRow is an ack as the team store holds it: the ack (ActionID 0, UID
// its audit uid), when it was cleared and by whom (zero and "" while in
// force or lapsed).
type AckRow struct {
	model.Ack
	Cleared   time.Time
	ClearedBy string
}

// EscalationRow is an escalation with its audit uid and when a later
// escalation or a clear superseded it (zero while it stands).
type EscalationRow struct {
	model.Escalation
	UID     string
	Cleared time.Time
}

// NoteRow is a note with its audit uid.
type NoteRow struct {
	model.Note
	UID string
}

// Lease is the team lease as stored: Holder "" when released.
type Lease struct {
	Holder  string
	Expires time.Time
}

// Changes returns every row of every table changed (inserted or updated)
// after cursor, read in one snapshot, and the cursor to pass next time.
// Cursor 0 reads everything. Writes are serialized (see writeLock), so a
// change committed after this read always has a seq past next: a console
// that missed notifications, or was cut off from the store, catches up by
// calling Changes with the cursor it had.
func (s *Store) Changes(ctx context.Context, cursor int64) (Changes, int64, error) {
	var ch Changes
	next := cursor
	err := s.do(ctx, "read changes", func(c *pgx.Conn) error {
		ch, next = Changes{}, cursor
		return pgx.BeginTxFunc(ctx, c, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
			q := func(query string, scan func(pgx.Rows) (int64, error)) error {
				rows, err := tx.Query(ctx, query, cursor)
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
					seq, err := scan(rows)
					if err != nil {
						return err
					}
					next = max(next, seq)
				}
				return rows.Err()
			}
			steps := []struct {
				query string
				scan  func(pgx.Rows) (int64, error)
			}{
				{`SELECT ` + auditCols + `, greatest(a.seq, s.seq) AS seq FROM ` + auditFrom + `
					WHERE a.uid IN (SELECT uid FROM audit WHERE seq > $1 UNION SELECT uid FROM action_state WHERE seq > $1)
					ORDER BY 14`, func(r pgx.Rows) (int64, error) {
					var seq int64
					e, err := scanAudit(r, &seq)
					ch.Audit = append(ch.Audit, e)
					return seq, err
				}},
				{`SELECT uid, service, alert_keys, operator, at, until, comment, cleared_at, cleared_by, ended_at, ended, seq
					FROM acks WHERE seq > $1 ORDER BY seq`, func(r pgx.Rows) (int64, error) {
					var a AckRow
					var seq int64
					var cleared, ended *time.Time
					err := r.Scan(&a.UID, &a.Service, &a.AlertKeys, &a.By, &a.At, &a.Until, &a.Comment, &cleared, &a.ClearedBy,
						&ended, &a.Ended, &seq)
					a.Cleared, a.EndedAt = val(cleared), val(ended)
					ch.Acks = append(ch.Acks, a)
					return seq, err
				}},
				{`SELECT uid, service, level, who, contact, operator, at, comment, cleared_at, seq
					FROM escalations WHERE seq > $1 ORDER BY seq`, func(r pgx.Rows) (int64, error) {
					var e EscalationRow
					var seq int64
					var cleared *time.Time
					err := r.Scan(&e.UID, &e.Service, &e.Level, &e.Who, &e.Contact, &e.By, &e.At, &e.Comment, &cleared, &seq)
					e.Cleared = val(cleared)
					ch.Escalations = append(ch.Escalations, e)
					return seq, err
				}},
				{`SELECT uid, service, operator, at, text, seq FROM notes WHERE seq > $1 ORDER BY seq`, func(r pgx.Rows) (int64, error) {
					var n NoteRow
					var seq int64
					err := r.Scan(&n.UID, &n.Service, &n.By, &n.At, &n.Text, &seq)
					ch.Notes = append(ch.Notes, n)
					return seq, err
				}},
				{`SELECT ` + deliveryCols + `, d.seq FROM deliveries d JOIN audit a ON a.uid = d.action_uid
					WHERE d.seq > $1 ORDER BY d.seq`, func(r pgx.Rows) (int64, error) {
					var d model.Delivery
					var state string
					var until *time.Time
					var seq int64
					err := r.Scan(&d.ID, &d.ActionUID, &d.Operator, &d.Comment, &d.Kind, &d.Dest, &d.Key, &d.Payload, &state,
						&d.Attempts, &d.NextAt, &d.Ref, &d.Error, &until, &seq)
					d.State, d.Until = model.ActionState(state), val(until)
					ch.Deliveries = append(ch.Deliveries, d)
					return seq, err
				}},
				{`SELECT holder, expires_at, seq FROM team_lease WHERE seq > $1 AND name = '` + leaseName + `'`, func(r pgx.Rows) (int64, error) {
					var l Lease
					var seq int64
					err := r.Scan(&l.Holder, &l.Expires, &seq)
					ch.Lease = &l
					return seq, err
				}},
				{`SELECT host, source, type, last_attempt, last_success, last_error, latency_us, items, note, findings, seq
					FROM source_status WHERE seq > $1 ORDER BY seq`, func(r pgx.Rows) (int64, error) {
					var h HostStatus
					var seq, lat int64
					var attempt, success *time.Time
					var findings []byte
					err := r.Scan(&h.Host, &h.Name, &h.Type, &attempt, &success, &h.LastError, &lat, &h.Items, &h.Note, &findings, &seq)
					if err == nil {
						err = json.Unmarshal(findings, &h.Findings)
					}
					h.LastAttempt, h.LastSuccess, h.Latency = val(attempt), val(success), time.Duration(lat)*time.Microsecond
					ch.Statuses = append(ch.Statuses, h)
					return seq, err
				}},
				{`SELECT ` + outageCols + `, seq FROM outage_history WHERE seq > $1 ORDER BY seq`, func(r pgx.Rows) (int64, error) {
					var seq int64
					o, err := scanOutage(r, &seq)
					ch.Outages = append(ch.Outages, o)
					return seq, err
				}},
				{`SELECT id, source, down_at, up_at, error, seq FROM source_history WHERE seq > $1 ORDER BY seq`, func(r pgx.Rows) (int64, error) {
					var seq int64
					o, err := scanSourceOutage(r, &seq)
					ch.SourceOutages = append(ch.SourceOutages, o)
					return seq, err
				}},
				{`SELECT at, source, tier, open, unassigned, breached, seq FROM backlog_samples WHERE seq > $1 ORDER BY seq`, func(r pgx.Rows) (int64, error) {
					var b model.BacklogSample
					var seq int64
					err := r.Scan(&b.At, &b.Source, &b.Tier, &b.Open, &b.Unassigned, &b.Breached, &seq)
					ch.Backlog = append(ch.Backlog, b)
					return seq, err
				}},
			}
			for _, st := range steps {
				if err := q(st.query, st.scan); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		return Changes{}, cursor, err
	}
	return ch, next, nil
}

// auditCols are an action's audit row (a) and state (s), as auditFrom
// names them.
const auditCols = `a.uid, a.at, a.operator, a.role, a.host, a.ssh_client, a.verb, a.service, a.target, a.comment,
	s.upstream, s.state, s.reason`

// auditFrom joins each audit row to its action's state.
const auditFrom = `audit a JOIN action_state s ON s.uid = a.uid`

func scanAudit(r pgx.Row, extra ...any) (model.AuditEntry, error) {
	var e model.AuditEntry
	var role, verb, state string
	err := r.Scan(append([]any{&e.UID, &e.At, &e.Operator, &role, &e.Host, &e.SSHClient, &verb, &e.Service, &e.Target,
		&e.Comment, &e.Upstream, &state, &e.Reason}, extra...)...)
	e.Verb, e.State = model.Verb(verb), model.ActionState(state)
	e.Role, _ = model.ParseRole(role)
	return e, err
}

// AuditLog returns the audit rows at or after since, oldest first.
func (s *Store) AuditLog(ctx context.Context, since time.Time) ([]model.AuditEntry, error) {
	var out []model.AuditEntry
	err := s.do(ctx, "read the audit log", func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT `+auditCols+` FROM `+auditFrom+` WHERE a.at >= $1 ORDER BY a.at, a.seq`, since)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (model.AuditEntry, error) { return scanAudit(r) })
		return err
	})
	return out, err
}
