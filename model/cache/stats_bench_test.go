package cache_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/cache"
	"sitroom/model/cache/statstest"
)

// The store's part of the statistics' budgets (docs/stats.md) on a busy
// NOC's year (model/cache/statstest): what `sitroom stats --since 365d`
// and the console's Stats view read. The whole command and the view's
// first frame are measured in sources/runtime.

func yearQuery(end time.Time, days int) model.StatsQuery {
	return model.StatsQuery{From: end.Add(-time.Duration(days) * 24 * time.Hour), To: end}
}

// BenchmarkStatsFacts365d is `sitroom stats --since 365d`'s read of a busy
// NOC's year (the budget: the whole command in 200 ms).
func BenchmarkStatsFacts365d(b *testing.B) {
	end := statstest.End()
	c, err := cache.Open(statstest.Year(b, end))
	require.NoError(b, err)
	defer c.Close()
	for b.Loop() {
		f, err := c.StatsFacts(yearQuery(end, 365))
		if err != nil {
			b.Fatal(err)
		}
		if len(f.Outages) < statstest.Outages*9/10 {
			b.Fatalf("%d outages", len(f.Outages))
		}
	}
}

// BenchmarkStatsFacts30d is the console's Stats view over 30 days.
func BenchmarkStatsFacts30d(b *testing.B) {
	end := statstest.End()
	c, err := cache.Open(statstest.Year(b, end))
	require.NoError(b, err)
	defer c.Close()
	for b.Loop() {
		if _, err := c.StatsFacts(yearQuery(end, 30)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStats365d is `sitroom stats --since 365d` but for the
// formatting: the facts of the year read and built into the figures,
// which must be the generated year's.
func BenchmarkStats365d(b *testing.B) {
	end := statstest.End()
	c, err := cache.Open(statstest.Year(b, end))
	require.NoError(b, err)
	defer c.Close()
	opt := model.StatsOptions{Bucket: model.BucketWeek, Shifts: model.ShiftSchedule{Zone: time.UTC,
		Starts: []time.Duration{7 * time.Hour, 15 * time.Hour, 23 * time.Hour}}, Now: end}
	var s *model.Stats
	for b.Loop() {
		f, err := c.StatsFacts(yearQuery(end, 365))
		if err != nil {
			b.Fatal(err)
		}
		s = model.BuildStats(f, opt)
	}
	statstest.CheckYear(b, s)
}
