package ui_test

import (
	"fmt"
	"strings"
	"testing"

	"sitroom/ui"
	"sitroom/ui/uitest"
)

var sizes = [][2]int{{80, 24}, {160, 48}}

func TestPanelGoldens(t *testing.T) {
	snap := fixture()
	cases := []struct {
		name  string
		panel ui.Panel
		o     ui.DrawOptions
	}{
		{"header", ui.PanelHeader, ui.DrawOptions{}},
		{"header-readonly", ui.PanelHeader, ui.DrawOptions{ReadOnly: true}},
		{"outages", ui.PanelOutages, ui.DrawOptions{}},
		{"alerts", ui.PanelAlerts, ui.DrawOptions{Focus: ui.PanelAlerts}},
		{"detail", ui.PanelDetail, ui.DrawOptions{Detail: signalKey(snap, "HighErrorRate")}},
		{"detail-hostile", ui.PanelDetail, ui.DrawOptions{Detail: signalKey(snap, "HostileText")}},
		{"help", ui.PanelHelp, ui.DrawOptions{Version: "v0.1.0"}},
		{"screen", ui.PanelScreen, ui.DrawOptions{}},
		{"screen-alerts-filtered", ui.PanelScreen, ui.DrawOptions{Focus: ui.PanelAlerts, Filter: "service=checkout"}},
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

// TestHostileTextIsInert draws the hostile alert everywhere it appears and
// checks that what reaches the cells is the literal, neutralised text.
func TestHostileTextIsInert(t *testing.T) {
	snap := fixture()
	key := signalKey(snap, "HostileText")
	for _, sz := range [][2]int{{80, 24}, {160, 48}, {160, 400}} {
		for _, p := range []ui.Panel{ui.PanelAlerts, ui.PanelDetail} {
			s := uitest.NewScreen(t, sz[0], sz[1])
			ui.DrawPanel(s, p, snap, ui.DrawOptions{Now: fixedNow, Focus: ui.PanelAlerts, Detail: key, Select: key})
			cells, _, _ := s.GetContents()
			for i, c := range cells {
				for _, r := range c.Runes {
					if r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
						t.Fatalf("%v %dx%d: control rune %U reached cell %d", p, sz[0], sz[1], r, i)
					}
				}
				if c.Style != c.Style.Url("") && fmt.Sprint(c.Style) != fmt.Sprint(c.Style.Url("").UrlId("")) {
					t.Fatalf("%v: cell %d carries a hyperlink", p, i)
				}
			}
			text := strings.Join(uitest.ScreenText(s), "\n")
			if p == ui.PanelDetail && sz[1] == 400 {
				for _, want := range []string{hostileTag, hostileURL, `click \x1b]8;;http://evil\x07here\x1b]8;;\x07 now`, `invoice\u202egnp.exe`, "bytes \uFFFD\uFFFD end \\x7f\\u009b", "… (1040384 bytes more)"} {
					if !strings.Contains(text, want) {
						t.Errorf("detail %dx%d does not show %q literally", sz[0], sz[1], want)
					}
				}
			} else if p == ui.PanelAlerts && !strings.Contains(text, `click \x1b]8;;`) {
				t.Errorf("alerts %dx%d: summary not shown inert:\n%s", sz[0], sz[1], text)
			}
		}
	}
}
