package actions_test

import (
	"context"
	"encoding/json"
	"io"

	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
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

var alertLabels = map[string]string{"alertname": "CheckoutDown", "service": "checkout", "severity": "critical", "instance": "web-1"}

func openCache(t *testing.T, path string) *cache.Cache {
	t.Helper()
	c, err := cache.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// poll fetches an Alertmanager into the cache as source name, as the poller does.
func poll(t *testing.T, c *cache.Cache, name, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	alerts, err := alertmanager.New(name, url, nil, nil).Fetch(ctx)
	require.NoError(t, err)
	_, err = c.Ingest(name, alerts, cache.PollMeta{At: time.Now(), Type: "alertmanager"})
	require.NoError(t, err)
}

func snapshot(t *testing.T, c *cache.Cache) *model.Snapshot {
	t.Helper()
	rows, sts, err := c.Load()
	require.NoError(t, err)
	return model.BuildSnapshot(rows, sts, model.SnapshotOptions{Now: time.Now()})
}

func tier1() model.Operator {
	return model.Operator{User: "alice", Host: "jump1", SSHClient: "10.1.2.3 50000 22", Role: model.RoleTier1}
}

func listSilences(t *testing.T, url string) []alertmanager.Silence {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l, err := alertmanager.NewSilencer(url, nil).List(ctx)
	require.NoError(t, err)
	return l
}

func live(l []alertmanager.Silence) []alertmanager.Silence {
	var out []alertmanager.Silence
	for _, s := range l {
		if s.Live() {
			out = append(out, s)
		}
	}
	return out
}

func deliver(t *testing.T, d *actions.Dispatcher) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, d.DeliverDue(ctx))
}

func ackOutage(t *testing.T, d *actions.Dispatcher, snap *model.Snapshot, comment string) model.ActionResult {
	t.Helper()
	o := snap.Outage("checkout")
	require.NotNil(t, o, "checkout is an outage")
	d.Observe(snap)
	res, err := d.Do(context.Background(), model.ActionRequest{Verb: model.VerbAck, Service: "checkout", AlertKeys: o.Keys,
		Comment: comment, Expiry: 90 * time.Minute})
	require.NoError(t, err)
	return res
}

func TestAckSilenceUnackExpiresIt(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	am.PostAlerts(t, sourcetest.PostableAlert{Labels: alertLabels})
	c := openCache(t, filepath.Join(t.TempDir(), "c.db"))
	poll(t, c, "am-eu", am.URL)
	d := actions.New(c, actions.Options{Operator: tier1(), Silencers: map[string]actions.Silencer{"am-eu": alertmanager.NewSilencer(am.URL, nil)}})

	before := time.Now()
	res := ackOutage(t, d, snapshot(t, c), "db failover in progress")
	require.Equal(t, model.ActionPending, res.State, res.Message)
	assert.Contains(t, res.Message, "am-eu")

	// Audit first: the row is there before any delivery was attempted.
	log, err := c.AuditLog(time.Time{})
	require.NoError(t, err)
	require.Len(t, log, 1)
	assert.Equal(t, model.ActionPending, log[0].State)
	assert.Equal(t, "alice", log[0].Operator)
	assert.Equal(t, "jump1", log[0].Host)
	assert.Equal(t, "10.1.2.3 50000 22", log[0].SSHClient)
	assert.Empty(t, live(listSilences(t, am.URL)), "nothing upstream until the outbox delivers")

	deliver(t, d)
	sils := live(listSilences(t, am.URL))
	require.Len(t, sils, 1)
	s := sils[0]
	assert.Equal(t, "alice", s.CreatedBy)
	assert.True(t, strings.HasPrefix(s.Comment, "db failover in progress [sitroom action "), s.Comment)
	assert.Contains(t, s.Comment, model.Marker(log[0].UID, model.LabelsKey(model.LabelsFromMap(alertLabels), nil)))
	assert.WithinDuration(t, before.Add(90*time.Minute), s.EndsAt, 10*time.Second)
	got := map[string]string{}
	for _, m := range s.Matchers {
		assert.True(t, m.IsEqual)
		assert.False(t, m.IsRegex)
		got[m.Name] = m.Value
	}
	assert.Equal(t, alertLabels, got, "equality matchers on every label of the alert")
	log, _ = c.AuditLog(time.Time{})
	assert.Equal(t, model.ActionDelivered, log[0].State)
	assert.Equal(t, s.ID, log[0].Upstream)

	// The alert now reads as silenced upstream; the ack is in force.
	poll(t, c, "am-eu", am.URL)
	b, err := d.Board()
	require.NoError(t, err)
	require.NotNil(t, b.AckOf("checkout"))

	res, err = d.Do(context.Background(), model.ActionRequest{Verb: model.VerbUnack, Service: "checkout"})
	require.NoError(t, err)
	assert.Contains(t, res.Message, "expiring")
	deliver(t, d)
	assert.Empty(t, live(listSilences(t, am.URL)), "un-ack expires the silence")
	b, _ = d.Board()
	assert.Nil(t, b.AckOf("checkout"))
}

// flaky is a reverse proxy in front of a real Alertmanager that can refuse
// connections (the Alertmanager is down) or lose the reply of the next
// silence POST after the Alertmanager has made it.
type flaky struct {
	srv       *httptest.Server
	down      atomic.Bool
	loseReply atomic.Bool
	posts     atomic.Int32
	status    atomic.Int32 // when set, every request gets this status
}

func newFlaky(t *testing.T, target string) *flaky {
	u, err := url.Parse(target)
	require.NoError(t, err)
	f := &flaky{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.down.Load() {
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
			return
		}
		if code := int(f.status.Load()); code != 0 {
			http.Error(w, "refused by the proxy in front", code)
			return
		}
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/silences") {
			f.posts.Add(1)
			if f.loseReply.CompareAndSwap(true, false) {
				rec := httptest.NewRecorder()
				proxy.ServeHTTP(rec, r)
				hj, _ := w.(http.Hijacker)
				conn, _, _ := hj.Hijack()
				conn.Close()
				return
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func TestAMDownDuringAckDeliveredOnceAfterItReturnsAndARestart(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	am.PostAlerts(t, sourcetest.PostableAlert{Labels: alertLabels})
	path := filepath.Join(t.TempDir(), "c.db")
	c, err := cache.Open(path)
	require.NoError(t, err)
	poll(t, c, "am-eu", am.URL)
	px := newFlaky(t, am.URL)
	opts := actions.Options{Operator: tier1(), MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
		Silencers: map[string]actions.Silencer{"am-eu": alertmanager.NewSilencer(px.srv.URL, nil)}}
	d := actions.New(c, opts)

	px.down.Store(true)
	ackOutage(t, d, snapshot(t, c), "ack while the AM is down")
	for range 3 {
		deliver(t, d)
		time.Sleep(10 * time.Millisecond)
	}
	b, err := d.Board()
	require.NoError(t, err)
	assert.Equal(t, 1, b.Deliveries["checkout"].Pending, "the row shows the silence as pending")
	assert.NotEmpty(t, b.Deliveries["checkout"].Error)
	log, _ := c.AuditLog(time.Time{})
	assert.Equal(t, model.ActionPending, log[0].State)

	// sitroom restarts while the AM is still down: the outbox is on disk.
	require.NoError(t, c.Close())
	c2 := openCache(t, path)
	d2 := actions.New(c2, opts)

	// The AM comes back, and the first POST's reply is lost after the AM
	// made the silence: the retry must find it, not make a second.
	px.down.Store(false)
	px.loseReply.Store(true)
	deliver(t, d2)
	time.Sleep(10 * time.Millisecond)
	deliver(t, d2)
	sils := live(listSilences(t, am.URL))
	require.Len(t, sils, 1, "exactly one silence")
	assert.EqualValues(t, 1, px.posts.Load(), "the retry found the silence by its marker instead of posting again")
	log, _ = c2.AuditLog(time.Time{})
	assert.Equal(t, model.ActionDelivered, log[0].State)
	assert.Equal(t, sils[0].ID, log[0].Upstream)
	deliver(t, d2)
	assert.Len(t, live(listSilences(t, am.URL)), 1)
}

// A silence the Alertmanager refuses is kept or given up according to the
// status: a 401 (credentials that can be fixed) stays pending, worded, and
// goes out once the credentials work; a 403 will not pass by retrying and
// is marked failed in the audit log with the reason.
func TestRefusedSilenceRetriedOrFailedByStatus(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	am.PostAlerts(t, sourcetest.PostableAlert{Labels: alertLabels})
	c := openCache(t, filepath.Join(t.TempDir(), "c.db"))
	poll(t, c, "am-eu", am.URL)
	px := newFlaky(t, am.URL)
	d := actions.New(c, actions.Options{Operator: tier1(), MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond,
		Silencers: map[string]actions.Silencer{"am-eu": alertmanager.NewSilencer(px.srv.URL, nil)}})

	px.status.Store(http.StatusUnauthorized)
	ackOutage(t, d, snapshot(t, c), "ack with a stale token")
	for range 3 {
		deliver(t, d)
		time.Sleep(5 * time.Millisecond)
	}
	b, err := d.Board()
	require.NoError(t, err)
	assert.Equal(t, 1, b.Deliveries["checkout"].Pending, "a 401 is retried")
	assert.Contains(t, b.Deliveries["checkout"].Error, "HTTP 401 Unauthorized: refused by the proxy in front")
	px.status.Store(0)
	deliver(t, d)
	log, _ := c.AuditLog(time.Time{})
	assert.Equal(t, model.ActionDelivered, log[0].State)
	assert.Len(t, live(listSilences(t, am.URL)), 1)

	px.status.Store(http.StatusForbidden)
	res, err := d.Do(context.Background(), model.ActionRequest{Verb: model.VerbUnack, Service: "checkout", Comment: "not ours"})
	require.NoError(t, err)
	deliver(t, d)
	ds, err := c.Deliveries(res.ID)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, model.ActionFailed, ds[0].State, "a 403 is not retried")
	assert.Contains(t, ds[0].Error, "HTTP 403 Forbidden")
	assert.Equal(t, 1, ds[0].Attempts)
}

func TestHAPairGetsTheSilenceOnEachMember(t *testing.T) {
	a := sourcetest.StartAlertmanager(t)
	b := sourcetest.StartAlertmanager(t)
	a.PostAlerts(t, sourcetest.PostableAlert{Labels: alertLabels})
	b.PostAlerts(t, sourcetest.PostableAlert{Labels: alertLabels})
	other := map[string]string{"alertname": "CheckoutSlow", "service": "checkout", "severity": "critical"}
	a.PostAlerts(t, sourcetest.PostableAlert{Labels: other}) // held by one member only
	c := openCache(t, filepath.Join(t.TempDir(), "c.db"))
	poll(t, c, "am-a", a.URL)
	poll(t, c, "am-b", b.URL)
	d := actions.New(c, actions.Options{Operator: tier1(), Silencers: map[string]actions.Silencer{
		"am-a": alertmanager.NewSilencer(a.URL, nil), "am-b": alertmanager.NewSilencer(b.URL, nil)}})
	snap := snapshot(t, c)
	require.Equal(t, 2, snap.Outage("checkout").Alerts)
	res := ackOutage(t, d, snap, "on it")
	assert.Contains(t, res.Message, "3 silences queued for am-a, am-b")
	deliver(t, d)
	deliver(t, d)
	assert.Len(t, live(listSilences(t, a.URL)), 2, "am-a holds both alerts")
	sb := live(listSilences(t, b.URL))
	require.Len(t, sb, 1, "am-b holds one")
	assert.Contains(t, sb[0].Comment, model.Marker("", "")[:len("[sitroom action ")])
}

func TestOutageResolveClearsTheAckAndExpiresItsSilence(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	ends := time.Now().Add(4 * time.Second)
	// Another alert keeps the reply from being empty (an empty reply from a
	// source that had alerts is held as suspect, see cache.EmptyHold).
	am.PostAlerts(t, sourcetest.PostableAlert{Labels: alertLabels, EndsAt: ends},
		sourcetest.PostableAlert{Labels: map[string]string{"alertname": "Watchdog", "severity": "none"}})
	c := openCache(t, filepath.Join(t.TempDir(), "c.db"))
	poll(t, c, "am-eu", am.URL)
	d := actions.New(c, actions.Options{Operator: tier1(), WatchEvery: 20 * time.Millisecond,
		Silencers: map[string]actions.Silencer{"am-eu": alertmanager.NewSilencer(am.URL, nil)}})
	ackOutage(t, d, snapshot(t, c), "watching")
	deliver(t, d)
	require.Len(t, live(listSilences(t, am.URL)), 1)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { d.Run(ctx) })
	defer wg.Wait()
	defer cancel()
	// The alert resolves upstream; two polls without it resolve it here.
	sourcetest.Eventually(t, 15*time.Second, 200*time.Millisecond, func() error {
		poll(t, c, "am-eu", am.URL)
		d.Observe(snapshot(t, c))
		if n := len(live(listSilences(t, am.URL))); n != 0 {
			return errString("silences still live")
		}
		return nil
	})
	b, err := d.Board()
	require.NoError(t, err)
	assert.Nil(t, b.AckOf("checkout"))
	assert.Nil(t, b.Lapsed["checkout"])
	log, _ := c.AuditLog(time.Time{})
	require.Len(t, log, 2)
	assert.Equal(t, model.VerbClear, log[1].Verb)
	assert.Equal(t, "sitroom", log[1].Operator)
	assert.Contains(t, log[1].Comment, "outage resolved")
}

type errString string

func (e errString) Error() string { return string(e) }

func TestAckInOneProcessShowsInAnotherWithinOneRefresh(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	c1 := openCache(t, path)
	c2 := openCache(t, path)
	labels := map[string]string{"alertname": "X", "service": "checkout", "severity": "critical"}
	_, err := c1.Ingest("am", []model.Alert{{Key: model.LabelsKey(model.LabelsFromMap(labels), nil), Labels: model.LabelsFromMap(labels), State: model.StateFiring}},
		cache.PollMeta{At: time.Now(), Type: "alertmanager"})
	require.NoError(t, err)
	d1 := actions.New(c1, actions.Options{Operator: tier1()})
	d2 := actions.New(c2, actions.Options{Operator: model.Operator{User: "bob", Role: model.RoleTier1}, WatchEvery: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { d2.Run(ctx) })
	defer wg.Wait()
	defer cancel()
	first := <-d2.Boards()
	require.Nil(t, first.AckOf("checkout"))

	ackOutage(t, d1, snapshot(t, c1), "mine")
	select {
	case b := <-d2.Boards():
		require.NotNil(t, b.AckOf("checkout"), "the other process sees the ack on its next refresh")
		assert.Equal(t, "alice", b.AckOf("checkout").By)
	case <-time.After(5 * time.Second):
		t.Fatal("the other process never published the ack")
	}
}

func TestRoleMatrixAndReadOnlyRefusalsAudited(t *testing.T) {
	levels := []model.EscalationLevel{{Level: 1, Who: "NOC"}, {Level: 2, Who: "owner", After: 15 * time.Minute},
		{Level: 3, Who: "commander", After: 30 * time.Minute, MinRole: model.RoleLead}}
	type want struct{ ack, esc2, esc3, note string }
	cases := []struct {
		role     model.Role
		readOnly bool
		want     want
	}{
		{model.RoleViewer, false, want{"role viewer cannot acknowledge", "role viewer cannot escalate", "role viewer cannot escalate", "role viewer cannot write notes"}},
		{model.RoleTier1, false, want{"", "", "role tier1 cannot escalate to level 3 (needs lead)", ""}},
		{model.RoleTier2, false, want{"", "", "role tier2 cannot escalate to level 3 (needs lead)", ""}},
		{model.RoleLead, false, want{"", "", "", ""}},
		{model.RoleLead, true, want{"read-only console", "read-only console", "read-only console", "read-only console"}},
	}
	for _, tc := range cases {
		name := tc.role.String()
		if tc.readOnly {
			name += "-read-only"
		}
		t.Run(name, func(t *testing.T) {
			c := openCache(t, filepath.Join(t.TempDir(), "c.db"))
			d := actions.New(c, actions.Options{Operator: model.Operator{User: "op", Role: tc.role},
				Policy: &model.Policy{Levels: levels, ReadOnly: tc.readOnly}})
			reqs := []struct {
				req  model.ActionRequest
				want string
			}{
				{model.ActionRequest{Verb: model.VerbAck, Service: "checkout", AlertKeys: []string{"k"}, Comment: "c"}, tc.want.ack},
				{model.ActionRequest{Verb: model.VerbEscalate, Service: "checkout", Level: 2, Comment: "c"}, tc.want.esc2},
				{model.ActionRequest{Verb: model.VerbEscalate, Service: "checkout", Level: 3, Comment: "c"}, tc.want.esc3},
				{model.ActionRequest{Verb: model.VerbNote, Comment: "handover"}, tc.want.note},
			}
			for _, r := range reqs {
				assert.Equal(t, r.want, d.Check(r.req), "%s level %d", r.req.Verb, r.req.Level)
				res, err := d.Do(context.Background(), r.req)
				require.NoError(t, err)
				log, err := c.AuditLog(time.Time{})
				require.NoError(t, err)
				last := log[len(log)-1]
				assert.Equal(t, res.ID, last.ID, "every request, allowed or not, is audited")
				if r.want != "" {
					assert.Equal(t, model.ActionRefused, res.State)
					assert.Equal(t, r.want, res.Message)
					assert.Equal(t, model.ActionRefused, last.State)
					assert.Equal(t, r.want, last.Reason, "the refusal's reason is in the audit log")
				} else {
					assert.NotEqual(t, model.ActionRefused, last.State, res.Message)
				}
			}
		})
	}
}

func TestRoleFromUsersAndGroups(t *testing.T) {
	p := &model.Policy{Roles: map[string]model.Role{"lee": model.RoleLead, "@noc": model.RoleTier1, "@noc-t2": model.RoleTier2}}
	assert.Equal(t, model.RoleLead, p.RoleFor("lee", []string{"noc"}))
	assert.Equal(t, model.RoleTier2, p.RoleFor("kim", []string{"noc", "noc-t2"}), "the highest group role")
	assert.Equal(t, model.RoleViewer, p.RoleFor("guest", []string{"users"}), "unmapped operators are viewers once roles are configured")
	assert.Equal(t, model.RoleTier1, (&model.Policy{}).RoleFor("anyone", nil), "with no roles configured everyone is tier1")
}

func TestWebhookDeliveredWithRetries(t *testing.T) {
	var mu sync.Mutex
	var bodies [][]byte
	var keys []string
	var calls atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, b)
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		mu.Unlock()
		if n <= 2 {
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer recv.Close()
	pd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer pd.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad routing key", http.StatusBadRequest)
	}))
	defer bad.Close()

	c := openCache(t, filepath.Join(t.TempDir(), "c.db"))
	levels := []model.EscalationLevel{{Level: 1, Who: "NOC"}, {Level: 2, Who: "owner on-call", Contact: "+44 20 7946 0000"}}
	d := actions.New(c, actions.Options{Operator: tier1(), Policy: &model.Policy{Levels: levels},
		MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond,
		Webhooks: []actions.Webhook{{Name: "generic", URL: recv.URL}, {Name: "pd", URL: pd.URL, Format: actions.FormatPagerDuty, RoutingKey: "R0UTINGKEY-SECRET"},
			{Name: "bad", URL: bad.URL}}})
	res, err := d.Do(context.Background(), model.ActionRequest{Verb: model.VerbEscalate, Service: "checkout", Level: 2,
		AlertKeys: []string{"k1", "k2"}, Comment: "db failover failed"})
	require.NoError(t, err)
	assert.Equal(t, "escalated checkout to level 2: owner on-call (+44 20 7946 0000)", res.Message)
	for range 5 {
		deliver(t, d)
		time.Sleep(5 * time.Millisecond)
	}
	assert.EqualValues(t, 3, calls.Load(), "two 503s, then delivered, then never again")
	ds, err := c.Deliveries(res.ID)
	require.NoError(t, err)
	require.Len(t, ds, 3)
	assert.Equal(t, model.ActionDelivered, ds[0].State)
	assert.Equal(t, 3, ds[0].Attempts)
	assert.Equal(t, model.ActionDelivered, ds[1].State)
	assert.Equal(t, model.ActionFailed, ds[2].State, "a 400 is not retried")
	assert.Contains(t, ds[2].Error, "bad routing key")
	for _, dl := range ds {
		assert.NotContains(t, dl.Payload, "R0UTINGKEY", "the routing key never reaches the cache")
	}
	log, _ := c.AuditLog(time.Time{})
	assert.Equal(t, model.ActionFailed, log[0].State)

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, keys[0], keys[2], "retries carry the same idempotency key")
	var ev actions.EscalationEvent
	require.NoError(t, json.Unmarshal(bodies[2], &ev))
	assert.Equal(t, "escalate", ev.Event)
	assert.Equal(t, "checkout", ev.Service)
	assert.Equal(t, 2, ev.Level)
	assert.Equal(t, "owner on-call", ev.Who)
	assert.Equal(t, "db failover failed", ev.Comment)
	assert.Equal(t, "alice", ev.Operator)
	assert.Equal(t, 2, ev.Alerts)
	assert.Equal(t, log[0].UID, ev.ActionID)
	var pdBody map[string]any
	for _, b := range bodies {
		if strings.Contains(string(b), "routing_key") {
			require.NoError(t, json.Unmarshal(b, &pdBody))
		}
	}
	require.NotNil(t, pdBody, "the PagerDuty receiver got an event")
	assert.Equal(t, "R0UTINGKEY-SECRET", pdBody["routing_key"])
	assert.Equal(t, "trigger", pdBody["event_action"])
	p := pdBody["payload"].(map[string]any)
	assert.Equal(t, "checkout", p["component"])
	assert.Contains(t, p["summary"], "level 2")
	assert.Contains(t, []any{"critical", "error", "warning", "info"}, p["severity"])
}
