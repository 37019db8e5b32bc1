package ui_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

// fakeStats answers the Stats view with fixed figures, recording what it
// was asked; gate, when set, holds each answer until it is closed.
type fakeStats struct {
	mu   sync.Mutex
	s    *model.Stats
	err  error
	gate chan struct{}
	asks []ui.StatsRequest
}

func (f *fakeStats) Stats(ctx context.Context, q ui.StatsRequest) (*model.Stats, error) {
	f.mu.Lock()
	f.asks = append(f.asks, q)
	gate, s, err := f.gate, f.s, f.err
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err != nil {
		return nil, err
	}
	c := *s
	c.Service = q.Service
	c.Bucket = q.Bucket
	return &c, nil
}

func (f *fakeStats) last() ui.StatsRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.asks[len(f.asks)-1]
}

var statsNow = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func statsOpts(src ui.StatsSource) ui.Options {
	return ui.Options{Stats: src, Operator: "noc1", Now: func() time.Time { return statsNow }}
}

// The Stats view at the smallest supported screen and a wall-sized one,
// from hand-made figures: the summary, the charts, then (scrolled) the
// tables.
func TestStatsViewGoldens(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {200, 60}} {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			hs := uitest.Start(t, statsOpts(&fakeStats{s: statsFixture()}), sz[0], sz[1])
			hs.Type("T")
			uitest.Golden(t, fmt.Sprintf("stats-view-%dx%d", sz[0], sz[1]), hs.Text())
			for _, l := range hs.Text() {
				assert.LessOrEqual(t, len([]rune(l)), sz[0])
			}
			if sz[1] == 24 {
				hs.Type("G")
				uitest.Golden(t, "stats-view-80x24-bottom", hs.Text())
			}
		})
	}
}

// "loading…" until the figures arrive, then the figures; Esc closes.
func TestStatsViewLoadsOffTheUIGoroutine(t *testing.T) {
	f := &fakeStats{s: statsFixture(), gate: make(chan struct{})}
	hs := uitest.Start(t, statsOpts(f), 100, 30)
	hs.App.InjectKey(tcell.NewEventKey(tcell.KeyRune, 'T', tcell.ModNone))
	require.Eventually(t, func() bool { return hs.Contains("loading…") }, uitest.Timeout, 5*time.Millisecond)
	assert.True(t, hs.Contains("Stats · the last 7 days · by day · all services"))
	close(f.gate)
	hs.WaitIdle()
	assert.True(t, hs.Contains("22 outages (critical 9 · warning 13)"))
	assert.False(t, hs.Contains("loading…"))
	assert.Equal(t, ui.StatsRequest{Days: 7, Bucket: model.BucketDay}, f.last())
	hs.Key(tcell.KeyEscape)
	assert.False(t, hs.Contains("Stats ·"))
	assert.True(t, hs.Contains("Outages"), "back on the panels")
}

// p switches 7/30 days, b day/week, s cycles the services of the figures
// and back to every service; each reads the figures again.
func TestStatsViewKeys(t *testing.T) {
	f := &fakeStats{s: statsFixture()}
	hs := uitest.Start(t, statsOpts(f), 120, 40)
	hs.Type("T")
	hs.Type("p")
	assert.Equal(t, ui.StatsRequest{Days: 30, Bucket: model.BucketDay}, f.last())
	assert.True(t, hs.Contains("Stats · the last 30 days"))
	hs.Type("b")
	assert.Equal(t, ui.StatsRequest{Days: 30, Bucket: model.BucketWeek}, f.last())
	assert.True(t, hs.Contains("Outages per week"))
	var seen []string
	for range 4 {
		hs.Type("s")
		seen = append(seen, f.last().Service)
	}
	assert.Equal(t, []string{"checkout", "payments", "db-main", ""}, seen, "the services of the figures, then every one")
	hs.Type("p")
	assert.Equal(t, ui.StatsRequest{Days: 7, Bucket: model.BucketWeek}, f.last())
	hs.Type("?")
	assert.True(t, hs.Contains("Help"))
	hs.Key(tcell.KeyEscape)
	assert.True(t, hs.Contains("Stats · the last 7 days"), "closing help returns to the view")
}

// With few data the view says what did not happen instead of drawing
// empty charts; a failed read says why in words.
func TestStatsViewQuietAndFailing(t *testing.T) {
	hs := uitest.Start(t, statsOpts(&fakeStats{s: quietStats()}), 80, 24)
	hs.Type("T")
	assert.True(t, hs.Contains("no outages in the last 7 days"))
	assert.False(t, hs.Contains("Outages per day"))
	hs.Type("s")
	assert.True(t, hs.Contains("no service had an outage in the last 7 days"))

	bad := uitest.Start(t, statsOpts(&fakeStats{err: errors.New("database is locked")}), 80, 24)
	bad.Type("T")
	assert.True(t, bad.Contains("statistics could not be read: database is locked"))
	assert.True(t, bad.Contains("r tries again"))

	none := uitest.Start(t, ui.Options{Operator: "noc1"}, 80, 24)
	none.Type("T")
	assert.True(t, none.Contains("T: no history to read statistics from"))
}

// The Stats key is in the palette and can be remapped like any other.
func TestStatsKeyPaletteAndRemap(t *testing.T) {
	f := &fakeStats{s: statsFixture()}
	hs := uitest.Start(t, statsOpts(f), 120, 40)
	hs.Type(":stats")
	assert.True(t, hs.Contains("Stats view: outages, MTTA/MTTR"))
	hs.Key(tcell.KeyEnter)
	assert.True(t, hs.Contains("Stats · the last 7 days"))

	o := statsOpts(f)
	o.Keys = map[string][]string{"stats": {"F3"}, "stats-span": {"7"}}
	re := uitest.Start(t, o, 120, 40)
	re.Type("T")
	assert.False(t, re.Contains("Stats ·"), "T no longer opens it")
	re.Key(tcell.KeyF3)
	assert.True(t, re.Contains("Stats · the last 7 days"))
	re.Type("7")
	assert.True(t, re.Contains("Stats · the last 30 days"))
	assert.True(t, strings.Contains(strings.Join(re.Text(), "\n"), "7 7d/30d"), "the footer shows the remapped key")
}

// On the wall screen the Stats view (the last 7 days) can rotate with the
// panels, after the backlog; its figures are read once, not every turn.
func TestKioskRotatesTheStatsView(t *testing.T) {
	c := newTestClock()
	f := &fakeStats{s: statsFixture()}
	opts := kioskOpts(c.Now)
	opts.Stats, opts.KioskStats = f, true
	h := startKiosk(t, opts, 200, 60, ticketFixture())
	var seen []string
	for range 6 {
		tick(h, c, ui.KioskRotateDefault)
		seen = append(seen, strings.TrimLeft(strings.Fields(shownPanel(h))[0], "1234 ")+strings.TrimPrefix(strings.Fields(shownPanel(h))[1], "·"))
	}
	assert.Equal(t, []string{"Alerts", "Dependencies", "Backlog", "Stats", "Outages", "Alerts"}, seen)
	h.Key(tcell.KeyTab)
	h.Key(tcell.KeyTab)
	h.Key(tcell.KeyTab)
	require.Equal(t, "Stats · the last 7 days · by day · all services", shownPanel(h))
	uitest.Golden(t, "kiosk-stats-200x60", h.Text())
	f.mu.Lock()
	assert.Len(t, f.asks, 1, "figures younger than 5 minutes are shown again, not read again")
	f.mu.Unlock()
	h.Key(tcell.KeyBacktab)
	assert.Equal(t, "4 Backlog", strings.Fields(shownPanel(h))[0]+" "+strings.Fields(shownPanel(h))[1])

	// without the option the wall shows the panels only
	plain := startKiosk(t, kioskOpts(c.Now), 80, 24, ticketFixture())
	plain.Type("T")
	assert.NotContains(t, shownPanel(plain), "Stats")
}
