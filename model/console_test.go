package model

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// No two actions share a key in one scope.
func TestDefaultKeysDoNotClash(t *testing.T) {
	defs := DefaultKeys()
	for _, d := range defs {
		if other, key := holder(defs, d.Scope, d.Action, append(append([]string(nil), d.Keys...), d.Also...)); other != "" {
			t.Errorf("%s: %s and %s both hold %s", d.Scope, d.Action, other, key)
		}
	}
}

func keysOf(defs []KeyDef, scope, action string) []string {
	for _, d := range defs {
		if d.Scope == scope && d.Action == action {
			return d.Keys
		}
	}
	return nil
}

func TestRemapKeys(t *testing.T) {
	defs, errs := RemapKeys(map[string][]string{"down": {"J", "Down"}, "ack": {"A"}, "quit": {"Q"}})
	require.Empty(t, errs)
	for _, scope := range []string{ScopeMain, ScopeDetail, ScopeHelp} {
		assert.Equal(t, []string{"J", "Down"}, keysOf(defs, scope, "down"), scope)
	}
	assert.Equal(t, []string{"Down"}, keysOf(defs, ScopePalette, "down"), "the palette's keys are fixed")
	assert.Equal(t, []string{"A"}, keysOf(defs, ScopeMain, "ack"))
	assert.Equal(t, []string{"Q"}, keysOf(defs, ScopeDetail, "quit"))

	defs, errs = RemapKeys(map[string][]string{"ack": {"j"}, "keep-filter": {"Tab"}, "note": {}})
	assert.Equal(t, []KeyMapError{
		{"ack", "j is also down's key in main (remap that action too, or pick another key)"},
		{"keep-filter", errs[1].Msg},
		{"note", "give at least one key"},
	}, errs)
	assert.Contains(t, errs[1].Msg, `unknown action "keep-filter"`, "the filter line's keys are not remappable")
	assert.Equal(t, DefaultKeys(), defs, "with problems, the defaults")

	_, errs = RemapKeys(map[string][]string{"ack": {"j"}, "down": {"J"}})
	assert.Empty(t, errs, "a key freed by another remap may be taken")
}
