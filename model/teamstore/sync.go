package teamstore

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"sitroom/model"
)

// Sync merges whole actions, as a console's cache holds them, into the
// store, each in its own transaction. An action whose uid is new is
// recorded as Push records it, then its later fields are applied; one
// already there is merged forward only:
//
//   - a delivery (matched by kind, destination and key) missing from the
//     store is queued in its state; a pending one takes the incoming
//     state, reference, error, attempts (the most) and next try when the
//     incoming one is final (delivered, failed, cancelled), or its
//     attempts, error and next try when the incoming one is still pending
//     after more attempts and no console holds a claim on it (the
//     console's own attempt, under way when it handed the delivery to the
//     team, is to be retried); a final one never changes. The audit row then follows its deliveries (a refused
//     action never changes);
//   - an ack takes EndedAt and Ended if not ended yet; an ack ended
//     upstream and not cleared is cleared by "upstream" at EndedAt (as
//     EndAck does), and its silences still pending are cancelled. Its
//     ClearedAt, and an escalation's, are not taken: the store clears
//     them itself when it records the un-ack, clear or later escalation
//     that cleared them, which it may refuse.
//
// Only what changes is written: syncing an action the store already has
// (or an older copy of it) writes nothing, moves no seq and notifies no
// one, so two consoles copying each other's actions come to rest. It
// reports how many actions changed anything.
//
// An action the server refuses (the login may not record it: another
// operator's, a viewer's, an escalation above its role) stops the call
// with a *RefusedError naming it; nothing of it is recorded, the actions
// before it are, and the caller goes on with those after it. What the
// login may not write of an action the store already has (a viewer's
// copy of another's delivery outcome) is left out, without an error.
func (s *Store) Sync(ctx context.Context, actions ...model.TeamAction) (changed int, err error) {
	for i := range actions {
		a := &actions[i]
		if a.UID == "" {
			return changed, s.wrap("sync an action", errors.New("action without uid"))
		}
		var did, known bool
		err := s.write(ctx, "sync an action", func(tx pgx.Tx) error {
			var err error
			known = false
			did, err = syncOne(ctx, tx, a, &known)
			return err
		})
		if known && denied(err) {
			// The action is the team's already; what this login may not
			// write of it (a viewer's copy of a delivery's outcome) is
			// left to those who may.
			continue
		}
		if err != nil {
			if r := s.refusal(ctx, &a.Action, err); r != nil {
				return changed, r
			}
			return changed, err
		}
		if did {
			changed++
		}
	}
	return changed, nil
}

// final reports whether a delivery in state st is done with for good.
func final(st model.ActionState) bool {
	return st == model.ActionDelivered || st == model.ActionFailed || st == model.ActionCancelled
}

// syncOne merges one action (see Sync) and reports whether it wrote
// anything. Every statement that would write nothing is left out: a
// statement trigger notifies even when no row changed.
func syncOne(ctx context.Context, tx pgx.Tx, a *model.TeamAction, known *bool) (bool, error) {
	changed := false
	var state string
	err := tx.QueryRow(ctx, `SELECT state FROM action_state WHERE uid = $1`, a.UID).Scan(&state)
	*known = err == nil
	if errors.Is(err, pgx.ErrNoRows) {
		if _, err := pushOne(ctx, tx, &a.Action); err != nil {
			return false, err
		}
		changed = true
		err = tx.QueryRow(ctx, `SELECT state FROM action_state WHERE uid = $1`, a.UID).Scan(&state)
	}
	if err != nil {
		return changed, err
	}
	if model.ActionState(state) == model.ActionRefused {
		return changed, nil
	}

	type key struct{ kind, dest, key string }
	type stored struct {
		id       int64
		state    model.ActionState
		attempts int
		claimed  string
	}
	have := map[key]stored{}
	rows, err := tx.Query(ctx, `SELECT id, kind, dest, key, state, attempts, claimed_by FROM deliveries WHERE action_uid = $1`, a.UID)
	if err != nil {
		return changed, err
	}
	for rows.Next() {
		var k key
		var d stored
		var st string
		if err := rows.Scan(&d.id, &k.kind, &k.dest, &k.key, &st, &d.attempts, &d.claimed); err != nil {
			rows.Close()
			return changed, err
		}
		d.state = model.ActionState(st)
		have[k] = d
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return changed, err
	}
	resettle := false
	for _, d := range a.Deliveries {
		cur, ok := have[key{d.Kind, d.Dest, d.Key}]
		switch {
		case !ok:
			err = insertDelivery(ctx, tx, a.UID, a.At, d)
		case cur.state == model.ActionPending && final(d.State):
			_, err = tx.Exec(ctx, `UPDATE deliveries SET state = $2, ref = $3, error = $4, attempts = greatest(attempts, $5),
				next_at = coalesce($6, next_at), claimed_by = '' WHERE id = $1`,
				cur.id, string(d.State), d.Ref, clip(d.Error), d.Attempts, tz(d.NextAt))
		case cur.state == model.ActionPending && d.State == model.ActionPending && d.Attempts > cur.attempts &&
			cur.claimed == "" && !d.NextAt.IsZero():
			// The console's own attempt, under way when it handed the
			// delivery to the team, failed and is to be retried: at its
			// back-off time, not when its claim would have lapsed. No
			// lease holder has tried it since (it has fewer attempts).
			_, err = tx.Exec(ctx, `UPDATE deliveries SET attempts = $2, error = $3, next_at = $4 WHERE id = $1`,
				cur.id, d.Attempts, clip(d.Error), d.NextAt)
		default:
			continue
		}
		if err != nil {
			return changed, err
		}
		resettle = true
	}

	switch a.Verb {
	case model.VerbAck:
		var cleared, ended *time.Time
		err := tx.QueryRow(ctx, `SELECT cleared_at, ended_at FROM acks WHERE uid = $1`, a.UID).Scan(&cleared, &ended)
		if errors.Is(err, pgx.ErrNoRows) {
			break
		}
		if err != nil {
			return changed, err
		}
		// An ack is cleared in the store by the un-ack or clear that
		// cleared it (recorded as an action of its own, which the store
		// may refuse), never on a console's word: only its end upstream
		// is taken from here.
		if cleared == nil && !a.EndedAt.IsZero() {
			if _, err := tx.Exec(ctx, `UPDATE acks SET cleared_at = $2, cleared_by = 'upstream' WHERE uid = $1`, a.UID, a.EndedAt); err != nil {
				return changed, err
			}
			changed = true
		}
		if ended == nil && !a.EndedAt.IsZero() {
			if _, err := tx.Exec(ctx, `UPDATE acks SET ended_at = $2, ended = $3 WHERE uid = $1`, a.UID, a.EndedAt, a.Ended); err != nil {
				return changed, err
			}
			changed = true
		}
		if ended != nil || !a.EndedAt.IsZero() {
			var pending int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE action_uid = $1 AND kind = 'silence' AND state = 'pending'`,
				a.UID).Scan(&pending); err != nil {
				return changed, err
			}
			if pending > 0 {
				if _, err := tx.Exec(ctx, `UPDATE deliveries SET state = 'cancelled'
					WHERE action_uid = $1 AND kind = 'silence' AND state = 'pending'`, a.UID); err != nil {
					return changed, err
				}
				resettle = true
			}
		}
	}
	if resettle {
		if err := settle(ctx, tx, a.UID); err != nil {
			return changed, err
		}
		changed = true
	}
	return changed, nil
}

// TeamChanges returns, read in one snapshot, every action any of whose
// rows (audit, ack, escalation, note, deliveries) changed after cursor,
// each whole as model.TeamAction: its audit row (ID 0), what it did (an
// ack's alerts and until, an escalation's level, who and contact, a
// note's text as the Comment), every delivery of it in its state now (ID
// and ActionID 0, matched by ActionUID, kind, destination and key), and
// when its ack or escalation was cleared and its ack ended. Actions come
// oldest first; Next is the highest seq read, cursor when nothing
// changed. Cursor 0 reads every action. Writes are serialized (see
// writeLock), so a change committed after this read has a seq past Next.
// An escalation's ClearedBy is always "": the store does not keep who
// superseded it. The lease, statuses and history are read with Changes.
func (s *Store) TeamChanges(ctx context.Context, cursor int64) (model.TeamChanges, error) {
	var out model.TeamChanges
	err := s.do(ctx, "read changes", func(c *pgx.Conn) error {
		out = model.TeamChanges{Next: cursor}
		return pgx.BeginTxFunc(ctx, c, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `WITH changed AS (
					SELECT uid, seq FROM audit WHERE seq > $1
					UNION ALL SELECT uid, seq FROM action_state WHERE seq > $1
					UNION ALL SELECT uid, seq FROM acks WHERE seq > $1
					UNION ALL SELECT uid, seq FROM escalations WHERE seq > $1
					UNION ALL SELECT uid, seq FROM notes WHERE seq > $1
					UNION ALL SELECT action_uid, seq FROM deliveries WHERE seq > $1),
				u AS (SELECT uid, max(seq) AS seq FROM changed GROUP BY uid)
				SELECT a.uid, a.at, a.operator, a.role, a.host, a.ssh_client, a.verb, a.service, a.target,
					coalesce(n.text, a.comment), s.upstream, s.state, s.reason,
					k.alert_keys, k.until, coalesce(e.level, 0), coalesce(e.who, ''), coalesce(e.contact, ''),
					coalesce(k.cleared_at, e.cleared_at), coalesce(k.cleared_by, ''), k.ended_at, coalesce(k.ended, ''), u.seq
				FROM u JOIN audit a ON a.uid = u.uid
					JOIN action_state s ON s.uid = a.uid
					LEFT JOIN acks k ON k.uid = a.uid
					LEFT JOIN escalations e ON e.uid = a.uid
					LEFT JOIN notes n ON n.uid = a.uid
				ORDER BY a.at, a.seq`, cursor)
			if err != nil {
				return err
			}
			out.Actions, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (model.TeamAction, error) {
				var t model.TeamAction
				var until, cleared, ended *time.Time
				var seq int64
				var err error
				t.AuditEntry, err = scanAudit(r, &t.AlertKeys, &until, &t.Level, &t.Who, &t.Contact,
					&cleared, &t.ClearedBy, &ended, &t.Ended, &seq)
				t.Until, t.ClearedAt, t.EndedAt = val(until), val(cleared), val(ended)
				out.Next = max(out.Next, seq)
				return t, err
			})
			if err != nil || len(out.Actions) == 0 {
				return err
			}
			at := make(map[string]int, len(out.Actions))
			uids := make([]string, len(out.Actions))
			for i, t := range out.Actions {
				at[t.UID], uids[i] = i, t.UID
			}
			rows, err = tx.Query(ctx, `SELECT `+deliveryCols+` FROM deliveries d JOIN audit a ON a.uid = d.action_uid
				WHERE d.action_uid = ANY($1) ORDER BY d.id`, uids)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				d, err := scanDelivery(rows)
				if err != nil {
					return err
				}
				d.ID = 0
				t := &out.Actions[at[d.ActionUID]]
				t.Deliveries = append(t.Deliveries, d)
			}
			return rows.Err()
		})
	})
	if err != nil {
		return model.TeamChanges{Next: cursor}, err
	}
	return out, nil
}
