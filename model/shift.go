package model

import (
	"sort"
	"time"
)

// ShiftSchedule says when shifts start: at the same local times every day
// in one time zone. Days with a daylight-saving change have shorter or
// longer shifts; a start that falls in a skipped hour moves as time.Date
// moves it.
type ShiftSchedule struct {
	Zone *time.Location // nil: UTC
	// Starts are offsets from local midnight, each under 24h; at least one.
	Starts []time.Duration
}

// DefaultShiftStarts are 07:00, 15:00 and 23:00.
var DefaultShiftStarts = []time.Duration{7 * time.Hour, 15 * time.Hour, 23 * time.Hour}

// ShiftAt returns the shift that contains t: [from, to).
func (s ShiftSchedule) ShiftAt(t time.Time) (from, to time.Time) {
	loc := s.Zone
	if loc == nil {
		loc = time.UTC
	}
	starts := s.Starts
	if len(starts) == 0 {
		starts = DefaultShiftStarts
	}
	lt := t.In(loc)
	var cands []time.Time
	for day := -1; day <= 1; day++ {
		for _, off := range starts {
			h, m := int(off/time.Hour), int(off%time.Hour/time.Minute)
			cands = append(cands, time.Date(lt.Year(), lt.Month(), lt.Day()+day, h, m, 0, 0, loc))
		}
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].Before(cands[j]) })
	for i := len(cands) - 1; i >= 0; i-- {
		if !cands[i].After(t) {
			from = cands[i]
			for j := i + 1; j < len(cands); j++ {
				if cands[j].After(from) {
					return from, cands[j]
				}
			}
		}
	}
	return cands[0], cands[1] // unreachable with a start every day
}

// Previous returns the shift before the one that starts at from.
func (s ShiftSchedule) Previous(from time.Time) (time.Time, time.Time) {
	return s.ShiftAt(from.Add(-time.Nanosecond))
}
