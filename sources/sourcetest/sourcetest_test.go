package sourcetest

import (
	"fmt"
	"net/http"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder stands in for a test to see whether RequireBinary skips or fails.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Skip(args ...any) {
	r.skipped = fmt.Sprint(args...)
	runtime.Goexit()
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func runRequire(t *testing.T, name string) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		RequireBinary(r, name)
	}()
	<-done
	return r
}

func TestRequireBinaryMissing(t *testing.T) {
	t.Setenv(RequireEnv, "")
	r := runRequire(t, "prometheus-alertmanager-not-installed")
	assert.Contains(t, r.skipped, "apt-get install -y --no-install-recommends prometheus-alertmanager-not-installed")
	assert.Empty(t, r.failed)

	t.Setenv(RequireEnv, "1")
	r = runRequire(t, "/nonexistent/prometheus")
	assert.Empty(t, r.skipped)
	assert.Contains(t, r.failed, "apt-get install -y --no-install-recommends prometheus")
	assert.Contains(t, r.failed, RequireEnv)
}

func TestStartAlertmanagerAndStop(t *testing.T) {
	am := StartAlertmanager(t)
	resp, err := http.Get(am.URL + "/-/ready")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	am.Stop()
	_, err = http.Get(am.URL + "/-/ready")
	assert.Error(t, err, "nothing listens after Stop")
	am.Stop()
}
