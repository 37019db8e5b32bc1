package config

import (
	"testing"

	"github.com/gdamore/tcell/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKeyName(t *testing.T) {
	for in, want := range map[string]string{
		"a": "a", "A": "A", "]": "]", ":": ":", "é": "é", " ": "Space", "space": "Space",
		"Enter": "Enter", "return": "Enter", "ESC": "Esc", "escape": "Esc", "tab": "Tab", "Shift-Tab": "Backtab",
		"up": "Up", "DOWN": "Down", "pgup": "PgUp", "PageDown": "PgDn", "home": "Home", "End": "End",
		"f1": "F1", "F12": "F12", "Ctrl-X": "Ctrl-X", "ctrl+x": "Ctrl-X", "CTRL-r": "Ctrl-R", "del": "Delete",
	} {
		got, err := KeyName(in)
		if assert.NoError(t, err, in) {
			assert.Equal(t, want, got, in)
		}
	}
	for in, want := range map[string]string{
		"":       `unknown key ""`,
		"Ctl-x":  `unknown key "Ctl-x"`,
		"F13":    `unknown key "F13"`,
		"jk":     `unknown key "jk"`,
		"\t":     `not a printable character`,
		"Ctrl-M": "reaches sitroom as Enter",
		"ctrl-h": "reaches sitroom as Backspace",
	} {
		_, err := KeyName(in)
		if assert.Error(t, err, "%q", in) {
			assert.Contains(t, err.Error(), want)
		}
	}
}

// Every name KeyName returns, but Space, is tcell's name of a key: the
// dashboard binds it by that name.
func TestKeyNamesAreTcells(t *testing.T) {
	tc := map[string]bool{}
	for _, n := range tcell.KeyNames {
		tc[n] = true
	}
	for _, n := range named {
		if n != "Space" {
			assert.True(t, tc[n], "%s is not a tcell key name", n)
		}
	}
}

func TestKeysAndViewsDecode(t *testing.T) {
	c, err := Parse([]byte(`
sources: [{name: a, type: prometheus, url: 'http://p:9090'}]
keys: {ack: A, down: [j, down], refresh: ctrl+r, next-unacked: "]"}
views:
  - {name: pay-crit, filter: 'service=~"pay.*" severity=critical', panel: alerts}
  - {name: old, panel: backlog, sort: age}
`), "")
	require.NoError(t, err)
	assert.Equal(t, map[string]KeyList{"ack": {"A"}, "down": {"j", "Down"}, "refresh": {"Ctrl-R"}, "next-unacked": {"]"}}, c.Keys)
	assert.Equal(t, []View{{Name: "pay-crit", Filter: `service=~"pay.*" severity=critical`, Panel: "alerts"}, {Name: "old", Panel: "backlog", Sort: "age"}}, c.Views)

	// Swapping two actions' keys is no conflict.
	_, err = Parse([]byte("sources: [{name: a, type: prometheus, url: 'http://p:9090'}]\nkeys: {ack: u, unack: a}\n"), "")
	assert.NoError(t, err)

	_, err = Parse([]byte("sources: [{name: a, type: prometheus, url: 'http://p:9090'}]\nkeys: {ack: {key: a}}\n"), "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 2: keys.ack: want a key name or a list of key names")
}
