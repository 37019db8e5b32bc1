package sources

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/cache"
)

func snapAt(at time.Time, outages []*model.Outage, sources ...model.SourceStatus) *model.Snapshot {
	return &model.Snapshot{Built: at, Outages: outages, Sources: sources}
}

// A flapping outage (gone for less than the grace period) stays one
// outage; gone, it is closed at once at the moment it went, provisionally
// while the grace runs (a report then already shows it ended), for good
// once the grace has passed.
func TestHistoryRecorderGracePeriod(t *testing.T) {
	c, err := cache.Open(filepath.Join(t.TempDir(), "c.db"))
	require.NoError(t, err)
	defer c.Close()
	r := NewHistoryRecorder(c, HistoryOptions{Grace: 2 * time.Minute})
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	out := func(sev model.Severity, n int) []*model.Outage {
		return []*model.Outage{{Service: "checkout", Severity: sev, Alerts: n}}
	}
	r.Observe(snapAt(sec(0), out(model.SevWarning, 1)))
	r.Observe(snapAt(sec(30), nil))                       // flaps away
	r.Observe(snapAt(sec(60), out(model.SevCritical, 3))) // back within the grace period
	r.Observe(snapAt(sec(90), nil))                       // gone for good
	r.Observe(snapAt(sec(150), nil))
	h, err := c.History(sec(-10), sec(600))
	require.NoError(t, err)
	require.Len(t, h.Outages, 1, "the flap did not open a second outage")
	assert.Equal(t, sec(90), h.Outages[0].Closed, "a report read during the grace shows it ended when it went")
	assert.True(t, h.Outages[0].Provisional, "closed provisionally while the grace runs")
	r.Observe(snapAt(sec(210), nil))
	h, err = c.History(sec(-10), sec(600))
	require.NoError(t, err)
	require.Len(t, h.Outages, 1)
	o := h.Outages[0]
	assert.Equal(t, sec(0), o.Opened)
	assert.Equal(t, sec(90), o.Closed, "closed when it went, not when the grace period ended")
	assert.False(t, o.Provisional, "settled once the grace passed")
	assert.Equal(t, model.SevCritical, o.Severity)
	assert.Equal(t, 3, o.Alerts)

	// A new process taking over the lease carries on from the cache.
	r2 := NewHistoryRecorder(c, HistoryOptions{Grace: time.Minute})
	r2.Observe(snapAt(sec(300), out(model.SevCritical, 1)))
	r3 := NewHistoryRecorder(c, HistoryOptions{Grace: time.Minute})
	r3.Observe(snapAt(sec(310), out(model.SevCritical, 1)))
	h, err = c.History(sec(-10), sec(600))
	require.NoError(t, err)
	assert.Len(t, h.Outages, 2, "the second recorder found the outage the first opened")
}

// An outage begins when its alerts began firing upstream (Outage.Since),
// with the moment this console first saw it beside it; a start later than
// first seen (an upstream clock ahead of ours) counts as first seen; an
// alert that began earlier joining it moves its start back; and a new
// outage never begins before the service's last one ended.
func TestHistoryRecorderOpensWhenTheAlertsBegan(t *testing.T) {
	c, err := cache.Open(filepath.Join(t.TempDir(), "c.db"))
	require.NoError(t, err)
	defer c.Close()
	r := NewHistoryRecorder(c, HistoryOptions{Grace: time.Minute})
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	outage := func(svc string, since, seen time.Time) *model.Outage {
		return &model.Outage{Service: svc, Severity: model.SevCritical, Alerts: 1, Since: since, FirstSeen: seen}
	}
	r.Observe(snapAt(sec(0), []*model.Outage{
		outage("late-svc", sec(-3600), sec(0)), // fired an hour before the console started
		outage("skewed", sec(3600), sec(0)),    // the upstream's clock is an hour ahead
	}))
	r.Observe(snapAt(sec(10), []*model.Outage{
		outage("late-svc", sec(-7200), sec(0)), // an alert that began earlier joins it
		outage("skewed", sec(3600), sec(0)),
	}))
	h, err := c.History(sec(-9000), sec(600))
	require.NoError(t, err)
	by := map[string]model.OutageRecord{}
	for _, o := range h.Outages {
		by[o.Service] = o
	}
	assert.Equal(t, sec(-7200), by["late-svc"].Opened, "opened when its earliest alert began firing upstream")
	assert.Equal(t, sec(0), by["late-svc"].FirstSeen)
	assert.Equal(t, sec(0), by["skewed"].Opened, "a start after first seen counts as first seen")

	r.Observe(snapAt(sec(20), nil))
	r.Observe(snapAt(sec(90), nil)) // late-svc closed for good at 20s
	r.Observe(snapAt(sec(100), []*model.Outage{outage("late-svc", sec(-3600), sec(95))}))
	h, err = c.History(sec(-9000), sec(600))
	require.NoError(t, err)
	var second model.OutageRecord
	for _, o := range h.Outages {
		if o.Service == "late-svc" && o.Opened.After(sec(-7200)) {
			second = o
		}
	}
	assert.Equal(t, sec(20), second.Opened, "a new outage does not begin before the last one ended")
}

func TestHistoryRecorderSourceDownAndUp(t *testing.T) {
	c, err := cache.Open(filepath.Join(t.TempDir(), "c.db"))
	require.NoError(t, err)
	defer c.Close()
	r := NewHistoryRecorder(c, HistoryOptions{})
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	ok := func(n int) model.SourceStatus {
		return model.SourceStatus{Name: "am-eu", LastAttempt: sec(n), LastSuccess: sec(n)}
	}
	bad := func(n, lastOK int) model.SourceStatus {
		return model.SourceStatus{Name: "am-eu", LastAttempt: sec(n), LastSuccess: sec(lastOK), LastError: "connection refused"}
	}
	r.Observe(snapAt(sec(0), nil, ok(0)))
	r.Observe(snapAt(sec(15), nil, bad(15, 0)))
	r.Observe(snapAt(sec(45), nil, bad(45, 0)))
	h, err := c.History(sec(0), sec(600))
	require.NoError(t, err)
	require.Len(t, h.SourceOutages, 1)
	assert.True(t, h.SourceOutages[0].Up.IsZero())
	r.Observe(snapAt(sec(105), nil, ok(105)))
	h, err = c.History(sec(0), sec(600))
	require.NoError(t, err)
	require.Len(t, h.SourceOutages, 1)
	s := h.SourceOutages[0]
	assert.Equal(t, sec(15), s.Down, "down from the first failed attempt")
	assert.Equal(t, sec(105), s.Up, "up at the first success after")
	assert.Equal(t, "connection refused", s.Error)
}

// The ticket backlog is sampled when it changes and every BacklogEvery,
// per source and tier, and the handoff report reads its start and end.
func TestHistoryRecorderSamplesTheBacklog(t *testing.T) {
	c, err := cache.Open(filepath.Join(t.TempDir(), "c.db"))
	require.NoError(t, err)
	defer c.Close()
	r := NewHistoryRecorder(c, HistoryOptions{})
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	min := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
	ticket := func(id string, tier model.Tier, owner string, due time.Time) *model.TicketItem {
		return &model.TicketItem{Ticket: &model.Ticket{Source: "desk", ID: id, Tier: tier, Owner: owner,
			SLA: model.TicketSLA{Known: true, Due: due}}}
	}
	snap := func(at time.Time, items ...*model.TicketItem) *model.Snapshot {
		s := snapAt(at, nil, model.SourceStatus{Name: "desk", LastAttempt: at, LastSuccess: at})
		s.Backlog.Known, s.Tickets = true, items
		return s
	}
	a := ticket("1", model.Tier1, "", min(30))
	b := ticket("2", model.Tier1, "bob", min(5))
	c2 := ticket("3", model.Tier2, "", min(600))
	r.Observe(snap(min(0), a, b, c2))
	r.Observe(snap(min(1), a, b, c2)) // unchanged: no new sample
	r.Observe(snap(min(10), a, c2))   // b closed; a not yet breached
	r.Observe(snap(min(40), a, c2))   // a breached
	r.Observe(snap(min(41), a))       // tier 2 emptied
	h, err := c.History(min(-1), min(60))
	require.NoError(t, err)
	type key struct {
		at         int
		tier       string
		open, unas int
		breached   int
	}
	var got []key
	for _, s := range h.Backlog {
		got = append(got, key{int(s.At.Sub(t0) / time.Minute), s.Tier, s.Open, s.Unassigned, s.Breached})
	}
	assert.ElementsMatch(t, []key{
		{0, "T1", 2, 1, 0}, {0, "T2", 1, 1, 0},
		{10, "T1", 1, 1, 0}, {10, "T2", 1, 1, 0},
		{40, "T1", 1, 1, 1}, {40, "T2", 1, 1, 0},
		{41, "T1", 1, 1, 1}, {41, "T2", 0, 0, 0},
	}, got)

	// A window from the first sample starts with it; one from before
	// it does not know its start, and says from when it knows.
	rep := model.BuildHandoff(h, model.HandoffOptions{Window: model.Window{From: min(0), To: min(60)}})
	require.True(t, rep.Backlog.Known)
	early := model.BuildHandoff(h, model.HandoffOptions{Window: model.Window{From: min(-1), To: min(60)}})
	for i, tier := range rep.Backlog.Tiers {
		if tier.Tier == "T1" {
			require.NotNil(t, tier.Start)
			require.NotNil(t, tier.End)
			assert.Equal(t, 2, tier.Start.Open)
			assert.Equal(t, 1, tier.End.Breached)
			e := early.Backlog.Tiers[i]
			assert.Nil(t, e.Start, "no sample at or before the window's start")
			require.NotNil(t, e.KnownFrom)
			assert.Equal(t, min(0), e.KnownFrom.UTC())
		}
	}
}
