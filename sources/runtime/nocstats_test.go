package runtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"sitroom/model"
	"sitroom/model/cache"
	"sitroom/sources/runtime"
	"sitroom/sources/runtime/bintest"
	"sitroom/sources/sourcetest"
)

// `sitroom stats` on a cache filled by real polls of a real Alertmanager,
// while the console that polls it runs: an outage acked, then the
// statistics in all five formats. The outage's TTA is the handoff's.
func TestStatsOfARealAlertmanager(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	am.PostAlerts(t, sourcetest.PostableAlert{Labels: map[string]string{"alertname": "DBDown", "service": "db-main", "severity": "critical"}})
	c := startConsole(t, fmt.Sprintf(`sources:
  - {name: am, type: alertmanager, url: %q, interval: 1s}
services:
  - {name: db-main, match: ['service="db-main"'], owner: team-data}
  - {name: checkout, match: ['service="checkout"'], owner: team-web}
`, am.URL))
	s := c.waitFor(t, 30*time.Second, "db-main's outage", func(s *model.Snapshot) bool { return s.Outage("db-main") != nil })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	time.Sleep(1500 * time.Millisecond) // a TTA of whole seconds
	res, err := c.d.Do(ctx, model.ActionRequest{Verb: model.VerbAck, Service: "db-main", AlertKeys: s.Outage("db-main").Keys, Comment: "failing over"})
	require.NoError(t, err)
	require.NotEqual(t, model.ActionRefused, res.State, res.Message)

	var tta int64
	require.Eventually(t, func() bool {
		for _, o := range c.report(t).Outages {
			if o.Service == "db-main" && o.TTASeconds != nil {
				tta = *o.TTASeconds
				return true
			}
		}
		return false
	}, 30*time.Second, 100*time.Millisecond, "the handoff has db-main's first ack")

	st, err := runtime.NocStats(c.opts, runtime.StatsRequest{Since: 24 * time.Hour}, time.Now())
	require.NoError(t, err)
	assert.Equal(t, 1, st.Totals.Outages)
	require.NotNil(t, st.Totals.TTAP50)
	assert.Equal(t, tta, *st.Totals.TTAP50, "the TTA is the handoff's")
	require.NotEmpty(t, st.TopByOutages)
	assert.Equal(t, "db-main", st.TopByOutages[0].Service)
	assert.Equal(t, model.WhoseHost, st.Whose)

	// The command, while the console still polls the cache.
	run := func(format string, extra ...string) string {
		t.Helper()
		args := append([]string{"stats", "--config", c.opts.ConfigPath, "--db", c.opts.DBPath, "--since", "1d", "--format", format}, extra...)
		code, out, errOut := bintest.Run(t, args...)
		require.Equal(t, 0, code, "stats --format %s: %s", format, errOut)
		return out
	}
	ttaText := model.FormatSeconds(tta)
	text := run("text")
	assert.Contains(t, text, "1 outage (critical 1)")
	assert.Contains(t, text, "p50 "+ttaText)
	assert.Contains(t, text, "db-main")
	assert.NotContains(t, text, "\x1b[", "no colour when stdout is not a terminal")
	md := run("md")
	assert.Contains(t, md, "db-main")
	assert.Contains(t, md, ttaText)

	var js model.Stats
	require.NoError(t, json.Unmarshal([]byte(run("json")), &js))
	require.NotNil(t, js.Totals.TTAP50)
	assert.Equal(t, tta, *js.Totals.TTAP50)
	assert.Equal(t, 1, js.Totals.Outages)

	csv := run("csv")
	header, _, _ := strings.Cut(csv, "\n")
	assert.True(t, strings.HasPrefix(header, "row,label,from,to,outages"), "csv header: %q", header)

	page := run("html")
	doc, err := html.Parse(strings.NewReader(page))
	require.NoError(t, err)
	assert.True(t, hasElement(doc, "table"), "the page has its tables")
	assert.Contains(t, page, "db-main")

	// narrowed to a team that owns no outage of the span
	team := run("text", "--team", "team-web")
	assert.Contains(t, team, "no outages in the last day")
}

func hasElement(n *html.Node, tag string) bool {
	if n.Type == html.ElementNode && n.Data == tag {
		return true
	}
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		if hasElement(ch, tag) {
			return true
		}
	}
	return false
}

// statsCache is an empty cache and a config of body, for the tests that
// read statistics without polling anything.
func statsCache(t *testing.T, body string) runtime.Options {
	t.Helper()
	db := filepath.Join(t.TempDir(), "cache.db")
	c, err := cache.Open(db)
	require.NoError(t, err)
	require.NoError(t, c.Close())
	return runtime.Options{ConfigPath: writeConfig(t, body), DBPath: db}
}

// A request that cannot be answered as asked says why, naming what the
// config knows.
func TestStatsRequestErrors(t *testing.T) {
	o := statsCache(t, `services:
  - {name: db-main, owner: team-data}
  - {name: checkout, owner: team-web}
  - {name: payments, owner: team-web}
`)
	now := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		req  runtime.StatsRequest
		want string
	}{
		{runtime.StatsRequest{Service: "ledger"}, `--service "ledger": no such service in the config (known: checkout, db-main, payments)`},
		{runtime.StatsRequest{Team: "team-x"}, `--team "team-x": owns no service in the config (teams owning services: team-data, team-web)`},
		{runtime.StatsRequest{Service: "checkout", Team: "team-web"}, "--service and --team: give one or the other"},
		{runtime.StatsRequest{Shift: "09:00"}, `--shift "09:00": no shift starts then (the shifts start at 07:00, 15:00, 23:00)`},
		{runtime.StatsRequest{Since: time.Hour, From: "2026-03-01"}, "--since and --from/--to: give one or the other"},
		{runtime.StatsRequest{From: "1 March"}, `--from "1 March": want a date such as 2026-03-01`},
		{runtime.StatsRequest{From: "2026-03-02", To: "2026-03-01"}, "--from 2026-03-02 is not before --to 2026-03-01"},
	} {
		_, err := runtime.NocStats(o, c.req, now)
		var bad *runtime.StatsRequestError
		require.ErrorAs(t, err, &bad, "%+v", c.req)
		assert.Contains(t, err.Error(), c.want)
	}

	// --team is the services the team owns; --to's day is included
	st, err := runtime.NocStats(o, runtime.StatsRequest{Team: "team-web", From: "2026-03-01", To: "2026-03-03"}, now)
	require.NoError(t, err)
	assert.Equal(t, "team-web", st.Team)
	assert.Equal(t, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), st.From)
	assert.Equal(t, time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC), st.To)
	assert.Len(t, st.Buckets, 3)
	// 7d is today and the six days before, from midnight
	st, err = runtime.NocStats(o, runtime.StatsRequest{Since: 7 * 24 * time.Hour}, now)
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 2, 26, 0, 0, 0, 0, time.UTC), st.From)
	assert.Len(t, st.Buckets, 7)

	_, err = runtime.NocStats(runtime.Options{ConfigPath: o.ConfigPath, DBPath: filepath.Join(t.TempDir(), "none.db")}, runtime.StatsRequest{}, now)
	require.ErrorContains(t, err, "no cache at")
}

// In team mode, a team store that cannot be reached leaves this host's
// history, said in the handoff's words with the reason.
func TestStatsTeamStoreUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there now
	pw := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(pw, []byte("secret\n"), 0o600))
	o := statsCache(t, fmt.Sprintf("team: {postgres: 'postgres://sitroom@%s/noc', password_file: '%s'}\n", addr, pw))
	st, err := runtime.NocStats(o, runtime.StatsRequest{}, time.Now())
	require.NoError(t, err)
	assert.Equal(t, model.WhoseHost, st.Whose)
	assert.Equal(t, model.TeamUnreachableNote, st.WhoseDetail)
	assert.NotEmpty(t, st.WhoseError)
	assert.NotContains(t, st.WhoseError, "secret", "no password in the report")
}
