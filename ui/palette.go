package ui

import (
	"fmt"
	"strings"

	"sitroom/model"
)

// palette is the open command palette: every action of the panels'
// scope and every named view, narrowed by what was typed.
type palette struct {
	query  string
	items  []paletteItem
	shown  []int // indexes into items that match the query
	sel    int   // index into shown
	offset int   // first shown row drawn
	page   int   // rows drawn in the last frame
}

type paletteItem struct {
	keys, name, desc string
	why              string      // why the action cannot act now, "" if it can
	bind             *Binding    // an action, or
	view             *model.View // a view
	hay              string      // lower-case text the query searches
}

var viewPanels = map[string]Panel{"outages": PanelOutages, "alerts": PanelAlerts, "deps": PanelDeps, "backlog": PanelBacklog}

// openPalette lists every action of the panels (those of a read-only
// console only: the table holds no other) with why it cannot act now,
// then the named views.
func (st *state) openPalette() {
	pal := &palette{}
	for i := range st.bindings {
		b := &st.bindings[i]
		if b.Scope != ScopeMain || b.Action == "palette" {
			continue
		}
		it := paletteItem{keys: b.Keys, name: b.Action, desc: b.Desc, bind: b}
		if b.disabled != nil {
			it.why = b.disabled(st)
		}
		pal.items = append(pal.items, it)
	}
	for i := range st.views {
		v := &st.views[i]
		it := paletteItem{keys: "view", name: cellText(v.Name), desc: viewDesc(v), view: v}
		pal.items = append(pal.items, it)
	}
	for i := range pal.items {
		it := &pal.items[i]
		it.hay = strings.ToLower(it.keys + " " + it.name + " " + it.desc)
	}
	st.pal = pal
	st.mode = modePalette
	st.paletteSetQuery("")
}

// viewDesc says what a view shows: its filter, panel and order.
func viewDesc(v *model.View) string {
	var parts []string
	if f := strings.TrimSpace(v.Filter); f != "" {
		parts = append(parts, cellText(f))
	} else {
		parts = append(parts, "no filter")
	}
	if v.Panel != "" {
		parts = append(parts, "panel "+cellText(v.Panel))
	}
	if v.Sort != "" {
		parts = append(parts, "sorted by "+cellText(v.Sort))
	}
	return strings.Join(parts, " · ")
}

func (st *state) closePalette() {
	st.pal = nil
	st.mode = modeMain
}

// paletteSetQuery narrows the list to the items whose key, name or
// description hold q (any case), those whose name does first.
func (st *state) paletteSetQuery(q string) {
	pal := st.pal
	if len([]rune(q)) > 200 {
		return
	}
	pal.query = q
	lq := strings.ToLower(q)
	// Names that start with q first, then names holding it, then the
	// rest, each in table order.
	pal.shown = pal.shown[:0]
	for rank := 0; rank < 3; rank++ {
		for i := range pal.items {
			it := &pal.items[i]
			name := strings.ToLower(it.name)
			r := 2
			switch {
			case strings.HasPrefix(name, lq):
				r = 0
			case strings.Contains(name, lq):
				r = 1
			case !strings.Contains(it.hay, lq):
				r = -1
			}
			if r == rank {
				pal.shown = append(pal.shown, i)
			}
		}
	}
	pal.sel, pal.offset = 0, 0
}

func (st *state) paletteBackspace() {
	r := []rune(st.pal.query)
	if len(r) > 0 {
		st.paletteSetQuery(string(r[:len(r)-1]))
	}
}

func (st *state) paletteMove(d int) {
	pal := st.pal
	if len(pal.shown) == 0 {
		return
	}
	pal.sel = min(max(pal.sel+d, 0), len(pal.shown)-1)
}

// paletteRun runs the chosen action as its key would (an action that
// cannot act now flashes why and the palette stays open), or applies the
// chosen view.
func (st *state) paletteRun() {
	pal := st.pal
	if len(pal.shown) == 0 {
		st.setFlash("nothing matches " + cellText(pal.query))
		return
	}
	it := pal.items[pal.shown[pal.sel]]
	if it.view != nil {
		st.closePalette()
		st.applyView(it.view)
		return
	}
	if it.bind.disabled != nil {
		if why := it.bind.disabled(st); why != "" {
			st.setFlash(it.bind.Keys + ": " + why)
			return
		}
	}
	st.closePalette()
	it.bind.run(st)
}

// applyView sets the view's filter, panel and backlog order.
func (st *state) applyView(v *model.View) {
	st.setFilter(v.Filter)
	if p, ok := viewPanels[v.Panel]; ok {
		st.focus = p
	}
	for i, name := range model.TicketSorts {
		if v.Sort == name && i < int(numTicketSorts) {
			st.tkSort = ticketSort(i)
			st.tkT.selected, st.tkT.offset = 0, 0
		}
	}
	st.outT.selected, st.outT.offset = 0, 0
	st.alertT.selected, st.alertT.offset = 0, 0
	st.setFlash("view " + cellText(v.Name))
}

// drawPalette paints the palette in a box over the panels: the query
// line, then one row per matching action (key, name, description; why it
// cannot act now, dimmed) and view.
func (st *state) drawPalette(p *painter, x, y, w, h int) {
	pal := st.pal
	if pal == nil {
		return
	}
	th := &st.theme
	bw := min(w, 110)
	bh := min(h, len(pal.items)+4)
	bx := x + (w-bw)/2
	by := y
	for yy := by; yy < by+bh; yy++ {
		p.text(bx, yy, bw, strings.Repeat(" ", bw), th.Base)
	}
	title := fmt.Sprintf("Commands (%d of %d)", len(pal.shown), len(pal.items))
	ix, iy, iw, ih := drawBox(p, th, bx, by, bw, bh, title, true)
	if iw <= 2 || ih <= 1 {
		return
	}
	ix, iw = ix+1, iw-2
	qx := p.text(ix, iy, iw, ": ", th.KeyHint)
	qx += p.text(ix+qx, iy, iw-qx, cellText(pal.query), th.Base.Bold(true))
	p.text(ix+qx, iy, iw-qx, "▏", th.Base)
	rows := ih - 1
	pal.page = rows
	if len(pal.shown) == 0 {
		p.text(ix, iy+1, iw, "no action or view matches", th.Dim)
		return
	}
	if pal.sel < pal.offset {
		pal.offset = pal.sel
	}
	if pal.sel >= pal.offset+rows {
		pal.offset = pal.sel - rows + 1
	}
	if len(pal.shown) > rows { // where the list is, on the bottom border
		pos := fmt.Sprintf(" %d–%d of %d ", pal.offset+1, min(pal.offset+rows, len(pal.shown)), len(pal.shown))
		if pw := p.width(pos); pw+4 < bw {
			p.text(bx+bw-2-pw, by+bh-1, pw, pos, th.Dim)
		}
	}
	keyW, nameW := 10, 8
	for _, it := range pal.items {
		nameW = max(nameW, p.width(it.name)+2)
	}
	nameW = min(nameW, max(iw/4, 8))
	for r := 0; r < rows && pal.offset+r < len(pal.shown); r++ {
		n := pal.offset + r
		it := &pal.items[pal.shown[n]]
		yy := iy + 1 + r
		base, key, dim := th.Base, th.KeyHint, th.Dim
		if n == pal.sel {
			base, key, dim = th.Selected, th.Selected.Bold(true), th.Selected
			p.text(ix, yy, iw, strings.Repeat(" ", iw), th.Selected)
		}
		p.text(ix, yy, keyW-1, it.keys, key)
		p.text(ix+keyW, yy, nameW-1, it.name, base)
		desc, style := it.desc, base
		if it.why != "" {
			desc, style = "✗ "+it.why+" · "+it.desc, dim
		}
		if dx := keyW + nameW; dx < iw {
			p.text(ix+dx, yy, iw-dx, desc, style)
		}
	}
}
