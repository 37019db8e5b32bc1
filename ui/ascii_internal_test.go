package ui

import (
	"testing"

	"github.com/gdamore/tcell/v2"
)

// TestASCIITerminal checks the one decision: the terminal's name, then
// what the screen's character set can display.
func TestASCIITerminal(t *testing.T) {
	utf8 := tcell.NewSimulationScreen("UTF-8")
	ascii := tcell.NewSimulationScreen("US-ASCII")
	for _, s := range []tcell.SimulationScreen{utf8, ascii} {
		if err := s.Init(); err != nil {
			t.Fatal(err)
		}
		defer s.Fini()
	}
	for _, c := range []struct {
		s    tcell.Screen
		term string
		want bool
	}{
		{utf8, "xterm-256color", false}, {utf8, "xterm", false}, {utf8, "screen", false},
		{utf8, "tmux-256color", false}, {utf8, "", false}, {utf8, "vte-256color", false},
		{utf8, "vt100", true}, {utf8, "vt220", true}, {utf8, "vt100-am", true}, {utf8, "dumb", true},
		{ascii, "xterm", true},
	} {
		if got := asciiTerminal(c.s, c.term); got != c.want {
			t.Errorf("asciiTerminal(%s screen, TERM=%q) = %v, want %v", c.s.CharacterSet(), c.term, got, c.want)
		}
	}
}
