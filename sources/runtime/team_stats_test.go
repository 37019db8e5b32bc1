package runtime_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/teamstore/pgtest"
	"sitroom/sources/runtime"
	"sitroom/sources/sourcetest"
	"sitroom/ui"
)

// teamFigures is a stats report's JSON without what docs/stats.md says
// is this host's even in team mode: the alert volume, flapping alerts,
// noisiest sources and tickets.
func teamFigures(t *testing.T, s *model.Stats) map[string]any {
	t.Helper()
	b, err := s.JSON()
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	for _, k := range []string{"flapping_alerts", "noisiest_sources", "has_tickets"} {
		delete(m, k)
	}
	periods := []any{m["totals"]}
	for _, k := range []string{"buckets", "shifts"} {
		periods = append(periods, m[k].([]any)...)
	}
	for _, p := range periods {
		delete(p.(map[string]any), "alerts")
		delete(p.(map[string]any), "tickets")
	}
	return m
}

// statsText is the text format of s, as `sitroom stats` prints it.
func statsText(t *testing.T, s *model.Stats) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, ui.StatsText(&b, s, ui.StatsTextOptions{Width: 100}))
	return b.String()
}

// Two consoles on two hosts (two caches) of one team watch the same real
// Prometheus, and B a second one: an outage both saw, one only B saw, an
// ack and an escalation made on A. Once their history is in the team
// store, `sitroom stats` on A and on B give the same team figures
// (outages, MTTA/MTTR, escalations, top services) and say they are the
// team's; only the alert volume is each host's own. With the store
// stopped, A's report says it is this host's history only and still has
// A's figures.
func TestTeamStatsAreTheSameOnEveryHost(t *testing.T) {
	pg := pgtest.Start(t)
	dir := t.TempDir()
	shared, onlyB := filepath.Join(dir, "shared.yml"), filepath.Join(dir, "ledger.yml")
	firingRule(t, shared, "checkout")
	firingRule(t, onlyB, "ledger")
	prom, promB := sourcetest.StartPrometheus(t, []string{shared}), sourcetest.StartPrometheus(t, []string{onlyB})
	common := fmt.Sprintf(`services:
  - {name: checkout, match: ['service="checkout"'], owner: team-web}
  - {name: ledger, match: ['service="ledger"'], owner: team-finance}
outage_grace: 2s
escalation:
  - {level: 1, who: NOC tier 1, after: 0m}
  - {level: 2, who: service owner on-call, after: 15m}
team: {postgres: '%s', password_file: '%s'}
`, pg.URL, pg.PasswordFile)
	a := startConsole(t, fmt.Sprintf("sources:\n  - {name: prom, type: prometheus, url: %s, interval: 1s}\n", prom.URL)+common)
	b := startConsole(t, fmt.Sprintf("sources:\n  - {name: prom, type: prometheus, url: %s, interval: 1s}\n"+
		"  - {name: prom-b, type: prometheus, url: %s, interval: 1s}\n", prom.URL, promB.URL)+common)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	a.waitFor(t, 30*time.Second, "checkout on A", func(s *model.Snapshot) bool { return s.Outage("checkout") != nil })
	b.waitFor(t, 30*time.Second, "checkout and ledger on B", func(s *model.Snapshot) bool {
		return s.Outage("checkout") != nil && s.Outage("ledger") != nil
	})
	require.Eventually(t, func() bool { return boardOf(t, a).Team.OK }, 10*time.Second, 20*time.Millisecond, "team ok")
	o := a.snapshot().Outage("checkout")
	for _, req := range []model.ActionRequest{
		{Verb: model.VerbAck, Service: "checkout", AlertKeys: o.Keys, Comment: "on it"},
		{Verb: model.VerbEscalate, Service: "checkout", Level: 2, Comment: "owner paged"},
	} {
		res, err := a.d.Do(ctx, req)
		require.NoError(t, err)
		require.NotEqual(t, model.ActionRefused, res.State, res.Message)
	}
	seenWithin(t, b, "A's ack and escalation on B", func(bd *model.Board) bool {
		return bd.AckOf("checkout") != nil && bd.LevelOf("checkout") == 2
	})
	require.Eventually(t, func() bool { st := boardOf(t, a).Team; return st.OK && st.Unsynced == 0 },
		10*time.Second, 20*time.Millisecond, "A's actions in the store")

	// Both outages resolve upstream and close for good on each console
	// (after a few polls: see TestTeamHistoryIsOneAcrossHosts), so the
	// figures no longer move with the clock; both hosts push their view.
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
	pushHistory(t, ctx, pg, runtime.NewTeamHistory(a.rt.Cache, nil))
	pushHistory(t, ctx, pg, runtime.NewTeamHistory(b.rt.Cache, nil))

	// `sitroom stats --since 2h` on each host, at one instant.
	req := runtime.StatsRequest{Since: 2 * time.Hour, Bucket: model.BucketDay, Top: 10}
	now := time.Now()
	sa, err := runtime.NocStats(a.opts, req, now)
	require.NoError(t, err)
	sb, err := runtime.NocStats(b.opts, req, now)
	require.NoError(t, err)
	assert.Equal(t, teamFigures(t, sa), teamFigures(t, sb), "every host reports the same team figures")

	for _, s := range []*model.Stats{sa, sb} {
		assert.Equal(t, model.WhoseTeam, s.Whose)
		assert.Empty(t, s.WhoseDetail)
		assert.Equal(t, 2, s.Totals.Outages, "the outage both saw once, and the one only B saw")
		assert.Equal(t, 1, s.Totals.TTASamples, "A's ack")
		assert.NotNil(t, s.Totals.TTAP50)
		assert.Equal(t, 2, s.Totals.TTRSamples, "both closed")
		assert.Equal(t, map[string]int{"2": 1}, s.Totals.Escalations, "A's escalation")
		var top []string
		for _, l := range s.TopByOutages {
			top = append(top, l.Service)
		}
		assert.ElementsMatch(t, []string{"checkout", "ledger"}, top)
		assert.Contains(t, s.Markdown(), "the team's (every host's view)")
		assert.Contains(t, statsText(t, s), "the team's")
	}
	// The alert volume is each host's own: only B polled prom-b.
	var sourcesA, sourcesB []string
	for _, v := range sa.Sources {
		sourcesA = append(sourcesA, v.Source)
	}
	for _, v := range sb.Sources {
		sourcesB = append(sourcesB, v.Source)
	}
	assert.Equal(t, []string{"prom"}, sourcesA)
	assert.ElementsMatch(t, []string{"prom", "prom-b"}, sourcesB)

	// The store stops: A's report is A's own history, and says so.
	pg.Stop()
	s, err := runtime.NocStats(a.opts, req, time.Now())
	require.NoError(t, err)
	assert.Equal(t, model.WhoseHost, s.Whose)
	assert.Equal(t, model.TeamUnreachableNote, s.WhoseDetail)
	assert.NotEmpty(t, s.WhoseError)
	assert.NotContains(t, s.WhoseError, pg.Password(), "never the password")
	for _, out := range []string{s.Markdown(), statsText(t, s)} {
		assert.Contains(t, out, "team store unreachable: this host's history only")
	}
	assert.Equal(t, 1, s.Totals.Outages, "only the outage A saw")
	assert.Equal(t, 1, s.Totals.TTASamples, "A's ack")
	assert.Equal(t, map[string]int{"2": 1}, s.Totals.Escalations, "A's escalation")
	require.Len(t, s.TopByOutages, 1)
	assert.Equal(t, "checkout", s.TopByOutages[0].Service)
}
