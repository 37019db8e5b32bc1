package ui_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"sitroom/model"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

// tableActor is an Actor that only publishes one board: enough for the
// outages table to show its ACK and LEVEL columns.
type tableActor struct {
	pol *model.Policy
	ch  chan *model.Board
}

func (a *tableActor) Operator() model.Operator {
	return model.Operator{User: "alice", Role: model.RoleTier1}
}
func (a *tableActor) Policy() *model.Policy            { return a.pol }
func (a *tableActor) Check(model.ActionRequest) string { return "" }
func (a *tableActor) Boards() <-chan *model.Board      { return a.ch }
func (a *tableActor) Do(context.Context, model.ActionRequest) (model.ActionResult, error) {
	return model.ActionResult{}, nil
}

// widthsFixture is a cascade as a NOC sees one: every Alertmanager alert
// held by both members of an HA pair and by the Prometheus that fires it
// (three sources), one CloudWatch alarm, services with owners, a
// dependency chain, and escalation levels with names.
func widthsFixture() (*model.Snapshot, *tableActor, *model.Board) {
	var statuses []model.SourceStatus
	for _, n := range []string{"am-a", "am-b", "prom", "aws-eu"} {
		statuses = append(statuses, model.SourceStatus{Name: n, Type: "alertmanager", LastAttempt: ago(2 * time.Second), LastSuccess: ago(2 * time.Second)})
	}
	cat := model.NewCatalog([]*model.Service{
		{Name: "db-main", Match: mustMatchers(`service="db-main"`), Owner: "team-data"},
		{Name: "payments", Match: mustMatchers(`service="payments"`), Owner: "team-payments", DependsOn: []string{"db-main"}},
		{Name: "checkout", Match: mustMatchers(`service="checkout"`), Owner: "team-web", DependsOn: []string{"payments"}},
		{Name: "search", Match: mustMatchers(`service="search"`), Owner: "team-search"},
	})
	var rows []*model.AlertRow
	three := func(name, sev, svc string, started time.Duration, summary string) {
		labels := map[string]string{"alertname": name, "severity": sev, "service": svc}
		for _, src := range []string{"am-a", "am-b", "prom"} {
			rows = append(rows, row(src, model.StateFiring, started, labels, map[string]string{"summary": summary}))
		}
	}
	three("PostgresConnectionPoolExhausted", "critical", "db-main", 14*time.Minute, "db-main connection pool at 100% (200/200) for 5m")
	three("PostgresLatencyHigh", "warning", "db-main", 16*time.Minute, "db-main p99 query latency 1.8s (SLO 250ms)")
	three("PaymentsAPIErrors", "critical", "payments", 9*time.Minute, "payments API 5xx ratio 12% over 5m")
	three("CheckoutLatencyHigh", "warning", "checkout", 6*time.Minute, "checkout p99 latency 3.2s (SLO 800ms)")
	three("SearchIndexLag", "warning", "search", 40*time.Minute, "search index is 25m behind the catalog")
	rows = append(rows, row("aws-eu", model.StateFiring, 12*time.Minute,
		map[string]string{"alertname": "db-main-cpu-high", "severity": "critical", "service": "db-main"},
		map[string]string{"summary": "RDS db-main CPU above 95% for 3 of 3 periods"}))
	snap := model.BuildSnapshot(rows, statuses, model.SnapshotOptions{Now: fixedNow, Catalog: cat})
	a := &tableActor{
		pol: &model.Policy{Levels: []model.EscalationLevel{
			{Level: 1, Who: "NOC tier 1", Contact: "#noc"},
			{Level: 2, Who: "service owner on-call", Contact: "owner's channel", After: 15 * time.Minute},
			{Level: 3, Who: "incident commander", Contact: "#incident", After: 30 * time.Minute, MinRole: model.RoleLead},
		}},
		ch: make(chan *model.Board, 1),
	}
	b := &model.Board{
		Acks:        map[string]*model.Ack{"payments": {Service: "payments", By: "alice", At: ago(3 * time.Minute), Until: fixedNow.Add(2 * time.Hour)}},
		Escalations: map[string]*model.Escalation{"db-main": {Service: "db-main", Level: 2, Who: "service owner on-call", By: "alice", At: ago(5 * time.Minute)}},
		Lapsed:      map[string]*model.Ack{}, Deliveries: map[string]model.Deliveries{},
	}
	return snap, a, b
}

// panelBox is the box of the panel whose title starts with title, cut out
// of the screen text: its border and everything inside.
func panelBox(t *testing.T, lines []string, title string) []string {
	t.Helper()
	for y, l := range lines {
		rs := []rune(l)
		at := strings.Index(l, "─ "+title)
		if at < 0 {
			continue
		}
		ti := len([]rune(l[:at]))
		x0 := ti
		for x0 > 0 && rs[x0] != '┌' {
			x0--
		}
		x1 := ti
		for x1 < len(rs) && rs[x1] != '┐' {
			x1++
		}
		var box []string
		for yy := y; yy < len(lines); yy++ {
			r := []rune(lines[yy])
			for len(r) <= x1 {
				r = append(r, ' ')
			}
			box = append(box, strings.TrimRight(string(r[x0:x1+1]), " "))
			if yy > y && r[x0] == '└' {
				return box
			}
		}
		t.Fatalf("panel %q has no bottom border:\n%s", title, strings.Join(lines, "\n"))
	}
	t.Fatalf("no panel %q on screen:\n%s", title, strings.Join(lines, "\n"))
	return nil
}

// TestTableWidthGoldens draws the outages and alerts tables of a real
// cascade at 80, 120, 160 and 300 columns: the short columns (LEVEL,
// SOURCES, ACK, counts) keep their whole text before names and summaries
// take the rest, and a source list that still does not fit reads "am-a
// +2", never a clipped "am-a,a…".
func TestTableWidthGoldens(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {120, 40}, {160, 48}, {300, 60}} {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			snap, a, b := widthsFixture()
			a.ch <- b
			h := uitest.Start(t, ui.Options{Operator: "alice", Now: func() time.Time { return fixedNow }, Actor: a}, sz[0], sz[1])
			h.Push(snap)
			waitShows(t, h, "ACK 3m alice")
			outages := panelBox(t, h.Text(), "1 Outages")
			uitest.Golden(t, fmt.Sprintf("table-outages-%dx%d", sz[0], sz[1]), outages)
			h.Type("2")
			alerts := panelBox(t, h.Text(), "2 Alerts")
			uitest.Golden(t, fmt.Sprintf("table-alerts-%dx%d", sz[0], sz[1]), alerts)
			for _, box := range [][]string{outages, alerts} {
				text := strings.Join(box, "\n")
				if strings.Contains(text, "am-a,a…") || strings.Contains(text, "am-a,…") || strings.Contains(text, "am-…,") {
					t.Errorf("a source list is clipped instead of counted:\n%s", text)
				}
			}
			if sz[0] != 160 && sz[0] != 80 && !strings.Contains(strings.Join(outages, "\n"), "L2 service owner on-call") {
				t.Errorf("at %d columns the LEVEL column does not show the level's name whole:\n%s", sz[0], strings.Join(outages, "\n"))
			}
		})
	}
}

// waitShows polls the screen until it shows sub: the board reaches the
// App on its own goroutine.
func waitShows(t *testing.T, h *uitest.Harness, sub string) {
	t.Helper()
	deadline := time.Now().Add(uitest.Timeout)
	for !h.Contains(sub) {
		if time.Now().After(deadline) {
			t.Fatalf("screen never showed %q:\n%s", sub, strings.Join(h.Text(), "\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestLevelAndSourcesWholeAt160 is the wide screen of the demo before
// anyone acts: every outage at level 1 and three sources each. The level
// reads whole ("L1 NOC tier 1", not "L1 N…") and the sources that do not
// fit are counted ("am-a +2", not "am-a,a…").
func TestLevelAndSourcesWholeAt160(t *testing.T) {
	snap, a, _ := widthsFixture()
	a.ch <- &model.Board{}
	h := uitest.Start(t, ui.Options{Operator: "alice", Now: func() time.Time { return fixedNow }, Actor: a}, 160, 48)
	h.Push(snap)
	box := strings.Join(panelBox(t, h.Text(), "1 Outages"), "\n")
	for _, want := range []string{"L1 NOC tier 1", "am-a +2"} {
		if !strings.Contains(box, want) {
			t.Errorf("outages at 160 columns do not show %q:\n%s", want, box)
		}
	}
}
