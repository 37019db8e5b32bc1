package teamstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/teamstore"
)

func team(a model.Action) model.TeamAction { return model.TeamAction{Action: a} }

func escalate(uid, service string, at time.Time, level int, deliveries ...model.Delivery) model.Action {
	return model.Action{
		AuditEntry: model.AuditEntry{UID: uid, At: at, Operator: "carol", Role: model.RoleTier2, Host: "noc3", SSHClient: "10.0.0.9",
			Verb: model.VerbEscalate, Service: service, Target: service, Comment: "paging", State: model.ActionPending},
		Level: level, Who: "dba-oncall", Contact: "+33 1 23", Deliveries: deliveries,
	}
}

func note(uid, service string, at time.Time, text string) model.Action {
	return model.Action{AuditEntry: model.AuditEntry{UID: uid, At: at, Operator: "dave", Role: model.RoleTier1, Host: "noc1",
		Verb: model.VerbNote, Service: service, Target: service, Comment: text, State: model.ActionDelivered}}
}

func webhook(dest string) model.Delivery {
	return model.Delivery{Kind: model.DeliverWebhook, Dest: dest, Payload: `{"level":2}`}
}

// norm makes times comparable (UTC) and fills what the store sets of a
// delivery (its action's uid, operator and comment; a first try at the
// action's time when none was given; pending when no state was).
func norm(ts []model.TeamAction) []model.TeamAction {
	utc := func(t time.Time) time.Time {
		if t.IsZero() {
			return t
		}
		return t.UTC()
	}
	out := make([]model.TeamAction, len(ts))
	for i, t := range ts {
		t.At, t.Until, t.ClearedAt, t.EndedAt = utc(t.At), utc(t.Until), utc(t.ClearedAt), utc(t.EndedAt)
		ds := make([]model.Delivery, len(t.Deliveries))
		for j, d := range t.Deliveries {
			d.ActionUID, d.Operator, d.Comment = t.UID, t.Operator, t.Comment
			if d.NextAt.IsZero() {
				d.NextAt = t.At
			}
			if d.State == "" {
				d.State = model.ActionPending
			}
			d.NextAt, d.Until = utc(d.NextAt), utc(d.Until)
			ds[j] = d
		}
		if len(ds) == 0 {
			ds = nil
		}
		t.Deliveries = ds
		out[i] = t
	}
	return out
}

func changes(t *testing.T, s *teamstore.Store, cursor int64) model.TeamChanges {
	t.Helper()
	ch, err := s.TeamChanges(context.Background(), cursor)
	require.NoError(t, err)
	return ch
}

// Actions synced by one console are read back whole by another, oldest
// first: the ack with its alerts, until and deliveries in their states,
// the escalations (the first superseded by the second), the note's text.
func TestSyncNewActionsReadWhole(t *testing.T) {
	srv, url := fresh(t)
	a, b := open(t, srv, url, "noc1"), open(t, srv, url, "noc2")
	ctx := context.Background()

	ak := ack("u1", "db-main", t0, silence("am1", "k1"), silence("am2", "k1"))
	ak.State, ak.Upstream = model.ActionPending, "sil-1"
	ak.Deliveries[0].State, ak.Deliveries[0].Ref, ak.Deliveries[0].Attempts = model.ActionDelivered, "sil-1", 1
	ak.Deliveries[1].Attempts, ak.Deliveries[1].Error = 2, "connection refused"
	ak.Deliveries[1].NextAt = t0.Add(time.Minute)
	ak.Reason = "connection refused"
	e1 := escalate("u2", "db-main", t0.Add(time.Minute), 1, webhook("pager"))
	e2 := escalate("u3", "db-main", t0.Add(2*time.Minute), 2)
	e2.State = model.ActionDelivered
	n := note("u4", "db-main", t0.Add(3*time.Minute), "replica lag, failing over")
	// Out of order: read back oldest first.
	in := []model.TeamAction{team(n), team(e2), team(ak), team(e1)}
	changed, err := a.Sync(ctx, in...)
	require.NoError(t, err)
	assert.Equal(t, 4, changed)

	ch := changes(t, b, 0)
	assert.Positive(t, ch.Next)
	want := norm([]model.TeamAction{team(ak), team(e1), team(e2), team(n)})
	want[1].ClearedAt = t0.Add(2 * time.Minute).UTC() // superseded by level 2
	assert.Equal(t, want, norm(ch.Actions))

	again := changes(t, b, ch.Next)
	assert.Empty(t, again.Actions)
	assert.Equal(t, ch.Next, again.Next, "nothing past the cursor: it stays")
}

// A delivery synced pending, then delivered: the action comes back with
// the delivery delivered and its audit row settled. An older copy synced
// after it, or a later different outcome, changes nothing.
func TestSyncDeliveryOnlyMovesForward(t *testing.T) {
	srv, url := fresh(t)
	a, b := open(t, srv, url, "noc1"), open(t, srv, url, "noc2")
	ctx := context.Background()
	old := team(ack("u1", "db", t0, silence("am1", "k1")))
	_, err := a.Sync(ctx, old)
	require.NoError(t, err)
	cur := changes(t, b, 0).Next

	done := team(ack("u1", "db", t0, silence("am1", "k1")))
	done.Deliveries[0].State, done.Deliveries[0].Ref, done.Deliveries[0].Attempts = model.ActionDelivered, "sil-9", 1
	done.Deliveries[0].NextAt = t0.Add(time.Second)
	changed, err := b.Sync(ctx, done)
	require.NoError(t, err)
	assert.Equal(t, 1, changed)

	ch := changes(t, a, cur)
	require.Len(t, ch.Actions, 1)
	got := ch.Actions[0]
	assert.Equal(t, model.ActionDelivered, got.State, "the audit row follows its delivery")
	assert.Equal(t, "sil-9", got.Upstream)
	require.Len(t, got.Deliveries, 1)
	assert.Equal(t, model.ActionDelivered, got.Deliveries[0].State)
	assert.Equal(t, "sil-9", got.Deliveries[0].Ref)
	assert.Equal(t, 1, got.Deliveries[0].Attempts)
	cur = ch.Next

	failed := done
	failed.Deliveries = []model.Delivery{done.Deliveries[0]}
	failed.Deliveries[0].State, failed.Deliveries[0].Error = model.ActionFailed, "409"
	changed, err = a.Sync(ctx, old, failed)
	require.NoError(t, err)
	assert.Zero(t, changed, "an older copy and a final delivery change nothing")
	ch = changes(t, a, cur)
	assert.Empty(t, ch.Actions)
	assert.Equal(t, cur, ch.Next)
	ds, err := a.Deliveries(ctx, "u1")
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, model.ActionDelivered, ds[0].State)

	// A delivery the store lacks is queued, and the audit row follows.
	more := done
	more.Deliveries = append([]model.Delivery{}, done.Deliveries...)
	more.Deliveries = append(more.Deliveries, silence("am2", "k1"))
	changed, err = a.Sync(ctx, more)
	require.NoError(t, err)
	assert.Equal(t, 1, changed)
	ch = changes(t, b, cur)
	require.Len(t, ch.Actions, 1)
	assert.Len(t, ch.Actions[0].Deliveries, 2)
	assert.Equal(t, model.ActionPending, ch.Actions[0].State)
}

// An ack is cleared once, by the first clearing synced; ended upstream,
// its pending silences are cancelled. Neither is undone by an older copy.
func TestSyncAckClearedAndEndedForward(t *testing.T) {
	srv, url := fresh(t)
	a, b := open(t, srv, url, "noc1"), open(t, srv, url, "noc2")
	ctx := context.Background()
	plain := team(ack("u1", "db", t0))
	_, err := a.Sync(ctx, plain)
	require.NoError(t, err)
	// A console's word that the ack was cleared is not taken: the store
	// clears it when it records the un-ack that cleared it (which it may
	// refuse), so a refused un-ack leaves the ack in force for everyone.
	cleared := plain
	cleared.ClearedAt, cleared.ClearedBy = t0.Add(time.Minute), "bob"
	changed, err := b.Sync(ctx, cleared, plain)
	require.NoError(t, err)
	assert.Zero(t, changed, "no clear without the un-ack")
	ch := changes(t, a, 0)
	require.Len(t, ch.Actions, 1)
	assert.True(t, ch.Actions[0].ClearedAt.IsZero(), "%v", ch.Actions[0].ClearedAt)
	u := team(unack("u3", "db", t0.Add(time.Minute)))
	u.Operator = "bob"
	changed, err = b.Sync(ctx, u, cleared)
	require.NoError(t, err)
	assert.Equal(t, 1, changed, "the un-ack is recorded, and clears the ack")
	var cleared1 model.TeamAction
	for _, x := range changes(t, a, 0).Actions {
		if x.UID == "u1" {
			cleared1 = x
		}
	}
	assert.True(t, cleared1.ClearedAt.Equal(t0.Add(time.Minute)), "%v", cleared1.ClearedAt)
	assert.Equal(t, "bob", cleared1.ClearedBy)
	cur := changes(t, a, 0).Next

	pend := team(ack("u2", "web", t0, silence("am1", "k1")))
	_, err = a.Sync(ctx, pend)
	require.NoError(t, err)
	ended := pend
	ended.EndedAt, ended.Ended = t0.Add(2*time.Hour), "silence expired"
	changed, err = b.Sync(ctx, ended)
	require.NoError(t, err)
	assert.Equal(t, 1, changed)
	changed, err = a.Sync(ctx, pend, ended)
	require.NoError(t, err)
	assert.Zero(t, changed)

	ch = changes(t, a, cur)
	require.Len(t, ch.Actions, 1)
	got := ch.Actions[0]
	assert.Equal(t, "u2", got.UID)
	assert.True(t, got.EndedAt.Equal(t0.Add(2*time.Hour)))
	assert.Equal(t, "silence expired", got.Ended)
	assert.True(t, got.ClearedAt.Equal(t0.Add(2*time.Hour)), "ended is cleared, as EndAck does")
	assert.Equal(t, "upstream", got.ClearedBy)
	require.Len(t, got.Deliveries, 1)
	assert.Equal(t, model.ActionCancelled, got.Deliveries[0].State, "its silence is not made any more")
	assert.Equal(t, model.ActionDelivered, got.State, "nothing left to deliver")
}

// An un-ack pushed by another console clears the ack, and the ack comes
// back in the changes past the cursor with the clearing.
func TestSyncUnackFromAnotherStore(t *testing.T) {
	srv, url := fresh(t)
	a, b := open(t, srv, url, "noc1"), open(t, srv, url, "noc2")
	ctx := context.Background()
	_, err := a.Sync(ctx, team(ack("u1", "db", t0)))
	require.NoError(t, err)
	cur := changes(t, a, 0).Next
	_, err = b.Push(ctx, unack("u2", "db", t0.Add(time.Minute)))
	require.NoError(t, err)

	ch := changes(t, a, cur)
	require.Len(t, ch.Actions, 2)
	assert.Equal(t, "u1", ch.Actions[0].UID)
	assert.True(t, ch.Actions[0].ClearedAt.Equal(t0.Add(time.Minute)))
	assert.Equal(t, "bob", ch.Actions[0].ClearedBy)
	assert.Equal(t, model.VerbUnack, ch.Actions[1].Verb)
	assert.Greater(t, ch.Next, cur)
}

// Syncing what the store already has writes nothing: the cursor does not
// move and no console is notified, so consoles copying each other's
// actions come to rest.
func TestSyncNoOpNeitherBumpsNorNotifies(t *testing.T) {
	srv, url := fresh(t)
	a, b, c := open(t, srv, url, "noc1"), open(t, srv, url, "noc2"), open(t, srv, url, "noc3")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	heard := make(chan string, 1000)
	go func() { _ = c.Listen(ctx, func(table string) { heard <- table }) }()
	require.Equal(t, "", wait(t, heard), "connected")

	ak := team(ack("u1", "db", t0, silence("am1", "k1"), silence("am1", "k2")))
	ak.Deliveries[0].State, ak.Deliveries[0].Ref = model.ActionDelivered, "sil-1"
	ak.ClearedAt, ak.ClearedBy = t0.Add(time.Hour), "bob"
	gone := team(ack("u2", "web", t0, silence("am1", "k1")))
	gone.EndedAt, gone.Ended = t0.Add(time.Minute), "silence expired"
	e1, e2 := team(escalate("u3", "db", t0, 1, webhook("pager"))), team(escalate("u4", "db", t0.Add(time.Minute), 2))
	e1.ClearedAt = t0.Add(time.Minute)
	refused := team(ack("u5", "db", t0))
	refused.State, refused.Reason = model.ActionRefused, "tier1 may not ack"
	all := []model.TeamAction{ak, gone, e1, e2, team(note("u6", "db", t0, "hi")), refused}
	changed, err := a.Sync(ctx, all...)
	require.NoError(t, err)
	assert.Equal(t, len(all), changed)

	st := model.SourceStatus{Name: "prom", Type: "prometheus", LastAttempt: t0}
	require.NoError(t, a.PutStatus(ctx, st))
	for table := wait(t, heard); table != "source_status"; table = wait(t, heard) {
	}
	cur := changes(t, b, 0)
	require.Len(t, cur.Actions, len(all))

	// Again, from another console, and the store's own copies back.
	changed, err = b.Sync(ctx, all...)
	require.NoError(t, err)
	assert.Zero(t, changed)
	changed, err = b.Sync(ctx, cur.Actions...)
	require.NoError(t, err)
	assert.Zero(t, changed)
	ch := changes(t, b, cur.Next)
	assert.Empty(t, ch.Actions)
	assert.Equal(t, cur.Next, ch.Next, "no seq moved")

	// Notifications of one console come in commit order: the next one is
	// the status written after the no-op syncs.
	st.LastAttempt = t0.Add(time.Minute)
	require.NoError(t, a.PutStatus(ctx, st))
	assert.Equal(t, "source_status", wait(t, heard), "a no-op sync notifies no one")
}

// Five consoles syncing the same action at once make one row: one of
// them records it.
func TestSyncSameUIDConcurrently(t *testing.T) {
	srv, url := fresh(t)
	ctx := context.Background()
	act := team(ack("u1", "db", t0, silence("am1", "k1"), silence("am2", "k1")))
	var wg sync.WaitGroup
	counts := make([]int, 5)
	errs := make([]error, 5)
	for i := range 5 {
		s := open(t, srv, url, "noc")
		wg.Go(func() { counts[i], errs[i] = s.Sync(ctx, act) })
	}
	wg.Wait()
	total := 0
	for i := range 5 {
		require.NoError(t, errs[i])
		total += counts[i]
	}
	assert.Equal(t, 1, total)
	s := open(t, srv, url, "check")
	log, err := s.AuditLog(ctx, time.Time{})
	require.NoError(t, err)
	assert.Len(t, log, 1)
	ds, err := s.Deliveries(ctx, "u1")
	require.NoError(t, err)
	assert.Len(t, ds, 2)
	ch := changes(t, s, 0)
	require.Len(t, ch.Actions, 1)
	assert.Len(t, ch.Actions[0].Deliveries, 2)
}

// An action without uid is refused.
func TestSyncWithoutUID(t *testing.T) {
	srv, url := fresh(t)
	s := open(t, srv, url, "noc1")
	_, err := s.Sync(context.Background(), team(ack("", "db", t0)))
	assert.ErrorContains(t, err, "action without uid")
}
