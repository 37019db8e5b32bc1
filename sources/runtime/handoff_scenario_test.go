package runtime_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/cache"
	"sitroom/sources"
	"sitroom/sources/actions"
	"sitroom/sources/alertmanager"
	"sitroom/sources/demo"
	"sitroom/sources/runtime"
	"sitroom/sources/runtime/bintest"
)

// The --demo cascade through the real path (demo upstreams over HTTP →
// sources → poller with the history recorder → cache, and the action
// dispatcher): db-main goes down, alice acks it, carol escalates it, it
// recovers; then `sitroom handoff` names each step with its operator.
func TestHandoffReportOfADemoOutage(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	d, cfg, at := steppedDemo(t, ctx, 200*time.Millisecond)
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "cache.db")
	c, err := cache.Open(dbPath)
	require.NoError(t, err)
	p := configPoller(t, c, cfg, sources.PollerOptions{Holder: "handoff-test",
		WatchEvery: 100 * time.Millisecond, History: sources.NewHistoryRecorder(c, sources.HistoryOptions{Grace: 500 * time.Millisecond})})

	pol := actions.PolicyFor(cfg, false)
	pol.Roles = map[string]model.Role{"alice": model.RoleTier1, "carol": model.RoleLead}
	mk := func(user string) *actions.Dispatcher {
		op := model.Operator{User: user, Host: "console-1", Role: pol.RoleFor(user, nil)}
		sil := map[string]actions.Silencer{}
		for _, sc := range cfg.Sources {
			if sc.Type == "alertmanager" {
				hc, err := sources.NewHTTPClient(sc.HTTP, sc.Name)
				require.NoError(t, err)
				sil[sc.Name] = alertmanager.NewSilencer(sc.URL, hc)
			}
		}
		return actions.New(c, actions.Options{Operator: op, Policy: pol, Silencers: sil, Polling: p.Polling})
	}
	alice, carol := mk("alice"), mk("carol")

	var mu sync.Mutex
	var latest *model.Snapshot
	feed := runtime.NewFeed(p, alice)
	done := make(chan struct{})
	go func() {
		for s := range feed.Snapshots() {
			carol.Observe(s)
			mu.Lock()
			latest = s
			mu.Unlock()
		}
	}()
	at(100 * time.Second) // db-main down (pool exhausted), payments failing
	require.Equal(t, demo.PhasePayments, d.Phase())
	go func() {
		var wg sync.WaitGroup
		wg.Go(func() { alice.Run(ctx) })
		p.Run(ctx)
		wg.Wait()
		close(done)
	}()
	t.Cleanup(func() { cancel(); <-done; c.Close(); d.Close() })

	var outage *model.Outage
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		if latest != nil {
			outage = latest.Outage("db-main")
		}
		// held by an Alertmanager too: the ack then has silences to make
		return outage != nil && slices.ContainsFunc(outage.Sources, func(s string) bool { return strings.HasPrefix(s, "am-") })
	}, 15*time.Second, 20*time.Millisecond, "db-main's outage shows, held by the Alertmanagers")

	res, err := alice.Do(ctx, model.ActionRequest{Verb: model.VerbAck, Service: "db-main", AlertKeys: outage.Keys, Comment: "failing over to the replica"})
	require.NoError(t, err)
	require.Equal(t, model.ActionPending, res.State, res.Message)
	res, err = carol.Do(ctx, model.ActionRequest{Verb: model.VerbEscalate, Service: "db-main", Level: 2, Comment: "replica lagging, DBA needed"})
	require.NoError(t, err)
	require.NotEqual(t, model.ActionRefused, res.State, res.Message)
	// a viewer's try is refused and audited
	bob := actions.New(c, actions.Options{Operator: model.Operator{User: "bob", Role: model.RoleViewer}, Policy: pol})
	res, err = bob.Do(ctx, model.ActionRequest{Verb: model.VerbAck, Service: "db-main", AlertKeys: outage.Keys, Comment: "mine"})
	require.NoError(t, err)
	require.Equal(t, model.ActionRefused, res.State)

	at(250 * time.Second) // db-main recovered
	require.Equal(t, demo.PhaseRecovering, d.Phase())
	require.Eventually(t, func() bool {
		h, err := c.History(demoStart.Add(-time.Hour), time.Now().Add(time.Hour))
		if err != nil {
			return false
		}
		for _, o := range h.Outages {
			if o.Service == "db-main" && !o.Closed.IsZero() {
				return true
			}
		}
		return false
	}, 20*time.Second, 50*time.Millisecond, "db-main's outage recorded closed after the grace period")

	code, out, errOut := bintest.Run(t, "handoff", "--db", dbPath, "--config", filepath.Join(dir, "none.yaml"), "--since", "1h", "--format", "json")
	require.Equal(t, 0, code, errOut)
	var r model.Handoff
	require.NoError(t, json.Unmarshal([]byte(out), &r))
	var db *model.HandoffOutage
	for i := range r.Outages {
		if r.Outages[i].Service == "db-main" {
			db = &r.Outages[i]
		}
	}
	require.NotNil(t, db, "the report lists db-main: %s", out)
	assert.Equal(t, "critical", db.Severity)
	require.NotNil(t, db.FirstAck)
	assert.Equal(t, "alice", db.FirstAck.By)
	require.Len(t, db.Escalations, 1)
	assert.Equal(t, "carol", db.Escalations[0].By)
	assert.Equal(t, 2, db.Escalations[0].Level)
	require.NotNil(t, db.Closed, "resolved")
	assert.True(t, db.ClosedInWindow)
	require.NotNil(t, db.TTASeconds)
	require.NotNil(t, db.TTRSeconds)
	assert.LessOrEqual(t, *db.TTASeconds, *db.TTRSeconds)
	require.Len(t, r.Refused, 1)
	assert.Equal(t, "bob", r.Refused[0].Operator)

	// the timeline has the steps in order, each with its operator
	var steps []string
	for _, e := range r.Timeline {
		if e.Subject == "db-main" || strings.HasPrefix(e.Subject, "db-main ") {
			steps = append(steps, e.Kind+":"+e.By)
		}
	}
	assert.Equal(t, []string{"outage_opened:", "acked:alice", "escalated:carol", "outage_resolved:"}, compact(steps), "timeline: %v", steps)

	code, md, errOut := bintest.Run(t, "handoff", "--db", dbPath, "--config", filepath.Join(dir, "none.yaml"), "--since", "1h")
	require.Equal(t, 0, code, errOut)
	for _, want := range []string{"**db-main** — critical", "first ack: alice", "escalated to level 2", "by carol", "bob ack db-main", "refused: role viewer cannot acknowledge"} {
		assert.Contains(t, md, want)
	}
}

// compact drops repeated steps (an alert-by-alert ack is one step here).
func compact(s []string) []string {
	var out []string
	for _, x := range s {
		if len(out) == 0 || out[len(out)-1] != x {
			out = append(out, x)
		}
	}
	return out
}
