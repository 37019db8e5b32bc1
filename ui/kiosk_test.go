package ui_test

import (
	"github.com/gdamore/tcell/v2"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sitroom/model"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

// testClock is a clock a test moves by hand.
type testClock struct{ ns atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.ns.Store(fixedNow.UnixNano())
	return c
}

func (c *testClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *testClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }
func (c *testClock) set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func kioskOpts(now func() time.Time) ui.Options {
	// The ticker never fires by itself: the test ticks (App.Tick).
	return ui.Options{Operator: "alice", Now: now, Kiosk: true, Tick: time.Hour}
}

func startKiosk(t *testing.T, opts ui.Options, w, h int, snap *model.Snapshot) *uitest.Harness {
	t.Helper()
	hs := uitest.Start(t, opts, w, h)
	hs.Push(snap)
	return hs
}

// tick moves the clock by d and lets the App tick once.
func tick(h *uitest.Harness, c *testClock, d time.Duration) {
	c.Advance(d)
	h.App.Tick()
	h.WaitIdle()
}

func TestKioskGoldens(t *testing.T) {
	for _, c := range []struct {
		name string
		snap *model.Snapshot
		term string
		w, h int
	}{
		{"kiosk-80x24", ticketFixture(), "", 80, 24},
		{"kiosk-160x48", ticketFixture(), "", 160, 48},
		{"kiosk-200x60", ticketFixture(), "", 200, 60},
		{"kiosk-no-tickets-80x24", fixture(), "", 80, 24},
		{"kiosk-ascii-80x24", ticketFixture(), "vt100", 80, 24},
		{"kiosk-40x10", ticketFixture(), "", 40, 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := kioskOpts(func() time.Time { return fixedNow })
			opts.Term = c.term
			h := startKiosk(t, opts, c.w, c.h, c.snap)
			uitest.Golden(t, c.name, h.Text())
		})
	}
}

// panelTitle is the title of the panel box on screen ("1 Outages (2)").
func shownPanel(h *uitest.Harness) string {
	for _, l := range h.Text() {
		if strings.HasPrefix(l, "┌─ ") {
			return strings.TrimSpace(strings.Trim(strings.TrimPrefix(l, "┌─ "), "─┐"))
		}
	}
	return ""
}

func TestKioskRotatesPanels(t *testing.T) {
	c := newTestClock()
	h := startKiosk(t, kioskOpts(c.Now), 80, 24, ticketFixture())
	want := func(prefix string) {
		t.Helper()
		if got := shownPanel(h); !strings.HasPrefix(got, prefix) {
			t.Fatalf("panel shown is %q, want %q:\n%s", got, prefix, screen(h))
		}
	}
	want("1 Outages")
	tick(h, c, 14*time.Second)
	want("1 Outages")
	for _, next := range []string{"2 Alerts", "3 Dependencies · payments-legacy", "4 Backlog", "1 Outages"} {
		frames := h.App.Draws()
		tick(h, c, time.Second)
		want(next)
		if n := h.App.Draws() - frames; n != 1 {
			t.Fatalf("showing %s took %d frames, want 1", next, n)
		}
		tick(h, c, 14*time.Second)
		want(next)
	}
	// Tab shows the next panel at once and restarts the period; 1–4 a given one.
	h.Key(tcell.KeyTab)
	want("2 Alerts")
	tick(h, c, 14*time.Second)
	want("2 Alerts")
	h.Type("4")
	want("4 Backlog")
	h.Key(tcell.KeyBacktab)
	want("3 Dependencies")
}

func TestKioskRotationSkipsTheBacklogWithoutTickets(t *testing.T) {
	c := newTestClock()
	opts := kioskOpts(c.Now)
	opts.KioskRotate = time.Minute
	h := startKiosk(t, opts, 80, 24, fixture())
	if !h.Contains("panels rotate every 1m") {
		t.Fatalf("footer does not give the period:\n%s", screen(h))
	}
	var seen []string
	for i := 0; i < 4; i++ {
		tick(h, c, time.Minute)
		seen = append(seen, strings.Fields(shownPanel(h))[1])
	}
	if got := strings.Join(seen, " "); got != "Alerts Dependencies Outages Alerts" {
		t.Fatalf("rotation without a ticket source: %s", got)
	}
}

// Every key that acts, opens a form, a filter or a document does nothing on
// the wall screen but say what the screen is; no request reaches the Actor,
// and neither does a mouse click.
func TestKioskActsOnNothing(t *testing.T) {
	a := newFakeActor(model.RoleLead)
	opts := kioskOpts(func() time.Time { return fixedNow })
	opts.Actor = a
	opts.Mouse = true // ignored on a wall screen
	h := startKiosk(t, opts, 130, 40, ticketFixture())
	for _, k := range []string{"a", "u", "e", "t", "n", "/", ":", "?", "]", "b", "o", "h", "y", "s", "v", "r", "j", "G"} {
		h.Type(k)
		if !h.Contains("read-only wall screen: q quits") {
			t.Fatalf("%q: no refusal shown:\n%s", k, screen(h))
		}
		if h.Contains("Acknowledge") || h.Contains("Escalate") || h.Contains("Enter keep") || !h.Contains("sitroom wall screen") {
			t.Fatalf("%q opened something on the wall screen:\n%s", k, screen(h))
		}
	}
	for _, k := range []tcell.Key{tcell.KeyEnter, tcell.KeyEscape, tcell.KeyDown, tcell.KeyCtrlU} {
		h.Key(k)
		if !h.Contains("read-only wall screen: q quits") || h.Contains("Detail") || h.Contains("Acknowledge") {
			t.Fatalf("%v acted on the wall screen:\n%s", k, screen(h))
		}
	}
	// Enter on a ticket of the backlog, where the console opens it.
	h.Type("4")
	h.Key(tcell.KeyEnter)
	h.Type("e")
	h.Key(tcell.KeyEnter)
	if !strings.HasPrefix(shownPanel(h), "4 Backlog") || h.Contains("Escalate") {
		t.Fatalf("the backlog acted on the wall screen:\n%s", screen(h))
	}
	h.Type("1")
	before := screen(h)
	y := lineOf(t, h, "CRIT checkout")
	clickAt(h, 10, y)
	clickAt(h, 10, y)
	wheelAt(h, 10, y, tcell.WheelDown)
	if got := screen(h); got != before {
		t.Fatalf("a click changed the wall screen:\n%s\nwas:\n%s", got, before)
	}
	if reqs := a.requests(); len(reqs) != 0 {
		t.Fatalf("the wall screen sent %d requests to the actor: %+v", len(reqs), reqs)
	}
	h.Type("q")
	if !h.Exited() {
		t.Fatal("q did not quit the wall screen")
	}
}

// The wall screen's keys are the binding table's: remapped, they move.
func TestKioskKeysFollowRemaps(t *testing.T) {
	c := newTestClock()
	opts := kioskOpts(c.Now)
	opts.Keys = map[string][]string{"quit": {"x"}, "next-panel": {"w"}}
	h := startKiosk(t, opts, 80, 24, ticketFixture())
	if !h.Contains("x quit  w next panel") {
		t.Fatalf("footer does not show the remapped keys:\n%s", screen(h))
	}
	h.Type("w")
	if got := shownPanel(h); !strings.HasPrefix(got, "2 Alerts") {
		t.Fatalf("w (next-panel) shows %q", got)
	}
	h.Type("q")
	if !h.Contains("read-only wall screen: x quits · w shows the next panel") {
		t.Fatalf("q after the remap:\n%s", screen(h))
	}
	h.Type("x")
	if !h.Exited() {
		t.Fatal("x (quit) did not quit the wall screen")
	}
}

// A wall screen runs for weeks: ticks and rotations start no goroutine and
// keep nothing.
func TestKioskTicksStartNoGoroutine(t *testing.T) {
	c := newTestClock()
	h := startKiosk(t, kioskOpts(c.Now), 80, 24, ticketFixture())
	tick(h, c, time.Second)
	base := runtime.NumGoroutine()
	for i := 0; i < 300; i++ {
		tick(h, c, 5*time.Second)
	}
	if n := runtime.NumGoroutine(); n > base {
		t.Fatalf("goroutines grew from %d to %d over 300 ticks", base, n)
	}
}

// clickAt presses and releases the left button at (x, y).
func clickAt(h *uitest.Harness, x, y int) {
	h.App.InjectMouse(x, y, tcell.ButtonPrimary)
	h.App.InjectMouse(x, y, tcell.ButtonNone)
	h.WaitIdle()
}

// wheelAt turns the wheel one step at (x, y).
func wheelAt(h *uitest.Harness, x, y int, b tcell.ButtonMask) {
	h.App.InjectMouse(x, y, b)
	h.WaitIdle()
}

// lineOf is the first screen row that contains sub.
func lineOf(t *testing.T, h *uitest.Harness, sub string) int {
	t.Helper()
	for y, l := range h.Text() {
		if strings.Contains(l, sub) {
			return y
		}
	}
	t.Fatalf("no line shows %q:\n%s", sub, screen(h))
	return -1
}

// BenchmarkKioskTick is one second of the wall screen: the clock moves a
// second and the App ticks and draws (every 15th a rotation). It reports
// the heap still held after b.N ticks, per tick, which must stay near 0
// for a screen that runs for weeks.
func BenchmarkKioskTick(b *testing.B) {
	c := newTestClock()
	h := uitest.Start(b, kioskOpts(c.Now), 160, 48)
	h.Push(ticketFixture())
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tick(h, c, time.Second)
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(b.N), "retained-B/tick")
}

// The wall screen singles out no row: nobody selects anything on it, so
// no row of any rotated panel is drawn reversed as the console's selected
// row is.
func TestKioskMarksNoSelectedRow(t *testing.T) {
	clock := newTestClock()
	h := startKiosk(t, kioskOpts(clock.Now), 160, 48, ticketFixture())
	for i := 0; i < 4; i++ {
		var cells []tcell.SimCell
		var w int
		h.App.Inspect(func() { cells, w, _ = h.Screen.GetContents() })
		top := -1
		for y, l := range h.Text() {
			if strings.HasPrefix(l, "┌─ ") {
				top = y
				break
			}
		}
		if top < 0 {
			t.Fatalf("no panel on the wall screen:\n%s", strings.Join(h.Text(), "\n"))
		}
		// A selected row is reversed from border to border (a breached
		// SLA cell alone is reversed on purpose).
		reversed := func(x, y int) bool {
			_, _, attr := cells[y*w+x].Style.Decompose()
			return attr&tcell.AttrReverse != 0
		}
		for y := top + 1; y < len(cells)/w; y++ {
			if reversed(1, y) && reversed(w-2, y) {
				t.Fatalf("%s: row %d is drawn as a selected row", shownPanel(h), y)
			}
		}
		h.Key(tcell.KeyTab)
	}
}
