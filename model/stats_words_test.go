package model_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
)

// Without shifts.zone the figures are in the host's zone, which Go names
// "Local": the md and html titles name it as the text format does, by its
// abbreviation, never "Local".
func TestStatsTitleNamesTheHostZone(t *testing.T) {
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.Local)
	s := model.BuildStats(&model.StatsFacts{From: from, To: from.AddDate(0, 0, 7)},
		model.StatsOptions{Bucket: model.BucketDay, Shifts: model.ShiftSchedule{Zone: time.Local}, Now: from.AddDate(0, 0, 7)})
	require.Equal(t, "Local", s.Zone, "JSON's zone: Go's name of the host's zone")
	want := "(" + from.Format("MST") + ")"
	html, err := s.HTML()
	require.NoError(t, err)
	for name, out := range map[string]string{"md": s.Markdown(), "html": string(html)} {
		title, _, _ := strings.Cut(out[strings.Index(out, "Span: "):], "\n")
		assert.Contains(t, title, want, name)
		assert.NotContains(t, title, "Local", name)
	}
}

// A span in which no outage was acknowledged or resolved has no line to
// draw: the html says so, as the text format does, instead of an empty
// chart.
func TestStatsHTMLSaysWhenThereIsNothingToMeasure(t *testing.T) {
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	f := &model.StatsFacts{From: from, To: from.AddDate(0, 0, 7),
		Outages: []model.StatsOutage{{Service: "db", Severity: model.SevCritical, Opened: from.Add(time.Hour)}}}
	s := model.BuildStats(f, model.StatsOptions{Bucket: model.BucketDay, Shifts: model.ShiftSchedule{Zone: time.UTC}, Now: f.To})
	require.Equal(t, 1, s.Totals.Outages)
	b, err := s.HTML()
	require.NoError(t, err)
	out := string(b)
	assert.Equal(t, 1, strings.Count(out, "<svg"), "the outages' chart only")
	assert.Contains(t, out, "<p>Nothing to measure: no outage acknowledged or resolved.</p>")
}
