package sources_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model/cache"
	"sitroom/sources"
	"sitroom/sources/sourcetest"
)

// When the cache cannot be read any more, the poller publishes its last
// snapshot again with why (CacheError) instead of only logging it: what
// is on screen is then known to be old.
func TestPollerPublishesWhyTheCacheCannotBeRead(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	am.PostAlerts(t, sourcetest.PostableAlert{Labels: map[string]string{"alertname": "DiskFull", "severity": "critical"}})
	c, err := cache.Open(filepath.Join(t.TempDir(), "cache.db"))
	require.NoError(t, err)
	p := sources.NewPoller(c, []sources.Job{{Source: amSource(t, "am", am), Interval: time.Hour}},
		sources.PollerOptions{WatchEvery: 5 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	good := <-p.Snapshots()
	for len(good.Signals) == 0 {
		good = <-p.Snapshots()
	}
	assert.Empty(t, good.CacheError)
	require.NoError(t, c.Close())
	bad := <-p.Snapshots()
	assert.Equal(t, cache.ErrClosed.Error(), bad.CacheError)
	assert.Equal(t, good.Built, bad.Built, "the last snapshot built, shown again")
	assert.Equal(t, good.Signals, bad.Signals)
	assert.Empty(t, good.CacheError, "the snapshot published before is not changed")
}
