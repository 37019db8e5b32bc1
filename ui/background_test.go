package ui_test

import (
	"testing"

	"github.com/gdamore/tcell/v2"
)

// Cells the UI leaves blank keep the terminal's own background: a blank
// drawn black would show as dark bars between the text on a light
// terminal.
func TestBlankCellsKeepTheTerminalBackground(t *testing.T) {
	h := start(t, 80, 24)
	h.Push(fixture())
	y := lineOf(t, h, "CRIT checkout") + 3 // a blank row of the outages panel
	h.App.Inspect(func() {
		cells, w, _ := h.Screen.GetContents()
		for x := 1; x < w-1; x++ {
			if _, bg, _ := cells[y*w+x].Style.Decompose(); bg != tcell.ColorDefault {
				t.Errorf("blank cell (%d, %d) has background %v", x, y, bg)
				return
			}
		}
	})
}
