package ui

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
)

// The silences view (S): every silence of every Alertmanager source as
// the action board holds them, one row per silence id (the members of an
// HA pair share their silences' ids, so a pair's silence is one row
// naming both), ending soonest first, the expired ones last. Each row
// says its state, when it ends (marked when that falls in the next
// shift), how many open alerts it covers now (signals whose silencedBy
// holds its id), its matchers, author, sources and comment; the selected
// one is shown whole under the table. From a silence, Enter shows the
// alerts its matchers select; E expires it and + extends it, through the
// actor like every action (role-gated, audited, delivered once by the
// outbox). m on the alerts panel opens the matcher editor for a new
// silence from the selected alert's labels.

// silencesView is the view's state: its table, its filter and the rows
// last built.
type silencesView struct {
	t      vtable
	filter string // words, as typed
	typing bool   // the filter line has the keys
	// rows are built from board and snap under filter; built again when
	// any of them changes.
	rows  []silenceRow
	total int
	board *model.Board
	snap  *model.Snapshot
	built string // the filter the rows were built under
	now   time.Time
	// form is the silence form open (create, extend, expire) and prepare
	// reads its fields into its request before it is sent: the problem
	// and the field it concerns, or "".
	form    *form
	prepare func(f *form) (string, int)
}

// silenceRow is one silence, merged across the sources that hold it.
type silenceRow struct {
	s       model.Silence // as the first source holding it has it
	sources []string
	state   model.SilenceState
	covers  int  // open alerts whose silencedBy holds its id
	next    bool // it ends during the next shift
	hay     string
}

// silenceState is a silence's state: the Alertmanager's, or from its
// times when it was not recorded (or has run out since it was read).
func silenceState(s *model.Silence, now time.Time) model.SilenceState {
	switch {
	case s.State == model.SilenceExpired || !s.EndsAt.IsZero() && !now.Before(s.EndsAt):
		return model.SilenceExpired
	case s.State == model.SilencePending || s.State == "" && s.StartsAt.After(now):
		return model.SilencePending
	}
	return model.SilenceActive
}

// nextShift is the shift after the current one at now.
func (st *state) nextShift(now time.Time) (from, to time.Time) {
	sched := st.shifts
	_, curTo := sched.ShiftAt(now)
	return sched.ShiftAt(curTo)
}

// silenceRows builds the view's rows: merged by id, filtered, sorted.
func (st *state) silenceRows() []silenceRow {
	v := &st.sil
	now := st.now()
	if v.board == st.board && v.snap == st.snap && v.built == v.filter && v.now.Equal(now) && v.rows != nil {
		return v.rows
	}
	v.board, v.snap, v.built, v.now = st.board, st.snap, v.filter, now
	covers := map[string]int{}
	if st.snap != nil {
		for _, sig := range st.snap.Signals {
			for _, id := range sig.SilencedBy() {
				covers[id]++
			}
		}
	}
	nf, nt := st.nextShift(now)
	byID := map[string]*silenceRow{}
	var ids []string
	if st.board != nil {
		for _, k := range model.SortedKeys(st.board.Silences) {
			s := st.board.Silences[k]
			id := s.ID
			if id == "" {
				id = k
			}
			r := byID[id]
			if r == nil {
				r = &silenceRow{s: s}
				r.s.ID = id
				byID[id] = r
				ids = append(ids, id)
			} else if s.UpdatedAt.After(r.s.UpdatedAt) {
				srcs := r.sources
				r.s = s // the member that saw the latest change
				r.s.ID = id
				r.sources = srcs
			}
			for _, src := range append([]string{s.Source}, s.Also...) {
				if src != "" && !slices.Contains(r.sources, src) {
					r.sources = append(r.sources, src)
				}
			}
		}
	}
	words := strings.Fields(strings.ToLower(v.filter))
	rows := make([]silenceRow, 0, len(ids))
	for _, id := range ids {
		r := byID[id]
		sort.Strings(r.sources)
		r.state = silenceState(&r.s, now)
		r.covers = covers[id]
		r.next = r.state != model.SilenceExpired && !r.s.EndsAt.Before(nf) && r.s.EndsAt.Before(nt)
		r.hay = strings.ToLower(strings.Join(append([]string{r.s.ID, r.s.Matchers, r.s.CreatedBy, r.s.Comment, string(r.state)}, r.sources...), " "))
		if r.next {
			r.hay += " next shift"
		}
		keep := true
		for _, w := range words {
			if !strings.Contains(r.hay, w) {
				keep = false
				break
			}
		}
		if keep {
			rows = append(rows, *r)
		}
	}
	// Ending soonest first; the expired last, the latest to end first.
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := &rows[i], &rows[j]
		ae, be := a.state == model.SilenceExpired, b.state == model.SilenceExpired
		switch {
		case ae != be:
			return be
		case !a.s.EndsAt.Equal(b.s.EndsAt):
			return a.s.EndsAt.Before(b.s.EndsAt) != ae
		}
		return a.s.ID < b.s.ID
	})
	v.rows, v.total = rows, len(ids)
	return rows
}

// selectedSilence is the silence selected in the view, or nil.
func (st *state) selectedSilence() *silenceRow {
	rows := st.silenceRows()
	if i := st.sil.t.selected; i >= 0 && i < len(rows) {
		return &rows[i]
	}
	return nil
}

func (st *state) silMove(d int) { st.sil.t.move(d, len(st.silenceRows())) }

// silencesShown reports whether the view fills the panel area (itself,
// or under one of its forms).
func (st *state) silencesShown() bool {
	return st.mode == modeSilences || st.mode == modeForm && st.formPrev == modeSilences
}

func (st *state) silTyping() bool { return st.mode == modeSilences && st.sil.typing }

// filterLine is the text of the filter line the keys edit: the silences
// view's while it has them, else the panels'.
func (st *state) filterLine() string {
	if st.silTyping() {
		return st.sil.filter
	}
	return st.filterText
}

func (st *state) setSilFilter(q string) {
	if len([]rune(q)) > 200 {
		return
	}
	st.sil.filter = q
	st.sil.t.selected, st.sil.t.offset = 0, 0
}

func (st *state) startSilFilter() { st.sil.typing = true }

func (st *state) silencesDisabled() string {
	if st.actor == nil && st.board == nil {
		return "no action log in this console: silences are not read"
	}
	return ""
}

func (st *state) openSilences() {
	st.mode = modeSilences
	st.sil.typing = false
}

func (st *state) closeSilences() {
	st.mode = modeMain
	st.sil.typing = false
}

func (st *state) silJumpDisabled() string {
	r := st.selectedSilence()
	if r == nil {
		return "no silence selected"
	}
	if _, err := model.ParseMatchers(r.s.Matchers); err != nil {
		return "its matchers are not known"
	}
	return ""
}

// silJump shows the alerts panel filtered by the silence's matchers: the
// open alerts it selects (those it silences while active).
func (st *state) silJump() {
	r := st.selectedSilence()
	ms, _ := model.ParseMatchers(r.s.Matchers)
	terms := make([]string, len(ms))
	for i, m := range ms {
		terms[i] = model.FilterQuote(m.Name) + string(m.Op) + model.FilterQuote(m.Value)
	}
	covers := r.covers
	id := r.s.ID
	st.closeSilences()
	st.focus = PanelAlerts
	st.setFilter(strings.Join(terms, " "))
	st.alertT.selected, st.alertT.offset = 0, 0
	if st.filterErr != nil {
		st.setFlash("the silence's matchers do not make a filter: " + st.filterErr.Msg)
		return
	}
	st.setFlash(fmt.Sprintf("alerts matching silence %s: %s, %d silenced by it now", cellText(shortSilenceID(id)),
		model.Plural(len(st.v.sigs), "alert", "alerts"), covers))
}

// shortSilenceID is a silence id in 8 characters.
func shortSilenceID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// silenceActDisabled is why no silence action can be taken now.
func (st *state) silenceActDisabled() string {
	if st.actor == nil {
		return "no action log in this console"
	}
	if st.selectedSilence() == nil {
		return "no silence selected"
	}
	return ""
}

func (st *state) expireSilenceDisabled() string {
	if why := st.silenceActDisabled(); why != "" {
		return why
	}
	if st.selectedSilence().state == model.SilenceExpired {
		return "the silence has expired already"
	}
	return ""
}

func (st *state) extendSilenceDisabled() string {
	if why := st.silenceActDisabled(); why != "" {
		return why
	}
	if st.selectedSilence().state == model.SilenceExpired {
		return "the silence has expired: make a new one (" + st.keyOf("silence") + " on an alert)"
	}
	return ""
}

// silenceTarget is the request's view of a silence row.
func silenceTarget(r *silenceRow) model.SilenceTarget {
	return model.SilenceTarget{ID: r.s.ID, Sources: append([]string(nil), r.sources...), CreatedBy: r.s.CreatedBy,
		EndsAt: r.s.EndsAt, Matchers: r.s.Matchers}
}

// silenceWho is "change-mgmt: CHG-4711 planned db maintenance".
func silenceWho(s *model.Silence) string {
	who := s.CreatedBy
	if who == "" {
		who = "?"
	}
	if c := strings.TrimSpace(s.Comment); c != "" {
		who += ": " + c
	}
	return who
}

func (st *state) openSilenceForm(f *form, prepare func(f *form) (string, int)) {
	st.sil.form, st.sil.prepare = f, prepare
	st.openForm(f)
}

// formSubmit is Enter on a form: a silence form's fields are read into
// its request first (matchers, durations), then the form goes on as any.
func (st *state) formSubmit() {
	if f := st.form; f != nil && f == st.sil.form && !f.confirm && st.sil.prepare != nil {
		if why, at := st.sil.prepare(f); why != "" {
			f.problem, f.focus = why, at
			return
		}
	}
	st.formEnter()
}

func (st *state) startExpireSilence() {
	r := st.selectedSilence()
	req := model.ActionRequest{Verb: model.VerbExpireSilence, Silence: silenceTarget(r)}
	if st.refused(st.keyIn(ScopeSilences, "expire"), req) {
		return
	}
	f := &form{req: req, title: "Expire silence " + shortSilenceID(r.s.ID), direct: true, send: "expire",
		fields: []formField{{label: "Reason"}}}
	f.summary = []string{
		fmt.Sprintf("Ends silence %s (%s) now on %s.", r.s.ID, silenceWho(&r.s), strings.Join(r.sources, ", ")),
		"Matchers: " + r.s.Matchers,
		fmt.Sprintf("Notifications resume for the %s it covers now.", model.Plural(r.covers, "alert", "alerts")),
		"The reason is optional; it goes to the audit log.",
	}
	if r.covers == 0 {
		f.summary[2] = "It covers no open alert now."
	}
	st.openSilenceForm(f, nil)
}

// defaultExtend is the extension an extend form starts with.
const defaultExtend = "1h"

func (st *state) startExtendSilence() {
	r := st.selectedSilence()
	req := model.ActionRequest{Verb: model.VerbExtendSilence, Silence: silenceTarget(r), Expiry: time.Hour}
	if st.refused(st.keyIn(ScopeSilences, "extend"), req) {
		return
	}
	f := &form{req: req, title: "Extend silence " + shortSilenceID(r.s.ID), direct: true, send: "extend",
		fields: []formField{{label: "Reason"}, {label: "By", value: defaultExtend}}}
	s := r.s
	srcs := strings.Join(r.sources, ", ")
	f.live = func() []string {
		to := "? (" + expiryProblem + ")"
		if d, ok := parseExpiry(f.fields[1].value); ok {
			base := s.EndsAt
			if now := st.now(); base.Before(now) {
				base = now
			}
			to = fmt.Sprintf("%s (+%s)", base.Add(d).In(st.now().Location()).Format("15:04"), spanText(d))
		}
		return []string{
			fmt.Sprintf("Moves the end of silence %s (%s) from %s to %s on %s.", s.ID, silenceWho(&s), s.EndsAt.In(st.now().Location()).Format("15:04"), to, srcs),
			"The Alertmanager may give an active silence a new id for it; the audit log records it.",
		}
	}
	st.openSilenceForm(f, func(f *form) (string, int) {
		d, ok := parseExpiry(f.fields[1].value)
		if !ok {
			return expiryProblem, 1
		}
		f.req.Expiry = d
		return "", 0
	})
}

func (st *state) createSilenceDisabled() string {
	if st.actor == nil {
		return "no action log in this console"
	}
	if st.focus != PanelAlerts {
		return "select an alert (" + st.keyOf("alerts") + ": alerts panel)"
	}
	s := st.selectedSignal()
	if s == nil {
		return "select an alert"
	}
	if ams, _ := st.amsHolding([]string{s.Key}); len(ams) == 0 {
		return "no Alertmanager holds this alert"
	}
	return ""
}

// alertMatchers are a silence's matchers for exactly the alert: one
// equality per label, alertname first.
func alertMatchers(labels model.Labels) string {
	names := labels.Names()
	sort.SliceStable(names, func(i, j int) bool { return names[i] == "alertname" && names[j] != "alertname" })
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, model.FilterQuote(n)+"="+strconv.Quote(labels.Get(n)))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// defaultSilenceFor is the duration a new silence's form starts with.
const defaultSilenceFor = "2h"

// startCreateSilence opens the matcher editor for a new silence on the
// selected alert's labels: the comment, the matchers in Alertmanager's
// syntax (widen them by deleting labels or with a regex) and how long.
// The form counts the open alerts the matchers select as typed.
func (st *state) startCreateSilence() {
	sig := st.selectedSignal()
	ams, _ := st.amsHolding([]string{sig.Key})
	ms := alertMatchers(sig.Labels)
	req := model.ActionRequest{Verb: model.VerbCreateSilence, Service: sig.Service, AlertKeys: []string{sig.Key},
		Comment: "x", Expiry: 2 * time.Hour, Silence: model.SilenceTarget{Sources: ams, Matchers: ms}}
	if st.refused(st.keyOf("silence"), req) {
		return
	}
	req.Comment = ""
	f := &form{req: req, title: "New silence from " + cellText(sig.Name()) + " of " + cellText(sig.Service), direct: true, send: "create the silence",
		fields: []formField{{label: "Comment"}, {label: "Matchers", value: ms}, {label: "Duration", value: defaultSilenceFor}}}
	var lastText string
	var lastLine string
	f.live = func() []string {
		var out []string
		if text := f.fields[1].value; text != lastText || lastLine == "" {
			lastText, lastLine = text, st.matchLine(text)
		}
		out = append(out, lastLine)
		until := "until ? (" + expiryProblem + ")"
		if d, ok := parseExpiry(f.fields[2].value); ok {
			until = fmt.Sprintf("until %s (%s)", st.now().Add(d).Format("15:04"), spanText(d))
		}
		out = append(out, fmt.Sprintf("Created on %s %s, as %s.", strings.Join(ams, ", "), until, st.actor.Operator().User))
		return append(out, `Matchers as Alertmanager reads them: {name="v", name=~"re", name!="v"}; Tab moves between fields.`)
	}
	st.openSilenceForm(f, func(f *form) (string, int) {
		text := strings.TrimSpace(f.fields[1].value)
		if _, err := model.ParseMatchers(text); err != nil {
			return "matchers: " + err.Error(), 1
		}
		d, ok := parseExpiry(f.fields[2].value)
		if !ok {
			return expiryProblem, 2
		}
		f.req.Silence.Matchers, f.req.Expiry = text, d
		return "", 0
	})
	f.focus = 0
}

// matchLine says how many open alerts matchers select, or why they do
// not parse.
func (st *state) matchLine(text string) string {
	ms, err := model.ParseMatchers(strings.TrimSpace(text))
	if err != nil {
		return "Matchers do not parse: " + err.Error()
	}
	n, firing := 0, 0
	if st.snap != nil {
		for _, s := range st.snap.Signals {
			if model.MatchAll(ms, s.Labels) {
				n++
				if s.State == model.StateFiring {
					firing++
				}
			}
		}
	}
	return fmt.Sprintf("Matches %s open now (%d firing).", model.Plural(n, "alert", "alerts"), firing)
}

// keyOf2 is how the key of an action of scope is shown.
func (st *state) keyIn(scope Scope, action string) string {
	for i := range st.bindings {
		if b := &st.bindings[i]; b.Scope == scope && b.Action == action {
			return b.Keys
		}
	}
	return action
}

var silenceCols = []column{
	{title: "STATE", min: 7, max: 7},
	{title: "ENDS", min: 8, max: 12},
	{title: "", min: 4, max: 10, alt: 4}, // the next-shift mark: "next shift", or "next"
	{title: "ALERTS", min: 6, max: 6, right: true},
	{title: "MATCHERS", min: 12, max: 60, text: true, first: 28},
	{title: "BY", min: 6, max: 20, text: true, first: 12},
	{title: "SOURCES", min: 7, max: 24},
	{title: "COMMENT", min: 10, max: 1 << 16, flex: true},
}

// endsText is when a silence ends, from now: "in 1h58m", "5m ago".
func endsText(now time.Time, r *silenceRow) string {
	if r.s.EndsAt.IsZero() {
		return "—"
	}
	if r.state == model.SilenceExpired {
		return compactDuration(now.Sub(r.s.EndsAt)) + " ago"
	}
	return "in " + compactDuration(r.s.EndsAt.Sub(now))
}

func (st *state) silenceCell(now time.Time, r *silenceRow, col int) (string, tcell.Style) {
	th := &st.theme
	switch col {
	case 0:
		switch r.state {
		case model.SilenceActive:
			return "active", th.Base.Bold(true)
		case model.SilencePending:
			return "pending", th.Info
		}
		return "expired", th.Dim
	case 1:
		return endsText(now, r), th.Base
	case 2:
		if r.next {
			return "next shift" + altSep + "next", th.Warn
		}
		return "", th.Base
	case 3:
		return strconv.Itoa(r.covers), th.Base
	case 4:
		// without the braces: the detail under the table has them
		return cellText(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(r.s.Matchers), "{"), "}")), th.Base
	case 5:
		return cellText(r.s.CreatedBy), th.Base
	case 6:
		return listText(r.sources), th.Base
	case 7:
		return cellText(r.s.Comment), th.Base
	}
	return "", th.Base
}

// silencesTitle is "Silences (5) · 3 active · 1 pending · 1 expired ·
// 1 ends next shift", or "Silences 2 of 5 · db" when filtered.
func (st *state) silencesTitle(rows []silenceRow) string {
	var act, pend, exp, next int
	for i := range rows {
		switch rows[i].state {
		case model.SilenceActive:
			act++
		case model.SilencePending:
			pend++
		default:
			exp++
		}
		if rows[i].next {
			next++
		}
	}
	t := fmt.Sprintf("Silences (%d)", len(rows))
	if st.sil.filter != "" {
		t = fmt.Sprintf("Silences %d of %d · %s", len(rows), st.sil.total, cellText(strings.TrimSpace(st.sil.filter)))
	}
	t += fmt.Sprintf(" · %d active", act)
	if pend > 0 {
		t += fmt.Sprintf(" · %d pending", pend)
	}
	if exp > 0 {
		t += fmt.Sprintf(" · %d expired", exp)
	}
	if next > 0 {
		t += fmt.Sprintf(" · ending next shift: %d", next)
	}
	return t
}

// silenceDetailLines is how many rows the selected silence takes under
// the table.
const silenceDetailLines = 4

// drawSilences paints the view in (x, y, w, h): the table, the selected
// silence whole under it, and the filter line.
func (st *state) drawSilences(p *painter, x, y, w, h int) {
	th := &st.theme
	rows := st.silenceRows()
	focused := st.mode == modeSilences
	ix, iy, iw, ih := drawBox(p, th, x, y, w, h, st.silencesTitle(rows), focused)
	if iw <= 0 || ih <= 0 {
		return
	}
	if st.sil.typing || st.sil.filter != "" {
		ih--
		st.drawSilFilter(p, ix, iy+ih, iw)
	}
	if len(rows) == 0 {
		msg, style := "No silences on the Alertmanagers", th.OK
		switch {
		case st.board == nil && st.actor == nil:
			msg, style = "no action log in this console: silences are not read", th.Dim
		case st.board == nil:
			msg, style = "reading the silences…", th.Unknown
		case st.sil.filter != "":
			msg, style = "no silences match the filter", th.Dim
		}
		p.text(ix+1, iy+1, iw-1, msg, style)
		return
	}
	now := st.now()
	detail := 0
	if ih >= silenceDetailLines+4 {
		detail = silenceDetailLines + 1
	}
	nat := make([]int, len(silenceCols))
	for i := range nat {
		nat[i] = len(silenceCols[i].title)
	}
	for i := range rows {
		for c := range silenceCols {
			t, _ := st.silenceCell(now, &rows[i], c)
			nat[c] = max(nat[c], p.width(wholeText(strings.ReplaceAll(t, listSep, ","))))
		}
	}
	if iw < WideWidth-20 && nat[2] > 0 {
		nat[2] = 4 // "next": the matchers need the room more
	}
	st.sil.t.draw(p, th, ix, iy, iw, ih-detail, silenceCols, nat, len(rows),
		func(row, col int) (string, tcell.Style) { return st.silenceCell(now, &rows[row], col) },
		func(row int) bool { return rows[row].state == model.SilenceExpired }, focused && !st.wall)
	if detail == 0 {
		return
	}
	dy := iy + ih - detail
	p.fill(ix, dy, iw, th.Glyphs.H, th.Border)
	r := st.selectedSilence()
	if r == nil {
		return
	}
	field := func(row int, label, text string, style tcell.Style) {
		lx := p.text(ix+1, dy+1+row, 10, label, th.Title)
		p.text(ix+1+max(lx, 10), dy+1+row, iw-11, text, style)
	}
	field(0, "Silence", Inert(r.s.ID)+" on "+inertJoin(r.sources), th.Base)
	field(1, "Matchers", Inert(r.s.Matchers), th.Base)
	when := ""
	if !r.s.StartsAt.IsZero() {
		when = "from " + clockText(now, r.s.StartsAt) + " "
	}
	when += "until " + clockText(now, r.s.EndsAt) + " (" + endsText(now, r) + ")"
	style := th.Base
	if r.next {
		nf, nt := st.nextShift(now)
		loc := now.Location()
		when += " · ends next shift " + nf.In(loc).Format("15:04") + "–" + nt.In(loc).Format("15:04")
		style = th.Warn
	}
	when += fmt.Sprintf(" · covers %s now", model.Plural(r.covers, "alert", "alerts"))
	field(2, "When", when, style)
	field(3, "By", Inert(silenceWho(&r.s)), th.Base)
}

// clockText is a time as the view says it: its weekday and time within
// six days of now, its date too further off.
func clockText(now, t time.Time) string {
	t = t.In(now.Location())
	if d := t.Sub(now); d > 6*24*time.Hour || d < -6*24*time.Hour {
		return t.Format("Mon 02 Jan 15:04")
	}
	return t.Format("Mon 15:04")
}

// drawSilFilter is the view's filter line.
func (st *state) drawSilFilter(p *painter, x, y, w int) {
	th := &st.theme
	lx := p.text(x, y, w, "/", th.KeyHint)
	qw := p.text(x+lx, y, w-lx, cellText(st.sil.filter), th.Base.Bold(true))
	hint := "  (filter kept; / edit)"
	if st.sil.typing {
		hint = "▏ Enter keep · Esc clear"
	}
	p.text(x+lx+qw, y, w-lx-qw, hint, th.Dim)
}
