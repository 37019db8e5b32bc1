package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const keepBase = "sources:\n  - {name: am, type: alertmanager, url: http://127.0.0.1:9093}\n"

func TestHistoryKeep(t *testing.T) {
	c, err := Parse([]byte(keepBase+"history: {keep: 500d, keep_alerts: 14d}\n"), t.TempDir())
	require.NoError(t, err)
	assert.Equal(t, 500*24*time.Hour, c.HistoryRetention())
	assert.Equal(t, 14*24*time.Hour, c.AlertRetention())

	old, err := Parse([]byte(keepBase+"retention: 20d\n"), t.TempDir())
	require.NoError(t, err, "retention is still accepted")
	assert.Equal(t, 20*24*time.Hour, old.HistoryRetention())
	assert.Equal(t, 20*24*time.Hour, old.AlertRetention(), "alert rows never outlive the rest")

	for _, tc := range []struct{ doc, want string }{
		{"retention: 30d\nhistory: {keep: 400d}\n", "history.keep and retention (its older name) are both set"},
		{"history: {keep: 2h}\n", "history.keep: history.keep 2h is too short"},
		{"history: {keep_alerts: 1h}\n", "history.keep_alerts: history.keep_alerts 1h is too short"},
		{"history: {keep: 30d, keep_alerts: 60d}\n", "history.keep_alerts: history.keep_alerts 60d is longer than history.keep 30d"},
		{"history: {kep: 30d}\n", "history.kep: unknown key"},
		{"history: {keep: 30x}\n", "history.keep"},
	} {
		_, err := Parse([]byte(keepBase+tc.doc), t.TempDir())
		require.Error(t, err, tc.doc)
		assert.Contains(t, err.Error(), tc.want, tc.doc)
	}
}
