package runtime_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/teamstore"
	"sitroom/model/teamstore/pgtest"
	"sitroom/sources/alertmanager"
	"sitroom/sources/runtime"
	"sitroom/sources/runtime/bintest"
	"sitroom/sources/sourcetest"
)

// The team's outbox: a console hands the deliveries it could not make at
// once to the team, the team lease holder makes them from the store, once
// whatever the number of consoles, and another takes over when it dies.

// teamOutboxConfig is a team's config: one Alertmanager, the checkout and
// payments services, escalation levels, a webhook (when hook is not "")
// and the team store.
func teamOutboxConfig(am, hook string, pg *pgtest.Server) string {
	body := fmt.Sprintf(`sources:
  - {name: am, type: alertmanager, url: '%s', interval: 1s}
services:
  - {name: checkout, match: ['service="checkout"']}
  - {name: payments, match: ['service="payments"']}
  - {name: web, match: ['service="web"']}
escalation:
  - {level: 1, who: NOC tier 1, after: 0m}
team: {postgres: '%s', password_file: '%s'}
`, am, pg.URL, pg.PasswordFile)
	if hook != "" {
		body += fmt.Sprintf("webhooks:\n  - {name: pager, url: '%s'}\n", hook)
	}
	return body
}

// teamStoreOf opens the team store as a test reads it.
func teamStoreOf(t *testing.T, pg *pgtest.Server) *teamstore.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := teamstore.Open(ctx, teamstore.Options{URL: pg.URL, PasswordFile: pg.PasswordFile, Host: "test"})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// teamReady waits until every console has the outage of service and the
// team store, and one of them holds the team lease; it returns that one.
func teamReady(t *testing.T, service string, cs ...*console) *console {
	t.Helper()
	teamUp(t, service, cs...)
	var leader *console
	require.Eventually(t, func() bool {
		for _, c := range cs {
			if c.rt.Team.Leader() {
				leader = c
				return true
			}
		}
		return false
	}, 10*time.Second, 20*time.Millisecond, "a console holds the team lease")
	return leader
}

// teamUp waits until every console has the outage of service and the
// team store.
func teamUp(t *testing.T, service string, cs ...*console) {
	t.Helper()
	for _, c := range cs {
		c.waitFor(t, 20*time.Second, "the "+service+" outage", func(s *model.Snapshot) bool { return s.Outage(service) != nil })
		require.Eventually(t, func() bool { return boardOf(t, c).Team.OK }, 10*time.Second, 20*time.Millisecond, "team ok")
	}
}

// failingSilences is a proxy to an Alertmanager that answers 503 to every
// silence POST while failing is set (a flapping Alertmanager): the
// acking console's first attempt fails, so the delivery is left to the
// team.
type failingSilences struct {
	srv     *httptest.Server
	failing atomic.Bool
	refused atomic.Int32
}

func newFailingSilences(t *testing.T, target string) *failingSilences {
	u, err := url.Parse(target)
	require.NoError(t, err)
	p := &failingSilences{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/api/v2/silences" && p.failing.Load() {
			p.refused.Add(1)
			http.Error(w, "flapping", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// liveSilences counts the Alertmanager's live silences carrying the
// marker of each alert of the action uid.
func liveSilences(t *testing.T, am, uid string, keys []string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l, err := alertmanager.NewSilencer(am, nil).List(ctx)
	require.NoError(t, err)
	n := map[string]int{}
	for _, k := range keys {
		for _, s := range l {
			if s.Live() && strings.Contains(s.Comment, model.Marker(uid, k)) {
				n[k]++
			}
		}
	}
	return n
}

// uidOf is the uid of the last action of verb on service in c's cache.
func uidOf(t *testing.T, c *console, verb model.Verb, service string) string {
	t.Helper()
	log, err := c.rt.Cache.AuditLog(time.Time{})
	require.NoError(t, err)
	uid := ""
	for _, e := range log {
		if e.Verb == verb && e.Service == service && e.State != model.ActionRefused {
			uid = e.UID
		}
	}
	require.NotEmpty(t, uid, "%s on %s", verb, service)
	return uid
}

// delivered reports whether the action uid is delivered on c's board: no
// delivery of service pending and its audit row delivered.
func deliveredOn(t *testing.T, c *console, service, uid string) bool {
	t.Helper()
	if boardOf(t, c).Deliveries[service].Pending > 0 {
		return false
	}
	log, err := c.rt.Cache.AuditLog(time.Time{})
	require.NoError(t, err)
	for _, e := range log {
		if e.UID == uid {
			return e.State == model.ActionDelivered
		}
	}
	return false
}

// logSays reports whether c's log file has a line with every one of want.
func logSays(t *testing.T, path string, want ...string) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		all := true
		for _, w := range want {
			all = all && strings.Contains(line, w)
		}
		if all {
			return true
		}
	}
	return false
}

// Two consoles on a real Alertmanager whose silence POSTs fail at first:
// an ack on either console makes exactly one silence per alert, made by
// the team lease holder from the store once the Alertmanager answers, and
// both boards show it delivered.
func TestTeamAckMakesOneSilencePerAlertWhicheverConsoleHoldsTheLease(t *testing.T) {
	pg := pgtest.Start(t)
	am := sourcetest.StartAlertmanager(t)
	am.PostAlerts(t,
		sourcetest.PostableAlert{Labels: map[string]string{"alertname": "CheckoutDown", "severity": "critical", "service": "checkout", "pod": "a"}},
		sourcetest.PostableAlert{Labels: map[string]string{"alertname": "CheckoutDown", "severity": "critical", "service": "checkout", "pod": "b"}},
		sourcetest.PostableAlert{Labels: map[string]string{"alertname": "PayErrors", "severity": "critical", "service": "payments"}})
	proxy := newFailingSilences(t, am.URL)
	body := teamOutboxConfig(proxy.srv.URL, "", pg)
	a, b := startConsole(t, body), startConsole(t, body)
	leader := teamReady(t, "checkout", a, b)
	other := a
	if leader == a {
		other = b
	}
	teamUp(t, "payments", a, b)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// The ack on the console without the lease, then one on the holder.
	for _, step := range []struct {
		on      *console
		service string
	}{{other, "checkout"}, {leader, "payments"}} {
		proxy.failing.Store(true)
		before := proxy.refused.Load()
		o := step.on.snapshot().Outage(step.service)
		require.NotNil(t, o)
		res, err := step.on.d.Do(ctx, model.ActionRequest{Verb: model.VerbAck, Service: step.service, AlertKeys: o.Keys, Comment: "on it"})
		require.NoError(t, err)
		require.Equal(t, model.ActionPending, res.State, res.Message)
		uid := uidOf(t, step.on, model.VerbAck, step.service)
		require.Eventually(t, func() bool { return proxy.refused.Load() > before }, 10*time.Second, 10*time.Millisecond,
			"the acking console's own attempt fails")
		// Handed to the team: on the store, pending.
		s := teamStoreOf(t, pg)
		require.Eventually(t, func() bool {
			ds, err := s.Deliveries(ctx, uid)
			return err == nil && len(ds) == len(o.Keys)
		}, 10*time.Second, 20*time.Millisecond, "the ack's silences in the team store")
		proxy.failing.Store(false)

		for _, c := range []*console{a, b} {
			require.Eventually(t, func() bool { return deliveredOn(t, c, step.service, uid) }, 15*time.Second, 20*time.Millisecond,
				"the ack of %s delivered on both boards", step.service)
		}
		want := map[string]int{}
		for _, k := range o.Keys {
			want[k] = 1
		}
		assert.Equal(t, want, liveSilences(t, am.URL, uid, o.Keys), "one silence per alert of %s", step.service)
		assert.True(t, logSays(t, leader.opts.LogFile, "msg=delivered", uid), "made by the lease holder from the store")
		if step.on != leader {
			assert.False(t, logSays(t, step.on.opts.LogFile, "msg=delivered", uid), "not by the console that handed them over")
		}
		ds, err := s.Deliveries(ctx, uid)
		require.NoError(t, err)
		for _, d := range ds {
			assert.Equal(t, model.ActionDelivered, d.State, d.Key)
		}
	}
	// A while later, still one each: nothing goes out twice.
	time.Sleep(2 * time.Second)
	for _, svc := range []string{"checkout", "payments"} {
		o := a.snapshot().Outage(svc)
		uid := uidOf(t, a, model.VerbAck, svc)
		for k, n := range liveSilences(t, am.URL, uid, o.Keys) {
			assert.Equal(t, 1, n, "%s %s", svc, k)
		}
	}
}

// hookReceiver is an escalation webhook: the first POST fails (503), the
// second is held until its sender goes away, the next are accepted. It
// counts what it accepted and keeps every POST's Idempotency-Key.
type hookReceiver struct {
	srv      *httptest.Server
	calls    atomic.Int32
	accepted atomic.Int32
	held     chan struct{}
	mu       sync.Mutex
	keys     []string
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{held: make(chan struct{})}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		h.mu.Lock()
		h.keys = append(h.keys, r.Header.Get("Idempotency-Key"))
		h.mu.Unlock()
		switch h.calls.Add(1) {
		case 1:
			http.Error(w, "busy", http.StatusServiceUnavailable)
		case 2:
			close(h.held)
			<-r.Context().Done() // the sender died: nothing was accepted
		default:
			h.accepted.Add(1)
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// kill -9 of the team lease holder (a headless `sitroom poll`) while it
// makes a delivery of the team's outbox: another console takes the lease
// within TeamLeaseTTL and makes the delivery once the dead holder's claim
// has lapsed; the webhook accepts it once, every attempt with the same
// Idempotency-Key.
func TestTeamLeaseHolderKilledMidDeliveryIsTakenOver(t *testing.T) {
	pg := pgtest.Start(t)
	am, _ := fixedAlertmanager(t)
	hook := newHookReceiver(t)
	body := teamOutboxConfig(am.URL, hook.srv.URL, pg)
	s := teamStoreOf(t, pg)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	// The lease holder: the headless poller, started first.
	dir := t.TempDir()
	cmd := exec.Command(bintest.Binary(t), "poll", "--config", writeConfig(t, body), "--db", filepath.Join(dir, "cache.db"),
		"--log-file", filepath.Join(dir, "log"))
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
	pollHolder := fmt.Sprintf(":%d", cmd.Process.Pid)
	require.Eventually(t, func() bool {
		h, _, err := s.LeaseHolder(ctx)
		return err == nil && strings.HasSuffix(h, pollHolder)
	}, 20*time.Second, 50*time.Millisecond, "the poller holds the team lease")

	b := startConsole(t, body)
	teamUp(t, "checkout", b)
	require.False(t, b.rt.Team.Leader())
	res, err := b.d.Do(ctx, model.ActionRequest{Verb: model.VerbEscalate, Service: "checkout", Level: 1, Comment: "paging"})
	require.NoError(t, err)
	require.Equal(t, model.ActionPending, res.State, res.Message)
	uid := uidOf(t, b, model.VerbEscalate, "checkout")

	// B's own attempt fails; handed to the team, the poller claims it
	// and its POST is held.
	select {
	case <-hook.held:
	case <-time.After(20 * time.Second):
		t.Fatal("the lease holder never posted the escalation")
	}
	claimedAt := time.Now()
	mine, err := b.rt.Cache.DueDeliveries(time.Now().Add(time.Hour), 10)
	require.NoError(t, err)
	assert.Empty(t, mine, "B handed its delivery to the team: the POST held is the lease holder's")
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	<-exited
	killed := time.Now()

	require.Eventually(t, func() bool { return b.rt.Team.Leader() }, runtime.TeamLeaseTTL+runtime.TeamLeaseTTL/4+2*time.Second,
		50*time.Millisecond, "B takes the team lease")
	t.Logf("B holds the lease %s after the kill", time.Since(killed).Round(10*time.Millisecond))
	require.Eventually(t, func() bool { return deliveredOn(t, b, "checkout", uid) }, 30*time.Second, 50*time.Millisecond,
		"B makes the delivery")
	took := time.Since(claimedAt)
	t.Logf("delivered by B %s after the dead holder's claim", took.Round(10*time.Millisecond))
	assert.GreaterOrEqual(t, took, runtime.ClaimHold(10*time.Second)-time.Second, "not before the dead holder's claim lapsed")
	time.Sleep(time.Second)
	assert.EqualValues(t, 1, hook.accepted.Load(), "accepted once")
	assert.EqualValues(t, 3, hook.calls.Load(), "B's failed try, the dead holder's, B's as the holder")
	hook.mu.Lock()
	assert.Equal(t, []string{uid + "/pager", uid + "/pager", uid + "/pager"}, hook.keys, "one Idempotency-Key for every attempt")
	hook.mu.Unlock()
	ds, err := s.Deliveries(ctx, uid)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, model.ActionDelivered, ds[0].State)
}

// A console cut off from the team store delivers its actions itself, as
// without a team; once the store is back, what it made goes up as made
// and nothing goes out again.
func TestTeamStoreDownTheConsoleDeliversItselfOnce(t *testing.T) {
	pg := pgtest.Start(t)
	am, _ := fixedAlertmanager(t)
	var accepted atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		accepted.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(hook.Close)
	body := teamOutboxConfig(am.URL, hook.URL, pg)
	a, b := startConsole(t, body), startConsole(t, body)
	teamReady(t, "checkout", a, b)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	pg.Stop()
	require.Eventually(t, func() bool { return !boardOf(t, a).Team.OK }, 15*time.Second, 20*time.Millisecond, "A sees the store down")
	res, err := a.d.Do(ctx, model.ActionRequest{Verb: model.VerbEscalate, Service: "checkout", Level: 1, Comment: "cut off"})
	require.NoError(t, err)
	require.Equal(t, model.ActionPending, res.State, res.Message)
	uid := uidOf(t, a, model.VerbEscalate, "checkout")
	require.Eventually(t, func() bool { return deliveredOn(t, a, "checkout", uid) }, 10*time.Second, 20*time.Millisecond,
		"A delivers it itself")
	assert.EqualValues(t, 1, accepted.Load())

	pg.Restart(t)
	require.Eventually(t, func() bool { return deliveredOn(t, b, "checkout", uid) }, 20*time.Second, 50*time.Millisecond,
		"on B, delivered, once the store is back")
	require.Eventually(t, func() bool {
		return boardOf(t, a).Team.OK && boardOf(t, b).Team.OK && (a.rt.Team.Leader() || b.rt.Team.Leader())
	}, 20*time.Second, 50*time.Millisecond, "a lease holder again")
	time.Sleep(2 * time.Second) // the holder's claims, several times over
	assert.EqualValues(t, 1, accepted.Load(), "nothing delivered again")
	ds, err := teamStoreOf(t, pg).Deliveries(ctx, uid)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, model.ActionDelivered, ds[0].State)
	assert.Equal(t, 1, ds[0].Attempts)
}

// With two consoles of a team watching an outage resolve, the ack is
// cleared once, by the console holding the team lease: one clear action
// in the team's audit log, even when the other console sees the outage
// resolved first (it polls more often here).
func TestTeamClearsAResolvedOutagesAckOnce(t *testing.T) {
	pg := pgtest.Start(t)
	am := sourcetest.StartAlertmanager(t)
	checkout := sourcetest.PostableAlert{Labels: map[string]string{"alertname": "CheckoutDown", "severity": "critical", "service": "checkout"}}
	web := sourcetest.PostableAlert{Labels: map[string]string{"alertname": "WebSlow", "severity": "warning", "service": "web"}}
	am.PostAlerts(t, checkout, web)
	body := teamOutboxConfig(am.URL, "", pg)
	a := startConsole(t, strings.Replace(body, "interval: 1s", "interval: 3s", 1))
	teamReady(t, "checkout", a)
	b := startConsole(t, body)
	require.Equal(t, a, teamReady(t, "checkout", a, b), "A, first, holds the lease")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o := b.snapshot().Outage("checkout")
	res, err := b.d.Do(ctx, model.ActionRequest{Verb: model.VerbAck, Service: "checkout", AlertKeys: o.Keys, Comment: "on it"})
	require.NoError(t, err)
	require.Equal(t, model.ActionPending, res.State, res.Message)
	for _, c := range []*console{a, b} {
		require.Eventually(t, func() bool { return boardOf(t, c).AckOf("checkout") != nil }, 10*time.Second, 20*time.Millisecond)
	}

	checkout.EndsAt = time.Now().Add(-time.Second)
	am.PostAlerts(t, checkout)
	b.waitFor(t, 20*time.Second, "checkout resolved on B", func(s *model.Snapshot) bool { return s.Outage("checkout") == nil })
	for _, c := range []*console{a, b} {
		require.Eventually(t, func() bool { return boardOf(t, c).AckOf("checkout") == nil }, 20*time.Second, 20*time.Millisecond,
			"the ack cleared on both")
	}
	time.Sleep(2 * time.Second) // both have seen the outage resolved for a few polls
	log, err := teamStoreOf(t, pg).AuditLog(ctx, time.Now().Add(-time.Hour))
	require.NoError(t, err)
	var clears []string
	for _, e := range log {
		if e.Verb == model.VerbClear && e.Service == "checkout" {
			clears = append(clears, e.Operator+": "+e.Comment)
		}
	}
	assert.Len(t, clears, 1, "one clear in the team's audit: %v", clears)
	assert.True(t, logSays(t, a.opts.LogFile, "ack cleared: outage resolved", "checkout"), "cleared by the lease holder")
	assert.False(t, logSays(t, b.opts.LogFile, "ack cleared: outage resolved"), "not by B, which saw it first")
}
