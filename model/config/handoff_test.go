package config

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHistorySettings(t *testing.T) {
	c, err := Load(filepath.Join(fixtures, "good", "handoff.yaml"))
	require.NoError(t, err)
	assert.Equal(t, 14*24*time.Hour, c.HistoryRetention())
	assert.Equal(t, 90*time.Second, c.Grace())
	s := c.ShiftSchedule()
	assert.Equal(t, "Europe/London", s.Zone.String())
	// 06:59 London on a summer day is in the night shift that began 23:00
	from, to := s.ShiftAt(time.Date(2026, 7, 1, 5, 59, 0, 0, time.UTC))
	assert.Equal(t, time.Date(2026, 6, 30, 22, 0, 0, 0, time.UTC), from.UTC())
	assert.Equal(t, time.Date(2026, 7, 1, 6, 0, 0, 0, time.UTC), to.UTC())

	d, err := Load(filepath.Join(fixtures, "good", "minimal.yaml"))
	require.NoError(t, err)
	assert.Equal(t, 400*24*time.Hour, d.HistoryRetention(), "history.keep: 400d by default")
	assert.Equal(t, 30*24*time.Hour, d.AlertRetention(), "history.keep_alerts: 30d by default")
	assert.Equal(t, 2*time.Minute, d.Grace())
	assert.Empty(t, d.ShiftSchedule().Starts, "default starts (07:00, 15:00, 23:00) come from the model")
}
