package cache

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"sitroom/model"
)

// Schema version 12 keeps what a console of a team (model/teamstore)
// exchanges with the others:
//
//	audit   gains team: how many changes of this console to the action
//	        (its audit row, effect or deliveries) are not yet in the team
//	        store; 0 once they are, or for an action merged from the team
//	        and not changed here since. Rows existing at migration keep 1,
//	        so their history goes up the first time the file joins a team.
//	outbox  gains remote: 1 for a delivery merged from another console,
//	        which only that console makes (it is shown, never delivered
//	        here); 2 for one of this console's handed to the team
//	        (TeamHandOver): the team lease holder makes it from the
//	        store, this console no longer does, and its outcome comes
//	        back with the action (ImportTeam).
//	meta    "team_cursor": the team store's cursor of the last change
//	        merged.
//
// Every local write that changes what an action's model.TeamAction says
// bumps its counter in the same transaction (RecordAction, a delivery
// finished or cancelled, an ack or escalation cleared or ended); merging
// (ImportTeam) never does.
const schemaTeam = `ALTER TABLE audit ADD COLUMN team INTEGER NOT NULL DEFAULT 1;
	ALTER TABLE outbox ADD COLUMN remote INTEGER NOT NULL DEFAULT 0;
	CREATE INDEX audit_team ON audit(id) WHERE team > 0;`

// bumpTeam adds one to the team counter of the actions ids selects.
func bumpTeam(ctx context.Context, tx *sql.Conn, ids string, args ...any) error {
	_, err := tx.ExecContext(ctx, `UPDATE audit SET team = team + 1 WHERE id IN (`+ids+`)`, args...)
	return err
}

// TeamPending lists up to limit (100 when <= 0) of this console's actions
// with changes not yet in the team store, oldest first, each whole: the
// audit row, its effect (an ack's alert keys and end, an escalation's
// level and holder, a note's text as the comment), every delivery with
// its state now, and whether its ack or escalation was cleared or its ack
// ended upstream. counters[i] is the change counter actions[i] was read
// at, for TeamPushed. An action merged from the team (ImportTeam) is
// listed only once it changed here. Safe for concurrent use.
func (c *Cache) TeamPending(limit int) (actions []model.TeamAction, counters []int64, err error) {
	if limit <= 0 {
		limit = 100
	}
	db, done := c.pool()
	defer done()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, nil, c.closedOr("read actions to share", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return nil, nil, c.closedOr("read actions to share", err)
	}
	defer conn.ExecContext(ctx, "ROLLBACK") //nolint:errcheck // read-only
	const op = "read actions to share"
	byID := map[int64]int{}
	err = c.query(ctx, conn, op, `SELECT id, uid, at, operator, role, host, ssh_client, verb, service, target, comment,
		upstream, state, reason, team FROM audit WHERE team > 0 ORDER BY id LIMIT ?`, func(r *sql.Rows) error {
		var a model.TeamAction
		var at, team int64
		var role, verb, state string
		if err := r.Scan(&a.ID, &a.UID, &at, &a.Operator, &role, &a.Host, &a.SSHClient, &verb, &a.Service, &a.Target,
			&a.Comment, &a.Upstream, &state, &a.Reason, &team); err != nil {
			return err
		}
		a.At, a.Verb, a.State = fromNS(at), model.Verb(verb), model.ActionState(state)
		a.Role, _ = model.ParseRole(role)
		byID[a.ID] = len(actions)
		actions = append(actions, a)
		counters = append(counters, team)
		return nil
	}, limit)
	if err != nil || len(actions) == 0 {
		return nil, nil, err
	}
	// The effects and deliveries of the actions listed (ids from first to
	// last; those in between with team = 0 are skipped by byID).
	first, last := actions[0].ID, actions[len(actions)-1].ID
	err = c.query(ctx, conn, op, `SELECT id, alert_keys, until, cleared_at, cleared_by, ended_at, ended FROM acks
		WHERE id BETWEEN ? AND ?`, func(r *sql.Rows) error {
		var id, until, cleared, ended int64
		var keys, by, why string
		if err := r.Scan(&id, &keys, &until, &cleared, &by, &ended, &why); err != nil {
			return err
		}
		i, ok := byID[id]
		if !ok {
			return nil
		}
		a := &actions[i]
		a.AlertKeys, _ = decodeList([]byte(keys))
		a.Until, a.ClearedAt, a.ClearedBy, a.EndedAt, a.Ended = fromNS(until), fromNS(cleared), by, fromNS(ended), why
		return nil
	}, first, last)
	if err != nil {
		return nil, nil, err
	}
	err = c.query(ctx, conn, op, `SELECT id, level, who, contact, cleared_at FROM escalations WHERE id BETWEEN ? AND ?`,
		func(r *sql.Rows) error {
			var id, cleared int64
			var e model.TeamAction
			if err := r.Scan(&id, &e.Level, &e.Who, &e.Contact, &cleared); err != nil {
				return err
			}
			if i, ok := byID[id]; ok {
				a := &actions[i]
				a.Level, a.Who, a.Contact, a.ClearedAt = e.Level, e.Who, e.Contact, fromNS(cleared)
			}
			return nil
		}, first, last)
	if err != nil {
		return nil, nil, err
	}
	err = c.query(ctx, conn, op, `SELECT id, text FROM notes WHERE id BETWEEN ? AND ?`, func(r *sql.Rows) error {
		var id int64
		var text string
		if err := r.Scan(&id, &text); err != nil {
			return err
		}
		if i, ok := byID[id]; ok {
			actions[i].Comment = text
		}
		return nil
	}, first, last)
	if err != nil {
		return nil, nil, err
	}
	err = c.query(ctx, conn, op, `SELECT `+deliveryCols+` FROM outbox JOIN audit ON audit.id = outbox.action_id
		WHERE outbox.action_id BETWEEN ? AND ? ORDER BY outbox.id`, func(r *sql.Rows) error {
		d, err := scanDelivery(r)
		if err != nil {
			return err
		}
		if i, ok := byID[d.ActionID]; ok {
			actions[i].Deliveries = append(actions[i].Deliveries, d)
		}
		return nil
	}, first, last)
	if err != nil {
		return nil, nil, err
	}
	return actions, counters, nil
}

// TeamPushed records that the team store holds the actions uids as
// TeamPending read them: each one's counter goes to 0 if it still equals
// counters[i], so a change made since stays to be pushed. Safe for
// concurrent use, also across processes.
func (c *Cache) TeamPushed(uids []string, counters []int64) error {
	if len(uids) != len(counters) {
		return errors.New("cache: TeamPushed: as many counters as uids are needed")
	}
	if len(uids) == 0 {
		return nil
	}
	return c.actTx("record actions shared", func(ctx context.Context, tx *sql.Conn) error {
		for i, uid := range uids {
			if _, err := tx.ExecContext(ctx, `UPDATE audit SET team = 0 WHERE uid = ? AND team = ?`, uid, counters[i]); err != nil {
				return c.wrap("record actions shared", err)
			}
		}
		return nil
	})
}

// TeamHandOver hands this console's pending deliveries to the team, and
// reports how many: from then on the team lease holder makes them from
// the store, and this console's outbox worker no longer does
// (DueDeliveries, NextDue and ClaimDelivery skip them). Call it before
// TeamPending, while the store is reachable: each is in the store once
// its action is pushed (an action already pushed has its deliveries
// there). A delivery is handed over with the next try it has then, so
// one this console is attempting right now (claimed: due again only when
// its claim lapses) is not tried by the lease holder before that attempt
// is over, and its outcome (FinishDelivery) still goes up with the
// action. It writes only when there is something to hand over. Safe for
// concurrent use, also across processes.
func (c *Cache) TeamHandOver() (int, error) {
	const op = "hand deliveries to the team"
	db, done := c.pool()
	var some bool
	err := db.QueryRowContext(context.Background(),
		`SELECT EXISTS (SELECT 1 FROM outbox WHERE state = 'pending' AND remote = 0)`).Scan(&some)
	done()
	if err != nil {
		return 0, c.closedOr(op, err)
	}
	if !some {
		return 0, nil
	}
	var n int64
	err = c.actTx(op, func(ctx context.Context, tx *sql.Conn) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET remote = 2 WHERE state = 'pending' AND remote = 0`)
		if err != nil {
			return c.wrap(op, err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// TeamUnsynced counts the actions with changes not yet in the team store
// (model.TeamState.Unsynced). Safe for concurrent use.
func (c *Cache) TeamUnsynced() (int, error) {
	db, done := c.pool()
	defer done()
	var n int
	if err := db.QueryRowContext(context.Background(), `SELECT count(*) FROM audit WHERE team > 0`).Scan(&n); err != nil {
		return 0, c.closedOr("count actions to share", err)
	}
	return n, nil
}

// TeamCursor is the team store's cursor of the last changes merged
// (ImportTeam); 0 before any. Safe for concurrent use.
func (c *Cache) TeamCursor() (int64, error) {
	db, done := c.pool()
	defer done()
	var v int64
	err := db.QueryRowContext(context.Background(), `SELECT v FROM meta WHERE k = 'team_cursor'`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, c.closedOr("read the team cursor", err)
	}
	return v, nil
}

// ImportTeam merges what changed in the team store (other consoles'
// actions, and this one's as the store has them) into the cache and sets
// the team cursor to ch.Next, in one transaction. Every field only moves
// forward (model.TeamAction):
//
//   - an unknown action is inserted whole: its audit row, its effect
//     (an ack, escalation or note, cleared or ended as it says; an un-ack
//     or clear clears the acks, and escalations, of its service made
//     before it, and an escalation the earlier escalations), and its
//     deliveries, marked remote: they are shown (pending, failed) but
//     never delivered here;
//   - a delivery handed to the team (TeamHandOver) takes the outcome the
//     lease holder recorded, as another console's does;
//   - a known one: its audit state goes from pending to a final one
//     (delivered, failed, cancelled) with its upstream references and
//     reason; a delivery (matched by kind, destination and key) from
//     pending to final with its reference, error and attempts, and one
//     missing is inserted remote; its ack is cleared or ended, its
//     escalation cleared, if it was not yet.
//
// Merging never bumps the team counters: nothing merged is pushed back
// unless changed here later. changed reports whether any row changed (the
// board is then worth reading again). Safe for concurrent use, also across
// processes.
func (c *Cache) ImportTeam(ch model.TeamChanges) (changed bool, err error) {
	err = c.actTx("merge the team's actions", func(ctx context.Context, tx *sql.Conn) error {
		changed = false
		for i := range ch.Actions {
			ok, err := c.importOne(ctx, tx, &ch.Actions[i])
			if err != nil {
				return c.wrap("merge the team's actions", err)
			}
			changed = changed || ok
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta(k, v) VALUES ('team_cursor', ?)
			ON CONFLICT(k) DO UPDATE SET v = excluded.v`, ch.Next); err != nil {
			return c.wrap("merge the team's actions", err)
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	return changed, nil
}

// final reports whether s is a state an action or delivery keeps.
func final(s model.ActionState) bool {
	return s == model.ActionDelivered || s == model.ActionFailed || s == model.ActionCancelled
}

// execChanged runs an update and reports whether it changed a row.
func execChanged(ctx context.Context, tx *sql.Conn, query string, args ...any) (bool, error) {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func (c *Cache) importOne(ctx context.Context, tx *sql.Conn, a *model.TeamAction) (bool, error) {
	if a.UID == "" {
		return false, nil
	}
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM audit WHERE uid = ?`, a.UID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return true, c.insertTeam(ctx, tx, a)
	}
	if err != nil {
		return false, err
	}
	changed := false
	for _, d := range a.Deliveries {
		var did int64
		var st string
		var attempts int
		err := tx.QueryRowContext(ctx, `SELECT id, state, attempts FROM outbox WHERE action_id = ? AND kind = ? AND dest = ? AND key = ?
			ORDER BY id LIMIT 1`, id, d.Kind, d.Dest, d.Key).Scan(&did, &st, &attempts)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if err := insertRemote(ctx, tx, id, a.At, d); err != nil {
				return false, err
			}
			changed = true
			continue
		case err != nil:
			return false, err
		}
		if model.ActionState(st) != model.ActionPending {
			continue
		}
		var ok bool
		switch {
		case final(d.State):
			ok, err = execChanged(ctx, tx, `UPDATE outbox SET state = ?, ref = ?, error = ?, attempts = max(attempts, ?)
				WHERE id = ? AND state = 'pending'`, string(d.State), d.Ref, clipError(d.Error), d.Attempts, did)
		case d.Attempts > attempts:
			// Another console's retry (the lease holder's, of one
			// handed to the team): its count and last error, shown.
			ok, err = execChanged(ctx, tx, `UPDATE outbox SET attempts = ?, error = ?, next_at = ? WHERE id = ? AND remote != 0`,
				d.Attempts, clipError(d.Error), ns(d.NextAt), did)
		}
		if err != nil {
			return false, err
		}
		changed = changed || ok
	}
	if final(a.State) {
		ok, err := execChanged(ctx, tx, `UPDATE audit SET state = ?, upstream = ?, reason = ? WHERE id = ? AND state = 'pending'`,
			string(a.State), a.Upstream, a.Reason, id)
		if err != nil {
			return false, err
		}
		changed = changed || ok
	}
	if !a.EndedAt.IsZero() {
		cleared, by := a.ClearedAt, a.ClearedBy
		if cleared.IsZero() {
			cleared, by = a.EndedAt, EndedBy
		}
		ok, err := execChanged(ctx, tx, `UPDATE acks SET cleared_at = ?, cleared_by = ?, ended_at = ?, ended = ? WHERE id = ? AND cleared_at = 0`,
			ns(cleared), by, ns(a.EndedAt), a.Ended, id)
		if err != nil {
			return false, err
		}
		changed = changed || ok
	}
	if !a.ClearedAt.IsZero() {
		ok, err := execChanged(ctx, tx, `UPDATE acks SET cleared_at = ?, cleared_by = ? WHERE id = ? AND cleared_at = 0`,
			ns(a.ClearedAt), a.ClearedBy, id)
		if err != nil {
			return false, err
		}
		changed = changed || ok
		ok, err = execChanged(ctx, tx, `UPDATE escalations SET cleared_at = ? WHERE id = ? AND cleared_at = 0`, ns(a.ClearedAt), id)
		if err != nil {
			return false, err
		}
		changed = changed || ok
	}
	return changed, nil
}

// insertTeam inserts an action merged from the team: audit row with its
// team counter at 0, effect, deliveries marked remote.
func (c *Cache) insertTeam(ctx context.Context, tx *sql.Conn, a *model.TeamAction) error {
	state := a.State
	if state == "" {
		state = model.ActionDelivered
		if len(a.Deliveries) > 0 {
			state = model.ActionPending
		}
	}
	now := ns(a.At)
	res, err := tx.ExecContext(ctx, `INSERT INTO audit(uid, at, operator, role, host, ssh_client, verb, service,
		target, comment, upstream, state, reason, team) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
		a.UID, now, a.Operator, a.Role.String(), a.Host, a.SSHClient, string(a.Verb), a.Service,
		a.Target, a.Comment, a.Upstream, string(state), a.Reason)
	if err != nil {
		return err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return err
	}
	if state == model.ActionRefused {
		return nil
	}
	switch a.Verb {
	case model.VerbAck:
		cleared, by := ns(a.ClearedAt), a.ClearedBy
		if !a.EndedAt.IsZero() && cleared == 0 {
			cleared, by = ns(a.EndedAt), EndedBy
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO acks(id, service, alert_keys, by, at, until, comment, cleared_at, cleared_by,
			ended_at, ended) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, a.Service, encodeList(a.AlertKeys), a.Operator, now, ns(a.Until), a.Comment, cleared, by, ns(a.EndedAt), a.Ended)
		if err == nil && cleared == 0 {
			// Cleared already here by a later un-ack or clear.
			_, err = tx.ExecContext(ctx, `UPDATE acks SET (cleared_at, cleared_by) = (SELECT at, operator FROM audit
				WHERE service = ? AND verb IN ('unack', 'clear') AND state != 'refused' AND at > ? ORDER BY at LIMIT 1)
				WHERE id = ? AND EXISTS (SELECT 1 FROM audit WHERE service = ? AND verb IN ('unack', 'clear')
				AND state != 'refused' AND at > ?)`, a.Service, now, id, a.Service, now)
		}
	case model.VerbUnack, model.VerbClear:
		_, err = tx.ExecContext(ctx, `UPDATE acks SET cleared_at = ?, cleared_by = ? WHERE service = ? AND cleared_at = 0 AND at <= ?`,
			now, a.Operator, a.Service, now)
		if err == nil && a.Verb == model.VerbClear {
			_, err = tx.ExecContext(ctx, `UPDATE escalations SET cleared_at = ? WHERE service = ? AND cleared_at = 0 AND at <= ?`,
				now, a.Service, now)
		}
	case model.VerbEscalate:
		_, err = tx.ExecContext(ctx, `UPDATE escalations SET cleared_at = ? WHERE service = ? AND cleared_at = 0 AND at <= ?`,
			now, a.Service, now)
		if err == nil {
			cleared := ns(a.ClearedAt)
			if cleared == 0 {
				// Superseded already here by a later escalation.
				var later sql.NullInt64
				if err := tx.QueryRowContext(ctx, `SELECT min(at) FROM escalations WHERE service = ? AND at > ?`,
					a.Service, now).Scan(&later); err != nil {
					return err
				}
				cleared = later.Int64
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO escalations(id, service, level, who, contact, by, at, comment, cleared_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, a.Service, a.Level, a.Who, a.Contact, a.Operator, now, a.Comment, cleared)
		}
	case model.VerbNote:
		_, err = tx.ExecContext(ctx, `INSERT INTO notes(id, service, by, at, text) VALUES (?, ?, ?, ?, ?)`,
			id, a.Service, a.Operator, now, a.Comment)
	}
	if err != nil {
		return err
	}
	for _, d := range a.Deliveries {
		if err := insertRemote(ctx, tx, id, a.At, d); err != nil {
			return err
		}
	}
	return nil
}

// insertRemote queues d, another console's delivery, for display only.
func insertRemote(ctx context.Context, tx *sql.Conn, actionID int64, at time.Time, d model.Delivery) error {
	if d.NextAt.IsZero() {
		d.NextAt = at
	}
	if d.State == "" {
		d.State = model.ActionPending
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO outbox(action_id, kind, dest, key, payload, state, attempts, next_at, ref, error,
		until, remote) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`, actionID, d.Kind, d.Dest, d.Key, d.Payload, string(d.State),
		d.Attempts, ns(d.NextAt), d.Ref, clipError(d.Error), ns(d.Until))
	return err
}

// TeamIdentity is who a console of a team last acted as, as the team
// store authenticated it (SetTeamIdentity): kept so a console started
// while the store cannot be reached acts as the operator it last was.
type TeamIdentity struct {
	// Store names the team store (its URL, without a password): an
	// identity read from another store is not this one's.
	Store    string     `json:"store"`
	User     string     `json:"user"`
	Role     model.Role `json:"role"`
	Enforced bool       `json:"enforced"`
}

// TeamIdentity is the identity last kept by SetTeamIdentity; ok is false
// when none was. Safe for concurrent use.
func (c *Cache) TeamIdentity() (id TeamIdentity, ok bool, err error) {
	db, done := c.pool()
	defer done()
	var v string
	err = db.QueryRowContext(context.Background(), `SELECT CAST(v AS TEXT) FROM meta WHERE k = 'team_identity'`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return TeamIdentity{}, false, nil
	}
	if err != nil {
		return TeamIdentity{}, false, c.closedOr("read the team identity", err)
	}
	if json.Unmarshal([]byte(v), &id) != nil {
		return TeamIdentity{}, false, nil // unreadable: as if none was kept
	}
	return id, true, nil
}

// SetTeamIdentity keeps id as the identity this console acts as in the
// team (TeamIdentity); it writes only when it changed. Safe for
// concurrent use, also across processes.
func (c *Cache) SetTeamIdentity(id TeamIdentity) error {
	if cur, ok, err := c.TeamIdentity(); err == nil && ok && cur == id {
		return nil
	}
	b, err := json.Marshal(id)
	if err != nil {
		return err
	}
	// meta's v is an INTEGER column; SQLite keeps text that does not
	// read as a number as text.
	return c.actTx("keep the team identity", func(ctx context.Context, tx *sql.Conn) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO meta(k, v) VALUES ('team_identity', ?)
			ON CONFLICT(k) DO UPDATE SET v = excluded.v`, string(b))
		if err != nil {
			return c.wrap("keep the team identity", err)
		}
		return nil
	})
}

// RefuseTeamAction records that the team store refused this console's
// action uid when it was pushed (made while the store was down, allowed
// by the console's own policy, refused by the store's): its audit row
// becomes refused with reason, as a refusal at the time would have been
// recorded; what it did is undone here (an ack, escalation or note is
// removed; what an un-ack or clear cleared, and the escalation an
// escalation superseded, stand again); its pending deliveries are
// cancelled; and it counts as pushed, never sent again. A delivery
// already made upstream stays made. It reports whether the action was
// found. Safe for concurrent use, also across processes.
func (c *Cache) RefuseTeamAction(uid, reason string) (bool, error) {
	const op = "record an action refused by the team store"
	found := false
	err := c.actTx(op, func(ctx context.Context, tx *sql.Conn) error {
		var id, at int64
		var verb, service, operator, state string
		err := tx.QueryRowContext(ctx, `SELECT id, at, verb, service, operator, state FROM audit WHERE uid = ?`, uid).
			Scan(&id, &at, &verb, &service, &operator, &state)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return c.wrap(op, err)
		}
		found = true
		type stmt struct {
			q    string
			args []any
		}
		stmts := []stmt{
			{`UPDATE audit SET team = 0 WHERE id = ?`, []any{id}},
		}
		if model.ActionState(state) != model.ActionRefused {
			stmts = append(stmts,
				stmt{`UPDATE audit SET state = 'refused', reason = ? WHERE id = ?`, []any{reason, id}},
				stmt{`UPDATE outbox SET state = 'cancelled' WHERE action_id = ? AND state = 'pending'`, []any{id}},
				stmt{`DELETE FROM acks WHERE id = ?`, []any{id}},
				stmt{`DELETE FROM escalations WHERE id = ?`, []any{id}},
				stmt{`DELETE FROM notes WHERE id = ?`, []any{id}},
			)
			switch model.Verb(verb) {
			case model.VerbUnack, model.VerbClear:
				stmts = append(stmts, stmt{`UPDATE acks SET cleared_at = 0, cleared_by = '' WHERE service = ? AND cleared_at = ? AND cleared_by = ? AND ended_at = 0`,
					[]any{service, at, operator}})
				if model.Verb(verb) == model.VerbClear {
					stmts = append(stmts, stmt{`UPDATE escalations SET cleared_at = 0 WHERE service = ? AND cleared_at = ?`, []any{service, at}})
				}
			case model.VerbEscalate:
				stmts = append(stmts, stmt{`UPDATE escalations SET cleared_at = 0 WHERE service = ? AND cleared_at = ?`, []any{service, at}})
			}
		}
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, s.q, s.args...); err != nil {
				return c.wrap(op, err)
			}
		}
		return nil
	})
	return found, err
}
