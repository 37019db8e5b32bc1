package prometheus_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources/prometheus"
	"sitroom/sources/sourcetest"
)

// BrokenRules holds a rule that fails at every evaluation (a one-to-many
// join whose "one" side has two series: "found duplicate series for the
// match group"), a rule that always fires, and a recording rule that works.
const BrokenRules = `groups:
  - name: pipeline
    interval: 1s
    rules:
      - alert: JoinBroken
        expr: vector(1) * on() group_left() (label_replace(vector(1), "a", "x", "", "") or label_replace(vector(2), "a", "y", "", ""))
        for: 5s
        labels: {severity: critical, service: checkout}
      - alert: AlwaysFiring
        expr: vector(1)
        labels: {severity: warning}
      - record: job:ok
        expr: vector(3)
`

// WriteRules writes rules into a file of the test's temp dir.
func writeRules(t *testing.T, rules string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rules.yml")
	require.NoError(t, os.WriteFile(p, []byte(rules), 0o600))
	return p
}

func health(t *testing.T, src *prometheus.Source) []model.Finding {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fs, err := src.Health(ctx)
	require.NoError(t, err)
	return fs
}

func kinds(fs []model.Finding, k model.FindingKind) []model.Finding {
	var out []model.Finding
	for _, f := range fs {
		if f.Kind == k {
			out = append(out, f)
		}
	}
	return out
}

// A rule that fails at evaluation on a real Prometheus is a severe
// finding with Prometheus' own error, and nothing else is reported.
func TestIntegrationHealthFailingRule(t *testing.T) {
	srv := sourcetest.StartPrometheus(t, []string{writeRules(t, BrokenRules)})
	src := prometheus.New("prom", srv.URL, nil, nil)
	var fs []model.Finding
	sourcetest.Eventually(t, 20*time.Second, 200*time.Millisecond, func() error {
		fs = health(t, src)
		if len(kinds(fs, model.FindingRule)) == 0 {
			return fmt.Errorf("no failing rule yet: %+v", fs)
		}
		return nil
	})
	notes := kinds(fs, model.FindingNote)
	require.Len(t, notes, 1, "%+v", fs)
	assert.Equal(t, "sends alerts to no Alertmanager", notes[0].Subject, "it has no alerting config")
	assert.False(t, notes[0].Severe)
	require.Len(t, fs, 2, "only the failing rule and the note: %+v", fs)
	f := kinds(fs, model.FindingRule)[0]
	assert.Equal(t, "pipeline/JoinBroken", f.Subject)
	assert.Contains(t, f.Text, "duplicate series")
	assert.True(t, f.Severe)
	assert.Equal(t, map[string]string{"alertname": "JoinBroken", "severity": "critical", "service": "checkout"}, f.Labels,
		"the labels its alerts carry, so they can be marked and the rule mapped to its service")
	st := model.SourceStatus{Name: "prom", LastAttempt: time.Now(), LastSuccess: time.Now(), Findings: fs}
	assert.Equal(t, model.HealthDegraded, st.Health())
	assert.Equal(t, "1 rule failing", st.PipelineReason(time.Now()))
}

// A Prometheus whose alerting config names two Alertmanagers that are
// down: the notification errors rising between two reads say they are
// not receiving; the first read cannot tell. The one the config has as a
// source (served under a path prefix, its URL with a trailing slash) is
// named as the source; the other by its host and port.
func TestIntegrationHealthAlertmanagerDown(t *testing.T) {
	down := fmt.Sprintf("127.0.0.1:%d", sourcetest.FreePort(t))
	named := fmt.Sprintf("127.0.0.1:%d", sourcetest.FreePort(t))
	srv := sourcetest.StartPrometheus(t, []string{writeRules(t, `groups:
  - name: g
    interval: 1s
    rules:
      - alert: AlwaysFiring
        expr: vector(1)
`)}, "http://"+down, "http://"+named+"/am")
	src := prometheus.New("prom-eu", srv.URL, nil, nil)
	src.NameAlertmanagers(map[string]string{"http://" + named + "/am/": "am-b"})
	assert.Empty(t, kinds(health(t, src), model.FindingNotify), "one read cannot tell a trend")
	var fs []model.Finding
	sourcetest.Eventually(t, 30*time.Second, 1500*time.Millisecond, func() error {
		fs = kinds(health(t, src), model.FindingNotify)
		if len(fs) < 2 {
			return fmt.Errorf("not reported yet: %+v", fs)
		}
		return nil
	})
	require.Len(t, fs, 2, "%+v", fs)
	subjects := []string{fs[0].Subject, fs[1].Subject}
	assert.ElementsMatch(t, []string{down + " not receiving", "am-b not receiving"}, subjects)
	for _, f := range fs {
		assert.True(t, f.Severe)
		if f.Subject == "am-b not receiving" {
			assert.Equal(t, "prometheus_notifications_errors_total{alertmanager=http://"+named+"/am/api/v2/alerts} rising", f.Text,
				"the URL Prometheus sends to, as it labels it")
		}
	}
	st := model.SourceStatus{Name: "prom-eu", LastAttempt: time.Now(), LastSuccess: time.Now(), Findings: fs}
	assert.Contains(t, st.PipelineReason(time.Now()), "not receiving")
}

// A rules file rewritten with YAML Prometheus cannot parse, then reloaded:
// the reload fails, Prometheus keeps running its last good config, and the
// health read says so, severe; once the file is fixed and reloaded again
// the finding is gone.
func TestIntegrationHealthFailedReload(t *testing.T) {
	const good = `groups:
  - name: g
    interval: 1s
    rules:
      - record: job:ok
        expr: vector(1)
`
	rules := writeRules(t, good)
	srv := sourcetest.StartPrometheus(t, []string{rules})
	src := prometheus.New("prom", srv.URL, nil, nil)
	assert.Empty(t, kinds(health(t, src), model.FindingReload), "started with a good config")

	require.NoError(t, os.WriteFile(rules, []byte("groups:\n  - name: g\n    rules: [\n"), 0o600))
	err := srv.Reload(t)
	require.Error(t, err, "Prometheus refuses a rules file it cannot parse")
	assert.Contains(t, err.Error(), "500")
	fs := kinds(health(t, src), model.FindingReload)
	require.Len(t, fs, 1, "%+v", fs)
	assert.Equal(t, "config reload failed", fs[0].Subject)
	assert.True(t, fs[0].Severe)
	assert.Contains(t, fs[0].Text, "reloadConfigSuccess false; running the config loaded at ")
	st := model.SourceStatus{Name: "prom", LastAttempt: time.Now(), LastSuccess: time.Now(), Findings: fs}
	assert.Equal(t, model.HealthDegraded, st.Health())

	require.NoError(t, os.WriteFile(rules, []byte(good), 0o600))
	require.NoError(t, srv.Reload(t))
	assert.Empty(t, kinds(health(t, src), model.FindingReload), "the fixed file reloaded")
}

// A proxy in front of Prometheus that refuses the health endpoints: one
// line of note, not severe, and the alerts still read.
func TestIntegrationHealthRefusedByProxy(t *testing.T) {
	srv := sourcetest.StartPrometheus(t, []string{writeRules(t, BrokenRules)})
	target, err := url.Parse(srv.URL)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/alerts" || strings.HasPrefix(r.URL.Path, "/api/v1/status/config") {
			proxy.ServeHTTP(w, r)
			return
		}
		if r.URL.Path == "/api/v1/rules" && r.URL.Query().Get("type") == "alert" {
			proxy.ServeHTTP(w, r)
			return
		}
		http.Error(w, "forbidden", http.StatusForbidden)
	}))
	defer front.Close()
	src := prometheus.New("prom", front.URL, nil, nil)
	fs := health(t, src)
	require.Len(t, fs, 1, "%+v", fs)
	assert.Equal(t, model.FindingNote, fs[0].Kind)
	assert.False(t, fs[0].Severe)
	assert.Equal(t, "refused (HTTP 403): /api/v1/rules, /api/v1/status/runtimeinfo, /metrics", fs[0].Subject)
	st := model.SourceStatus{Name: "prom", LastAttempt: time.Now(), LastSuccess: time.Now(), Findings: fs}
	assert.Equal(t, model.HealthOK, st.Health(), "a note is never a fault")

	sourcetest.Eventually(t, 20*time.Second, 200*time.Millisecond, func() error {
		alerts, err := sourcetest.Fetch(t, src)
		if err != nil {
			return err
		}
		if sourcetest.ByName(alerts)["AlwaysFiring"].State != model.StateFiring {
			return fmt.Errorf("AlwaysFiring not read through the proxy: %d alerts", len(alerts))
		}
		return nil
	})
}
