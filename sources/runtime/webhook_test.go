package runtime_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A webhook in the config file receives escalations: PagerDuty format,
// routing key read from a file next to the config, never stored.
func TestConfiguredWebhookReceivesEscalations(t *testing.T) {
	var mu sync.Mutex
	var got []map[string]any
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer recv.Close()
	cfgPath := writeConfig(t, `
sources: [{name: am, type: alertmanager, url: "http://127.0.0.1:1"}]
escalation:
  - {level: 1, who: "NOC tier 1"}
  - {level: 2, who: "owner on-call", contact: "#web-oncall", after: 15m}
webhooks:
  - {name: pd, url: "`+recv.URL+`", format: pagerduty, routing_key_file: pd.key}
`)
	dir := filepath.Dir(cfgPath)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pd.key"), []byte("planted-pd-routing-key\n"), 0o600))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d := dispatcher(t, openRuntime(t, ctx, cfgPath, filepath.Join(dir, "cache.db"), filepath.Join(dir, "log")))
	escalateCheckout(t, ctx, d, "db failover failed", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 1
	})
	mu.Lock()
	assert.Equal(t, "planted-pd-routing-key", got[0]["routing_key"])
	assert.Equal(t, "trigger", got[0]["event_action"])
	mu.Unlock()
	for _, f := range []string{"cache.db", "cache.db-wal", "log"} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		assert.NotContains(t, string(b), "planted-pd-routing-key", f)
	}
}
