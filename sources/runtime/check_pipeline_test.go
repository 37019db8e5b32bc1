package runtime_test

import (
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
	"sitroom/model/cache"
	"sitroom/sources/runtime/bintest"
	"sitroom/sources/sourcetest"
)

// brokenRules holds a rule failing at every evaluation on Prometheus 2.42
// (a one-to-many join whose "one" side has two series) and one that fires.
const brokenRules = `groups:
  - name: pipeline
    interval: 1s
    rules:
      - alert: JoinBroken
        expr: vector(1) * on() group_left() (label_replace(vector(1), "a", "x", "", "") or label_replace(vector(2), "a", "y", "", ""))
      - alert: AlwaysFiring
        expr: vector(1)
`

func startBrokenPrometheus(t *testing.T) *sourcetest.Server {
	t.Helper()
	rules := filepath.Join(t.TempDir(), "rules.yml")
	require.NoError(t, os.WriteFile(rules, []byte(brokenRules), 0o600))
	srv := sourcetest.StartPrometheus(t, []string{rules})
	sourcetest.Eventually(t, 20*time.Second, 200*time.Millisecond, func() error {
		if body := string(srv.Get(t, "/api/v1/rules")); !strings.Contains(body, `"health":"err"`) {
			return fmt.Errorf("the rule has not failed yet")
		}
		return nil
	})
	return srv
}

// A rule failing at evaluation fails check, with Prometheus' own words;
// --warn-only prints the same and exits 0.
func TestCheckFailsOnAFailingRule(t *testing.T) {
	srv := startBrokenPrometheus(t)
	cfg := writeConfig(t, fmt.Sprintf("sources:\n  - {name: prom, type: prometheus, url: %s}\n", srv.URL))
	db := filepath.Join(t.TempDir(), "cache.db")
	log := filepath.Join(t.TempDir(), "log")
	code, out, errOut := bintest.Run(t, "check", "--config", cfg, "--db", db, "--log-file", log)
	assert.Equal(t, 1, code, out+errOut)
	assert.Regexp(t, `(?m)^ok +prom +prometheus +`, out, "the source itself answers")
	assert.Regexp(t, `(?m)^FAIL +prom +pipeline: rule failing: pipeline/JoinBroken: found duplicate series`, out)
	assert.Contains(t, out, "alerting pipeline degraded: 1 finding\n")
	assert.Contains(t, out, "      prom: note: sends alerts to no Alertmanager: prometheus_notifications_alertmanagers_discovered 0\n")

	code, out, errOut = bintest.Run(t, "check", "--warn-only", "--config", cfg, "--db", db, "--log-file", log)
	assert.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "pipeline: rule failing: pipeline/JoinBroken")
	assert.Contains(t, out, "alerting pipeline degraded: 1 finding (--warn-only: not failing)")
}

// Health endpoints refused (403) or not offered (404) by a proxy: one
// line of note, the alerts still read, check passes. One Prometheus
// behind both proxies.
func TestCheckHealthRefusedIsANote(t *testing.T) {
	srv := startBrokenPrometheus(t)
	target, err := url.Parse(srv.URL)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	for _, tc := range []struct {
		status int
		note   string
	}{
		{http.StatusForbidden, "      prom: note: refused (HTTP 403): /api/v1/rules, /api/v1/status/runtimeinfo, /metrics\n"},
		{http.StatusNotFound, "      prom: note: not offered: /api/v1/rules, /api/v1/status/runtimeinfo, /metrics\n"},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/api/v1/alerts" || r.URL.Path == "/api/v1/status/config" ||
					r.URL.Path == "/api/v1/rules" && r.URL.Query().Get("type") == "alert" {
					proxy.ServeHTTP(w, r)
					return
				}
				http.Error(w, http.StatusText(tc.status), tc.status)
			}))
			defer front.Close()
			cfg := writeConfig(t, fmt.Sprintf("sources:\n  - {name: prom, type: prometheus, url: %s}\n", front.URL))
			code, out, errOut := bintest.Run(t, "check", "--config", cfg, "--db", filepath.Join(t.TempDir(), "cache.db"),
				"--log-file", filepath.Join(t.TempDir(), "log"))
			assert.Equal(t, 0, code, out+errOut)
			assert.Regexp(t, `(?m)^ok +prom +prometheus +\S+  \d+ alerts? in `, out, "the alerts still read")
			assert.Contains(t, out, tc.note)
			assert.Equal(t, 1, strings.Count(out, "note:"), "one line: %s", out)
			assert.NotContains(t, out, "FAIL")
		})
	}
}

// A rules file rewritten with YAML Prometheus cannot parse, then reloaded:
// check fails and says the reload failed (--warn-only: prints it, exits
// 0); the file fixed and reloaded, check passes again.
func TestCheckFailsOnAFailedReload(t *testing.T) {
	const good = `groups:
  - name: g
    interval: 1s
    rules:
      - record: job:ok
        expr: vector(1)
`
	rules := filepath.Join(t.TempDir(), "rules.yml")
	require.NoError(t, os.WriteFile(rules, []byte(good), 0o600))
	srv := sourcetest.StartPrometheus(t, []string{rules})
	require.NoError(t, os.WriteFile(rules, []byte("groups:\n  - name: g\n    rules: [\n"), 0o600))
	require.Error(t, srv.Reload(t), "Prometheus refuses a rules file it cannot parse")

	cfg := writeConfig(t, fmt.Sprintf("sources:\n  - {name: prom, type: prometheus, url: %s}\n", srv.URL))
	db := filepath.Join(t.TempDir(), "cache.db")
	log := filepath.Join(t.TempDir(), "log")
	code, out, errOut := bintest.Run(t, "check", "--config", cfg, "--db", db, "--log-file", log)
	assert.Equal(t, 1, code, out+errOut)
	assert.Regexp(t, `(?m)^ok +prom +prometheus +`, out, "the source itself answers: it runs its last good config")
	assert.Regexp(t, `(?m)^FAIL +prom +pipeline: config reload failed: reloadConfigSuccess false; running the config loaded at \d{4}-`, out)
	assert.Contains(t, out, "alerting pipeline degraded: 1 finding\n")

	code, out, errOut = bintest.Run(t, "check", "--warn-only", "--config", cfg, "--db", db, "--log-file", log)
	assert.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "pipeline: config reload failed: reloadConfigSuccess false")
	assert.Contains(t, out, "alerting pipeline degraded: 1 finding (--warn-only: not failing)")

	require.NoError(t, os.WriteFile(rules, []byte(good), 0o600))
	require.NoError(t, srv.Reload(t))
	code, out, errOut = bintest.Run(t, "check", "--config", cfg, "--db", db, "--log-file", log)
	assert.Equal(t, 0, code, out+errOut)
	assert.NotContains(t, out, "reload")
}

// poll --once reads the pipeline's health with the alerts: the failing
// rule is stored with the source's status, which every console sharing
// the cache shows degraded, with why.
func TestPollOnceStoresTheFailingRule(t *testing.T) {
	srv := startBrokenPrometheus(t)
	cfg := writeConfig(t, fmt.Sprintf("sources:\n  - {name: prom, type: prometheus, url: %s}\n", srv.URL))
	db := filepath.Join(t.TempDir(), "cache.db")
	code, out, errOut := bintest.Run(t, "poll", "--once", "--config", cfg, "--db", db, "--log-file", filepath.Join(t.TempDir(), "log"))
	require.Equal(t, 0, code, out+errOut)
	c, err := cache.Open(db)
	require.NoError(t, err)
	defer c.Close()
	_, sts, err := c.Load()
	require.NoError(t, err)
	require.Len(t, sts, 1)
	assert.Equal(t, model.HealthDegraded, sts[0].Health())
	assert.Equal(t, "1 rule failing", sts[0].PipelineReason(time.Now()))
	require.Len(t, sts[0].Findings, 2, "the failing rule, and a note: no alerting config")
	assert.Contains(t, sts[0].Findings[0].Text, "duplicate series")
	assert.Equal(t, "sends alerts to no Alertmanager", sts[0].Findings[1].Subject)
}
