package prometheus_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
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

// An Alertmanager the server cannot deliver to is named as the config
// names its source: matched on host, port and path prefix (a trailing
// slash or the scheme aside); one the config does not have keeps its host
// and port.
func TestHealthNamesAlertmanagersBySource(t *testing.T) {
	ams := []string{
		"http://10.0.0.2:9093/am/api/v2/alerts", // am-b, under a path prefix
		"http://10.0.0.2:9093/api/v2/alerts",    // am-root: same host, no prefix
		"https://10.0.0.3:9093/api/v2/alerts",   // am-c, read by sitroom over http
		"http://10.0.0.5:9093/other/api/v2/alerts",
		"http://10.0.0.4:9093/api/v2/alerts", // not in the config
	}
	errs := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != prometheus.MetricsPath {
			http.NotFound(w, r)
			return
		}
		errs++ // every read: errors rise for every Alertmanager
		b := &strings.Builder{}
		b.WriteString("# TYPE prometheus_notifications_alertmanagers_discovered gauge\nprometheus_notifications_alertmanagers_discovered 5\n")
		b.WriteString("# TYPE prometheus_notifications_errors_total counter\n")
		for _, am := range ams {
			fmt.Fprintf(b, "prometheus_notifications_errors_total{alertmanager=%q} %d\n", am, errs)
		}
		_, _ = w.Write([]byte(b.String()))
	}))
	defer srv.Close()
	src := prometheus.New("prom-eu", srv.URL, nil, nil)
	src.NameAlertmanagers(map[string]string{
		"http://10.0.0.2:9093/am/": "am-b",
		"http://10.0.0.2:9093":     "am-root",
		"http://10.0.0.3:9093/":    "am-c",
		"http://10.0.0.5:9093":     "am-e", // not at /other
		"http://10.0.0.9:9093":     "am-unused",
	})
	assert.Empty(t, kinds(health(t, src), model.FindingNotify), "one read cannot tell a trend")
	var subjects []string
	for _, f := range kinds(health(t, src), model.FindingNotify) {
		subjects = append(subjects, f.Subject)
	}
	assert.ElementsMatch(t, []string{"am-b not receiving", "am-root not receiving", "am-c not receiving",
		"10.0.0.5:9093 not receiving", "10.0.0.4:9093 not receiving"}, subjects)
}
