package runtime_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/cache"
	"sitroom/sources"
	"sitroom/sources/alertmanager"
	"sitroom/sources/runtime"
	"sitroom/sources/sourcetest"
)

type seenSnapshots struct {
	mu   sync.Mutex
	seen []*model.Snapshot
}

func (o *seenSnapshots) Observe(s *model.Snapshot) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seen = append(o.seen, s)
}

// The dashboard's feed shows the preview of a warm cache first, then the
// poller's complete snapshot replaces it; a preview never overwrites a
// complete snapshot, and the dispatcher only ever sees complete ones.
func TestFeedPreviewThenFullSnapshot(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	var alerts []sourcetest.PostableAlert
	for i := range 30 {
		alerts = append(alerts, sourcetest.PostableAlert{
			Labels: map[string]string{"alertname": fmt.Sprintf("A%02d", i), "severity": []string{"warning", "critical"}[i%2],
				"service": fmt.Sprintf("svc-%d", i%3)},
		})
	}
	am.PostAlerts(t, alerts...)
	path := filepath.Join(t.TempDir(), "cache.db")
	jobs := func() []sources.Job {
		return []sources.Job{{Source: alertmanager.New("am", am.URL, nil, nil), Interval: time.Hour}}
	}
	filler, err := cache.Open(path)
	require.NoError(t, err)
	require.NoError(t, sources.NewPoller(filler, jobs(), sources.PollerOptions{}).PollOnce(context.Background()))
	require.NoError(t, filler.Close())

	c, err := cache.Open(path)
	require.NoError(t, err)
	defer c.Close()
	p := sources.NewPoller(c, jobs(), sources.PollerOptions{})
	disp := &seenSnapshots{}
	feed := runtime.NewFeed(p, disp)
	log := slog.New(slog.DiscardHandler)

	feed.Preview(10, log)
	first := <-feed.Snapshots()
	assert.Equal(t, 30, first.Loading, "the first snapshot is the preview")
	assert.Len(t, first.Signals, 10)
	for _, s := range first.Signals {
		assert.Equal(t, model.SevCritical, s.Severity, "%s: the most severe alerts", s.Name())
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	next := <-feed.Snapshots()
	assert.Zero(t, next.Loading, "the poller's snapshot replaces the preview")
	assert.Len(t, next.Signals, 30)

	feed.Preview(10, log) // too late: a complete snapshot was shown
	select {
	case s := <-feed.Snapshots():
		assert.Zero(t, s.Loading, "a preview never replaces a complete snapshot")
	default:
	}
	cancel()
	<-done
	for s := range feed.Snapshots() {
		assert.Zero(t, s.Loading, "a preview never replaces a complete snapshot")
	}
	disp.mu.Lock()
	defer disp.mu.Unlock()
	require.NotEmpty(t, disp.seen)
	for _, s := range disp.seen {
		assert.Zero(t, s.Loading, "the dispatcher never sees a preview")
	}
}
