package model

import (
	"fmt"
	"slices"
	"sort"
)

// The console's vocabulary, shared by the config file (which names
// actions, panels and sorts) and the dashboard (which binds them): the
// actions operators reach by key, with their default keys, the panels a
// named view may show and the backlog's sort orders.

// Key scopes: where a key applies. Keys of the text-entry scopes (the
// filter line, an action's form, the command palette) are fixed: every
// other key there is typed.
const (
	ScopeMain    = "main"    // the outages, alerts, dependencies and backlog panels
	ScopeDetail  = "detail"  // the alert or ticket detail view
	ScopeHelp    = "help"    // the help page
	ScopeFilter  = "filter"  // typing a filter
	ScopeForm    = "form"    // an action's form and its confirmation
	ScopePalette = "palette" // the command palette
	// ScopeSilences is the silences view: every silence of every
	// Alertmanager source.
	ScopeSilences = "silences"
	// ScopeStats is the Stats view: the NOC statistics of the last 7 or
	// 30 days.
	ScopeStats = "stats"
)

// KeyDef is the keys of one action in one scope. Key names are canonical
// (see the config's key names): a single character, "Space", or a name
// such as Enter, Esc, Tab, Backtab, Backspace, Up, Down, PgUp, PgDn,
// Home, End, Ctrl-X, F1.
type KeyDef struct {
	Action string
	Scope  string
	// Keys are the keys shown for the action; remapping replaces them.
	Keys []string
	// Also are further keys that keep working when Keys is remapped
	// (Ctrl-C quits everywhere); they are shown only when Keys is empty.
	Also []string
}

// Remappable reports whether the keys of scope may be remapped.
func Remappable(scope string) bool {
	return scope == ScopeMain || scope == ScopeDetail || scope == ScopeHelp || scope == ScopeSilences || scope == ScopeStats
}

func kd(scope, action string, keys []string, also ...string) KeyDef {
	return KeyDef{Action: action, Scope: scope, Keys: keys, Also: also}
}

func keys(k ...string) []string { return k }

// defaultKeys is the default key of every action, scope by scope.
var defaultKeys = []KeyDef{
	kd(ScopeMain, "help", keys("?")),
	kd(ScopeMain, "filter", keys("/")),
	kd(ScopeMain, "palette", keys(":")),
	kd(ScopeMain, "next-panel", keys("Tab")),
	kd(ScopeMain, "prev-panel", keys("Backtab")),
	kd(ScopeMain, "outages", keys("1")),
	kd(ScopeMain, "alerts", keys("2")),
	kd(ScopeMain, "deps", keys("3")),
	kd(ScopeMain, "backlog", keys("4")),
	kd(ScopeMain, "open", keys("Enter")),
	kd(ScopeMain, "clear-filter", keys("Esc")),
	kd(ScopeMain, "nesting", keys("v")),
	kd(ScopeMain, "ack", keys("a")),
	kd(ScopeMain, "unack", keys("u")),
	kd(ScopeMain, "escalate", keys("e")),
	kd(ScopeMain, "take", keys("t")),
	kd(ScopeMain, "sort", keys("s")),
	kd(ScopeMain, "note", keys("n")),
	kd(ScopeMain, "notify", keys("N")),
	kd(ScopeMain, "refresh", keys("r")),
	kd(ScopeMain, "next-unacked", keys("]")),
	kd(ScopeMain, "next-untold", keys("}")),
	kd(ScopeMain, "next-breach", keys("b")),
	kd(ScopeMain, "down", keys("j", "Down")),
	kd(ScopeMain, "up", keys("k", "Up")),
	kd(ScopeMain, "top", keys("g", "Home")),
	kd(ScopeMain, "bottom", keys("G", "End")),
	kd(ScopeMain, "page-up", keys("PgUp"), "Ctrl-B"),
	kd(ScopeMain, "page-down", keys("PgDn"), "Ctrl-F"),
	kd(ScopeMain, "quit", keys("q"), "Ctrl-C"),
	kd(ScopeMain, "copy", keys("y")),
	kd(ScopeMain, "runbook", keys("o")),
	kd(ScopeMain, "handoff", keys("h")),
	kd(ScopeMain, "silences", keys("S")),
	kd(ScopeMain, "silence", keys("m")),
	kd(ScopeMain, "stats", keys("T")),

	kd(ScopeDetail, "back", keys("Esc", "q")),
	kd(ScopeDetail, "down", keys("j", "Down")),
	kd(ScopeDetail, "up", keys("k", "Up")),
	kd(ScopeDetail, "page-down", keys("PgDn"), "Ctrl-F", "Space"),
	kd(ScopeDetail, "page-up", keys("PgUp"), "Ctrl-B"),
	kd(ScopeDetail, "top", keys("g", "Home")),
	kd(ScopeDetail, "bottom", keys("G", "End")),
	kd(ScopeDetail, "left", keys("Left")),
	kd(ScopeDetail, "right", keys("Right")),
	kd(ScopeDetail, "runbook", keys("o")),
	kd(ScopeDetail, "inhibitor", keys("i")),
	kd(ScopeDetail, "copy", keys("y")),
	kd(ScopeDetail, "help", keys("?")),
	kd(ScopeDetail, "quit", nil, "Ctrl-C"),

	kd(ScopeSilences, "back", keys("Esc", "q")),
	kd(ScopeSilences, "down", keys("j", "Down")),
	kd(ScopeSilences, "up", keys("k", "Up")),
	kd(ScopeSilences, "page-down", keys("PgDn"), "Ctrl-F"),
	kd(ScopeSilences, "page-up", keys("PgUp"), "Ctrl-B"),
	kd(ScopeSilences, "top", keys("g", "Home")),
	kd(ScopeSilences, "bottom", keys("G", "End")),
	kd(ScopeSilences, "filter", keys("/")),
	kd(ScopeSilences, "open", keys("Enter")),
	kd(ScopeSilences, "expire", keys("E")),
	kd(ScopeSilences, "extend", keys("+")),
	kd(ScopeSilences, "help", keys("?")),
	kd(ScopeSilences, "quit", nil, "Ctrl-C"),

	kd(ScopeStats, "back", keys("Esc", "q")),
	kd(ScopeStats, "down", keys("j", "Down")),
	kd(ScopeStats, "up", keys("k", "Up")),
	kd(ScopeStats, "page-down", keys("PgDn"), "Ctrl-F", "Space"),
	kd(ScopeStats, "page-up", keys("PgUp"), "Ctrl-B"),
	kd(ScopeStats, "top", keys("g", "Home")),
	kd(ScopeStats, "bottom", keys("G", "End")),
	kd(ScopeStats, "stats-span", keys("p")),
	kd(ScopeStats, "stats-bucket", keys("b")),
	kd(ScopeStats, "stats-service", keys("s")),
	kd(ScopeStats, "refresh", keys("r")),
	kd(ScopeStats, "help", keys("?")),
	kd(ScopeStats, "quit", nil, "Ctrl-C"),

	kd(ScopeHelp, "close-help", keys("Esc", "q", "?")),
	kd(ScopeHelp, "down", keys("j", "Down")),
	kd(ScopeHelp, "up", keys("k", "Up")),
	kd(ScopeHelp, "page-down", keys("PgDn"), "Ctrl-F", "Space"),
	kd(ScopeHelp, "page-up", keys("PgUp"), "Ctrl-B"),
	kd(ScopeHelp, "top", keys("g", "Home")),
	kd(ScopeHelp, "bottom", keys("G", "End")),
	kd(ScopeHelp, "quit", nil, "Ctrl-C"),

	kd(ScopeFilter, "keep-filter", keys("Enter")),
	kd(ScopeFilter, "clear-filter", keys("Esc")),
	kd(ScopeFilter, "delete", keys("Backspace"), "Backspace2"),
	kd(ScopeFilter, "erase", keys("Ctrl-U")),
	kd(ScopeFilter, "quit", keys("Ctrl-C")),

	kd(ScopeForm, "submit", keys("Enter")),
	kd(ScopeForm, "back", keys("Esc")),
	kd(ScopeForm, "next-field", keys("Tab")),
	kd(ScopeForm, "delete", keys("Backspace"), "Backspace2"),
	kd(ScopeForm, "erase", keys("Ctrl-U")),
	kd(ScopeForm, "quit", keys("Ctrl-C")),

	kd(ScopePalette, "run", keys("Enter")),
	kd(ScopePalette, "close", keys("Esc")),
	kd(ScopePalette, "down", keys("Down"), "Ctrl-N"),
	kd(ScopePalette, "up", keys("Up"), "Ctrl-P"),
	kd(ScopePalette, "delete", keys("Backspace"), "Backspace2"),
	kd(ScopePalette, "erase", keys("Ctrl-U")),
	kd(ScopePalette, "quit", keys("Ctrl-C")),
}

// DefaultKeys returns the default keys of every action, scope by scope.
func DefaultKeys() []KeyDef {
	out := make([]KeyDef, len(defaultKeys))
	for i, d := range defaultKeys {
		out[i] = KeyDef{Action: d.Action, Scope: d.Scope, Keys: slices.Clone(d.Keys), Also: slices.Clone(d.Also)}
	}
	return out
}

// KeyActions lists the actions whose keys can be remapped, sorted.
func KeyActions() []string {
	set := map[string]bool{}
	for _, d := range defaultKeys {
		if Remappable(d.Scope) {
			set[d.Action] = true
		}
	}
	return SortedKeys(set)
}

// KeyMapError is one problem with a key remap: Action is the remapped
// action it concerns.
type KeyMapError struct {
	Action string
	Msg    string
}

func (e KeyMapError) Error() string { return e.Action + ": " + e.Msg }

// RemapKeys applies remap (action → its new keys, canonical names) to the
// default keys: the new keys replace the action's keys in every scope it
// has (main, detail, help). It returns the resulting table and every
// problem, in action order: an unknown action, an action without keys, a
// key given twice, or a key two actions hold in one scope. With problems
// the table is the defaults.
func RemapKeys(remap map[string][]string) ([]KeyDef, []KeyMapError) {
	defs := DefaultKeys()
	known := map[string]bool{}
	for _, a := range KeyActions() {
		known[a] = true
	}
	names := make([]string, 0, len(remap))
	for a := range remap {
		names = append(names, a)
	}
	sort.Strings(names)
	var errs []KeyMapError
	applied := map[string]bool{}
	for _, a := range names {
		ks := remap[a]
		switch {
		case !known[a]:
			errs = append(errs, KeyMapError{a, fmt.Sprintf("unknown action %q (want one of: %s)", a, joinComma(KeyActions()))})
			continue
		case len(ks) == 0:
			errs = append(errs, KeyMapError{a, "give at least one key"})
			continue
		}
		if dup := firstDuplicate(ks); dup != "" {
			errs = append(errs, KeyMapError{a, fmt.Sprintf("key %s is given twice", dup)})
			continue
		}
		applied[a] = true
		for i := range defs {
			if defs[i].Action == a && Remappable(defs[i].Scope) {
				defs[i].Keys = slices.Clone(ks)
			}
		}
	}
	// A key two actions hold in one scope is blamed on the remapped
	// action (both, when both were remapped), once per action.
	blamed := map[string]bool{}
	for _, a := range names {
		if !applied[a] {
			continue
		}
		for _, d := range defs {
			if d.Action != a || !Remappable(d.Scope) || blamed[a] {
				continue
			}
			if other, key := holder(defs, d.Scope, a, d.Keys); other != "" {
				blamed[a] = true
				errs = append(errs, KeyMapError{a, fmt.Sprintf("%s is also %s's key in %s (remap that action too, or pick another key)", key, other, d.Scope)})
			}
		}
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Action < errs[j].Action })
	if len(errs) > 0 {
		return DefaultKeys(), errs
	}
	return defs, nil
}

// holder returns another action of scope holding one of ks, and the key.
func holder(defs []KeyDef, scope, action string, ks []string) (string, string) {
	for _, d := range defs {
		if d.Scope != scope || d.Action == action {
			continue
		}
		for _, k := range ks {
			if slices.Contains(d.Keys, k) || slices.Contains(d.Also, k) {
				return d.Action, k
			}
		}
	}
	return "", ""
}

func firstDuplicate(ks []string) string {
	seen := map[string]bool{}
	for _, k := range ks {
		if seen[k] {
			return k
		}
		seen[k] = true
	}
	return ""
}

func joinComma(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}

// ViewPanels are the panels a named view may show.
var ViewPanels = []string{"outages", "alerts", "deps", "backlog"}

// TicketSorts are the backlog's orders, in the order `s` cycles them: SLA
// time left (breached first), age (oldest first), priority (P1 first).
var TicketSorts = []string{"sla", "age", "priority"}

// View is a named view (config views): a filter line, the panel to show
// (outages, alerts, deps or backlog; "" keeps the panel) and for the
// backlog its order (TicketSorts; "" keeps it). The command palette lists
// the views; choosing one applies them at once.
type View struct {
	Name   string
	Filter string
	Panel  string
	Sort   string
}

// ConsoleSettings is what the config says of the console itself, handed
// to the dashboard as plain values (the UI does not read the config).
type ConsoleSettings struct {
	// Theme is dark, light or colorblind; "" for the default.
	Theme string
	// Keys remaps actions to keys: action name → canonical key names.
	Keys map[string][]string
	// Views are the named views the command palette offers.
	Views []View
	// RunbooksDir is the local runbooks checkout (absolute), RunbooksURL
	// the web address it is published under; "" for none.
	RunbooksDir, RunbooksURL string
}
