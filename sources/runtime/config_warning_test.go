package runtime_test

import (
	"os"
	"path/filepath"
	"testing"

	"sitroom/sources/runtime/bintest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A config file others can read that holds an inline secret is said on
// stderr by the commands that run on it, not only in the log file, which
// an operator starting the dashboard or a poller would not read.
func TestWorldReadableConfigWarnsOnStderr(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(`sources:
  - name: am
    type: alertmanager
    url: http://127.0.0.1:1
    basic_auth: {username: noc, password: "Pl4nted-Pw"}
`), 0o644))
	require.NoError(t, os.Chmod(cfg, 0o644))
	_, out, errOut := bintest.Run(t, "poll", "--once", "--config", cfg, "--db", filepath.Join(dir, "c.db"), "--log-file", filepath.Join(dir, "s.Log"))
	assert.Contains(t, errOut, "sitroom: warning: config.yaml is readable by others and holds inline secrets")
	assert.NotContains(t, out+errOut, "Pl4nted-Pw")
	log, err := os.ReadFile(filepath.Join(dir, "s.Log"))
	require.NoError(t, err)
	assert.Contains(t, string(log), "readable by others")

	require.NoError(t, os.Chmod(cfg, 0o600))
	_, _, errOut = bintest.Run(t, "poll", "--once", "--config", cfg, "--db", filepath.Join(dir, "c.db"), "--log-file", filepath.Join(dir, "s.Log"))
	assert.NotContains(t, errOut, "readable by others", "a private config draws no such warning")
	assert.Contains(t, errOut, "sends credentials over plain http", "the other config warnings are said too")
}
