package ui_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

func bigSnapshot(n int) *model.Snapshot {
	rows := make([]*model.AlertRow, 0, n)
	sev := []string{"critical", "warning", "info"}
	for i := 0; i < n; i++ {
		labels := map[string]string{
			"alertname": fmt.Sprintf("Alert%d", i%500),
			"severity":  sev[i%3],
			"service":   fmt.Sprintf("svc-%d", i%200),
			"instance":  fmt.Sprintf("10.0.%d.%d:9100", i/256%256, i%256),
			"job":       "node",
			"env":       "prod",
			"region":    "eu-west-1",
			"team":      fmt.Sprintf("team-%d", i%20),
		}
		rows = append(rows, row("am-eu", model.StateFiring, time.Duration(i)*time.Second, labels,
			map[string]string{"summary": fmt.Sprintf("something is wrong on instance %d", i), "description": "longer text"}))
	}
	return model.BuildSnapshot(rows, []model.SourceStatus{{Name: "am-eu", LastAttempt: fixedNow, LastSuccess: fixedNow}},
		model.SnapshotOptions{Now: fixedNow})
}

// BenchmarkKeyToFrame measures one key press (move the selection down in
// the alerts panel) to the next frame at 200×60 with 50k signals.
func BenchmarkKeyToFrame(b *testing.B) {
	h := uitest.Start(b, ui.Options{Now: func() time.Time { return fixedNow }}, 200, 60)
	h.Push(bigSnapshot(50000))
	h.Type("2")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.Key(tcell.KeyDown)
	}
}

// BenchmarkFilterKeystroke measures typing one more character of a filter
// over 50k signals (the view is rebuilt once per keystroke).
func BenchmarkFilterKeystroke(b *testing.B) {
	h := uitest.Start(b, ui.Options{Now: func() time.Time { return fixedNow }}, 200, 60)
	h.Push(bigSnapshot(50000))
	h.Type("2/instance 1")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			h.Type("2")
		} else {
			h.Key(tcell.KeyBackspace2)
		}
	}
}

// BenchmarkSnapshotSwap measures swapping a new 50k snapshot in and drawing it.
func BenchmarkSnapshotSwap(b *testing.B) {
	h := uitest.Start(b, ui.Options{Now: func() time.Time { return fixedNow }}, 200, 60)
	snaps := []*model.Snapshot{bigSnapshot(50000), bigSnapshot(50000)}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.Push(snaps[i%2])
	}
}

// BenchmarkDrawScreen measures one full frame at 200×60 with 50k signals.
func BenchmarkDrawScreen(b *testing.B) {
	s := uitest.NewScreen(b, 200, 60)
	snap := bigSnapshot(50000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ui.DrawPanel(s, ui.PanelScreen, snap, ui.DrawOptions{Now: fixedNow, Focus: ui.PanelAlerts})
	}
}

// BenchmarkFilterTermsKeystroke is BenchmarkFilterKeystroke with label
// and age terms before the text (the terms are parsed every keystroke;
// a longer text still narrows the previous result).
func BenchmarkFilterTermsKeystroke(b *testing.B) {
	h := uitest.Start(b, ui.Options{Now: func() time.Time { return fixedNow }}, 200, 60)
	h.Push(bigSnapshot(50000))
	h.Type(`2/severity=~"crit.*" @age>1m @acked=false instance 1`)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			h.Type("2")
		} else {
			h.Key(tcell.KeyBackspace2)
		}
	}
}
