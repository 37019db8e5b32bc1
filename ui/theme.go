package ui

import (
	"github.com/gdamore/tcell/v2"

	"sitroom/model"
)

// Theme holds every style the UI draws with. Severity and health are
// always shown as text too, so a theme without colour loses nothing.
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
}

// DefaultTheme is the colour theme; with noColor (the NO_COLOR convention)
// it keeps only attributes (bold, dim, reverse) and draws no colour.
func DefaultTheme(noColor bool) Theme {
	base := tcell.StyleDefault
	if noColor {
		return Theme{
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
	}
	return Theme{
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
