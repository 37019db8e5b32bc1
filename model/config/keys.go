package config

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Console is how the dashboard is driven: remapped keys and named views;
// its keys sit at the top level of the file.
type Console struct {
	// Keys remaps actions to keys: action name → a key or a list of keys
	// (`ack: A`, `down: [j, Down]`). The keys replace the action's
	// default keys wherever it applies (panels, detail view, help page).
	Keys map[string]KeyList `yaml:"keys,omitempty"`
	// Views are named filters the command palette (:) switches to.
	Views []View `yaml:"views,omitempty"`
}

// KeyList is one or more key names, each already in canonical form (see
// KeyName). A single string is a list of one.
type KeyList []string

// UnmarshalYAML accepts a key name or a list of them; an unknown name is
// an error saying which names exist.
func (k *KeyList) UnmarshalYAML(unmarshal func(any) error) error {
	var names []string
	var one string
	if err := unmarshal(&one); err == nil {
		names = []string{one}
	} else if err := unmarshal(&names); err != nil {
		return fmt.Errorf("want a key name or a list of key names")
	}
	out := make(KeyList, 0, len(names))
	for _, n := range names {
		c, err := KeyName(n)
		if err != nil {
			return err
		}
		out = append(out, c)
	}
	*k = out
	return nil
}

// keyNameHelp says which key names exist.
const keyNameHelp = "want a single character, Space, or Enter, Esc, Tab, Shift-Tab, Backspace, Delete, Insert, Up, Down, Left, Right, Home, End, PgUp, PgDn, F1…F12, Ctrl-A…Ctrl-Z"

// named are the key names accepted besides single characters, by their
// lower-case spelling, mapped to tcell's name for the key (the canonical
// name the dashboard binds).
var named = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{"Enter", "Esc", "Tab", "Backtab", "Backspace", "Delete", "Insert",
		"Up", "Down", "Left", "Right", "Home", "End", "PgUp", "PgDn"} {
		m[strings.ToLower(n)] = n
	}
	for i := 1; i <= 12; i++ {
		n := fmt.Sprintf("F%d", i)
		m[strings.ToLower(n)] = n
	}
	for c := 'A'; c <= 'Z'; c++ {
		n := "Ctrl-" + string(c)
		m[strings.ToLower(n)] = n
	}
	for alias, n := range map[string]string{"escape": "Esc", "return": "Enter", "shift-tab": "Backtab",
		"pageup": "PgUp", "pagedown": "PgDn", "page-up": "PgUp", "page-down": "PgDn", "del": "Delete", "space": "Space"} {
		m[alias] = n
	}
	return m
}()

// ctrlSent are the control keys a terminal sends as another key.
var ctrlSent = map[string]string{"Ctrl-H": "Backspace", "Ctrl-I": "Tab", "Ctrl-M": "Enter"}

// KeyName returns the canonical name of a key: a single character as
// itself (case matters: "A" is Shift-a), "Space", or the key's name as
// tcell spells it (Enter, Esc, Backtab, PgUp, Ctrl-X, F1, …). Names are
// read in any case; "Ctrl+x", "Escape", "Shift-Tab" and "PageUp" are
// understood.
func KeyName(s string) (string, error) {
	if s == " " {
		return "Space", nil
	}
	if utf8.RuneCountInString(s) == 1 {
		r, _ := utf8.DecodeRuneInString(s)
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return "", fmt.Errorf("key %q is not a printable character (%s)", s, keyNameHelp)
		}
		return s, nil
	}
	low := strings.ToLower(strings.TrimSpace(s))
	low = strings.Replace(low, "ctrl+", "ctrl-", 1)
	n, ok := named[low]
	if !ok {
		return "", fmt.Errorf("unknown key %q (%s)", clip(s), keyNameHelp)
	}
	if sent, ok := ctrlSent[n]; ok {
		return "", fmt.Errorf("key %s reaches sitroom as %s (terminals send the same byte); use %s or another key", n, sent, sent)
	}
	return n, nil
}
