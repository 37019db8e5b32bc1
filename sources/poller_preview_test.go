package sources_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources"
	"sitroom/sources/sourcetest"
)

// A console starting on a cache a poller filled from a real Alertmanager
// previews the most severe alerts, says how many there are in all, and
// its first complete snapshot holds them all.
func TestPollerPreviewMostSevereFirst(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	var alerts []sourcetest.PostableAlert
	for i := range 30 {
		sev := []string{"warning", "info", "critical"}[i%3]
		alerts = append(alerts, sourcetest.PostableAlert{
			Labels:      map[string]string{"alertname": fmt.Sprintf("A%02d", i), "severity": sev, "service": fmt.Sprintf("svc-%d", i%4)},
			Annotations: map[string]string{"summary": "failing"},
			StartsAt:    time.Now().Add(-time.Duration(i) * time.Minute),
		})
	}
	am.PostAlerts(t, alerts...)
	path := filepath.Join(t.TempDir(), "cache.db")
	jobs := func() []sources.Job { return []sources.Job{{Source: amSource(t, "am", am)}} }
	poller := sources.NewPoller(openCache(t, path), jobs(), sources.PollerOptions{})
	require.NoError(t, poller.PollOnce(context.Background()))

	// The console: another process opening the file.
	p := sources.NewPoller(openCache(t, path), jobs(), sources.PollerOptions{})
	pre, err := p.Preview(12)
	require.NoError(t, err)
	assert.Equal(t, 30, pre.Loading, "the preview says how many alerts are open")
	require.Len(t, pre.Signals, 12)
	for _, s := range pre.Signals[:10] {
		assert.Equal(t, model.SevCritical, s.Severity, "%s: every critical alert first", s.Name())
	}
	for _, s := range pre.Signals[10:] {
		assert.Equal(t, model.SevWarning, s.Severity, "%s: then warnings", s.Name())
	}
	require.Len(t, pre.Sources, 1)
	assert.Equal(t, model.HealthOK, pre.Sources[0].Health(), "the source's status is read too")

	full, err := p.Snapshot()
	require.NoError(t, err)
	assert.Zero(t, full.Loading)
	assert.Len(t, full.Signals, 30)

	all, err := p.Preview(500)
	require.NoError(t, err)
	assert.Zero(t, all.Loading, "a preview holding every open alert is complete")
	assert.Equal(t, full.Counts, all.Counts)
	assert.Len(t, all.Outages, len(full.Outages))
}
