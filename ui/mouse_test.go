package ui_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"sitroom/ui"
	"sitroom/ui/uitest"
)

func startMouse(t *testing.T, mouse bool, w, h int) *uitest.Harness {
	t.Helper()
	hs := uitest.Start(t, ui.Options{Operator: "alice", Now: func() time.Time { return fixedNow }, Mouse: mouse}, w, h)
	hs.Push(fixture())
	return hs
}

// colOf is the column where sub starts on screen row y.
func colOf(t *testing.T, h *uitest.Harness, y int, sub string) int {
	t.Helper()
	line := h.Text()[y]
	i := strings.Index(line, sub)
	if i < 0 {
		t.Fatalf("row %d does not show %q: %q", y, sub, line)
	}
	return len([]rune(line[:i]))
}

func TestMouseClickSelectsThenOpens(t *testing.T) {
	h := startMouse(t, true, 80, 24)
	if sel := selectedLine(t, h); !strings.Contains(sel, "payments-legacy") {
		t.Fatalf("first outage not selected at start: %q", sel)
	}
	y := lineOf(t, h, "CRIT checkout")
	clickAt(h, 20, y)
	if sel := selectedLine(t, h); !strings.Contains(sel, "checkout") {
		t.Fatalf("a click on checkout selected %q:\n%s", sel, screen(h))
	}
	if !h.Contains("▸1 Outages") {
		t.Fatalf("the click left the outages panel:\n%s", screen(h))
	}
	// The selected row clicked again opens it, as Enter: its alerts.
	clickAt(h, 20, y)
	if !h.Contains("▸2 Alerts") || !h.Contains("service=checkout") {
		t.Fatalf("a click on the selected outage did not open its alerts:\n%s", screen(h))
	}
	// A click below the last row selects nothing and opens nothing.
	sel := selectedLine(t, h)
	clickAt(h, 20, 18)
	if got := selectedLine(t, h); got != sel || h.Contains("Labels") {
		t.Fatalf("a click below the rows changed the selection to %q:\n%s", got, screen(h))
	}
}

func TestMouseClickTabFocusesPanel(t *testing.T) {
	h := startMouse(t, true, 80, 24)
	y := lineOf(t, h, "Tab: switch")
	clickAt(h, colOf(t, h, y, "2 Alerts"), y)
	if !h.Contains("▸2 Alerts") || !strings.Contains(selectedLine(t, h), "FIRING") {
		t.Fatalf("a click on the alerts tab did not show the alerts:\n%s", screen(h))
	}
	clickAt(h, colOf(t, h, y, "4 Backlog")+3, y)
	if !h.Contains("▸4 Backlog") {
		t.Fatalf("a click on the backlog tab did not show it:\n%s", screen(h))
	}
	// Between the tabs and after them: nothing.
	clickAt(h, colOf(t, h, y, "Tab: switch")+2, y)
	if !h.Contains("▸4 Backlog") {
		t.Fatalf("a click after the tabs changed the panel:\n%s", screen(h))
	}
}

// Side by side (wide), a click on a panel's title focuses it and a click on
// one of its rows selects that row there.
func TestMouseClickPanelFocusesItWide(t *testing.T) {
	h := startMouse(t, true, 160, 48)
	y := lineOf(t, h, "2 Alerts (")
	clickAt(h, colOf(t, h, y, "2 Alerts ("), y)
	if sel := selectedLine(t, h); !strings.Contains(sel, "FIRING") {
		t.Fatalf("a click on the alerts title did not focus the alerts: selected %q\n%s", sel, screen(h))
	}
	ry := lineOf(t, h, "QueueBacklog")
	clickAt(h, colOf(t, h, ry, "QueueBacklog"), ry)
	if sel := selectedLine(t, h); !strings.Contains(sel, "QueueBacklog") {
		t.Fatalf("a click on QueueBacklog selected %q", sel)
	}
	// Back to the outages: a click on its row selects it without opening it.
	oy := lineOf(t, h, "CRIT checkout")
	clickAt(h, 10, oy)
	if !reversed(h, colOf(t, h, oy, "checkout"), oy) || reversed(h, colOf(t, h, ry, "QueueBacklog"), ry) {
		t.Fatalf("a click on the checkout outage did not move the selection there:\n%s", screen(h))
	}
	if strings.Contains(screen(h), "service=checkout") {
		t.Fatalf("the first click on an unfocused panel opened the row:\n%s", screen(h))
	}
}

func TestMouseWheelScrolls(t *testing.T) {
	h := startMouse(t, true, 80, 24)
	h.Type("2")
	first := selectedLine(t, h)
	wheelAt(h, 40, 10, tcell.WheelDown)
	wheelAt(h, 40, 10, tcell.WheelDown)
	third := selectedLine(t, h)
	wheelAt(h, 40, 10, tcell.WheelUp)
	second := selectedLine(t, h)
	lines := h.Text()
	at := func(s string) int {
		for y, l := range lines {
			if l == s {
				return y
			}
		}
		return -1
	}
	y1, y2, y3 := at(first), at(second), at(third)
	if y1 < 0 || y2 != y1+1 || y3 != y1+2 {
		t.Fatalf("wheel: selection at rows %d, then %d (two down), then %d (one up)\n%s", y1, y3, y2, screen(h))
	}
	// The open document scrolls too.
	h.Key(tcell.KeyEnter)
	pos := func() string {
		for _, l := range h.Text() {
			if i := strings.Index(l, " of "); i > 0 && strings.HasPrefix(l, "└") {
				return strings.Trim(l, "└─┘ ")
			}
		}
		return ""
	}
	top := pos()
	if !strings.HasPrefix(top, "1–") {
		t.Fatalf("detail does not start at the top (%q):\n%s", top, screen(h))
	}
	wheelAt(h, 40, 10, tcell.WheelDown)
	if got := pos(); !strings.HasPrefix(got, "4–") {
		t.Fatalf("a wheel step on the detail shows %q, want 3 lines down", got)
	}
	wheelAt(h, 40, 10, tcell.WheelUp)
	if got := pos(); got != top {
		t.Fatalf("a wheel step back shows %q, want %q", got, top)
	}
}

// Without Options.Mouse the mouse does nothing.
func TestMouseOffByDefault(t *testing.T) {
	h := startMouse(t, false, 80, 24)
	before := screen(h)
	y := lineOf(t, h, "CRIT checkout")
	clickAt(h, 20, y)
	clickAt(h, 20, y)
	wheelAt(h, 20, y, tcell.WheelDown)
	if got := screen(h); got != before {
		t.Fatalf("the mouse acted while off:\n%s", got)
	}
	if sel := selectedLine(t, h); !strings.Contains(sel, "payments-legacy") {
		t.Fatalf("selection moved to %q with the mouse off", sel)
	}
}

// reversed reports whether the cell at (x, y) is drawn in reverse video
// (the selected row of the focused panel).
func reversed(h *uitest.Harness, x, y int) bool {
	var rev bool
	h.App.Inspect(func() {
		cells, w, _ := h.Screen.GetContents()
		_, _, a := cells[y*w+x].Style.Decompose()
		rev = a&tcell.AttrReverse != 0
	})
	return rev
}
