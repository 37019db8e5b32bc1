package ui_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/ui"
)

// Every key of the binding table is in the key list of docs/keys.md.
func TestDocsListEveryKey(t *testing.T) {
	doc, err := os.ReadFile("../docs/keys.md")
	require.NoError(t, err)
	for _, k := range ui.KeyHelp(false) {
		row := fmt.Sprintf("| %s | `%s` | %s |", k[0], k[1], k[2])
		assert.True(t, strings.Contains(string(doc), row), "docs/keys.md (from ui.KeyHelp) lacks the row %s", row)
	}
}

// docs/keys.md names every action a config's keys may remap.
func TestDocsNameEveryAction(t *testing.T) {
	doc, err := os.ReadFile("../docs/keys.md")
	require.NoError(t, err)
	var names []string
	for _, a := range model.KeyActions() {
		names = append(names, "`"+a+"`")
	}
	text := strings.Join(strings.Fields(string(doc)), " ")
	want := "Action names: " + strings.Join(names, ", ") + "."
	assert.Contains(t, text, want, "docs/keys.md lacks the line of action names")
}
