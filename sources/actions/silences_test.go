package actions_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/cache"
	"sitroom/sources/actions"
	"sitroom/sources/alertmanager"
	"sitroom/sources/sourcetest"
)

// pairDispatcher starts a clustered Alertmanager pair holding alertLabels
// (as Prometheus sends to both), polls both into a cache as am-a and am-b
// and returns a dispatcher acting as op on both.
func pairDispatcher(t *testing.T, op model.Operator) (d *actions.Dispatcher, c *cache.Cache, a, b *sourcetest.Server) {
	t.Helper()
	a, b = sourcetest.StartAlertmanagerPair(t)
	a.PostAlerts(t, sourcetest.PostableAlert{Labels: alertLabels})
	b.PostAlerts(t, sourcetest.PostableAlert{Labels: alertLabels})
	c = openCache(t, filepath.Join(t.TempDir(), "c.db"))
	poll(t, c, "am-a", a.URL)
	poll(t, c, "am-b", b.URL)
	d = actions.New(c, actions.Options{Operator: op, Silencers: map[string]actions.Silencer{
		"am-a": alertmanager.NewSilencer(a.URL, nil), "am-b": alertmanager.NewSilencer(b.URL, nil)}})
	d.Observe(snapshot(t, c))
	return d, c, a, b
}

// eventually retries f until it holds or 10s pass (the pair gossips).
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 10s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// marked is the live silences of url whose comment holds marker.
func marked(t *testing.T, url, marker string) []alertmanager.Silence {
	var out []alertmanager.Silence
	for _, s := range live(listSilences(t, url)) {
		if strings.Contains(s.Comment, marker) {
			out = append(out, s)
		}
	}
	return out
}

func do(t *testing.T, d *actions.Dispatcher, req model.ActionRequest) model.ActionResult {
	t.Helper()
	res, err := d.Do(context.Background(), req)
	require.NoError(t, err)
	return res
}

// The silences view's three actions on a clustered pair: each reaches
// both members once — one silence per action in each member's list, the
// same id on both — and the audit log records the upstream ids, the new
// one an extension got included.
func TestSilenceActionsReachAClusteredPairOnce(t *testing.T) {
	d, c, a, b := pairDispatcher(t, tier1())
	key := model.LabelsKey(model.LabelsFromMap(alertLabels), nil)

	// Create, from the alert's labels narrowed to two.
	res := do(t, d, model.ActionRequest{Verb: model.VerbCreateSilence, Service: "checkout", AlertKeys: []string{key},
		Comment: "rolling back checkout", Expiry: time.Hour,
		Silence: model.SilenceTarget{Sources: []string{"am-a"}, Matchers: `{alertname="CheckoutDown", instance=~"web-.*"}`}})
	require.Equal(t, model.ActionPending, res.State, res.Message)
	assert.Contains(t, res.Message, "silence queued for am-a, am-b until", "the dispatcher adds every Alertmanager holding the alert")
	deliver(t, d)
	log, err := c.AuditLog(time.Time{})
	require.NoError(t, err)
	require.Len(t, log, 1)
	created := model.Marker(log[0].UID, key)
	var id string
	for _, url := range []string{a.URL, b.URL} {
		eventually(t, "the silence on "+url, func() bool { return len(marked(t, url, created)) > 0 })
		l := marked(t, url, created)
		require.Len(t, l, 1, "one silence on %s", url)
		if id == "" {
			id = l[0].ID
		}
		assert.Equal(t, id, l[0].ID, "the same silence on both members")
		assert.Equal(t, "alice", l[0].CreatedBy)
		ms := map[string]alertmanager.SilenceMatcher{}
		for _, m := range l[0].Matchers {
			ms[m.Name] = m
		}
		assert.Equal(t, alertmanager.SilenceMatcher{Name: "instance", Value: "web-.*", IsRegex: true, IsEqual: true}, ms["instance"])
		assert.Len(t, ms, 2)
	}
	log, _ = c.AuditLog(time.Time{})
	assert.Equal(t, model.ActionDelivered, log[0].State)
	assert.Equal(t, id, log[0].Upstream)

	// Extend by 30 minutes: the Alertmanager changes the silence in
	// place, or answers with a new id for it and expires the old one;
	// either way one live silence, on both members.
	end := marked(t, a.URL, created)[0].EndsAt
	res = do(t, d, model.ActionRequest{Verb: model.VerbExtendSilence, Comment: "rollback slower than planned", Expiry: 30 * time.Minute,
		Silence: model.SilenceTarget{ID: id, Sources: []string{"am-a", "am-b"}, CreatedBy: "alice", EndsAt: end}})
	require.Equal(t, model.ActionPending, res.State, res.Message)
	deliver(t, d)
	log, _ = c.AuditLog(time.Time{})
	require.Len(t, log, 2)
	require.Equal(t, model.ActionDelivered, log[1].State, log[1].Reason)
	newID := log[1].Upstream
	require.NotEmpty(t, newID)
	for _, url := range []string{a.URL, b.URL} {
		eventually(t, "the extension on "+url, func() bool {
			l := marked(t, url, created)
			return len(l) == 1 && l[0].ID == newID && l[0].EndsAt.After(end)
		})
		l := marked(t, url, created)
		assert.WithinDuration(t, end.Add(30*time.Minute), l[0].EndsAt, time.Second)
		assert.Contains(t, l[0].Comment, "rolling back checkout", "the comment is kept")
		assert.Len(t, marked(t, url, "extend "+id+"]"), 1, "one extended silence on %s", url)
	}

	// Expire, as its author.
	res = do(t, d, model.ActionRequest{Verb: model.VerbExpireSilence, Comment: "rolled back",
		Silence: model.SilenceTarget{ID: newID, Sources: []string{"am-a", "am-b"}, CreatedBy: "alice"}})
	require.Equal(t, model.ActionPending, res.State, res.Message)
	deliver(t, d)
	for _, url := range []string{a.URL, b.URL} {
		eventually(t, "the expiry on "+url, func() bool { return len(marked(t, url, created)) == 0 })
		n := 0
		for _, s := range listSilences(t, url) {
			if strings.Contains(s.Comment, created) {
				n++
				assert.Equal(t, "expired", s.Status.State)
			}
		}
		want := 2 // the first silence (expired by the extension) and the extended one
		if newID == id {
			want = 1 // changed in place
		}
		assert.Equal(t, want, n, "on %s: nothing more", url)
	}
	log, _ = c.AuditLog(time.Time{})
	require.Len(t, log, 3)
	for _, e := range log {
		assert.Equal(t, model.ActionDelivered, e.State, "%s: %s", e.Verb, e.Reason)
	}
	assert.Equal(t, "silence "+newID, log[2].Target)

	// Delivering again changes nothing: each delivery is done once.
	deliver(t, d)
	for _, url := range []string{a.URL, b.URL} {
		assert.Empty(t, marked(t, url, created))
	}
}

// Who may expire whose silence is decided on the author the
// Alertmanager recorded, not on what the request says.
func TestExpiringSomeoneElsesSilenceTakesTier2(t *testing.T) {
	d, c, a, _ := pairDispatcher(t, tier1())
	id := a.CreateSilence(t, map[string]string{"service": "checkout"}, time.Hour, "change-mgmt", "CHG-4711 planned db maintenance")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	eventually(t, "gossip", func() bool { return len(marked(t, a.URL, "CHG-4711")) == 1 })
	d.ReadSilences(ctx)

	res := do(t, d, model.ActionRequest{Verb: model.VerbExpireSilence,
		Silence: model.SilenceTarget{ID: id, Sources: []string{"am-a"}, CreatedBy: "alice"}})
	assert.Equal(t, model.ActionRefused, res.State)
	assert.Contains(t, res.Message, "expires only its own silences (this one is change-mgmt's; needs tier2)")
	log, err := c.AuditLog(time.Time{})
	require.NoError(t, err)
	require.Len(t, log, 1)
	assert.Equal(t, model.ActionRefused, log[0].State, "the refusal is audited")
	deliver(t, d)
	assert.Len(t, marked(t, a.URL, "CHG-4711"), 1, "still in force")

	// tier1 may extend it: the maintenance overran.
	res = do(t, d, model.ActionRequest{Verb: model.VerbExtendSilence, Expiry: time.Hour,
		Silence: model.SilenceTarget{ID: id, Sources: []string{"am-a"}}})
	require.Equal(t, model.ActionPending, res.State, res.Message)
	deliver(t, d)
	l := marked(t, a.URL, "CHG-4711")
	require.Len(t, l, 1)
	assert.Equal(t, "change-mgmt", l[0].CreatedBy, "the silence keeps its author")

	lead := tier1()
	lead.Role = model.RoleTier2
	d2 := actions.New(c, actions.Options{Operator: lead, Silencers: map[string]actions.Silencer{"am-a": alertmanager.NewSilencer(a.URL, nil)}})
	res = do(t, d2, model.ActionRequest{Verb: model.VerbExpireSilence, Silence: model.SilenceTarget{ID: l[0].ID, Sources: []string{"am-a"}}})
	require.Equal(t, model.ActionPending, res.State, res.Message)
	deliver(t, d2)
	assert.Empty(t, marked(t, a.URL, "CHG-4711"))
}

// Two independent Alertmanagers (no gossip between them) each get their
// own silence: the new silence does not reach the second by gossip, so
// it is created there too — once.
func TestNewSilenceOnTwoIndependentAlertmanagers(t *testing.T) {
	a := sourcetest.StartAlertmanager(t)
	b := sourcetest.StartAlertmanager(t)
	a.PostAlerts(t, sourcetest.PostableAlert{Labels: alertLabels})
	b.PostAlerts(t, sourcetest.PostableAlert{Labels: alertLabels})
	c := openCache(t, filepath.Join(t.TempDir(), "c.db"))
	poll(t, c, "am-a", a.URL)
	poll(t, c, "am-b", b.URL)
	d := actions.New(c, actions.Options{Operator: tier1(), Silencers: map[string]actions.Silencer{
		"am-a": alertmanager.NewSilencer(a.URL, nil), "am-b": alertmanager.NewSilencer(b.URL, nil)}})
	key := model.LabelsKey(model.LabelsFromMap(alertLabels), nil)
	res := do(t, d, model.ActionRequest{Verb: model.VerbCreateSilence, Service: "checkout", AlertKeys: []string{key},
		Comment: "x", Expiry: time.Hour, Silence: model.SilenceTarget{Matchers: `alertname="CheckoutDown"`}})
	require.Equal(t, model.ActionPending, res.State, res.Message)
	deliver(t, d)
	deliver(t, d)
	log, _ := c.AuditLog(time.Time{})
	marker := model.Marker(log[0].UID, key)
	ma, mb := marked(t, a.URL, marker), marked(t, b.URL, marker)
	require.Len(t, ma, 1)
	require.Len(t, mb, 1)
	assert.NotEqual(t, ma[0].ID, mb[0].ID)
	assert.Equal(t, ma[0].ID+","+mb[0].ID, log[0].Upstream)
}
