package runtime_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/teamstore"
	"sitroom/model/teamstore/pgtest"
	"sitroom/sources/runtime"
	"sitroom/sources/sourcetest"
)

// firingRule writes a rule file firing one critical alert of service.
func firingRule(t *testing.T, path, service string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(fmt.Sprintf(`groups:
  - name: team
    interval: 1s
    rules:
      - alert: %sDown
        expr: vector(1)
        labels: {severity: critical, service: %s}
`, service, service)), 0o600))
}

// pushHistory does at once what the team sync does every
// runtime.TeamHistoryEvery while the store is reachable: this host's
// records not yet in the store go up as its view (under the host name,
// as the sync's: whichever goes first, the other finds nothing to push).
func pushHistory(t *testing.T, ctx context.Context, pg *pgtest.Server, h *runtime.TeamHistory) {
	t.Helper()
	host, _ := os.Hostname()
	s, err := teamstore.Open(ctx, teamstore.Options{URL: pg.URL, PasswordFile: pg.PasswordFile, Host: host})
	require.NoError(t, err)
	defer s.Close()
	_, err = h.PushTeamHistory(ctx, s)
	require.NoError(t, err)
}

// outageFacts is what every host's report must agree on of an outage.
type outageFacts struct {
	Service        string
	Opened, Closed time.Time
	TTA            int64
	Hosts          []string
}

func facts(r *model.Handoff) []outageFacts {
	var out []outageFacts
	for _, o := range r.Outages {
		f := outageFacts{Service: o.Service, Opened: o.Opened, TTA: -1, Hosts: o.Hosts}
		if o.Closed != nil {
			f.Closed = *o.Closed
		}
		if o.TTASeconds != nil {
			f.TTA = *o.TTASeconds
		}
		out = append(out, f)
	}
	return out
}

// Two consoles on two hosts watch the same real Prometheus; B also
// watches a second one A does not. After the shared outage opens, is
// acked on A and resolves, A's and B's reports give the same outages
// (service, opened, closed, TTA), the outage only B's source showed
// included; with the store stopped a report says it is this host's
// history, and once it is back the cut-off is listed.
func TestTeamHistoryIsOneAcrossHosts(t *testing.T) {
	pg := pgtest.Start(t)
	dir := t.TempDir()
	shared, onlyB := filepath.Join(dir, "shared.yml"), filepath.Join(dir, "ledger.yml")
	firingRule(t, shared, "checkout")
	firingRule(t, onlyB, "ledger")
	prom, promB := sourcetest.StartPrometheus(t, []string{shared}), sourcetest.StartPrometheus(t, []string{onlyB})
	common := `services:
  - {name: checkout, match: ['service="checkout"'], owner: team-web}
  - {name: ledger, match: ['service="ledger"'], owner: team-finance}
outage_grace: 2s
`
	team := fmt.Sprintf("team: {postgres: '%s', password_file: '%s'}\n", pg.URL, pg.PasswordFile)
	a := startConsole(t, fmt.Sprintf("sources:\n  - {name: prom, type: prometheus, url: %s, interval: 1s}\n", prom.URL)+common+team)
	b := startConsole(t, fmt.Sprintf("sources:\n  - {name: prom, type: prometheus, url: %s, interval: 1s}\n"+
		"  - {name: prom-b, type: prometheus, url: %s, interval: 1s}\n", prom.URL, promB.URL)+common+team)
	ha, hb := runtime.NewTeamHistory(a.rt.Cache, nil), runtime.NewTeamHistory(b.rt.Cache, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	a.waitFor(t, 30*time.Second, "checkout on A", func(s *model.Snapshot) bool { return s.Outage("checkout") != nil })
	b.waitFor(t, 30*time.Second, "checkout and ledger on B", func(s *model.Snapshot) bool {
		return s.Outage("checkout") != nil && s.Outage("ledger") != nil
	})
	require.Eventually(t, func() bool { return boardOf(t, a).Team.OK }, 10*time.Second, 20*time.Millisecond, "team ok")
	o := a.snapshot().Outage("checkout")
	res, err := a.d.Do(ctx, model.ActionRequest{Verb: model.VerbAck, Service: "checkout", AlertKeys: o.Keys, Comment: "on it"})
	require.NoError(t, err)
	require.NotEqual(t, model.ActionRefused, res.State, res.Message)

	// Both outages resolve upstream (once the Prometheuses have run a few
	// polls: an empty reply from an upstream that started since the last
	// poll with alerts is held as stale); each console closes them for
	// good after the grace.
	time.Sleep(3 * time.Second)
	require.NoError(t, os.WriteFile(shared, []byte("groups: []\n"), 0o600))
	require.NoError(t, os.WriteFile(onlyB, []byte("groups: []\n"), 0o600))
	require.NoError(t, prom.Reload(t))
	require.NoError(t, promB.Reload(t))
	for _, c := range []*console{a, b} {
		require.Eventually(t, func() bool {
			open, err := c.rt.Cache.OpenOutageRecords()
			return err == nil && len(open) == 0
		}, time.Minute, 100*time.Millisecond, "outages closed for good")
	}
	pushHistory(t, ctx, pg, ha)
	pushHistory(t, ctx, pg, hb)

	ra, rb := a.report(t), b.report(t)
	require.NotNil(t, ra.Team)
	assert.Equal(t, "team", ra.Team.History)
	assert.Empty(t, ra.Team.Note)
	fa, fb := facts(ra), facts(rb)
	assert.Equal(t, fa, fb, "every host's report has the same outages")
	require.Len(t, fa, 2, "%+v", fa)
	byService := map[string]outageFacts{}
	for _, f := range fa {
		byService[f.Service] = f
	}
	co, led := byService["checkout"], byService["ledger"]
	// In-process consoles share the machine's host name (the hosts of
	// an outage by host are asserted in teamstore's tests).
	host, _ := os.Hostname()
	assert.Equal(t, []string{host}, co.Hosts, "seen by both, recorded once")
	assert.False(t, co.Closed.IsZero(), "closed")
	assert.GreaterOrEqual(t, co.TTA, int64(0), "A's ack, in both reports")
	assert.Equal(t, []string{host}, led.Hosts, "the outage only B's source showed is in A's report")
	assert.False(t, led.Closed.IsZero())
	assert.Equal(t, ra.Stats, rb.Stats, "the same figures")

	// The store stops: the sync finds it down (A is cut off), and a report
	// is this host's history, saying so.
	pg.Stop()
	cutAt := time.Now()
	ha.Down(cutAt)
	r := a.report(t)
	require.NotNil(t, r.Team)
	assert.Equal(t, "host", r.Team.History)
	assert.Equal(t, model.TeamUnreachableNote, r.Team.Note)
	assert.Contains(t, r.Markdown(), model.TeamUnreachableNote)
	assert.NotContains(t, r.Team.Error, pg.Password())
	require.Len(t, r.Outages, 1, "A's own history: only what A saw")
	assert.Equal(t, "checkout", r.Outages[0].Service)
	require.Len(t, r.Team.CutOff, 1)
	assert.Nil(t, r.Team.CutOff[0].To, "still cut off")

	// Back: the cut-off ends when the sync reaches the store again, and
	// is listed.
	pg.Restart(t)
	s, err := teamstore.Open(ctx, teamstore.Options{URL: pg.URL, PasswordFile: pg.PasswordFile, Host: host})
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, ha.Connected(ctx, s))
	back := a.report(t)
	assert.Equal(t, "team", back.Team.History)
	require.Len(t, back.Team.CutOff, 1)
	c := back.Team.CutOff[0]
	require.NotNil(t, c.To, "ended")
	assert.WithinDuration(t, cutAt, c.From, 5*time.Second)
	assert.False(t, c.To.Before(c.From))
	assert.Contains(t, back.Markdown(), "this host cut off from the team store")
	assert.Equal(t, fa, facts(back), "the team's history again")
}
