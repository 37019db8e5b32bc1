package jira_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources/tickets/desktest"
	"sitroom/sources/tickets/jira"
	"sitroom/sources/tickets/jira/jiratest"
)

func TestIncrementalFetchMergesChangesAndDropsDeparted(t *testing.T) {
	srv := setup(t)
	// Updates spread over two days; the newest is NOC-814 at 09:00.
	srv.Update("10812", now.Add(-30*time.Hour), func(*jiratest.Issue) {})
	srv.Update("10813", now.Add(-40*time.Hour), func(*jiratest.Issue) {})
	srv.Update("10814", now.Add(-time.Hour), func(*jiratest.Issue) {})
	clk := &desktest.Clock{T: now}
	s := newSource(t, srv, func(o *jira.Options) { o.Now = clk.Now; o.FullEvery = 10 * time.Minute })
	ctx := context.Background()

	got, err := s.Fetch(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"NOC-812", "NOC-813", "NOC-814"}, desktest.Keys(desktest.ByNumber(got)))
	assert.Equal(t, []string{t2JQL, t1JQL}, srv.Queries())
	slaCalls := func() int {
		return srv.Requests("GET /rest/servicedeskapi/request/10812/sla") + srv.Requests("GET /rest/servicedeskapi/request/10813/sla") +
			srv.Requests("GET /rest/servicedeskapi/request/10814/sla")
	}
	require.Equal(t, 3, slaCalls())

	// Nothing changed: each tier is asked only for issues updated since
	// 09:00 less 15 hours, and the departed search covers the same window.
	clk.T = now.Add(time.Minute)
	got, err = s.Fetch(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"NOC-812", "NOC-813", "NOC-814"}, desktest.Keys(desktest.ByNumber(got)))
	window := `updated >= "2025/11/02 18:00"`
	assert.Equal(t, []string{"(" + t2JQL + ") AND " + window, "(" + t1JQL + ") AND " + window,
		window + " AND NOT ((" + t1JQL + ") OR (" + t2JQL + "))"}, srv.Queries())
	assert.Equal(t, 3, slaCalls(), "no issue changed, no SLA asked for")

	// NOC-812 is edited, NOC-813 resolved, NOC-814 escalated; NOC-815
	// (done long ago) is touched and stays done.
	at := now.Add(90 * time.Second)
	srv.Update("10812", at, func(is *jiratest.Issue) { is.Summary = "BGP flap on edge-2 and edge-3" })
	srv.Update("10813", at, func(is *jiratest.Issue) { is.Status = "Done" })
	srv.Update("10814", at, func(is *jiratest.Issue) { is.Status = "Escalated" })
	srv.Update("10815", at, func(*jiratest.Issue) {})
	clk.T = now.Add(2 * time.Minute)
	got, err = s.Fetch(ctx)
	require.NoError(t, err)
	m := desktest.ByNumber(got)
	assert.ElementsMatch(t, []string{"NOC-812", "NOC-814"}, desktest.Keys(m))
	assert.Equal(t, "BGP flap on edge-2 and edge-3", m["NOC-812"].Subject)
	assert.Equal(t, model.Tier2, m["NOC-814"].Tier)
	assert.Equal(t, "Escalated", m["NOC-814"].Status)
	assert.Equal(t, 5, slaCalls(), "SLAs asked again for the two changed issues only")
	srv.Queries()

	// The window now follows the newest update seen (10:01 less 15h).
	clk.T = now.Add(3 * time.Minute)
	_, err = s.Fetch(ctx)
	require.NoError(t, err)
	assert.Contains(t, srv.Queries()[0], `updated >= "2025/11/02 19:01"`)

	// After FullEvery both tiers are read whole again.
	clk.T = now.Add(10 * time.Minute)
	got, err = s.Fetch(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"NOC-812", "NOC-814"}, desktest.Keys(desktest.ByNumber(got)))
	assert.Equal(t, []string{t2JQL, t1JQL}, srv.Queries())
}

func TestIncrementalFetchFindsChangesWhateverTheAccountTimeZone(t *testing.T) {
	for _, zone := range []string{"Etc/GMT+12", "Pacific/Kiritimati", "UTC"} {
		t.Run(zone, func(t *testing.T) {
			loc, err := time.LoadLocation(zone)
			if err != nil {
				t.Skip("no zone data:", err)
			}
			srv := setup(t)
			srv.SetLocation(loc)
			clk := &desktest.Clock{T: now}
			s := newSource(t, srv, func(o *jira.Options) { o.Now = clk.Now })
			ctx := context.Background()
			_, err = s.Fetch(ctx)
			require.NoError(t, err)
			// Updated a second after the newest update seen.
			srv.Update("10812", now.Add(-2*time.Hour+time.Second), func(is *jiratest.Issue) { is.Summary = "renamed" })
			srv.Update("10813", now.Add(-2*time.Hour+time.Second), func(is *jiratest.Issue) { is.Status = "Done" })
			clk.T = now.Add(time.Minute)
			got, err := s.Fetch(ctx)
			require.NoError(t, err)
			m := desktest.ByNumber(got)
			assert.Equal(t, "renamed", m["NOC-812"].Subject)
			assert.NotContains(t, m, "NOC-813")
		})
	}
}
