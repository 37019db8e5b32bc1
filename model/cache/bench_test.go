package cache

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"sitroom/model"
)

// benchAlerts builds n alerts shaped like Alertmanager's: 10 labels, 3
// annotations, a generator URL.
func benchAlerts(n int) []model.Alert {
	out := make([]model.Alert, n)
	for i := range out {
		labels := map[string]string{
			"alertname":  fmt.Sprintf("HighErrorRate%d", i%50),
			"severity":   []string{"critical", "warning", "info"}[i%3],
			"service":    fmt.Sprintf("svc-%d", i%200),
			"job":        "api",
			"instance":   fmt.Sprintf("10.0.%d.%d:9100", i/250, i%250),
			"cluster":    "eu-west-1",
			"namespace":  fmt.Sprintf("team-%d", i%20),
			"pod":        fmt.Sprintf("api-%d-7f9c", i),
			"team":       fmt.Sprintf("team-%d", i%20),
			"prometheus": "monitoring/k8s",
		}
		out[i] = model.Alert{
			Key:    model.LabelsKey(model.LabelsFromMap(labels), nil),
			Labels: model.LabelsFromMap(labels),
			Annotations: model.LabelsFromMap(map[string]string{
				"summary":     fmt.Sprintf("Error rate above 5%% on %s", labels["instance"]),
				"description": "The 5m error rate of the API has been above 5% for 10 minutes.",
				"runbook_url": "https://runbooks.example/api/high-error-rate",
			}),
			State:        model.StateFiring,
			StartsAt:     model.StampOf(t0.Add(-time.Duration(i) * time.Second)),
			GeneratorURL: "http://prometheus.example:9090/graph?g0.expr=rate%28errors%5B5m%5D%29",
		}
	}
	return out
}

func benchOpen(b *testing.B) (*Cache, string) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "cache.db")
	c, err := Open(path)
	require.NoError(b, err)
	b.Cleanup(func() { c.Close() })
	return c, path
}

var sizes = []int{10_000, 50_000}

// BenchmarkIngestFirstPoll writes a first poll into a new cache; it
// reports too how long the screen waits for the poll's rows
// (planned-ms: until OnPlanned, the write still to come).
func BenchmarkIngestFirstPoll(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			alerts := benchAlerts(n)
			dir := b.TempDir()
			i := 0
			var planned time.Duration
			for b.Loop() {
				b.StopTimer()
				i++
				c, err := Open(filepath.Join(dir, fmt.Sprintf("c%d.db", i)))
				require.NoError(b, err)
				var t0 time.Time
				c.OnPlanned(func() { planned += time.Since(t0) })
				b.StartTimer()
				t0 = time.Now()
				res, err := c.Ingest("am", alerts, at(0))
				b.StopTimer()
				require.NoError(b, err)
				require.Equal(b, n, res.Inserted)
				c.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(planned.Microseconds())/1000/float64(b.N), "planned-ms")
		})
	}
}

func BenchmarkIngestSteady(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			alerts := benchAlerts(n)
			c, _ := benchOpen(b)
			_, err := c.Ingest("am", alerts, at(0))
			require.NoError(b, err)
			sec := 0
			for b.Loop() {
				sec++ // 1 s apart: below the status refresh, so nothing is written
				res, err := c.Ingest("am", alerts, PollMeta{At: t0.Add(time.Duration(sec%10) * time.Second / 10)})
				if err != nil || res.Wrote {
					b.Fatalf("steady poll wrote (%+v) or failed: %v", res, err)
				}
			}
		})
	}
}

func BenchmarkIngestChurn1Percent(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			alerts := benchAlerts(n)
			c, _ := benchOpen(b)
			_, err := c.Ingest("am", alerts, at(0))
			require.NoError(b, err)
			round := 0
			for b.Loop() {
				b.StopTimer()
				round++
				for j := 0; j < n/100; j++ {
					a := &alerts[(round*(n/100)+j)%n]
					a.Annotations = model.LabelsFromMap(map[string]string{"summary": fmt.Sprint("round ", round), "runbook_url": a.Annotations.Get("runbook_url")})
				}
				b.StartTimer()
				res, err := c.Ingest("am", alerts, at(round))
				if err != nil || res.Updated != n/100 {
					b.Fatalf("churn poll: %+v, %v", res, err)
				}
			}
		})
	}
}

func BenchmarkLoadAndBuildSnapshot(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			c, _ := benchOpen(b)
			_, err := c.Ingest("am", benchAlerts(n), at(0))
			require.NoError(b, err)
			for b.Loop() {
				rows, sts, err := c.Load()
				if err != nil {
					b.Fatal(err)
				}
				snap := model.BuildSnapshot(rows, sts, model.SnapshotOptions{Now: t0})
				if len(snap.Signals) != n {
					b.Fatalf("%d signals", len(snap.Signals))
				}
			}
		})
	}
}

// BenchmarkOpenWarm is a console starting on a cache the poller filled:
// open, migrate check, and the first Load, which loads every open row
// into the mirror.
func BenchmarkOpenWarm(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			c, path := benchOpen(b)
			_, err := c.Ingest("am", benchAlerts(n), at(0))
			require.NoError(b, err)
			for b.Loop() {
				c2, err := Open(path)
				if err != nil {
					b.Fatal(err)
				}
				if rows, _, err := c2.Load(); err != nil || len(rows) != n {
					b.Fatalf("%d rows, %v", len(rows), err)
				}
				b.StopTimer()
				c2.Close()
				b.StartTimer()
			}
		})
	}
}

// BenchmarkLoadAfterPollerChurn is a console's Load after the poller (another
// Cache on the file) wrote a 1% churn poll: an incremental reload.
func BenchmarkLoadAfterPollerChurn(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			alerts := benchAlerts(n)
			poller, path := benchOpen(b)
			_, err := poller.Ingest("am", alerts, at(0))
			require.NoError(b, err)
			console, err := Open(path)
			require.NoError(b, err)
			defer console.Close()
			round := 0
			for b.Loop() {
				b.StopTimer()
				round++
				for j := 0; j < n/100; j++ {
					a := &alerts[(round*(n/100)+j)%n]
					a.Annotations = model.LabelsFromMap(map[string]string{"summary": fmt.Sprint("round ", round)})
				}
				_, err := poller.Ingest("am", alerts, at(round))
				require.NoError(b, err)
				b.StartTimer()
				rows, _, err := console.Load()
				if err != nil || len(rows) != n {
					b.Fatalf("%d rows, %v", len(rows), err)
				}
			}
		})
	}
}
