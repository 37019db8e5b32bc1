package runtime_test

import (
	"context"
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
// the budget is ratio ≤ 0.4.
func BenchmarkVersusAmtool10k(b *testing.B) {
	amtool := sourcetest.RequireBinary(b, "amtool")
	const n = 10_000
	am := startAlertmanager10k(b, n)
	src := alertmanager.New("am", am.URL, nil, nil)
	screen := benchScreen(b)

	sitroomOnce := func() time.Duration {
		dir := b.TempDir()
		c, err := cache.Open(filepath.Join(dir, "cache.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		t0 := time.Now()
		pollOnceAndDraw(b, screen, c, src, n)
		return time.Since(t0)
	}
	amtoolOnce := func() time.Duration { return amtoolQuery(b, amtool, am.URL, n) }
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

// amtoolQuery runs `amtool alert query` on the Alertmanager at url, which
// holds n alerts, and returns its wall time.
func amtoolQuery(b *testing.B, amtool, url string, n int) time.Duration {
	t0 := time.Now()
	out, err := exec.Command(amtool, "--alertmanager.url="+url, "alert", "query").Output()
	if err != nil || len(out) < n*10 {
		b.Fatalf("amtool: %v (%d bytes)", err, len(out))
	}
	return time.Since(t0)
}

// benchScreen is a 200×60 simulation screen for the first-frame
// benchmarks.
func benchScreen(b *testing.B) tcell.SimulationScreen {
	screen := tcell.NewSimulationScreen("UTF-8")
	if err := screen.Init(); err != nil {
		b.Fatal(err)
	}
	screen.SetSize(200, 60)
	return screen
}

// pollOnceAndDraw polls src once into c, checks the snapshot holds its n
// alerts and draws it on screen: a first frame with fresh data.
func pollOnceAndDraw(b *testing.B, screen tcell.Screen, c *cache.Cache, src sources.Source, n int) {
	p := sources.NewPoller(c, []sources.Job{{Source: src, Interval: time.Minute}}, sources.PollerOptions{})
	if err := p.PollOnce(context.Background()); err != nil {
		b.Fatal(err)
	}
	snap, err := p.Snapshot()
	if err != nil || len(snap.Signals) != n {
		b.Fatalf("snapshot holds %d signals (want %d), err %v", len(snap.Signals), n, err)
	}
	ui.DrawPanel(screen, ui.PanelScreen, snap, ui.DrawOptions{Now: time.Now()})
}
