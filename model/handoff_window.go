package model

import (
	"time"

	pmodel "github.com/prometheus/common/model"
)

// HandoffSpan says which span a handoff report covers: the last Since, or
// the current or previous shift of the schedule.
type HandoffSpan struct {
	Since time.Duration // > 0: the last Since
	Shift string        // "current" or "previous" when Since is 0
}

// HandoffOptionsAt picks the report's windows at now. The current shift
// ends at now (it is in progress); every figure is then computed from
// stored timestamps within the windows, so a report of a past shift is the
// same whenever it is run.
func HandoffOptionsAt(sched ShiftSchedule, span HandoffSpan, now time.Time) HandoffOptions {
	opt := HandoffOptions{Zone: sched.Zone}
	if span.Since > 0 {
		d := span.Since
		opt.Window = Window{Label: "last " + pmodel.Duration(d).String(), From: now.Add(-d), To: now}
		opt.Previous = Window{Label: "the " + pmodel.Duration(d).String() + " before", From: now.Add(-2 * d), To: now.Add(-d)}
		opt.Next = Window{Label: "next " + pmodel.Duration(d).String(), From: now, To: now.Add(d)}
		return opt
	}
	from, to := sched.ShiftAt(now)
	label := "current shift"
	if span.Shift == "previous" {
		from, to = sched.Previous(from)
		label = "previous shift"
	}
	loc := sched.Zone
	if loc == nil {
		loc = time.UTC
	}
	name := func(f, t time.Time) string {
		return f.In(loc).Format("Mon 02 Jan 15:04") + "–" + t.In(loc).Format("15:04")
	}
	opt.Window = Window{Label: label + " " + name(from, to), From: from, To: to}
	if to.After(now) {
		opt.Window.To = now
		opt.Window.Label += " (in progress)"
	}
	pf, pt := sched.Previous(from)
	opt.Previous = Window{Label: "shift " + name(pf, pt), From: pf, To: pt}
	nf, nt := sched.ShiftAt(to)
	opt.Next = Window{Label: "shift " + name(nf, nt), From: nf, To: nt}
	return opt
}

// From is the earliest instant the report reads: the previous window's
// start, or the report window's when that is earlier.
func (o HandoffOptions) From() time.Time {
	from := o.Previous.From
	if from.IsZero() || o.Window.From.Before(from) {
		from = o.Window.From
	}
	return from
}
