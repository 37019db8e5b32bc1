package runtime_test

import (
	"bytes"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources/runtime"
	"sitroom/sources/sourcetest"
)

// A real Prometheus with external_labels {replica: r1} sending to a real
// Alertmanager pair, all three sources, no match_ignore_labels: each
// alert is one row naming all three (the Prometheus source labels its
// alerts as the Alertmanagers receive them), and an alert only Prometheus
// holds (pending) is one row of its own.
func TestExternalLabelsMergePrometheusWithItsAlertmanagers(t *testing.T) {
	am1 := sourcetest.StartAlertmanager(t)
	am2 := sourcetest.StartAlertmanager(t)
	prom := sourcetest.StartPrometheusWith(t, sourcetest.PromOptions{
		RuleFiles:        []string{sourcetest.RulesFile(t)},
		AlertmanagerURLs: []string{am1.URL, am2.URL},
		ExternalLabels:   map[string]string{"replica": "r1"},
	})
	c := startConsole(t, fmt.Sprintf(`
sources:
  - {name: prom, type: prometheus, url: %q, interval: 1s}
  - {name: am-a, type: alertmanager, url: %q, interval: 1s}
  - {name: am-b, type: alertmanager, url: %q, interval: 1s}
`, prom.URL, am1.URL, am2.URL))

	all := []string{"am-a", "am-b", "prom"}
	rows := func(s *model.Snapshot) map[string][][]string {
		m := map[string][][]string{}
		for _, sig := range s.Signals {
			m[sig.Name()] = append(m[sig.Name()], sig.Sources)
		}
		return m
	}
	snap := c.waitFor(t, 30*time.Second, "every firing alert from all three sources", func(s *model.Snapshot) bool {
		m := rows(s)
		for _, name := range []string{"HighErrorRate", "DiskAlmostFull", "SlowBurn"} {
			if len(m[name]) != 1 || !slices.Equal(m[name][0], all) {
				return false
			}
		}
		return len(m["CertExpiringSoon"]) == 1
	})
	// A few more polls of each: still one row each, and nothing written
	// to the cache (its write sequence stands).
	seq := func() int64 {
		db, err := sql.Open("sqlite3", "file:"+c.opts.DBPath+"?mode=ro&_busy_timeout=5000")
		require.NoError(t, err)
		defer db.Close()
		var v int64
		require.NoError(t, db.QueryRow(`SELECT v FROM meta WHERE k = 'seq'`).Scan(&v))
		return v
	}
	time.Sleep(1500 * time.Millisecond) // the poll after the one that showed them all
	before := seq()
	time.Sleep(3 * time.Second)
	assert.Equal(t, before, seq(), "steady polls write no alert")
	snap = c.snapshot()
	m := rows(snap)
	assert.Equal(t, map[string][][]string{
		"HighErrorRate":    {all},
		"DiskAlmostFull":   {all},
		"SlowBurn":         {all},
		"CertExpiringSoon": {{"prom"}},
	}, m)
	for _, sig := range snap.Signals {
		assert.Equal(t, "r1", sig.Labels.Get("replica"), "%s carries the external label", sig.Name())
	}
}

// checkOut runs `sitroom check` on the config body and returns its exit
// code and output.
func checkOut(t *testing.T, body string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runtime.Check(t.Context(), runtime.Options{ConfigPath: writeConfig(t, body),
		LogFile: filepath.Join(t.TempDir(), "log")}, &out, &errOut)
	return code, out.String() + errOut.String()
}

// `check` prints the labels each Prometheus source learned; a config
// refused by an auth proxy is a warning, not a failure; a server without
// the endpoint (Thanos Ruler, vmalert) is said plainly.
func TestCheckPrintsLearnedExternalLabels(t *testing.T) {
	prom := sourcetest.StartPrometheusWith(t, sourcetest.PromOptions{
		RuleFiles:           []string{sourcetest.RulesFile(t)},
		ExternalLabels:      map[string]string{"replica": "r1", "cluster": "eu1"},
		AlertRelabelConfigs: []map[string]any{{"action": "labeldrop", "regex": "replica"}},
	})
	target, err := url.Parse(prom.URL)
	require.NoError(t, err)
	proxy := func(status int) string {
		rp := httputil.NewSingleHostReverseProxy(target)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/api/v1/status/config" {
				http.Error(w, http.StatusText(status), status)
				return
			}
			rp.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	code, out := checkOut(t, fmt.Sprintf(`
sources:
  - {name: prom, type: prometheus, url: %q}
  - {name: behind-proxy, type: prometheus, url: %q}
  - {name: ruler, type: prometheus, url: %q}
`, prom.URL, proxy(http.StatusForbidden), proxy(http.StatusNotFound)))
	assert.Equal(t, 0, code, out)
	lines := strings.Split(out, "\n")
	after := func(prefix string) string {
		for i, l := range lines {
			if strings.HasPrefix(l, prefix) && i+1 < len(lines) {
				return lines[i+1]
			}
		}
		return ""
	}
	assert.Equal(t, `      prom: external labels {cluster="eu1", replica="r1"}, then 1 alert_relabel_config`, after("ok    prom "))
	assert.Equal(t, "warning: behind-proxy: external labels not known: /api/v1/status/config refused (HTTP 403); "+
		"the same alert from an Alertmanager may show as a row of its own (see match_ignore_labels)", after("ok    behind-proxy "))
	assert.Equal(t, "      ruler: external labels not known: /api/v1/status/config not served (HTTP 404); alerts shown as listed", after("ok    ruler "))
}
