package ui

import (
	"fmt"
	"time"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
)

// Panel names something the UI draws.
type Panel int

// Panels. PanelOutages, PanelAlerts and PanelDeps are also the focusable panels.
const (
	PanelOutages Panel = iota + 1
	PanelAlerts
	PanelHeader
	PanelDetail
	PanelHelp
	PanelScreen // the whole screen as the app draws it
	// PanelDeps is the affected dependencies of the selected outage:
	// upstream with the probable cause, downstream impacted, who to tell.
	PanelDeps
	// PanelBacklog is the Tier 1/Tier 2 ticket backlog: per-tier summary
	// and the ticket list (backlog.go).
	PanelBacklog
)

type mode int

const (
	modeMain mode = iota
	modeFilter
	modeDetail
	modeHelp
	modeForm    // an action's form or its confirmation
	modePalette // the command palette (palette.go)
	// the silences view (silences.go)
	modeSilences
	// the Stats view (stats_view.go)
	modeStats
)

// Layout thresholds.
const (
	// WideWidth is the width from which outages (with the dependencies of
	// the selected one under them) and alerts are shown side by side.
	WideWidth = 140
	// TallHeight is the height from which a narrower screen shows the
	// outages and the dependencies of the selected one stacked, when
	// either has the focus; below it one panel is shown at a time.
	TallHeight = 34
	// MinWidth and MinHeight are the smallest terminal the UI draws in;
	// below it only a "terminal too small" message is shown.
	MinWidth  = 40
	MinHeight = 10
)

const flashFor = 3 * time.Second

// state is everything the screen shows. It is owned by the UI goroutine:
// every method runs there (inside a key handler or a queued update).
type state struct {
	theme    Theme
	ascii    bool // draw ASCII look-alikes of the UI's glyphs (setASCII)
	now      func() time.Time
	operator string
	version  string
	readOnly bool
	wall     bool // the wall screen (--kiosk): no row is marked selected
	bindings []Binding
	// runbooksDir and runbooksURL locate local runbooks (Options).
	runbooksDir string
	runbooksURL string
	// term is the terminal's name ($TERM): whether links are drawn as
	// OSC 8 hyperlinks (osc8Links).
	term string

	snap       *model.Snapshot
	feedClosed bool
	// filter is the filter the panels show: the last filter line that
	// parsed. filterText is the line as typed and filterErr what is wrong
	// with it (nil when it parses).
	filter     filterSpec
	filterText string
	filterErr  *model.FilterError
	v          *view
	// recent are the views of the current snapshot built while the
	// operator typed a filter, so Backspace finds the wider view ready
	// instead of filtering every signal again.
	recent []*view

	focus  Panel
	outT   vtable
	alertT vtable
	depT   vtable
	tkT    vtable       // the backlog's ticket table
	tkSort ticketSort   // the backlog's order
	bl     backlogCache // the backlog's sorted tickets
	flat   bool         // outages flat instead of symptoms nested under causes
	deps   depsCache
	// scr is the screen of the last frame, for OSC 52 (tcell writes the
	// sequence itself, under its own lock); nil before the first frame.
	scr      tcell.Screen
	mode     mode
	prevMode mode      // what closing help returns to
	prevDoc  *document // and the document it showed
	doc      *document
	helpDoc  *document
	detailOf string // signal key of the detail view

	flash      string
	flashUntil time.Time // wall clock, not the data clock

	onQuit    func()
	onRefresh func() // nil when there is no feed

	// actor carries out actions (nil without an action log); board is the
	// shared action state it last published; onAct hands a request to a
	// worker (set by the App).
	actor Actor
	board *model.Board
	// ackMemo answers "is it acknowledged?" for snap and board (acks).
	ackMemo ackMemo
	onAct   func(req model.ActionRequest, quiet bool)
	// onHandoff asks a worker for the handoff report (nil without history).
	onHandoff func()
	// stats is the Stats view; onStats asks a worker for its figures
	// (nil without a StatsSource).
	stats    statsView
	onStats  func(q StatsRequest)
	form     *form
	formPrev mode
	// views are the named views the palette offers; pal is the open
	// palette (modePalette).
	views []model.View
	pal   *palette
	// lastClock is the clock text of the last frame, for the ticker.
	lastClock string
	wide      bool

	// sil is the silences view (silences.go); shifts the shift schedule
	// it marks the silences ending next shift by.
	sil    silencesView
	shifts model.ShiftSchedule

	// onRunbookRev asks a worker for the revision of the runbook file
	// shown in d (nil when nothing reads revisions).
	onRunbookRev func(d *document, path string)
	// onRunbookLoad asks a worker to read and lay out the runbook file
	// shown in d (nil: it is done at once, on the calling goroutine).
	onRunbookLoad func(d *document, path string, trusted bool)
	// onAlertDetail asks a worker for the full annotations of the alert
	// whose detail opens (nil: the snapshot's are shown); detailAnn is
	// its answer, for one alert at a time.
	onAlertDetail func(key string, sources []string)
	detailAnn     detailAnnotations
}

func newState(opts Options, noColor bool) *state {
	th, err := NewTheme(opts.Theme, noColor)
	if err != nil {
		th = DefaultTheme(noColor)
	}
	bindings, keysErr := bindingsFor(opts.ReadOnly, opts.Keys)
	st := &state{
		theme:    th,
		now:      opts.Now,
		operator: opts.Operator,
		version:  opts.Version,
		readOnly: opts.ReadOnly,
		bindings: bindings,
		views:    opts.Views,

		runbooksDir: opts.RunbooksDir,
		runbooksURL: opts.RunbooksURL,
		term:        opts.Term,
		focus:       PanelOutages,
		shifts:      opts.Shifts,
	}
	if st.now == nil {
		st.now = time.Now
	}
	st.v = buildView(nil, st.filter, false, nil, nil)
	if keysErr != nil {
		st.setFlash(keysErr.Error())
	}
	return st
}

// setSnapshot swaps in a new snapshot, keeping the selections on the same
// outage and alert.
func (st *state) setSnapshot(s *model.Snapshot) {
	keepOut, keepSig := st.selectedOutageService(), st.selectedSignalKey()
	st.snap = s
	st.rebuild(keepOut, keepSig)
	if st.mode == modeDetail || st.prevMode == modeDetail && st.mode == modeHelp {
		st.refreshDetail()
	}
}

func (st *state) rebuild(keepOut, keepSig string) {
	st.v = st.viewFor(st.snap, st.filter, st.flat)
	if keepOut != "" {
		if i := st.v.outageIndex(keepOut); i >= 0 {
			st.outT.selected = i
		}
	}
	if keepSig != "" {
		if i := st.v.signalIndex(keepSig); i >= 0 {
			st.alertT.selected = i
		}
	}
	st.outT.clamp(len(st.v.outs))
	st.alertT.clamp(len(st.v.sigs))
}

func (st *state) selectedOutageService() string {
	if o := st.selectedOutage(); o != nil {
		return o.Service
	}
	return ""
}

func (st *state) selectedSignalKey() string {
	if s := st.selectedSignal(); s != nil {
		return s.Key
	}
	return ""
}

func (st *state) selectedOutage() *model.Outage {
	if i := st.outT.selected; i >= 0 && i < len(st.v.outs) {
		return st.v.outs[i]
	}
	return nil
}

func (st *state) selectedSignal() *model.Signal {
	if i := st.alertT.selected; i >= 0 && i < len(st.v.sigs) {
		return st.v.sigs[i]
	}
	return nil
}

func (st *state) table() *vtable {
	switch st.focus {
	case PanelAlerts:
		return &st.alertT
	case PanelDeps:
		return &st.depT
	case PanelBacklog:
		return &st.tkT
	}
	return &st.outT
}

func (st *state) rows() int {
	switch st.focus {
	case PanelAlerts:
		return len(st.v.sigs)
	case PanelDeps:
		return len(st.depRows())
	case PanelBacklog:
		list, _ := st.backlog()
		return len(list)
	}
	return len(st.v.outs)
}

func (st *state) moveSel(d int) { st.table().move(d, st.rows()) }

// focusOrder is the order Tab walks the panels in.
var focusOrder = []Panel{PanelOutages, PanelAlerts, PanelDeps, PanelBacklog}

func (st *state) cycleFocus(d int) {
	i := 0
	for k, p := range focusOrder {
		if p == st.focus {
			i = k
		}
	}
	st.focus = focusOrder[(i+d+len(focusOrder))%len(focusOrder)]
}

// setFlash shows msg on the status line for a while.
func (st *state) setFlash(msg string) {
	st.flash = msg
	st.flashUntil = time.Now().Add(flashFor)
}

// expireFlash clears a flash whose time is up; it reports whether it did.
func (st *state) expireFlash(wall time.Time) bool {
	if st.flash != "" && !wall.Before(st.flashUntil) {
		st.flash = ""
		return true
	}
	return false
}

// scope is where keys apply in the current mode.
func (st *state) scope() Scope {
	switch st.mode {
	case modeFilter:
		return ScopeFilter
	case modeDetail:
		return ScopeDetail
	case modeHelp:
		return ScopeHelp
	case modeForm:
		return ScopeForm
	case modePalette:
		return ScopePalette
	case modeSilences:
		if st.sil.typing {
			return ScopeFilter
		}
		return ScopeSilences
	case modeStats:
		return ScopeStats
	}
	return ScopeMain
}

// handleKey dispatches one key through the binding table.
func (st *state) handleKey(ev *tcell.EventKey) {
	scope := st.scope()
	for i := range st.bindings {
		b := &st.bindings[i]
		if b.Scope != scope || !b.matches(ev) {
			continue
		}
		st.runBinding(b)
		return
	}
	if scope == ScopeFilter && ev.Key() == tcell.KeyRune {
		st.setFilter(st.filterLine() + string(ev.Rune()))
	}
	if scope == ScopeForm && ev.Key() == tcell.KeyRune {
		st.formType(ev.Rune())
	}
	if scope == ScopePalette && ev.Key() == tcell.KeyRune {
		st.paletteSetQuery(st.pal.query + string(ev.Rune()))
	}
}

// runBinding runs b, or flashes why it cannot act now.
func (st *state) runBinding(b *Binding) {
	if b.disabled != nil {
		if why := b.disabled(st); why != "" {
			st.setFlash(b.Keys + ": " + why)
			return
		}
	}
	b.run(st)
}

// jumpFrom returns the first row after from (wrapping, from itself
// last) for which ok holds, or -1; and which of the rows that hold it is
// (1-based) and how many there are.
func jumpFrom(from, rows int, ok func(i int) bool) (at, nth, total int) {
	at = -1
	for i := 0; i < rows; i++ {
		if ok(i) {
			total++
		}
	}
	for d := 1; d <= rows && total > 0; d++ {
		if i := (from + d) % rows; ok(i) {
			at = i
			break
		}
	}
	for i := 0; i <= at; i++ {
		if ok(i) {
			nth++
		}
	}
	return at, nth, total
}

func (st *state) nextUnackedDisabled() string {
	if st.actor == nil && st.board == nil {
		return "no action log in this console: acks are not known"
	}
	return ""
}

// nextUnacked selects the next outage not acknowledged (model.Acknowledge:
// a sitroom ack or upstream silences must cover every one of its alerts;
// an ack that ended upstream no longer counts), or on the alerts panel the
// next firing alert nobody acknowledged.
func (st *state) nextUnacked() {
	what := "outage"
	if st.focus == PanelAlerts {
		what = "firing alert"
		sigs := st.v.sigs
		i, nth, total := jumpFrom(st.alertT.selected, len(sigs), func(i int) bool {
			s := sigs[i]
			return s.State == model.StateFiring && !st.acks().Signal(s)
		})
		if i >= 0 {
			st.alertT.selected = i
			st.setFlash(fmt.Sprintf("unacked firing alert %d of %d", nth, total))
			return
		}
	} else {
		st.focus = PanelOutages
		outs := st.v.outs
		i, nth, total := jumpFrom(st.outT.selected, len(outs), func(i int) bool {
			return !st.acks().Outage(outs[i]).Acked
		})
		if i >= 0 {
			st.outT.selected = i
			st.setFlash(fmt.Sprintf("unacked outage %d of %d", nth, total))
			return
		}
	}
	msg := "no unacked " + what
	if st.filter.active() {
		msg += " matches the filter"
	}
	st.setFlash(msg)
}

func (st *state) nextBreachDisabled() string {
	if st.snap == nil {
		return "no data yet"
	}
	if !st.snap.Backlog.Known {
		return "no ticket source configured"
	}
	return ""
}

// nextBreach shows the backlog and selects the next ticket whose SLA is
// breached, or when none is, the next breaching within
// model.BreachingSoon.
func (st *state) nextBreach() {
	st.focus = PanelBacklog
	list, _ := st.backlog()
	now := st.now()
	breached := func(i int) bool { return list[i].Ticket.SLA.BreachedAt(now) }
	soon := func(i int) bool {
		left, ok := list[i].Ticket.SLA.Left(now)
		return ok && !breached(i) && left <= model.BreachingSoon
	}
	soonText := compactDuration(model.BreachingSoon)
	what := "SLA breached"
	i, nth, total := jumpFrom(st.tkT.selected, len(list), breached)
	if i < 0 {
		what = "no SLA breached; breaching within " + soonText
		i, nth, total = jumpFrom(st.tkT.selected, len(list), soon)
	}
	if i < 0 {
		msg := "no ticket breaching its SLA, nor within " + soonText
		if st.filter.active() {
			msg += " among those the filter keeps"
		}
		st.setFlash(msg)
		return
	}
	st.setFlash(fmt.Sprintf("%s: ticket %d of %d", what, nth, total))
	st.tkT.selected = i
}

// Handlers.

func (st *state) openHelp() {
	if st.mode != modeHelp {
		st.prevMode, st.prevDoc = st.mode, st.doc
	}
	st.mode = modeHelp
	st.helpDoc = st.buildHelp()
	st.doc = st.helpDoc
}

func (st *state) closeDoc() {
	if st.mode == modeDetail && st.doc != nil && st.doc.back != nil {
		d := st.doc
		st.mode, st.doc, st.detailOf = d.backMode, d.back, d.backOf
		st.refreshDetail()
		return
	}
	if st.mode == modeHelp && st.prevMode == modeDetail {
		st.mode, st.doc = modeDetail, st.prevDoc
		st.refreshDetail()
		return
	}
	if st.mode == modeHelp && st.prevMode == modeSilences {
		st.mode, st.doc = modeSilences, nil
		return
	}
	if st.mode == modeHelp && st.prevMode == modeStats {
		st.mode, st.doc = modeStats, nil
		return
	}
	st.mode = modeMain
	st.doc = nil
	st.detailOf = ""
	st.detailAnn = detailAnnotations{} // read again when it opens again
}

func (st *state) startFilter() { st.mode = modeFilter }

func (st *state) keepFilter() {
	if st.silTyping() {
		st.sil.typing = false
		return
	}
	st.mode = modeMain
}

func (st *state) clearFilter() {
	if st.silTyping() {
		st.sil.typing = false
		st.setSilFilter("")
		return
	}
	st.mode = modeMain
	if st.filter.active() || st.filterText != "" {
		st.setFilter("")
	}
}

func (st *state) filterBackspace() {
	r := []rune(st.filterLine())
	if len(r) > 0 {
		st.setFilter(string(r[:len(r)-1]))
	}
}

// setFilter sets the filter line. A line that does not parse keeps the
// last filter that did (and its rows) and records the error for the
// filter line to show.
func (st *state) setFilter(q string) {
	if st.silTyping() {
		st.setSilFilter(q)
		return
	}
	st.filterText = q
	f, err := parseFilter(q)
	if err != nil {
		st.filterErr, _ = err.(*model.FilterError)
		if st.filterErr == nil {
			st.filterErr = &model.FilterError{Pos: 1, Msg: err.Error()}
		}
		return
	}
	st.filterErr = nil
	keepOut, keepSig := st.selectedOutageService(), st.selectedSignalKey()
	st.filter = f
	st.rebuild(keepOut, keepSig)
}

// keepFilterDisabled refuses to close the filter line on an error.
func (st *state) keepFilterDisabled() string {
	if st.silTyping() {
		return ""
	}
	if e := st.filterErr; e != nil {
		return fmt.Sprintf("the filter does not parse at %d: %s", e.Pos, e.Msg)
	}
	return ""
}

func (st *state) enterDisabled() string {
	if st.focus == PanelDeps {
		if r := st.selectedDepRow(); r == nil || r.service == "" {
			return "select a service row"
		}
		return ""
	}
	if st.rows() == 0 {
		return "nothing selected"
	}
	if st.focus == PanelBacklog && st.selectedTicket() == nil {
		return "select a ticket"
	}
	return ""
}

func (st *state) enter() {
	if st.focus == PanelDeps {
		st.enterDep()
		return
	}
	if st.focus == PanelBacklog {
		st.enterTicket()
		return
	}
	if st.focus == PanelOutages {
		if o := st.selectedOutage(); o != nil {
			st.focus = PanelAlerts
			st.alertT.selected = 0
			st.setFilter("service=" + model.FilterQuote(o.Service))
			st.alertT.selected, st.alertT.offset = 0, 0
		}
		return
	}
	if s := st.selectedSignal(); s != nil {
		st.detailOf = s.Key
		st.mode = modeDetail
		st.doc = st.buildDetail(s, false)
	}
}

// refreshDetail points the open detail view at the signal with the same
// key in the current snapshot, or marks it gone.
func (st *state) refreshDetail() {
	if st.detailOf == "" {
		return
	}
	off := 0
	if st.doc != nil {
		off = st.doc.offset
	}
	if s := st.v.signalByKey(st.detailOf); s != nil {
		st.doc = st.buildDetail(s, false)
	} else if st.doc != nil && st.doc.sig != nil {
		st.doc = st.buildDetail(st.doc.sig, true)
	}
	if st.doc != nil && st.mode == modeDetail {
		st.doc.offset = off
	}
}

func (st *state) refreshDisabled() string {
	if st.onRefresh == nil {
		return "no feed to refresh"
	}
	return ""
}

func (st *state) refresh() {
	st.onRefresh()
	st.setFlash("refreshing…")
}

func (st *state) quit() {
	if st.onQuit != nil {
		st.onQuit()
	}
}

func (st *state) scrollDoc(d int) {
	if st.doc != nil {
		st.doc.scroll(d)
	}
}

func (st *state) docPage() int {
	if st.doc == nil {
		return 1
	}
	return max(st.doc.page-1, 1)
}

// viewFor returns the view of snap under f, reusing one built moments ago
// for the same snapshot and filter, or narrowing the current one.
func (st *state) viewFor(snap *model.Snapshot, f filterSpec, flat bool) *view {
	keep := st.recent[:0]
	for _, v := range st.recent {
		if v.snap == snap {
			keep = append(keep, v)
		}
	}
	st.recent = keep
	for _, v := range st.recent {
		if v.filter.same(f) && v.flat == flat && (v.board == st.board || !f.f.UsesAcks()) {
			return v
		}
	}
	v := buildView(snap, f, flat, st.v, st.board)
	if len(st.recent) >= 16 {
		st.recent = append(st.recent[:0], st.recent[1:]...)
	}
	st.recent = append(st.recent, v)
	return v
}
