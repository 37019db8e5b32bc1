package ui

import (
	"strings"

	"github.com/gdamore/tcell/v2"
)

// Scope says where a binding applies.
type Scope string

// Binding scopes, in the order the help page lists them.
const (
	ScopeMain   Scope = "main"   // the outages, alerts, dependencies and backlog panels
	ScopeDetail Scope = "detail" // the alert detail view
	ScopeHelp   Scope = "help"   // the help page
	ScopeFilter Scope = "filter" // while typing a filter
	ScopeForm   Scope = "form"   // an action's form and its confirmation
)

var scopeTitles = map[Scope]string{
	ScopeMain:   "Panels",
	ScopeDetail: "Alert detail",
	ScopeHelp:   "Help page",
	ScopeFilter: "Filter input",
	ScopeForm:   "Action form",
}

// keySpec is one key that triggers a binding.
type keySpec struct {
	key tcell.Key
	r   rune // for tcell.KeyRune
}

// Binding is one row of the key table. The same table dispatches keys,
// draws the footer hints and the `?` help page, so they cannot disagree.
type Binding struct {
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

func rk(r rune) keySpec             { return keySpec{key: tcell.KeyRune, r: r} }
func kk(k tcell.Key) keySpec        { return keySpec{key: k} }
func ks(specs ...keySpec) []keySpec { return specs }

// bindingTable is the single source of key bindings.
func bindingTable() []Binding {
	return []Binding{
		{Keys: "?", Scope: ScopeMain, Desc: "help", Footer: true, match: ks(rk('?')), run: (*state).openHelp},
		{Keys: "/", Scope: ScopeMain, Desc: "filter", Footer: true, match: ks(rk('/')), run: (*state).startFilter},
		{Keys: "Tab", Scope: ScopeMain, Desc: "next panel", Hint: "panel", Footer: true, match: ks(kk(tcell.KeyTab)), run: func(st *state) { st.cycleFocus(1) }},
		{Keys: "Shift-Tab", Scope: ScopeMain, Desc: "previous panel", match: ks(kk(tcell.KeyBacktab)), run: func(st *state) { st.cycleFocus(-1) }},
		{Keys: "1", Scope: ScopeMain, Desc: "outages", match: ks(rk('1')), run: func(st *state) { st.focus = PanelOutages }},
		{Keys: "2", Scope: ScopeMain, Desc: "alerts", match: ks(rk('2')), run: func(st *state) { st.focus = PanelAlerts }},
		{Keys: "3", Scope: ScopeMain, Desc: "dependencies of the selected outage", match: ks(rk('3')), run: func(st *state) { st.focus = PanelDeps }},
		{Keys: "4", Scope: ScopeMain, Desc: "ticket backlog (Tier 1 / Tier 2)", match: ks(rk('4')), run: func(st *state) { st.focus = PanelBacklog }},
		{Keys: "Enter", Scope: ScopeMain, Desc: "open: outage → its alerts; alert → detail; dependency → its outage; ticket → detail", Hint: "open", Footer: true, match: ks(kk(tcell.KeyEnter)), run: (*state).enter, disabled: (*state).enterDisabled},
		{Keys: "Esc", Scope: ScopeMain, Desc: "clear filter", match: ks(kk(tcell.KeyEscape)), run: (*state).clearFilter},
		{Keys: "v", Scope: ScopeMain, Desc: "outages: symptoms nested under their cause / flat", match: ks(rk('v')), run: (*state).toggleNesting},
		{Keys: "a", Scope: ScopeMain, Desc: "acknowledge the selected outage or alert (comment, expiry; silences on its Alertmanagers)", Hint: "ack", Footer: true, Dangerous: true, match: ks(rk('a')), run: (*state).startAck, disabled: (*state).ackDisabled},
		{Keys: "u", Scope: ScopeMain, Desc: "un-acknowledge (expires the silences the ack made)", Dangerous: true, match: ks(rk('u')), run: (*state).startUnack, disabled: (*state).unackDisabled},
		{Keys: "e", Scope: ScopeMain, Desc: "escalate the selected outage one level, or the selected Tier 1 ticket to Tier 2", Hint: "escalate", Footer: true, Dangerous: true, match: ks(rk('e')), run: (*state).startEscalate, disabled: (*state).escalateDisabled},
		{Keys: "t", Scope: ScopeMain, Desc: "take the selected ticket (assign it to you)", Dangerous: true, match: ks(rk('t')), run: (*state).startTake, disabled: (*state).takeDisabled},
		{Keys: "s", Scope: ScopeMain, Desc: "backlog: sort by SLA left / age / priority", match: ks(rk('s')), run: (*state).cycleSort, disabled: (*state).sortDisabled},
		{Keys: "n", Scope: ScopeMain, Desc: "note on the selected outage (outages panel) or on the shift", Hint: "note", Dangerous: true, match: ks(rk('n')), run: (*state).startNote, disabled: (*state).noteDisabled},
		{Keys: "r", Scope: ScopeMain, Desc: "refresh now", Hint: "refresh", Footer: true, match: ks(rk('r')), run: (*state).refresh, disabled: (*state).refreshDisabled},
		{Keys: "j/↓", Scope: ScopeMain, Desc: "down", match: ks(rk('j'), kk(tcell.KeyDown)), run: func(st *state) { st.moveSel(1) }},
		{Keys: "k/↑", Scope: ScopeMain, Desc: "up", match: ks(rk('k'), kk(tcell.KeyUp)), run: func(st *state) { st.moveSel(-1) }},
		{Keys: "g/Home", Scope: ScopeMain, Desc: "top", match: ks(rk('g'), kk(tcell.KeyHome)), run: func(st *state) { st.moveSel(-1 << 30) }},
		{Keys: "G/End", Scope: ScopeMain, Desc: "bottom", match: ks(rk('G'), kk(tcell.KeyEnd)), run: func(st *state) { st.moveSel(1 << 30) }},
		{Keys: "PgUp", Scope: ScopeMain, Desc: "page up", match: ks(kk(tcell.KeyPgUp), kk(tcell.KeyCtrlB)), run: func(st *state) { st.moveSel(-st.table().pageSize()) }},
		{Keys: "PgDn", Scope: ScopeMain, Desc: "page down", match: ks(kk(tcell.KeyPgDn), kk(tcell.KeyCtrlF)), run: func(st *state) { st.moveSel(st.table().pageSize()) }},
		{Keys: "q", Scope: ScopeMain, Desc: "quit (also Ctrl-C)", Hint: "quit", Footer: true, match: ks(rk('q'), kk(tcell.KeyCtrlC)), run: (*state).quit},
		{Keys: "y", Scope: ScopeMain, Desc: "copy who to notify about the selected outage (OSC 52)", Hint: "copy notify", Footer: true, match: ks(rk('y')), run: (*state).copyNotify, disabled: (*state).copyDisabled},
		{Keys: "o", Scope: ScopeMain, Desc: "open the runbook of the selected outage or alert (markdown in runbooks_dir, or its web address)", Hint: "runbook", match: ks(rk('o')), run: (*state).openRunbook, disabled: (*state).runbookDisabled},
		{Keys: "h", Scope: ScopeMain, Desc: "shift handoff: the current shift's report and timeline", match: ks(rk('h')), run: (*state).openHandoff, disabled: (*state).handoffDisabled},

		{Keys: "Esc/q", Scope: ScopeDetail, Desc: "back", Footer: true, match: ks(kk(tcell.KeyEscape), rk('q')), run: (*state).closeDoc},
		{Keys: "j/↓", Scope: ScopeDetail, Desc: "down", Footer: true, match: ks(rk('j'), kk(tcell.KeyDown)), run: func(st *state) { st.scrollDoc(1) }},
		{Keys: "k/↑", Scope: ScopeDetail, Desc: "up", Footer: true, match: ks(rk('k'), kk(tcell.KeyUp)), run: func(st *state) { st.scrollDoc(-1) }},
		{Keys: "PgDn", Scope: ScopeDetail, Desc: "page down", Footer: true, match: ks(kk(tcell.KeyPgDn), kk(tcell.KeyCtrlF), rk(' ')), run: func(st *state) { st.scrollDoc(st.docPage()) }},
		{Keys: "PgUp", Scope: ScopeDetail, Desc: "page up", Footer: true, match: ks(kk(tcell.KeyPgUp), kk(tcell.KeyCtrlB)), run: func(st *state) { st.scrollDoc(-st.docPage()) }},
		{Keys: "g/Home", Scope: ScopeDetail, Desc: "top", match: ks(rk('g'), kk(tcell.KeyHome)), run: func(st *state) { st.scrollDoc(-1 << 30) }},
		{Keys: "G/End", Scope: ScopeDetail, Desc: "bottom", match: ks(rk('G'), kk(tcell.KeyEnd)), run: func(st *state) { st.scrollDoc(1 << 30) }},
		{Keys: "o", Scope: ScopeDetail, Desc: "open the alert's runbook", match: ks(rk('o')), run: (*state).openRunbook, disabled: (*state).runbookDisabled},
		{Keys: "y", Scope: ScopeDetail, Desc: "copy the runbook's web address (OSC 52)", match: ks(rk('y')), run: (*state).copyURL, disabled: (*state).copyURLDisabled},
		{Keys: "?", Scope: ScopeDetail, Desc: "help", Footer: true, match: ks(rk('?')), run: (*state).openHelp},
		{Keys: "Ctrl-C", Scope: ScopeDetail, Desc: "quit", match: ks(kk(tcell.KeyCtrlC)), run: (*state).quit},

		{Keys: "Esc/q/?", Scope: ScopeHelp, Desc: "close help", Footer: true, match: ks(kk(tcell.KeyEscape), rk('q'), rk('?')), run: (*state).closeDoc},
		{Keys: "j/↓", Scope: ScopeHelp, Desc: "down", Footer: true, match: ks(rk('j'), kk(tcell.KeyDown)), run: func(st *state) { st.scrollDoc(1) }},
		{Keys: "k/↑", Scope: ScopeHelp, Desc: "up", Footer: true, match: ks(rk('k'), kk(tcell.KeyUp)), run: func(st *state) { st.scrollDoc(-1) }},
		{Keys: "PgDn", Scope: ScopeHelp, Desc: "page down", Footer: true, match: ks(kk(tcell.KeyPgDn), kk(tcell.KeyCtrlF), rk(' ')), run: func(st *state) { st.scrollDoc(st.docPage()) }},
		{Keys: "PgUp", Scope: ScopeHelp, Desc: "page up", Footer: true, match: ks(kk(tcell.KeyPgUp), kk(tcell.KeyCtrlB)), run: func(st *state) { st.scrollDoc(-st.docPage()) }},
		{Keys: "g/Home", Scope: ScopeHelp, Desc: "top", match: ks(rk('g'), kk(tcell.KeyHome)), run: func(st *state) { st.scrollDoc(-1 << 30) }},
		{Keys: "G/End", Scope: ScopeHelp, Desc: "bottom", match: ks(rk('G'), kk(tcell.KeyEnd)), run: func(st *state) { st.scrollDoc(1 << 30) }},
		{Keys: "Ctrl-C", Scope: ScopeHelp, Desc: "quit", match: ks(kk(tcell.KeyCtrlC)), run: (*state).quit},

		{Keys: "Enter", Scope: ScopeFilter, Desc: "keep filter", Footer: true, match: ks(kk(tcell.KeyEnter)), disabled: (*state).keepFilterDisabled, run: (*state).keepFilter},
		{Keys: "Esc", Scope: ScopeFilter, Desc: "clear filter", Footer: true, match: ks(kk(tcell.KeyEscape)), run: (*state).clearFilter},
		{Keys: "Backspace", Scope: ScopeFilter, Desc: "delete", Footer: true, match: ks(kk(tcell.KeyBackspace), kk(tcell.KeyBackspace2)), run: (*state).filterBackspace},
		{Keys: "Ctrl-U", Scope: ScopeFilter, Desc: "erase line", match: ks(kk(tcell.KeyCtrlU)), run: func(st *state) { st.setFilter("") }},
		{Keys: "Ctrl-C", Scope: ScopeFilter, Desc: "quit", match: ks(kk(tcell.KeyCtrlC)), run: (*state).quit},

		{Keys: "Enter", Scope: ScopeForm, Desc: "review, then confirm", Footer: true, Dangerous: true, match: ks(kk(tcell.KeyEnter)), run: (*state).formEnter},
		{Keys: "Esc", Scope: ScopeForm, Desc: "back / cancel", Footer: true, Dangerous: true, match: ks(kk(tcell.KeyEscape)), run: (*state).formBack},
		{Keys: "Tab", Scope: ScopeForm, Desc: "next field", Footer: true, Dangerous: true, match: ks(kk(tcell.KeyTab)), run: (*state).formNextField},
		{Keys: "Backspace", Scope: ScopeForm, Desc: "delete", Dangerous: true, match: ks(kk(tcell.KeyBackspace), kk(tcell.KeyBackspace2)), run: (*state).formBackspace},
		{Keys: "Ctrl-U", Scope: ScopeForm, Desc: "erase field", Dangerous: true, match: ks(kk(tcell.KeyCtrlU)), run: (*state).formErase},
		{Keys: "Ctrl-C", Scope: ScopeForm, Desc: "quit", Dangerous: true, match: ks(kk(tcell.KeyCtrlC)), run: (*state).quit},
	}
}

// Bindings returns the key table as configured for a console, read-only
// or not: what the footer, the help page and the dispatcher use. README's
// key list is checked against it.
func Bindings(readOnly bool) []Binding {
	bs := bindingTable()
	if readOnly {
		bs = stripDangerous(bs)
	}
	return bs
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
