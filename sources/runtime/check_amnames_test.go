package runtime_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/config"
	"sitroom/sources"
	"sitroom/sources/runtime"
)

// The sources built from a config name the Alertmanagers a Prometheus
// cannot deliver to as the config names them: "am-b not receiving", not
// the host and port Prometheus labels it with.
func TestJobsNameAlertmanagersAsTheConfig(t *testing.T) {
	errs := 0
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		errs++ // rising at every read
		fmt.Fprintf(w, "# TYPE prometheus_notifications_errors_total counter\n"+
			"prometheus_notifications_errors_total{alertmanager=\"http://10.1.2.3:9093/api/v2/alerts\"} %d\n"+
			"prometheus_notifications_errors_total{alertmanager=\"http://10.1.2.4:9093/api/v2/alerts\"} %d\n", errs, errs)
	}))
	defer prom.Close()
	cfg, err := config.Parse([]byte(fmt.Sprintf(`sources:
  - {name: prom-eu, type: prometheus, url: %s}
  - {name: am-b, type: alertmanager, url: "http://10.1.2.3:9093/"}
`, prom.URL)), t.TempDir())
	require.NoError(t, err)
	jobs, err := runtime.Jobs(cfg)
	require.NoError(t, err)
	h, ok := jobs[0].Source.(sources.HealthReader)
	require.True(t, ok)
	read := func() []string {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		fs, err := h.Health(ctx)
		require.NoError(t, err)
		var out []string
		for _, f := range fs {
			if f.Kind == model.FindingNotify {
				out = append(out, f.Subject)
			}
		}
		return out
	}
	assert.Empty(t, read(), "one read cannot tell a trend")
	assert.ElementsMatch(t, []string{"am-b not receiving", "10.1.2.4:9093 not receiving"}, read())
}
