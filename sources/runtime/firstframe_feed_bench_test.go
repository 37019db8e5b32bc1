package runtime_test

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
	"sitroom/model/cache"
	"sitroom/sources"
	"sitroom/sources/alertmanager"
	"sitroom/sources/runtime"
	"sitroom/ui"
)

// nopObserver stands for the action dispatcher.
type nopObserver struct{}

func (nopObserver) Observe(*model.Snapshot) {}

// BenchmarkFirstFrameFreshFeed10k is the dashboard's first frame with
// fresh data from a cold start, through the path the dashboard takes
// (the poller's Run and the feed), on a real Alertmanager holding 10k
// alerts: each iteration opens a fresh cache file and a new source, runs
// the poller and draws a 200×60 frame of the first snapshot on screen
// holding every alert. It runs two ways in alternation: "planned", the
// feed, which shows a poll while its write is in progress
// (sources.Poller.ShowPlanned), and "stored", the poller's snapshots
// alone, which wait for the write to commit. It reports both medians and
// their ratio.
func BenchmarkFirstFrameFreshFeed10k(b *testing.B) {
	const n = 10_000
	am := startAlertmanager10k(b, n)
	screen := benchScreen(b)
	freshFirstFrame(b, screen, am.URL, n, true) // the server's caches, not ours: every iteration starts cold
	freshFirstFrame(b, screen, am.URL, n, false)
	var planned, stored []time.Duration
	for b.Loop() {
		planned = append(planned, freshFirstFrame(b, screen, am.URL, n, true))
		stored = append(stored, freshFirstFrame(b, screen, am.URL, n, false))
	}
	mp, ms0 := median(planned), median(stored)
	b.Logf("median first frame: planned %.1f ms, stored %.1f ms", ms(mp), ms(ms0))
	b.ReportMetric(ms(mp), "planned-ms")
	b.ReportMetric(ms(ms0), "stored-ms")
	b.ReportMetric(float64(mp)/float64(ms0), "ratio")
	b.ReportMetric(0, "ns/op")
}

// freshFirstFrame starts from nothing, as a console started on a new host
// does (a fresh cache file, a new source with an empty memo and a new
// connection to the Alertmanager at url, which holds n alerts), runs the
// poller and draws a 200×60 frame of its first snapshot holding every
// alert; it returns the time from the cache's opening to the frame.
// planned: through the feed, as the dashboard, which shows a poll while
// its write is in progress; else the poller's snapshots alone, which
// wait for the write to commit.
func freshFirstFrame(b *testing.B, screen tcell.Screen, url string, n int, planned bool) time.Duration {
	dir := b.TempDir()
	t0 := time.Now()
	c, err := cache.Open(filepath.Join(dir, "cache.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	client := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	defer client.CloseIdleConnections()
	src := alertmanager.New("am", url, client, nil)
	p := sources.NewPoller(c, []sources.Job{{Source: src, Interval: time.Minute}}, sources.PollerOptions{})
	snaps := p.Snapshots()
	if planned {
		snaps = runtime.NewFeed(p, nopObserver{}).Snapshots()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	defer func() {
		cancel()
		for range snaps { // until the poller stops
		}
		<-done
	}()
	for s := range snaps {
		if len(s.Signals) == n {
			ui.DrawPanel(screen, ui.PanelScreen, s, ui.DrawOptions{Now: time.Now()})
			return time.Since(t0)
		}
	}
	b.Fatal("the poller stopped before a snapshot of every alert")
	return 0
}
