package actions_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources/actions"
)

// fakeChannel records what it was sent; fail, when set, is its answer.
type fakeChannel struct {
	typ  string
	mu   sync.Mutex
	keys []string
	msgs []model.NotifyMessage
	fail error
}

func (f *fakeChannel) Type() string { return f.typ }

func (f *fakeChannel) Send(_ context.Context, m model.NotifyMessage, key string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return "", f.fail
	}
	f.keys = append(f.keys, key)
	f.msgs = append(f.msgs, m)
	return "ok", nil
}

func (f *fakeChannel) sent() []model.NotifyMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]model.NotifyMessage(nil), f.msgs...)
}

type statusErr struct {
	code int
}

func (e statusErr) Error() string   { return fmt.Sprintf("HTTP %d Forbidden", e.code) }
func (e statusErr) Permanent() bool { return e.code >= 400 && e.code < 500 }

// outageSnap is a snapshot in which every source answered and service
// svc is down (or nothing is, with svc "").
func outageSnap(svc string, since time.Time) *model.Snapshot {
	s := &model.Snapshot{Sources: []model.SourceStatus{{Name: "am", LastSuccess: time.Now()}},
		Services: map[string]*model.ServiceState{}}
	if svc != "" {
		o := &model.Outage{Service: svc, Severity: model.SevCritical, Since: since}
		s.Outages = []*model.Outage{o}
		s.Services[svc] = &model.ServiceState{Outage: o}
	}
	return s
}

func notifyReq(teams ...string) model.ActionRequest {
	return model.ActionRequest{Verb: model.VerbNotify, Service: "db-main", Teams: teams, Comment: "db failover",
		Notify: &model.NotifyMessage{Service: "db-main", Severity: "critical", Text: "db-main is down; failing over"}}
}

func TestNotifyTellsEachTeamOnEachChannelOnce(t *testing.T) {
	c := openCache(t, filepath.Join(t.TempDir(), "c.db"))
	dbSlack, dbMail := &fakeChannel{typ: "slack"}, &fakeChannel{typ: "email"}
	pay, web := &fakeChannel{typ: "webhook"}, &fakeChannel{typ: "mattermost"}
	d := actions.New(c, actions.Options{Operator: tier1(), Teams: []actions.NotifyTeam{
		{Name: "dba", Channels: []actions.Notifier{dbSlack, dbMail}},
		{Name: "payments", Channels: []actions.Notifier{pay}},
		{Name: "web", Channels: []actions.Notifier{web}},
		{Name: "silent"},
	}})
	assert.Equal(t, map[string][]string{"dba": {"slack", "email"}, "payments": {"webhook"}, "web": {"mattermost"}},
		d.TeamChannels(), "the form lists each team's channel types in config order; a team without any is left out")

	res, err := d.Do(context.Background(), notifyReq("dba", "payments", "web"))
	require.NoError(t, err)
	require.Equal(t, model.ActionPending, res.State, res.Message)
	assert.Equal(t, "telling 3 teams about db-main through 4 channels", res.Message)

	// Audited before anything was sent.
	log, err := c.AuditLog(time.Time{})
	require.NoError(t, err)
	require.Len(t, log, 1)
	assert.Equal(t, model.VerbNotify, log[0].Verb)
	assert.Equal(t, "alice", log[0].Operator)
	assert.Empty(t, dbSlack.sent())

	deliver(t, d)
	deliver(t, d) // nothing is due any more: no second copy
	uid := log[0].UID
	for name, ch := range map[string]*fakeChannel{"dba/0": dbSlack, "dba/1": dbMail, "payments/0": pay, "web/0": web} {
		require.Len(t, ch.sent(), 1, name)
		assert.Equal(t, []string{uid + "/" + name}, ch.keys, "the idempotency key is the action's uid and the channel")
		m := ch.sent()[0]
		assert.Equal(t, "db-main", m.Service)
		assert.Equal(t, "alice", m.Operator)
		assert.Equal(t, uid, m.UID)
		assert.Equal(t, model.NotifyOutage, m.Kind)
		assert.Equal(t, "db-main is down; failing over", m.Text)
	}
	assert.Equal(t, "dba", dbMail.sent()[0].Team)

	b, err := d.Board()
	require.NoError(t, err)
	n := b.NoticeOf("db-main", "dba")
	require.NotNil(t, n)
	assert.Equal(t, model.ActionDelivered, n.State)
	assert.Equal(t, []string{"slack", "email"}, n.Channels)
	assert.Equal(t, "alice", n.By)
}

func TestNotifyUpdateAfterTold(t *testing.T) {
	c := openCache(t, filepath.Join(t.TempDir(), "c.db"))
	ch := &fakeChannel{typ: "slack"}
	d := actions.New(c, actions.Options{Operator: tier1(), Teams: []actions.NotifyTeam{{Name: "dba", Channels: []actions.Notifier{ch}}}})
	since := time.Now().Add(-time.Hour)
	req := notifyReq("dba")
	req.Notify.Since = since
	_, err := d.Do(context.Background(), req)
	require.NoError(t, err)
	deliver(t, d)
	publishBoard(t, d)

	res, err := d.Do(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, model.ActionPending, res.State, res.Message)
	deliver(t, d)
	msgs := ch.sent()
	require.Len(t, msgs, 2)
	assert.Equal(t, model.NotifyOutage, msgs[0].Kind)
	assert.Equal(t, model.NotifyUpdate, msgs[1].Kind, "a team told already gets an update")
	assert.NotEqual(t, msgs[0].UID, msgs[1].UID, "each N is its own action")
}

// publishBoard has the dispatcher read its board once, as its loop does.
func publishBoard(t *testing.T, d *actions.Dispatcher) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	select {
	case <-d.Boards():
	case <-time.After(10 * time.Second):
		t.Fatal("no board published")
	}
	cancel()
	<-done
}

func TestNotifyRetriesA500AndFailsA403(t *testing.T) {
	c := openCache(t, filepath.Join(t.TempDir(), "c.db"))
	flaky := &fakeChannel{typ: "webhook", fail: statusErr{500}}
	denied := &fakeChannel{typ: "slack", fail: statusErr{403}}
	d := actions.New(c, actions.Options{Operator: tier1(), MinBackoff: time.Nanosecond, MaxBackoff: time.Nanosecond,
		Teams: []actions.NotifyTeam{
			{Name: "payments", Channels: []actions.Notifier{flaky}},
			{Name: "web", Channels: []actions.Notifier{denied}},
		}})
	_, err := d.Do(context.Background(), notifyReq("payments", "web"))
	require.NoError(t, err)
	deliver(t, d)

	b, err := d.Board()
	require.NoError(t, err)
	p := b.NoticeOf("db-main", "payments")
	require.NotNil(t, p)
	assert.Equal(t, model.ActionPending, p.State, "a 500 is retried")
	w := b.NoticeOf("db-main", "web")
	require.NotNil(t, w)
	assert.Equal(t, model.ActionFailed, w.State, "a 403 fails for good")
	assert.Contains(t, w.Error, "HTTP 403")

	flaky.mu.Lock()
	flaky.fail = nil
	flaky.mu.Unlock()
	deliver(t, d)
	require.Len(t, flaky.sent(), 1)
	b, err = d.Board()
	require.NoError(t, err)
	assert.Equal(t, model.ActionDelivered, b.NoticeOf("db-main", "payments").State)
	assert.Empty(t, denied.sent())
}

func TestNotifyChannelGoneFromConfigFailsForGood(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	c := openCache(t, path)
	ch := &fakeChannel{typ: "slack"}
	d := actions.New(c, actions.Options{Operator: tier1(), Teams: []actions.NotifyTeam{{Name: "dba", Channels: []actions.Notifier{ch, ch}}}})
	_, err := d.Do(context.Background(), notifyReq("dba"))
	require.NoError(t, err)

	// Restarted with a config in which dba has one channel left.
	d2 := actions.New(c, actions.Options{Operator: tier1(), Teams: []actions.NotifyTeam{{Name: "dba", Channels: []actions.Notifier{ch}}}})
	deliver(t, d2)
	assert.Len(t, ch.sent(), 1, "the channel still configured is told")
	b, err := d2.Board()
	require.NoError(t, err)
	n := b.NoticeOf("db-main", "dba")
	require.NotNil(t, n)
	assert.Equal(t, model.ActionFailed, n.State)
	assert.Contains(t, n.Error, "no such destination")
}

func TestNotifyRefusals(t *testing.T) {
	c := openCache(t, filepath.Join(t.TempDir(), "c.db"))
	ch := &fakeChannel{typ: "slack"}
	teams := []actions.NotifyTeam{{Name: "dba", Channels: []actions.Notifier{ch}}, {Name: "silent"}}
	viewer := actions.New(c, actions.Options{Operator: model.Operator{User: "vic", Role: model.RoleViewer}, Teams: teams})
	res, err := viewer.Do(context.Background(), notifyReq("dba"))
	require.NoError(t, err)
	assert.Equal(t, model.ActionRefused, res.State)
	assert.Contains(t, res.Message, "viewer")

	ro := actions.New(c, actions.Options{Operator: tier1(), Policy: &model.Policy{ReadOnly: true}, Teams: teams})
	res, err = ro.Do(context.Background(), notifyReq("dba"))
	require.NoError(t, err)
	assert.Equal(t, model.ActionRefused, res.State)

	d := actions.New(c, actions.Options{Operator: tier1(), Teams: teams})
	res, err = d.Do(context.Background(), notifyReq("silent"))
	require.NoError(t, err)
	assert.Equal(t, model.ActionRefused, res.State)
	assert.Equal(t, "no notify channel configured for silent", res.Message)

	log, err := c.AuditLog(time.Time{})
	require.NoError(t, err)
	require.Len(t, log, 3, "every refusal is audited")
	for _, e := range log {
		assert.Equal(t, model.ActionRefused, e.State)
	}
	deliver(t, d)
	assert.Empty(t, ch.sent())
}

func TestNotifyOnResolveTellsTheTeamsToldOnce(t *testing.T) {
	c := openCache(t, filepath.Join(t.TempDir(), "c.db"))
	dba, pay, web := &fakeChannel{typ: "slack"}, &fakeChannel{typ: "webhook"}, &fakeChannel{typ: "email"}
	d := actions.New(c, actions.Options{Operator: tier1(), Teams: []actions.NotifyTeam{
		{Name: "dba", Channels: []actions.Notifier{dba}, OnResolve: true},
		{Name: "payments", Channels: []actions.Notifier{pay}}, // did not ask
		{Name: "web", Channels: []actions.Notifier{web}, OnResolve: true},
	}})
	since := time.Now().Add(-time.Hour)
	d.Observe(outageSnap("db-main", since))
	_, err := d.Do(context.Background(), notifyReq("dba", "payments")) // web was not told
	require.NoError(t, err)
	deliver(t, d)
	b, err := d.Board()
	require.NoError(t, err)
	assert.Zero(t, d.NotifyResolved(b), "the outage is still open")

	d.Observe(outageSnap("", time.Time{}))
	require.Equal(t, 1, d.NotifyResolved(b))
	deliver(t, d)
	b, err = d.Board()
	require.NoError(t, err)
	assert.Zero(t, d.NotifyResolved(b), "told once")
	deliver(t, d)

	require.Len(t, dba.sent(), 2)
	assert.Equal(t, model.NotifyResolved, dba.sent()[1].Kind)
	assert.Equal(t, "sitroom", dba.sent()[1].Operator)
	assert.Len(t, pay.sent(), 1, "a team without notify_on_resolve is not told it resolved")
	assert.Empty(t, web.sent(), "a team never told is not told it resolved")
}
