// Package ui is sitroom's terminal interface: the header with counts and
// source chips, the outages and alerts panels, the alert detail view, the
// help page and the footer, all driven by one key-binding table.
//
// Every string that comes from an upstream is drawn literally, cell by
// cell, after Inert has neutralised it; tview's style-tag parser never sees
// untrusted text (tview.Escape does not cover URL tags such as
// "[:::http://x]", which would become terminal hyperlinks).
//
// Goroutines: Run owns the UI goroutine (tview's event loop). One goroutine
// reads Feed.Snapshots and swaps each snapshot in with one QueueUpdateDraw;
// one ticker goroutine redraws only when the clock text shown would change
// or a flash message expires. Handlers never call QueueUpdate or Draw.
package ui

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"sitroom/model"
)

// Feed is what the UI consumes; main wires a poller to it.
type Feed interface {
	// Snapshots delivers snapshots, latest wins (a capacity-1 channel). It
	// is closed when the feed stops.
	Snapshots() <-chan *model.Snapshot
	// Refresh asks for a poll now. It must not block.
	Refresh()
}

// Options configure an App.
type Options struct {
	Feed     Feed
	Operator string           // OS user shown in the header
	Now      func() time.Time // the clock; default time.Now
	ReadOnly bool             // strips dangerous bindings; shows a READ-ONLY badge
	Version  string
	Logger   *slog.Logger // never prints to the screen
	// NoColor draws without colour. New also sets it when the NO_COLOR
	// environment variable is non-empty.
	NoColor bool
	// Theme is dark (default), light or colorblind (see ThemeNames); an
	// unknown name draws the dark theme.
	Theme string
	// Term is the terminal's name ($TERM). With ASCII, or when Term names
	// a terminal without line drawing (vt100, vt220, dumb) or the screen
	// cannot display it, borders and glyphs are drawn in ASCII (+ - |).
	Term  string
	ASCII bool
	// Tick is how often the clock is checked; default one second. A frame
	// is drawn only when the clock text shown would change.
	Tick time.Duration
	// Actor carries out acks, un-acks, escalations and notes and feeds
	// the shared action state; nil for a console without an action log
	// (the action keys then say so).
	Actor Actor
	// Handoff builds the shift handoff report `h` opens; nil: h says so.
	Handoff HandoffSource
	// Stats reads the figures of the Stats view (`T`); nil: T says so.
	Stats StatsSource
	// AlertDetail reads an alert's full annotations for its detail view,
	// off the UI goroutine; nil: the detail shows the snapshot's.
	AlertDetail AlertDetailer
	// RunbooksDir is the local runbooks checkout (config runbooks_dir,
	// absolute); RunbooksURL the web address it is published under
	// (runbooks_url). `o` opens a runbook inside it; "" for none.
	RunbooksDir string
	RunbooksURL string
	// RunbookRevision reads a local runbook's last commit and whether it
	// is modified locally, for the top of its page; nil: no revision shown.
	RunbookRevision RunbookRevisionFunc
	// Keys remaps actions to keys: action name → canonical key names
	// (model.KeyDef; the config's keys). A remap with a problem is not
	// applied and the screen says why.
	Keys map[string][]string
	// Views are the named views the command palette (:) offers.
	Views []model.View
	// Shifts is the shift schedule (config shifts): the silences view
	// marks the silences that end during the next shift. The zero value
	// is the default schedule in UTC.
	Shifts model.ShiftSchedule
	// Kiosk draws the wall screen (kiosk.go): large counters, the clock,
	// every source chip, and the panels in turn, each for KioskRotate
	// (default KioskRotateDefault). It implies ReadOnly; q and Ctrl-C
	// quit, Tab and 1–4 change the panel, no other key or mouse event acts.
	Kiosk       bool
	KioskRotate time.Duration
	// KioskStats puts the Stats view (the last 7 days, read from Stats)
	// in the wall screen's rotation, after the panels.
	KioskStats bool
	// Mouse turns on the mouse (mouse.go): click a tab or panel to focus
	// it, a row to select it, the selected row again (or a double click)
	// to open it; the wheel scrolls. Off by default; never needed.
	Mouse bool
}

// WithConsole returns o with what the config says of the console: its
// theme (unless o names one: --theme wins), remapped keys, named views and
// runbooks.
func (o Options) WithConsole(c model.ConsoleSettings) Options {
	if o.Theme == "" {
		o.Theme = c.Theme
	}
	o.Keys, o.Views = c.Keys, c.Views
	o.RunbooksDir, o.RunbooksURL = c.RunbooksDir, c.RunbooksURL
	return o
}

// App is the running dashboard.
type App struct {
	opts Options
	app  *tview.Application
	st   *state // owned by the UI goroutine
	log  *slog.Logger

	mu      sync.Mutex
	running bool
	stopped bool
	quit    chan struct{}
	started chan struct{} // closed after the first frame
	ran     chan struct{} // closed when Run returns
	startMu sync.Once
	wg      sync.WaitGroup

	busyMu sync.Mutex
	busy   int
	idle   chan struct{} // closed while busy == 0

	draws     atomic.Int64
	lastClock atomic.Pointer[string]
	flashAt   atomic.Int64 // wall-clock UnixNano when the flash expires, 0 if none

	injected  atomic.Int64 // keys queued by InjectKey not yet seen
	toSettle  int          // injected keys handled, settled after the next frame (UI goroutine)
	lastSnapP *model.Snapshot

	kiosk         *kiosk       // the wall screen, nil for the console (UI goroutine)
	rotateAt      atomic.Int64 // the clock's UnixNano when the wall screen shows its next panel, 0 if none
	mouse         mouseTracker // turns mouse actions into the UI's own (UI goroutine)
	injectedMouse atomic.Int64 // mouse events queued by InjectMouse not yet seen

	screenSet    bool // SetScreen was called (before Run)
	asciiChecked bool // the screen was asked once whether it draws lines (UI goroutine)
}

// New builds an App. It does not touch the terminal until Run.
func New(opts Options) *App {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Tick <= 0 {
		opts.Tick = time.Second
	}
	if os.Getenv("NO_COLOR") != "" {
		opts.NoColor = true
	}
	if opts.Kiosk {
		opts.ReadOnly = true
		opts.Mouse = false
	}
	lg := opts.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	a := &App{
		opts:    opts,
		app:     tview.NewApplication(),
		log:     lg,
		quit:    make(chan struct{}),
		started: make(chan struct{}),
		ran:     make(chan struct{}),
		busy:    1, // until the first frame
		idle:    make(chan struct{}),
	}
	a.st = newState(opts, opts.NoColor)
	if opts.Kiosk {
		a.kiosk = newKiosk(opts.KioskRotate, opts.KioskStats && opts.Stats != nil)
		a.st.wall = true
	}
	a.st.onQuit = a.Stop
	if opts.Actor != nil {
		a.st.actor = opts.Actor
		a.st.onAct = a.runAction
		op := opts.Actor.Operator()
		if a.st.operator == "" {
			a.st.operator = op.User
		}
		a.st.operator += " · " + op.Role.String()
	}
	if opts.Handoff != nil {
		a.st.onHandoff = a.runHandoff
	}
	if opts.Stats != nil {
		a.st.onStats = a.runStats
	}
	if opts.RunbookRevision != nil {
		a.st.onRunbookRev = a.runRunbookRevision
	}
	if opts.AlertDetail != nil {
		a.st.onAlertDetail = a.runAlertDetail
	}
	a.st.onRunbookLoad = a.runRunbookLoad
	if opts.Feed != nil {
		a.st.onRefresh = opts.Feed.Refresh
	}
	// The root is an empty Flex for its Box that does not fill itself:
	// tview clears the screen before every frame, and a Box would then
	// paint every cell again with tview's default background (black,
	// which showed between the painted cells on a light terminal) at the
	// cost of one allocation per cell and frame.
	root := tview.NewFlex()
	root.SetDrawFunc(func(s tcell.Screen, x, y, w, h int) (int, int, int, int) {
		a.st.scr = s
		if !a.asciiChecked {
			a.asciiChecked = true
			if a.opts.ASCII || asciiTerminal(s, a.opts.Term) {
				a.st.setASCII()
			}
		}
		if a.kiosk != nil {
			a.kiosk.draw(a.st, s)
			a.rotateAt.Store(a.kiosk.next.UnixNano())
		} else {
			a.st.draw(s)
		}
		c := a.st.lastClock
		a.lastClock.Store(&c)
		if a.st.flash != "" {
			a.flashAt.Store(a.st.flashUntil.UnixNano())
		} else {
			a.flashAt.Store(0)
		}
		return x, y, w, h
	})
	a.app.SetRoot(root, true)
	a.app.SetInputCapture(func(ev *tcell.EventKey) *tcell.EventKey {
		if a.injected.Load() > 0 {
			a.injected.Add(-1)
			a.toSettle++
		}
		if a.kiosk != nil {
			a.kiosk.handleKey(a.st, ev)
		} else {
			a.st.handleKey(ev)
		}
		return nil // every key is ours; tview's Ctrl-C stop is replaced by the binding
	})
	a.app.EnableMouse(opts.Mouse)
	// tview turns each mouse event into actions (move, down, up, click,
	// double click, wheel) and hands them to the root; they are all ours.
	// A frame follows a button or wheel action, none a bare move.
	root.SetMouseCapture(func(action tview.MouseAction, ev *tcell.EventMouse) (tview.MouseAction, *tcell.EventMouse) {
		if ev != a.mouse.lastEvent {
			a.mouse.lastEvent = ev
			if a.injectedMouse.Load() > 0 {
				a.injectedMouse.Add(-1)
				a.toSettle++
			}
		}
		if action == tview.MouseMove {
			return action, nil
		}
		if a.opts.Mouse && a.kiosk == nil && a.st.scr != nil {
			a.mouse.handle(a.st, ev, action)
		}
		return tview.MouseConsumed, nil
	})
	a.app.SetAfterDrawFunc(func(tcell.Screen) {
		a.draws.Add(1)
		a.startMu.Do(func() {
			close(a.started)
			a.endBusy()
		})
		for ; a.toSettle > 0; a.toSettle-- {
			a.endBusy()
		}
	})
	return a
}

// SetScreen makes the App draw on s (tests pass a tcell.SimulationScreen).
// It initialises s; set a simulation screen's size after this call. Only
// the cells a frame changes are written to s.
func (a *App) SetScreen(s tcell.Screen) {
	a.screenSet = true
	a.app.SetScreen(newFrameScreen(s))
}

// Run draws the dashboard and blocks until Stop (or the quit key); it
// finalises the screen before returning. Call it once.
func (a *App) Run() error {
	if !a.screenSet {
		s, err := tcell.NewScreen()
		if err != nil {
			a.log.Error("terminal UI", "err", err)
			return err
		}
		a.SetScreen(s)
	}
	a.mu.Lock()
	if a.stopped {
		a.mu.Unlock()
		return nil
	}
	a.running = true
	a.wg.Add(3)
	a.mu.Unlock()
	defer close(a.ran)
	go a.feedLoop()
	go a.tickLoop()
	go a.boardLoop()
	err := a.app.Run()
	a.mu.Lock()
	if !a.stopped { // the screen failed: stop the helpers without waiting on them
		a.stopped = true
		close(a.quit)
	}
	a.mu.Unlock()
	if err != nil {
		a.log.Error("terminal UI stopped", "err", err)
	}
	return err
}

// Stop ends Run: it stops the feed and clock goroutines, waits for them,
// then finalises the screen. It does not block and may be called from any
// goroutine, including key handlers, any number of times.
func (a *App) Stop() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopped {
		return
	}
	a.stopped = true
	close(a.quit)
	if !a.running {
		return
	}
	go func() {
		a.wg.Wait()
		select {
		case <-a.started:
			a.app.Stop()
		case <-a.ran:
		}
	}()
}

// Done is closed when Run has returned.
func (a *App) Done() <-chan struct{} { return a.ran }

// feedLoop swaps each new snapshot in with one QueueUpdateDraw.
func (a *App) feedLoop() {
	defer a.wg.Done()
	if a.opts.Feed == nil {
		<-a.quit
		return
	}
	ch := a.opts.Feed.Snapshots()
	for {
		select {
		case <-a.quit:
			return
		case snap, ok := <-ch:
			if !ok {
				a.beginBusy()
				a.app.QueueUpdateDraw(func() { a.st.feedClosed = true })
				a.endBusy()
				<-a.quit
				return
			}
			if snap == nil || snap == a.lastSnapP {
				continue // nothing changed: no frame
			}
			a.lastSnapP = snap
			a.beginBusy()
			a.app.QueueUpdateDraw(func() { a.st.setSnapshot(snap) })
			a.endBusy()
		}
	}
}

// tickLoop redraws when the clock text would change, a flash expires or
// the wall screen's next panel is due.
func (a *App) tickLoop() {
	defer a.wg.Done()
	t := time.NewTicker(a.opts.Tick)
	defer t.Stop()
	for {
		select {
		case <-a.quit:
			return
		case <-t.C:
		}
		a.tick()
	}
}

// tick queues a frame when one is due. It allocates nothing that outlives
// the frame, so a wall screen can tick for weeks.
func (a *App) tick() {
	now := a.opts.Now()
	clock := now.Format("15:04:05")
	last := a.lastClock.Load()
	flashDue := false
	if at := a.flashAt.Load(); at != 0 && time.Now().UnixNano() >= at {
		flashDue = true
	}
	rotateDue := false
	if at := a.rotateAt.Load(); at != 0 && now.UnixNano() >= at {
		rotateDue = true
	}
	if last != nil && *last == clock && !flashDue && !rotateDue {
		return
	}
	a.app.QueueUpdateDraw(func() { a.st.expireFlash(time.Now()) })
}

// Tick does now what the ticker does every Options.Tick: a frame when the
// clock text shown would change, a flash expired or the wall screen's
// next panel is due. Tests drive Options.Now with it.
func (a *App) Tick() {
	a.beginBusy()
	a.tick()
	a.endBusy()
}

func (a *App) beginBusy() {
	a.busyMu.Lock()
	if a.busy == 0 {
		a.idle = make(chan struct{})
	}
	a.busy++
	a.busyMu.Unlock()
}

func (a *App) endBusy() {
	a.busyMu.Lock()
	a.busy--
	if a.busy == 0 {
		close(a.idle)
	}
	a.busyMu.Unlock()
}

// Busy reports whether work is in flight: the first frame not yet drawn, a
// snapshot being swapped in, or an injected key not yet handled and drawn.
func (a *App) Busy() bool {
	a.busyMu.Lock()
	defer a.busyMu.Unlock()
	return a.busy > 0
}

// WaitIdle blocks until the App is not busy or ctx ends.
func (a *App) WaitIdle(ctx context.Context) error {
	for {
		a.busyMu.Lock()
		idle, busy := a.idle, a.busy
		a.busyMu.Unlock()
		if busy == 0 {
			return nil
		}
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// InjectMouse queues a mouse event at cell (x, y) with buttons held (0 for
// none: a release), as the terminal sends them; the App counts as busy
// until it has been handled and the frame after it drawn. Call it after
// Run started.
func (a *App) InjectMouse(x, y int, buttons tcell.ButtonMask) {
	a.beginBusy()
	a.injectedMouse.Add(1)
	a.app.QueueEvent(tcell.NewEventMouse(x, y, buttons, tcell.ModNone))
}

// InjectKey queues a key as if typed. The App counts as busy until the key
// has been handled and the frame after it drawn. Call it after Run started.
func (a *App) InjectKey(ev *tcell.EventKey) {
	a.beginBusy()
	a.injected.Add(1)
	a.app.QueueEvent(ev)
}

// Inspect runs f on the UI goroutine between frames and waits for it: a
// test reads the screen there. Never call it from the UI goroutine.
func (a *App) Inspect(f func()) { a.app.QueueUpdate(f) }

// Redraw queues a full frame, as on a terminal resize.
func (a *App) Redraw() {
	a.beginBusy()
	a.app.QueueUpdateDraw(func() {})
	a.endBusy()
}

// Draws counts the frames drawn so far.
func (a *App) Draws() int64 { return a.draws.Load() }

// DrawOptions select what DrawPanel shows.
type DrawOptions struct {
	Now      time.Time
	Operator string
	ReadOnly bool
	Version  string
	NoColor  bool
	Theme    string // see ThemeNames; "" is dark
	ASCII    bool   // draw as on a terminal without line drawing
	Focus    Panel  // PanelOutages (default), PanelAlerts or PanelDeps
	Flat     bool   // outages as one flat list instead of nested under causes
	Filter   string // as typed after `/`
	Select   string // signal key (or outage service) to select
	Detail   string // for PanelDetail: the signal key (default: the selected signal)
	// TicketSort is the backlog's order: 0 SLA left, 1 age, 2 priority.
	TicketSort int
	// From, for PanelDetail and PanelHelp, scrolls the page so that the
	// first screen line holding this text is at the top, as a reader
	// scrolling down to it would see it.
	From string
	// Board is the shared action state drawn over snap (acks,
	// escalations, the team store's chip); nil draws none.
	Board *model.Board
}

// DrawPanel draws one panel, or the whole screen, for snap onto s filling
// its current size, with the same code the App draws with, and shows it.
func DrawPanel(s tcell.Screen, which Panel, snap *model.Snapshot, o DrawOptions) {
	now := o.Now
	st := newState(Options{Operator: o.Operator, ReadOnly: o.ReadOnly, Version: o.Version, Theme: o.Theme, Now: func() time.Time { return now }}, o.NoColor)
	st.onRefresh = func() {}
	st.tkSort = ticketSort(o.TicketSort) % numTicketSorts
	if o.Focus == PanelAlerts || o.Focus == PanelDeps || o.Focus == PanelBacklog {
		st.focus = o.Focus
	}
	st.flat = o.Flat
	st.setSnapshot(snap)
	if o.Board != nil {
		st.setBoard(o.Board)
	}
	if o.Filter != "" {
		st.setFilter(o.Filter)
	}
	if o.Select != "" {
		if i := st.v.signalIndex(o.Select); i >= 0 {
			st.alertT.selected = i
		}
		if i := st.v.outageIndex(o.Select); i >= 0 {
			st.outT.selected = i
		}
	}
	s.Clear()
	w, h := s.Size()
	if o.ASCII {
		st.setASCII()
	}
	p := newPainter(s)
	p.ascii = st.ascii
	switch which {
	case PanelHeader:
		st.drawHeader(p, 0, w)
	case PanelOutages, PanelAlerts:
		st.focus = which
		st.drawPanel(p, which, 0, 0, w, h)
	case PanelDeps:
		st.focus = which
		st.drawDeps(p, 0, 0, w, h)
	case PanelBacklog:
		st.focus = which
		st.drawBacklog(p, 0, 0, w, h)
	case PanelDetail:
		key := o.Detail
		if key == "" {
			key = st.selectedSignalKey()
		}
		if sig := st.v.signalByKey(key); sig != nil {
			st.detailOf, st.mode = key, modeDetail
			st.doc = st.buildDetail(sig, false)
		}
		st.drawDocFrom(p, s, o.From, w, h)
	case PanelHelp:
		st.openHelp()
		st.drawDocFrom(p, s, o.From, w, h)
	default:
		st.draw(s)
	}
	s.Show()
}

// drawDocFrom draws the open page filling w×h, scrolled so the first
// screen line holding from is at the top (when from is set and found).
func (st *state) drawDocFrom(p *painter, s tcell.Screen, from string, w, h int) {
	st.drawDoc(p, 0, 0, w, h)
	if from == "" || st.doc == nil {
		return
	}
	for i, l := range st.doc.wrapped {
		if strings.Contains(l.text, from) || l.first && strings.Contains(l.dl.label, from) {
			st.doc.offset = i
			st.doc.clampOffset()
			s.Clear()
			st.drawDoc(p, 0, 0, w, h)
			return
		}
	}
}

// Current is the snapshot on screen. Call it only on the UI goroutine
// (inside Inspect).
func (a *App) Current() *model.Snapshot { return a.st.snap }
