package ui

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
)

// Scope says where a binding applies.
type Scope string

// Binding scopes, in the order the help page lists them.
const (
	ScopeMain    Scope = model.ScopeMain    // the outages, alerts, dependencies and backlog panels
	ScopeDetail  Scope = model.ScopeDetail  // the alert detail view
	ScopeHelp    Scope = model.ScopeHelp    // the help page
	ScopeFilter  Scope = model.ScopeFilter  // while typing a filter
	ScopeForm    Scope = model.ScopeForm    // an action's form and its confirmation
	ScopePalette Scope = model.ScopePalette // the command palette
	// ScopeSilences is the silences view (silences.go).
	ScopeSilences Scope = model.ScopeSilences
	// ScopeStats is the Stats view (stats_view.go).
	ScopeStats Scope = model.ScopeStats
)

var scopeTitles = map[Scope]string{
	ScopeMain:    "Panels",
	ScopeDetail:  "Alert detail",
	ScopeHelp:    "Help page",
	ScopeFilter:  "Filter input",
	ScopeForm:    "Action form",
	ScopePalette: "Command palette",

	ScopeSilences: "Silences view",
	ScopeStats:    "Stats view",
}

// keySpec is one key that triggers a binding.
type keySpec struct {
	key tcell.Key
	r   rune // for tcell.KeyRune
}

// Binding is one row of the key table. The same table dispatches keys,
// draws the footer hints, the `?` help page and the command palette, so
// they cannot disagree. Its keys are the action's keys in the scope
// (model.DefaultKeys, or a remap from the config's keys).
type Binding struct {
	Action    string // stable name: the config's keys, the palette
	Keys      string // display form, e.g. "j/↓"
	Scope     Scope
	Desc      string
	Footer    bool   // shown in the footer hints
	Hint      string // the footer's shorter description; Desc when empty
	Dangerous bool   // acts on an upstream; stripped by ReadOnly

	match    []keySpec
	run      func(st *state)
	disabled func(st *state) string // why the key cannot act now, or ""
}

func rk(r rune) keySpec      { return keySpec{key: tcell.KeyRune, r: r} }
func kk(k tcell.Key) keySpec { return keySpec{key: k} }

// bindingTable is the single source of key bindings; withKeys gives each
// row its keys.
func bindingTable() []Binding {
	return []Binding{
		{Action: "help", Scope: ScopeMain, Desc: "help", Footer: true, run: (*state).openHelp},
		{Action: "filter", Scope: ScopeMain, Desc: "filter", Footer: true, run: (*state).startFilter},
		{Action: "next-panel", Scope: ScopeMain, Desc: "next panel", Hint: "panel", Footer: true, run: func(st *state) { st.cycleFocus(1) }},
		{Action: "prev-panel", Scope: ScopeMain, Desc: "previous panel", run: func(st *state) { st.cycleFocus(-1) }},
		{Action: "outages", Scope: ScopeMain, Desc: "outages", run: func(st *state) { st.focus = PanelOutages }},
		{Action: "alerts", Scope: ScopeMain, Desc: "alerts", run: func(st *state) { st.focus = PanelAlerts }},
		{Action: "deps", Scope: ScopeMain, Desc: "dependencies of the selected outage", run: func(st *state) { st.focus = PanelDeps }},
		{Action: "backlog", Scope: ScopeMain, Desc: "ticket backlog (Tier 1 / Tier 2)", run: func(st *state) { st.focus = PanelBacklog }},
		{Action: "open", Scope: ScopeMain, Desc: "open: outage → its alerts; alert → detail; dependency → its outage; ticket → detail", Hint: "open", Footer: true, run: (*state).enter, disabled: (*state).enterDisabled},
		{Action: "clear-filter", Scope: ScopeMain, Desc: "clear filter", run: (*state).clearFilter},
		{Action: "nesting", Scope: ScopeMain, Desc: "outages: symptoms nested under their cause / flat", run: (*state).toggleNesting},
		{Action: "ack", Scope: ScopeMain, Desc: "acknowledge the selected outage or alert (comment, expiry; silences on its Alertmanagers)", Hint: "ack", Footer: true, Dangerous: true, run: (*state).startAck, disabled: (*state).ackDisabled},
		{Action: "unack", Scope: ScopeMain, Desc: "un-acknowledge (expires the silences the ack made)", Dangerous: true, run: (*state).startUnack, disabled: (*state).unackDisabled},
		{Action: "escalate", Scope: ScopeMain, Desc: "escalate the selected outage one level, or the selected Tier 1 ticket to Tier 2", Hint: "escalate", Footer: true, Dangerous: true, run: (*state).startEscalate, disabled: (*state).escalateDisabled},
		{Action: "take", Scope: ScopeMain, Desc: "take the selected ticket (assign it to you)", Dangerous: true, run: (*state).startTake, disabled: (*state).takeDisabled},
		{Action: "sort", Scope: ScopeMain, Desc: "backlog: sort by SLA left / age / priority", run: (*state).cycleSort, disabled: (*state).sortDisabled},
		{Action: "note", Scope: ScopeMain, Desc: "note on the selected outage (outages panel) or on the shift", Hint: "note", Dangerous: true, run: (*state).startNote, disabled: (*state).noteDisabled},
		{Action: "notify", Scope: ScopeMain, Desc: "notify the teams the selected outage affects through their channels (review, then send; again: an update)", Hint: "notify", Dangerous: true, run: (*state).startNotify, disabled: (*state).notifyDisabled},
		{Action: "refresh", Scope: ScopeMain, Desc: "refresh now", Hint: "refresh", Footer: true, run: (*state).refresh, disabled: (*state).refreshDisabled},
		{Action: "down", Scope: ScopeMain, Desc: "down", run: func(st *state) { st.moveSel(1) }},
		{Action: "up", Scope: ScopeMain, Desc: "up", run: func(st *state) { st.moveSel(-1) }},
		{Action: "top", Scope: ScopeMain, Desc: "top", run: func(st *state) { st.moveSel(-1 << 30) }},
		{Action: "bottom", Scope: ScopeMain, Desc: "bottom", run: func(st *state) { st.moveSel(1 << 30) }},
		{Action: "page-up", Scope: ScopeMain, Desc: "page up", run: func(st *state) { st.moveSel(-st.table().pageSize()) }},
		{Action: "page-down", Scope: ScopeMain, Desc: "page down", run: func(st *state) { st.moveSel(st.table().pageSize()) }},
		{Action: "quit", Scope: ScopeMain, Desc: "quit (also Ctrl-C)", Hint: "quit", Footer: true, run: (*state).quit},
		{Action: "copy", Scope: ScopeMain, Desc: "copy who to notify about the selected outage (OSC 52)", Hint: "copy notify", Footer: true, run: (*state).copyNotify, disabled: (*state).copyDisabled},
		{Action: "runbook", Scope: ScopeMain, Desc: "open the runbook of the selected outage or alert (markdown in runbooks_dir, or its web address)", Hint: "runbook", run: (*state).openRunbook, disabled: (*state).runbookDisabled},
		{Action: "handoff", Scope: ScopeMain, Desc: "shift handoff: the current shift's report and timeline", run: (*state).openHandoff, disabled: (*state).handoffDisabled},
		{Action: "next-unacked", Scope: ScopeMain, Desc: "next outage (outages panel) or firing alert (alerts panel) nobody acknowledged", run: (*state).nextUnacked, disabled: (*state).nextUnackedDisabled},
		{Action: "next-untold", Scope: ScopeMain, Desc: "next outage some affected team of which was not told within notify_after (UNTOLD)", run: (*state).nextUntold, disabled: (*state).nextUntoldDisabled},
		{Action: "next-breach", Scope: ScopeMain, Desc: "backlog: next ticket whose SLA is breached (else breaching within 30m)", run: (*state).nextBreach, disabled: (*state).nextBreachDisabled},
		{Action: "palette", Scope: ScopeMain, Desc: "command palette: every action and named view, by name", Hint: "commands", Footer: true, run: (*state).openPalette},
		{Action: "silences", Scope: ScopeMain, Desc: "silences view: every silence of every Alertmanager, ending soonest first", run: (*state).openSilences, disabled: (*state).silencesDisabled},
		{Action: "silence", Scope: ScopeMain, Desc: "new silence from the selected alert's labels (matcher editor, duration, comment)", Dangerous: true, run: (*state).startCreateSilence, disabled: (*state).createSilenceDisabled},
		{Action: "stats", Scope: ScopeMain, Desc: "Stats view: outages, MTTA/MTTR, escalations, tickets, top services and flapping alerts of the last 7 or 30 days", run: (*state).openStats, disabled: (*state).statsDisabled},

		{Action: "back", Scope: ScopeDetail, Desc: "back", Footer: true, run: (*state).closeDoc},
		{Action: "down", Scope: ScopeDetail, Desc: "down", Footer: true, run: func(st *state) { st.scrollDoc(1) }},
		{Action: "up", Scope: ScopeDetail, Desc: "up", Footer: true, run: func(st *state) { st.scrollDoc(-1) }},
		{Action: "page-down", Scope: ScopeDetail, Desc: "page down", Footer: true, run: func(st *state) { st.scrollDoc(st.docPage()) }},
		{Action: "page-up", Scope: ScopeDetail, Desc: "page up", Footer: true, run: func(st *state) { st.scrollDoc(-st.docPage()) }},
		{Action: "top", Scope: ScopeDetail, Desc: "top", run: func(st *state) { st.scrollDoc(-1 << 30) }},
		{Action: "bottom", Scope: ScopeDetail, Desc: "bottom", run: func(st *state) { st.scrollDoc(1 << 30) }},
		{Action: "left", Scope: ScopeDetail, Desc: "scroll code blocks left", run: func(st *state) { st.scrollDocSideways(-sidewaysStep) }, disabled: (*state).sidewaysDisabled},
		{Action: "right", Scope: ScopeDetail, Desc: "scroll code blocks right", run: func(st *state) { st.scrollDocSideways(sidewaysStep) }, disabled: (*state).sidewaysDisabled},
		{Action: "runbook", Scope: ScopeDetail, Desc: "open the alert's runbook", run: (*state).openRunbook, disabled: (*state).runbookDisabled},
		{Action: "inhibitor", Scope: ScopeDetail, Desc: "open the alert inhibiting this one (Esc returns)", run: (*state).openInhibitor, disabled: (*state).inhibitorDisabled},
		{Action: "copy", Scope: ScopeDetail, Desc: "copy the runbook's web address (OSC 52)", run: (*state).copyURL, disabled: (*state).copyURLDisabled},
		{Action: "help", Scope: ScopeDetail, Desc: "help", Footer: true, run: (*state).openHelp},
		{Action: "quit", Scope: ScopeDetail, Desc: "quit", run: (*state).quit},

		{Action: "back", Scope: ScopeSilences, Desc: "back to the panels", Hint: "back", Footer: true, run: (*state).closeSilences},
		{Action: "down", Scope: ScopeSilences, Desc: "down", run: func(st *state) { st.silMove(1) }},
		{Action: "up", Scope: ScopeSilences, Desc: "up", run: func(st *state) { st.silMove(-1) }},
		{Action: "page-down", Scope: ScopeSilences, Desc: "page down", run: func(st *state) { st.silMove(st.sil.t.pageSize()) }},
		{Action: "page-up", Scope: ScopeSilences, Desc: "page up", run: func(st *state) { st.silMove(-st.sil.t.pageSize()) }},
		{Action: "top", Scope: ScopeSilences, Desc: "top", run: func(st *state) { st.silMove(-1 << 30) }},
		{Action: "bottom", Scope: ScopeSilences, Desc: "bottom", run: func(st *state) { st.silMove(1 << 30) }},
		{Action: "filter", Scope: ScopeSilences, Desc: "filter the silences (words in matchers, author, comment, id, source, state)", Hint: "filter", Footer: true, run: (*state).startSilFilter},
		{Action: "open", Scope: ScopeSilences, Desc: "the alerts the selected silence matches (alerts panel, filtered by its matchers)", Hint: "its alerts", Footer: true, run: (*state).silJump, disabled: (*state).silJumpDisabled},
		{Action: "expire", Scope: ScopeSilences, Desc: "expire the selected silence on every Alertmanager holding it (tier1: own silences; tier2: any)", Hint: "expire", Footer: true, Dangerous: true, run: (*state).startExpireSilence, disabled: (*state).expireSilenceDisabled},
		{Action: "extend", Scope: ScopeSilences, Desc: "extend the selected silence by a duration", Hint: "extend", Footer: true, Dangerous: true, run: (*state).startExtendSilence, disabled: (*state).extendSilenceDisabled},
		{Action: "help", Scope: ScopeSilences, Desc: "help", Footer: true, run: (*state).openHelp},
		{Action: "quit", Scope: ScopeSilences, Desc: "quit", run: (*state).quit},

		{Action: "back", Scope: ScopeStats, Desc: "back to the panels", Hint: "back", Footer: true, run: (*state).closeStats},
		{Action: "down", Scope: ScopeStats, Desc: "down", run: func(st *state) { st.statsScroll(1) }},
		{Action: "up", Scope: ScopeStats, Desc: "up", run: func(st *state) { st.statsScroll(-1) }},
		{Action: "page-down", Scope: ScopeStats, Desc: "page down", run: func(st *state) { st.statsScroll(st.statsPage()) }},
		{Action: "page-up", Scope: ScopeStats, Desc: "page up", run: func(st *state) { st.statsScroll(-st.statsPage()) }},
		{Action: "top", Scope: ScopeStats, Desc: "top", run: func(st *state) { st.statsScroll(-1 << 30) }},
		{Action: "bottom", Scope: ScopeStats, Desc: "bottom", run: func(st *state) { st.statsScroll(1 << 30) }},
		{Action: "stats-span", Scope: ScopeStats, Desc: "the last 7 days / the last 30 days", Hint: "7d/30d", Footer: true, run: (*state).statsSpan},
		{Action: "stats-bucket", Scope: ScopeStats, Desc: "rows by day / by week", Hint: "day/week", Footer: true, run: (*state).statsBucket},
		{Action: "stats-service", Scope: ScopeStats, Desc: "next service of the figures (then every service again)", Hint: "service", Footer: true, run: (*state).statsService},
		{Action: "refresh", Scope: ScopeStats, Desc: "read the figures again", run: (*state).loadStats},
		{Action: "help", Scope: ScopeStats, Desc: "help", Footer: true, run: (*state).openHelp},
		{Action: "quit", Scope: ScopeStats, Desc: "quit", run: (*state).quit},

		{Action: "close-help", Scope: ScopeHelp, Desc: "close help", Footer: true, run: (*state).closeDoc},
		{Action: "down", Scope: ScopeHelp, Desc: "down", Footer: true, run: func(st *state) { st.scrollDoc(1) }},
		{Action: "up", Scope: ScopeHelp, Desc: "up", Footer: true, run: func(st *state) { st.scrollDoc(-1) }},
		{Action: "page-down", Scope: ScopeHelp, Desc: "page down", Footer: true, run: func(st *state) { st.scrollDoc(st.docPage()) }},
		{Action: "page-up", Scope: ScopeHelp, Desc: "page up", Footer: true, run: func(st *state) { st.scrollDoc(-st.docPage()) }},
		{Action: "top", Scope: ScopeHelp, Desc: "top", run: func(st *state) { st.scrollDoc(-1 << 30) }},
		{Action: "bottom", Scope: ScopeHelp, Desc: "bottom", run: func(st *state) { st.scrollDoc(1 << 30) }},
		{Action: "quit", Scope: ScopeHelp, Desc: "quit", run: (*state).quit},

		{Action: "keep-filter", Scope: ScopeFilter, Desc: "keep filter", Footer: true, disabled: (*state).keepFilterDisabled, run: (*state).keepFilter},
		{Action: "clear-filter", Scope: ScopeFilter, Desc: "clear filter", Footer: true, run: (*state).clearFilter},
		{Action: "delete", Scope: ScopeFilter, Desc: "delete", Footer: true, run: (*state).filterBackspace},
		{Action: "erase", Scope: ScopeFilter, Desc: "erase line", run: func(st *state) { st.setFilter("") }},
		{Action: "quit", Scope: ScopeFilter, Desc: "quit", run: (*state).quit},

		{Action: "submit", Scope: ScopeForm, Desc: "send (an escalation: review, then confirm)", Hint: "send", Footer: true, Dangerous: true, run: (*state).formSubmit},
		{Action: "back", Scope: ScopeForm, Desc: "back / cancel", Footer: true, Dangerous: true, run: (*state).formBack},
		{Action: "next-field", Scope: ScopeForm, Desc: "next field", Footer: true, Dangerous: true, run: (*state).formNextField},
		{Action: "delete", Scope: ScopeForm, Desc: "delete", Dangerous: true, run: (*state).formBackspace},
		{Action: "erase", Scope: ScopeForm, Desc: "erase field", Dangerous: true, run: (*state).formErase},
		{Action: "quit", Scope: ScopeForm, Desc: "quit", Dangerous: true, run: (*state).quit},

		{Action: "run", Scope: ScopePalette, Desc: "run the action, or show the view", Hint: "run", Footer: true, run: (*state).paletteRun},
		{Action: "close", Scope: ScopePalette, Desc: "close", Footer: true, run: (*state).closePalette},
		{Action: "down", Scope: ScopePalette, Desc: "down", Footer: true, run: func(st *state) { st.paletteMove(1) }},
		{Action: "up", Scope: ScopePalette, Desc: "up", Footer: true, run: func(st *state) { st.paletteMove(-1) }},
		{Action: "delete", Scope: ScopePalette, Desc: "delete", run: (*state).paletteBackspace},
		{Action: "erase", Scope: ScopePalette, Desc: "erase line", run: func(st *state) { st.paletteSetQuery("") }},
		{Action: "quit", Scope: ScopePalette, Desc: "quit", run: (*state).quit},
	}
}

// withKeys gives every binding its keys from defs (by scope and action):
// the display form and what it matches.
func withKeys(bs []Binding, defs []model.KeyDef) []Binding {
	byRow := make(map[[2]string]model.KeyDef, len(defs))
	for _, d := range defs {
		byRow[[2]string{d.Scope, d.Action}] = d
	}
	for i := range bs {
		b := &bs[i]
		d := byRow[[2]string{string(b.Scope), b.Action}]
		shown := d.Keys
		if len(shown) == 0 {
			shown = d.Also
		}
		disp := make([]string, len(shown))
		for j, k := range shown {
			disp[j] = keyLabel(k)
		}
		b.Keys = strings.Join(disp, "/")
		b.match = nil
		for _, k := range append(append([]string(nil), d.Keys...), d.Also...) {
			if ks, ok := specOf(k); ok {
				b.match = append(b.match, ks)
			}
		}
	}
	return bs
}

// keyLabel is how a key is shown: arrows as arrows, Backtab as Shift-Tab.
func keyLabel(name string) string {
	switch name {
	case "Down":
		return "↓"
	case "Up":
		return "↑"
	case "Backtab":
		return "Shift-Tab"
	}
	return name
}

// tcellKeys maps tcell's key names back to its keys.
var tcellKeys = func() map[string]tcell.Key {
	m := make(map[string]tcell.Key, len(tcell.KeyNames))
	for k, n := range tcell.KeyNames {
		m[n] = k
	}
	return m
}()

// specOf is the key a canonical key name (model.KeyDef) stands for: a
// single character, Space, or tcell's name of a key.
func specOf(name string) (keySpec, bool) {
	if name == "Space" {
		return rk(' '), true
	}
	if utf8.RuneCountInString(name) == 1 {
		r, _ := utf8.DecodeRuneInString(name)
		return rk(r), true
	}
	k, ok := tcellKeys[name]
	return kk(k), ok
}

// Bindings returns the key table as configured for a console, read-only
// or not: what the footer, the help page and the dispatcher use. The
// key list of docs/keys.md is checked against it.
func Bindings(readOnly bool) []Binding {
	bs, _ := bindingsFor(readOnly, nil)
	return bs
}

// bindingsFor is the key table with the keys remapped by remap (action →
// canonical key names, as the config's keys hold them). A remap with
// problems is not applied: the table keeps its default keys and the error
// says why.
func bindingsFor(readOnly bool, remap map[string][]string) ([]Binding, error) {
	defs, errs := model.RemapKeys(remap)
	var err error
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		err = fmt.Errorf("default keys kept, keys not remapped: %s", strings.Join(msgs, "; "))
	}
	bs := withKeys(bindingTable(), defs)
	if readOnly {
		bs = stripDangerous(bs)
	}
	return bs, err
}

// stripDangerous removes every binding that acts on an upstream; it is the
// one place --read-only takes effect.
func stripDangerous(bs []Binding) []Binding {
	out := bs[:0:0]
	for _, b := range bs {
		if !b.Dangerous {
			out = append(out, b)
		}
	}
	return out
}

// keyOf is how the key of a panels' action is shown: its default key or
// the config's remap (for flash messages that name it).
func (st *state) keyOf(action string) string {
	for i := range st.bindings {
		if b := &st.bindings[i]; b.Scope == ScopeMain && b.Action == action {
			return b.Keys
		}
	}
	return action
}

// matches reports whether ev triggers b.
func (b *Binding) matches(ev *tcell.EventKey) bool {
	for _, m := range b.match {
		if m.key != ev.Key() {
			continue
		}
		if m.key != tcell.KeyRune || m.r == ev.Rune() {
			return true
		}
	}
	return false
}

// FooterText is what the footer shows for the binding.
func (b *Binding) FooterText() string {
	if b.Hint != "" {
		return b.Hint
	}
	return b.Desc
}

// footerHints lists the footer hints of a scope as key/description pairs.
func footerHints(bs []Binding, scope Scope) [][2]string {
	var out [][2]string
	for _, b := range bs {
		if b.Scope == scope && b.Footer {
			out = append(out, [2]string{b.Keys, b.FooterText()})
		}
	}
	return out
}

// KeyHelp lists every binding as {scope, keys, description}, in table order.
func KeyHelp(readOnly bool) [][3]string {
	var out [][3]string
	for _, b := range Bindings(readOnly) {
		out = append(out, [3]string{string(b.Scope), b.Keys, b.Desc})
	}
	return out
}

func keyName(ev *tcell.EventKey) string {
	if ev.Key() == tcell.KeyRune {
		return string(ev.Rune())
	}
	return strings.TrimPrefix(ev.Name(), "Key")
}

// hasScope reports whether any binding applies in scope.
func hasScope(bs []Binding, scope Scope) bool {
	for _, b := range bs {
		if b.Scope == scope {
			return true
		}
	}
	return false
}
