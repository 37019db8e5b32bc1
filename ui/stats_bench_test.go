package ui_test

import (
	"io"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

// yearStats is a busy year by day: 365 buckets, full top lists.
func yearStats() *model.Stats {
	s := statsFixture()
	from := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	s.From, s.To, s.Buckets = from, from.AddDate(1, 0, 0), nil
	for i := range 365 {
		p := model.StatsPeriod{From: from.AddDate(0, 0, i), To: from.AddDate(0, 0, i+1), Outages: 100 + i%60,
			BySeverity: map[model.Severity]int{model.SevCritical: 40}, Alerts: 2700 + i, TTASamples: 90, TTRSamples: 88,
			TTAP50: secs(int64(120 + i%300)), TTAP90: secs(900), TTRP50: secs(int64(2400 + 7*i)), TTRP90: secs(9000)}
		s.Buckets = append(s.Buckets, p)
	}
	for len(s.TopByOutages) < 10 {
		s.TopByOutages = append(s.TopByOutages, s.TopByOutages[0])
		s.TopByTime = append(s.TopByTime, s.TopByTime[0])
	}
	return s
}

// BenchmarkStatsText is `sitroom stats --format text` of a year by day,
// once the figures are built.
func BenchmarkStatsText(b *testing.B) {
	s := yearStats()
	for b.Loop() {
		if err := ui.StatsText(io.Discard, s, ui.StatsTextOptions{Width: 100}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStatsViewFrame is the Stats view's first frame of a year's
// figures at 200×60 once they arrived: the key, the layout and the frame.
func BenchmarkStatsViewFrame(b *testing.B) {
	h := uitest.Start(b, ui.Options{Stats: &fakeStats{s: yearStats()}, Now: func() time.Time { return statsNow }}, 200, 60)
	for b.Loop() {
		h.Type("T")
		h.Key(tcell.KeyEscape)
	}
}
