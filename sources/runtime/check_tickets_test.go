package runtime_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model/cache"
	"sitroom/sources/runtime/bintest"
	"sitroom/sources/sourcetest"
)

// A config with an rt source is checked and polled like any other source,
// against a real Request Tracker: check counts its open tickets, poll
// writes them into the cache, and the token never reaches the output.
func TestRTSourceCheckedAndPolled(t *testing.T) {
	srv := sourcetest.StartRT(t, sourcetest.WithRTQueues("NOC", "NOC-T2"))
	srv.CreateTicket(t, "NOC", "edge-2 BGP session down", 85, "ops@example.com")
	srv.CreateTicket(t, "NOC-T2", "db-main replication lag", 55, "")
	tokenFile := writeSecretFile(t, srv.Token)
	cfg := writeConfig(t, fmt.Sprintf(`
sources:
  - name: rt-noc
    type: rt
    url: %s
    authorization: {type: token, credentials_file: %s}
    tiers: {tier1: {queues: [NOC]}, tier2: {queues: [NOC-T2]}}
    sla_targets: {P1: 1h}
`, srv.URL, tokenFile))
	logFile := filepath.Join(t.TempDir(), "log")
	code, out, errOut := bintest.Run(t, "check", "--config", cfg, "--log-file", logFile)
	require.Equal(t, 0, code, out+errOut)
	assert.Regexp(t, `(?m)^ok +rt-noc +rt +`+srv.URL+` +2 open tickets in`, out)
	assert.NotContains(t, out+errOut, srv.Token)

	db := filepath.Join(t.TempDir(), "cache.db")
	code, out, errOut = bintest.Run(t, "poll", "--once", "--config", cfg, "--db", db, "--log-file", logFile)
	require.Equal(t, 0, code, out+errOut)
	c, err := cache.Open(db)
	require.NoError(t, err)
	defer c.Close()
	ts, err := c.Tickets()
	require.NoError(t, err)
	require.Len(t, ts, 2)
	subjects := map[string]string{}
	for _, tk := range ts {
		subjects[tk.Subject] = tk.Tier.String()
	}
	assert.Equal(t, map[string]string{"edge-2 BGP session down": "T1", "db-main replication lag": "T2"}, subjects)
	logText, err := os.ReadFile(logFile)
	require.NoError(t, err)
	assert.NotContains(t, string(logText), srv.Token)
}
