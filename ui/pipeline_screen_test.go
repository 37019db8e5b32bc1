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

// ruleError is what Prometheus says of the failing rule behind
// HighErrorRate.
const ruleError = "found duplicate series for the match group {} on the right hand-side of the operation"

// pipelineScreenFixture is pipelineFixture as the screen gets it once the
// snapshot says what the failing rules mean: prom answers again, the
// HighErrorRate alerts are frozen by their failing rule (FIRING?), and
// the failing rules of prom's group "api" are an outage of the alerting
// pipeline that leaves checkout and payments unwatched. ruleErr is the
// upstream's words for the failing rule.
func pipelineScreenFixture(ruleErr string) *model.Snapshot {
	rf := row("prom", model.StateFiring, 40*time.Minute, map[string]string{"alertname": "RuleFailing", "rule": "HighErrorRate",
		"rule_group": "api", "service": "prom/api rules", "severity": "critical"},
		map[string]string{"summary": "rule HighErrorRate failing: " + ruleErr})
	snap := buildFixture(func(ss []model.SourceStatus) {
		for i := range ss {
			if ss[i].Name == "prom" {
				ss[i].LastError, ss[i].LastSuccess, ss[i].Items = "", ss[i].LastAttempt, 2
			}
		}
	}, rf)
	findings := map[string][]model.Finding{}
	for _, st := range pipelineFixture().Sources {
		findings[st.Name] = st.Findings
	}
	for i := range snap.Sources {
		st := &snap.Sources[i]
		st.Findings = findings[st.Name]
		if st.Name == "prom" {
			st.Findings = append([]model.Finding(nil), st.Findings...)
			st.Findings[0].Text = ruleErr
		}
	}
	for _, s := range snap.Signals {
		if s.Name() == "HighErrorRate" {
			s.RuleFailing = &model.RuleFailure{Since: fixedNow.Add(-40 * time.Minute), Error: ruleErr}
		}
	}
	o := snap.Outage("prom/api rules")
	if o == nil {
		panic("no outage prom/api rules")
	}
	o.Pipeline, o.Blinds = true, []string{"checkout", "payments"}
	return snap
}

// screenLine is the first screen line holding every one of ss, or "".
func screenLine(text []string, ss ...string) string {
next:
	for _, l := range text {
		for _, s := range ss {
			if !strings.Contains(l, s) {
				continue next
			}
		}
		return l
	}
	return ""
}

// An alert whose rule fails upstream reads FIRING? in the alerts table,
// and its detail says since when and why; an alert of a rule that works
// reads FIRING as before.
func TestPipelineFiringMarks(t *testing.T) {
	snap := pipelineScreenFixture(ruleError)
	for _, sz := range [][2]int{{80, 24}, {200, 60}} {
		name := fmt.Sprintf("alerts-pipeline-%dx%d", sz[0], sz[1])
		t.Run(name, func(t *testing.T) {
			s := uitest.NewScreen(t, sz[0], sz[1])
			ui.DrawPanel(s, ui.PanelAlerts, snap, ui.DrawOptions{Now: fixedNow, Operator: "alice", Focus: ui.PanelAlerts})
			text := uitest.ScreenText(s)
			uitest.Golden(t, name, text)
			if l := screenLine(text, "HighErrorRate", "am-eu"); !strings.Contains(l, "FIRING?") {
				t.Errorf("the alert of the failing rule does not read FIRING?: %q", l)
			}
			if l := screenLine(text, "LatencyHigh"); !strings.Contains(l, "FIRING") || strings.Contains(l, "FIRING?") {
				t.Errorf("an alert of a working rule must read FIRING, not FIRING?: %q", l)
			}
		})
		name = fmt.Sprintf("detail-pipeline-%dx%d", sz[0], sz[1])
		t.Run(name, func(t *testing.T) {
			s := uitest.NewScreen(t, sz[0], sz[1])
			ui.DrawPanel(s, ui.PanelDetail, snap, ui.DrawOptions{Now: fixedNow, Detail: signalKey(snap, "HighErrorRate")})
			text := uitest.ScreenText(s)
			uitest.Golden(t, name, text)
			all := strings.Join(text, "\n")
			for _, want := range []string{"State         FIRING?", "Rule          failing upstream since 2026-11-26 09:20:00 UTC (40m ago):", "found duplicate series"} {
				if !strings.Contains(all, want) {
					t.Errorf("the detail does not say %q:\n%s", want, all)
				}
			}
		})
	}
	s := uitest.NewScreen(t, 200, 60)
	ui.DrawPanel(s, ui.PanelDetail, snap, ui.DrawOptions{Now: fixedNow, Detail: signalKey(snap, "LatencyHigh")})
	if all := strings.Join(uitest.ScreenText(s), "\n"); strings.Contains(all, "FIRING?") || strings.Contains(all, "failing upstream") {
		t.Errorf("the detail of an alert whose rule works speaks of a failing rule:\n%s", all)
	}
}

// A failing rule group is an outage of the pipeline: its row says so in
// the owner column, and the dependencies panel names the services its
// rules no longer watch instead of calling it unmapped.
func TestPipelineOutage(t *testing.T) {
	snap := pipelineScreenFixture(ruleError)
	for _, sz := range [][2]int{{80, 24}, {200, 60}} {
		name := fmt.Sprintf("outages-pipeline-%dx%d", sz[0], sz[1])
		t.Run(name, func(t *testing.T) {
			s := uitest.NewScreen(t, sz[0], sz[1])
			ui.DrawPanel(s, ui.PanelOutages, snap, ui.DrawOptions{Now: fixedNow})
			text := uitest.ScreenText(s)
			uitest.Golden(t, name, text)
			l := screenLine(text, "prom/api rules")
			for _, want := range []string{"CRIT", "(pipeline)", "prom"} {
				if !strings.Contains(l, want) {
					t.Errorf("the pipeline outage's row does not say %q: %q", want, l)
				}
			}
			if strings.Contains(l, "(unmapped)") {
				t.Errorf("the pipeline outage's row calls it unmapped: %q", l)
			}
		})
		name = fmt.Sprintf("deps-pipeline-%dx%d", sz[0], sz[1])
		t.Run(name, func(t *testing.T) {
			s := uitest.NewScreen(t, sz[0], sz[1])
			ui.DrawPanel(s, ui.PanelDeps, snap, ui.DrawOptions{Now: fixedNow, Select: "prom/api rules"})
			text := uitest.ScreenText(s)
			uitest.Golden(t, name, text)
			all := strings.Join(text, "\n")
			for _, want := range []string{"3 Dependencies · prom/api rules", "Not watched while its rules fail (2)", "checkout", "payments"} {
				if !strings.Contains(all, want) {
					t.Errorf("the dependencies of the pipeline outage do not say %q:\n%s", want, all)
				}
			}
			if strings.Contains(all, "unmapped") || strings.Contains(all, "not in the service catalog") {
				t.Errorf("the dependencies of the pipeline outage call it unmapped:\n%s", all)
			}
		})
	}
}

// The ? page lists, under each source, every finding of its alerting
// pipeline with the upstream's own words; a source without findings has
// no pipeline block.
func TestPipelineSectionOfSources(t *testing.T) {
	snap := pipelineScreenFixture(ruleError)
	for _, c := range []struct {
		w, h int
		from string
	}{{80, 24, "prometheus"}, {200, 60, "Sources"}} {
		name := fmt.Sprintf("help-pipeline-%dx%d", c.w, c.h)
		t.Run(name, func(t *testing.T) {
			s := uitest.NewScreen(t, c.w, c.h)
			ui.DrawPanel(s, ui.PanelHelp, snap, ui.DrawOptions{Now: fixedNow, Version: "v0.1.0", From: c.from})
			text := uitest.ScreenText(s)
			uitest.Golden(t, name, text)
			all := strings.Join(text, "\n")
			for _, want := range []string{
				"pipeline      4 findings (4 severe)",
				"rule     api/HighErrorRate · since 09:20:00 UTC (40m ago)",
				"found duplicate series for the match group {} on the right",
				"reload   config reload failed · since 09:48:00 UTC (12m ago)",
			} {
				if !strings.Contains(all, want) {
					t.Errorf("prom's pipeline block does not say %q:\n%s", want, all)
				}
			}
			if c.w == 200 {
				for _, want := range []string{"cluster  cluster split (1 of 2 peers)", "note     refused (HTTP 403): /metrics",
					"pipeline      2 findings (1 severe)", "pipeline      1 finding "} {
					if !strings.Contains(all, want) {
						t.Errorf("the Sources section does not say %q:\n%s", want, all)
					}
				}
				if n := strings.Count(all, "pipeline   "); n != 3 {
					t.Errorf("%d pipeline blocks for 3 sources with findings (aws and rt have none):\n%s", n, all)
				}
			}
		})
	}
}

// What an upstream says of its failing rule is drawn literally: tview
// colour tags as typed, an escape sequence as visible escapes, in the
// alert's detail and in the source's pipeline block alike.
func TestPipelineUpstreamWordsAreInert(t *testing.T) {
	hostile := "[red]boom[-] \x1b[31mred\x1b[0m \x1b]8;;http://evil\x07link"
	snap := pipelineScreenFixture(hostile)
	for _, c := range []struct {
		panel ui.Panel
		o     ui.DrawOptions
	}{
		{ui.PanelDetail, ui.DrawOptions{Detail: signalKey(snap, "HighErrorRate")}},
		{ui.PanelHelp, ui.DrawOptions{From: "prometheus"}},
	} {
		s := uitest.NewScreen(t, 200, 60)
		c.o.Now = fixedNow
		ui.DrawPanel(s, c.panel, snap, c.o)
		cells, _, _ := s.GetContents()
		for i, cell := range cells {
			for _, r := range cell.Runes {
				if r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f {
					t.Fatalf("%v: control rune %U reached cell %d", c.panel, r, i)
				}
			}
		}
		all := strings.Join(uitest.ScreenText(s), "\n")
		if want := `[red]boom[-] \x1b[31mred\x1b[0m \x1b]8;;http://evil\x07link`; !strings.Contains(all, want) {
			t.Errorf("%v: the upstream's words are not shown literally as %q:\n%s", c.panel, want, all)
		}
	}
}

// The whole screen with the pipeline outage selected, as an operator at a
// 120×40 or 80×24 terminal sees it.
func TestPipelineScreenGoldens(t *testing.T) {
	snap := pipelineScreenFixture(ruleError)
	for _, sz := range [][2]int{{80, 24}, {120, 40}} {
		name := fmt.Sprintf("screen-pipeline-%dx%d", sz[0], sz[1])
		t.Run(name, func(t *testing.T) {
			s := uitest.NewScreen(t, sz[0], sz[1])
			ui.DrawPanel(s, ui.PanelScreen, snap, ui.DrawOptions{Now: fixedNow, Operator: "alice", Select: "prom/api rules"})
			text := uitest.ScreenText(s)
			uitest.Golden(t, name, text)
			if l := screenLine(text, "prom/api rules", "CRIT"); !strings.Contains(l, "(pipeline)") {
				t.Errorf("the pipeline outage's row does not say it is one: %q", l)
			}
		})
	}
}
