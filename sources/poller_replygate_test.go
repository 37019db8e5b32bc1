package sources_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources"
)

// upstream is an HTTP alert API with a pipeline health endpoint: its
// alerts reply fails while down; began is set once it starts a reply.
type upstream struct {
	down, began         atomic.Bool
	healthReads, before atomic.Int32 // health reads; those before an alerts reply began
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/alerts":
		if u.down.Load() {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		u.began.Store(true)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`["CheckoutDown"]`))
	case "/health":
		u.healthReads.Add(1)
		if !u.began.Load() {
			u.before.Add(1)
		}
		_, _ = w.Write([]byte(`{}`))
	}
}

// replySource is a JSONSource whose upstream also reports its health.
type replySource struct {
	*sources.JSONSource
	base string
}

func (s *replySource) Health(ctx context.Context) ([]model.Finding, error) {
	err := sources.GetJSON(ctx, http.DefaultClient, s.base+"/health", 0, func(r io.Reader) error { return nil })
	if err != nil {
		return nil, err
	}
	return []model.Finding{{Kind: model.FindingReload, Subject: "config reload failed", Text: "reload 0", Severe: true}}, nil
}

// The health of an upstream read over HTTP is asked for once its alerts
// reply has begun, not while it is still building it; an upstream whose
// alerts cannot be read is not asked for its health at all, and the next
// poll that reads the alerts stores the health.
func TestHealthIsReadOnceTheAlertsReplyBegins(t *testing.T) {
	u := &upstream{}
	srv := httptest.NewServer(u)
	t.Cleanup(srv.Close)
	decode := func(b []byte) ([]model.Alert, error) {
		labels := model.LabelsFromMap(map[string]string{"alertname": "CheckoutDown", "severity": "critical"})
		return []model.Alert{{Key: model.LabelsKey(labels, nil), Labels: labels, State: model.StateFiring, StartsAt: model.StampOf(time.Unix(1e9, 0))}}, nil
	}
	src := &replySource{JSONSource: sources.NewJSONSource("am", "alertmanager", srv.URL+"/alerts", nil, decode, nil), base: srv.URL}
	c := openCache(t, filepath.Join(t.TempDir(), "cache.db"))
	p := sources.NewPoller(c, []sources.Job{{Source: src, Interval: 5 * time.Second}}, sources.PollerOptions{})
	ctx := context.Background()

	u.down.Store(true)
	require.Error(t, p.PollOnce(ctx))
	assert.Zero(t, u.healthReads.Load(), "a source whose alerts fail is not asked for its health")

	u.down.Store(false)
	require.NoError(t, p.PollOnce(ctx))
	assert.EqualValues(t, 1, u.healthReads.Load())
	assert.Zero(t, u.before.Load(), "the health is asked for once the alerts reply has begun")
	snap, err := p.Snapshot()
	require.NoError(t, err)
	require.Len(t, snap.Sources, 1)
	assert.Empty(t, snap.Sources[0].LastError)
	assert.Equal(t, model.HealthDegraded, snap.Sources[0].Health(), "the health read beside the poll is stored")
}
