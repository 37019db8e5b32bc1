package model

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func london(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/London")
	require.NoError(t, err)
	return loc
}

// statsFixture is a week around the 2026 spring clock change in London
// (Sunday 29 March, 01:00 GMT → 02:00 BST): from Thursday 26 March 00:00
// to Wednesday 1 April 12:00, with the default shifts 07:00, 15:00 and
// 23:00.
func statsFixture(t testing.TB) (*StatsFacts, StatsOptions) {
	loc := london(t)
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		require.NoError(t, err)
		return tm
	}
	f := &StatsFacts{
		From: at("2026-03-26 00:00"), To: at("2026-04-01 12:00"),
		Outages: []StatsOutage{
			// opened and closed in the day shift, acked after 5m
			{Service: "db-main", Severity: SevCritical, Opened: at("2026-03-26 08:00"), FirstAck: at("2026-03-26 08:05"),
				Closed: at("2026-03-26 09:00"), Alerts: 3},
			{Service: "payments", Severity: SevWarning, Opened: at("2026-03-26 16:30"), FirstAck: at("2026-03-26 16:40"),
				Closed: at("2026-03-26 17:00"), Alerts: 1},
			// in the night shift of the clock change (23:00 GMT → 07:00 BST)
			{Service: "checkout", Severity: SevCritical, Opened: at("2026-03-29 03:30"), FirstAck: at("2026-03-29 03:50"),
				Closed: at("2026-03-29 05:00"), Alerts: 2},
			// carried over from before the span: time in outage only
			{Service: "web", Severity: SevWarning, Opened: at("2026-03-25 22:00"), FirstAck: at("2026-03-25 22:01"),
				Closed: at("2026-03-26 02:00"), Alerts: 1},
			// open at the span's end, acked within it
			{Service: "db-main", Severity: SevWarning, Opened: at("2026-04-01 11:00"), FirstAck: at("2026-04-01 11:30"), Alerts: 1},
			// open across the span's end, acked only after it, closed after it
			{Service: "search | <b>*x*</b>", Severity: SevInfo, Opened: at("2026-03-31 10:00"), FirstAck: at("2026-04-01 12:30"),
				Closed: at("2026-04-01 13:00"), Alerts: 1},
		},
		Escalations: []StatsEscalation{
			{At: at("2026-03-26 08:10"), Service: "db-main", Level: 1, Operator: "alice"},
			{At: at("2026-03-29 04:00"), Service: "checkout", Level: 2, Operator: "bob"},
			{At: at("2026-04-01 12:10"), Service: "db-main", Level: 1, Operator: "bob"}, // after the span
		},
		AcksExpired: []StatsAckExpiry{{At: at("2026-03-30 10:00"), Service: "web", Operator: "carol"}},
		AlertHours: []AlertHour{
			{Hour: at("2026-03-26 08:00").UTC(), Source: "prom-eu", Fired: 4},
			{Hour: at("2026-03-26 16:00").UTC(), Source: "am-main", Fired: 2},
			{Hour: at("2026-03-29 03:00").UTC(), Source: "prom-eu", Fired: 3},
			{Hour: at("2026-03-31 10:00").UTC(), Source: "=cmd|' /C calc'!A0", Fired: 1},
		},
		Flapping: []FlappingAlert{
			{Key: "k2", Name: "Latency", Service: "payments", Cycles: 3},
			{Key: "k1", Name: "PgDown", Service: "db-main", Cycles: 5},
		},
		TicketHours: []TicketHour{
			{Hour: at("2026-03-26 09:00").UTC(), Source: "desk", Tier: 1, Opened: 3, Closed: 1},
			{Hour: at("2026-03-30 14:00").UTC(), Source: "desk", Tier: 2, Opened: 1, Breached: 1},
		},
		HasTickets: true,
	}
	opt := StatsOptions{Bucket: BucketDay, Shifts: ShiftSchedule{Zone: loc, Starts: DefaultShiftStarts}}
	return f, opt
}

func secsP(d time.Duration) *int64 { return ptr(int64(d / time.Second)) }

func TestStatsBucketsAcrossTheClockChange(t *testing.T) {
	f, opt := statsFixture(t)
	s := BuildStats(f, opt)
	loc := london(t)
	require.Len(t, s.Buckets, 7, "26 Mar to 1 Apr, every day present")
	var labels []string
	for _, b := range s.Buckets {
		labels = append(labels, s.PeriodLabel(b))
	}
	assert.Equal(t, []string{"Thu 26 Mar", "Fri 27 Mar", "Sat 28 Mar", "Sun 29 Mar", "Mon 30 Mar", "Tue 31 Mar", "Wed 01 Apr"}, labels)
	assert.Equal(t, 23*time.Hour, s.Buckets[3].To.Sub(s.Buckets[3].From), "the day the clocks go forward is 23 hours long")
	assert.Equal(t, 12*time.Hour, s.Buckets[6].To.Sub(s.Buckets[6].From), "the last day is cut at the span's end (12:00 BST)")
	assert.Equal(t, time.Date(2026, 4, 1, 11, 0, 0, 0, time.UTC), s.Buckets[6].To)
	for i := 1; i < len(s.Buckets); i++ {
		assert.Equal(t, s.Buckets[i-1].To, s.Buckets[i].From, "buckets are contiguous")
		assert.Equal(t, 0, s.Buckets[i].From.In(loc).Hour(), "buckets start at local midnight")
	}
	// empty days are present with zeros
	for _, i := range []int{1, 2, 4} {
		assert.Zero(t, s.Buckets[i].Outages, labels[i])
		assert.Nil(t, s.Buckets[i].TTAP50, labels[i])
	}
	assert.Equal(t, 1, s.Buckets[4].AcksExpired)
	assert.Equal(t, TicketCounts{Opened: 1, Breached: 1}, s.Buckets[4].Tickets["2"])

	opt.Bucket = BucketWeek
	w := BuildStats(f, opt)
	require.Len(t, w.Buckets, 2)
	assert.Equal(t, f.From.UTC(), w.Buckets[0].From, "the first week is cut at the span's start (a Thursday)")
	assert.Equal(t, time.Date(2026, 3, 30, 0, 0, 0, 0, loc).UTC(), w.Buckets[0].To, "weeks turn on Monday 00:00 local")
	assert.Equal(t, 4*24*time.Hour-time.Hour, w.Buckets[0].To.Sub(w.Buckets[0].From), "Thu–Sun, one hour short")
	assert.Equal(t, 3, w.Buckets[0].Outages)
	assert.Equal(t, 2, w.Buckets[1].Outages)

	// A whole week from Monday: one bucket of 167 hours.
	f2 := &StatsFacts{From: time.Date(2026, 3, 23, 0, 0, 0, 0, loc), To: time.Date(2026, 3, 30, 0, 0, 0, 0, loc)}
	w2 := BuildStats(f2, opt)
	require.Len(t, w2.Buckets, 1)
	assert.Equal(t, 167*time.Hour, w2.Buckets[0].To.Sub(w2.Buckets[0].From))
	assert.Zero(t, w2.Totals.Outages)
	assert.NotNil(t, w2.Buckets[0].BySeverity, "an empty bucket still has its maps")
}

func TestStatsFigures(t *testing.T) {
	f, opt := statsFixture(t)
	s := BuildStats(f, opt)
	tot := s.Totals
	assert.Equal(t, 5, tot.Outages, "the carried-over outage does not count as opened")
	assert.Equal(t, SeverityCounts{SevCritical: 2, SevWarning: 2, SevInfo: 1}, tot.BySeverity)
	// TTA: 5m, 10m, 20m, 30m; the outage acked after the span's end has none.
	assert.Equal(t, 4, tot.TTASamples)
	assert.Equal(t, secsP(10*time.Minute), tot.TTAP50, "nearest rank: the 2nd of 4")
	assert.Equal(t, secsP(30*time.Minute), tot.TTAP90, "nearest rank: the 4th of 4")
	// TTR: 1h, 30m, 1h30m; the two open at the span's end have none.
	assert.Equal(t, 3, tot.TTRSamples)
	assert.Equal(t, secsP(time.Hour), tot.TTRP50)
	assert.Equal(t, secsP(90*time.Minute), tot.TTRP90)
	assert.Equal(t, map[string]int{"1": 1, "2": 1}, tot.Escalations, "the escalation after the span is not counted")
	assert.Equal(t, 1, tot.AcksExpired)
	assert.Equal(t, map[string]TicketCounts{"1": {Opened: 3, Closed: 1}, "2": {Opened: 1, Breached: 1}}, tot.Tickets)
	assert.Equal(t, 10, tot.Alerts)

	// Each outage in the bucket it opened in.
	assert.Equal(t, 2, s.Buckets[0].Outages)
	assert.Equal(t, secsP(5*time.Minute), s.Buckets[0].TTAP50)
	assert.Equal(t, secsP(10*time.Minute), s.Buckets[0].TTAP90)
	assert.Equal(t, 1, s.Buckets[3].Outages)
	assert.Equal(t, 1, s.Buckets[5].Outages, "the outage open across the end counts where it opened")
	assert.Equal(t, 0, s.Buckets[5].TTASamples, "acked only after the span's end")
	assert.Equal(t, 0, s.Buckets[5].TTRSamples)
	assert.Equal(t, 1, s.Buckets[6].TTASamples)

	// Per shift.
	require.Len(t, s.Shifts, 3)
	got := map[string]int{}
	for _, sh := range s.Shifts {
		got[sh.Start] = sh.Outages
	}
	assert.Equal(t, map[string]int{"07:00": 3, "15:00": 1, "23:00": 1}, got)
	assert.Equal(t, "23:00", s.Shifts[2].Start)
	assert.Equal(t, map[string]int{"2": 1}, s.Shifts[2].Escalations, "04:00 BST is in the night shift")
	assert.Equal(t, 3, s.Shifts[2].Alerts)
	assert.Equal(t, map[string]TicketCounts{"1": {Opened: 3, Closed: 1}, "2": {Opened: 1, Breached: 1}}, s.Shifts[0].Tickets,
		"09:00 GMT and 14:00 BST are in the day shift")

	// Top lists.
	var byOutages, byTime []string
	for _, l := range s.TopByOutages {
		byOutages = append(byOutages, l.Service)
	}
	for _, l := range s.TopByTime {
		byTime = append(byTime, l.Service)
	}
	assert.Equal(t, []string{"db-main", "search | <b>*x*</b>", "checkout", "payments"}, byOutages)
	assert.Equal(t, []string{"search | <b>*x*</b>", "db-main", "web", "checkout", "payments"}, byTime)
	assert.Equal(t, int64(26*3600), s.TopByTime[0].Seconds, "clipped at the span's end")
	assert.Equal(t, int64(2*3600), s.TopByTime[1].Seconds, "1h closed + 1h open up to the span's end")
	assert.Equal(t, int64(2*3600), s.TopByTime[2].Seconds, "the carried-over outage from the span's start")
	assert.Equal(t, secsP(5*time.Minute), s.TopByOutages[0].TTAP50, "db-main: 5m and 30m")
	assert.Nil(t, s.TopByOutages[1].TTAP50)
	assert.Equal(t, "PgDown", s.Flapping[0].Name, "most cycles first")
	assert.Equal(t, []SourceVolume{{"prom-eu", 7}, {"am-main", 2}, {"=cmd|' /C calc'!A0", 1}}, s.Sources)

	// Now before To ends open outages' time in outage.
	opt.Now = time.Date(2026, 4, 1, 10, 30, 0, 0, time.UTC) // 11:30 BST
	s = BuildStats(f, opt)
	assert.Equal(t, int64(3600+30*60), secondsOf(s.TopByTime, "db-main"))

	// Top caps every list.
	opt.Top = 1
	s = BuildStats(f, opt)
	assert.Len(t, s.TopByOutages, 1)
	assert.Len(t, s.TopByTime, 1)
	assert.Len(t, s.Flapping, 1)
	assert.Len(t, s.Sources, 1)
}

func secondsOf(l []ServiceLoad, svc string) int64 {
	for _, x := range l {
		if x.Service == svc {
			return x.Seconds
		}
	}
	return -1
}

func TestStatsShiftFilter(t *testing.T) {
	f, opt := statsFixture(t)
	opt.Shift = "23:00"
	s := BuildStats(f, opt)
	assert.Equal(t, "23:00", s.Shift)
	assert.Equal(t, 1, s.Totals.Outages)
	assert.Equal(t, map[string]int{"2": 1}, s.Totals.Escalations)
	assert.Equal(t, 3, s.Totals.Alerts, "only the alert hours of night shifts")
	assert.Empty(t, s.Totals.Tickets)
	assert.Equal(t, 0, s.Shifts[0].Outages, "other shifts are empty under the filter")
	require.Len(t, s.TopByOutages, 1)
	assert.Equal(t, "checkout", s.TopByOutages[0].Service)
	assert.Equal(t, []SourceVolume{{"prom-eu", 3}}, s.Sources)
}

func TestStatsWhose(t *testing.T) {
	f, opt := statsFixture(t)
	for _, c := range []struct {
		team          TeamHistory
		whose, detail string
		md            string
	}{
		{TeamHistory{}, "host", "", "History: this host's\n"},
		{TeamHistory{Mode: true}, "team", "", "History: the team's (every host's view)\n"},
		{TeamHistory{Mode: true, Unreachable: true, Error: "dial tcp: refused"}, "host", TeamUnreachableNote,
			"History: **team store unreachable: this host's history only**: dial tcp: refused\n"},
	} {
		f.Team = c.team
		s := BuildStats(f, opt)
		assert.Equal(t, c.whose, s.Whose)
		assert.Equal(t, c.detail, s.WhoseDetail)
		assert.Contains(t, s.Markdown(), c.md)
	}
}

func TestStatsEmptySpan(t *testing.T) {
	loc := london(t)
	from := time.Date(2026, 3, 2, 0, 0, 0, 0, loc)
	s := BuildStats(&StatsFacts{From: from, To: from.AddDate(0, 0, 3)}, StatsOptions{Shifts: ShiftSchedule{Zone: loc}})
	assert.Equal(t, BucketDay, s.Bucket)
	assert.Len(t, s.Buckets, 3)
	assert.Len(t, s.Shifts, 3)
	md := s.Markdown()
	assert.Contains(t, md, "- 0 outages opened\n")
	assert.Contains(t, md, "- Time to acknowledge: — (0 outages acked)\n")
	assert.Contains(t, md, "- 0 acks expired\n")
	assert.Contains(t, md, "- Tickets: no ticket source\n")
	assert.NotContains(t, md, "Tickets opened", "no ticket columns without a ticket source")
	// no span at all: no buckets, no panic
	s = BuildStats(&StatsFacts{From: from, To: from}, StatsOptions{})
	assert.Empty(t, s.Buckets)
}

// TestStatsTTAMatchesHandoff builds a shift's History and the StatsFacts
// the store gives for the same records: the shift's TTA (and, for
// outages opened in it, TTR) are the handoff's.
func TestStatsTTAMatchesHandoff(t *testing.T) {
	loc := london(t)
	from := time.Date(2026, 3, 2, 7, 0, 0, 0, loc)
	to := from.Add(8 * time.Hour)
	type ack struct {
		at      time.Duration // after from
		refused bool
	}
	recs := []struct {
		service        string
		opened, closed time.Duration // after from; closed 0: open
		acks           []ack
	}{
		{"a", 10 * time.Minute, time.Hour, []ack{{12 * time.Minute, false}}},
		{"b", 20 * time.Minute, 0, []ack{{21 * time.Minute, true}, {30 * time.Minute, false}}},             // refused first
		{"c", 40 * time.Minute, 50 * time.Minute, []ack{{55 * time.Minute, false}}},                        // ack after close
		{"d", time.Hour, 0, []ack{{9 * time.Hour, false}}},                                                 // ack after the shift
		{"e", 2 * time.Hour, 0, []ack{{time.Hour, false}, {2*time.Hour + 7*time.Minute, false}}},           // ack before open
		{"f", -time.Hour, 3 * time.Hour, []ack{{-30 * time.Minute, false}}},                                // carried over
		{"g", 3 * time.Hour, 4 * time.Hour, []ack{{3*time.Hour + 45*time.Minute, false}}},                  // 45m
		{"h", 5 * time.Hour, 9 * time.Hour, []ack{{5*time.Hour + 2*time.Minute, false}}},                   // closes after
		{"i", 6 * time.Hour, 7 * time.Hour, []ack{{6*time.Hour + 20*time.Minute, false}}},                  // 20m
		{"j", 7 * time.Hour, 0, []ack{{7*time.Hour + 59*time.Minute + 59*time.Second, false}}},             // just in
		{"k", 7*time.Hour + 59*time.Minute, 0, []ack{{7*time.Hour + 59*time.Minute + time.Second, false}}}, // 1s
	}
	h := &History{From: from.Add(-8 * time.Hour), To: to}
	f := &StatsFacts{From: from, To: to}
	id := int64(0)
	for _, r := range recs {
		o := OutageRecord{Service: r.service, Severity: SevCritical, Opened: from.Add(r.opened)}
		if r.closed != 0 {
			o.Closed = from.Add(r.closed)
		}
		h.Outages = append(h.Outages, o)
		so := StatsOutage{Service: o.Service, Severity: o.Severity, Opened: o.Opened, Closed: o.Closed}
		for _, a := range r.acks {
			id++
			e := AuditEntry{ID: id, At: from.Add(a.at), Verb: VerbAck, Service: r.service, Operator: "op", State: ActionDelivered}
			if a.refused {
				e.State = ActionRefused
			}
			h.Audit = append(h.Audit, e)
			// the store's FirstAck: the first ack not refused while open
			if !a.refused && so.FirstAck.IsZero() && !e.At.Before(o.Opened) && (o.Closed.IsZero() || e.At.Before(o.Closed)) {
				so.FirstAck = e.At
			}
		}
		f.Outages = append(f.Outages, so)
	}
	handoff := BuildHandoff(h, HandoffOptions{Window: Window{From: from, To: to}, Previous: Window{From: from.Add(-8 * time.Hour), To: from},
		Next: Window{From: to, To: to.Add(8 * time.Hour)}, Zone: loc})
	s := BuildStats(f, StatsOptions{Shifts: ShiftSchedule{Zone: loc}})
	hs := handoff.Stats
	require.Equal(t, 8, hs.TTASamples, "the fixture exercises the rule")
	var shift StatsPeriod
	for _, sh := range s.Shifts {
		if sh.Start == "07:00" {
			shift = sh.StatsPeriod
		}
	}
	for name, p := range map[string]StatsPeriod{"totals": s.Totals, "07:00 shift": shift} {
		assert.Equal(t, hs.Opened, p.Outages, name)
		assert.Equal(t, hs.TTASamples, p.TTASamples, name)
		assert.Equal(t, hs.TTAP50, p.TTAP50, name)
		assert.Equal(t, hs.TTAP90, p.TTAP90, name)
	}
	// TTR: the handoff counts the carried-over outage that closed in the
	// shift; stats count outages where they opened.
	assert.Equal(t, hs.TTRSamples-1, s.Totals.TTRSamples)
}

var updateStats = updateHandoff

func statsGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "stats", name)
	if *updateStats {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./model -run Stats -update to create it")
	assert.Equal(t, string(want), string(got), "golden %s (go test ./model -run Stats -update rewrites it)", name)
}

func TestStatsMarkdownGoldens(t *testing.T) {
	f, opt := statsFixture(t)
	statsGolden(t, "day.md", []byte(BuildStats(f, opt).Markdown()))

	opt.Bucket, opt.Service, opt.Team, opt.Top = BucketWeek, "db-main", "`dba` *team*", 2
	f.Team = TeamHistory{Mode: true, Unreachable: true, Error: "dial tcp 10.0.0.5:5432: connection refused"}
	f.HasTickets = false
	var kept []StatsOutage
	for _, o := range f.Outages {
		if o.Service == "db-main" {
			kept = append(kept, o)
		}
	}
	f.Outages = kept
	statsGolden(t, "week.md", []byte(BuildStats(f, opt).Markdown()))
}
