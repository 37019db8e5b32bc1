package cache

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"sitroom/model"
)

// Schema version 2 adds what operators do, shared by every process on the
// file:
//
//	audit        one row per action, written before anything goes upstream:
//	             uid (random, carried upstream in markers), at, operator,
//	             role, host, ssh_client, verb, service, target, comment,
//	             upstream (references), state (pending, delivered, failed,
//	             refused), reason.
//	outbox       one row per call to make upstream: action_id, kind
//	             (silence, expire, webhook), dest, key, payload, state,
//	             attempts, next_at, ref, error, until. Pending rows are
//	             retried until delivered or failed for good.
//	acks         acks made here: id = the audit id, service, alert_keys,
//	             by, at, until, comment, cleared_at (0 while in force or
//	             lapsed), cleared_by.
//	escalations  escalation steps: id = audit id, service, level, who,
//	             contact, by, at, comment, cleared_at.
//	notes        id = audit id, service ("" = the shift), by, at, text.
//	silences     silences read from each Alertmanager, for their authors.
const schemaActions = `CREATE TABLE audit (
		id         INTEGER PRIMARY KEY,
		uid        TEXT    NOT NULL UNIQUE,
		at         INTEGER NOT NULL,
		operator   TEXT    NOT NULL,
		role       TEXT    NOT NULL,
		host       TEXT    NOT NULL,
		ssh_client TEXT    NOT NULL,
		verb       TEXT    NOT NULL,
		service    TEXT    NOT NULL,
		target     TEXT    NOT NULL,
		comment    TEXT    NOT NULL,
		upstream   TEXT    NOT NULL DEFAULT '',
		state      TEXT    NOT NULL,
		reason     TEXT    NOT NULL DEFAULT ''
	);
	CREATE INDEX audit_at ON audit(at);
	CREATE TABLE outbox (
		id        INTEGER PRIMARY KEY,
		action_id INTEGER NOT NULL REFERENCES audit(id),
		kind      TEXT    NOT NULL,
		dest      TEXT    NOT NULL,
		key       TEXT    NOT NULL,
		payload   TEXT    NOT NULL,
		state     TEXT    NOT NULL,
		attempts  INTEGER NOT NULL DEFAULT 0,
		next_at   INTEGER NOT NULL,
		ref       TEXT    NOT NULL DEFAULT '',
		error     TEXT    NOT NULL DEFAULT '',
		until     INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX outbox_pending ON outbox(next_at) WHERE state = 'pending';
	CREATE INDEX outbox_action ON outbox(action_id);
	CREATE TABLE acks (
		id         INTEGER PRIMARY KEY REFERENCES audit(id),
		service    TEXT    NOT NULL,
		alert_keys TEXT    NOT NULL,
		by         TEXT    NOT NULL,
		at         INTEGER NOT NULL,
		until      INTEGER NOT NULL,
		comment    TEXT    NOT NULL,
		cleared_at INTEGER NOT NULL DEFAULT 0,
		cleared_by TEXT    NOT NULL DEFAULT ''
	);
	CREATE INDEX acks_open ON acks(service) WHERE cleared_at = 0;
	CREATE TABLE escalations (
		id         INTEGER PRIMARY KEY REFERENCES audit(id),
		service    TEXT    NOT NULL,
		level      INTEGER NOT NULL,
		who        TEXT    NOT NULL,
		contact    TEXT    NOT NULL,
		by         TEXT    NOT NULL,
		at         INTEGER NOT NULL,
		comment    TEXT    NOT NULL,
		cleared_at INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX escalations_open ON escalations(service) WHERE cleared_at = 0;
	CREATE TABLE notes (
		id      INTEGER PRIMARY KEY REFERENCES audit(id),
		service TEXT    NOT NULL,
		by      TEXT    NOT NULL,
		at      INTEGER NOT NULL,
		text    TEXT    NOT NULL
	);
	CREATE INDEX notes_at ON notes(at);
	CREATE TABLE silences (
		source     TEXT    NOT NULL,
		id         TEXT    NOT NULL,
		created_by TEXT    NOT NULL,
		comment    TEXT    NOT NULL,
		ends_at    INTEGER NOT NULL,
		PRIMARY KEY (source, id)
	) WITHOUT ROWID;`

// ErrAlreadyAcked is returned by RecordAction for an ack on a service that
// already has one in force.
var ErrAlreadyAcked = errors.New("already acknowledged")

// ErrNotAcked is returned by RecordAction for an un-ack of a service with
// no ack.
var ErrNotAcked = errors.New("not acknowledged")

// actTx runs fn in a write transaction (BEGIN IMMEDIATE) on a connection
// of the pool, apart from the connection polls write on.
func (c *Cache) actTx(op string, fn func(ctx context.Context, tx *sql.Conn) error) error {
	db, done := c.pool()
	defer done()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		if strings.Contains(err.Error(), "database is closed") {
			return ErrClosed
		}
		return c.wrap(op, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return c.wrap(op, err)
	}
	if err := fn(ctx, conn); err != nil {
		_, _ = conn.ExecContext(ctx, "ROLLBACK")
		return err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		_, _ = conn.ExecContext(ctx, "ROLLBACK")
		return c.wrap(op, err)
	}
	return nil
}

func newUID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// RecordAction writes an action in one transaction, before anything goes
// upstream: its audit row, its effect (an ack, an un-ack or clear, an
// escalation, a note) and its deliveries into the outbox. It fills in the
// action's ID, UID and State and returns the deliveries as queued (with
// their ids). A refused action records only its audit row.
//
// An ack on a service that has one in force fails with ErrAlreadyAcked; an
// un-ack (or clear) of a service without one fails with ErrNotAcked, and
// nothing is written. An un-ack or clear cancels the ack's silences not
// yet created and queues, per Alertmanager the ack reached or was to
// reach, one delivery expiring them.
//
// Safe for concurrent use, also across processes sharing the file.
func (c *Cache) RecordAction(a *model.Action) ([]model.Delivery, error) {
	if a.UID == "" {
		a.UID = newUID()
	}
	if a.State == "" {
		a.State = model.ActionDelivered
		if len(a.Deliveries) > 0 {
			a.State = model.ActionPending
		}
	}
	var queued []model.Delivery
	err := c.actTx("record an action", func(ctx context.Context, tx *sql.Conn) error {
		now := ns(a.At)
		if a.State != model.ActionRefused && model.OnePending(a.Verb) {
			// While an action of the same kind on the same target is in
			// the outbox, another is refused and audited as such.
			pending, err := pendingActions(ctx, tx, a.Verb, a.Target)
			if err != nil {
				return c.wrap("record an action", err)
			}
			if why := model.PendingRefusal(a.Verb, a.Target, a.Level, pending); why != "" {
				a.State, a.Reason, a.Deliveries = model.ActionRefused, why, nil
			}
		}
		if a.State != model.ActionRefused {
			switch a.Verb {
			case model.VerbAck:
				// An ack in force refuses another, unless the new one names
				// alerts it does not cover (an outage acked alert by alert,
				// or alerts that fired after the first ack).
				rows, err := tx.QueryContext(ctx, `SELECT alert_keys FROM acks WHERE service = ? AND cleared_at = 0 AND until > ?`,
					a.Service, now)
				if err != nil {
					return c.wrap("record an action", err)
				}
				covered, acked := map[string]bool{}, false
				for rows.Next() {
					var keys string
					if err := rows.Scan(&keys); err != nil {
						rows.Close()
						return c.wrap("record an action", err)
					}
					acked = true
					l, _ := decodeList([]byte(keys))
					for _, k := range l {
						covered[k] = true
					}
				}
				rows.Close()
				if err := rows.Err(); err != nil {
					return c.wrap("record an action", err)
				}
				if acked {
					fresh := false
					for _, k := range a.AlertKeys {
						fresh = fresh || !covered[k]
					}
					if !fresh {
						return ErrAlreadyAcked
					}
				}
			case model.VerbUnack, model.VerbClear:
				expire, err := c.unackDeliveries(ctx, tx, a.Service)
				if err != nil {
					return err
				}
				if expire == nil {
					return ErrNotAcked
				}
				a.Deliveries = append(a.Deliveries, expire...)
				if len(a.Deliveries) > 0 {
					a.State = model.ActionPending
				}
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO audit(uid, at, operator, role, host, ssh_client, verb, service,
			target, comment, upstream, state, reason, team) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
			a.UID, now, a.Operator, a.Role.String(), a.Host, a.SSHClient, string(a.Verb), a.Service,
			a.Target, a.Comment, a.Upstream, string(a.State), a.Reason)
		if err != nil {
			return c.wrap("write the audit log", err)
		}
		if a.ID, err = res.LastInsertId(); err != nil {
			return c.wrap("write the audit log", err)
		}
		if a.State == model.ActionRefused {
			return nil
		}
		switch a.Verb {
		case model.VerbAck:
			_, err = tx.ExecContext(ctx, `INSERT INTO acks(id, service, alert_keys, by, at, until, comment) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				a.ID, a.Service, encodeList(a.AlertKeys), a.Operator, now, ns(a.Until), a.Comment)
		case model.VerbUnack, model.VerbClear:
			// unackDeliveries settled (and so bumped) each ack cleared here.
			_, err = tx.ExecContext(ctx, `UPDATE acks SET cleared_at = ?, cleared_by = ? WHERE service = ? AND cleared_at = 0`,
				now, a.Operator, a.Service)
			if err == nil && a.Verb == model.VerbClear {
				err = clearEscalations(ctx, tx, a.Service, now)
			}
		case model.VerbEscalate:
			err = clearEscalations(ctx, tx, a.Service, now)
			if err == nil {
				_, err = tx.ExecContext(ctx, `INSERT INTO escalations(id, service, level, who, contact, by, at, comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
					a.ID, a.Service, a.Level, a.Who, a.Contact, a.Operator, now, a.Comment)
			}
		case model.VerbNote:
			_, err = tx.ExecContext(ctx, `INSERT INTO notes(id, service, by, at, text) VALUES (?, ?, ?, ?, ?)`,
				a.ID, a.Service, a.Operator, now, a.Comment)
		}
		if err != nil {
			return c.wrap("record an action", err)
		}
		for _, d := range a.Deliveries {
			if d.NextAt.IsZero() {
				d.NextAt = a.At
			}
			if d.State == "" {
				d.State = model.ActionPending
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO outbox(action_id, kind, dest, key, payload, state, next_at, until)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, a.ID, d.Kind, d.Dest, d.Key, d.Payload, string(d.State), ns(d.NextAt), ns(d.Until))
			if err != nil {
				return c.wrap("queue a delivery", err)
			}
			d.ID, _ = res.LastInsertId()
			d.ActionID, d.ActionUID, d.Operator, d.Comment = a.ID, a.UID, a.Operator, a.Comment
			queued = append(queued, d)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	a.Deliveries = queued
	return queued, nil
}

// clearEscalations clears the escalation of service in force, bumping its
// action's team counter.
func clearEscalations(ctx context.Context, tx *sql.Conn, service string, now int64) error {
	if err := bumpTeam(ctx, tx, `SELECT id FROM escalations WHERE service = ? AND cleared_at = 0`, service); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE escalations SET cleared_at = ? WHERE service = ? AND cleared_at = 0`, now, service)
	return err
}

// pendingSQL lists the actions with a delivery still pending, by verb
// and target, oldest first.
const pendingSQL = `SELECT audit.verb, audit.target, coalesce(escalations.level, 0), audit.operator, audit.at
	FROM audit LEFT JOIN escalations ON escalations.id = audit.id
	WHERE audit.id IN (SELECT action_id FROM outbox WHERE state = 'pending')`

// pendingActions lists the actions of verb on target (every one when
// verb is "") with a delivery still pending, oldest first.
func pendingActions(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, verb model.Verb, target string) ([]model.Pending, error) {
	query, args := pendingSQL+` ORDER BY audit.id`, []any(nil)
	if verb != "" {
		query, args = pendingSQL+` AND audit.verb = ? AND audit.target = ? ORDER BY audit.id`, []any{string(verb), target}
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []model.Pending
	for rows.Next() {
		var p model.Pending
		var verb string
		var at int64
		if err := rows.Scan(&verb, &p.Target, &p.Level, &p.Operator, &at); err != nil {
			return nil, err
		}
		p.Verb, p.At = model.Verb(verb), fromNS(at)
		if model.OnePending(p.Verb) {
			out = append(out, p)
		}
	}
	return out, rows.Err()
}

// unackDeliveries finds the acks in force (or lapsed) on service (one, or
// several when the outage was acked alert by alert), cancels their
// silences not yet created and returns one expiry per ack and Alertmanager
// the silences were for. It returns nil (not an empty slice) when there is
// no ack.
func (c *Cache) unackDeliveries(ctx context.Context, tx *sql.Conn, service string) ([]model.Delivery, error) {
	type ack struct {
		id  int64
		uid string
	}
	var acks []ack
	rows, err := tx.QueryContext(ctx, `SELECT acks.id, audit.uid FROM acks JOIN audit ON audit.id = acks.id
		WHERE acks.service = ? AND acks.cleared_at = 0 ORDER BY acks.id`, service)
	if err != nil {
		return nil, c.wrap("find the ack", err)
	}
	for rows.Next() {
		var a ack
		if err := rows.Scan(&a.id, &a.uid); err != nil {
			rows.Close()
			return nil, c.wrap("find the ack", err)
		}
		acks = append(acks, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, c.wrap("find the ack", err)
	}
	if len(acks) == 0 {
		return nil, nil
	}
	out := []model.Delivery{}
	for _, a := range acks {
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT dest FROM outbox WHERE action_id = ? AND kind = ? ORDER BY dest`, a.id, model.DeliverSilence)
		if err != nil {
			return nil, c.wrap("find the ack's silences", err)
		}
		for rows.Next() {
			var dest string
			if err := rows.Scan(&dest); err != nil {
				rows.Close()
				return nil, c.wrap("find the ack's silences", err)
			}
			out = append(out, model.Delivery{Kind: model.DeliverExpire, Dest: dest, Key: a.uid})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, c.wrap("find the ack's silences", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET state = ? WHERE action_id = ? AND kind = ? AND state = ?`,
			string(model.ActionCancelled), a.id, model.DeliverSilence, string(model.ActionPending)); err != nil {
			return nil, c.wrap("cancel the ack's silences", err)
		}
		if err := c.settleAction(ctx, tx, a.id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

const deliveryCols = `outbox.id, outbox.action_id, audit.uid, audit.operator, audit.comment, outbox.kind, outbox.dest,
	outbox.key, outbox.payload, outbox.state, outbox.attempts, outbox.next_at, outbox.ref, outbox.error, outbox.until`

func scanDelivery(rs interface{ Scan(...any) error }) (model.Delivery, error) {
	var d model.Delivery
	var state string
	var next, until int64
	err := rs.Scan(&d.ID, &d.ActionID, &d.ActionUID, &d.Operator, &d.Comment, &d.Kind, &d.Dest, &d.Key, &d.Payload,
		&state, &d.Attempts, &next, &d.Ref, &d.Error, &until)
	d.State, d.NextAt, d.Until = model.ActionState(state), fromNS(next), fromNS(until)
	return d, err
}

// DueDeliveries lists up to limit pending deliveries due at now, oldest
// first (so a silence is created before a later expiry of it is tried).
// Deliveries merged from another console of the team (ImportTeam) are
// that console's to make, and those handed to the team (TeamHandOver) the
// team lease holder's: neither is listed.
// Safe for concurrent use.
func (c *Cache) DueDeliveries(now time.Time, limit int) ([]model.Delivery, error) {
	return c.deliveries(`WHERE outbox.state = 'pending' AND outbox.remote = 0 AND outbox.next_at <= ? ORDER BY outbox.id LIMIT ?`,
		ns(now), limit)
}

// Deliveries lists every delivery of an action, in the order queued.
func (c *Cache) Deliveries(actionID int64) ([]model.Delivery, error) {
	return c.deliveries(`WHERE outbox.action_id = ? ORDER BY outbox.id`, actionID)
}

func (c *Cache) deliveries(where string, args ...any) ([]model.Delivery, error) {
	db, done := c.pool()
	defer done()
	rows, err := db.QueryContext(context.Background(),
		`SELECT `+deliveryCols+` FROM outbox JOIN audit ON audit.id = outbox.action_id `+where, args...)
	if err != nil {
		return nil, c.closedOr("read the outbox", err)
	}
	defer rows.Close()
	var out []model.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, c.wrap("read the outbox", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, c.wrap("read the outbox", err)
	}
	return out, nil
}

// NextDue is when the earliest pending delivery of this console is due
// (one merged from another console, or handed to the team, is not); zero
// when none is pending.
func (c *Cache) NextDue() (time.Time, error) {
	db, done := c.pool()
	defer done()
	var v sql.NullInt64
	if err := db.QueryRowContext(context.Background(),
		`SELECT min(next_at) FROM outbox WHERE state = 'pending' AND remote = 0`).Scan(&v); err != nil {
		return time.Time{}, c.closedOr("read the outbox", err)
	}
	if !v.Valid {
		return time.Time{}, nil
	}
	return fromNS(v.Int64), nil
}

func (c *Cache) closedOr(op string, err error) error {
	if strings.Contains(err.Error(), "database is closed") {
		return ErrClosed
	}
	return c.wrap(op, err)
}

// FinishDelivery records one attempt of a delivery: d.State is delivered,
// failed (for good) or pending (retry at d.NextAt), with d.Ref and d.Error;
// attempts is incremented. The action's audit row follows: delivered when
// every delivery is done, failed when one failed for good, with the
// upstream references and the last error. A delivery no longer pending
// (cancelled meanwhile, or finished by the team) is left alone; one
// handed to the team while this attempt was under way takes its outcome,
// which goes up with the action. Safe for concurrent use.
func (c *Cache) FinishDelivery(d model.Delivery) error {
	return c.actTx("record a delivery", func(ctx context.Context, tx *sql.Conn) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET state = ?, attempts = attempts + 1, next_at = ?, ref = ?, error = ?
			WHERE id = ? AND state = 'pending' AND remote != 1`, string(d.State), ns(d.NextAt), d.Ref, clipError(d.Error), d.ID)
		if err != nil {
			return c.wrap("record a delivery", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // cancelled meanwhile: nothing changed
		}
		return c.settleAction(ctx, tx, d.ActionID)
	})
}

// settleAction derives an action's audit state from its deliveries, after
// one of them changed, and bumps its team counter (schema 12).
func (c *Cache) settleAction(ctx context.Context, tx *sql.Conn, id int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT state, ref, error FROM outbox WHERE action_id = ? ORDER BY id`, id)
	if err != nil {
		return c.wrap("settle an action", err)
	}
	var pending, failed bool
	var refs []string
	lastErr := ""
	for rows.Next() {
		var st, ref, e string
		if err := rows.Scan(&st, &ref, &e); err != nil {
			rows.Close()
			return c.wrap("settle an action", err)
		}
		switch model.ActionState(st) {
		case model.ActionPending:
			pending = true
		case model.ActionFailed:
			failed = true
		}
		if ref != "" {
			refs = append(refs, ref)
		}
		if e != "" {
			lastErr = e
		}
	}
	rows.Close()
	state := model.ActionDelivered
	switch {
	case failed:
		state = model.ActionFailed
	case pending:
		state = model.ActionPending
	}
	_, err = tx.ExecContext(ctx, `UPDATE audit SET state = ?, upstream = ?, reason = ?, team = team + 1
		WHERE id = ? AND state != 'refused'`,
		string(state), strings.Join(refs, ","), lastErr, id)
	if err != nil {
		return c.wrap("settle an action", err)
	}
	return nil
}

// AuditLog returns the audit rows at or after since, oldest first.
func (c *Cache) AuditLog(since time.Time) ([]model.AuditEntry, error) {
	db, done := c.pool()
	defer done()
	rows, err := db.QueryContext(context.Background(), `SELECT id, uid, at, operator, role, host, ssh_client, verb,
		service, target, comment, upstream, state, reason FROM audit WHERE at >= ? ORDER BY id`, ns(since))
	if err != nil {
		return nil, c.closedOr("read the audit log", err)
	}
	defer rows.Close()
	var out []model.AuditEntry
	for rows.Next() {
		var e model.AuditEntry
		var at int64
		var role, verb, state string
		if err := rows.Scan(&e.ID, &e.UID, &at, &e.Operator, &role, &e.Host, &e.SSHClient, &verb, &e.Service,
			&e.Target, &e.Comment, &e.Upstream, &state, &e.Reason); err != nil {
			return nil, c.wrap("read the audit log", err)
		}
		e.At, e.Verb, e.State = fromNS(at), model.Verb(verb), model.ActionState(state)
		e.Role, _ = model.ParseRole(role)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Schema version 8 keeps what an Alertmanager says of each silence and
// how acks end upstream:
//
//	silences  gain starts_at, updated_at, state (active, pending,
//	          expired) and matchers (Alertmanager's syntax).
//	acks      gain ended_at and ended: when and why (in words) an ack
//	          ended upstream, a silence behind it expired, deleted or
//	          changed in the Alertmanager (cleared_by is then "upstream").
const schemaSilenceState = `ALTER TABLE silences ADD COLUMN starts_at INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE silences ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE silences ADD COLUMN state TEXT NOT NULL DEFAULT 'active';
	ALTER TABLE silences ADD COLUMN matchers TEXT NOT NULL DEFAULT '';
	ALTER TABLE acks ADD COLUMN ended_at INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE acks ADD COLUMN ended TEXT NOT NULL DEFAULT '';
	CREATE INDEX acks_ended ON acks(ended_at) WHERE ended_at != 0;`

// EndedBy is the cleared_by of an ack that ended upstream.
const EndedBy = "upstream"

// endSlack is how far a silence's end may sit from its ack's before the
// end counts as changed upstream (the API rounds times to milliseconds).
const endSlack = 2 * time.Second

// keepEnded is how long an expired silence that ended an ack is kept, so
// the silence behind the notice can still be shown.
const keepEnded = 24 * time.Hour

// markedUID is the action UID of the sitroom marker in a silence's
// comment, or "".
func markedUID(comment string) string {
	const p = "[sitroom action "
	i := strings.Index(comment, p)
	if i < 0 {
		return ""
	}
	rest := comment[i+len(p):]
	if j := strings.IndexByte(rest, ' '); j > 0 {
		return rest[:j]
	}
	return ""
}

// StoreSilences records the silences an Alertmanager source holds, read
// at at (the upstream is the truth for them), and ends every ack in force
// whose silence on that source ended upstream, in one transaction:
//
//   - a silence carrying the ack's marker expired before the ack's end
//     (expired or deleted through the API): "silence expired";
//   - such a silence still live but ending at another time than the ack
//     (its end changed upstream): "silence end changed to …";
//   - a silence the ack's delivery made, recorded before, no longer
//     listed at all: "silence deleted".
//
// An ended ack is cleared by EndedBy with ended/ended_at set, its silences
// not yet created are cancelled (the outbox never makes them again) and an
// audit row (verb ended, by "sitroom") says why. It returns the acks ended.
// The table keeps the live silences and, for keepEnded, the expired ones
// that ended an ack. Safe for concurrent use, also across processes.
func (c *Cache) StoreSilences(source string, sils []model.Silence, at time.Time) ([]model.Ack, error) {
	var ended []model.Ack
	err := c.actTx("store silences", func(ctx context.Context, tx *sql.Conn) error {
		now := ns(at)
		prev := map[string]bool{}
		err := c.query(ctx, tx, "store silences", `SELECT id FROM silences WHERE source = ?`, func(r *sql.Rows) error {
			var id string
			if err := r.Scan(&id); err != nil {
				return err
			}
			prev[id] = true
			return nil
		}, source)
		if err != nil {
			return err
		}
		byUID := map[string][]model.Silence{}
		listed := map[string]bool{}
		for _, s := range sils {
			listed[s.ID] = true
			if uid := markedUID(s.Comment); uid != "" {
				byUID[uid] = append(byUID[uid], s)
			}
		}
		// The acks in force with a silence for this source.
		type inForce struct {
			ack  model.Ack
			refs []string
		}
		var acks []*inForce
		idx := map[int64]*inForce{}
		err = c.query(ctx, tx, "store silences", `SELECT acks.id, audit.uid, acks.service, acks.by, acks.at, acks.until,
			acks.comment, outbox.state, outbox.ref FROM acks JOIN audit ON audit.id = acks.id
			JOIN outbox ON outbox.action_id = acks.id AND outbox.kind = ? AND outbox.dest = ?
			WHERE acks.cleared_at = 0 AND acks.until > ? ORDER BY acks.id, outbox.id`, func(r *sql.Rows) error {
			var a model.Ack
			var at, until int64
			var state, ref string
			if err := r.Scan(&a.ActionID, &a.UID, &a.Service, &a.By, &at, &until, &a.Comment, &state, &ref); err != nil {
				return err
			}
			f := idx[a.ActionID]
			if f == nil {
				a.At, a.Until = fromNS(at), fromNS(until)
				f = &inForce{ack: a}
				idx[a.ActionID] = f
				acks = append(acks, f)
			}
			if model.ActionState(state) == model.ActionDelivered && ref != "" {
				f.refs = append(f.refs, ref)
			}
			return nil
		}, model.DeliverSilence, source, now)
		if err != nil {
			return err
		}
		for _, f := range acks {
			why := endedWhy(f.ack, byUID[f.ack.UID], f.refs, prev, listed)
			if why == "" {
				continue
			}
			a := f.ack
			a.Ended, a.EndedAt = why, at
			if err := c.endAck(ctx, tx, a, source); err != nil {
				return err
			}
			ended = append(ended, a)
		}
		// Keep the live silences, and the expired ones that ended an ack.
		keep := map[string]bool{}
		err = c.query(ctx, tx, "store silences", `SELECT audit.uid FROM acks JOIN audit ON audit.id = acks.id
			WHERE acks.ended_at != 0 AND acks.ended_at >= ?`, func(r *sql.Rows) error {
			var uid string
			if err := r.Scan(&uid); err != nil {
				return err
			}
			keep[uid] = true
			return nil
		}, now-int64(keepEnded))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM silences WHERE source = ?`, source); err != nil {
			return c.wrap("store silences", err)
		}
		for _, s := range sils {
			if s.State == model.SilenceExpired && !keep[markedUID(s.Comment)] {
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO silences(source, id, created_by, comment, ends_at,
				starts_at, updated_at, state, matchers) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				source, s.ID, s.CreatedBy, s.Comment, ns(s.EndsAt), ns(s.StartsAt), ns(s.UpdatedAt), string(s.State), s.Matchers); err != nil {
				return c.wrap("store silences", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ended, nil
}

// endedWhy says why the ack a ended upstream, or "" while it stands: mine
// are the listed silences carrying its marker, refs the ids its delivered
// silences got, prev the ids recorded before and listed the ids listed now.
func endedWhy(a model.Ack, mine []model.Silence, refs []string, prev, listed map[string]bool) string {
	by := func(s model.Silence) string {
		if s.CreatedBy != "" && s.CreatedBy != a.By {
			return " by " + s.CreatedBy
		}
		return ""
	}
	for _, s := range mine {
		if s.State == model.SilenceExpired && s.EndsAt.Before(a.Until.Add(-endSlack)) {
			return "silence expired" + by(s)
		}
	}
	for _, s := range mine {
		if s.State != model.SilenceExpired && (s.EndsAt.Before(a.Until.Add(-endSlack)) || s.EndsAt.After(a.Until.Add(endSlack))) {
			return "silence end changed to " + s.EndsAt.UTC().Format("2006-01-02 15:04 UTC") + by(s)
		}
	}
	for _, id := range refs {
		if prev[id] && !listed[id] {
			return "silence deleted"
		}
	}
	return ""
}

// endAck clears an ack that ended upstream, cancels its silences not yet
// created and records why in the audit log.
func (c *Cache) endAck(ctx context.Context, tx *sql.Conn, a model.Ack, source string) error {
	now := ns(a.EndedAt)
	if _, err := tx.ExecContext(ctx, `UPDATE acks SET cleared_at = ?, cleared_by = ?, ended_at = ?, ended = ? WHERE id = ? AND cleared_at = 0`,
		now, EndedBy, now, a.Ended, a.ActionID); err != nil {
		return c.wrap("end an ack", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE outbox SET state = ? WHERE action_id = ? AND kind = ? AND state = ?`,
		string(model.ActionCancelled), a.ActionID, model.DeliverSilence, string(model.ActionPending)); err != nil {
		return c.wrap("end an ack", err)
	}
	if err := c.settleAction(ctx, tx, a.ActionID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audit(uid, at, operator, role, host, ssh_client, verb, service,
		target, comment, upstream, state, reason, team) VALUES (?, ?, 'sitroom', ?, '', '', ?, ?, ?, ?, ?, ?, '', 1)`,
		newUID(), now, model.RoleLead.String(), string(model.VerbEnded), a.Service, a.Service,
		EndedComment(a), source, string(model.ActionDelivered))
	if err != nil {
		return c.wrap("end an ack", err)
	}
	return nil
}

// EndedComment is the audit comment of an ack that ended upstream: whose
// ack and why.
func EndedComment(a model.Ack) string {
	return "ack by " + a.By + " ended upstream: " + a.Ended
}

// OpenAcks lists the acks not cleared (in force or lapsed), oldest first,
// for the process that clears acks whose outage resolved.
func (c *Cache) OpenAcks() ([]model.Ack, error) {
	b, err := c.Board(time.Time{}, 0)
	if err != nil {
		return nil, err
	}
	var out []model.Ack
	for _, m := range []map[string]*model.Ack{b.Acks, b.Lapsed} {
		for _, k := range model.SortedKeys(m) {
			out = append(out, *m[k])
		}
	}
	return out, nil
}

// Board reads the shared action state at now: acks in force and lapsed,
// open escalations, the latest notes (up to maxNotes; 200 when <= 0),
// unfinished deliveries per service and the upstream silences. It runs a
// few small queries; call it off the UI goroutine. Safe for concurrent use.
func (c *Cache) Board(now time.Time, maxNotes int) (*model.Board, error) {
	db, done := c.pool()
	defer done()
	if maxNotes <= 0 {
		maxNotes = 200
	}
	b := &model.Board{Built: now, Acks: map[string]*model.Ack{}, Lapsed: map[string]*model.Ack{}, Ended: map[string]*model.Ack{},
		Escalations: map[string]*model.Escalation{}, Deliveries: map[string]model.Deliveries{}, Silences: map[string]model.Silence{}}
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, c.closedOr("read actions", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return nil, c.closedOr("read actions", err)
	}
	defer conn.ExecContext(ctx, "ROLLBACK") //nolint:errcheck // read-only
	q := func(query string, scan func(*sql.Rows) error, args ...any) error {
		rows, err := conn.QueryContext(ctx, query, args...)
		if err != nil {
			return c.wrap("read actions", err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return c.wrap("read actions", err)
			}
		}
		return rows.Err()
	}
	err = q(`SELECT acks.id, audit.uid, acks.service, acks.alert_keys, acks.by, acks.at, acks.until, acks.comment
		FROM acks JOIN audit ON audit.id = acks.id WHERE acks.cleared_at = 0 ORDER BY acks.id`, func(r *sql.Rows) error {
		var a model.Ack
		var keys string
		var at, until int64
		if err := r.Scan(&a.ActionID, &a.UID, &a.Service, &keys, &a.By, &at, &until, &a.Comment); err != nil {
			return err
		}
		a.AlertKeys, _ = decodeList([]byte(keys))
		a.At, a.Until = fromNS(at), fromNS(until)
		m := b.Lapsed
		if now.IsZero() || a.Until.After(now) {
			m = b.Acks
		}
		if prev := m[a.Service]; prev != nil {
			// Several acks of one outage (alert by alert): one ack, by
			// whoever acked first, covering every alert any of them names.
			merged := *prev
			merged.AlertKeys = model.SortedKeys(keySet(prev.AlertKeys, a.AlertKeys))
			if a.Until.After(merged.Until) {
				merged.Until = a.Until
			}
			m[a.Service] = &merged
		} else {
			m[a.Service] = &a
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = q(`SELECT id, service, level, who, contact, by, at, comment FROM escalations WHERE cleared_at = 0 ORDER BY id`, func(r *sql.Rows) error {
		var e model.Escalation
		var at int64
		if err := r.Scan(&e.ActionID, &e.Service, &e.Level, &e.Who, &e.Contact, &e.By, &at, &e.Comment); err != nil {
			return err
		}
		e.At = fromNS(at)
		b.Escalations[e.Service] = &e
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = q(`SELECT id, service, by, at, text FROM notes ORDER BY id DESC LIMIT ?`, func(r *sql.Rows) error {
		var n model.Note
		var at int64
		if err := r.Scan(&n.ID, &n.Service, &n.By, &at, &n.Text); err != nil {
			return err
		}
		n.At = fromNS(at)
		b.Notes = append(b.Notes, n)
		return nil
	}, maxNotes)
	if err != nil {
		return nil, err
	}
	err = q(`SELECT audit.service, outbox.state, outbox.error FROM outbox JOIN audit ON audit.id = outbox.action_id
		WHERE outbox.state IN ('pending', 'failed') ORDER BY outbox.id`, func(r *sql.Rows) error {
		var svc, st, e string
		if err := r.Scan(&svc, &st, &e); err != nil {
			return err
		}
		d := b.Deliveries[svc]
		if model.ActionState(st) == model.ActionFailed {
			d.Failed++
		} else {
			d.Pending++
		}
		if e != "" {
			d.Error = e
		}
		b.Deliveries[svc] = d
		return nil
	})
	if err != nil {
		return nil, err
	}
	if b.Pending, err = pendingActions(ctx, conn, "", ""); err != nil {
		return nil, c.wrap("read actions", err)
	}
	if b.Notices, err = notices(ctx, conn); err != nil {
		return nil, c.wrap("read actions", err)
	}
	// The acks that ended upstream, each while it is its service's
	// latest ack.
	err = q(`SELECT acks.id, audit.uid, acks.service, acks.alert_keys, acks.by, acks.at, acks.until, acks.comment,
		acks.ended, acks.ended_at FROM acks JOIN audit ON audit.id = acks.id
		WHERE acks.ended_at != 0 AND acks.id = (SELECT max(a2.id) FROM acks a2 WHERE a2.service = acks.service)
		ORDER BY acks.id`, func(r *sql.Rows) error {
		var a model.Ack
		var keys string
		var at, until, endedAt int64
		if err := r.Scan(&a.ActionID, &a.UID, &a.Service, &keys, &a.By, &at, &until, &a.Comment, &a.Ended, &endedAt); err != nil {
			return err
		}
		a.AlertKeys, _ = decodeList([]byte(keys))
		a.At, a.Until, a.EndedAt = fromNS(at), fromNS(until), fromNS(endedAt)
		b.Ended[a.Service] = &a
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = q(`SELECT source, id, created_by, comment, ends_at, starts_at, updated_at, state, matchers FROM silences
		ORDER BY source, id`, func(r *sql.Rows) error {
		var s model.Silence
		var ends, starts, updated int64
		var state string
		if err := r.Scan(&s.Source, &s.ID, &s.CreatedBy, &s.Comment, &ends, &starts, &updated, &state, &s.Matchers); err != nil {
			return err
		}
		s.EndsAt, s.StartsAt, s.UpdatedAt, s.State = fromNS(ends), fromNS(starts), fromNS(updated), model.SilenceState(state)
		// an HA pair lists one silence twice: one entry naming both
		prev, dup := b.Silences[s.ID]
		switch {
		case !dup:
			b.Silences[s.ID] = s
		case s.State != model.SilenceExpired:
			s.Also = append(append(prev.Also, prev.Source), s.Also...)
			b.Silences[s.ID] = s
		default:
			prev.Also = append(prev.Also, s.Source)
			b.Silences[s.ID] = prev
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// ClaimDelivery takes a due delivery for one attempt: it moves its next_at
// to until, if the delivery is still pending with the next_at d was read
// with and is this console's (not merged from another, see ImportTeam,
// nor handed to the team, see TeamHandOver).
// Of several processes racing for one delivery exactly one wins; if the
// winner dies mid-attempt the delivery is due again at until. Safe for
// concurrent use.
func (c *Cache) ClaimDelivery(d model.Delivery, until time.Time) (bool, error) {
	var n int64
	err := c.actTx("claim a delivery", func(ctx context.Context, tx *sql.Conn) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET next_at = ? WHERE id = ? AND state = 'pending' AND remote = 0 AND next_at = ?`,
			ns(until), d.ID, ns(d.NextAt))
		if err != nil {
			return c.wrap("claim a delivery", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n == 1, err
}

func keySet(lists ...[]string) map[string]bool {
	set := map[string]bool{}
	for _, l := range lists {
		for _, k := range l {
			set[k] = true
		}
	}
	return set
}
