package model

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// BenchmarkBuildSnapshotRuleFailing is BenchmarkBuildSnapshotPair's
// merge (10k alerts, 30k rows) with 20 of the Prometheus' 50 rules
// failing, each marking its alerts, and pipeline outages on with a
// catalog that maps them, against the same catalog with no rule failing:
// the cost of the marks and outages.
func BenchmarkBuildSnapshotRuleFailing(b *testing.B) {
	rows, sts := benchSuppressionRows(10_000, false)
	since := time.Date(2025, 3, 1, 11, 0, 0, 0, time.UTC)
	var svcs []*Service
	for i := range 20 {
		name := fmt.Sprintf("HighErrorRate%d", i)
		sev := []string{"critical", "warning", "info"}[i%3]
		sts[2].Findings = append(sts[2].Findings, Finding{Kind: FindingRule, Subject: fmt.Sprintf("group%d/%s", i%4, name),
			Text: "many-to-many matching not allowed", Since: since, Severe: true,
			Labels: map[string]string{"alertname": name, "severity": sev}})
		ms, err := ParseMatchers(fmt.Sprintf(`alertname=%q`, name))
		if err != nil {
			b.Fatal(err)
		}
		svcs = append(svcs, &Service{Name: fmt.Sprintf("svc-%d", i), Match: [][]*Matcher{ms}})
	}
	opt := SnapshotOptions{Now: since.Add(time.Hour), Catalog: NewCatalog(svcs), PipelineOutages: true}
	healthy := slices.Clone(sts)
	healthy[2].Findings = nil
	for _, tc := range []struct {
		name           string
		sts            []SourceStatus
		signals, marks int
	}{{"none", healthy, 10_000, 0}, {"20-failing", sts, 10_020, 1340}} {
		b.Run(tc.name, func(b *testing.B) {
			marked := 0
			for _, sig := range BuildSnapshot(rows, tc.sts, opt).Signals {
				if !sig.RuleFailingSince().IsZero() {
					marked++
				}
			}
			if marked != tc.marks {
				b.Fatalf("%d signals marked", marked)
			}
			b.ReportAllocs()
			for b.Loop() {
				if s := BuildSnapshot(rows, tc.sts, opt); len(s.Signals) != tc.signals {
					b.Fatalf("%d signals", len(s.Signals))
				}
			}
		})
	}
}
