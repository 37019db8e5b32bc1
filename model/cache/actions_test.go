package cache

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
)

func ackAction(service string, at time.Time, dests ...string) *model.Action {
	a := &model.Action{
		AuditEntry: model.AuditEntry{At: at, Operator: "alice", Role: model.RoleTier1, Host: "jump1",
			SSHClient: "10.0.0.7 51000 22", Verb: model.VerbAck, Service: service, Target: service, Comment: "looking"},
		AlertKeys: []string{"k1", "k2"},
		Until:     at.Add(2 * time.Hour),
	}
	for _, d := range dests {
		for _, k := range a.AlertKeys {
			a.Deliveries = append(a.Deliveries, model.Delivery{Kind: model.DeliverSilence, Dest: d, Key: k, Payload: `{}`, Until: a.Until})
		}
	}
	return a
}

func TestMigrationFromVersion1KeepsAlerts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	db := rawDB(t, path)
	_, err := db.Exec(migrations[0])
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO alerts(source, key, state, starts_at, generator_url, labels, annotations, silenced_by,
		inhibited_by, first_seen, last_seen, seq) VALUES ('am', 'k1', 'firing', 0, '', '{"alertname":"A"}', '{}', '[]', '[]', 1, 1, 1)`)
	require.NoError(t, err)
	_, err = db.Exec(`PRAGMA user_version = 1`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	require.NoError(t, os.Chmod(path, 0o600))

	c, err := Open(path)
	require.NoError(t, err)
	defer c.Close()
	rows, _, err := c.Load()
	require.NoError(t, err)
	require.Len(t, rows, 1, "the alert written by schema 1 survives the migration")
	assert.Equal(t, "A", rows[0].Labels.Get("alertname"))
	var v int
	require.NoError(t, c.db.QueryRow("PRAGMA user_version").Scan(&v))
	assert.Equal(t, SchemaVersion, v)
	_, err = c.RecordAction(ackAction("checkout", t0))
	require.NoError(t, err, "the new tables exist")
}

func TestAuditRowAndOutboxWrittenTogether(t *testing.T) {
	c, _ := openTemp(t)
	a := ackAction("checkout", t0, "am-a", "am-b")
	queued, err := c.RecordAction(a)
	require.NoError(t, err)
	require.Len(t, queued, 4)
	assert.NotZero(t, a.ID)
	assert.Len(t, a.UID, 16)

	log, err := c.AuditLog(time.Time{})
	require.NoError(t, err)
	require.Len(t, log, 1)
	e := log[0]
	assert.Equal(t, "alice", e.Operator)
	assert.Equal(t, "jump1", e.Host)
	assert.Equal(t, "10.0.0.7 51000 22", e.SSHClient)
	assert.Equal(t, model.VerbAck, e.Verb)
	assert.Equal(t, "checkout", e.Target)
	assert.Equal(t, "looking", e.Comment)
	assert.Equal(t, model.ActionPending, e.State)
	assert.Equal(t, model.RoleTier1, e.Role)
	assert.True(t, e.At.Equal(t0))

	due, err := c.DueDeliveries(t0, 10)
	require.NoError(t, err)
	require.Len(t, due, 4)
	assert.Equal(t, a.UID, due[0].ActionUID, "a delivery carries its action's uid for the upstream marker")
	assert.Equal(t, "alice", due[0].Operator)
	assert.Equal(t, "looking", due[0].Comment)
	assert.True(t, due[0].Until.Equal(a.Until))

	b, err := c.Board(t0.Add(time.Minute), 0)
	require.NoError(t, err)
	require.NotNil(t, b.AckOf("checkout"))
	assert.Equal(t, "alice", b.AckOf("checkout").By)
	assert.Equal(t, 4, b.Deliveries["checkout"].Pending)

	// Deliver all but one; retry one; fail none: still pending.
	for i, d := range due {
		d.State, d.Ref = model.ActionDelivered, "sil-"+d.Dest+d.Key
		if i == 3 {
			d.State, d.Ref, d.Error, d.NextAt = model.ActionPending, "", "connection refused", t0.Add(time.Minute)
		}
		require.NoError(t, c.FinishDelivery(d))
	}
	log, _ = c.AuditLog(time.Time{})
	assert.Equal(t, model.ActionPending, log[0].State)
	assert.Equal(t, "connection refused", log[0].Reason)
	due, err = c.DueDeliveries(t0.Add(30*time.Second), 10)
	require.NoError(t, err)
	assert.Empty(t, due, "the retry is not due before its back-off")
	due, err = c.DueDeliveries(t0.Add(time.Minute), 10)
	require.NoError(t, err)
	require.Len(t, due, 1)
	assert.Equal(t, 1, due[0].Attempts)
	due[0].State, due[0].Ref, due[0].Error = model.ActionDelivered, "sil-last", ""
	require.NoError(t, c.FinishDelivery(due[0]))
	log, _ = c.AuditLog(time.Time{})
	assert.Equal(t, model.ActionDelivered, log[0].State)
	assert.Contains(t, log[0].Upstream, "sil-last")
	b, _ = c.Board(t0.Add(time.Minute), 0)
	assert.Zero(t, b.Deliveries["checkout"].Pending)
}

func TestSecondAckRefusedUnackCancelsAndExpires(t *testing.T) {
	c, _ := openTemp(t)
	a := ackAction("checkout", t0, "am-a", "am-b")
	_, err := c.RecordAction(a)
	require.NoError(t, err)
	_, err = c.RecordAction(ackAction("checkout", t0.Add(time.Second), "am-a"))
	assert.ErrorIs(t, err, ErrAlreadyAcked)

	due, _ := c.DueDeliveries(t0, 10)
	due[0].State, due[0].Ref = model.ActionDelivered, "s1"
	require.NoError(t, c.FinishDelivery(due[0]))

	un := &model.Action{AuditEntry: model.AuditEntry{At: t0.Add(time.Minute), Operator: "bob", Verb: model.VerbUnack,
		Service: "checkout", Target: "checkout"}}
	queued, err := c.RecordAction(un)
	require.NoError(t, err)
	require.Len(t, queued, 2, "one expiry per Alertmanager the ack was for")
	assert.Equal(t, model.DeliverExpire, queued[0].Kind)
	assert.Equal(t, "am-a", queued[0].Dest)
	assert.Equal(t, "am-b", queued[1].Dest)
	assert.Equal(t, a.UID, queued[0].Key, "the expiry names the ack whose silences go")

	ds, err := c.Deliveries(a.ID)
	require.NoError(t, err)
	states := map[model.ActionState]int{}
	for _, d := range ds {
		states[d.State]++
	}
	assert.Equal(t, map[model.ActionState]int{model.ActionDelivered: 1, model.ActionCancelled: 3}, states,
		"silences not yet created are cancelled, never sent after the un-ack")
	b, _ := c.Board(t0.Add(time.Minute), 0)
	assert.Nil(t, b.AckOf("checkout"))
	_, err = c.RecordAction(&model.Action{AuditEntry: model.AuditEntry{At: t0.Add(2 * time.Minute), Operator: "bob",
		Verb: model.VerbUnack, Service: "checkout"}})
	assert.ErrorIs(t, err, ErrNotAcked)
}

func TestRefusalRecordsOnlyTheAuditRow(t *testing.T) {
	c, _ := openTemp(t)
	a := ackAction("checkout", t0, "am-a")
	a.State, a.Reason = model.ActionRefused, "read-only console"
	_, err := c.RecordAction(a)
	require.NoError(t, err)
	log, _ := c.AuditLog(time.Time{})
	require.Len(t, log, 1)
	assert.Equal(t, model.ActionRefused, log[0].State)
	assert.Equal(t, "read-only console", log[0].Reason)
	due, _ := c.DueDeliveries(t0.Add(time.Hour), 10)
	assert.Empty(t, due)
	b, _ := c.Board(t0, 0)
	assert.Nil(t, b.AckOf("checkout"))
}

func TestAckLapsesEscalationsAndNotes(t *testing.T) {
	c, _ := openTemp(t)
	a := ackAction("checkout", t0)
	a.Until = t0.Add(10 * time.Minute)
	_, err := c.RecordAction(a)
	require.NoError(t, err)
	b, _ := c.Board(t0.Add(11*time.Minute), 0)
	assert.Nil(t, b.AckOf("checkout"))
	require.NotNil(t, b.Lapsed["checkout"], "an expired ack on an open outage is lapsed, shown, not forgotten")

	for lvl := 2; lvl <= 3; lvl++ {
		_, err = c.RecordAction(&model.Action{AuditEntry: model.AuditEntry{At: t0.Add(time.Duration(lvl) * time.Minute),
			Operator: "carol", Verb: model.VerbEscalate, Service: "checkout", Comment: "db down"}, Level: lvl, Who: "owner"})
		require.NoError(t, err)
	}
	_, err = c.RecordAction(&model.Action{AuditEntry: model.AuditEntry{At: t0, Operator: "carol", Verb: model.VerbNote, Comment: "handover: watch db"}})
	require.NoError(t, err)
	b, _ = c.Board(t0.Add(11*time.Minute), 0)
	assert.Equal(t, 3, b.LevelOf("checkout"))
	assert.Equal(t, 1, b.LevelOf("payments"))
	require.Len(t, b.NotesOf(""), 1)
	assert.Equal(t, "handover: watch db", b.NotesOf("")[0].Text)

	// The outage resolves: sitroom clears the lapsed ack and the escalation.
	_, err = c.RecordAction(&model.Action{AuditEntry: model.AuditEntry{At: t0.Add(20 * time.Minute), Operator: "sitroom",
		Verb: model.VerbClear, Service: "checkout", Comment: "outage resolved"}})
	require.NoError(t, err)
	b, _ = c.Board(t0.Add(20*time.Minute), 0)
	assert.Nil(t, b.Lapsed["checkout"])
	assert.Equal(t, 1, b.LevelOf("checkout"))
}

func TestActionsSharedBetweenCachesOnOneFile(t *testing.T) {
	c1, path := openTemp(t)
	c2, err := Open(path)
	require.NoError(t, err)
	defer c2.Close()
	_, err = c1.RecordAction(ackAction("checkout", t0))
	require.NoError(t, err)
	b, err := c2.Board(t0, 0)
	require.NoError(t, err)
	require.NotNil(t, b.AckOf("checkout"))
	assert.Equal(t, "alice", b.AckOf("checkout").By)
	// The poll path of the other cache still works after the foreign write.
	_, err = c2.Ingest("am", []model.Alert{alert("A")}, at(0))
	require.NoError(t, err)
}

func TestSilencesStoredPerSource(t *testing.T) {
	c, _ := openTemp(t)
	store := func(source string, sils []model.Silence) {
		t.Helper()
		_, err := c.StoreSilences(source, sils, t0)
		require.NoError(t, err)
	}
	store("am-a", []model.Silence{{ID: "s1", CreatedBy: "dave", Comment: "maint", EndsAt: t0}})
	store("am-b", []model.Silence{{ID: "s2", CreatedBy: "erin"}})
	store("am-a", nil)
	b, _ := c.Board(t0, 0)
	assert.NotContains(t, b.Silences, "s1")
	assert.Equal(t, "erin", b.Silences["s2"].CreatedBy)
	assert.Equal(t, "erin", b.SilenceAuthor(&model.Signal{AlertRow: &model.AlertRow{Alert: model.Alert{Suppressed: model.Suppress([]string{"s2"}, nil)}}}))
}

// An outage acked alert by alert: a second ack naming alerts the first does
// not cover is taken, the board shows one ack covering both, and an un-ack
// expires the silences of both.
func TestAckAlertByAlertTopsUpAndUnackExpiresAll(t *testing.T) {
	c, _ := openTemp(t)
	first := ackAction("checkout", t0, "am-a")
	first.AlertKeys, first.Deliveries = []string{"k1"}, first.Deliveries[:1]
	_, err := c.RecordAction(first)
	require.NoError(t, err)
	again := ackAction("checkout", t0.Add(time.Second), "am-a")
	again.AlertKeys, again.Deliveries = []string{"k1"}, again.Deliveries[:1]
	_, err = c.RecordAction(again)
	assert.ErrorIs(t, err, ErrAlreadyAcked, "k1 is acked already")

	second := ackAction("checkout", t0.Add(2*time.Second), "am-b")
	second.Operator = "bob"
	second.AlertKeys, second.Deliveries = []string{"k2"}, second.Deliveries[1:2]
	_, err = c.RecordAction(second)
	require.NoError(t, err, "k2 was not acked: the ack is topped up")

	b, err := c.Board(t0.Add(time.Minute), 0)
	require.NoError(t, err)
	ack := b.AckOf("checkout")
	require.NotNil(t, ack)
	assert.Equal(t, []string{"k1", "k2"}, ack.AlertKeys)
	assert.Equal(t, "alice", ack.By, "the first to ack")

	queued, err := c.RecordAction(&model.Action{AuditEntry: model.AuditEntry{At: t0.Add(time.Minute), Operator: "bob",
		Verb: model.VerbUnack, Service: "checkout", Target: "checkout"}})
	require.NoError(t, err)
	var got []string
	for _, d := range queued {
		got = append(got, d.Dest+"/"+d.Key)
	}
	assert.ElementsMatch(t, []string{"am-a/" + first.UID, "am-b/" + second.UID}, got, "one expiry per ack and Alertmanager")
	b, _ = c.Board(t0.Add(time.Minute), 0)
	assert.Nil(t, b.AckOf("checkout"))
}
