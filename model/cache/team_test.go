package cache

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
)

// Two caches stand for two consoles of a team; transfer carries what
// one has to push to the other as the team store would hand it on.

// pending reads what c has to push, failing the test on error.
func pending(t *testing.T, c *Cache) ([]model.TeamAction, []int64) {
	t.Helper()
	acts, counters, err := c.TeamPending(0)
	require.NoError(t, err)
	return acts, counters
}

// transfer merges what from has to push into to, as changes up to next,
// and records them pushed on from. It returns what it carried.
func transfer(t *testing.T, from, to *Cache, next int64) ([]model.TeamAction, bool) {
	t.Helper()
	acts, counters := pending(t, from)
	changed, err := to.ImportTeam(model.TeamChanges{Actions: acts, Next: next})
	require.NoError(t, err)
	uids := make([]string, len(acts))
	for i, a := range acts {
		uids[i] = a.UID
	}
	require.NoError(t, from.TeamPushed(uids, counters))
	return acts, changed
}

func escalateAction(service string, at time.Time) *model.Action {
	return &model.Action{
		AuditEntry: model.AuditEntry{At: at, Operator: "alice", Role: model.RoleTier1, Host: "jump1",
			Verb: model.VerbEscalate, Service: service, Target: service, Comment: "db team please"},
		Level: 2, Who: "dba on call", Contact: "+1 555 0100",
		Deliveries: []model.Delivery{{Kind: model.DeliverWebhook, Dest: "pager", Key: service, Payload: `{"level":2}`}},
	}
}

func noteAction(service string, at time.Time) *model.Action {
	return &model.Action{AuditEntry: model.AuditEntry{At: at, Operator: "alice", Role: model.RoleTier1, Host: "jump1",
		Verb: model.VerbNote, Service: service, Target: service, Comment: "failover at 09:10"}}
}

func actionOf(acts []model.TeamAction, uid string) *model.TeamAction {
	for i := range acts {
		if acts[i].UID == uid {
			return &acts[i]
		}
	}
	return nil
}

// What one console does shows on another's board, audit log and handoff
// as that console's; its deliveries stay that console's to make, shown
// pending on both until it makes them.
func TestTeamActionsShowOnTheOtherConsole(t *testing.T) {
	a, _ := openTemp(t)
	b, _ := openTemp(t)
	ack := ackAction("checkout", t0, "am-a")
	_, err := a.RecordAction(ack)
	require.NoError(t, err)
	esc := escalateAction("db-main", t0.Add(time.Minute))
	queued, err := a.RecordAction(esc)
	require.NoError(t, err)
	require.Len(t, queued, 1)
	_, err = a.RecordAction(noteAction("payments", t0.Add(2*time.Minute)))
	require.NoError(t, err)

	n, err := a.TeamUnsynced()
	require.NoError(t, err)
	assert.Equal(t, 3, n, "three actions to push")
	acts, changed := transfer(t, a, b, 7)
	assert.True(t, changed)
	require.Len(t, acts, 3)
	assert.Equal(t, "+1 555 0100", actionOf(acts, esc.UID).Contact, "whole: the escalation's contact")
	require.Len(t, actionOf(acts, ack.UID).Deliveries, 2, "whole: the ack's silences")
	n, err = a.TeamUnsynced()
	require.NoError(t, err)
	assert.Zero(t, n, "pushed")

	now := t0.Add(3 * time.Minute)
	bb, err := b.Board(now, 0)
	require.NoError(t, err)
	require.NotNil(t, bb.AckOf("checkout"))
	assert.Equal(t, "alice", bb.AckOf("checkout").By)
	assert.Equal(t, "looking", bb.AckOf("checkout").Comment)
	assert.Equal(t, []string{"k1", "k2"}, bb.AckOf("checkout").AlertKeys)
	require.NotNil(t, bb.Escalations["db-main"])
	assert.Equal(t, 2, bb.Escalations["db-main"].Level)
	assert.Equal(t, "dba on call", bb.Escalations["db-main"].Who)
	require.Len(t, bb.Notes, 1)
	assert.Equal(t, "failover at 09:10", bb.Notes[0].Text)
	assert.Equal(t, "alice", bb.Notes[0].By)
	// The escalation is pending on B as on A: another one is refused on both.
	require.Len(t, bb.Pending, 1)
	assert.Equal(t, model.VerbEscalate, bb.Pending[0].Verb)
	assert.Equal(t, 1, bb.Deliveries["db-main"].Pending)
	assert.Equal(t, 2, bb.Deliveries["checkout"].Pending)
	ab, err := a.Board(now, 0)
	require.NoError(t, err)
	assert.Equal(t, ab.Pending, bb.Pending)
	assert.Equal(t, ab.Deliveries, bb.Deliveries)

	// B never makes A's deliveries.
	due, err := b.DueDeliveries(now.Add(time.Hour), 100)
	require.NoError(t, err)
	assert.Empty(t, due)
	next, err := b.NextDue()
	require.NoError(t, err)
	assert.True(t, next.IsZero(), "nothing due on B")
	due, err = a.DueDeliveries(now, 100)
	require.NoError(t, err)
	assert.Len(t, due, 3, "A makes its own")
	bd, err := b.Deliveries(bb.Escalations["db-main"].ActionID)
	require.NoError(t, err)
	require.Len(t, bd, 1)
	won, err := b.ClaimDelivery(bd[0], now.Add(time.Minute))
	require.NoError(t, err)
	assert.False(t, won, "B cannot claim A's delivery")

	log, err := b.AuditLog(time.Time{})
	require.NoError(t, err)
	require.Len(t, log, 3)
	for i, e := range log {
		assert.Equal(t, acts[i].UID, e.UID)
		assert.Equal(t, "alice", e.Operator)
		assert.Equal(t, "jump1", e.Host)
		assert.Equal(t, acts[i].State, e.State)
	}

	h, err := b.Handoff(model.HandoffOptions{Window: model.Window{From: t0.Add(-time.Hour), To: t0.Add(time.Hour)}})
	require.NoError(t, err)
	require.Len(t, h.Operators, 1)
	assert.Equal(t, "alice", h.Operators[0].Operator)
	assert.Equal(t, 1, h.Operators[0].Acks)
	assert.Equal(t, 1, h.Operators[0].Escalations)
	assert.Equal(t, 1, h.Operators[0].Notes)
	require.Len(t, h.Notes, 1)
	assert.Equal(t, "failover at 09:10", h.Notes[0].Text)

	// B's own actions are B's to push; A's never come back from B.
	back, _ := pending(t, b)
	assert.Empty(t, back, "merged rows are not pushed back")
}

// A delivery made by its console reaches the other one, which no longer
// shows it pending.
func TestTeamDeliveryFinishedReachesTheOtherConsole(t *testing.T) {
	a, _ := openTemp(t)
	b, _ := openTemp(t)
	esc := escalateAction("db-main", t0)
	queued, err := a.RecordAction(esc)
	require.NoError(t, err)
	transfer(t, a, b, 1)

	d := queued[0]
	d.State, d.Ref = model.ActionDelivered, "dedup-42"
	require.NoError(t, a.FinishDelivery(d))
	acts, _ := pending(t, a)
	require.Len(t, acts, 1, "the delivery is a change to push")
	assert.Equal(t, esc.UID, acts[0].UID)
	assert.Equal(t, model.ActionDelivered, acts[0].State)
	require.Len(t, acts[0].Deliveries, 1)
	assert.Equal(t, model.ActionDelivered, acts[0].Deliveries[0].State)
	assert.Equal(t, "dedup-42", acts[0].Deliveries[0].Ref)
	assert.Equal(t, 1, acts[0].Deliveries[0].Attempts)

	_, changed := transfer(t, a, b, 2)
	assert.True(t, changed)
	bb, err := b.Board(t0.Add(time.Minute), 0)
	require.NoError(t, err)
	assert.Empty(t, bb.Pending, "no longer pending on B")
	assert.Zero(t, bb.Deliveries["db-main"].Pending)
	log, err := b.AuditLog(time.Time{})
	require.NoError(t, err)
	require.Len(t, log, 1)
	assert.Equal(t, model.ActionDelivered, log[0].State)
	assert.Equal(t, "dedup-42", log[0].Upstream)
	ds, err := b.Deliveries(log[0].ID)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, "dedup-42", ds[0].Ref)

	// A failed attempt, retried, shows its error on the other console.
	esc2 := escalateAction("web", t0.Add(time.Minute))
	queued, err = a.RecordAction(esc2)
	require.NoError(t, err)
	transfer(t, a, b, 3)
	d = queued[0]
	d.State, d.Error, d.NextAt = model.ActionPending, "pager: 503 Service Unavailable", t0.Add(2*time.Minute)
	require.NoError(t, a.FinishDelivery(d))
	transfer(t, a, b, 4)
	bb, err = b.Board(t0.Add(time.Minute), 0)
	require.NoError(t, err)
	assert.Equal(t, model.Deliveries{Pending: 1, Error: "pager: 503 Service Unavailable"}, bb.Deliveries["web"])
}

// A change made while a push is on its way stays to be pushed.
func TestTeamPushedKeepsChangesMadeMeanwhile(t *testing.T) {
	a, _ := openTemp(t)
	b, _ := openTemp(t)
	queued, err := a.RecordAction(escalateAction("db-main", t0))
	require.NoError(t, err)
	acts, counters := pending(t, a)
	require.Len(t, acts, 1)

	d := queued[0]
	d.State = model.ActionDelivered
	require.NoError(t, a.FinishDelivery(d)) // meanwhile
	require.NoError(t, a.TeamPushed([]string{acts[0].UID}, counters))
	again, _ := pending(t, a)
	require.Len(t, again, 1, "the delivery made meanwhile is still to push")
	assert.Equal(t, model.ActionDelivered, again[0].State)

	_, changed := transfer(t, a, b, 1)
	assert.True(t, changed)
	left, _ := pending(t, a)
	assert.Empty(t, left, "pushed with the counter read")
	n, err := a.TeamUnsynced()
	require.NoError(t, err)
	assert.Zero(t, n)
	back, _ := pending(t, b)
	assert.Empty(t, back, "imported rows are never B's to push")

	assert.Error(t, a.TeamPushed([]string{"x"}, nil), "a counter per uid")
}

// An un-ack and an ack ended upstream on one console show on the other.
func TestTeamAckClearedAndEndedReachTheOtherConsole(t *testing.T) {
	a, _ := openTemp(t)
	b, _ := openTemp(t)
	ack := ackAction("checkout", t0)
	_, err := a.RecordAction(ack)
	require.NoError(t, err)
	transfer(t, a, b, 1)
	bb, err := b.Board(t0.Add(time.Minute), 0)
	require.NoError(t, err)
	require.NotNil(t, bb.AckOf("checkout"))

	unack := &model.Action{AuditEntry: model.AuditEntry{At: t0.Add(5 * time.Minute), Operator: "bob", Role: model.RoleTier1,
		Verb: model.VerbUnack, Service: "checkout", Target: "checkout"}}
	_, err = a.RecordAction(unack)
	require.NoError(t, err)
	acts, _ := pending(t, a)
	require.Len(t, acts, 2, "the un-ack, and the ack it cleared")
	cleared := actionOf(acts, ack.UID)
	require.NotNil(t, cleared)
	assert.Equal(t, t0.Add(5*time.Minute), cleared.ClearedAt)
	assert.Equal(t, "bob", cleared.ClearedBy)

	// Only the ack (not the un-ack) reaches B: the ack's own row clears it.
	changed, err := b.ImportTeam(model.TeamChanges{Actions: []model.TeamAction{*cleared}, Next: 2})
	require.NoError(t, err)
	assert.True(t, changed)
	bb, err = b.Board(t0.Add(6*time.Minute), 0)
	require.NoError(t, err)
	assert.Nil(t, bb.AckOf("checkout"), "un-acked on B too")
	assert.Nil(t, bb.Lapsed["checkout"])

	// An ack of A ended upstream (its silence expired in the Alertmanager).
	c, _ := openTemp(t)
	d, _ := openTemp(t)
	sacked, _ := ackedWithSilences(t, c)
	transfer(t, c, d, 1)
	s1, s2 := sitroomSilence(sacked, "s1", "k1"), sitroomSilence(sacked, "s2", "k2")
	s1.State, s1.EndsAt = model.SilenceExpired, t0.Add(10*time.Minute)
	ended, err := c.StoreSilences("am-a", []model.Silence{s1, s2}, t0.Add(10*time.Minute))
	require.NoError(t, err)
	require.Len(t, ended, 1)
	acts, changed = transfer(t, c, d, 2)
	assert.True(t, changed)
	require.Len(t, acts, 2, "the ended ack and the audit row saying why")
	db, err := d.Board(t0.Add(11*time.Minute), 0)
	require.NoError(t, err)
	assert.Nil(t, db.AckOf("checkout"))
	e := db.EndedOf("checkout", t0)
	require.NotNil(t, e, "ended on the other console")
	assert.Equal(t, "silence expired", e.Ended)
	assert.Equal(t, t0.Add(10*time.Minute), e.EndedAt)
	require.Len(t, auditVerbs(t, d, model.VerbEnded), 1)
}

// Merging the same changes twice, or an older state after a newer one,
// changes nothing.
func TestTeamImportOnlyMovesForward(t *testing.T) {
	a, _ := openTemp(t)
	b, _ := openTemp(t)
	ack := ackAction("checkout", t0, "am-a")
	queued, err := a.RecordAction(ack)
	require.NoError(t, err)
	old, _ := pending(t, a) // every silence pending
	for i, d := range queued {
		d.State, d.Ref = model.ActionDelivered, []string{"s1", "s2"}[i]
		require.NoError(t, a.FinishDelivery(d))
	}
	newer, _ := pending(t, a)
	require.Equal(t, model.ActionDelivered, newer[0].State)

	changed, err := b.ImportTeam(model.TeamChanges{Actions: newer, Next: 5})
	require.NoError(t, err)
	assert.True(t, changed)
	changed, err = b.ImportTeam(model.TeamChanges{Actions: newer, Next: 5})
	require.NoError(t, err)
	assert.False(t, changed, "the same changes again")
	changed, err = b.ImportTeam(model.TeamChanges{Actions: old, Next: 6})
	require.NoError(t, err)
	assert.False(t, changed, "an older state after a newer one")

	log, err := b.AuditLog(time.Time{})
	require.NoError(t, err)
	require.Len(t, log, 1)
	assert.Equal(t, model.ActionDelivered, log[0].State)
	assert.Equal(t, "s1,s2", log[0].Upstream)
	ds, err := b.Deliveries(log[0].ID)
	require.NoError(t, err)
	require.Len(t, ds, 2, "matched by kind, destination and key, not doubled")
	for _, d := range ds {
		assert.Equal(t, model.ActionDelivered, d.State)
	}

	// A pending action merged twice changes nothing the second time.
	c, _ := openTemp(t)
	changed, err = c.ImportTeam(model.TeamChanges{Actions: old, Next: 1})
	require.NoError(t, err)
	assert.True(t, changed)
	changed, err = c.ImportTeam(model.TeamChanges{Actions: old, Next: 1})
	require.NoError(t, err)
	assert.False(t, changed)

	// An action first seen without its deliveries gains them, remote.
	bare := newer[0]
	bare.UID, bare.Deliveries = "0123456789abcdef", nil
	bare.State = model.ActionPending
	changed, err = c.ImportTeam(model.TeamChanges{Actions: []model.TeamAction{bare}, Next: 2})
	require.NoError(t, err)
	assert.True(t, changed)
	bare.Deliveries = old[0].Deliveries
	changed, err = c.ImportTeam(model.TeamChanges{Actions: []model.TeamAction{bare}, Next: 3})
	require.NoError(t, err)
	assert.True(t, changed)
	cb, err := c.Board(t0, 0)
	require.NoError(t, err)
	assert.Equal(t, 4, cb.Deliveries["checkout"].Pending, "both actions' silences pending, shown")
	due, err := c.DueDeliveries(t0.Add(time.Hour), 10)
	require.NoError(t, err)
	assert.Empty(t, due, "and none made here")

	// A's own action coming back from the store changes nothing on A.
	changed, err = a.ImportTeam(model.TeamChanges{Actions: old, Next: 6})
	require.NoError(t, err)
	assert.False(t, changed)
	due, err = a.DueDeliveries(t0.Add(time.Hour), 10)
	require.NoError(t, err)
	assert.Empty(t, due)
}

// The cursor of the last changes merged survives a restart.
func TestTeamCursorPersists(t *testing.T) {
	c, path := openTemp(t)
	n, err := c.TeamCursor()
	require.NoError(t, err)
	assert.Zero(t, n)
	changed, err := c.ImportTeam(model.TeamChanges{Next: 41})
	require.NoError(t, err)
	assert.False(t, changed, "no action")
	_, err = c.ImportTeam(model.TeamChanges{Next: 42})
	require.NoError(t, err)
	require.NoError(t, c.Close())
	c, err = Open(path)
	require.NoError(t, err)
	defer c.Close()
	n, err = c.TeamCursor()
	require.NoError(t, err)
	assert.Equal(t, int64(42), n)
}

// A file at schema version 11 keeps its actions, each one to push the
// first time the console joins a team.
func TestTeamMigrationFromVersion11(t *testing.T) {
	c, path := openTemp(t)
	_, err := c.RecordAction(ackAction("checkout", t0, "am-a"))
	require.NoError(t, err)
	_, err = c.RecordAction(noteAction("payments", t0.Add(time.Minute)))
	require.NoError(t, err)
	require.NoError(t, c.Close())
	db := rawDB(t, path)
	for _, q := range append(dropSince13, []string{`DROP INDEX audit_team`, `ALTER TABLE audit DROP COLUMN team`,
		`ALTER TABLE outbox DROP COLUMN remote`, `DROP INDEX outage_history_team`, `DROP INDEX source_history_team`,
		`ALTER TABLE outage_history DROP COLUMN team`, `ALTER TABLE source_history DROP COLUMN team`, `DROP TABLE team_cutoff`,
		`PRAGMA user_version = 11`}...) {
		_, err = db.Exec(q)
		require.NoError(t, err, q)
	}
	require.NoError(t, db.Close())

	c, err = Open(path)
	require.NoError(t, err)
	defer c.Close()
	n, err := c.TeamUnsynced()
	require.NoError(t, err)
	assert.Equal(t, 2, n, "existing rows are to push")
	acts, counters := pending(t, c)
	require.Len(t, acts, 2)
	assert.Equal(t, []int64{1, 1}, counters)
	assert.Equal(t, model.VerbAck, acts[0].Verb)
	assert.Len(t, acts[0].Deliveries, 2)
	due, err := c.DueDeliveries(t0, 10)
	require.NoError(t, err)
	assert.Len(t, due, 2, "its own deliveries stay its own")
}

// A later escalation supersedes the earlier one on every console.
func TestTeamEscalationSupersededReachesTheOtherConsole(t *testing.T) {
	a, _ := openTemp(t)
	b, _ := openTemp(t)
	first := escalateAction("db-main", t0)
	queued, err := a.RecordAction(first)
	require.NoError(t, err)
	d := queued[0]
	d.State = model.ActionDelivered
	require.NoError(t, a.FinishDelivery(d))
	transfer(t, a, b, 1)

	second := escalateAction("db-main", t0.Add(time.Minute))
	second.Level, second.Who = 3, "head of infra"
	_, err = a.RecordAction(second)
	require.NoError(t, err)
	acts, _ := pending(t, a)
	require.Len(t, acts, 2, "the new escalation, and the one it cleared")
	assert.Equal(t, t0.Add(time.Minute), actionOf(acts, first.UID).ClearedAt)

	// The first one's clearing alone reaches B: nothing stands there.
	changed, err := b.ImportTeam(model.TeamChanges{Actions: []model.TeamAction{*actionOf(acts, first.UID)}, Next: 2})
	require.NoError(t, err)
	assert.True(t, changed)
	bb, err := b.Board(t0.Add(2*time.Minute), 0)
	require.NoError(t, err)
	assert.Nil(t, bb.Escalations["db-main"])
	transfer(t, a, b, 3)
	bb, err = b.Board(t0.Add(2*time.Minute), 0)
	require.NoError(t, err)
	require.NotNil(t, bb.Escalations["db-main"])
	assert.Equal(t, 3, bb.Escalations["db-main"].Level)
}

// An attempt finishing on a delivery cancelled meanwhile (an un-ack while
// the silence was being made) changes nothing to push.
func TestTeamLateAttemptOnACancelledDeliveryIsNoChange(t *testing.T) {
	a, _ := openTemp(t)
	b, _ := openTemp(t)
	ack := ackAction("checkout", t0, "am-a")
	queued, err := a.RecordAction(ack)
	require.NoError(t, err)
	_, err = a.RecordAction(&model.Action{AuditEntry: model.AuditEntry{At: t0.Add(time.Minute), Operator: "alice",
		Role: model.RoleTier1, Verb: model.VerbUnack, Service: "checkout", Target: "checkout"}})
	require.NoError(t, err)
	transfer(t, a, b, 1)

	d := queued[0]
	d.State, d.Ref = model.ActionDelivered, "s1"
	require.NoError(t, a.FinishDelivery(d))
	n, err := a.TeamUnsynced()
	require.NoError(t, err)
	assert.Zero(t, n)
	ds, err := a.Deliveries(ack.ID)
	require.NoError(t, err)
	assert.Equal(t, model.ActionCancelled, ds[0].State)
}
