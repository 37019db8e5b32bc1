package ui_test

import (
	"strings"
	"testing"
	"time"

	"sitroom/ui"
	"sitroom/ui/uitest"
)

// TestASCIIGolden draws the whole screen at 80×24 as on a terminal
// without line drawing: + - | borders and ASCII severity marks.
func TestASCIIGolden(t *testing.T) {
	snap := fixture()
	for _, focus := range []ui.Panel{ui.PanelOutages, ui.PanelAlerts} {
		s := uitest.NewScreen(t, 80, 24)
		ui.DrawPanel(s, ui.PanelScreen, snap, ui.DrawOptions{Now: fixedNow, Operator: "alice", ASCII: true, Focus: focus})
		lines := uitest.ScreenText(s)
		if focus == ui.PanelOutages {
			uitest.Golden(t, "screen-ascii-80x24", lines)
		}
		text := strings.Join(lines, "\n")
		for _, r := range "─│┌┐└┘├▲◆●·…▸" {
			if strings.ContainsRune(text, r) {
				t.Errorf("focus %v: %q drawn on an ASCII terminal:\n%s", focus, r, text)
			}
		}
		for _, want := range []string{"+- 1 Outages", "|! CRIT"} {
			if focus == ui.PanelOutages && !strings.Contains(text, want) {
				t.Errorf("no %q on the ASCII screen:\n%s", want, text)
			}
		}
		if focus == ui.PanelAlerts && !strings.Contains(text, "|* WARN") {
			t.Errorf("warnings not marked * WARN:\n%s", text)
		}
	}
}

// TestTermVT100DrawsASCII runs the App as on TERM=vt100 and on an
// xterm: only the vt100 gets ASCII borders.
func TestTermVT100DrawsASCII(t *testing.T) {
	for _, c := range []struct {
		term   string
		border string
	}{{"vt100", "+- 1 Outages"}, {"vt220", "+- 1 Outages"}, {"xterm-256color", "┌─ 1 Outages"}, {"tmux-256color", "┌─ 1 Outages"}, {"screen", "┌─ 1 Outages"}} {
		h := uitest.Start(t, ui.Options{Operator: "noc1", Term: c.term, Now: func() time.Time { return fixedNow }}, 80, 24)
		h.Push(fixture())
		if !h.Contains(c.border) {
			t.Errorf("TERM=%s: no %q:\n%s", c.term, c.border, strings.Join(h.Text(), "\n"))
		}
		h.Stop()
	}
}
