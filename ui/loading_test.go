package ui_test

import (
	"strings"
	"testing"
	"time"

	"sitroom/model"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

// preview is the fixture as the dashboard's first frame shows it from a
// warm cache: only the most severe of 10,000 open alerts.
func preview() *model.Snapshot {
	s := fixture()
	s.Loading = 10_000
	return s
}

// A preview's header says the alerts are loading instead of counts that
// would be wrong; the complete snapshot's header counts them.
func TestPreviewHeaderSaysLoading(t *testing.T) {
	for _, w := range []int{130, 80} {
		s := uitest.NewScreen(t, w, 24)
		ui.DrawPanel(s, ui.PanelScreen, preview(), ui.DrawOptions{Now: fixedNow, Operator: "alice"})
		head := uitest.ScreenText(s)[0]
		if !strings.Contains(head, "loading 10,000 alerts…") {
			t.Errorf("%d columns: the header does not say the alerts are loading: %q", w, head)
		}
		for _, count := range []string{"outages", "firing", "OUT ", "FIRE "} {
			if strings.Contains(head, count) {
				t.Errorf("%d columns: the header counts a preview (%q): %q", w, count, head)
			}
		}
		ui.DrawPanel(s, ui.PanelScreen, fixture(), ui.DrawOptions{Now: fixedNow, Operator: "alice"})
		if head := uitest.ScreenText(s)[0]; strings.Contains(head, "loading") {
			t.Errorf("%d columns: a complete snapshot still says loading: %q", w, head)
		}
	}
}

// An outage of a preview may lack alerts that are not loaded yet: acting
// on it waits for the complete snapshot.
func TestNoAckOnAPreview(t *testing.T) {
	a := newFakeActor(model.RoleTier1)
	h := uitest.Start(t, ui.Options{Operator: "alice", Now: func() time.Time { return fixedNow }, Actor: a}, 130, 40)
	h.Push(preview())
	h.Type("a")
	if !h.Contains("loading the alerts") {
		t.Fatalf("a on a preview does not say why it waits:\n%s", screen(h))
	}
	if h.Contains("Acknowledge outage") {
		t.Fatalf("the ack form opened on a preview:\n%s", screen(h))
	}
	h.Push(fixture())
	h.Type("a")
	if !h.Contains("Acknowledge outage payments-legacy") {
		t.Fatalf("no ack form once the alerts are loaded:\n%s", screen(h))
	}
}

// A preview's tab and panel counts are the least there are ("2+"), not
// totals: the complete snapshot's are plain.
func TestPreviewCountsAreLowerBounds(t *testing.T) {
	s := uitest.NewScreen(t, 80, 24)
	ui.DrawPanel(s, ui.PanelScreen, preview(), ui.DrawOptions{Now: fixedNow, Operator: "alice"})
	text := strings.Join(uitest.ScreenText(s), "\n")
	for _, want := range []string{"1 Outages (2+)", "2 Alerts (7+)", "┌─ 1 Outages (2+)"} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q on a preview:\n%s", want, text)
		}
	}
	ui.DrawPanel(s, ui.PanelScreen, fixture(), ui.DrawOptions{Now: fixedNow, Operator: "alice"})
	text = strings.Join(uitest.ScreenText(s), "\n")
	if strings.Contains(text, "+)") || !strings.Contains(text, "┌─ 1 Outages (2)") {
		t.Errorf("a complete snapshot's counts are not plain:\n%s", text)
	}
}
