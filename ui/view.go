package ui

import (
	"unicode/utf8"

	"sitroom/model"
)

// filterSpec is a filter line that parses (model.ParseFilter): the text
// and its parsed form, nil when the line is empty.
type filterSpec struct {
	raw string
	f   *model.Filter
}

// parseFilter parses the filter line q; on an error (a *model.FilterError)
// the spec is the empty one.
func parseFilter(q string) (filterSpec, error) {
	f, err := model.ParseFilter(q)
	if err != nil {
		return filterSpec{}, err
	}
	if f.Empty() {
		f = nil
	}
	return filterSpec{raw: q, f: f}, nil
}

func (f filterSpec) active() bool { return !f.f.Empty() }

// same reports whether g filters exactly as f does.
func (f filterSpec) same(g filterSpec) bool {
	return f.raw == g.raw || !f.active() && !g.active()
}

// filterEnv is what evaluating a filter over snap needs: the snapshot's
// own time (so a view does not change while the data does not) and the
// acks of board.
func filterEnv(snap *model.Snapshot, board *model.Board) model.FilterEnv {
	env := model.FilterEnv{Now: snap.Built}
	// @acked is the one meaning of acknowledged (model.Acknowledge), read
	// through an AckView built the first time the filter asks.
	var acks *model.AckView
	env.Acked = func(service string) bool {
		if acks == nil {
			acks = model.NewAckView(snap, board)
		}
		return acks.Service(service)
	}
	return env
}

// view is a snapshot filtered for display. It is rebuilt when the snapshot
// or the filter changes, never per frame, on the UI goroutine (texts is
// not safe for concurrent use).
type view struct {
	snap *model.Snapshot
	// texts are the signals' texts a free-text filter searched, kept for
	// the next view of the same snapshot.
	texts  model.SignalTexts
	filter filterSpec   // what the view was built with
	board  *model.Board // the acks it was built with
	flat   bool
	sigs   []*model.Signal
	outs   []*model.Outage
	// outNest is the tree glyph drawn before each outage's service: ""
	// for a cause (or in the flat view), "├ " or "└ " for a symptom nested
	// under the cause above it.
	outNest []string
	// nested counts the symptoms shown under their cause.
	nested int
	// natural column widths over every row of the view (byte lengths, capped)
	sigNat []int
	outNat []int
}

// buildView filters snap. prev, when it is a view of the same snapshot
// (and, for a filter on acks, the same board) whose filter keeps
// everything the new one keeps (the operator typed another character or
// term), is narrowed instead of filtering every signal again. An outage
// is kept when the filter keeps one of its service's signals.
func buildView(snap *model.Snapshot, f filterSpec, flat bool, prev *view, board *model.Board) *view {
	v := &view{snap: snap, filter: f, flat: flat, board: board}
	if snap == nil {
		v.sigNat = naturalWidths(alertCols, 0, nil)
		v.outNat = naturalWidths(outageCols, 0, nil)
		return v
	}
	if prev != nil && prev.snap == snap {
		v.texts = prev.texts
	}
	if !f.active() {
		v.sigs, v.outs = snap.Signals, snap.Outages
	} else {
		env := filterEnv(snap, board)
		if v.texts == nil && len(f.f.Words) > 0 {
			v.texts = model.SignalTexts{}
		}
		env.Texts = v.texts
		matchedSvc := map[string]bool{}
		v.sigs = make([]*model.Signal, 0, 64)
		from := snap.Signals
		if prev != nil && prev.snap == snap && prev.filter.active() && (prev.board == board || !f.f.UsesAcks()) &&
			f.f.Narrows(prev.filter.f) {
			from = prev.sigs
		}
		for _, s := range from {
			if f.f.MatchSignal(s, env) {
				v.sigs = append(v.sigs, s)
				matchedSvc[s.Service] = true
			}
		}
		for _, o := range snap.Outages {
			if matchedSvc[o.Service] {
				v.outs = append(v.outs, o)
			}
		}
	}
	v.outNest = make([]string, len(v.outs))
	if !flat {
		v.nest()
	}
	v.sigNat = naturalWidths(alertCols, len(v.sigs), func(row, col int) int { return alertNatural(v.sigs[row], col) })
	v.outNat = naturalWidths(outageCols, len(v.outs), func(row, col int) int {
		n := outageNatural(v.outs[row], col)
		if col == 1 {
			n += utf8.RuneCountInString(v.outNest[row]) // "└ " is one glyph a cell
		}
		return n
	})
	return v
}

// nest reorders the outages so each cause leads, followed by its symptoms
// (those the filter kept). A symptom whose cause the filter hides stays
// at the top level.
func (v *view) nest() {
	shown := make(map[*model.Outage]bool, len(v.outs))
	for _, o := range v.outs {
		shown[o] = true
	}
	outs := make([]*model.Outage, 0, len(v.outs))
	nest := make([]string, 0, len(v.outs))
	for _, o := range v.outs {
		if o.IsSymptom() && shown[v.snap.Outage(o.ProbableCause)] {
			continue
		}
		outs = append(outs, o)
		nest = append(nest, "")
		var kids []*model.Outage
		for _, s := range o.Symptoms {
			if shown[s] {
				kids = append(kids, s)
			}
		}
		for i, s := range kids {
			outs = append(outs, s)
			if i == len(kids)-1 {
				nest = append(nest, "└ ")
			} else {
				nest = append(nest, "├ ")
			}
		}
		v.nested += len(kids)
	}
	v.outs, v.outNest = outs, nest
}

// naturalWidths estimates each column's width over every row, from byte
// lengths (an over-estimate for non-ASCII text) capped at the column's max.
func naturalWidths(cols []column, rows int, size func(row, col int) int) []int {
	nat := make([]int, len(cols))
	for c, col := range cols {
		if col.title != "" { // untitled columns (the stale marker) only show when a row needs them
			nat[c] = max(len(col.title), col.min)
		}
	}
	for r := 0; r < rows; r++ {
		for c, col := range cols {
			if col.flex || nat[c] >= col.max {
				continue
			}
			if n := size(r, c); n > nat[c] {
				nat[c] = min(n, col.max)
			}
		}
	}
	for c, col := range cols {
		if col.flex {
			nat[c] = col.max
		}
	}
	return nat
}

func joinedLen(ss []string) int {
	n := 0
	for i, s := range ss {
		if i > 0 {
			n++
		}
		n += len(s)
	}
	return n
}

func (v *view) signalIndex(key string) int {
	for i, s := range v.sigs {
		if s.Key == key {
			return i
		}
	}
	return -1
}

func (v *view) outageIndex(service string) int {
	for i, o := range v.outs {
		if o.Service == service {
			return i
		}
	}
	return -1
}

func (v *view) signalByKey(key string) *model.Signal {
	if v.snap == nil {
		return nil
	}
	for _, s := range v.snap.Signals {
		if s.Key == key {
			return s
		}
	}
	return nil
}
