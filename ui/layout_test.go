package ui_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"sitroom/ui"
	"sitroom/ui/uitest"
)

// A terminal narrower than ui.WideWidth but tall (120×40, a common
// laptop window) shows the outages with the dependencies of the selected
// one under them while either has the focus, instead of one panel over
// thirty empty rows; the alerts and the backlog keep the whole height,
// and a shorter terminal keeps one panel at a time.
func TestTallNarrowScreenStacksOutagesOverDependencies(t *testing.T) {
	snap := fixture()
	draw := func(w, h int, focus ui.Panel) string {
		s := uitest.NewScreen(t, w, h)
		ui.DrawPanel(s, ui.PanelScreen, snap, ui.DrawOptions{Now: fixedNow, Operator: "alice", Focus: focus})
		return strings.Join(uitest.ScreenText(s), "\n")
	}
	both := func(text string) (bool, bool) {
		return strings.Contains(text, "┌─ 1 Outages"), strings.Contains(text, "┌─ 3 Dependencies")
	}

	text := draw(120, 40, ui.PanelOutages)
	uitest.Golden(t, "screen-120x40", strings.Split(text, "\n"))
	o, d := both(text)
	assert.True(t, o && d, "outages and dependencies at 120×40:\n%s", text)
	o, d = both(draw(120, 40, ui.PanelDeps))
	assert.True(t, o && d, "the same with the dependencies focused")

	text = draw(120, 40, ui.PanelAlerts)
	o, d = both(text)
	assert.False(t, o || d, "the alerts keep the whole height:\n%s", text)
	assert.Contains(t, text, "┌─ 2 Alerts")

	o, d = both(draw(120, ui.TallHeight-1, ui.PanelOutages))
	assert.True(t, o && !d, "below TallHeight one panel at a time")
}
