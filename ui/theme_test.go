package ui_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"

	"sitroom/ui"
	"sitroom/ui/uitest"
)

// colourName names a colour for a golden: a CSS hex value, or "default".
func colourName(c tcell.Color) string {
	if !c.Valid() {
		return "default"
	}
	return c.CSS()
}

func styleName(st tcell.Style) string {
	fg, bg, attr := st.Decompose()
	s := "fg=" + colourName(fg)
	if bg.Valid() {
		s += " bg=" + colourName(bg)
	}
	if attr&tcell.AttrBold != 0 {
		s += " bold"
	}
	if attr&tcell.AttrDim != 0 {
		s += " dim"
	}
	if attr&tcell.AttrReverse != 0 {
		s += " reverse"
	}
	return s
}

// styleDump lists, per screen row whose second cell is a severity glyph,
// the severity text and its style, then the style of the top-left border.
func styleDump(s tcell.SimulationScreen) []string {
	cells, w, h := s.GetContents()
	out := []string{"-- styles --"}
	for y := 0; y < h; y++ {
		c := cells[y*w+1]
		if len(c.Runes) == 0 || !strings.ContainsRune("▲◆●·!*i.", c.Runes[0]) || y*w+7 > len(cells) {
			continue
		}
		var txt strings.Builder
		for x := 1; x < 7; x++ {
			txt.WriteString(string(cells[y*w+x].Runes))
		}
		if !strings.HasSuffix(txt.String(), "CRIT") && !strings.HasSuffix(txt.String(), "WARN") && !strings.HasSuffix(txt.String(), "INFO") {
			continue
		}
		out = append(out, fmt.Sprintf("row %2d %s: %s", y, txt.String(), styleName(c.Style)))
	}
	for y := 0; y < h; y++ {
		if c := cells[y*w]; len(c.Runes) > 0 && (c.Runes[0] == '┌' || c.Runes[0] == '+') {
			out = append(out, fmt.Sprintf("row %2d border: %s", y, styleName(c.Style)))
			break
		}
	}
	return out
}

// TestThemeGoldens draws the header and the outages panel at 80×24 in each
// theme and without colour; the golden holds the text and the style of
// each severity cell, so the themes differ in it.
func TestThemeGoldens(t *testing.T) {
	snap := fixture()
	dumps := map[string]string{}
	cases := []struct {
		name, theme string
		noColor     bool
	}{
		{"theme-dark", ui.ThemeDark, false},
		{"theme-light", ui.ThemeLight, false},
		{"theme-colorblind", ui.ThemeColorblind, false},
		{"theme-nocolor", ui.ThemeDark, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := uitest.NewScreen(t, 80, 24)
			ui.DrawPanel(s, ui.PanelScreen, snap, ui.DrawOptions{Now: fixedNow, Operator: "alice", Theme: c.theme, NoColor: c.noColor})
			dump := styleDump(s)
			if len(dump) < 3 {
				t.Fatalf("no severity cells found on screen:\n%s", strings.Join(uitest.ScreenText(s), "\n"))
			}
			// The alerts panel holds every severity: its styles follow.
			as := uitest.NewScreen(t, 80, 24)
			ui.DrawPanel(as, ui.PanelScreen, snap, ui.DrawOptions{Now: fixedNow, Operator: "alice", Theme: c.theme, NoColor: c.noColor, Focus: ui.PanelAlerts})
			adump := styleDump(as)
			adump[0] = "-- styles of the alerts panel (key 2) --"
			dump = append(dump, adump...)
			uitest.Golden(t, c.name+"-80x24", append(uitest.ScreenText(s), dump...))
			dumps[c.name] = strings.Join(dump, "\n")
			text := strings.Join(append(uitest.ScreenText(s), uitest.ScreenText(as)...), "\n")
			for _, want := range []string{"▲ CRIT", "◆ WARN"} {
				if !strings.Contains(text, want) {
					t.Errorf("severity %q not shown as glyph and text", want)
				}
			}
			if c.noColor {
				cells, _, _ := s.GetContents()
				acells, _, _ := as.GetContents()
				for i, cell := range append(cells, acells...) {
					if fg, bg, _ := cell.Style.Decompose(); fg.Valid() || bg.Valid() {
						t.Fatalf("NO_COLOR: cell %d has colour %s", i, styleName(cell.Style))
					}
				}
			}
		})
	}
	for a, da := range dumps {
		for b, db := range dumps {
			if a < b && da == db {
				t.Errorf("themes %s and %s draw severities alike", a, b)
			}
		}
	}
}

// TestColorblindThemeAvoidsRedGreen checks the colour-blind-safe theme
// marks nothing pure red or green.
func TestColorblindThemeAvoidsRedGreen(t *testing.T) {
	th, err := ui.NewTheme(ui.ThemeColorblind, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []tcell.Style{th.Crit, th.Warn, th.Info, th.OK, th.ErrorText, th.Badge} {
		fg, bg, _ := st.Decompose()
		for _, c := range []tcell.Color{fg, bg} {
			if c == tcell.ColorRed || c == tcell.ColorGreen || c == tcell.ColorLime || c == tcell.ColorMaroon {
				t.Errorf("colour-blind theme uses %s", colourName(c))
			}
		}
	}
	if _, err := ui.NewTheme("solarized", false); err == nil {
		t.Error("an unknown theme name is not an error")
	}
}
