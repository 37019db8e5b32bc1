package ui_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

func secs(s int64) *int64 { return &s }

// statsFixture is a fortnight of a NOC's figures by day, made by hand so
// the goldens do not depend on how they are computed.
func statsFixture() *model.Stats {
	from := time.Date(2026, 2, 16, 0, 0, 0, 0, time.UTC)
	s := &model.Stats{Version: 1, Zone: "UTC", From: from, To: from.AddDate(0, 0, 14), Bucket: model.BucketDay, Whose: "host", HasTickets: true}
	counts := []int{0, 2, 1, 0, 5, 3, 0, 1, 0, 0, 7, 2, 1, 0}
	for i, n := range counts {
		p := model.StatsPeriod{From: from.AddDate(0, 0, i), To: from.AddDate(0, 0, i+1), Outages: n,
			BySeverity: map[model.Severity]int{}, Escalations: map[string]int{}, Tickets: map[string]model.TicketCounts{},
			Alerts: n*12 + i}
		if n > 0 {
			p.BySeverity[model.SevCritical] = n / 2
			p.BySeverity[model.SevWarning] = n - n/2
			p.TTASamples, p.TTAP50, p.TTAP90 = n, secs(int64(120+60*i)), secs(int64(300+90*i))
			p.TTRSamples, p.TTRP50, p.TTRP90 = n, secs(int64(1800+600*n)), secs(int64(3600+900*n))
			p.Escalations["1"] = n / 2
			p.Tickets["1"] = model.TicketCounts{Opened: n + 1, Closed: n, Breached: n / 3}
		}
		s.Buckets = append(s.Buckets, p)
	}
	s.Totals = model.StatsPeriod{From: s.From, To: s.To, Outages: 22,
		BySeverity: map[model.Severity]int{model.SevCritical: 9, model.SevWarning: 13},
		TTASamples: 21, TTAP50: secs(250), TTAP90: secs(1140), TTRSamples: 20, TTRP50: secs(4500), TTRP90: secs(12600),
		Escalations: map[string]int{"1": 8, "2": 1}, AcksExpired: 1, Alerts: 355,
		Tickets: map[string]model.TicketCounts{"1": {Opened: 31, Closed: 22, Breached: 5}, "2": {Opened: 4, Closed: 4}}}
	s.Shifts = []model.StatsShift{
		{Start: "07:00", StatsPeriod: model.StatsPeriod{Outages: 12, TTASamples: 12, TTAP50: secs(200), TTAP90: secs(700), TTRSamples: 11, TTRP50: secs(3900), TTRP90: secs(9000), Alerts: 190}},
		{Start: "15:00", StatsPeriod: model.StatsPeriod{Outages: 9, TTASamples: 8, TTAP50: secs(320), TTAP90: secs(1500), TTRSamples: 8, TTRP50: secs(5100), TTRP90: secs(14000), Alerts: 150}},
		{Start: "23:00", StatsPeriod: model.StatsPeriod{Outages: 1, TTASamples: 1, TTAP50: secs(900), TTAP90: secs(900), Alerts: 15}},
	}
	s.TopByOutages = []model.ServiceLoad{{Service: "checkout", Outages: 9, Seconds: 40200, TTAP50: secs(180)}, {Service: "payments", Outages: 7, Seconds: 61000, TTAP50: secs(300)}, {Service: "db-main", Outages: 1, Seconds: 900}}
	s.TopByTime = []model.ServiceLoad{{Service: "payments", Outages: 7, Seconds: 61000}, {Service: "checkout", Outages: 9, Seconds: 40200}, {Service: "db-main", Outages: 1, Seconds: 900}}
	s.Flapping = []model.FlappingAlert{{Key: "k1", Name: "HighErrorRate", Service: "checkout", Cycles: 14}, {Key: "k2", Name: "DiskFull \x1b[31m[red]", Service: "db-main", Cycles: 2}}
	s.Sources = []model.SourceVolume{{Source: "am-main", Alerts: 301}, {Source: "prom", Alerts: 53}, {Source: "cw", Alerts: 1}}
	return s
}

// quietStats is a week in which nothing happened.
func quietStats() *model.Stats {
	from := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	s := &model.Stats{Version: 1, Zone: "UTC", From: from, To: from.AddDate(0, 0, 7), Bucket: model.BucketDay, Whose: "host"}
	for i := range 7 {
		s.Buckets = append(s.Buckets, model.StatsPeriod{From: from.AddDate(0, 0, i), To: from.AddDate(0, 0, i+1)})
	}
	s.Totals = model.StatsPeriod{From: s.From, To: s.To}
	return s
}

func statsText(t *testing.T, s *model.Stats, o ui.StatsTextOptions) string {
	t.Helper()
	var b strings.Builder
	require.NoError(t, ui.StatsText(&b, s, o))
	return b.String()
}

// The text report at the default width and the narrowest, without colour.
func TestStatsTextGoldens(t *testing.T) {
	for _, w := range []int{100, 60} {
		text := statsText(t, statsFixture(), ui.StatsTextOptions{Width: w})
		uitest.Golden(t, "stats-text-"+strconv.Itoa(w), strings.Split(strings.TrimSuffix(text, "\n"), "\n"))
		for i, line := range strings.Split(text, "\n") {
			assert.LessOrEqual(t, len([]rune(line)), w, "line %d is wider than %d: %q", i+1, w, line)
		}
	}
	uitest.Golden(t, "stats-text-quiet", strings.Split(strings.TrimSuffix(statsText(t, quietStats(), ui.StatsTextOptions{Span: "the last 7 days"}), "\n"), "\n"))
}

// What an ops lead reads: the words, the durations as the handoff writes
// them, hostile text inert, colour only when asked for.
func TestStatsTextReads(t *testing.T) {
	plain := statsText(t, statsFixture(), ui.StatsTextOptions{})
	assert.Contains(t, plain, "22 outages (critical 9 · warning 13)")
	assert.Contains(t, plain, "MTTA          p50 4m10s · p90 19m")
	assert.Contains(t, plain, "MTTR          p50 1h15m · p90 3h30m")
	assert.Contains(t, plain, "1 ack lapsed")
	assert.Contains(t, plain, "db-main")
	assert.Contains(t, plain, "1 outage")
	assert.NotRegexp(t, `\b1 outages`, plain)
	assert.Contains(t, plain, "14 cycles")
	assert.Contains(t, plain, "1 alert\n")
	assert.Contains(t, plain, `DiskFull \x1b[31m[red]`, "alert names are drawn inert")
	assert.NotContains(t, plain, "\x1b", "no colour unless asked, no escape from upstream text")
	assert.Contains(t, plain, "█")

	colour := statsText(t, statsFixture(), ui.StatsTextOptions{Color: true})
	assert.Contains(t, colour, "\x1b[1mNOC statistics")
	assert.Equal(t, plain, stripSGR(colour), "colour adds nothing but colour")

	quiet := statsText(t, quietStats(), ui.StatsTextOptions{Span: "the last 7 days"})
	assert.Contains(t, quiet, "no outages in the last 7 days")
	assert.NotContains(t, quiet, "Outages per day", "no empty chart")
}

// A team report says whose history it is; an unreachable store says so
// with the handoff's words.
func TestStatsTextWhose(t *testing.T) {
	s := quietStats()
	s.Whose = "team"
	assert.Contains(t, statsText(t, s, ui.StatsTextOptions{}), "the team's history")
	s.Whose, s.WhoseDetail, s.WhoseError = "host", model.TeamUnreachableNote, "connection refused"
	assert.Contains(t, statsText(t, s, ui.StatsTextOptions{}), model.TeamUnreachableNote+": connection refused")
}

func stripSGR(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == ';') {
				j++
			}
			if j < len(s) && s[j] == 'm' {
				i = j
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// A year by day on a narrow terminal: the chart groups days into its
// columns and says so; no line is wider than the terminal.
func TestStatsTextYearFits(t *testing.T) {
	from := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	s := &model.Stats{Version: 1, Zone: "UTC", From: from, To: from.AddDate(0, 0, 365), Bucket: model.BucketDay, Whose: "host"}
	for i := range 365 {
		p := model.StatsPeriod{From: from.AddDate(0, 0, i), To: from.AddDate(0, 0, i+1), Outages: i % 5}
		if i%5 > 0 {
			p.TTAP50, p.TTRP50 = secs(int64(60*(i%7+1))), secs(int64(600*(i%11+1)))
		}
		s.Buckets = append(s.Buckets, p)
		s.Totals.Outages += p.Outages
	}
	s.Totals.TTASamples, s.Totals.TTAP50 = 10, secs(300)
	text := statsText(t, s, ui.StatsTextOptions{Width: 60})
	assert.Contains(t, text, "each column: 7 days")
	for i, line := range strings.Split(text, "\n") {
		assert.LessOrEqual(t, len([]rune(line)), 60, "line %d: %q", i+1, line)
	}
}
