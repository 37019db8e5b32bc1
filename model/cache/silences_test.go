package cache

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
)

// ackedWithSilences records alice's ack of checkout (k1, k2) with one
// silence per alert on am-a, delivered as s1 and s2, and returns the
// action and its deliveries.
func ackedWithSilences(t *testing.T, c *Cache) (*model.Action, []model.Delivery) {
	t.Helper()
	a := ackAction("checkout", t0, "am-a")
	queued, err := c.RecordAction(a)
	require.NoError(t, err)
	require.Len(t, queued, 2)
	for i, d := range queued {
		d.State, d.Ref = model.ActionDelivered, []string{"s1", "s2"}[i]
		require.NoError(t, c.FinishDelivery(d))
	}
	return a, queued
}

// sitroomSilence is the silence the ack's delivery made for key.
func sitroomSilence(a *model.Action, id, key string) model.Silence {
	return model.Silence{Source: "am-a", ID: id, CreatedBy: a.Operator, State: model.SilenceActive,
		Comment: "looking " + model.Marker(a.UID, key), StartsAt: a.At, EndsAt: a.Until,
		Matchers: `{alertname="` + key + `"}`}
}

func auditVerbs(t *testing.T, c *Cache, v model.Verb) []model.AuditEntry {
	t.Helper()
	log, err := c.AuditLog(time.Time{})
	require.NoError(t, err)
	var out []model.AuditEntry
	for _, e := range log {
		if e.Verb == v {
			out = append(out, e)
		}
	}
	return out
}

// The upstream is the truth: a silence behind an ack expired in the
// Alertmanager ends the ack, once; a new ack is then possible.
func TestAckEndsWhenItsSilenceExpiresUpstream(t *testing.T) {
	c, _ := openTemp(t)
	a, _ := ackedWithSilences(t, c)
	s1, s2 := sitroomSilence(a, "s1", "k1"), sitroomSilence(a, "s2", "k2")

	ended, err := c.StoreSilences("am-a", []model.Silence{s1, s2}, t0.Add(time.Minute))
	require.NoError(t, err)
	assert.Empty(t, ended, "both silences active as made")
	b, err := c.Board(t0.Add(time.Minute), 0)
	require.NoError(t, err)
	require.NotNil(t, b.AckOf("checkout"))

	// amtool silence expire s1: the Alertmanager ends it now.
	s1.State, s1.EndsAt, s1.UpdatedAt = model.SilenceExpired, t0.Add(10*time.Minute), t0.Add(10*time.Minute)
	ended, err = c.StoreSilences("am-a", []model.Silence{s1, s2}, t0.Add(10*time.Minute))
	require.NoError(t, err)
	require.Len(t, ended, 1)
	assert.Equal(t, "silence expired", ended[0].Ended)

	b, err = c.Board(t0.Add(11*time.Minute), 0)
	require.NoError(t, err)
	assert.Nil(t, b.AckOf("checkout"), "the ack no longer counts")
	assert.Nil(t, b.Lapsed["checkout"])
	e := b.EndedOf("checkout", t0)
	require.NotNil(t, e)
	assert.Equal(t, "alice", e.By)
	assert.Equal(t, "silence expired", e.Ended)
	assert.Equal(t, t0.Add(10*time.Minute), e.EndedAt)
	assert.Equal(t, model.SilenceExpired, b.Silences["s1"].State, "the silence that ended the ack is kept")

	// Read again: nothing ends twice.
	ended, err = c.StoreSilences("am-a", []model.Silence{s1, s2}, t0.Add(11*time.Minute))
	require.NoError(t, err)
	assert.Empty(t, ended)
	endings := auditVerbs(t, c, model.VerbEnded)
	require.Len(t, endings, 1)
	assert.Equal(t, "ack by alice ended upstream: silence expired", endings[0].Comment)
	assert.Equal(t, "checkout", endings[0].Service)
	assert.Equal(t, "sitroom", endings[0].Operator)

	// A new ack is taken, and the notice goes with it.
	again := ackAction("checkout", t0.Add(12*time.Minute))
	again.Operator = "bob"
	_, err = c.RecordAction(again)
	require.NoError(t, err, "a new ack is possible")
	b, err = c.Board(t0.Add(13*time.Minute), 0)
	require.NoError(t, err)
	assert.Equal(t, "bob", b.AckOf("checkout").By)
	assert.Nil(t, b.EndedOf("checkout", t0))
}

// A silence that ran out with its ack is the ack lapsing, not ending.
func TestAckLapsingWithItsSilenceIsNotEndedUpstream(t *testing.T) {
	c, _ := openTemp(t)
	a, _ := ackedWithSilences(t, c)
	s1, s2 := sitroomSilence(a, "s1", "k1"), sitroomSilence(a, "s2", "k2")
	s1.State, s2.State = model.SilenceExpired, model.SilenceExpired
	after := a.Until.Add(time.Second)
	ended, err := c.StoreSilences("am-a", []model.Silence{s1, s2}, after)
	require.NoError(t, err)
	assert.Empty(t, ended)
	b, err := c.Board(after, 0)
	require.NoError(t, err)
	assert.NotNil(t, b.Lapsed["checkout"], "lapsed as before")
	assert.Nil(t, b.Ended["checkout"])
	assert.Empty(t, b.Silences, "expired silences that ended no ack are not kept")
}

// A silence whose end someone changed upstream ends the ack, naming who
// when the Alertmanager says.
func TestAckEndsWhenItsSilenceEndIsChanged(t *testing.T) {
	c, _ := openTemp(t)
	a, _ := ackedWithSilences(t, c)
	s1, s2 := sitroomSilence(a, "s1", "k1"), sitroomSilence(a, "s2", "k2")
	s2.EndsAt, s2.CreatedBy = a.Until.Add(time.Hour), "change-mgmt"
	ended, err := c.StoreSilences("am-a", []model.Silence{s1, s2}, t0.Add(time.Minute))
	require.NoError(t, err)
	require.Len(t, ended, 1)
	assert.Equal(t, "silence end changed to 2026-11-26 12:00 UTC by change-mgmt", ended[0].Ended)
}

// A silence the ack made, seen once and then gone from the list (deleted,
// or an Alertmanager that lost its data), ends the ack; one not yet seen
// (listed before the delivery made it) does not.
func TestAckEndsWhenItsSilenceIsGone(t *testing.T) {
	c, _ := openTemp(t)
	a, _ := ackedWithSilences(t, c)
	s1, s2 := sitroomSilence(a, "s1", "k1"), sitroomSilence(a, "s2", "k2")
	ended, err := c.StoreSilences("am-a", nil, t0.Add(time.Second))
	require.NoError(t, err)
	assert.Empty(t, ended, "a list read before the silences were made ends nothing")
	_, err = c.StoreSilences("am-a", []model.Silence{s1, s2}, t0.Add(time.Minute))
	require.NoError(t, err)
	ended, err = c.StoreSilences("am-a", []model.Silence{s2}, t0.Add(2*time.Minute))
	require.NoError(t, err)
	require.Len(t, ended, 1)
	assert.Equal(t, "silence deleted", ended[0].Ended)
}

// Nothing twice: an ack that ended upstream while one of its silences was
// still to be made never makes it.
func TestAckEndedUpstreamCancelsItsSilencesNotYetMade(t *testing.T) {
	c, _ := openTemp(t)
	a := ackAction("checkout", t0, "am-a")
	queued, err := c.RecordAction(a)
	require.NoError(t, err)
	first := queued[0]
	first.State, first.Ref = model.ActionDelivered, "s1"
	require.NoError(t, c.FinishDelivery(first))
	s1 := sitroomSilence(a, "s1", "k1")
	s1.State, s1.EndsAt = model.SilenceExpired, t0.Add(time.Minute)
	_, err = c.StoreSilences("am-a", []model.Silence{s1}, t0.Add(time.Minute))
	require.NoError(t, err)
	ds, err := c.Deliveries(a.ID)
	require.NoError(t, err)
	require.Len(t, ds, 2)
	assert.Equal(t, model.ActionCancelled, ds[1].State)
	due, err := c.DueDeliveries(t0.Add(time.Hour), 10)
	require.NoError(t, err)
	assert.Empty(t, due, "nothing left to deliver")
}

// Upstream silences are kept with what the Alertmanager says of them.
func TestSilencesKeepStartStateAndMatchers(t *testing.T) {
	c, _ := openTemp(t)
	ext := model.Silence{ID: "x1", CreatedBy: "change-mgmt", Comment: "CHG-4711 planned db maintenance",
		StartsAt: t0, EndsAt: t0.Add(2 * time.Hour), UpdatedAt: t0, State: model.SilenceActive,
		Matchers: `{alertname="DBDown", instance=~"n1|n2"}`}
	later := ext
	later.ID, later.State, later.StartsAt = "x2", model.SilencePending, t0.Add(time.Hour)
	gone := ext
	gone.ID, gone.State = "x3", model.SilenceExpired
	_, err := c.StoreSilences("am-a", []model.Silence{ext, later, gone}, t0)
	require.NoError(t, err)
	b, err := c.Board(t0, 0)
	require.NoError(t, err)
	want := ext
	want.Source = "am-a"
	assert.Equal(t, want, b.Silences["x1"])
	assert.Equal(t, model.SilencePending, b.Silences["x2"].State)
	assert.NotContains(t, b.Silences, "x3", "an expired silence that ended no ack is dropped")
}

// A version 7 cache gains the silence and ack columns and keeps its rows.
func TestMigrationTo8KeepsSilencesAndAcks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v7.db")
	db := rawDB(t, path)
	for v := 0; v < 7; v++ {
		_, err := db.Exec(migrations[v])
		require.NoError(t, err, "migration %d", v)
	}
	for _, q := range []string{
		`INSERT INTO audit(id, uid, at, operator, role, host, ssh_client, verb, service, target, comment, state)
			VALUES (1, 'u1', 1, 'alice', 'tier1', 'h', '', 'ack', 'checkout', 'checkout', 'looking', 'delivered')`,
		`INSERT INTO acks(id, service, alert_keys, by, at, until, comment) VALUES (1, 'checkout', '[]', 'alice', 1, ` +
			"9000000000000000000" + `, 'looking')`,
		`INSERT INTO silences(source, id, created_by, comment, ends_at) VALUES ('am-a', 's1', 'dave', 'maint', 5)`,
		`PRAGMA user_version = 7`,
	} {
		_, err := db.Exec(q)
		require.NoError(t, err, q)
	}
	require.NoError(t, db.Close())
	c, err := Open(path)
	require.NoError(t, err)
	defer c.Close()
	b, err := c.Board(t0, 0)
	require.NoError(t, err)
	assert.Equal(t, "alice", b.AckOf("checkout").By)
	assert.Equal(t, "dave", b.Silences["s1"].CreatedBy)
	assert.Equal(t, model.SilenceActive, b.Silences["s1"].State, "silences recorded before were live ones")
	assert.Empty(t, b.Ended)
}

// The handoff's history holds the upstream silences on open alerts with
// their services, not sitroom's own ack silences.
func TestHistoryListsUpstreamSilencesOnOpenAlerts(t *testing.T) {
	c, _ := openTemp(t)
	db := alert("DBDown", "service", "db-main", "severity", "critical")
	db.State, db.Suppressed = model.StateSuppressed, model.Suppress([]string{"x1", "mine"}, nil)
	_, err := c.Ingest("am-a", []model.Alert{db, alert("Other", "service", "web")}, at(0))
	require.NoError(t, err)
	ext := model.Silence{ID: "x1", CreatedBy: "change-mgmt", Comment: "CHG-4711", StartsAt: t0, EndsAt: t0.Add(2 * time.Hour),
		State: model.SilenceActive}
	own := model.Silence{ID: "mine", CreatedBy: "alice", Comment: "looking " + model.Marker("u1", "k"), EndsAt: t0.Add(time.Hour),
		State: model.SilenceActive}
	idle := model.Silence{ID: "x2", CreatedBy: "erin", EndsAt: t0.Add(time.Hour), State: model.SilenceActive}
	_, err = c.StoreSilences("am-a", []model.Silence{ext, own, idle}, t0)
	require.NoError(t, err)
	h, err := c.History(t0.Add(-time.Hour), t0.Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, h.Silences, 1, "sitroom's own and a silence on nothing open are left out")
	assert.Equal(t, "change-mgmt", h.Silences[0].CreatedBy)
	assert.Equal(t, []string{"db-main"}, h.Silences[0].Services)
	assert.True(t, strings.HasPrefix(h.Silences[0].Comment, "CHG-4711"))
}

// A clustered pair lists each silence under the same id: the board holds
// it once, naming both members, so the silences view and its actions
// see every Alertmanager that has it.
func TestBoardNamesEveryMemberHoldingASilence(t *testing.T) {
	c, _ := openTemp(t)
	sil := model.Silence{ID: "shared", CreatedBy: "change-mgmt", Comment: "CHG-4711", State: model.SilenceActive,
		StartsAt: t0, EndsAt: t0.Add(2 * time.Hour), Matchers: `{service="db"}`}
	for _, src := range []string{"am-a", "am-b"} {
		s := sil
		s.Source = src
		_, err := c.StoreSilences(src, []model.Silence{s}, t0.Add(time.Minute))
		require.NoError(t, err)
	}
	b, err := c.Board(t0.Add(time.Minute), 0)
	require.NoError(t, err)
	require.Len(t, b.Silences, 1)
	got := b.Silences["shared"]
	holders := append([]string{got.Source}, got.Also...)
	assert.ElementsMatch(t, []string{"am-a", "am-b"}, holders)
	assert.Equal(t, "change-mgmt", got.CreatedBy)
}
