package sourcetest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// Testdata returns the path of elem under the module's testdata folder,
// found from the test's working directory (its package's folder) by
// going up to the folder holding go.mod; the test fails if there is none.
func Testdata(t testing.TB, elem ...string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("finding testdata: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(append([]string{dir, "testdata"}, elem...)...)
		} else if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("finding testdata: %v", err)
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatalf("finding testdata: no go.mod above the working directory")
		}
		dir = up
	}
}

// RulesFile returns the path of the NOC alerting rules
// (testdata/rules/noc.yml) the integration tests load into Prometheus.
func RulesFile(t testing.TB) string {
	t.Helper()
	return Testdata(t, "rules", "noc.yml")
}

// ReadPayload returns the reply captured from the real upstream server
// in testdata/<upstream>/<name>, failing the test if it cannot be read.
func ReadPayload(t testing.TB, upstream, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(Testdata(t, upstream, name))
	require.NoError(t, err)
	return b
}

// WritePayload writes b, a reply captured from the real upstream server,
// to testdata/<upstream>/<name> (for the -update-payloads flags).
func WritePayload(t testing.TB, upstream, name string, b []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(Testdata(t, upstream, name), b, 0o644))
}
