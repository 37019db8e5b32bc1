package cache

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
)

// An escalation to level 2, made while the team store was down and
// refused by it when pushed: the console shows level 1 in force again,
// the audit log says refused and why, its webhook is not made, and it is
// not pushed again; the escalation it superseded is still pushed.
func TestRefuseTeamActionUndoesAnEscalation(t *testing.T) {
	c, _ := openTemp(t)
	t0 := time.Now().Add(-time.Minute)
	first := escalateAction("checkout", t0)
	first.Level, first.Deliveries = 1, nil
	_, err := c.RecordAction(first)
	require.NoError(t, err)
	second := escalateAction("checkout", t0.Add(10*time.Second))
	_, err = c.RecordAction(second)
	require.NoError(t, err)
	b, err := c.Board(time.Now(), 0)
	require.NoError(t, err)
	require.Equal(t, 2, b.Escalations["checkout"].Level)

	found, err := c.RefuseTeamAction(second.UID, "refused by the team store: role tier1 cannot escalate to level 2")
	require.NoError(t, err)
	require.True(t, found)

	b, err = c.Board(time.Now(), 0)
	require.NoError(t, err)
	require.NotNil(t, b.Escalations["checkout"], "level 1 stands again")
	assert.Equal(t, 1, b.Escalations["checkout"].Level)
	assert.Empty(t, b.Pending, "the refused escalation's webhook is not pending")
	log, err := c.AuditLog(time.Time{})
	require.NoError(t, err)
	var got *model.AuditEntry
	for i := range log {
		if log[i].UID == second.UID {
			got = &log[i]
		}
	}
	require.NotNil(t, got)
	assert.Equal(t, model.ActionRefused, got.State)
	assert.Equal(t, "refused by the team store: role tier1 cannot escalate to level 2", got.Reason)
	due, err := c.DueDeliveries(time.Now().Add(time.Hour), 10)
	require.NoError(t, err)
	assert.Empty(t, due, "nothing left to deliver")
	acts, _ := pending(t, c)
	require.Len(t, acts, 1, "only level 1 is still to push")
	assert.Equal(t, first.UID, acts[0].UID)
	assert.True(t, acts[0].ClearedAt.IsZero(), "pushed as standing, not superseded")

	// Refusing it again (the store refusing a second copy) changes nothing.
	found, err = c.RefuseTeamAction(second.UID, "another reason")
	require.NoError(t, err)
	assert.True(t, found)
	log, err = c.AuditLog(time.Time{})
	require.NoError(t, err)
	for _, e := range log {
		if e.UID == second.UID {
			assert.Equal(t, "refused by the team store: role tier1 cannot escalate to level 2", e.Reason)
		}
	}
	found, err = c.RefuseTeamAction("no-such-uid", "x")
	require.NoError(t, err)
	assert.False(t, found)
}

// A refused ack leaves the outage unacknowledged on the board; a refused
// un-ack leaves the ack in force.
func TestRefuseTeamActionUndoesAckAndUnack(t *testing.T) {
	c, _ := openTemp(t)
	now := time.Now()
	ack := &model.Action{AuditEntry: model.AuditEntry{At: now.Add(-time.Minute), Operator: "alice", Role: model.RoleTier1,
		Verb: model.VerbAck, Service: "checkout", Target: "checkout", Comment: "looking"},
		AlertKeys: []string{"k1"}, Until: now.Add(time.Hour)}
	_, err := c.RecordAction(ack)
	require.NoError(t, err)
	unack := &model.Action{AuditEntry: model.AuditEntry{At: now.Add(-30 * time.Second), Operator: "alice", Role: model.RoleTier1,
		Verb: model.VerbUnack, Service: "checkout", Target: "checkout"}}
	_, err = c.RecordAction(unack)
	require.NoError(t, err)
	b, err := c.Board(now, 0)
	require.NoError(t, err)
	require.Nil(t, b.Acks["checkout"])

	_, err = c.RefuseTeamAction(unack.UID, "refused by the team store: no")
	require.NoError(t, err)
	b, err = c.Board(now, 0)
	require.NoError(t, err)
	require.NotNil(t, b.Acks["checkout"], "the un-ack refused: the ack stands")

	_, err = c.RefuseTeamAction(ack.UID, "refused by the team store: no")
	require.NoError(t, err)
	b, err = c.Board(now, 0)
	require.NoError(t, err)
	assert.Nil(t, b.Acks["checkout"], "the ack refused: not acknowledged")
	n, err := c.TeamUnsynced()
	require.NoError(t, err)
	assert.Zero(t, n)
}

// The identity a console last acted as is kept across a reopen.
func TestTeamIdentityKept(t *testing.T) {
	c, path := openTemp(t)
	_, ok, err := c.TeamIdentity()
	require.NoError(t, err)
	assert.False(t, ok)
	id := TeamIdentity{Store: "postgres://db/noc", User: "ops1", Role: model.RoleTier2, Enforced: true}
	require.NoError(t, c.SetTeamIdentity(id))
	require.NoError(t, c.Close())
	c2, err := Open(path)
	require.NoError(t, err)
	defer c2.Close()
	got, ok, err := c2.TeamIdentity()
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, id, got)
}
