package runtime_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"sitroom/model"
	"sitroom/model/cache"
	"sitroom/sources"
	"sitroom/sources/alertmanager"
	"sitroom/sources/runtime"
	"sitroom/ui"
)

// BenchmarkFirstFrameWarm is the start-up budget of PRODUCT.md (first
// frame from a warm cache ≤ 50 ms) as an operator waits for it: from
// opening a cache file the poller filled to a 200×60 frame drawn with
// data. "preview" is what the dashboard draws first, the 500 most severe
// open alerts (sources.Poller.Preview); "full" is the first complete
// snapshot, every open alert loaded, which replaces it.
func BenchmarkFirstFrameWarm(b *testing.B) {
	screen := benchScreen(b)
	for _, n := range []int{10_000, 100_000} {
		path, jobs := warmFirstFrameCache(b, n)
		for _, mode := range []string{"preview", "full"} {
			b.Run(fmt.Sprintf("%s/%dk", mode, n/1000), func(b *testing.B) {
				for b.Loop() {
					c, err := cache.Open(path)
					if err != nil {
						b.Fatal(err)
					}
					p := sources.NewPoller(c, jobs, sources.PollerOptions{})
					var snap *model.Snapshot
					if mode == "preview" {
						snap, err = p.Preview(runtime.PreviewRows)
					} else {
						snap, err = p.Snapshot()
					}
					if err != nil {
						b.Fatal(err)
					}
					if want := map[string]int{"preview": runtime.PreviewRows, "full": n}[mode]; len(snap.Signals) != want {
						b.Fatalf("%d signals, want %d", len(snap.Signals), want)
					}
					ui.DrawPanel(screen, ui.PanelScreen, snap, ui.DrawOptions{Now: time.Now()})
					b.StopTimer()
					c.Close()
					b.StartTimer()
				}
			})
		}
	}
}

// warmFirstFrameCache fills a cache with n open alerts, 50k per source
// as several upstreams would, and returns it with the jobs of its sources.
func warmFirstFrameCache(b *testing.B, n int) (string, []sources.Job) {
	dir, err := os.MkdirTemp("", "sitroom-firstframe-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "cache.db")
	c, err := cache.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	now := time.Now()
	var jobs []sources.Job
	for start := 0; start < n; start += 50_000 {
		name := fmt.Sprintf("am-%d", start/50_000)
		alerts := make([]model.Alert, 0, 50_000)
		for i := start; i < min(n, start+50_000); i++ {
			labels := map[string]string{
				"alertname": fmt.Sprintf("HighErrorRate%d", i%50),
				"severity":  []string{"critical", "warning", "info"}[i%3],
				"service":   fmt.Sprintf("svc-%d", i%200),
				"job":       "api",
				"instance":  fmt.Sprintf("10.0.%d.%d:9100", i/250, i%250),
				"namespace": fmt.Sprintf("team-%d", i%20),
				"pod":       fmt.Sprintf("api-%d-7f9c", i),
			}
			alerts = append(alerts, model.Alert{
				Key:    model.LabelsKey(model.LabelsFromMap(labels), nil),
				Labels: model.LabelsFromMap(labels),
				Annotations: model.LabelsFromMap(map[string]string{
					"summary":     fmt.Sprintf("Error rate above 5%% on %s", labels["instance"]),
					"description": "The 5m error rate of the API has been above 5% for 10 minutes.",
					"runbook_url": "https://runbooks.example/api/high-error-rate",
				}),
				State:    model.StateFiring,
				StartsAt: model.StampOf(now.Add(-time.Duration(i) * time.Second)),
			})
		}
		if _, err := c.Ingest(name, alerts, cache.PollMeta{At: now, Latency: time.Millisecond, Type: "alertmanager"}); err != nil {
			b.Fatal(err)
		}
		jobs = append(jobs, sources.Job{Source: alertmanager.New(name, "http://127.0.0.1:1", nil, nil)})
	}
	return path, jobs
}
