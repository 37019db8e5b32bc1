package cache

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
)

// notifyAction is a notify action on service telling each team through
// the channel types given for it, as the dispatcher builds it.
func notifyAction(service, by string, at time.Time, kind string, teams map[string][]string) *model.Action {
	a := &model.Action{AuditEntry: model.AuditEntry{At: at, Operator: by, Role: model.RoleTier1, Host: "jump1",
		Verb: model.VerbNotify, Service: service, Target: service, Comment: "db failover under way"}}
	for _, team := range model.SortedKeys(teams) {
		for i, typ := range teams[team] {
			m := model.NotifyMessage{Kind: kind, Service: service, Severity: "critical", Since: t0, Team: team, Operator: by, At: at}
			a.Deliveries = append(a.Deliveries, model.Delivery{Kind: model.DeliverNotify, Dest: fmt.Sprintf("%s/%d", team, i),
				Key: team, Payload: model.EncodeNotify(typ, m)})
		}
	}
	return a
}

// settle finishes every due delivery to dest with state (and err).
func settle(t *testing.T, c *Cache, at time.Time, dest string, state model.ActionState, err string) {
	t.Helper()
	due, e := c.DueDeliveries(at, 100)
	require.NoError(t, e)
	n := 0
	for _, d := range due {
		if d.Dest != dest {
			continue
		}
		d.State, d.Error = state, err
		if state == model.ActionDelivered {
			d.Ref = "ok"
		}
		if state == model.ActionPending {
			d.NextAt = at.Add(time.Hour)
		}
		require.NoError(t, c.FinishDelivery(d))
		n++
	}
	require.NotZero(t, n, "a due delivery to %s", dest)
}

func TestBoardNoticesFollowTheChannels(t *testing.T) {
	c, _ := openTemp(t)
	_, err := c.RecordAction(notifyAction("db-main", "alice", t0.Add(time.Minute), model.NotifyOutage, map[string][]string{
		"dba":      {"slack", "email"},
		"payments": {"msteams"},
		"checkout": {"mattermost"},
	}))
	require.NoError(t, err)

	b, err := c.Board(t0.Add(2*time.Minute), 0)
	require.NoError(t, err)
	require.Len(t, b.Notices["db-main"], 3)
	assert.Equal(t, []string{"checkout", "dba", "payments"},
		[]string{b.Notices["db-main"][0].Team, b.Notices["db-main"][1].Team, b.Notices["db-main"][2].Team}, "by team name")
	dba := b.NoticeOf("db-main", "dba")
	require.NotNil(t, dba)
	assert.Equal(t, []string{"slack", "email"}, dba.Channels, "channel types in config order")
	assert.Equal(t, model.ActionPending, dba.State)
	assert.Equal(t, "alice", dba.By)
	assert.True(t, dba.At.Equal(t0.Add(time.Minute)))
	assert.Equal(t, model.NotifyOutage, dba.Kind)
	assert.False(t, dba.Told(t0), "nothing reached the team yet")
	assert.Nil(t, b.NoticeOf("db-main", "search"))
	assert.Nil(t, b.NoticeOf("payments", "dba"))

	// Slack delivered, e-mail retried after a 500: pending, with why.
	at := t0.Add(2 * time.Minute)
	settle(t, c, at, "dba/0", model.ActionDelivered, "")
	settle(t, c, at, "dba/1", model.ActionPending, "HTTP 500 Internal Server Error")
	settle(t, c, at, "payments/0", model.ActionFailed, "HTTP 403 Forbidden: invalid_token")
	settle(t, c, at, "checkout/0", model.ActionDelivered, "")
	b, err = c.Board(at, 0)
	require.NoError(t, err)
	dba = b.NoticeOf("db-main", "dba")
	assert.Equal(t, model.ActionPending, dba.State, "pending while one channel is")
	assert.Equal(t, "HTTP 500 Internal Server Error", dba.Error)
	assert.True(t, dba.Told(t0), "slack reached the team")
	pay := b.NoticeOf("db-main", "payments")
	assert.Equal(t, model.ActionFailed, pay.State)
	assert.Equal(t, "HTTP 403 Forbidden: invalid_token", pay.Error)
	assert.False(t, pay.Told(t0))
	co := b.NoticeOf("db-main", "checkout")
	assert.Equal(t, model.ActionDelivered, co.State)
	assert.Empty(t, co.Error)

	// The e-mail finally fails for good: failed, with that reason.
	due, err := c.DueDeliveries(t0.Add(3*time.Hour), 10)
	require.NoError(t, err)
	require.Len(t, due, 1)
	due[0].State, due[0].Error = model.ActionFailed, "550 mailbox unavailable"
	require.NoError(t, c.FinishDelivery(due[0]))
	b, err = c.Board(t0.Add(3*time.Hour), 0)
	require.NoError(t, err)
	dba = b.NoticeOf("db-main", "dba")
	assert.Equal(t, model.ActionFailed, dba.State, "failed when one channel failed and none is pending")
	assert.Equal(t, "550 mailbox unavailable", dba.Error)
}

func TestBoardNoticeLatestActionWins(t *testing.T) {
	c, _ := openTemp(t)
	_, err := c.RecordAction(notifyAction("db-main", "alice", t0.Add(time.Minute), model.NotifyOutage,
		map[string][]string{"dba": {"slack"}, "payments": {"webhook"}}))
	require.NoError(t, err)
	settle(t, c, t0.Add(time.Minute), "dba/0", model.ActionDelivered, "")
	// An update to dba alone, by bob, through two channels now.
	_, err = c.RecordAction(notifyAction("db-main", "bob", t0.Add(20*time.Minute), model.NotifyUpdate,
		map[string][]string{"dba": {"slack", "email"}}))
	require.NoError(t, err)

	b, err := c.Board(t0.Add(21*time.Minute), 0)
	require.NoError(t, err)
	dba := b.NoticeOf("db-main", "dba")
	require.NotNil(t, dba)
	assert.Equal(t, "bob", dba.By)
	assert.Equal(t, model.NotifyUpdate, dba.Kind)
	assert.Equal(t, []string{"slack", "email"}, dba.Channels)
	assert.Equal(t, model.ActionPending, dba.State, "the update is pending")
	assert.True(t, dba.ToldAt.Equal(t0.Add(time.Minute)), "told by the first message meanwhile")
	pay := b.NoticeOf("db-main", "payments")
	require.NotNil(t, pay)
	assert.Equal(t, "alice", pay.By, "payments was not named by the update")

	// A refused notify names no team and changes nothing.
	refused := notifyAction("db-main", "carol", t0.Add(22*time.Minute), model.NotifyUpdate, map[string][]string{"dba": {"slack"}})
	refused.State, refused.Reason = model.ActionRefused, "role viewer cannot notify teams"
	_, err = c.RecordAction(refused)
	require.NoError(t, err)
	b, err = c.Board(t0.Add(23*time.Minute), 0)
	require.NoError(t, err)
	assert.Equal(t, "bob", b.NoticeOf("db-main", "dba").By)
}

// A notify action made on one console shows as a notice on another that
// merged it, with its channels' states as the maker reports them.
func TestTeamNoticeShowsOnTheOtherConsole(t *testing.T) {
	a, _ := openTemp(t)
	b, _ := openTemp(t)
	_, err := a.RecordAction(notifyAction("db-main", "alice", t0.Add(time.Minute), model.NotifyOutage,
		map[string][]string{"dba": {"slack", "email"}}))
	require.NoError(t, err)
	transfer(t, a, b, 1)

	bb, err := b.Board(t0.Add(2*time.Minute), 0)
	require.NoError(t, err)
	n := bb.NoticeOf("db-main", "dba")
	require.NotNil(t, n, "the other console's notify shows")
	assert.Equal(t, "alice", n.By)
	assert.Equal(t, []string{"slack", "email"}, n.Channels)
	assert.Equal(t, model.ActionPending, n.State)
	due, err := b.DueDeliveries(t0.Add(time.Hour), 10)
	require.NoError(t, err)
	assert.Empty(t, due, "the maker delivers its own messages, never the other console")

	settle(t, a, t0.Add(2*time.Minute), "dba/0", model.ActionDelivered, "")
	settle(t, a, t0.Add(2*time.Minute), "dba/1", model.ActionDelivered, "")
	transfer(t, a, b, 2)
	bb, err = b.Board(t0.Add(3*time.Minute), 0)
	require.NoError(t, err)
	n = bb.NoticeOf("db-main", "dba")
	require.NotNil(t, n)
	assert.Equal(t, model.ActionDelivered, n.State, "delivered as the maker reports")
	assert.True(t, n.Told(t0))
}

// The handoff read from the cache says who told which team of an outage,
// through which channels and with what result, and which team never heard.
func TestHandoffNotificationsFromTheCache(t *testing.T) {
	c, _ := openTemp(t)
	_, err := c.RecordAction(notifyAction("db-main", "alice", t0.Add(5*time.Minute), model.NotifyOutage, map[string][]string{
		"dba": {"slack", "email"}, "payments": {"msteams"}}))
	require.NoError(t, err)
	settle(t, c, t0.Add(6*time.Minute), "dba/0", model.ActionDelivered, "")
	settle(t, c, t0.Add(6*time.Minute), "dba/1", model.ActionDelivered, "")
	settle(t, c, t0.Add(6*time.Minute), "payments/0", model.ActionFailed, "HTTP 403 Forbidden")

	h, err := c.History(t0.Add(-time.Hour), t0.Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, h.Notifications, 3)
	assert.Equal(t, model.NotificationRecord{ActionUID: h.Notifications[0].ActionUID, At: t0.Add(5 * time.Minute), Operator: "alice",
		Service: "db-main", Team: "dba", Channel: "slack", Index: 0, Kind: model.NotifyOutage, State: model.ActionDelivered},
		h.Notifications[0])
	assert.Equal(t, "HTTP 403 Forbidden", h.Notifications[2].Error)

	// The outage itself, as the history holds it.
	h.Outages = []model.OutageRecord{{ID: 1, Service: "db-main", Severity: model.SevCritical, Opened: t0, Alerts: 1}}
	cat := model.NewCatalog([]*model.Service{{Name: "db-main", Owner: "dba"},
		{Name: "payments", Owner: "payments", DependsOn: []string{"db-main"}},
		{Name: "checkout", Owner: "checkout", DependsOn: []string{"payments"}}})
	r := model.BuildHandoff(h, model.HandoffOptions{Window: model.Window{Label: "shift", From: t0.Add(-time.Hour), To: t0.Add(time.Hour)},
		Catalog: cat})
	require.Len(t, r.Notifications, 1)
	md := r.Markdown()
	assert.Contains(t, md, "alice told **dba** (outage) through slack, email — delivered")
	assert.Contains(t, md, "alice told **payments** (outage) through msteams — failed: HTTP 403 Forbidden")
	assert.Contains(t, md, "never told: **payments**, **checkout**")
}

// BenchmarkBoardWithNotices builds the board over an audit log of 5000
// actions: notes only, or with 500 notify actions each telling three teams
// through four channels (2000 deliveries), as after a busy retention
// period.
func BenchmarkBoardWithNotices(b *testing.B) {
	for _, every := range []int{0, 10} {
		name := "notes-only"
		if every > 0 {
			name = "500-notify"
		}
		b.Run(name, func(b *testing.B) {
			c, err := Open(filepath.Join(b.TempDir(), "cache.db"))
			require.NoError(b, err)
			defer c.Close()
			for i := range 5000 {
				at := t0.Add(time.Duration(i) * time.Second)
				svc := fmt.Sprintf("svc-%d", i%50)
				a := noteAction(svc, at)
				if every > 0 && i%every == 0 {
					a = notifyAction(svc, "alice", at, model.NotifyOutage, map[string][]string{
						"dba": {"slack", "email"}, "payments": {"msteams"}, "checkout": {"mattermost"}})
				}
				_, err := c.RecordAction(a)
				require.NoError(b, err)
			}
			for b.Loop() {
				board, err := c.Board(t0.Add(2*time.Hour), 0)
				if err != nil || (every > 0 && len(board.Notices) != 5) {
					b.Fatalf("%v, %d services with notices", err, len(board.Notices))
				}
			}
		})
	}
}
