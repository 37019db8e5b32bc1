package ui

import (
	"context"
	"strconv"
	"time"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
)

// StatsSource reads the NOC statistics the Stats view shows: the last
// Days days up to now from the stored history (the team store's in team
// mode). The UI calls it on a worker goroutine, never on the UI
// goroutine; main wires it to the runtime.
type StatsSource interface {
	Stats(ctx context.Context, q StatsRequest) (*model.Stats, error)
}

// StatsRequest is what the Stats view asks for.
type StatsRequest struct {
	Days    int               // the last 7 or 30 days, to now
	Bucket  model.StatsBucket // day or week
	Service string            // "" every service
}

// Span is the request's window in words: "the last 7 days".
func (q StatsRequest) Span() string {
	return "the last " + model.Plural(q.Days, "day", "days")
}

// statsTimeout bounds one read of the statistics.
const statsTimeout = 30 * time.Second

// statsView is the Stats view's state (modeStats; the wall screen's
// stats panel too). It is used on the UI goroutine only.
type statsView struct {
	req     StatsRequest // what is shown, or asked for
	data    *model.Stats // the last answer, for dataReq
	dataReq StatsRequest
	err     string // why the last read failed
	loading bool
	// services are those of the last answer for every service: what the
	// service key cycles through.
	services []string
	// doc is data laid out for docW cells.
	doc    *document
	docW   int
	offset int // where a new layout of the same figures opens
	// at is when data arrived (the App's clock), for the wall screen.
	at time.Time
}

func (st *state) statsDisabled() string {
	if st.onStats == nil {
		return "no history to read statistics from"
	}
	return ""
}

// openStats shows the Stats view (the last 7 days by day for every
// service the first time, else what it showed last) and reads it afresh.
func (st *state) openStats() {
	if st.stats.req.Days == 0 {
		st.stats.req = StatsRequest{Days: 7, Bucket: model.BucketDay}
	}
	st.mode = modeStats
	st.stats.offset = 0
	if st.stats.doc != nil {
		st.stats.doc.offset = 0
	}
	st.loadStats()
}

func (st *state) closeStats() { st.mode = modeMain }

// loadStats asks a worker for st.stats.req; the view shows "loading…"
// (over the figures it had) until the answer arrives.
func (st *state) loadStats() {
	if st.onStats == nil {
		return
	}
	st.stats.loading = true
	st.onStats(st.stats.req)
}

// statsArrived takes a worker's answer to q; one for a request no
// longer shown is dropped.
func (st *state) statsArrived(q StatsRequest, s *model.Stats, err error) {
	v := &st.stats
	if q != v.req {
		return
	}
	v.loading = false
	if err != nil {
		v.err = err.Error()
		return
	}
	v.err = ""
	v.offset = 0
	if v.doc != nil && v.dataReq == q {
		v.offset = v.doc.offset // a refresh keeps the reader's place
	}
	v.data, v.dataReq, v.doc, v.docW, v.at = s, q, nil, 0, st.now()
	if q.Service == "" {
		v.services = v.services[:0]
		seen := map[string]bool{}
		for _, list := range [][]model.ServiceLoad{s.TopByOutages, s.TopByTime} {
			for _, l := range list {
				if !seen[l.Service] {
					seen[l.Service] = true
					v.services = append(v.services, l.Service)
				}
			}
		}
	}
}

// statsSpan switches between the last 7 and 30 days.
func (st *state) statsSpan() {
	if st.stats.req.Days == 7 {
		st.stats.req.Days = 30
	} else {
		st.stats.req.Days = 7
	}
	st.loadStats()
}

// statsBucket switches the rows between days and weeks.
func (st *state) statsBucket() {
	if st.stats.req.Bucket == model.BucketWeek {
		st.stats.req.Bucket = model.BucketDay
	} else {
		st.stats.req.Bucket = model.BucketWeek
	}
	st.loadStats()
}

// statsService shows the next service of the figures for every service,
// then every service again.
func (st *state) statsService() {
	v := &st.stats
	if len(v.services) == 0 {
		st.setFlash("no service had an outage in " + v.req.Span() + ": nothing to narrow to")
		return
	}
	next := v.services[0]
	for i, s := range v.services {
		if s == v.req.Service {
			next = ""
			if i+1 < len(v.services) {
				next = v.services[i+1]
			}
		}
	}
	v.req.Service = next
	st.loadStats()
}

func (st *state) statsScroll(d int) {
	if doc := st.stats.doc; doc != nil {
		doc.scroll(d)
	}
}

func (st *state) statsPage() int {
	if d := st.stats.doc; d != nil && d.page > 1 {
		return d.page - 1
	}
	return 10
}

// statsTitle is the view's title: the window, the bucket and the service.
func (st *state) statsTitle() string {
	q := st.stats.req
	t := "Stats · " + q.Span() + " · by " + bucketWord(q.Bucket) + " · "
	if q.Service != "" {
		t += cellText(q.Service)
	} else {
		t += "all services"
	}
	if st.stats.loading && st.stats.data != nil {
		t += " · loading…"
	}
	return t
}

// statsStyle is a stats line's class as a theme style.
func (st *state) statsStyle(c statsClass) tcell.Style {
	th := &st.theme
	switch c {
	case scDim:
		return th.Dim
	case scTitle, scHead:
		return th.Title
	case scCrit:
		return th.Crit
	case scWarn:
		return th.Warn
	case scOK:
		return th.OK
	case scBar:
		return th.Info
	case scBar2:
		return th.Warn
	}
	return th.Base
}

// statsDoc is the figures laid out for w cells, built again when the
// width or the figures change.
func (st *state) statsDoc(w int) *document {
	v := &st.stats
	if v.data == nil {
		return nil
	}
	if v.doc != nil && v.docW == w && v.doc.lines != nil {
		return v.doc
	}
	if v.doc != nil {
		v.offset = v.doc.offset
	}
	d := &document{offset: v.offset}
	for _, l := range statsLines(v.data, w, v.dataReq.Span(), true) {
		l = l.trimRight()
		if len(l) == 0 {
			d.blank()
			continue
		}
		spans := make([]span, len(l))
		for i, s := range l {
			spans[i] = span{text: s.text, st: st.statsStyle(s.c)}
		}
		d.add(docLine{spans: spans, text: l.text()})
	}
	v.doc, v.docW = d, w
	return d
}

// drawStats draws the Stats view in the box at x, y, w×h: "loading…"
// until the figures arrive, the error in words when the read failed.
func (st *state) drawStats(p *painter, x, y, w, h int) {
	th := &st.theme
	ix, iy, iw, ih := drawBox(p, th, x, y, w, h, st.statsTitle(), true)
	if iw <= 2 || ih <= 0 {
		return
	}
	st.drawStatsBody(p, ix+1, iy, iw-2, ih)
	if d := st.stats.doc; d != nil && st.stats.data != nil && len(d.wrapped) > ih {
		pos := " " + strconv.Itoa(d.offset+1) + "–" + strconv.Itoa(min(d.offset+ih, len(d.wrapped))) + " of " + strconv.Itoa(len(d.wrapped)) + " "
		if pw := p.width(pos); pw+4 < w {
			p.text(x+w-2-pw, y+h-1, pw, pos, th.Dim)
		}
	}
}

// drawStatsBody draws the figures (or why there are none) at x, y, w×h.
func (st *state) drawStatsBody(p *painter, x, y, w, h int) {
	th := &st.theme
	v := &st.stats
	row := y
	if v.err != "" {
		for _, l := range wordWrap("statistics could not be read: "+cellText(v.err), w) {
			if row < y+h {
				p.text(x, row, w, l, th.ErrorText)
				row++
			}
		}
		if v.data == nil {
			if row < y+h {
				p.text(x, row, w, st.keyOfIn(ScopeStats, "refresh")+" tries again", th.Dim)
			}
			return
		}
	}
	if v.data == nil {
		p.text(x, row, w, "loading…", th.Unknown)
		return
	}
	d := st.statsDoc(w)
	d.draw(p, x, row, w, y+h-row)
}

// keyOfIn is how the key of an action of scope is shown.
func (st *state) keyOfIn(scope Scope, action string) string {
	for i := range st.bindings {
		if b := &st.bindings[i]; b.Scope == scope && b.Action == action {
			return b.Keys
		}
	}
	return action
}

// runStats is the App's side of the Stats view: a worker reads the
// figures off the UI goroutine and they are swapped in with one
// QueueUpdateDraw.
func (a *App) runStats(q StatsRequest) {
	a.beginBusy()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), statsTimeout)
		s, err := a.opts.Stats.Stats(ctx, q)
		cancel()
		if err != nil {
			a.log.Error("stats", "err", err)
		}
		a.app.QueueUpdateDraw(func() {
			a.st.statsArrived(q, s, err)
			a.endBusy()
		})
	}()
}
