package runtime_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model/cache"
	"sitroom/sources"
	"sitroom/sources/demo"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

// The --demo cascade through the real path (demo upstreams over HTTP →
// Prometheus and Alertmanager sources → poller → cache → snapshot → UI):
// with db-main down, the outages above it in the chain nest under it as
// symptoms and its dependencies panel lists every downstream team to
// notify; once db-main recovers, payments leads and the rest nest under it.
func TestScenarioDemoCascadeNestsSymptoms(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	d, cfg, at := steppedDemo(t, ctx, 300*time.Millisecond) // poll often: the test steps the scenario
	c, err := cache.Open(filepath.Join(t.TempDir(), "cache.db"))
	require.NoError(t, err)
	p := configPoller(t, c, cfg, sources.PollerOptions{Holder: "deps-test"})
	done := make(chan struct{})
	at(230 * time.Second) // db-main, payments, checkout and web all down
	require.Equal(t, demo.PhaseWeb, d.Phase())
	go func() { p.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; c.Close(); d.Close() })

	h := uitest.Start(t, ui.Options{Feed: p, Operator: "noc1"}, 160, 48)
	waitScreen(t, h, 15*time.Second, "the cascade nested under db-main", func(text string) bool {
		return strings.Contains(text, "1 Outages (4) · 3 symptoms nested") && strings.Contains(text, "3 Dependencies · db-main")
	})
	lines := h.Text()
	var rows []string // the services of the outage rows, with their tree glyphs
	for _, l := range lines[4:24] {
		left, _, _ := strings.Cut(l, "││")
		f := strings.Fields(strings.TrimPrefix(left, "│"))
		if len(f) > 0 && f[0] == "▲" { // the severity's glyph
			f = f[1:]
		}
		if len(f) > 2 && f[0] == "CRIT" {
			if f[1] == "├" || f[1] == "└" {
				rows = append(rows, f[1]+" "+f[2])
			} else {
				rows = append(rows, f[1])
			}
		}
	}
	assert.Equal(t, []string{"db-main", "├ payments", "├ checkout", "└ web"}, rows, "the cause leads, its symptoms nested under it, nearest first")

	text := strings.Join(lines, "\n")
	for _, want := range []string{
		"Probable cause of 3 other outages: nothing upstream is down.",
		"Downstream — impacted (3)",
		"Notify — 3 teams (y copies)",
		"team-data      #data-oncall",
		"team-payments  #payments-oncall",
		"team-web       #web-oncall",
	} {
		assert.Contains(t, text, want)
	}
	h.Type("y")
	clip := string(h.Screen.GetClipboardData())
	for _, team := range []string{
		"team-data: #data-oncall, data-oncall@example.com (db-main)",
		"team-payments: #payments-oncall, payments-oncall@example.com (payments)",
		"team-web: #web-oncall, web-oncall@example.com (checkout, web)",
	} {
		assert.Contains(t, clip, team, "y copies every downstream team")
	}

	// payments: its probable cause is db-main, one level up
	h.Type("j")
	waitScreen(t, h, 5*time.Second, "payments' dependencies", func(text string) bool {
		return strings.Contains(text, "3 Dependencies · payments") && strings.Contains(text, "Probable cause: db-main (CRIT outage, 1 level up)")
	})

	// db-main recovers (resolved after two polls without it): payments leads.
	at(250 * time.Second)
	require.Equal(t, demo.PhaseRecovering, d.Phase())
	waitScreen(t, h, 15*time.Second, "payments leading once db-main recovered", func(text string) bool {
		return strings.Contains(text, "1 Outages (3) · 2 symptoms nested") && strings.Contains(text, "3 Dependencies · payments") && strings.Contains(text, "Probable cause of 2 other outages")
	})
	assert.NotRegexp(t, `CRIT +db-main`, strings.Join(h.Text(), "\n"))
}
