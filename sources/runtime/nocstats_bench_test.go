package runtime_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
	"sitroom/model/cache"
	"sitroom/model/cache/statstest"
	"sitroom/model/config"
	"sitroom/sources/runtime"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

// The budgets of NOC statistics (docs/stats.md) end to end, on a busy
// NOC's year (model/cache/statstest: 50k outages, 1M alert episodes, 200k
// tickets, 500k actions): `sitroom stats --since 365d` ≤ 200 ms and the
// Stats view's first frame ≤ 100 ms. The store's part alone is
// BenchmarkStatsFacts365d in model/cache.

// yearOptions is the year's cache file and a config naming its services,
// as `sitroom stats --config … --db …` would be given.
func yearOptions(b *testing.B) (runtime.Options, string) {
	b.Helper()
	db := statstest.Year(b, statstest.End())
	var cfg strings.Builder
	cfg.WriteString("services:\n")
	for _, s := range statstest.Services() {
		cfg.WriteString("  - {name: " + s + ", owner: team-" + s[len(s)-1:] + "}\n")
	}
	path := filepath.Join(b.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(cfg.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	return runtime.Options{ConfigPath: path, DBPath: db}, path
}

// BenchmarkStatsCommand365d is `sitroom stats --since 365d --format F`
// as main runs it: runtime.NocStats (config, cache, facts, figures) and
// the format, written to io.Discard, per format.
func BenchmarkStatsCommand365d(b *testing.B) {
	o, _ := yearOptions(b)
	req := runtime.StatsRequest{Since: 365 * 24 * time.Hour, Bucket: model.BucketDay, Top: 10}
	formats := []struct {
		name  string
		write func(*model.Stats) error
	}{
		{"text", func(s *model.Stats) error {
			return ui.StatsText(io.Discard, s, ui.StatsTextOptions{Width: 100, Span: runtime.SpanWords(req)})
		}},
		{"md", func(s *model.Stats) error { _, err := io.WriteString(io.Discard, s.Markdown()); return err }},
		{"json", func(s *model.Stats) error { return discard(s.JSON()) }},
		{"csv", func(s *model.Stats) error { return discard(s.CSV()) }},
		{"html", func(s *model.Stats) error { return discard(s.HTML()) }},
	}
	for _, f := range formats {
		b.Run(f.name, func(b *testing.B) {
			var s *model.Stats
			for b.Loop() {
				var err error
				if s, err = runtime.NocStats(o, req, time.Now()); err != nil {
					b.Fatal(err)
				}
				if err := f.write(s); err != nil {
					b.Fatal(err)
				}
			}
			reportMillis(b)
			statstest.CheckYear(b, s)
		})
	}
}

func discard(b []byte, err error) error {
	if err != nil {
		return err
	}
	_, err = io.Discard.Write(b)
	return err
}

// reportMillis reports the time per operation in milliseconds, the unit
// of the budgets.
func reportMillis(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
}

// statsSource is the Stats view's figures read by the runtime, wired as
// main wires ui.Options.Stats.
type statsSource struct{ rt *runtime.Runtime }

func (s statsSource) Stats(ctx context.Context, q ui.StatsRequest) (*model.Stats, error) {
	return s.rt.Stats(ctx, q.Days, q.Bucket, q.Service)
}

// BenchmarkStatsViewFirstFrame365d is the Stats view's first frame on a
// year's cache at 200×60, as an operator waits for it: from the key (the
// view's request to Runtime.Stats, the facts of the last 7 or 30 days read
// and built on the view's worker) to the frame drawn with the figures.
func BenchmarkStatsViewFirstFrame365d(b *testing.B) {
	o, cfgPath := yearOptions(b)
	cfg, err := config.Load(cfgPath)
	if err != nil {
		b.Fatal(err)
	}
	c, err := cache.Open(o.DBPath)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	rt := &runtime.Runtime{Config: cfg, Cache: c}
	for _, days := range []int{7, 30} {
		b.Run(model.Plural(days, "day", "days"), func(b *testing.B) {
			h := uitest.Start(b, ui.Options{Stats: statsSource{rt}, Operator: "noc1"}, 200, 60)
			if days == 30 {
				h.Type("T")
				h.Type("p") // the view keeps its span when it opens again
				h.Key(tcell.KeyEscape)
			}
			for b.Loop() {
				h.Type("T")
				b.StopTimer()
				h.Key(tcell.KeyEscape)
				b.StartTimer()
			}
			reportMillis(b)
			h.Type("T")
			text := strings.Join(h.Text(), "\n")
			if !strings.Contains(text, "Stats · the last "+model.Plural(days, "day", "days")) || strings.Contains(text, "loading") ||
				!strings.Contains(text, "svc-00") {
				b.Fatalf("the first frame is not the figures of the last %d days:\n%s", days, text)
			}
		})
	}
}
