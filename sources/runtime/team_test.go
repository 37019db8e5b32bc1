package runtime_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/teamstore"
	"sitroom/model/teamstore/pgtest"
	"sitroom/sources/sourcetest"
)

// teamPrometheus is a real Prometheus firing one critical checkout alert.
func teamPrometheus(t *testing.T) *sourcetest.Server {
	t.Helper()
	rules := filepath.Join(t.TempDir(), "rules.yml")
	require.NoError(t, os.WriteFile(rules, []byte(`groups:
  - name: team
    interval: 1s
    rules:
      - alert: CheckoutDown
        expr: vector(1)
        labels: {severity: critical, service: checkout}
`), 0o600))
	return sourcetest.StartPrometheus(t, []string{rules})
}

// teamConfig is the config every console of the team shares: the same
// Prometheus, catalog and team store.
func teamConfig(prom *sourcetest.Server, pg *pgtest.Server) string {
	return fmt.Sprintf(`sources:
  - {name: prom, type: prometheus, url: %s, interval: 1s}
services:
  - {name: checkout, match: ['service="checkout"'], owner: team-web}
escalation:
  - {level: 1, who: NOC tier 1, after: 0m}
  - {level: 2, who: service owner on-call, after: 15m}
team: {postgres: '%s', password_file: '%s'}
`, prom.URL, pg.URL, pg.PasswordFile)
}

// boardOf is what console c's screen draws its actions from, read now.
func boardOf(t *testing.T, c *console) *model.Board {
	t.Helper()
	b, err := c.d.Board()
	require.NoError(t, err)
	return b
}

// seenWithin waits until ok holds on c's board and says how long it took.
func seenWithin(t *testing.T, c *console, what string, ok func(*model.Board) bool) time.Duration {
	t.Helper()
	start := time.Now()
	require.Eventually(t, func() bool { return ok(boardOf(t, c)) }, 10*time.Second, 10*time.Millisecond, what)
	return time.Since(start)
}

// Two consoles on two hosts (two caches) of one team: an ack, an
// escalation and a note made on A show on B within a second, as A's, and
// are in B's handoff; with the team store stopped, A keeps working and
// says so, and what it did reaches the store once when it is back.
func TestTeamTwoConsolesShareTheirActions(t *testing.T) {
	pg := pgtest.Start(t)
	body := teamConfig(teamPrometheus(t), pg)
	a, b := startConsole(t, body), startConsole(t, body)
	for _, c := range []*console{a, b} {
		c.waitFor(t, 30*time.Second, "the checkout outage", func(s *model.Snapshot) bool { return s.Outage("checkout") != nil })
		require.Eventually(t, func() bool { return boardOf(t, c).Team.OK }, 10*time.Second, 20*time.Millisecond, "team ok")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o := a.snapshot().Outage("checkout")
	res, err := a.d.Do(ctx, model.ActionRequest{Verb: model.VerbAck, Service: "checkout", AlertKeys: o.Keys, Comment: "db failover running"})
	require.NoError(t, err)
	require.NotEqual(t, model.ActionRefused, res.State, res.Message)
	took := seenWithin(t, b, "A's ack on B", func(bd *model.Board) bool {
		ack := bd.AckOf("checkout")
		return ack != nil && ack.Comment == "db failover running"
	})
	t.Logf("ack on A seen on B after %s", took)
	assert.Less(t, took, 2*time.Second, "within a second, give or take a loaded machine")

	res, err = a.d.Do(ctx, model.ActionRequest{Verb: model.VerbEscalate, Service: "checkout", Level: 2, Comment: "owner paged"})
	require.NoError(t, err)
	require.NotEqual(t, model.ActionRefused, res.State, res.Message)
	res, err = a.d.Do(ctx, model.ActionRequest{Verb: model.VerbNote, Service: "checkout", Comment: "failover at 70%"})
	require.NoError(t, err)
	require.NotEqual(t, model.ActionRefused, res.State, res.Message)
	seenWithin(t, b, "A's escalation and note on B", func(bd *model.Board) bool {
		notes := bd.NotesOf("checkout")
		return bd.LevelOf("checkout") == 2 && len(notes) == 1 && notes[0].Text == "failover at 70%"
	})
	assert.Equal(t, boardOf(t, a).AckOf("checkout").By, boardOf(t, b).AckOf("checkout").By, "A's, on B")

	r := b.report(t)
	var found bool
	for _, ho := range r.Outages {
		if ho.Service != "checkout" {
			continue
		}
		found = true
		require.NotNil(t, ho.FirstAck, "B's handoff has A's ack")
		assert.Equal(t, "db failover running", ho.FirstAck.Comment)
		require.Len(t, ho.Escalations, 1)
	}
	assert.True(t, found, "B's handoff has the outage: %+v", r.Outages)
	var notes []string
	for _, n := range r.Notes {
		notes = append(notes, n.Text)
	}
	assert.Contains(t, notes, "failover at 70%")

	// The team store stops: A keeps working on its cache and says so.
	pg.Stop()
	res, err = a.d.Do(ctx, model.ActionRequest{Verb: model.VerbNote, Service: "checkout", Comment: "cut off from the team"})
	require.NoError(t, err)
	require.NotEqual(t, model.ActionRefused, res.State, res.Message)
	require.Eventually(t, func() bool {
		st := boardOf(t, a).Team
		return !st.OK && st.Unsynced >= 1 && st.Error != ""
	}, 10*time.Second, 20*time.Millisecond, "A says the team store is down, with its change waiting")
	assert.NotContains(t, boardOf(t, a).Team.Error, pg.Password(), "never the password")
	notes = nil
	for _, n := range boardOf(t, a).NotesOf("checkout") {
		notes = append(notes, n.Text)
	}
	assert.Contains(t, notes, "cut off from the team", "recorded locally all the same")

	// Back: the note reaches the store once, and B.
	pg.Restart(t)
	seenWithin(t, b, "the note made while cut off, on B", func(bd *model.Board) bool {
		for _, n := range bd.NotesOf("checkout") {
			if n.Text == "cut off from the team" {
				return true
			}
		}
		return false
	})
	require.Eventually(t, func() bool { return boardOf(t, a).Team.OK && boardOf(t, a).Team.Unsynced == 0 }, 10*time.Second, 20*time.Millisecond)
	s, err := teamstore.Open(ctx, teamstore.Options{URL: pg.URL, PasswordFile: pg.PasswordFile})
	require.NoError(t, err)
	defer s.Close()
	log, err := s.AuditLog(ctx, time.Now().Add(-time.Hour))
	require.NoError(t, err)
	n := 0
	for _, e := range log {
		if strings.Contains(e.Comment, "cut off from the team") {
			n++
		}
	}
	assert.Equal(t, 1, n, "once in the team store")
}
