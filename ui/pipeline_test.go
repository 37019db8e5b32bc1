package ui_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"sitroom/model"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

// pipelineFixture is the fixture with prom answering again but three of
// its rules failing and its last reload failed 12 minutes ago, and am-us
// split from its peer: both chips degraded, with why in few words.
func pipelineFixture() *model.Snapshot {
	snap := fixture()
	for i := range snap.Sources {
		st := &snap.Sources[i]
		switch st.Name {
		case "prom":
			st.LastError, st.LastSuccess = "", st.LastAttempt
			for _, r := range []string{"HighErrorRate", "JoinBroken", "DiskFill"} {
				st.Findings = append(st.Findings, model.Finding{Kind: model.FindingRule, Subject: "api/" + r,
					Text:  "found duplicate series for the match group {} on the right hand-side of the operation",
					Since: fixedNow.Add(-40 * time.Minute), Severe: true,
					Labels: map[string]string{"alertname": r, "severity": "critical", "service": "checkout"}})
			}
			st.Findings = append(st.Findings, model.Finding{Kind: model.FindingReload, Subject: "config reload failed",
				Since: fixedNow.Add(-12 * time.Minute), Severe: true})
		case "am-us":
			st.Findings = []model.Finding{{Kind: model.FindingCluster, Subject: "cluster split (1 of 2 peers)", Severe: true},
				{Kind: model.FindingNote, Subject: "refused (HTTP 403): /metrics"}}
		case "am-eu":
			st.Findings = []model.Finding{{Kind: model.FindingNote, Subject: "refused (HTTP 403): /metrics"}}
		}
	}
	return snap
}

func TestPipelineChipGoldens(t *testing.T) {
	snap := pipelineFixture()
	for _, sz := range [][2]int{{80, 24}, {200, 60}} {
		name := fmt.Sprintf("header-pipeline-%dx%d", sz[0], sz[1])
		t.Run(name, func(t *testing.T) {
			s := uitest.NewScreen(t, sz[0], sz[1])
			ui.DrawPanel(s, ui.PanelHeader, snap, ui.DrawOptions{Now: fixedNow, Operator: "alice"})
			text := uitest.ScreenText(s)
			uitest.Golden(t, name, text)
			all := strings.Join(text, "\n")
			if sz[0] == 200 {
				for _, want := range []string{"prom degraded: 3 rules failing; config reload failed 12m ago",
					"am-us degraded: cluster split (1 of 2 peers)", "am-eu ok"} {
					if !strings.Contains(all, want) {
						t.Errorf("the header does not say %q:\n%s", want, all)
					}
				}
			}
			if strings.Contains(all, "403") {
				t.Errorf("a note is not a chip's business:\n%s", all)
			}
		})
	}
}
