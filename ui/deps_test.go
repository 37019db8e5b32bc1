package ui_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

// hostileContact is a contact from the config carrying a terminal escape
// and a tview tag: it must be drawn and copied inert.
const hostileContact = "#web\x1b]52;c;ZXZpbA==\x07[red]x"

// depsCatalog is the demo's chain db-main → payments → checkout → web, a
// diamond beside it (reports on both db-main and search) and an unrelated
// service.
func depsCatalog() *model.Catalog {
	svc := func(name, owner string, contacts []string, deps ...string) *model.Service {
		return &model.Service{Name: name, Match: mustMatchers(`service="` + name + `"`), Owner: owner, Contacts: contacts, DependsOn: deps}
	}
	return model.NewCatalog([]*model.Service{
		svc("db-main", "team-data", []string{"#data-oncall", "data-oncall@example.com"}),
		svc("payments", "team-payments", []string{"#payments-oncall"}, "db-main"),
		svc("checkout", "team-web", []string{"#web-oncall"}, "payments"),
		svc("web", "team-web", []string{"#web-oncall", hostileContact}, "checkout"),
		svc("search", "team-search", []string{"#search-oncall"}),
		svc("reports", "", nil, "db-main", "search"),
		svc("auth", "team-identity", []string{"#identity-oncall"}),
	})
}

// depsRows are the alerts of the cascade: db-main down (the cause),
// payments and checkout down with it, web only warning, search pending,
// and an outage of a service the catalog does not know.
func depsRows(cause bool) []*model.AlertRow {
	var rows []*model.AlertRow
	add := func(name, sev, svc string, state model.State, started time.Duration) {
		rows = append(rows, row("am-eu", state, started, map[string]string{"alertname": name, "severity": sev, "service": svc}, map[string]string{"summary": name}))
	}
	if cause {
		add("PostgresConnectionPoolExhausted", "critical", "db-main", model.StateFiring, 9*time.Minute)
		add("PostgresLatencyHigh", "warning", "db-main", model.StateFiring, 12*time.Minute)
	}
	add("PaymentsErrorRateHigh", "critical", "payments", model.StateFiring, 7*time.Minute)
	add("CheckoutErrorRateHigh", "critical", "checkout", model.StateFiring, 4*time.Minute)
	add("WebLatencyHigh", "warning", "web", model.StateFiring, 3*time.Minute)
	add("SearchIndexLag", "critical", "search", model.StatePending, time.Minute)
	add("ReplicationLag", "critical", "legacy-billing", model.StateFiring, 2*time.Hour)
	return rows
}

func depsSnap(cause bool) *model.Snapshot {
	st := []model.SourceStatus{{Name: "am-eu", Type: "alertmanager", LastAttempt: ago(5 * time.Second), LastSuccess: ago(5 * time.Second)}}
	return model.BuildSnapshot(depsRows(cause), st, model.SnapshotOptions{Now: fixedNow, Catalog: depsCatalog()})
}

func TestDepsGoldens(t *testing.T) {
	snap := depsSnap(true)
	cases := []struct {
		name  string
		panel ui.Panel
		o     ui.DrawOptions
	}{
		{"deps-cause", ui.PanelDeps, ui.DrawOptions{Focus: ui.PanelDeps, Select: "db-main"}},
		{"deps-symptom", ui.PanelDeps, ui.DrawOptions{Focus: ui.PanelDeps, Select: "checkout"}},
		{"deps-unmapped", ui.PanelDeps, ui.DrawOptions{Focus: ui.PanelDeps, Select: "legacy-billing"}},
		{"outages-nested", ui.PanelOutages, ui.DrawOptions{}},
		{"outages-flat", ui.PanelOutages, ui.DrawOptions{Flat: true}},
		{"screen-deps", ui.PanelScreen, ui.DrawOptions{Select: "payments"}},
	}
	for _, c := range cases {
		for _, sz := range sizes {
			name := fmt.Sprintf("%s-%dx%d", c.name, sz[0], sz[1])
			t.Run(name, func(t *testing.T) {
				s := uitest.NewScreen(t, sz[0], sz[1])
				o := c.o
				o.Now, o.Operator = fixedNow, "alice"
				ui.DrawPanel(s, c.panel, snap, o)
				uitest.Golden(t, name, uitest.ScreenText(s))
			})
		}
	}
}

func depsText(t *testing.T, snap *model.Snapshot, sel string) string {
	s := uitest.NewScreen(t, 120, 40)
	ui.DrawPanel(s, ui.PanelDeps, snap, ui.DrawOptions{Now: fixedNow, Focus: ui.PanelDeps, Select: sel})
	return strings.Join(uitest.ScreenText(s), "\n")
}

// What the panel claims, independent of layout.
func TestDepsPanelContent(t *testing.T) {
	snap := depsSnap(true)
	text := depsText(t, snap, "checkout")
	for _, want := range []string{
		"Probable cause: db-main",
		"db-main  ", "◀ probable cause",
		"Downstream — impacted (1)", "web", "impacted · WARN 1 firing · tickets —",
		"team-web", "#web-oncall",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("checkout's panel lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "search") {
		t.Errorf("search is neither upstream nor downstream of checkout:\n%s", text)
	}

	text = depsText(t, snap, "db-main")
	for _, want := range []string{
		"Probable cause of 2 other outages",
		"Upstream — db-main depends on (0)",
		"Downstream — impacted (4)",
		"impacted · CRIT outage · 1 alert",
		"reports", "(no owner)",
		"Notify — 4 teams",
		`#web\x1b]52;c;ZXZpbA==\x07[red]x`, // inert, literally
	} {
		if !strings.Contains(text, want) {
			t.Errorf("db-main's panel lacks %q:\n%s", want, text)
		}
	}

	// When db-main recovers, payments leads and checkout nests under it.
	text = depsText(t, depsSnap(false), "checkout")
	if !strings.Contains(text, "Probable cause: payments (CRIT outage, 1 level up)") || !regexp.MustCompile(`db-main +ok`).MatchString(text) {
		t.Errorf("after db-main recovered, checkout's cause is payments and db-main is ok:\n%s", text)
	}
}

func TestNestingToggleAndCopy(t *testing.T) {
	h := start(t, 160, 48)
	h.Push(depsSnap(true))
	lines := h.Text()
	joined := strings.Join(lines, "\n")
	if !strings.Contains(joined, "1 Outages (4) · 2 symptoms nested") {
		t.Fatalf("outages title does not say symptoms are nested:\n%s", joined)
	}
	order := func() []string {
		var out []string
		for _, l := range h.Text()[3:20] {
			for _, svc := range []string{"db-main", "payments", "checkout", "legacy-billing"} {
				if i := strings.Index(l, "CRIT"); i >= 0 && i < 10 && strings.Contains(l[:min(len(l), 60)], svc) {
					prefix := ""
					if strings.Contains(l, "├ "+svc) {
						prefix = "├ "
					} else if strings.Contains(l, "└ "+svc) {
						prefix = "└ "
					}
					out = append(out, prefix+svc)
				}
			}
		}
		return out
	}
	if got := strings.Join(order(), ","); got != "legacy-billing,db-main,├ payments,└ checkout" {
		t.Errorf("nested order %q", got)
	}
	h.Type("v")
	if got := strings.Join(order(), ","); got != "legacy-billing,db-main,payments,checkout" {
		t.Errorf("flat order %q", got)
	}
	if !h.Contains("1 Outages (4) · flat") {
		t.Errorf("flat title missing:\n%s", strings.Join(h.Text(), "\n"))
	}
	h.Type("v")

	// select db-main and copy who to notify
	h.Type("gj")
	if !h.Contains("3 Dependencies · db-main") {
		t.Fatalf("deps panel does not follow the selection:\n%s", strings.Join(h.Text(), "\n"))
	}
	h.Type("y")
	clip := string(h.Screen.GetClipboardData())
	for _, want := range []string{"Outage db-main (CRIT) — notify:", "team-data: #data-oncall, data-oncall@example.com (db-main)",
		"team-payments: #payments-oncall (payments)", `team-web: #web-oncall, #web\x1b]52;c;ZXZpbA==\x07[red]x (checkout, web)`, "(no owner): — (reports)"} {
		if !strings.Contains(clip, want) {
			t.Errorf("clipboard lacks %q:\n%s", want, clip)
		}
	}
	if strings.ContainsAny(clip, "\x1b\x07") {
		t.Errorf("clipboard carries control characters: %q", clip)
	}
	if !h.Contains("sent 4 teams to notify for db-main") {
		t.Errorf("no flash after y:\n%s", strings.Join(h.Text(), "\n"))
	}

	// an unmapped outage: y says why it cannot act
	h.Type("g")
	h.Type("y")
	if !h.Contains("legacy-billing is not in the service catalog") {
		t.Errorf("y on an unmapped outage does not say why:\n%s", strings.Join(h.Text(), "\n"))
	}

	// Enter on a dependency row goes to that service's outage
	h.Type("gj3")
	for i := 0; i < 12 && !strings.Contains(depsSelectedLine(h), "payments"); i++ {
		h.Type("j")
	}
	h.Key(tcell.KeyEnter)
	if !h.Contains("3 Dependencies · payments") {
		t.Errorf("Enter on payments in db-main's tree did not select its outage:\n%s", strings.Join(h.Text(), "\n"))
	}

	// db-main recovers: payments leads, checkout un-nests from db-main
	h.Push(depsSnap(false))
	if got := strings.Join(order(), ","); got != "legacy-billing,payments,└ checkout" {
		t.Errorf("after recovery, order %q", got)
	}
}

// depsSelectedLine is the selected line of the focused dependencies panel
// in the wide layout (the left column, under the outages).
func depsSelectedLine(h *uitest.Harness) string {
	var line string
	h.App.Inspect(func() {
		cells, w, hh := h.Screen.GetContents()
		for y := 3; y < hh-2; y++ {
			if _, _, a := cells[y*w+2].Style.Decompose(); a&tcell.AttrReverse != 0 {
				line = uitest.ScreenText(h.Screen)[y]
			}
		}
	})
	return line
}

func TestDepsPanelAt80x24IsOneTab(t *testing.T) {
	h := start(t, 80, 24)
	h.Push(depsSnap(true))
	h.Type("j3")
	text := strings.Join(h.Text(), "\n")
	if !strings.Contains(h.Text()[2], "▸3 Deps") || !strings.Contains(text, "3 Dependencies · db-main") {
		t.Fatalf("3 did not show the dependencies of the selected outage:\n%s", text)
	}
	h.Key(tcell.KeyTab)
	if !strings.Contains(h.Text()[2], "▸4 Backlog") {
		t.Fatalf("Tab from dependencies does not go on to the backlog: %q", h.Text()[2])
	}
	h.Key(tcell.KeyTab)
	if !strings.HasPrefix(h.Text()[2], "▸1 Outages") {
		t.Fatalf("Tab from the backlog does not wrap to outages: %q", h.Text()[2])
	}
}
