package cache

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
)

func statusOf(t *testing.T, c *Cache, name string) model.SourceStatus {
	t.Helper()
	_, sts, err := c.Load()
	require.NoError(t, err)
	for _, st := range sts {
		if st.Name == name {
			return st
		}
	}
	t.Fatalf("no status for %s in %v", name, sts)
	return model.SourceStatus{}
}

// Findings are kept with the source's status: another process sharing the
// file sees them, a poll's status write keeps them, an unchanged read
// writes nothing and keeps when it was first seen, and a cleared finding
// is gone.
func TestFindingsSharedKeptAndWrittenOnChange(t *testing.T) {
	c, path := openTemp(t)
	_, err := c.Ingest("prom", []model.Alert{alert("A")}, at(0))
	require.NoError(t, err)
	failing := []model.Finding{{Kind: model.FindingRule, Subject: "g/Broken", Text: "found duplicate series", Severe: true,
		Labels: map[string]string{"alertname": "Broken", "service": "checkout"}}}
	got, wrote, err := c.StoreFindings("prom", failing, t0.Add(5*time.Second))
	require.NoError(t, err)
	assert.True(t, wrote)
	require.Len(t, got, 1)
	assert.Equal(t, t0.Add(5*time.Second), got[0].Since, "first seen")

	other, err := Open(path)
	require.NoError(t, err)
	defer other.Close()
	st := statusOf(t, other, "prom")
	assert.Equal(t, model.HealthDegraded, st.Health(), "another console sees the failing rule")
	assert.Equal(t, "1 rule failing", st.PipelineReason(t0))
	assert.Equal(t, "found duplicate series", st.Findings[0].Text)
	assert.Equal(t, "checkout", st.Findings[0].Labels["service"], "the rule's labels travel with it")

	// A poll's status write leaves the findings alone.
	_, err = c.Ingest("prom", []model.Alert{alert("A"), alert("B")}, at(30))
	require.NoError(t, err)
	require.NoError(t, c.RecordFailure("prom", assert.AnError, at(45)))
	reopened, err := Open(path)
	require.NoError(t, err)
	defer reopened.Close()
	st = statusOf(t, reopened, "prom")
	require.Len(t, st.Findings, 1)
	assert.Equal(t, model.HealthDown, st.Health(), "down wins over degraded")

	// The same finding read again: nothing written, first sight kept.
	db := rawDB(t, path)
	before := dataVersion(t, db)
	got, wrote, err = c.StoreFindings("prom", failing, t0.Add(35*time.Second))
	require.NoError(t, err)
	assert.False(t, wrote)
	assert.Equal(t, t0.Add(5*time.Second), got[0].Since)
	assert.Equal(t, before, dataVersion(t, db), "an unchanged read writes nothing")

	// Cleared: the other console sees it gone.
	_, wrote, err = c.StoreFindings("prom", nil, t0.Add(65*time.Second))
	require.NoError(t, err)
	assert.True(t, wrote)
	assert.Empty(t, statusOf(t, other, "prom").Findings)

	// A source with no status yet and no findings writes nothing.
	_, wrote, err = c.StoreFindings("am", nil, t0)
	require.NoError(t, err)
	assert.False(t, wrote)
}

// An upstream's own Since (a reload's lastConfigTime) is kept as it says.
func TestFindingsUpstreamSince(t *testing.T) {
	c, _ := openTemp(t)
	when := t0.Add(-12 * time.Minute)
	got, _, err := c.StoreFindings("prom", []model.Finding{{Kind: model.FindingReload, Subject: "config reload failed", Since: when, Severe: true}}, t0)
	require.NoError(t, err)
	assert.Equal(t, when, got[0].Since)
	st := statusOf(t, c, "prom")
	assert.Equal(t, model.HealthUnknown, st.Health(), "never polled: still unknown")
	st.LastAttempt, st.LastSuccess = t0, t0
	assert.Equal(t, "config reload failed 12m ago", st.PipelineReason(t0))
	assert.Equal(t, model.HealthDegraded, st.Health())
}

// An upstream's words are stored bounded, with no credentials in URLs.
func TestFindingsTextBounded(t *testing.T) {
	c, _ := openTemp(t)
	long := "error from http://user:pw@prom:9090/x " + strings.Repeat("x", 10000)
	got, _, err := c.StoreFindings("prom", []model.Finding{{Kind: model.FindingRule, Subject: "g/r", Text: long, Severe: true}}, t0)
	require.NoError(t, err)
	assert.LessOrEqual(t, len(got[0].Text), maxErrorLen+len("…"))
	assert.NotContains(t, got[0].Text, "pw@")
	assert.Equal(t, got[0].Text, statusOf(t, c, "prom").Findings[0].Text)
}
