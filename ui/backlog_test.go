package ui_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

// ticketFixture is fixture() with an rt ticket source: a breached Tier 1
// ticket linked to checkout, one breaching soon, a paused SLA, a Tier 2
// ticket, one without an SLA and one whose subject is hostile text.
func ticketFixture() *model.Snapshot {
	snap := fixture()
	tk := func(id string, tier model.Tier, p model.Priority, status, subject, requester, owner string, age, due time.Duration) *model.Ticket {
		t := &model.Ticket{Source: "rt", ID: id, Number: "#" + id, Tier: tier, Queue: map[model.Tier]string{model.Tier1: "NOC", model.Tier2: "NOC-T2"}[tier],
			Priority: p, Status: status, Subject: subject, Requester: requester, Owner: owner, Created: ago(age),
			Fields: model.LabelsFromMap(map[string]string{"subject": subject})}
		if due != 0 {
			t.SLA = model.TicketSLA{Known: true, Name: "target", Due: fixedNow.Add(due)}
		}
		return t
	}
	paused := tk("1207", model.Tier1, model.PriorityModerate, "stalled", "VPN drops for the Lisbon office", "lisbon-it@example.com", "", 26*time.Hour, 0)
	paused.SLA = model.TicketSLA{Known: true, Paused: true, Remaining: 3 * time.Hour, AsOf: fixedNow}
	checkout := tk("1193", model.Tier1, model.PriorityCritical, "open", "checkout returns 5xx for card payments", "shop-support@example.com", "", 40*time.Minute, -12*time.Minute)
	checkout.Service = "checkout"
	tickets := []*model.Ticket{
		checkout,
		tk("1201", model.Tier1, model.PriorityHigh, "new", "payments settlement delayed", "finance@example.com", "bob", 90*time.Minute, 20*time.Minute),
		paused,
		tk("1188", model.Tier2, model.PriorityHigh, "open", "db-main replication lag on replica 3", "dba@example.com", "carol", 5*time.Hour, 2*time.Hour),
		tk("1210", model.Tier1, model.PriorityLow, "new", "printer on floor 2 jams", "", "", 10*time.Minute, 0),
		tk("1211", model.Tier1, model.PriorityModerate, "new", hostileTag+" "+hostileOSC+" "+hostileBidi, hostileURL, "", 3*time.Minute, 4*time.Hour),
	}
	cat := model.NewCatalog([]*model.Service{
		{Name: "checkout", Match: mustMatchers(`service="checkout"`), Owner: "team-web", Runbook: "runbooks/checkout.md"},
		{Name: "payments", Match: mustMatchers(`subject=~".*payments.*"`), Owner: "team-pay"},
	})
	model.AttachTickets(snap, tickets, []string{"rt"}, cat)
	return snap
}

func TestBacklogGoldens(t *testing.T) {
	snap := ticketFixture()
	cases := []struct {
		name  string
		panel ui.Panel
		o     ui.DrawOptions
		sizes [][2]int
	}{
		{"backlog", ui.PanelBacklog, ui.DrawOptions{Focus: ui.PanelBacklog}, sizes},
		{"backlog-by-age", ui.PanelBacklog, ui.DrawOptions{Focus: ui.PanelBacklog, TicketSort: 1}, [][2]int{{80, 24}}},
		{"backlog-by-priority", ui.PanelBacklog, ui.DrawOptions{Focus: ui.PanelBacklog, TicketSort: 2}, [][2]int{{80, 24}}},
		{"screen-backlog", ui.PanelScreen, ui.DrawOptions{Focus: ui.PanelBacklog}, [][2]int{{80, 24}, {160, 48}, {200, 60}}},
		{"header-tickets", ui.PanelHeader, ui.DrawOptions{}, sizes},
		{"header-tickets-readonly", ui.PanelHeader, ui.DrawOptions{ReadOnly: true}, sizes},
		{"detail-tickets", ui.PanelDetail, ui.DrawOptions{Detail: signalKey(snap, "HighErrorRate")}, [][2]int{{80, 60}}},
	}
	for _, c := range cases {
		for _, sz := range c.sizes {
			name := fmt.Sprintf("%s-%dx%d", c.name, sz[0], sz[1])
			t.Run(name, func(t *testing.T) {
				s := uitest.NewScreen(t, sz[0], sz[1])
				o := c.o
				o.Now, o.Operator = fixedNow, "alice"
				ui.DrawPanel(s, c.panel, snap, o)
				uitest.Golden(t, name, uitest.ScreenText(s))
			})
		}
	}
}

// Breached tickets are marked by text, not only by colour: with NO_COLOR
// the BREACHED marker and the summary's count still read.
func TestBreachedTicketsMarkedByText(t *testing.T) {
	s := uitest.NewScreen(t, 120, 20)
	ui.DrawPanel(s, ui.PanelBacklog, ticketFixture(), ui.DrawOptions{Now: fixedNow, Focus: ui.PanelBacklog, NoColor: true})
	text := strings.Join(uitest.ScreenText(s), "\n")
	for _, want := range []string{"BREACHED 12m", "1 SLA BREACHED", "1 breaching <30m", "paused 3h00m", "T1  5 open · 4 unassigned"} {
		if !strings.Contains(text, want) {
			t.Errorf("backlog does not show %q:\n%s", want, text)
		}
	}
	lines := uitest.ScreenText(s)
	first := ""
	for _, l := range lines {
		if strings.Contains(l, "#") {
			first = l
			break
		}
	}
	if !strings.Contains(first, "#1193") || !strings.Contains(first, "BREACHED") {
		t.Errorf("the breached ticket is not first by SLA left: %q", first)
	}
}

func TestTicketTextIsInert(t *testing.T) {
	snap := ticketFixture()
	for _, sz := range [][2]int{{80, 24}, {200, 60}} {
		s := uitest.NewScreen(t, sz[0], sz[1])
		ui.DrawPanel(s, ui.PanelBacklog, snap, ui.DrawOptions{Now: fixedNow, Focus: ui.PanelBacklog})
		cells, _, _ := s.GetContents()
		for i, c := range cells {
			for _, r := range c.Runes {
				if r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
					t.Fatalf("%dx%d: control rune %U reached cell %d", sz[0], sz[1], r, i)
				}
			}
			if c.Style != c.Style.Url("") && fmt.Sprint(c.Style) != fmt.Sprint(c.Style.Url("").UrlId("")) {
				t.Fatalf("cell %d carries a hyperlink", i)
			}
		}
		if sz[0] == 200 {
			text := strings.Join(uitest.ScreenText(s), "\n")
			for _, want := range []string{hostileTag, `click \x1b]8;;http://evil\x07here`, "[:::http://evil]"} {
				if !strings.Contains(text, want) {
					t.Errorf("ticket text %q not shown literally:\n%s", want, text)
				}
			}
		}
	}
}

// The backlog through the running app: 4 focuses it, s cycles the order,
// Enter opens a ticket, e and t act on tickets with reasons when they
// cannot.
func TestBacklogKeys(t *testing.T) {
	a := newFakeActor(model.RoleTier1)
	h := uitest.Start(t, ui.Options{Operator: "alice", Now: func() time.Time { return fixedNow }, Actor: a}, 100, 30)
	h.Push(ticketFixture())
	h.Type("4")
	if !h.Contains("4 Backlog (6) · by SLA left") {
		t.Fatalf("4 does not show the backlog:\n%s", screen(h))
	}
	if sel := selectedLine(t, h); !strings.Contains(sel, "#1193") {
		t.Fatalf("the breached ticket is not selected first: %q", sel)
	}
	h.Type("s")
	if !h.Contains("by age") || !strings.Contains(selectedLine(t, h), "#1193") {
		t.Errorf("s sorts by age and keeps the selection:\n%s", screen(h))
	}
	h.Type("s")
	if !h.Contains("by priority") {
		t.Errorf("s sorts by priority:\n%s", screen(h))
	}
	h.Type("s")
	h.Type("a")
	if !h.Contains("a: acks are for outages and alerts") {
		t.Errorf("a on a ticket says why not:\n%s", screen(h))
	}

	// e on the Tier 1 ticket: a form, a confirmation, one request.
	h.Type("e")
	if !h.Contains("Escalate ticket rt #1193 to Tier 2") || !h.Contains("linked outage checkout") {
		t.Fatalf("e opens the ticket escalation form:\n%s", screen(h))
	}
	h.Type("customer impact confirmed")
	h.Key(tcell.KeyEnter)
	h.Key(tcell.KeyEnter)
	reqs := a.requests()
	if len(reqs) != 1 || reqs[0].Verb != model.VerbTicketEscalate || reqs[0].Ticket.ID != "1193" || reqs[0].Service != "checkout" ||
		reqs[0].Comment != "customer impact confirmed" {
		t.Fatalf("escalation request: %+v", reqs)
	}

	// The Tier 2 ticket cannot go further.
	for i := 0; i < 6 && !strings.Contains(selectedLine(t, h), "#1188"); i++ {
		h.Type("j")
	}
	h.Type("e")
	if !h.Contains("e: already Tier 2") {
		t.Errorf("e on a Tier 2 ticket says so:\n%s", screen(h))
	}
	h.Type("t")
	reqs = a.requests()
	if last := reqs[len(reqs)-1]; last.Verb != model.VerbTake || last.Ticket.ID != "1188" {
		t.Errorf("t asks to take the selected ticket: %+v", last)
	}
	h.Key(tcell.KeyEnter)
	if !h.Contains("Ticket #1188") || !h.Contains("dba@example.com") {
		t.Errorf("Enter opens the ticket:\n%s", screen(h))
	}
}

func TestBacklogWithoutTicketSources(t *testing.T) {
	s := uitest.NewScreen(t, 80, 24)
	ui.DrawPanel(s, ui.PanelBacklog, fixture(), ui.DrawOptions{Now: fixedNow, Focus: ui.PanelBacklog})
	if text := strings.Join(uitest.ScreenText(s), "\n"); !strings.Contains(text, "No ticket source configured") {
		t.Errorf("an unconfigured backlog says so:\n%s", text)
	}
}

// The / filter narrows the backlog as it narrows the alerts: any part of
// number, subject, requester, owner, status, queue or linked service,
// service=<name> for one service; Backspace widens it again.
func TestFilterNarrowsTheBacklog(t *testing.T) {
	h := uitest.Start(t, ui.Options{Operator: "alice", Now: func() time.Time { return fixedNow }}, 160, 40)
	h.Push(ticketFixture())
	h.Type("4")
	shows := func(numbers ...string) {
		t.Helper()
		text := screen(h)
		for _, n := range []string{"#1193", "#1201", "#1207", "#1188", "#1210", "#1211"} {
			want := false
			for _, x := range numbers {
				want = want || x == n
			}
			if strings.Contains(text, n+" ") != want {
				t.Fatalf("%s shown: %v, want %v:\n%s", n, !want, want, text)
			}
		}
	}
	h.Type("/")
	h.Type("LISBON")
	if !h.Contains("4 Backlog (1 of 6)") {
		t.Fatalf("the title does not say how many the filter kept:\n%s", screen(h))
	}
	shows("#1207")
	h.Key(tcell.KeyCtrlU)
	h.Type("payments") // subjects, and the ticket linked to payments by the catalog
	shows("#1193", "#1201")
	h.Type(" settle") // narrowed
	shows("#1201")
	for range " settle" {
		h.Key(tcell.KeyBackspace2)
	}
	shows("#1193", "#1201")
	h.Key(tcell.KeyCtrlU)
	h.Type("carol") // owner
	shows("#1188")
	h.Key(tcell.KeyCtrlU)
	h.Type("noc-t2") // queue
	shows("#1188")
	h.Key(tcell.KeyCtrlU)
	h.Type("stalled") // status
	shows("#1207")
	h.Key(tcell.KeyCtrlU)
	h.Type("service=checkout")
	shows("#1193")
	h.Key(tcell.KeyCtrlU)
	h.Type("nothing like this")
	if !h.Contains("No ticket matches the filter") {
		t.Errorf("an empty result says the filter hid everything:\n%s", screen(h))
	}
	h.Key(tcell.KeyEscape)
	shows("#1193", "#1201", "#1207", "#1188", "#1210", "#1211")
	if !h.Contains("4 Backlog (6) · by SLA left") {
		t.Errorf("Esc clears the filter:\n%s", screen(h))
	}
}
