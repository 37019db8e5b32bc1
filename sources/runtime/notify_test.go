package runtime_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/cache"
	"sitroom/sources/actions"
	"sitroom/sources/runtime/bintest"
	"sitroom/sources/sourcetest"
	"sitroom/ui"
)

// The dashboard's notify form learns the teams' channels from the
// dispatcher main hands it.
var _ ui.TeamChannels = (*actions.Dispatcher)(nil)

// receiver is a loopback webhook that records each POST and answers
// with the status code status returns for the n-th request (1-based).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []string
	keys   []string
}

func newReceiver(t *testing.T, status func(n int) int) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.keys = append(r.keys, req.Header.Get("Idempotency-Key"))
		n := len(r.keys)
		code := http.StatusOK
		if status != nil {
			code = status(n)
		}
		if code < 300 {
			r.bodies = append(r.bodies, string(b))
		}
		r.mu.Unlock()
		w.WriteHeader(code)
		if code == http.StatusForbidden {
			_, _ = io.WriteString(w, "invalid_token")
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bodies...)
}

func (r *receiver) requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.keys)
}

// cascade starts a real Alertmanager with db-main, payments and checkout
// down, and returns the services part of a config mapping them into the
// chain db-main → payments → checkout, each owned by its team.
func cascade(t *testing.T) (amURL, services string) {
	t.Helper()
	am := sourcetest.StartAlertmanager(t)
	for _, svc := range []string{"db-main", "payments", "checkout"} {
		am.PostAlerts(t, sourcetest.PostableAlert{Labels: map[string]string{"alertname": svc + "-down", "severity": "critical", "service": svc}})
	}
	return am.URL, `
services:
  - {name: db-main, match: ['service="db-main"'], owner: team-data, runbook: "https://runbooks.example/db-main"}
  - {name: payments, match: ['service="payments"'], owner: team-payments, depends_on: [db-main]}
  - {name: checkout, match: ['service="checkout"'], owner: team-web, depends_on: [payments]}
`
}

// notifyDBMain is N on db-main as the UI sends it: every team the outage
// affects, the message prefilled.
func notifyDBMain(t *testing.T, ctx context.Context, d *actions.Dispatcher, snap *model.Snapshot) model.ActionResult {
	t.Helper()
	o := snap.Outage("db-main")
	require.NotNil(t, o, "db-main is down")
	teams := model.TeamsToTell(o, nil)
	require.Equal(t, []string{"team-data", "team-payments", "team-web"}, teams, "its own team, then the downstream teams")
	res, err := d.Do(ctx, model.ActionRequest{Verb: model.VerbNotify, Service: "db-main", Teams: teams,
		Comment: "db-main failing over", Notify: &model.NotifyMessage{Service: "db-main", Severity: o.Severity.Name(),
			Since: o.Since, Impacted: []string{"payments", "checkout"}, Runbook: o.Runbook, Text: "db-main failing over <!channel>"}})
	require.NoError(t, err)
	return res
}

// N on the cause of a real cascade tells its three teams through their
// four channels (Slack, Mattermost, a generic webhook, e-mail through a
// real SMTP relay), each once: delivering again, or from a second
// console reading the same cache, sends nothing more.
func TestNotifyCascadeTellsEachTeamOnce(t *testing.T) {
	amURL, services := cascade(t)
	slack, mm, hook := newReceiver(t, nil), newReceiver(t, nil), newReceiver(t, nil)
	mail := sourcetest.StartSMTP(t)
	port := mail.Port
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "slack.url"), []byte(slack.URL+"/services/T000/B000/planted-slack-token\n"), 0o600))
	cfgPath := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(fmt.Sprintf(`
sources: [{name: am, type: alertmanager, url: %q}]
%s
smtp: {host: 127.0.0.1, port: %d, from: sitroom@noc.example, tls: none}
teams:
  - name: team-data
    notify:
      - {type: slack, url_file: slack.url}
      - {type: email, to: [data-oncall@example.com]}
  - name: team-payments
    notify: [{type: webhook, url: %q}]
  - name: team-web
    notify: [{type: mattermost, url: %q}]
`, amURL, services, port, hook.URL+"/hook", mm.URL+"/hooks/planted-mm-key")), 0o600))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s := openRuntime(t, ctx, cfgPath, filepath.Join(dir, "cache.db"), filepath.Join(dir, "log"))
	snap, d := observedPoll(t, ctx, s)
	assert.Equal(t, map[string][]string{"team-data": {"slack", "email"}, "team-payments": {"webhook"}, "team-web": {"mattermost"}},
		d.TeamChannels())

	res := notifyDBMain(t, ctx, d, snap)
	require.Equal(t, model.ActionPending, res.State, res.Message)
	assert.Equal(t, "telling 3 teams about db-main through 4 channels", res.Message)
	require.Eventually(t, func() bool {
		_ = d.DeliverDue(ctx)
		return len(slack.got()) == 1 && len(mm.got()) == 1 && len(hook.got()) == 1 && mail.Count() == 1
	}, 20*time.Second, 50*time.Millisecond)

	// Again, and from another dispatcher on the same cache: nothing is due.
	require.NoError(t, d.DeliverDue(ctx))
	require.NoError(t, dispatcher(t, s).DeliverDue(ctx))
	assert.Len(t, slack.got(), 1)
	assert.Len(t, mm.got(), 1)
	assert.Len(t, hook.got(), 1)
	assert.Equal(t, 1, mail.Count(), mail.Output())

	assert.Contains(t, slack.got()[0], "db-main")
	assert.NotContains(t, slack.got()[0], "<!channel>", "a mention from the operator's text is inert in Slack")
	assert.Contains(t, hook.got()[0], `"service":"db-main"`)
	assert.Contains(t, mail.Output(), "db-main")
	assert.Contains(t, mail.Output(), "data-oncall@example.com")

	b, err := d.Board()
	require.NoError(t, err)
	for team, chans := range map[string][]string{"team-data": {"slack", "email"}, "team-payments": {"webhook"}, "team-web": {"mattermost"}} {
		n := b.NoticeOf("db-main", team)
		require.NotNil(t, n, team)
		assert.Equal(t, model.ActionDelivered, n.State, team)
		assert.Equal(t, chans, n.Channels, team)
		assert.True(t, n.Told(snap.Outage("db-main").Since), team)
	}
	// The channels' secrets stay out of the cache and the log.
	for _, f := range []string{"cache.db", "cache.db-wal", "log"} {
		raw, _ := os.ReadFile(filepath.Join(dir, f))
		assert.NotContains(t, string(raw), "planted-slack-token", f)
		assert.NotContains(t, string(raw), "planted-mm-key", f)
	}
}

// A channel answering 500 stays pending and is retried until it takes
// the message; one answering 403 fails for good, the reason on the board.
func TestNotifyRetries500AndFails403(t *testing.T) {
	amURL, services := cascade(t)
	flaky := newReceiver(t, func(n int) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	denied := newReceiver(t, func(int) int { return http.StatusForbidden })
	ok := newReceiver(t, nil)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(fmt.Sprintf(`
sources: [{name: am, type: alertmanager, url: %q}]
%s
teams:
  - name: team-data
    notify: [{type: webhook, url: %q}]
  - name: team-payments
    notify: [{type: slack, url: %q}]
  - name: team-web
    notify: [{type: webhook, url: %q}]
`, amURL, services, flaky.URL, denied.URL+"/services/T0/B0/planted-denied-token", ok.URL)), 0o600))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s := openRuntime(t, ctx, cfgPath, filepath.Join(dir, "cache.db"), filepath.Join(dir, "log"))
	snap, d := observedPoll(t, ctx, s)
	res := notifyDBMain(t, ctx, d, snap)
	require.Equal(t, model.ActionPending, res.State, res.Message)

	require.NoError(t, d.DeliverDue(ctx))
	b, err := d.Board()
	require.NoError(t, err)
	data := b.NoticeOf("db-main", "team-data")
	require.NotNil(t, data)
	assert.Equal(t, model.ActionPending, data.State, "a 500 is retried")
	assert.Contains(t, data.Error, "500")
	pay := b.NoticeOf("db-main", "team-payments")
	require.NotNil(t, pay)
	assert.Equal(t, model.ActionFailed, pay.State, "a 403 fails for good")
	assert.Contains(t, pay.Error, "403")
	assert.NotContains(t, pay.Error, "planted-denied-token", "the channel's secret URL is not in the reason")
	assert.Equal(t, model.ActionDelivered, b.NoticeOf("db-main", "team-web").State)

	// The outbox retries with back-off until the channel takes it.
	require.Eventually(t, func() bool {
		_ = d.DeliverDue(ctx)
		return len(flaky.got()) == 1
	}, 30*time.Second, 100*time.Millisecond)
	b, err = d.Board()
	require.NoError(t, err)
	assert.Equal(t, model.ActionDelivered, b.NoticeOf("db-main", "team-data").State)
	assert.Equal(t, 3, flaky.requests(), "two 500s, then delivered")
	assert.Equal(t, 1, denied.requests(), "a 403 is not tried again")
	keys := map[string]bool{}
	flaky.mu.Lock()
	for _, k := range flaky.keys {
		keys[k] = true
	}
	flaky.mu.Unlock()
	assert.Len(t, keys, 1, "every attempt carries the same idempotency key")
}

// kill -9 while a notification is in flight: the next start delivers the
// rest, and the message in flight, once its claim lapses, is sent again
// under the same idempotency key, so each channel sees one message.
func TestKillDuringNotifyDeliversEachOnce(t *testing.T) {
	amURL, services := cascade(t)
	type hit struct{ path, key string }
	var mu sync.Mutex
	var hits []hit
	held := make(chan struct{})
	var first sync.Once
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		mu.Lock()
		hits = append(hits, hit{r.URL.Path, r.Header.Get("Idempotency-Key")})
		n := len(hits)
		mu.Unlock()
		if n == 1 {
			// The channel takes the first message; its reply is lost
			// with the process.
			first.Do(func() { close(held) })
			<-r.Context().Done()
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	defer recv.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(`
sources: [{name: am, type: alertmanager, url: %q, interval: 1s}]
%s
teams:
  - name: team-data
    notify: [{type: slack, url: %q}, {type: webhook, url: %q}]
  - name: team-payments
    notify: [{type: webhook, url: %q}]
  - name: team-web
    notify: [{type: mattermost, url: %q}]
`, amURL, services, recv.URL+"/data-slack", recv.URL+"/data-hook", recv.URL+"/payments", recv.URL+"/web")), 0o600))
	db, logf := filepath.Join(dir, "cache.db"), filepath.Join(dir, "log")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s := openRuntime(t, ctx, cfg, db, logf)
	snap, d := observedPoll(t, ctx, s)
	res := notifyDBMain(t, ctx, d, snap)
	require.Equal(t, model.ActionPending, res.State, res.Message)
	s.Close()

	// The headless poller delivers the outbox; it is killed while the
	// first message is in flight.
	cmd := exec.Command(bintest.Binary(t), "poll", "--config", cfg, "--db", db, "--log-file", logf)
	require.NoError(t, cmd.Start())
	select {
	case <-held:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the poller never sent a notification")
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()

	count := func() (map[string]int, map[string]map[string]bool) {
		mu.Lock()
		defer mu.Unlock()
		n, keys := map[string]int{}, map[string]map[string]bool{}
		for _, h := range hits {
			n[h.path]++
			if keys[h.path] == nil {
				keys[h.path] = map[string]bool{}
			}
			keys[h.path][h.key] = true
		}
		return n, keys
	}

	// Restart: the three messages never tried go out; the one in flight
	// is still claimed by the dead process.
	code, out, errOut := bintest.Run(t, "poll", "--once", "--config", cfg, "--db", db, "--log-file", logf)
	require.Equal(t, 0, code, out+errOut)
	n, _ := count()
	require.Len(t, n, 4, "every channel was told: %v", n)
	for path, c := range n {
		assert.Equal(t, 1, c, path)
	}

	// The dead process's claim lapses (moved to now rather than waited
	// for) and the next start sends it again, under the same key.
	raw, err := sql.Open("sqlite3", "file:"+db+"?_busy_timeout=5000")
	require.NoError(t, err)
	upd, err := raw.Exec(`UPDATE outbox SET next_at = ? WHERE state = 'pending'`, time.Now().UnixNano())
	require.NoError(t, err)
	left, _ := upd.RowsAffected()
	require.NoError(t, raw.Close())
	assert.EqualValues(t, 1, left, "exactly the message in flight was left pending")
	code, out, errOut = bintest.Run(t, "poll", "--once", "--config", cfg, "--db", db, "--log-file", logf)
	require.Equal(t, 0, code, out+errOut)
	n, keys := count()
	total := 0
	for path, ks := range keys {
		assert.Len(t, ks, 1, "%s: one idempotency key, however often it was tried", path)
		total += n[path]
	}
	assert.Equal(t, 5, total, "the three untried messages once, the one in flight twice under one key")

	c, err := cache.Open(db)
	require.NoError(t, err)
	defer c.Close()
	b, err := c.Board(time.Now(), 0)
	require.NoError(t, err)
	for _, team := range []string{"team-data", "team-payments", "team-web"} {
		nt := b.NoticeOf("db-main", team)
		require.NotNil(t, nt, team)
		assert.Equal(t, model.ActionDelivered, nt.State, team)
	}
}
