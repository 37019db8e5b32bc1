package cache

import (
	"context"
	"database/sql"
	"sort"
	"strconv"
	"strings"

	"sitroom/model"
)

// notifyChannel is one delivery of a notify action: one channel of a team.
type notifyChannel struct {
	index int
	typ   string
	state model.ActionState
	err   string
}

// noticeAction gathers the deliveries of one notify action to one team.
type noticeAction struct {
	n        model.Notice
	id       int64
	channels []notifyChannel
}

// notifyTypeKind reads a notify delivery's channel type and message kind
// from its payload (model.EncodeNotify's JSON) in SQL, "" when it has
// none: decoding each whole message in Go costs the board 30 times more.
const notifyTypeKind = `coalesce(CASE WHEN json_valid(payload) THEN json_extract(payload, '$.type') END, ''),
	coalesce(CASE WHEN json_valid(payload) THEN json_extract(payload, '$.message.kind') END, '')`

// notices reads what each team was told about each service: per (service,
// team) the latest notify action naming the team (by its time, then its
// id: an action merged from another console may be older than one made
// here) with the state of each of its channels, and when a message last
// reached the team. Refused actions queue nothing and so name no team.
// SQLite picks the latest actions (a window over the notify deliveries),
// so only their channels' rows are scanned.
func notices(ctx context.Context, conn *sql.Conn) (map[string][]model.Notice, error) {
	rows, err := conn.QueryContext(ctx, `SELECT id, service, operator, at, key, dest, `+notifyTypeKind+`, state, error, told_at FROM (
		SELECT audit.id, audit.service, audit.operator, audit.at, outbox.key, outbox.dest, outbox.payload,
			outbox.state, outbox.error, outbox.id AS oid,
			rank() OVER (PARTITION BY audit.service, outbox.key ORDER BY audit.at DESC, audit.id DESC) AS latest,
			max(CASE WHEN outbox.state = 'delivered' THEN audit.at ELSE 0 END)
				OVER (PARTITION BY audit.service, outbox.key) AS told_at
		FROM audit JOIN outbox ON outbox.action_id = audit.id WHERE audit.verb = ? AND outbox.kind = ?)
		WHERE latest = 1 ORDER BY service, key, oid`,
		string(model.VerbNotify), model.DeliverNotify)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]model.Notice{}
	var t *noticeAction
	flush := func() {
		if t != nil {
			t.finish()
			out[t.n.Service] = append(out[t.n.Service], t.n)
		}
	}
	for rows.Next() {
		var id, at, told int64
		var svc, by, team, dest, typ, kind, st, e string
		if err := rows.Scan(&id, &svc, &by, &at, &team, &dest, &typ, &kind, &st, &e, &told); err != nil {
			return nil, err
		}
		if t == nil || t.n.Service != svc || t.n.Team != team {
			flush()
			t = &noticeAction{n: model.Notice{Service: svc, Team: team, By: by, At: fromNS(at), Kind: kind}, id: id}
			if told != 0 {
				t.n.ToldAt = fromNS(told)
			}
		}
		t.channels = append(t.channels, notifyChannel{index: channelIndex(dest), typ: typ, state: model.ActionState(st), err: e})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	flush()
	return out, nil
}

// finish fills the notice from its action's channels: their types in
// config order, the worst state (pending, then failed, then delivered),
// the failure to show (a failed channel's, else a pending channel's last
// error) and ToldAt when one of them was delivered.
func (t *noticeAction) finish() {
	sort.SliceStable(t.channels, func(i, j int) bool { return t.channels[i].index < t.channels[j].index })
	var pending, failed, delivered bool
	var failedErr, pendingErr string
	t.n.Channels = t.n.Channels[:0]
	for _, ch := range t.channels {
		if ch.typ != "" {
			t.n.Channels = append(t.n.Channels, ch.typ)
		}
		switch ch.state {
		case model.ActionPending:
			pending = true
			if ch.err != "" {
				pendingErr = ch.err
			}
		case model.ActionFailed:
			failed = true
			if ch.err != "" {
				failedErr = ch.err
			}
		case model.ActionDelivered:
			delivered = true
		}
	}
	switch {
	case pending:
		t.n.State = model.ActionPending
	case failed:
		t.n.State = model.ActionFailed
	case delivered:
		t.n.State = model.ActionDelivered
	default:
		t.n.State = model.ActionCancelled
	}
	t.n.Error = failedErr
	if t.n.Error == "" {
		t.n.Error = pendingErr
	}
	if delivered && t.n.At.After(t.n.ToldAt) {
		t.n.ToldAt = t.n.At
	}
}

// channelIndex is the channel index of a notify delivery's Dest,
// "<team>/<i>"; -1 when it names none.
func channelIndex(dest string) int {
	i := strings.LastIndexByte(dest, '/')
	if i < 0 {
		return -1
	}
	n, err := strconv.Atoi(dest[i+1:])
	if err != nil {
		return -1
	}
	return n
}

// notificationRecords reads the messages of the notify actions made in
// [from, to): one per team and channel, in time order.
func (c *Cache) notificationRecords(ctx context.Context, conn *sql.Conn, from, to int64) ([]model.NotificationRecord, error) {
	var out []model.NotificationRecord
	err := c.query(ctx, conn, "read notifications", `SELECT audit.uid, audit.at, audit.operator, audit.service, outbox.key,
		outbox.dest, `+notifyTypeKind+`, outbox.state, outbox.error FROM audit JOIN outbox ON outbox.action_id = audit.id
		WHERE audit.verb = ? AND outbox.kind = ? AND audit.at >= ? AND audit.at < ? ORDER BY audit.at, audit.id, outbox.id`,
		func(r *sql.Rows) error {
			var n model.NotificationRecord
			var at int64
			var dest, st string
			if err := r.Scan(&n.ActionUID, &at, &n.Operator, &n.Service, &n.Team, &dest, &n.Channel, &n.Kind, &st, &n.Error); err != nil {
				return err
			}
			n.At, n.State, n.Index = fromNS(at), model.ActionState(st), channelIndex(dest)
			out = append(out, n)
			return nil
		}, string(model.VerbNotify), model.DeliverNotify, from, to)
	return out, err
}
