package ui_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

func start(t *testing.T, w, h int) *uitest.Harness {
	t.Helper()
	return uitest.Start(t, ui.Options{Operator: "alice", Now: func() time.Time { return fixedNow }}, w, h)
}

func screen(h *uitest.Harness) string { return strings.Join(h.Text(), "\n") }

// selectedLine is the screen line drawn in reverse video (the selection).
func selectedLine(t *testing.T, h *uitest.Harness) string {
	t.Helper()
	var line string
	h.App.Inspect(func() {
		cells, w, hh := h.Screen.GetContents()
		for y := 3; y < hh; y++ {
			rev := 0
			for x := 0; x < w; x++ {
				if _, _, a := cells[y*w+x].Style.Decompose(); a&tcell.AttrReverse != 0 {
					rev++
				}
			}
			if rev > w/2 {
				line = uitest.ScreenText(h.Screen)[y]
				return
			}
		}
	})
	return line
}

func TestSnapshotAppearsAndReplaces(t *testing.T) {
	h := start(t, 80, 24)
	if !h.Contains("waiting for the first poll") {
		t.Fatalf("no waiting message before the first snapshot:\n%s", screen(h))
	}
	snap := fixture()
	h.Push(snap)
	if !h.Contains("payments-legacy") || !h.Contains("OUT 2") {
		t.Fatalf("snapshot not shown:\n%s", screen(h))
	}
	// Select the second outage, then push a snapshot where a new outage sorts first:
	// the selection must stay on the same service, not the same index.
	h.Key(tcell.KeyDown)
	if sel := selectedLine(t, h); !strings.Contains(sel, "checkout") {
		t.Fatalf("selection after ↓ is %q", sel)
	}
	rows := []*model.AlertRow{
		row("am-eu", model.StateFiring, 30*24*time.Hour, map[string]string{"alertname": "Down", "severity": "critical", "service": "aaa-first"}, nil),
		row("am-eu", model.StateFiring, 12*time.Minute, map[string]string{"alertname": "HighErrorRate", "severity": "critical", "service": "checkout"}, nil),
		row("am-eu", model.StateFiring, 48*time.Hour, map[string]string{"alertname": "ReplicationLag", "severity": "critical", "service": "payments-legacy"}, nil),
	}
	next := model.BuildSnapshot(rows, []model.SourceStatus{{Name: "am-eu", LastAttempt: fixedNow, LastSuccess: fixedNow}}, model.SnapshotOptions{Now: fixedNow})
	h.Push(next)
	if !h.Contains("aaa-first") || !h.Contains("OUT 3") {
		t.Fatalf("second snapshot not shown:\n%s", screen(h))
	}
	if sel := selectedLine(t, h); !strings.Contains(sel, "checkout") {
		t.Fatalf("selection moved off checkout after the swap: %q\n%s", sel, screen(h))
	}
}

func TestFilterTyping(t *testing.T) {
	h := start(t, 80, 24)
	h.Push(fixture())
	h.Type("2")
	h.Type("/")
	h.Type("LATENCY")
	text := screen(h)
	if !strings.Contains(text, "LatencyHigh") || strings.Contains(text, "ReplicationLag") {
		t.Fatalf("filter LATENCY did not narrow the alerts:\n%s", text)
	}
	if !strings.Contains(text, "2 Alerts 1 of 7") || !strings.Contains(text, "/LATENCY") {
		t.Fatalf("no N of M or filter line:\n%s", text)
	}
	h.Key(tcell.KeyEnter) // keep
	if !h.Contains("2 Alerts 1 of 7") {
		t.Fatalf("Enter dropped the filter:\n%s", screen(h))
	}
	h.Key(tcell.KeyEscape) // clear
	if !h.Contains("2 Alerts (7)") || !h.Contains("ReplicationLag") {
		t.Fatalf("Esc did not clear the filter:\n%s", screen(h))
	}
	// Labels are searched too: the hostile alert's label value.
	h.Type("/[red]")
	if !h.Contains("HostileText") || !h.Contains("1 of 7") {
		t.Fatalf("label text not matched:\n%s", screen(h))
	}
}

func TestEnterOutageFiltersAlertsAndDetail(t *testing.T) {
	h := start(t, 80, 24)
	h.Push(fixture())
	h.Key(tcell.KeyDown) // checkout
	h.Key(tcell.KeyEnter)
	text := screen(h)
	if !strings.Contains(text, "service=checkout") || !strings.Contains(text, "3 of 7") || strings.Contains(text, "ReplicationLag") {
		t.Fatalf("Enter on an outage did not show its alerts:\n%s", text)
	}
	h.Key(tcell.KeyEnter) // first checkout alert → detail
	text = screen(h)
	if !strings.Contains(text, "Alert HighErrorRate") || !strings.Contains(text, "(from the service catalog)") || !strings.Contains(text, "runbooks.example") {
		t.Fatalf("detail view not shown:\n%s", text)
	}
	h.Key(tcell.KeyEscape)
	if h.Contains("Alert HighErrorRate") || !h.Contains("service=checkout") {
		t.Fatalf("Esc did not close the detail back to the filtered alerts:\n%s", screen(h))
	}
	h.Key(tcell.KeyEscape)
	if !h.Contains("2 Alerts (7)") {
		t.Fatalf("Esc did not clear the service filter:\n%s", screen(h))
	}
}

func TestPanelSwitching(t *testing.T) {
	h := start(t, 80, 24)
	h.Push(fixture())
	tab := func() string { return h.Text()[2] }
	if !strings.HasPrefix(tab(), "▸1 Outages") {
		t.Fatalf("tab strip %q", tab())
	}
	h.Key(tcell.KeyTab)
	if !strings.Contains(tab(), "▸2 Alerts") || !h.Contains("SUMMARY") {
		t.Fatalf("Tab did not switch to alerts: %q", tab())
	}
	h.Key(tcell.KeyBacktab)
	if !strings.HasPrefix(tab(), "▸1 Outages") {
		t.Fatalf("Shift-Tab did not go back: %q", tab())
	}
	h.Type("2")
	if !strings.Contains(tab(), "▸2 Alerts") {
		t.Fatalf("2 did not switch: %q", tab())
	}
	h.Type("1")
	if !strings.HasPrefix(tab(), "▸1 Outages") || h.Contains("SUMMARY") {
		t.Fatalf("1 did not switch: %q", tab())
	}
}

func TestHelpListsEveryBinding(t *testing.T) {
	h := start(t, 160, 140)
	h.Push(fixture())
	h.Type("?")
	text := screen(h)
	for _, b := range ui.Bindings(false) {
		if !strings.Contains(text, b.Keys) || !strings.Contains(text, b.Desc) {
			t.Errorf("help page lacks %s %q", b.Keys, b.Desc)
		}
	}
	if !strings.Contains(text, "connection refused") {
		t.Errorf("help page does not show the source error")
	}
	h.Key(tcell.KeyEscape)
	if h.Contains("Help") {
		t.Fatalf("Esc did not close help")
	}
}

func TestFooterFromBindingTable(t *testing.T) {
	h := start(t, 160, 48)
	footer := h.Text()[47]
	for _, b := range ui.Bindings(false) {
		if b.Scope == ui.ScopeMain && b.Footer && !strings.Contains(footer, b.Keys+" "+b.FooterText()) {
			t.Errorf("footer %q lacks %s %s", footer, b.Keys, b.Desc)
		}
	}
}

func TestRefreshKey(t *testing.T) {
	h := start(t, 80, 24)
	h.Type("r")
	if h.Feed.Refreshes() != 1 || !h.Contains("refreshing…") {
		t.Fatalf("r: %d refreshes, screen:\n%s", h.Feed.Refreshes(), screen(h))
	}
}

func TestQuitKeyEndsRun(t *testing.T) {
	h := start(t, 80, 24)
	h.App.InjectKey(tcell.NewEventKey(tcell.KeyRune, 'q', tcell.ModNone))
	if !h.Exited() {
		t.Fatal("Run did not return after q")
	}
}

func TestLayoutBySize(t *testing.T) {
	h := start(t, 80, 24)
	h.Push(fixture())
	if text := screen(h); strings.Contains(text, "2 Alerts (7) ─") || !strings.Contains(text, "1 Outages (2) ─") {
		t.Fatalf("80×24 should show one panel:\n%s", text)
	}
	h.Resize(160, 48)
	if text := screen(h); !strings.Contains(text, "2 Alerts (7) ─") || !strings.Contains(text, "1 Outages (2) ─") {
		t.Fatalf("160×48 should show both panels:\n%s", text)
	}
	h.Resize(20, 5)
	text := screen(h)
	if !strings.Contains(text, "terminal too small") || !strings.Contains(text, "(20×5)") || strings.Contains(text, "Outages") {
		t.Fatalf("20×5 should show only the too-small message:\n%s", text)
	}
	h.Resize(80, 24) // and it recovers
	if !h.Contains("1 Outages (2)") {
		t.Fatalf("did not recover from a tiny terminal:\n%s", screen(h))
	}
}

func TestNoRedrawWhenNothingChanged(t *testing.T) {
	h := uitest.Start(t, ui.Options{Operator: "alice", Now: func() time.Time { return fixedNow }, Tick: 5 * time.Millisecond}, 80, 24)
	snap := fixture()
	h.Push(snap)
	before := h.App.Draws()
	// Many clock ticks pass with the same snapshot and a clock that shows the same time;
	// pushing the very same snapshot again is not a change either.
	h.Feed.Push(snap)
	time.Sleep(300 * time.Millisecond)
	h.WaitIdle()
	if d := h.App.Draws() - before; d != 0 {
		t.Fatalf("%d frames drawn while nothing changed", d)
	}
	h.Push(fixture())
	if d := h.App.Draws() - before; d != 1 {
		t.Fatalf("a new snapshot drew %d frames, want 1", d)
	}
}

func TestClockTickRedrawsWhenTheTimeShownChanges(t *testing.T) {
	var mu = make(chan time.Time, 1)
	mu <- fixedNow
	now := func() time.Time { t := <-mu; mu <- t; return t }
	h := uitest.Start(t, ui.Options{Now: now, Tick: 5 * time.Millisecond}, 80, 24)
	<-mu
	mu <- fixedNow.Add(time.Second)
	deadline := time.Now().Add(uitest.Timeout)
	for !h.Contains("10:00:01") {
		if time.Now().After(deadline) {
			t.Fatalf("clock not redrawn:\n%s", screen(h))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestReadOnlyBadge(t *testing.T) {
	h := uitest.Start(t, ui.Options{Operator: "kiosk", ReadOnly: true, Now: func() time.Time { return fixedNow }}, 80, 24)
	if !strings.Contains(h.Text()[0], "READ-ONLY") {
		t.Fatalf("no READ-ONLY badge: %q", h.Text()[0])
	}
}

func TestAllSourcesDownAndFeedClosed(t *testing.T) {
	h := start(t, 80, 24)
	down := []model.SourceStatus{
		{Name: "am", LastAttempt: fixedNow, LastError: "timeout"},
		{Name: "prom", LastAttempt: fixedNow, LastSuccess: ago(time.Hour), LastError: "503 Service Unavailable"},
	}
	h.Push(model.BuildSnapshot(nil, down, model.SnapshotOptions{Now: fixedNow}))
	text := screen(h)
	if !strings.Contains(text, "no data: all sources down") || !strings.Contains(text, "am down · never ok") || !strings.Contains(text, "prom down · last good 1h00m ago") {
		t.Fatalf("all-down state not explained:\n%s", text)
	}
	if !strings.Contains(text, "2 sources failing") {
		t.Fatalf("status line does not count the down sources:\n%s", text)
	}
	h.Feed.Close()
	deadline := time.Now().Add(uitest.Timeout)
	for !h.Contains("feed stopped") {
		if time.Now().After(deadline) {
			t.Fatalf("closed feed not shown:\n%s", screen(h))
		}
		time.Sleep(time.Millisecond)
	}
}

func TestDetailFollowsSnapshotAndScrolls(t *testing.T) {
	h := start(t, 80, 24)
	h.Push(fixture())
	h.Type("2/HostileText")
	h.Key(tcell.KeyEnter)
	h.Key(tcell.KeyEnter)
	if !h.Contains("Alert HostileText") {
		t.Fatalf("detail not open:\n%s", screen(h))
	}
	h.Type("G")
	if !h.Contains(" bytes more)") {
		t.Fatalf("G did not scroll to the bounded end of the huge value:\n%s", screen(h))
	}
	// The alert resolves: the detail stays, saying so.
	h.Push(model.BuildSnapshot(nil, fixture().Sources, model.SnapshotOptions{Now: fixedNow}))
	h.Type("g")
	if !h.Contains("no longer in the feed") {
		t.Fatalf("resolved alert not marked in the detail view:\n%s", screen(h))
	}
}

func ExampleBindings() {
	for _, b := range ui.Bindings(false)[:3] {
		fmt.Println(b.Keys, b.Desc)
	}
	// Output:
	// ? help
	// / filter
	// Tab next panel
}
