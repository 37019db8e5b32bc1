package model

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An alert's history is a list of firing episodes: spans of its sources
// that overlap are one episode listing each source once; a source that
// stops while another still holds it is no resolve; a gap is a resolve
// and a re-fire.
func TestAlertEpisodes(t *testing.T) {
	m := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
	sp := func(src string, from, to int) AlertSpan {
		s := AlertSpan{Key: "k", Source: src, Name: "DiskFull", Service: "db", Severity: SevCritical, Began: m(from)}
		if to >= 0 {
			s.Resolved = m(to)
		}
		return s
	}
	eps := AlertEpisodes([]AlertSpan{
		sp("am", 0, 10), sp("prom", 1, 30), // the AM expired it while Prometheus still had it firing
		sp("am", 12, 30),                     // …and has it again: same episode, am listed once
		sp("am", 40, 45),                     // resolved at 30, fired again at 40
		sp("prom", 50, -1), sp("am", 51, 52), // a third episode, still open
	})
	require.Len(t, eps, 3)
	assert.Equal(t, []string{"am", "prom"}, eps[0].Sources)
	assert.Equal(t, m(0), eps[0].Fired)
	assert.Equal(t, m(30), eps[0].Resolved, "not resolved while Prometheus still had it")
	assert.Equal(t, m(40), eps[1].Fired, "a re-fire is an episode")
	assert.Equal(t, []string{"am"}, eps[1].Sources)
	assert.True(t, eps[2].Resolved.IsZero(), "open while any source holds it")
	assert.Equal(t, []string{"am", "prom"}, eps[2].Sources)
}
