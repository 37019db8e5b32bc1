package ui

import (
	"fmt"
	"testing"
	"time"

	"sitroom/model"
)

// Narrowing a view as the operator types gives exactly what filtering the
// whole snapshot gives, for longer, shorter and unrelated filter texts.
func TestViewNarrowingEqualsFullFilter(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	var rows []*model.AlertRow
	for i := range 300 {
		labels := map[string]string{"alertname": fmt.Sprintf("Alert%d", i%17), "severity": []string{"critical", "warning"}[i%2],
			"service": []string{"checkout", "check-in", "edge", "payments"}[i%4], "instance": fmt.Sprintf("host-%d", i)}
		rows = append(rows, &model.AlertRow{Source: "am", Alert: model.Alert{Key: model.LabelsKey(model.LabelsFromMap(labels), nil), Labels: model.LabelsFromMap(labels),
			State: model.StateFiring, StartsAt: model.StampOf(now.Add(-time.Duration(i) * time.Minute))}})
	}
	snap := model.BuildSnapshot(rows, []model.SourceStatus{{Name: "am", LastAttempt: now, LastSuccess: now}}, model.SnapshotOptions{Now: now})
	steps := []string{"c", "ch", "che", "check", "checkout", "chec", "host-1", "host-12", "e", "edge", "service=checkout", "alert1", "",
		"severity=critical", "severity=critical check", "severity=critical checkout", "severity=critical", "service=~check.*", "@age>2h", "@age>2h edge", "@age>3h edge", "host-1 @age<1h", "host-1"}
	var prev *view
	for _, q := range steps {
		f, err := parseFilter(q)
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		got := buildView(snap, f, false, prev, nil)
		want := buildView(snap, f, false, nil, nil)
		if len(got.sigs) != len(want.sigs) || len(got.outs) != len(want.outs) {
			t.Fatalf("filter %q: narrowed view has %d signals/%d outages, full filter %d/%d", q, len(got.sigs), len(got.outs), len(want.sigs), len(want.outs))
		}
		for i := range got.sigs {
			if got.sigs[i] != want.sigs[i] {
				t.Fatalf("filter %q: signal %d differs", q, i)
			}
		}
		prev = got
	}
}
