package prometheus_test

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources"
	"sitroom/sources/prometheus"
	"sitroom/sources/sourcetest"
)

// decodeRaw decodes an /api/v1/alerts reply as the server wrote it.
func decodeRaw(t *testing.T, body []byte) []model.Alert {
	t.Helper()
	alerts, err := prometheus.NewDecoder(nil).Decode(body)
	require.NoError(t, err)
	return alerts
}

var updatePayloads = flag.Bool("update-payloads", false, "rewrite testdata/prometheus payloads captured from the real server")

func TestIntegrationFetchRules(t *testing.T) {
	began := time.Now()
	srv := sourcetest.StartPrometheus(t, []string{sourcetest.RulesFile(t)})
	src := prometheus.New("prom-test", srv.URL, nil, nil)
	assert.Equal(t, "prometheus", src.Type())
	assert.Equal(t, "prom-test", src.Name())

	// SlowBurn (for: 3s) must be seen pending first, then firing.
	var sawSlowPending bool
	var alerts []model.Alert
	sourcetest.Eventually(t, 20*time.Second, 200*time.Millisecond, func() error {
		var err error
		alerts, err = sourcetest.Fetch(t, src)
		if err != nil {
			return err
		}
		m := sourcetest.ByName(alerts)
		if m["SlowBurn"].State == model.StatePending {
			sawSlowPending = true
		}
		if len(m) != 4 || m["SlowBurn"].State != model.StateFiring {
			return fmt.Errorf("have %d alerts, SlowBurn %q", len(m), m["SlowBurn"].State)
		}
		return nil
	})
	assert.True(t, sawSlowPending, "an alert with for: 3s is pending before it fires")

	m := sourcetest.ByName(alerts)
	want := map[string]struct {
		state             model.State
		severity, service string
		summary, runbook  string
	}{
		"HighErrorRate":    {model.StateFiring, "critical", "checkout", "Checkout error rate above 5%", "https://runbooks.example.com/checkout/high-error-rate"},
		"DiskAlmostFull":   {model.StateFiring, "warning", "storage", "Disk on db-main above 90%", "https://runbooks.example.com/storage/disk-full"},
		"SlowBurn":         {model.StateFiring, "warning", "payments", "Payments latency budget burning", "https://runbooks.example.com/payments/slow-burn"},
		"CertExpiringSoon": {model.StatePending, "info", "edge", "TLS certificate of edge expires in 14 days", "https://runbooks.example.com/edge/cert"},
	}
	for name, w := range want {
		a, ok := m[name]
		if !assert.True(t, ok, name) {
			continue
		}
		assert.Equal(t, w.state, a.State, name)
		assert.Equal(t, map[string]string{"alertname": name, "severity": w.severity, "service": w.service}, a.Labels.Map(), name)
		assert.Equal(t, map[string]string{"summary": w.summary, "runbook_url": w.runbook}, a.Annotations.Map(), name)
		assert.Equal(t, model.LabelsKey(a.Labels, nil), a.Key, name)
		assert.Empty(t, a.GeneratorURL, "the v1 alerts API has no generator URL")
		assert.False(t, a.StartsAt.Before(model.StampOf(began.Add(-time.Second))), "%s activeAt %s is before the server started", name, a.StartsAt)
		assert.False(t, a.StartsAt.After(model.StampOf(time.Now())), "%s activeAt %s is in the future", name, a.StartsAt)
	}

	// A firing alert starts when it fired, not when it began pending:
	// the server's activeAt plus the rule's for (from /api/v1/rules).
	raw := sourcetest.ByName(decodeRaw(t, srv.Get(t, prometheus.AlertsPath)))
	assert.Equal(t, raw["SlowBurn"].StartsAt.Time().Add(3*time.Second), m["SlowBurn"].StartsAt.Time(), "SlowBurn (for: 3s) fired 3s after it began pending")
	assert.Equal(t, raw["HighErrorRate"].StartsAt.Time(), m["HighErrorRate"].StartsAt.Time(), "no for: fired when active")
	assert.Equal(t, raw["CertExpiringSoon"].StartsAt.Time(), m["CertExpiringSoon"].StartsAt.Time(), "a pending alert keeps its activeAt")

	// How long the server has run, by its own clock.
	up, err := src.Uptime(t.Context())
	require.NoError(t, err)
	assert.Greater(t, up, time.Duration(0))
	assert.LessOrEqual(t, up, time.Since(began)+2*time.Second)

	if *updatePayloads {
		sourcetest.WritePayload(t, "prometheus", "alerts.json", srv.Get(t, prometheus.AlertsPath))
		sourcetest.WritePayload(t, "prometheus", "error-bad-data.json", getStatus(t, srv.URL+"/api/v1/query?query=%28", 400))
	}
}

func getStatus(t *testing.T, url string, want int) []byte {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, want, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return b
}

// A real Prometheus error reply, served back with its real status, is
// reported with Prometheus' own error type and message.
func TestIntegrationAPIErrorReply(t *testing.T) {
	srv := sourcetest.StartPrometheus(t, nil)
	resp, err := http.Get(srv.URL + "/api/v1/query?query=%28")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	status := resp.StatusCode
	require.GreaterOrEqual(t, status, 400, "a bad query is an error: %s", body)

	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	defer fake.Close()
	_, err = sourcetest.Fetch(t, prometheus.New("p", fake.URL, nil, nil))
	var fe *sources.FetchError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, sources.KindAPI, fe.Kind)
	assert.Equal(t, status, fe.Status)
	assert.Contains(t, fe.Msg, fmt.Sprintf("HTTP %d", status))
	assert.Contains(t, fe.Msg, "Prometheus error bad_data: ")
	assert.Contains(t, fe.Msg, "parse error")
}

func TestIntegrationStoppedServerIsConnectionRefused(t *testing.T) {
	srv := sourcetest.StartPrometheus(t, []string{sourcetest.RulesFile(t)})
	sourcetest.CheckStoppedServerRefuses(t, srv, prometheus.New("p", srv.URL, nil, nil))
}
