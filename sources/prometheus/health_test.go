package prometheus_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources/prometheus"
)

// A server that offers no rules nor metrics (as a vmalert or Thanos Ruler
// behind a path may not) and whose last reload failed: the failed reload
// is severe, what is not offered one note.
func TestHealthReloadFailedAndEndpointsNotOffered(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == prometheus.StatusPath {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"status":"success","data":{"startTime":"2026-11-26T08:00:00Z","reloadConfigSuccess":false,"lastConfigTime":"2026-11-26T08:00:01Z"}}`))
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	fs := health(t, prometheus.New("vm", srv.URL, nil, nil))
	require.Len(t, fs, 2, "%+v", fs)
	assert.Equal(t, model.Finding{Kind: model.FindingReload, Subject: "config reload failed",
		Text: "reloadConfigSuccess false; running the config loaded at 2026-11-26T08:00:01Z", Severe: true}, fs[0])
	assert.Equal(t, model.Finding{Kind: model.FindingNote, Subject: "not offered: /api/v1/rules, /metrics"}, fs[1])
}
