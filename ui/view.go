package ui

import (
	"strings"

	"sitroom/model"
)

// filterSpec is a parsed filter line.
type filterSpec struct {
	raw     string
	service string // exact service (the `service=<name>` form)
	exact   bool
	text    string // lower-case substring otherwise
}

func parseFilter(q string) filterSpec {
	f := filterSpec{raw: q}
	t := strings.TrimSpace(q)
	if rest, ok := strings.CutPrefix(t, "service="); ok {
		f.exact, f.service = true, strings.TrimSpace(rest)
		return f
	}
	f.text = strings.ToLower(t)
	return f
}

func (f filterSpec) active() bool { return f.exact || f.text != "" }

// view is a snapshot filtered for display. It is rebuilt when the snapshot
// or the filter changes, never per frame, on the UI goroutine (Signal's
// MatchesText caches its text in the signal, so filtering stays on one
// goroutine).
type view struct {
	snap *model.Snapshot
	sigs []*model.Signal
	outs []*model.Outage
	// natural column widths over every row of the view (byte lengths, capped)
	sigNat []int
	outNat []int
}

func buildView(snap *model.Snapshot, f filterSpec) *view {
	v := &view{snap: snap}
	if snap == nil {
		v.sigNat = naturalWidths(alertCols, 0, nil)
		v.outNat = naturalWidths(outageCols, 0, nil)
		return v
	}
	if !f.active() {
		v.sigs, v.outs = snap.Signals, snap.Outages
	} else {
		matchedSvc := map[string]bool{}
		v.sigs = make([]*model.Signal, 0, 64)
		for _, s := range snap.Signals {
			var ok bool
			if f.exact {
				ok = s.Service == f.service
			} else {
				ok = s.MatchesText(f.text)
			}
			if ok {
				v.sigs = append(v.sigs, s)
				matchedSvc[s.Service] = true
			}
		}
		for _, o := range snap.Outages {
			var ok bool
			if f.exact {
				ok = o.Service == f.service
			} else {
				ok = matchedSvc[o.Service] || strings.Contains(strings.ToLower(o.Service), f.text)
			}
			if ok {
				v.outs = append(v.outs, o)
			}
		}
	}
	v.sigNat = naturalWidths(alertCols, len(v.sigs), func(row, col int) int { return alertNatural(v.sigs[row], col) })
	v.outNat = naturalWidths(outageCols, len(v.outs), func(row, col int) int { return outageNatural(v.outs[row], col) })
	return v
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
