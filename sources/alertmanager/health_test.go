package alertmanager_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources/alertmanager"
)

// An Alertmanager whose cluster is neither ready nor settling, and whose
// last config reload failed: two severe findings, its words kept.
func TestHealthClusterStatusAndReload(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case alertmanager.StatusPath:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"uptime":"2026-11-26T08:00:00Z","cluster":{"name":"x","status":"failed","peers":[{"name":"x","address":"10.0.0.1:9094"}]}}`))
		case alertmanager.MetricsPath:
			_, _ = w.Write([]byte("# TYPE alertmanager_config_last_reload_successful gauge\nalertmanager_config_last_reload_successful 0\n"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	fs := health(t, alertmanager.New("am", srv.URL, nil, nil))
	require.Len(t, fs, 2, "%+v", fs)
	assert.Equal(t, model.Finding{Kind: model.FindingCluster, Subject: "cluster failed", Text: "cluster.status failed, 1 peer", Severe: true}, fs[0])
	assert.Equal(t, model.Finding{Kind: model.FindingReload, Subject: "config reload failed", Text: "alertmanager_config_last_reload_successful 0", Severe: true}, fs[1])
	st := model.SourceStatus{Name: "am", LastAttempt: time.Now(), Findings: fs}
	assert.Equal(t, "cluster failed; config reload failed", st.PipelineReason(time.Now()))
}
