package model

import (
	"bytes"
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"time"
)

// StatsVersion is the version of the statistics' JSON shape (docs/stats.md).
const StatsVersion = 1

// StatsDefaultTop is StatsOptions.Top when none is given.
const StatsDefaultTop = 10

// SeverityCounts are outages by severity. Its JSON form is an object
// with the four severities' names as keys, always all four, worst first:
// {"critical": 2, "warning": 1, "info": 0, "none": 0}.
type SeverityCounts map[Severity]int

// statsSeverities are the severities a SeverityCounts lists, worst first.
var statsSeverities = []Severity{SevCritical, SevWarning, SevInfo, SevNone}

// MarshalJSON writes the counts with every severity's name, worst first.
func (c SeverityCounts) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, sev := range statsSeverities {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + sev.Name() + `":` + strconv.Itoa(c[sev]))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads the counts MarshalJSON writes.
func (c *SeverityCounts) UnmarshalJSON(b []byte) error {
	var m map[string]int
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*c = SeverityCounts{}
	for k, n := range m {
		(*c)[ParseSeverity(k)] += n
	}
	return nil
}

// ShiftLabel is a shift start as the statistics name it: "07:00".
func ShiftLabel(start time.Duration) string {
	return pad2(int(start/time.Hour)) + ":" + pad2(int(start%time.Hour/time.Minute))
}

// Whose words: Stats.Whose.
const (
	WhoseHost = "host"
	WhoseTeam = "team"
)

// BuildStats computes the statistics of f as opt cuts them. It reads no
// clock and is deterministic: the same facts and options give the same
// Stats. The definitions are those of docs/stats.md: an outage counts in
// the bucket (and the shift) it opened in, its TTA when its first ack
// came before it closed and before To, its TTR when it closed before To.
func BuildStats(f *StatsFacts, opt StatsOptions) *Stats {
	loc := opt.Shifts.Zone
	if loc == nil {
		loc = time.UTC
	}
	bucket := opt.Bucket
	if bucket == "" {
		bucket = BucketDay
	}
	top := opt.Top
	if top <= 0 {
		top = StatsDefaultTop
	}
	span := Window{From: f.From, To: f.To}
	s := &Stats{Version: StatsVersion, Zone: loc.String(), From: f.From.UTC(), To: f.To.UTC(), Bucket: bucket,
		Service: opt.Service, Team: opt.Team, Shift: opt.Shift, HasTickets: f.HasTickets, loc: loc,
		Buckets: []StatsPeriod{}, Shifts: []StatsShift{}, TopByOutages: []ServiceLoad{}, TopByTime: []ServiceLoad{},
		Flapping: []FlappingAlert{}, Sources: []SourceVolume{}}
	s.Whose, s.WhoseDetail = whose(f.Team)
	if f.Team.Mode && f.Team.Unreachable {
		s.WhoseError = f.Team.Error
	}

	b := newStatsCutter(span, bucket, opt.Shifts, loc)
	s.Totals = newPeriod(s.From, s.To)
	acc := make([]periodAcc, len(b.buckets))
	for _, bk := range b.buckets {
		s.Buckets = append(s.Buckets, newPeriod(bk.From.UTC(), bk.To.UTC()))
	}
	shiftAcc := make([]periodAcc, len(b.labels))
	for _, l := range b.labels {
		s.Shifts = append(s.Shifts, StatsShift{Start: l, StatsPeriod: newPeriod(s.From, s.To)})
	}
	var totalAcc periodAcc
	keep := func(shift int) bool { return opt.Shift == "" || (shift >= 0 && b.labels[shift] == opt.Shift) }

	// Outages: counted where they opened; time in outage per service.
	type svcAcc struct {
		outages int
		seconds int64
		tta     []int64
	}
	services := map[string]*svcAcc{}
	svc := func(name string) *svcAcc {
		a := services[name]
		if a == nil {
			a = &svcAcc{}
			services[name] = a
		}
		return a
	}
	now := opt.Now
	if now.IsZero() || now.After(f.To) {
		now = f.To
	}
	for _, o := range f.Outages {
		if !o.Opened.Before(f.To) || (!o.Closed.IsZero() && o.Closed.Before(f.From)) {
			continue
		}
		if !keep(b.shiftOf(o.Opened)) {
			continue
		}
		// Time in outage, clipped to the span (open ones up to Now).
		start, end := o.Opened, now
		if !o.Closed.IsZero() && o.Closed.Before(end) {
			end = o.Closed
		}
		if start.Before(f.From) {
			start = f.From
		}
		if end.After(start) {
			svc(o.Service).seconds += secs(end.Sub(start))
		} else {
			svc(o.Service)
		}
		if !in(o.Opened, span) {
			continue // carried over from before the span: time in outage only
		}
		a := svc(o.Service)
		a.outages++
		var tta, ttr *int64
		if ackCounts(o.FirstAck, o.Opened, closedOrEnd(o.Closed, span)) {
			tta = ptr(secs(o.FirstAck.Sub(o.Opened)))
			a.tta = append(a.tta, *tta)
		}
		if !o.Closed.IsZero() && o.Closed.Before(f.To) {
			ttr = ptr(secs(o.Closed.Sub(o.Opened)))
		}
		for _, p := range []*periodAcc{&totalAcc, at(acc, b.bucketOf(o.Opened)), at(shiftAcc, b.shiftOf(o.Opened))} {
			if p != nil {
				p.add(tta, ttr)
			}
		}
		addOutage(&s.Totals, o.Severity)
		if i := b.bucketOf(o.Opened); i >= 0 {
			addOutage(&s.Buckets[i], o.Severity)
		}
		if i := b.shiftOf(o.Opened); i >= 0 {
			addOutage(&s.Shifts[i].StatsPeriod, o.Severity)
		}
	}

	// Events at an instant: escalations and expired acks.
	// The rows of one hour come together: where an instant falls is kept
	// for the next row.
	var lastT time.Time
	lastB, lastS := -1, -1
	each := func(t time.Time, fn func(p *StatsPeriod)) {
		if !in(t, span) {
			return
		}
		if !t.Equal(lastT) || lastS < 0 {
			lastT, lastB, lastS = t, b.bucketOf(t), b.shiftOf(t)
		}
		if !keep(lastS) {
			return
		}
		fn(&s.Totals)
		if lastB >= 0 {
			fn(&s.Buckets[lastB])
		}
		if lastS >= 0 {
			fn(&s.Shifts[lastS].StatsPeriod)
		}
	}
	levels := map[int]string{}
	for _, e := range f.Escalations {
		level, ok := levels[e.Level]
		if !ok {
			level = strconv.Itoa(e.Level)
			levels[e.Level] = level
		}
		each(e.At, func(p *StatsPeriod) { p.Escalations[level]++ })
	}
	for _, x := range f.AcksExpired {
		each(x.At, func(p *StatsPeriod) { p.AcksExpired++ })
	}
	// Hours: an hour begun before From counts from From.
	hour := func(h time.Time) time.Time {
		if h.Before(f.From) && h.Add(time.Hour).After(f.From) {
			return f.From
		}
		return h
	}
	for _, t := range f.TicketHours {
		tier := strconv.Itoa(t.Tier)
		each(hour(t.Hour), func(p *StatsPeriod) {
			c := p.Tickets[tier]
			c.Opened += t.Opened
			c.Closed += t.Closed
			c.Breached += t.Breached
			p.Tickets[tier] = c
		})
	}
	sources := map[string]*int{}
	for _, h := range f.AlertHours {
		counted := false
		each(hour(h.Hour), func(p *StatsPeriod) { p.Alerts += h.Fired; counted = true })
		if counted {
			n := sources[h.Source]
			if n == nil {
				n = new(int)
				sources[h.Source] = n
			}
			*n += h.Fired
		}
	}

	totalAcc.fill(&s.Totals)
	for i := range acc {
		acc[i].fill(&s.Buckets[i])
	}
	for i := range shiftAcc {
		shiftAcc[i].fill(&s.Shifts[i].StatsPeriod)
	}

	// Top lists.
	var loads []ServiceLoad
	for name, a := range services {
		loads = append(loads, ServiceLoad{Service: name, Outages: a.outages, Seconds: a.seconds, TTAP50: percentile(a.tta, 50)})
	}
	outages := func(l ServiceLoad) int64 { return int64(l.Outages) }
	seconds := func(l ServiceLoad) int64 { return l.Seconds }
	s.TopByOutages = topLoads(loads, top, outages, seconds)
	s.TopByTime = topLoads(loads, top, seconds, outages)
	flap := append([]FlappingAlert(nil), f.Flapping...)
	sort.SliceStable(flap, func(i, j int) bool {
		if flap[i].Cycles != flap[j].Cycles {
			return flap[i].Cycles > flap[j].Cycles
		}
		return flap[i].Key < flap[j].Key
	})
	for _, fa := range flap {
		if len(s.Flapping) < top {
			s.Flapping = append(s.Flapping, fa)
		}
	}
	for src, n := range sources {
		if *n > 0 {
			s.Sources = append(s.Sources, SourceVolume{Source: src, Alerts: *n})
		}
	}
	sort.Slice(s.Sources, func(i, j int) bool {
		if s.Sources[i].Alerts != s.Sources[j].Alerts {
			return s.Sources[i].Alerts > s.Sources[j].Alerts
		}
		return s.Sources[i].Source < s.Sources[j].Source
	})
	if len(s.Sources) > top {
		s.Sources = s.Sources[:top]
	}
	return s
}

// whose is Stats.Whose and WhoseDetail for a history's team state, in the
// handoff's words.
func whose(t TeamHistory) (string, string) {
	switch {
	case !t.Mode:
		return WhoseHost, ""
	case t.Unreachable:
		return WhoseHost, TeamUnreachableNote
	}
	return WhoseTeam, ""
}

func newPeriod(from, to time.Time) StatsPeriod {
	return StatsPeriod{From: from, To: to, BySeverity: SeverityCounts{}, Escalations: map[string]int{},
		Tickets: map[string]TicketCounts{}}
}

func addOutage(p *StatsPeriod, sev Severity) {
	p.Outages++
	p.BySeverity[sev]++
}

// periodAcc gathers one period's TTA and TTR samples.
type periodAcc struct{ tta, ttr []int64 }

func (a *periodAcc) add(tta, ttr *int64) {
	if tta != nil {
		a.tta = append(a.tta, *tta)
	}
	if ttr != nil {
		a.ttr = append(a.ttr, *ttr)
	}
}

func (a *periodAcc) fill(p *StatsPeriod) {
	p.TTASamples, p.TTAP50, p.TTAP90 = len(a.tta), percentile(a.tta, 50), percentile(a.tta, 90)
	p.TTRSamples, p.TTRP50, p.TTRP90 = len(a.ttr), percentile(a.ttr, 50), percentile(a.ttr, 90)
}

func at(a []periodAcc, i int) *periodAcc {
	if i < 0 {
		return nil
	}
	return &a[i]
}

// statsCutter places instants in buckets and shifts: both are cut once
// for the span, and an instant is found by binary search.
type statsCutter struct {
	buckets []Window
	labels  []string // the shift starts, "07:00", in order of the day
	// shifts are the span's shifts in time order, each with its label's
	// index.
	shifts   []Window
	shiftIdx []int
	// bucketEnds and shiftEnds are the ends in Unix nanoseconds, for the
	// searches.
	bucketEnds, shiftEnds []int64
	sched                 ShiftSchedule
	loc                   *time.Location
}

func newStatsCutter(span Window, bucket StatsBucket, sched ShiftSchedule, loc *time.Location) *statsCutter {
	c := &statsCutter{sched: sched, loc: loc}
	starts := append([]time.Duration(nil), sched.Starts...)
	if len(starts) == 0 {
		starts = DefaultShiftStarts
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	for _, st := range starts {
		if l := ShiftLabel(st); len(c.labels) == 0 || c.labels[len(c.labels)-1] != l {
			c.labels = append(c.labels, l)
		}
	}
	if !span.From.Before(span.To) {
		return c
	}
	lf := span.From.In(loc)
	start := time.Date(lf.Year(), lf.Month(), lf.Day(), 0, 0, 0, 0, loc)
	step := 1
	if bucket == BucketWeek {
		step = 7
		back := (int(start.Weekday()) + 6) % 7 // days since Monday
		start = time.Date(lf.Year(), lf.Month(), lf.Day()-back, 0, 0, 0, 0, loc)
	}
	for b := start; b.Before(span.To); {
		next := time.Date(b.Year(), b.Month(), b.Day()+step, 0, 0, 0, 0, loc)
		w := Window{From: b, To: next}
		if w.From.Before(span.From) {
			w.From = span.From
		}
		if w.To.After(span.To) {
			w.To = span.To
		}
		c.buckets = append(c.buckets, w)
		c.bucketEnds = append(c.bucketEnds, w.To.UnixNano())
		b = next
	}
	from, to := sched.ShiftAt(span.From)
	for from.Before(span.To) {
		c.shifts = append(c.shifts, Window{From: from, To: to})
		c.shiftIdx = append(c.shiftIdx, c.label(from))
		c.shiftEnds = append(c.shiftEnds, to.UnixNano())
		from, to = sched.ShiftAt(to)
	}
	return c
}

// label is the index of the shift that begins at from: its start's label,
// or, where a daylight-saving change moved the start, the last start at
// or before it in the day.
func (c *statsCutter) label(from time.Time) int {
	lt := from.In(c.loc)
	hm := pad2(lt.Hour()) + ":" + pad2(lt.Minute())
	best := len(c.labels) - 1
	for i, l := range c.labels {
		if l == hm {
			return i
		}
		if l < hm {
			best = i
		}
	}
	return best
}

// bucketOf is the index of the bucket holding t, -1 outside the span.
func (c *statsCutter) bucketOf(t time.Time) int {
	n := t.UnixNano()
	i := sort.Search(len(c.bucketEnds), func(i int) bool { return n < c.bucketEnds[i] })
	if i < len(c.buckets) && !t.Before(c.buckets[i].From) {
		return i
	}
	return -1
}

// shiftOf is the index in labels of the shift holding t.
func (c *statsCutter) shiftOf(t time.Time) int {
	n := t.UnixNano()
	i := sort.Search(len(c.shiftEnds), func(i int) bool { return n < c.shiftEnds[i] })
	if i < len(c.shifts) && !t.Before(c.shifts[i].From) {
		return c.shiftIdx[i]
	}
	from, _ := c.sched.ShiftAt(t)
	return c.label(from)
}

// topLoads is the top services of loads by first, most first (ties: more
// by then, then name), those with first above zero, at most top.
func topLoads(loads []ServiceLoad, top int, first, then func(ServiceLoad) int64) []ServiceLoad {
	sorted := slices.Clone(loads)
	sort.Slice(sorted, func(i, j int) bool {
		x, y := sorted[i], sorted[j]
		if a, b := first(x), first(y); a != b {
			return a > b
		}
		if a, b := then(x), then(y); a != b {
			return a > b
		}
		return x.Service < y.Service
	})
	var out []ServiceLoad
	for _, l := range sorted {
		if first(l) > 0 && len(out) < top {
			out = append(out, l)
		}
	}
	return out
}
