package ui_test

import (
	"strings"
	"testing"
	"time"

	"sitroom/ui"
	"sitroom/ui/uitest"
)

// The help page's source list counts what each source returned in its
// own terms: alerts for an Alertmanager, tickets for a ticket desk.
func TestHelpCountsTicketsForTicketSources(t *testing.T) {
	snap := fixture()
	for i := range snap.Sources {
		if s := &snap.Sources[i]; s.Name == "rt" {
			s.LastAttempt, s.LastSuccess, s.Items, s.Latency = ago(4*time.Second), ago(4*time.Second), 6, 12*time.Millisecond
		}
	}
	s := uitest.NewScreen(t, 120, 400)
	ui.DrawPanel(s, ui.PanelHelp, snap, ui.DrawOptions{Now: fixedNow})
	text := strings.Join(uitest.ScreenText(s), "\n")
	for _, want := range []string{"last poll     5 alerts in 42ms", "last poll     6 tickets in 12ms"} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q on the help page:\n%s", want, text)
		}
	}
}
