package ui_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

var testViews = []model.View{
	{Name: "co-alerts", Filter: "service=checkout", Panel: "alerts"},
	{Name: "tickets-by-age", Panel: "backlog", Sort: "age"},
}

func startPalette(t *testing.T, o ui.Options) *uitest.Harness {
	t.Helper()
	o.Operator, o.Now = "alice", func() time.Time { return fixedNow }
	h := uitest.Start(t, o, 80, 24)
	h.Push(ticketFixture())
	return h
}

// Every binding has keys, and every action's default keys belong to a
// binding: the key table and model.DefaultKeys are joined by name.
func TestEveryBindingHasItsKeys(t *testing.T) {
	bs := ui.Bindings(false)
	for _, b := range bs {
		if b.Action == "" || b.Keys == "" {
			t.Errorf("%s binding %q has no action name or no key", b.Scope, b.Desc)
		}
	}
	for _, d := range model.DefaultKeys() {
		if !slices.ContainsFunc(bs, func(b ui.Binding) bool { return string(b.Scope) == d.Scope && b.Action == d.Action }) {
			t.Errorf("no binding for %s in %s", d.Action, d.Scope)
		}
	}
}

func TestPaletteRunsActionsAndViews(t *testing.T) {
	h := startPalette(t, ui.Options{Views: testViews})
	h.Type(":")
	if !h.Contains("Commands (") || !h.Contains("?         help") {
		t.Fatalf(": does not open the palette with actions and views:\n%s", screen(h))
	}

	// Typing narrows; Enter runs the action as its key would.
	h.Type("refre")
	if !h.Contains("Commands (1 of ") {
		t.Fatalf("typing does not narrow the list:\n%s", screen(h))
	}
	h.Key(tcell.KeyEnter)
	if h.Feed.Refreshes() != 1 || !h.Contains("refreshing…") || h.Contains("Commands (") {
		t.Fatalf("Enter on refresh: %d refreshes, screen:\n%s", h.Feed.Refreshes(), screen(h))
	}

	// An action that cannot act now shows why in the list, and Enter
	// flashes it; the palette stays open.
	h.Type(":ack")
	if !h.Contains("✗ no action log in this console") {
		t.Fatalf("ack is not shown unavailable with its reason:\n%s", screen(h))
	}
	h.Key(tcell.KeyEnter)
	if !h.Contains("a: no action log in this console") || !h.Contains("Commands (") {
		t.Fatalf("Enter on an unavailable action does not flash why:\n%s", screen(h))
	}
	h.Key(tcell.KeyEscape)
	if h.Contains("Commands (") {
		t.Fatalf("Esc does not close the palette:\n%s", screen(h))
	}

	// Down moves: the second entry is / (filter).
	h.Type(":")
	h.Key(tcell.KeyDown)
	h.Key(tcell.KeyEnter)
	if !h.Contains("Enter keep · Esc clear") {
		t.Fatalf("↓ Enter does not run the second action (filter):\n%s", screen(h))
	}
	h.Key(tcell.KeyEscape)

	// A view sets the filter and the panel: the rows narrow.
	h.Type("2")
	if !h.Contains("ReplicationLag") {
		t.Fatalf("fixture: ReplicationLag not on the alerts panel:\n%s", screen(h))
	}
	h.Type("1:co-al")
	if !h.Contains("co-alerts") || !h.Contains("service=checkout · panel alerts") {
		t.Fatalf("the view is not listed:\n%s", screen(h))
	}
	h.Key(tcell.KeyEnter)
	if !h.Contains("▸2 Alerts") || !h.Contains("2 Alerts 3 of 7 · service=checkout") || h.Contains("ReplicationLag") {
		t.Fatalf("the view does not switch to the alerts filtered on checkout:\n%s", screen(h))
	}

	// A backlog view sets its order too.
	h.Type(":by-age")
	h.Key(tcell.KeyEnter)
	if !h.Contains("▸4 Backlog") || !h.Contains("4 Backlog (6) · by age") {
		t.Fatalf("the backlog view does not show the backlog by age without a filter:\n%s", screen(h))
	}
}

func TestPaletteOfAReadOnlyConsoleHasNoActingAction(t *testing.T) {
	h := startPalette(t, ui.Options{ReadOnly: true, Actor: newFakeActor(model.RoleTier1)})
	h.Type(":")
	h.Key(tcell.KeyPgDn) // not a palette key: ignored
	text := screen(h)
	for _, dangerous := range []string{"acknowledge the selected", "un-acknowledge", "escalate the selected", "take the selected", "note on the"} {
		if strings.Contains(text, dangerous) {
			t.Errorf("read-only palette lists %q:\n%s", dangerous, text)
		}
	}
	if !strings.Contains(text, "refresh now") {
		t.Errorf("read-only palette lacks refresh:\n%s", text)
	}
}

func TestPaletteGolden(t *testing.T) {
	h := startPalette(t, ui.Options{Views: testViews})
	h.Type(":")
	uitest.Golden(t, "palette-80x24", h.Text())
	h.Type("view")
	uitest.Golden(t, "palette-views-80x24", h.Text())
}

func TestRemappedKeys(t *testing.T) {
	h := startPalette(t, ui.Options{Keys: map[string][]string{"help": {"F1"}, "down": {"J", "Down"}, "next-panel": {"Ctrl-N"}}})
	footer := h.Text()[23]
	if !strings.Contains(footer, "F1 help") || strings.Contains(footer, "? help") || !strings.Contains(footer, "Ctrl-N panel") {
		t.Errorf("footer does not show the remapped keys: %q", footer)
	}
	first := selectedLine(t, h)
	h.Type("j")
	if selectedLine(t, h) != first {
		t.Errorf("j still moves down after down was remapped to J")
	}
	h.Type("J")
	if selectedLine(t, h) == first {
		t.Errorf("J does not move down")
	}
	h.Key(tcell.KeyCtrlN)
	if !h.Contains("▸2 Alerts") {
		t.Errorf("Ctrl-N does not switch panel:\n%s", screen(h))
	}
	h.Type("?")
	if h.Contains("Help") {
		t.Fatalf("? still opens help:\n%s", screen(h))
	}
	h.Key(tcell.KeyF1)
	if !h.Contains("Help") || !h.Contains("F1          help") {
		t.Fatalf("F1 does not open help listing F1:\n%s", screen(h))
	}
	h.Key(tcell.KeyEscape)
	h.Type(":help")
	if !h.Contains("F1        help") {
		t.Errorf("the palette does not show the remapped key:\n%s", screen(h))
	}
}

func TestAKeyRemapWithAProblemKeepsTheDefaults(t *testing.T) {
	h := startPalette(t, ui.Options{Keys: map[string][]string{"ack": {"j"}}})
	if !h.Contains("default keys kept, keys not remapped: ack: j is also down's key") {
		t.Errorf("the screen does not say the remap was refused:\n%s", screen(h))
	}
	if !strings.Contains(h.Text()[23], "? help") {
		t.Errorf("footer lost the default keys: %q", h.Text()[23])
	}
}

func TestNextUnackedOutage(t *testing.T) {
	a := newFakeActor(model.RoleTier1)
	h := uitest.Start(t, ui.Options{Operator: "alice", Now: func() time.Time { return fixedNow }, Actor: a}, 130, 40)
	crit := func(svc string, age time.Duration) *model.AlertRow {
		return row("am-eu", model.StateFiring, age, map[string]string{"alertname": "Down", "severity": "critical", "service": svc}, nil)
	}
	snap := model.BuildSnapshot([]*model.AlertRow{
		crit("alpha", 4*time.Hour), crit("bravo", 3*time.Hour), crit("charlie", 2*time.Hour), crit("delta", time.Hour),
		row("am-eu", model.StatePending, time.Minute, map[string]string{"alertname": "Slow", "severity": "critical", "service": "echo"}, nil),
	}, []model.SourceStatus{{Name: "am-eu", Type: "alertmanager", LastAttempt: fixedNow, LastSuccess: fixedNow}}, model.SnapshotOptions{Now: fixedNow})
	h.Push(snap)
	ack := func(svc string) { // as bob, on the actor's board
		a.board.Acks[svc] = &model.Ack{Service: svc, By: "bob", At: fixedNow.Add(-time.Minute), Until: fixedNow.Add(time.Hour)}
	}
	ack("alpha")
	ack("charlie")
	a.publish(a.copyBoard())
	waitFor(t, h, "ACK 1m bob")

	var seen []string
	for range 4 {
		h.Type("]")
		sel := selectedLine(t, h)
		for _, svc := range []string{"alpha", "bravo", "charlie", "delta"} {
			if strings.Contains(sel, svc) {
				seen = append(seen, svc)
			}
		}
	}
	if strings.Join(seen, " ") != "bravo delta bravo delta" {
		t.Fatalf("] visits %v, want the unacked bravo and delta in turn, wrapping:\n%s", seen, screen(h))
	}
	if !h.Contains("unacked outage 2 of 2") {
		t.Errorf("] does not say where it is:\n%s", screen(h))
	}

	// On the alerts panel: firing alerts only (echo's is pending).
	h.Type("2]")
	if sel := selectedLine(t, h); !strings.Contains(sel, "bravo") && !strings.Contains(sel, "delta") {
		t.Errorf("] on alerts selects %q", sel)
	}

	ack("bravo")
	ack("delta")
	a.publish(a.copyBoard())
	h.Type("1")
	for deadline := time.Now().Add(uitest.Timeout); h.Contains("UNACKED"); {
		if time.Now().After(deadline) {
			t.Fatalf("the acks never showed:\n%s", screen(h))
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.Type("]")
	if !h.Contains("no unacked outage") {
		t.Errorf("] with every outage acked does not say so:\n%s", screen(h))
	}
}

func TestNextBreach(t *testing.T) {
	h := startPalette(t, ui.Options{})
	h.Type("j]")
	if !h.Contains("]: no action log in this console") {
		t.Errorf("] without an action log does not say why:\n%s", screen(h))
	}
	h.Type("b")
	if !h.Contains("▸4 Backlog") || !strings.Contains(selectedLine(t, h), "#1193") || !h.Contains("SLA breached: ticket 1 of 1") {
		t.Fatalf("b does not select the breached ticket on the backlog:\n%s", screen(h))
	}
	h.Type("jjb")
	if !strings.Contains(selectedLine(t, h), "#1193") {
		t.Errorf("b does not wrap round to the breached ticket: %q", selectedLine(t, h))
	}

	// Without a breached ticket: the next breaching within 30m.
	h.Type("/@sla>0")
	h.Key(tcell.KeyEnter)
	h.Type("b")
	if !strings.Contains(selectedLine(t, h), "#1201") || !h.Contains("no SLA breached; breaching within 30m: ticket 1 of 1") {
		t.Fatalf("b does not fall back to the ticket breaching soon:\n%s", screen(h))
	}

	h.Type("/ @tier=2")
	h.Key(tcell.KeyEnter)
	h.Type("b")
	if !h.Contains("no ticket breaching its SLA, nor within 30m among those the filter keeps") {
		t.Errorf("b with nothing to jump to does not say so:\n%s", screen(h))
	}
}

// A refusal names the key the operator pressed, remapped or not.
func TestRefusalNamesTheRemappedKey(t *testing.T) {
	h := startPalette(t, ui.Options{Actor: newFakeActor(model.RoleViewer), Keys: map[string][]string{"ack": {"A"}}})
	h.Type("A")
	status := h.Text()[22]
	if !strings.HasPrefix(status, "A: ") {
		t.Errorf("the refusal does not name A: %q", status)
	}
}
