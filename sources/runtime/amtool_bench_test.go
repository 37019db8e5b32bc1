package runtime_test

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"sitroom/model/cache"
	"sitroom/sources"
	"sitroom/sources/alertmanager"
	"sitroom/sources/sourcetest"
	"sitroom/ui"
)

// BenchmarkVersusAmtool10k is the side-by-side budget of PRODUCT.md: on the
// same real Alertmanager holding 10k alerts, sitroom's fetch and first
// render (poll into a fresh cache, build the snapshot, draw a 200×60 frame)
// against `amtool alert query`. It reports both wall times and their ratio;
// the budget is ratio ≤ 0.5.
func BenchmarkVersusAmtool10k(b *testing.B) {
	amtool := sourcetest.RequireBinary(b, "amtool")
	am := sourcetest.StartAlertmanager(b)
	const n = 10_000
	start := time.Now().Add(-time.Hour)
	for batch := 0; batch < n/1000; batch++ {
		alerts := make([]sourcetest.PostableAlert, 1000)
		for i := range alerts {
			k := batch*1000 + i
			alerts[i] = sourcetest.PostableAlert{
				Labels: map[string]string{
					"alertname": fmt.Sprintf("Alert%02d", k%50), "severity": []string{"critical", "warning", "info"}[k%3],
					"service": fmt.Sprintf("svc-%02d", k%40), "instance": fmt.Sprintf("10.0.%d.%d:9100", k/256, k%256),
					"job": fmt.Sprintf("job-%02d", k%20), "namespace": fmt.Sprintf("ns-%d", k%10), "pod": fmt.Sprintf("pod-%06d", k),
					"cluster": "eu-1",
				},
				Annotations: map[string]string{"summary": fmt.Sprintf("instance %d is failing", k), "runbook_url": "https://runbooks.example.com/x"},
				StartsAt:    start,
				EndsAt:      time.Now().Add(time.Hour),
			}
		}
		am.PostAlerts(b, alerts...)
	}
	src := alertmanager.New("am", am.URL, nil, nil)
	screen := tcell.NewSimulationScreen("UTF-8")
	if err := screen.Init(); err != nil {
		b.Fatal(err)
	}
	screen.SetSize(200, 60)

	sitroomOnce := func() time.Duration {
		dir := b.TempDir()
		c, err := cache.Open(filepath.Join(dir, "cache.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		t0 := time.Now()
		p := sources.NewPoller(c, []sources.Job{{Source: src, Interval: time.Minute}}, sources.PollerOptions{})
		if err := p.PollOnce(context.Background()); err != nil {
			b.Fatal(err)
		}
		snap, err := p.Snapshot()
		if err != nil || len(snap.Signals) != n {
			b.Fatalf("snapshot holds %d signals (want %d), err %v", len(snap.Signals), n, err)
		}
		ui.DrawPanel(screen, ui.PanelScreen, snap, ui.DrawOptions{Now: time.Now()})
		return time.Since(t0)
	}
	amtoolOnce := func() time.Duration {
		t0 := time.Now()
		out, err := exec.Command(amtool, "--alertmanager.url="+am.URL, "alert", "query").Output()
		if err != nil || len(out) < n*10 {
			b.Fatalf("amtool: %v (%d bytes)", err, len(out))
		}
		return time.Since(t0)
	}
	sitroomOnce() // warm the server's and the client's caches alike
	amtoolOnce()
	var ours, theirs time.Duration
	b.ResetTimer()
	for b.Loop() {
		ours += sitroomOnce()
		theirs += amtoolOnce()
	}
	iters := float64(b.N)
	b.ReportMetric(float64(ours.Milliseconds())/iters, "sitroom-ms/op")
	b.ReportMetric(float64(theirs.Milliseconds())/iters, "amtool-ms/op")
	b.ReportMetric(float64(ours)/float64(theirs), "ratio")
}
