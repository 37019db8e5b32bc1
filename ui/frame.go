package ui

import (
	"github.com/gdamore/tcell/v2"
)

// frameScreen draws each frame into a back buffer and, on Show, hands the
// terminal's screen only the cells whose text or style changed since the
// frame before. tview clears the screen before every frame, and tcell
// treats a cleared cell drawn again as changed, so without it every
// frame resent every non-blank cell: a clock tick cost a whole screen.
// Everything else passes through to the terminal's screen. It is used by
// the UI goroutine only (tview draws on one goroutine).
type frameScreen struct {
	tcell.Screen
	back tcell.CellBuffer
	w, h int
	// The cursor as last asked for, and whether that changed since the
	// last Show: a frame that moves only the cursor must still be shown.
	cx, cy      int
	cursorOn    bool
	cursorMoved bool
}

func newFrameScreen(s tcell.Screen) *frameScreen { return &frameScreen{Screen: s} }

// fit sizes the back buffer to the terminal.
func (f *frameScreen) fit() {
	w, h := f.Screen.Size()
	if w != f.w || h != f.h {
		f.w, f.h = w, h
		f.back.Resize(w, h)
	}
}

func (f *frameScreen) Clear() { f.Fill(' ', tcell.StyleDefault) }

func (f *frameScreen) Fill(r rune, st tcell.Style) {
	f.fit()
	f.back.Fill(r, st)
}

func (f *frameScreen) Put(x, y int, s string, st tcell.Style) (string, int) {
	return f.back.Put(x, y, s, st)
}

func (f *frameScreen) PutStr(x, y int, s string) { f.PutStrStyled(x, y, s, tcell.StyleDefault) }

func (f *frameScreen) PutStrStyled(x, y int, s string, st tcell.Style) {
	for s != "" && x < f.w {
		var w int
		s, w = f.back.Put(x, y, s, st)
		if w == 0 {
			break
		}
		x += w
	}
}

func (f *frameScreen) SetCell(x, y int, st tcell.Style, ch ...rune) {
	if len(ch) > 0 {
		f.back.SetContent(x, y, ch[0], ch[1:], st)
	}
}

func (f *frameScreen) SetContent(x, y int, r rune, comb []rune, st tcell.Style) {
	f.back.SetContent(x, y, r, comb, st)
}

func (f *frameScreen) Get(x, y int) (string, tcell.Style, int) { return f.back.Get(x, y) }

func (f *frameScreen) GetContent(x, y int) (rune, []rune, tcell.Style, int) {
	return f.back.GetContent(x, y)
}

// Show copies the changed cells to the terminal's screen and shows it. A
// frame that changed no cell and did not move the cursor sends nothing:
// tcell would still send a synchronised-update pair and a cursor reset
// (about 30 bytes) for each, and a poll of unchanged data redraws.
func (f *frameScreen) Show() {
	if f.copyChanged() || f.cursorMoved {
		f.cursorMoved = false
		f.Screen.Show()
	}
}

func (f *frameScreen) ShowCursor(x, y int) {
	if !f.cursorOn || x != f.cx || y != f.cy {
		f.cx, f.cy, f.cursorOn, f.cursorMoved = x, y, true, true
	}
	f.Screen.ShowCursor(x, y)
}

func (f *frameScreen) HideCursor() {
	if f.cursorOn {
		f.cursorOn, f.cursorMoved = false, true
	}
	f.Screen.HideCursor()
}

// Sync copies the frame and redraws the whole terminal.
func (f *frameScreen) Sync() {
	f.copyChanged()
	f.Screen.Sync()
}

// copyChanged copies the cells that differ to the terminal's screen and
// reports whether there were any (or the size changed).
func (f *frameScreen) copyChanged() bool {
	if w, h := f.Screen.Size(); w != f.w || h != f.h {
		return true // resized since the frame was drawn: the next frame follows
	}
	changed := false
	for y := 0; y < f.h; y++ {
		for x := 0; x < f.w; {
			s, st, w := f.back.Get(x, y)
			if cur, cst, _ := f.Screen.Get(x, y); cur != s || cst != st {
				f.Screen.Put(x, y, s, st)
				changed = true
			}
			x += max(w, 1)
		}
	}
	return changed
}
