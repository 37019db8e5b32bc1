package model

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A Prometheus row still pending carries activeAt, when its rule began
// waiting; the Alertmanager already holds the alert firing, from
// activeAt plus the rule's for. The outage began when it fired, in
// whichever order the rows come.
func TestSignalBeganWhenFiredNotWhenPending(t *testing.T) {
	activeAt := t0.Add(-10 * time.Minute)
	fired := activeAt.Add(5 * time.Minute)
	statuses := []SourceStatus{okStatus("prom"), okStatus("am-a"), okStatus("am-b")}
	for _, order := range [][]string{{"prom", "am-a", "am-b"}, {"am-a", "prom", "am-b"}, {"am-b", "am-a", "prom"}} {
		var rows []*AlertRow
		for _, src := range order {
			if src == "prom" {
				r := row(src, "DBDown", "critical", "db", StatePending, activeAt)
				r.FirstSeen = StampOf(activeAt.Add(10 * time.Second)) // seen pending
				rows = append(rows, r)
			} else {
				r := row(src, "DBDown", "critical", "db", StateFiring, fired.Add(map[string]time.Duration{"am-a": time.Second, "am-b": 0}[src]))
				r.FirstSeen = StampOf(fired.Add(2 * time.Second)) // seen firing
				r.FiredSeen = r.FirstSeen
				rows = append(rows, r)
			}
		}
		snap := BuildSnapshot(rows, statuses, SnapshotOptions{Now: t0})
		require.Len(t, snap.Signals, 1, "%v", order)
		assert.Equal(t, fired, snap.Signals[0].StartsAt.Time(), "%v: the earliest firing start, not activeAt", order)
		require.Len(t, snap.Outages, 1, "%v", order)
		assert.Equal(t, fired, snap.Outages[0].Since, "%v", order)
	}

	// Only pending: the start shown is when it began waiting.
	only := BuildSnapshot([]*AlertRow{row("prom", "DBDown", "critical", "db", StatePending, activeAt)}, statuses[:1], SnapshotOptions{Now: t0})
	require.Len(t, only.Signals, 1)
	assert.Equal(t, activeAt, only.Signals[0].StartsAt.Time())
}
