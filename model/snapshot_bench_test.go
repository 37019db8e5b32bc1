package model

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkBuildSnapshotFiredTogether10k builds the snapshot of 10k
// alerts of one Alertmanager that began firing at the same instant (a
// rule evaluation, a network partition), so that ordering them compares
// their names.
func BenchmarkBuildSnapshotFiredTogether10k(b *testing.B) {
	at := StampOf(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	rows := make([]*AlertRow, 10_000)
	for i := range rows {
		labels := LabelsFromMap(map[string]string{
			"alertname": fmt.Sprintf("Alert%02d", i%50), "severity": []string{"critical", "warning", "info"}[i%3],
			"service": fmt.Sprintf("svc-%02d", i%40), "instance": fmt.Sprintf("10.0.%d.%d:9100", i/256, i%256),
			"job": fmt.Sprintf("job-%02d", i%20), "namespace": fmt.Sprintf("ns-%d", i%10), "pod": fmt.Sprintf("pod-%06d", i),
		})
		rows[i] = &AlertRow{Source: "am", Alert: Alert{Key: LabelsKey(labels, nil), Labels: labels, State: StateFiring, StartsAt: at},
			FirstSeen: at, FiredSeen: at, LastSeen: at}
	}
	sts := []SourceStatus{{Name: "am", Type: "alertmanager", LastAttempt: at.Time(), LastSuccess: at.Time()}}
	opt := SnapshotOptions{Now: at.Time().Add(time.Hour)}
	b.ReportAllocs()
	for b.Loop() {
		if s := BuildSnapshot(rows, sts, opt); len(s.Signals) != len(rows) {
			b.Fatalf("%d signals", len(s.Signals))
		}
	}
}
