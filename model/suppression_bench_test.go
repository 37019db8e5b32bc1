package model

import (
	"fmt"
	"testing"
	"time"
)

// benchSuppressionRows is n alerts held by an Alertmanager HA pair (am-a,
// am-b) and the Prometheus they come from: 3n rows. Every tenth alert is
// silenced on both Alertmanagers, every tenth (another) inhibited by the
// alert before it when inhibit is set.
func benchSuppressionRows(n int, inhibit bool) ([]*AlertRow, []SourceStatus) {
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	rows := make([]*AlertRow, 0, 3*n)
	keys := make([]string, n)
	for i := range n {
		labels := map[string]string{
			"alertname": fmt.Sprintf("HighErrorRate%d", i%50),
			"severity":  []string{"critical", "warning", "info"}[i%3],
			"service":   fmt.Sprintf("svc-%d", i%200),
			"instance":  fmt.Sprintf("10.0.%d.%d:9100", i/250, i%250),
			"pod":       fmt.Sprintf("api-%d-7f9c", i),
		}
		keys[i] = LabelsKey(LabelsFromMap(labels), nil)
		a := Alert{Key: keys[i], Labels: LabelsFromMap(labels), State: StateFiring, StartsAt: StampOf(at.Add(-time.Duration(i) * time.Second)),
			Annotations: LabelsFromMap(map[string]string{"summary": "error rate above 5%"})}
		am := a
		switch {
		case i%10 == 3:
			am.State, am.Suppressed = StateSuppressed, Suppress([]string{fmt.Sprintf("sil-%d", i)}, nil)
		case inhibit && i%10 == 7:
			am.State, am.Suppressed = StateSuppressed, Suppress(nil, []string{keys[i-1]})
		}
		for _, src := range []string{"am-a", "am-b"} {
			rows = append(rows, &AlertRow{Source: src, Alert: am, FirstSeen: StampOf(at), FiredSeen: StampOf(at), LastSeen: StampOf(at)})
		}
		rows = append(rows, &AlertRow{Source: "prom", Alert: a, FirstSeen: StampOf(at), FiredSeen: StampOf(at), LastSeen: StampOf(at)})
	}
	sts := []SourceStatus{
		{Name: "am-a", Type: "alertmanager", LastAttempt: at, LastSuccess: at},
		{Name: "am-b", Type: "alertmanager", LastAttempt: at, LastSuccess: at},
		{Name: "prom", Type: "prometheus", LastAttempt: at, LastSuccess: at},
	}
	return rows, sts
}

// BenchmarkBuildSnapshotPair is the poll path's merge of 10k alerts held
// by an HA pair and their Prometheus (30k rows), a tenth of them silenced
// and, in the inhibited case, a tenth inhibited.
func BenchmarkBuildSnapshotPair(b *testing.B) {
	for _, inhibit := range []bool{false, true} {
		name := "silenced"
		if inhibit {
			name = "inhibited"
		}
		b.Run(name, func(b *testing.B) {
			rows, sts := benchSuppressionRows(10_000, inhibit)
			opt := SnapshotOptions{Now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
			b.ReportAllocs()
			for b.Loop() {
				if s := BuildSnapshot(rows, sts, opt); len(s.Signals) != 10_000 {
					b.Fatalf("%d signals", len(s.Signals))
				}
			}
		})
	}
}
