package ui_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"sitroom/model"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

// staleTicketFixture is ticketFixture with its ticket source down for 4
// minutes and one more ticket, breached 99 days and 23 hours ago.
func staleTicketFixture() *model.Snapshot {
	snap := ticketFixture()
	var tickets []*model.Ticket
	for _, it := range snap.Tickets {
		tickets = append(tickets, it.Ticket)
	}
	tickets = append(tickets, &model.Ticket{Source: "rt", ID: "977", Number: "#977", Tier: model.Tier1, Queue: "NOC",
		Priority: model.PriorityModerate, Status: "open", Subject: "badge reader at the loading dock", Created: ago(101 * 24 * time.Hour),
		SLA: model.TicketSLA{Known: true, Name: "target", Due: fixedNow.Add(-(99*24 + 23) * time.Hour)}})
	down := model.SourceStatus{Name: "rt", Type: "rt", LastAttempt: fixedNow,
		LastSuccess: fixedNow.Add(-4 * time.Minute), LastError: "connection refused"}
	found := false
	for i := range snap.Sources {
		if snap.Sources[i].Name == "rt" {
			snap.Sources[i], found = down, true
		}
	}
	if !found {
		snap.Sources = append(snap.Sources, down)
	}
	model.AttachTickets(snap, tickets, []string{"rt"}, nil)
	return snap
}

// A failing ticket source's counts are its last good poll's: the header
// marks them (T1 6*) and the tier lines say as of when, as its rows
// already are; the SLA LEFT of a ticket breached 99 days ago reads whole
// or shorter, never cut ("BREACHED 99d2…"), at every width from 80.
func TestBacklogStaleAndLongBreaches(t *testing.T) {
	snap := staleTicketFixture()
	for _, sz := range [][2]int{{80, 24}, {132, 40}, {200, 60}} {
		name := fmt.Sprintf("backlog-stale-%dx%d", sz[0], sz[1])
		t.Run(name, func(t *testing.T) {
			s := uitest.NewScreen(t, sz[0], sz[1])
			ui.DrawPanel(s, ui.PanelScreen, snap, ui.DrawOptions{Now: fixedNow, Operator: "alice", Focus: ui.PanelBacklog})
			lines := uitest.ScreenText(s)
			text := strings.Join(lines, "\n")
			if !strings.Contains(lines[0], "*") {
				t.Errorf("the header's ticket counts are not marked stale: %q", lines[0])
			}
			if !strings.Contains(text, "as of "+fixedNow.Add(-4*time.Minute).Local().Format("15:04")) {
				t.Errorf("the tier lines do not say as of when:\n%s", text)
			}
			if strings.Contains(text, "BREACHED 99d2…") || !strings.Contains(text, "BREACHED 99d") {
				t.Errorf("the long breach is cut:\n%s", text)
			}
			uitest.Golden(t, name, lines)
		})
	}
	for _, w := range []int{80, 160} {
		s := uitest.NewScreen(t, w, 3)
		ui.DrawPanel(s, ui.PanelHeader, snap, ui.DrawOptions{Now: fixedNow, Operator: "alice"})
		head := uitest.ScreenText(s)[0]
		want := map[int]string{80: "T1 6*", 160: "6 T1*"}[w]
		if !strings.Contains(head, want) {
			t.Errorf("at %d columns the header reads %q, want %q", w, head, want)
		}
	}
}
