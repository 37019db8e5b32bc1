package cache

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
)

// A console's pending deliveries, once handed to the team, are no longer
// its outbox worker's; the outcome the lease holder records comes back
// with the action and settles them, and the board counts them pending
// until then.
func TestTeamHandOverLeavesDeliveriesToTheLeaseHolder(t *testing.T) {
	a, _ := openTemp(t)
	b, _ := openTemp(t)
	esc := escalateAction("db-main", t0)
	queued, err := a.RecordAction(esc)
	require.NoError(t, err)
	due, err := a.DueDeliveries(t0.Add(time.Minute), 10)
	require.NoError(t, err)
	require.Len(t, due, 1, "A's to deliver before it is handed over")

	n, err := a.TeamHandOver()
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	n, err = a.TeamHandOver()
	require.NoError(t, err)
	assert.Zero(t, n, "handed over once")
	due, err = a.DueDeliveries(t0.Add(time.Minute), 10)
	require.NoError(t, err)
	assert.Empty(t, due, "the lease holder's now")
	next, err := a.NextDue()
	require.NoError(t, err)
	assert.True(t, next.IsZero(), "nothing for A's worker to wait for")
	ok, err := a.ClaimDelivery(queued[0], t0.Add(time.Hour))
	require.NoError(t, err)
	assert.False(t, ok, "A's worker cannot claim it")
	ab, err := a.Board(t0.Add(time.Minute), 0)
	require.NoError(t, err)
	assert.Equal(t, 1, ab.Deliveries["db-main"].Pending, "pending on A's board")

	acts, _ := transfer(t, a, b, 1)
	require.Len(t, acts, 1)
	require.Len(t, acts[0].Deliveries, 1)
	assert.Equal(t, model.ActionPending, acts[0].Deliveries[0].State, "pushed pending, for the lease holder")

	// The lease holder (B, say) failed once, then delivered: the store's
	// copy comes back to A.
	back := acts[0]
	back.Deliveries = []model.Delivery{acts[0].Deliveries[0]}
	back.Deliveries[0].Attempts, back.Deliveries[0].Error = 1, "pager: 503 Service Unavailable"
	back.Deliveries[0].NextAt = t0.Add(2 * time.Minute)
	changed, err := a.ImportTeam(model.TeamChanges{Actions: []model.TeamAction{back}, Next: 2})
	require.NoError(t, err)
	assert.True(t, changed)
	ab, err = a.Board(t0.Add(time.Minute), 0)
	require.NoError(t, err)
	assert.Equal(t, model.Deliveries{Pending: 1, Error: "pager: 503 Service Unavailable"}, ab.Deliveries["db-main"],
		"the holder's retry, shown on A")

	back.State, back.Upstream = model.ActionDelivered, "pager: HTTP 202"
	back.Deliveries[0].State, back.Deliveries[0].Ref, back.Deliveries[0].Error = model.ActionDelivered, "pager: HTTP 202", ""
	back.Deliveries[0].Attempts = 2
	changed, err = a.ImportTeam(model.TeamChanges{Actions: []model.TeamAction{back}, Next: 3})
	require.NoError(t, err)
	assert.True(t, changed)
	ab, err = a.Board(t0.Add(time.Minute), 0)
	require.NoError(t, err)
	assert.Zero(t, ab.Deliveries["db-main"].Pending, "delivered on A's board")
	ds, err := a.Deliveries(queued[0].ActionID)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, model.ActionDelivered, ds[0].State)
	assert.Equal(t, 2, ds[0].Attempts)
	left, _ := pending(t, a)
	assert.Empty(t, left, "the outcome merged is not pushed back")
}

// An attempt under way when its delivery was handed over keeps its
// outcome, which goes up with the action; a console that never handed
// a delivery over (cut off from the store) delivers it itself.
func TestTeamHandOverKeepsTheAttemptUnderWay(t *testing.T) {
	a, _ := openTemp(t)
	queued, err := a.RecordAction(escalateAction("db-main", t0))
	require.NoError(t, err)
	d := queued[0]
	ok, err := a.ClaimDelivery(d, t0.Add(80*time.Second))
	require.NoError(t, err)
	require.True(t, ok)
	_, err = a.TeamHandOver()
	require.NoError(t, err)
	acts, _ := pending(t, a)
	require.Len(t, acts, 1)
	assert.Equal(t, t0.Add(80*time.Second), acts[0].Deliveries[0].NextAt.UTC(),
		"handed over with its claim: the lease holder waits for it to lapse")

	d.State, d.Error, d.NextAt = model.ActionPending, "pager: 503 Service Unavailable", t0.Add(time.Second)
	require.NoError(t, a.FinishDelivery(d))
	acts, _ = pending(t, a)
	require.Len(t, acts, 1)
	assert.Equal(t, 1, acts[0].Deliveries[0].Attempts, "the attempt is recorded, to go up")
	assert.Equal(t, t0.Add(time.Second), acts[0].Deliveries[0].NextAt.UTC(), "retried at its back-off")
	due, err := a.DueDeliveries(t0.Add(time.Hour), 10)
	require.NoError(t, err)
	assert.Empty(t, due, "but not by A")

	// Never handed over: A's own.
	c, _ := openTemp(t)
	_, err = c.RecordAction(escalateAction("web", t0))
	require.NoError(t, err)
	due, err = c.DueDeliveries(t0.Add(time.Minute), 10)
	require.NoError(t, err)
	assert.Len(t, due, 1)
}

// A delivery pushed before this console handed deliveries over (an
// action already in the store) is the team's too: it is in the store,
// where the lease holder makes it.
func TestTeamHandOverTakesWhatWasPushedBefore(t *testing.T) {
	a, _ := openTemp(t)
	b, _ := openTemp(t)
	_, err := a.RecordAction(escalateAction("db-main", t0))
	require.NoError(t, err)
	transfer(t, a, b, 1) // pushed without handing over
	left, _ := pending(t, a)
	require.Empty(t, left)
	n, err := a.TeamHandOver()
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	due, err := a.DueDeliveries(t0.Add(time.Minute), 10)
	require.NoError(t, err)
	assert.Empty(t, due)
	left, _ = pending(t, a)
	assert.Empty(t, left, "handing over is not a change to push")
}
