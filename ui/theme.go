package ui

import (
	"fmt"
	"regexp"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
)

// Theme holds every style the UI draws with, and the glyphs it draws
// borders and severities with. Severity and health are always shown as
// text too, so a theme without colour loses nothing.
type Theme struct {
	Base      tcell.Style
	Dim       tcell.Style // stale rows, secondary text
	Title     tcell.Style // panel titles, column headers
	Border    tcell.Style
	Focus     tcell.Style // border of the focused panel
	Selected  tcell.Style // the selected row
	Crit      tcell.Style
	Warn      tcell.Style
	Info      tcell.Style
	OK        tcell.Style
	Unknown   tcell.Style
	Badge     tcell.Style // READ-ONLY badge
	Flash     tcell.Style
	KeyHint   tcell.Style // key names in the footer
	ErrorText tcell.Style
	// Glyphs are the border and severity glyphs: Unicode by default,
	// ASCII for a terminal without line drawing.
	Glyphs Glyphs
}

// Glyphs are the characters borders and severity marks are drawn with.
type Glyphs struct {
	H, V, TL, TR, BL, BR rune   // box drawing: horizontal, vertical, corners
	Crit, Warn, Info     string // one cell each, shown before the severity text
	None                 string
}

// UnicodeGlyphs draws boxes with line drawing and severities as ▲ ◆ ●.
var UnicodeGlyphs = Glyphs{H: '─', V: '│', TL: '┌', TR: '┐', BL: '└', BR: '┘', Crit: "▲", Warn: "◆", Info: "●", None: "·"}

// ASCIIGlyphs draws boxes with + - | and severities as ! * i, for
// terminals that cannot draw lines (vt100).
var ASCIIGlyphs = Glyphs{H: '-', V: '|', TL: '+', TR: '+', BL: '+', BR: '+', Crit: "!", Warn: "*", Info: "i", None: "."}

// The theme names, as given to --theme and the config key theme.
const (
	ThemeDark       = "dark"
	ThemeLight      = "light"
	ThemeColorblind = "colorblind"
)

// ThemeNames lists the themes; the first is the default.
func ThemeNames() []string { return []string{ThemeDark, ThemeLight, ThemeColorblind} }

// NewTheme returns the named theme ("" is dark). With noColor (the
// NO_COLOR convention) every theme keeps only attributes (bold, dim,
// reverse) and draws no colour. Its glyphs are UnicodeGlyphs. An unknown
// name is an error.
func NewTheme(name string, noColor bool) (Theme, error) {
	base := tcell.StyleDefault
	var t Theme
	switch {
	case name != "" && name != ThemeDark && name != ThemeLight && name != ThemeColorblind:
		return DefaultTheme(noColor), fmt.Errorf("unknown theme %q (want dark, light or colorblind)", name)
	case noColor:
		t = Theme{
			Base:      base,
			Dim:       base.Dim(true),
			Title:     base.Bold(true),
			Border:    base,
			Focus:     base.Bold(true),
			Selected:  base.Reverse(true),
			Crit:      base.Bold(true),
			Warn:      base,
			Info:      base,
			OK:        base,
			Unknown:   base.Dim(true),
			Badge:     base.Reverse(true).Bold(true),
			Flash:     base.Bold(true),
			KeyHint:   base.Bold(true),
			ErrorText: base.Bold(true),
		}
	case name == ThemeLight:
		// Dark inks for a light background: no yellow, no aqua.
		t = Theme{
			Base:      base,
			Dim:       base.Foreground(tcell.ColorGray),
			Title:     base.Bold(true),
			Border:    base.Foreground(tcell.ColorGray),
			Focus:     base.Foreground(tcell.ColorNavy).Bold(true),
			Selected:  base.Reverse(true),
			Crit:      base.Foreground(tcell.ColorMaroon).Bold(true),
			Warn:      base.Foreground(tcell.ColorOlive).Bold(true),
			Info:      base.Foreground(tcell.ColorNavy),
			OK:        base.Foreground(tcell.ColorGreen),
			Unknown:   base.Foreground(tcell.ColorGray),
			Badge:     base.Background(tcell.ColorMaroon).Foreground(tcell.ColorWhite).Bold(true),
			Flash:     base.Foreground(tcell.ColorNavy).Bold(true),
			KeyHint:   base.Foreground(tcell.ColorNavy).Bold(true),
			ErrorText: base.Foreground(tcell.ColorMaroon),
		}
	case name == ThemeColorblind:
		// The Okabe–Ito palette: vermillion, orange and sky blue are told
		// apart with any colour vision deficiency; nothing is red against
		// green (healthy is blue).
		vermillion := tcell.NewHexColor(0xD55E00)
		orange := tcell.NewHexColor(0xE69F00)
		sky := tcell.NewHexColor(0x56B4E9)
		blue := tcell.NewHexColor(0x0072B2)
		t = Theme{
			Base:      base,
			Dim:       base.Dim(true),
			Title:     base.Bold(true),
			Border:    base.Foreground(tcell.ColorGray),
			Focus:     base.Foreground(sky).Bold(true),
			Selected:  base.Reverse(true),
			Crit:      base.Foreground(vermillion).Bold(true),
			Warn:      base.Foreground(orange),
			Info:      base.Foreground(sky),
			OK:        base.Foreground(blue),
			Unknown:   base.Foreground(tcell.ColorGray),
			Badge:     base.Background(vermillion).Foreground(tcell.ColorWhite).Bold(true),
			Flash:     base.Foreground(sky).Bold(true),
			KeyHint:   base.Foreground(sky).Bold(true),
			ErrorText: base.Foreground(vermillion),
		}
	default:
		t = Theme{
			Base:      base,
			Dim:       base.Dim(true),
			Title:     base.Bold(true),
			Border:    base.Foreground(tcell.ColorGray),
			Focus:     base.Foreground(tcell.ColorAqua).Bold(true),
			Selected:  base.Reverse(true),
			Crit:      base.Foreground(tcell.ColorRed).Bold(true),
			Warn:      base.Foreground(tcell.ColorYellow),
			Info:      base.Foreground(tcell.ColorBlue),
			OK:        base.Foreground(tcell.ColorGreen),
			Unknown:   base.Foreground(tcell.ColorGray),
			Badge:     base.Background(tcell.ColorRed).Foreground(tcell.ColorWhite).Bold(true),
			Flash:     base.Foreground(tcell.ColorAqua).Bold(true),
			KeyHint:   base.Foreground(tcell.ColorAqua).Bold(true),
			ErrorText: base.Foreground(tcell.ColorRed),
		}
	}
	t.Glyphs = UnicodeGlyphs
	return t, nil
}

// DefaultTheme is the dark theme; with noColor (the NO_COLOR convention)
// it keeps only attributes (bold, dim, reverse) and draws no colour.
func DefaultTheme(noColor bool) Theme {
	t, _ := NewTheme(ThemeDark, noColor)
	return t
}

// severity is the style for a severity.
func (t *Theme) severity(s model.Severity) tcell.Style {
	switch s {
	case model.SevCritical:
		return t.Crit
	case model.SevWarning:
		return t.Warn
	case model.SevInfo:
		return t.Info
	}
	return t.Base
}

// sevLabel is a severity as glyph and text ("▲ CRIT"), so it reads
// without colour.
func (t *Theme) sevLabel(s model.Severity) string {
	g := t.Glyphs.None
	switch s {
	case model.SevCritical:
		g = t.Glyphs.Crit
	case model.SevWarning:
		g = t.Glyphs.Warn
	case model.SevInfo:
		g = t.Glyphs.Info
	}
	return g + " " + s.String()
}

// health is the style of a source chip.
func (t *Theme) health(h model.SourceHealth) tcell.Style {
	switch h {
	case model.HealthOK:
		return t.OK
	case model.HealthDegraded, model.HealthThrottled:
		return t.Warn
	case model.HealthDown:
		return t.Crit
	}
	return t.Unknown
}

// asciiTermRe matches the terminals that draw no Unicode line drawing.
var asciiTermRe = regexp.MustCompile(`^(vt[0-9]+|dumb)(-|$)`)

// asciiTerminal is the one place that decides whether to draw in ASCII: a
// screen that cannot display line drawing or the severity glyphs, or a
// terminal named term (as $TERM) of the vt100 family or dumb.
func asciiTerminal(s tcell.Screen, term string) bool {
	return asciiTermRe.MatchString(term) || !s.CanDisplay('─', false) || !s.CanDisplay('▲', false)
}

// setASCII draws ASCII borders and glyphs from now on.
func (st *state) setASCII() {
	st.ascii = true
	st.theme.Glyphs = ASCIIGlyphs
}
