package servicenow_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/sources/tickets/desktest"
	"sitroom/sources/tickets/servicenow"
	"sitroom/sources/tickets/servicenow/sntest"
)

func TestIncrementalFetchMergesChangesAndDropsDeparted(t *testing.T) {
	srv := setup(t)
	clk := &desktest.Clock{T: now}
	s := newSource(t, srv, func(o *servicenow.Options) { o.Now = clk.Now; o.FullEvery = 10 * time.Minute })
	ctx := context.Background()

	got, err := s.Fetch(ctx)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"INC0041207", "INC0041208"}, desktest.Keys(desktest.ByNumber(got)))
	full := srv.Queries("incident")
	require.Len(t, full, 1)
	assert.NotContains(t, full[0], "sys_updated_on", "the first poll reads the whole set")
	srv.Queries("task_sla")

	// Nothing changed: the next poll asks only for what changed since the
	// newest update seen (09:14:22 less the margin), and gets nothing.
	clk.T = now.Add(time.Minute)
	got, err = s.Fetch(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"INC0041207", "INC0041208"}, desktest.Keys(desktest.ByNumber(got)))
	qs := srv.Queries("incident")
	require.Len(t, qs, 3)
	for _, q := range qs {
		assert.Contains(t, q, "sys_updated_on>2025-11-03 09:09:22")
	}
	assert.Contains(t, qs[0], "active=true^assignment_group.name=NOC Tier 1^ORassignment_group.name=NOC Tier 2")
	// Only the incident inside the margin is read again, with its SLAs.
	assert.Equal(t, []string{"active=true^taskIN" + inc1 + "^ORDERBYplanned_end_time"}, srv.Queries("task_sla"))

	// INC0041208 changes subject; INC0041207 is resolved; the light bulb
	// moves into Tier 1; the closed INC0041209 is touched but stays closed.
	srv.Set("incident", inc2, sntest.Record{"short_description": "db lag, replica 3", "sys_updated_on": "2025-11-03 10:00:30"})
	srv.Set("incident", inc1, sntest.Record{"state": "6", "active": "false", "sys_updated_on": "2025-11-03 10:00:40"})
	srv.Set("incident", "5f1c0e2a1b8d4a10a9c3e7f2d4b6a804", sntest.Record{"assignment_group": g1, "sys_updated_on": "2025-11-03 10:00:50"})
	srv.Set("incident", inc3, sntest.Record{"work_notes": "still closed", "sys_updated_on": "2025-11-03 10:00:55"})
	clk.T = now.Add(2 * time.Minute)
	got, err = s.Fetch(ctx)
	require.NoError(t, err)
	m := desktest.ByNumber(got)
	assert.ElementsMatch(t, []string{"INC0041208", "INC0041210"}, desktest.Keys(m))
	assert.Equal(t, "db lag, replica 3", m["INC0041208"].Subject)
	assert.Equal(t, "NOC Tier 1", m["INC0041210"].Queue)
	for _, q := range srv.Queries("incident") {
		assert.Contains(t, q, "sys_updated_on>2025-11-03 09:09:22")
	}

	// The window then starts at the newest update seen (10:00:50).
	clk.T = now.Add(3 * time.Minute)
	_, err = s.Fetch(ctx)
	require.NoError(t, err)
	for _, q := range srv.Queries("incident") {
		assert.Contains(t, q, "sys_updated_on>2025-11-03 09:55:50")
	}

	// An incident that leaves the tier groups drops out.
	srv.Set("incident", inc2, sntest.Record{"assignment_group": gX, "sys_updated_on": "2025-11-03 10:03:30"})
	clk.T = now.Add(4 * time.Minute)
	got, err = s.Fetch(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"INC0041210"}, desktest.Keys(desktest.ByNumber(got)))
	srv.Queries("incident")

	// After FullEvery the whole set is read again, which also finds a
	// change the window missed (an update stamped before it).
	srv.Set("incident", "5f1c0e2a1b8d4a10a9c3e7f2d4b6a804", sntest.Record{"short_description": "light bulb, row 4", "sys_updated_on": "2025-11-03 08:00:00"})
	clk.T = now.Add(9 * time.Minute)
	got, err = s.Fetch(ctx)
	require.NoError(t, err)
	assert.Equal(t, "light bulb", desktest.ByNumber(got)["INC0041210"].Subject, "an update behind the window waits for the full read")
	srv.Queries("incident")
	clk.T = now.Add(10 * time.Minute)
	got, err = s.Fetch(ctx)
	require.NoError(t, err)
	assert.Equal(t, "light bulb, row 4", desktest.ByNumber(got)["INC0041210"].Subject)
	qs = srv.Queries("incident")
	require.Len(t, qs, 1)
	assert.NotContains(t, qs[0], "sys_updated_on")
}

func TestIncrementalFetchKeepsSLAsAndMarksLateBreaches(t *testing.T) {
	srv := setup(t)
	clk := &desktest.Clock{T: now}
	s := newSource(t, srv, func(o *servicenow.Options) {
		o.Now = clk.Now
		o.FullEvery = 24 * time.Hour
		o.SLATargets = map[string]time.Duration{"moderate": 3 * time.Hour}
	})
	ctx := context.Background()
	got, err := s.Fetch(ctx)
	require.NoError(t, err)
	require.True(t, desktest.ByNumber(got)["INC0041208"].SLA.Known)
	require.False(t, desktest.ByNumber(got)["INC0041208"].SLA.Breached)
	// At 11:59 the 3h target of INC0041208 (opened 08:00) has passed,
	// though nothing changed upstream and the incident is not read again.
	srv.Set("incident", inc1, sntest.Record{"sys_updated_on": "2025-11-03 08:00:00"}) // outside the next window
	clk.T = time.Date(2025, 11, 3, 11, 59, 0, 0, time.UTC)
	got, err = s.Fetch(ctx)
	require.NoError(t, err)
	assert.Empty(t, srv.Queries("task_sla")[1:], "only the first poll read SLAs")
	inc := desktest.ByNumber(got)["INC0041208"]
	require.True(t, inc.SLA.Known)
	assert.True(t, inc.SLA.Breached)
}

func TestNegativeFullEveryReadsEverythingEachPoll(t *testing.T) {
	srv := setup(t)
	s := newSource(t, srv, func(o *servicenow.Options) { o.FullEvery = -1 })
	for range 3 {
		_, err := s.Fetch(context.Background())
		require.NoError(t, err)
	}
	qs := srv.Queries("incident")
	require.Len(t, qs, 3)
	for _, q := range qs {
		assert.False(t, strings.Contains(q, "sys_updated_on"), q)
	}
}
