package ui

import (
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// wheelDocLines is how many lines one wheel step scrolls a document.
const wheelDocLines = 3

// mouseTracker turns mouse actions into the UI's own (Options.Mouse). It
// finds what was clicked from the layout the last frame was drawn with
// (state.layout), so it always agrees with the screen. UI goroutine only.
type mouseTracker struct {
	// lastEvent is the event the last action came from: tview derives
	// several actions (down, up, click) from one event.
	lastEvent *tcell.EventMouse
}

// handle acts on one mouse action:
//   - a click on a tab or a panel focuses it; on a row, selects it;
//   - a click on the row already selected in the focused panel (so the
//     second click of a double click) opens it, as the open key does;
//   - the wheel moves the selection of the panel under the pointer (the
//     focused one elsewhere), or scrolls the open document.
//
// The filter line and the action forms take keys only.
func (m *mouseTracker) handle(st *state, ev *tcell.EventMouse, action tview.MouseAction) {
	wheel := 0
	switch action {
	case tview.MouseScrollUp:
		wheel = -1
	case tview.MouseScrollDown:
		wheel = 1
	case tview.MouseLeftClick, tview.MouseLeftDoubleClick:
	default:
		return
	}
	switch st.mode {
	case modeDetail, modeHelp:
		st.scrollDoc(wheel * wheelDocLines)
		return
	case modeStats:
		st.statsScroll(wheel * wheelDocLines)
		return
	case modeMain:
	default:
		return
	}
	x, y := ev.Position()
	w, h := st.scr.Size()
	l := st.layout(w, h)
	if l.tooSmall || l.doc {
		return
	}
	if wheel != 0 {
		if pl, ok := l.at(x, y); ok {
			st.focus = pl.panel
		}
		st.moveSel(wheel)
		return
	}
	if y == l.tabsY {
		if p, ok := st.tabAt(newPainter(st.scr), x); ok {
			st.focus = p
		}
		return
	}
	pl, ok := l.at(x, y)
	if !ok {
		return
	}
	wasFocused := st.focus == pl.panel
	st.focus = pl.panel
	row, ok := st.rowAt(pl, y)
	if !ok {
		return // the title, the border or the column headings: focus only
	}
	t := st.table()
	if wasFocused && t.selected == row {
		st.runAction(ScopeMain, "open")
		return
	}
	t.selected = row
}

// runAction runs the binding of action in scope as its key would, or
// flashes why it cannot act now.
func (st *state) runAction(scope Scope, action string) {
	for i := range st.bindings {
		if b := &st.bindings[i]; b.Scope == scope && b.Action == action {
			st.runBinding(b)
			return
		}
	}
}

// rowAt is the row of the focused panel's table drawn at screen row y of
// its box pl in the last frame. Every panel draws its rows down to the
// bottom of its box, so the first one is page rows above the bottom
// border.
func (st *state) rowAt(pl placed, y int) (int, bool) {
	t := st.table()
	last := pl.r.y + pl.r.h - 1 // the bottom border
	first := last - t.page
	if t.page <= 0 || y < first || y >= last {
		return 0, false
	}
	row := t.offset + y - first
	if row >= st.rows() {
		return 0, false
	}
	return row, true
}
