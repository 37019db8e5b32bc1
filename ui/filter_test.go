package ui_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

// The filter language end to end: a line with an error says where and
// what, keeps the rows of the last filter that parsed and will not be
// kept with Enter; once fixed, the rows narrow.
func TestFilterErrorThenFixNarrows(t *testing.T) {
	h := start(t, 80, 24)
	h.Push(fixture())
	h.Type("2") // the alerts panel
	h.Type("/")
	h.Type(`service=~"check.*`)
	text := screen(h)
	if !strings.Contains(text, "✗ at 18: unterminated quote") {
		t.Fatalf("no inline error with its position:\n%s", text)
	}
	// The rows are those of the last text that parsed, named in the
	// title: "service=~", which Alertmanager reads as an empty regexp,
	// keeping the alerts without a service (none).
	if !strings.Contains(text, "2 Alerts 0 of 7 · service=~ ") || !strings.Contains(text, "no alerts match the filter") {
		t.Fatalf("an unparsable filter did not keep the last good rows:\n%s", text)
	}
	h.Key(tcell.KeyEnter)
	if !h.Contains("the filter does not parse at 18") {
		t.Fatalf("Enter kept a filter that does not parse:\n%s", screen(h))
	}
	h.Type(`"`)
	text = screen(h)
	if strings.Contains(text, "✗") || !strings.Contains(text, "2 Alerts 3 of 7") || strings.Contains(text, "ReplicationLag") ||
		!strings.Contains(text, "HighErrorRate") || !strings.Contains(text, "DiskAlmostFull") {
		t.Fatalf("the fixed filter did not narrow to checkout's three alerts:\n%s", text)
	}
	h.Type(" @age>1h")
	text = screen(h)
	if !strings.Contains(text, "2 Alerts 1 of 7") || !strings.Contains(text, "LatencyHigh") || strings.Contains(text, "DiskAlmostFull") {
		t.Fatalf("@age>1h did not keep only the 3h-old checkout alert:\n%s", text)
	}
	// A second error keeps the last good rows and says which filter they are.
	h.Type(" @acked=nope")
	text = screen(h)
	if !strings.Contains(text, "✗ at 35: @acked is true or false") || !strings.Contains(text, "2 Alerts 1 of 7") {
		t.Fatalf("a later error lost the last good rows or its message:\n%s", text)
	}
	for range 4 {
		h.Key(tcell.KeyBackspace2)
	}
	h.Type("false")
	text = screen(h)
	if strings.Contains(text, "✗") || !strings.Contains(text, "2 Alerts 1 of 7") || !strings.Contains(text, "LatencyHigh") {
		t.Fatalf("@acked=false (nothing acked) should keep the row:\n%s", text)
	}
	h.Key(tcell.KeyEnter)
	h.Key(tcell.KeyEscape)
	if !h.Contains("2 Alerts (7)") {
		t.Fatalf("Esc did not clear the filter:\n%s", screen(h))
	}
}

// Other terms of the language reach the panels: a label regex, a
// negative matcher, a source, the state, and Alertmanager's matcher
// lists.
func TestFilterTermsOnAlerts(t *testing.T) {
	cases := []struct {
		q       string
		n       string
		has     []string
		hasNone []string
	}{
		{"severity=critical", "2 Alerts 3 of 7", []string{"HighErrorRate", "ReplicationLag", "DiskAlmostFull"}, []string{"LatencyHigh"}},
		{"@source=am-us", "2 Alerts 2 of 7", []string{"HighErrorRate", "QueueBacklog"}, []string{"LatencyHigh"}},
		{"@state=pending", "2 Alerts 1 of 7", []string{"CertExpirySoon"}, []string{"HighErrorRate"}},
		{`service=~"pay.*" severity!=warning`, "2 Alerts 1 of 7", []string{"ReplicationLag"}, []string{"QueueBacklog"}},
		{"@tier=1", "2 Alerts 0 of 7", nil, []string{"HighErrorRate"}},
		// Alertmanager's matchers as amtool and a route's matchers: take them
		{`{severity="critical"}`, "2 Alerts 3 of 7", []string{"HighErrorRate", "ReplicationLag", "DiskAlmostFull"}, []string{"LatencyHigh"}},
		{"severity=critical,service=checkout", "2 Alerts 2 of 7", []string{"HighErrorRate", "DiskAlmostFull"}, []string{"ReplicationLag"}},
		{`{"service"=~"pay.*", severity!=warning,} replica`, "2 Alerts 1 of 7", []string{"ReplicationLag"}, []string{"QueueBacklog"}},
	}
	for _, c := range cases {
		h := start(t, 100, 30)
		h.Push(fixture())
		h.Type("2")
		h.Type("/" + c.q)
		text := screen(h)
		if !strings.Contains(text, c.n) {
			t.Errorf("%s: want %q:\n%s", c.q, c.n, text)
		}
		for _, s := range c.has {
			if !strings.Contains(text, s) {
				t.Errorf("%s: %s missing:\n%s", c.q, s, text)
			}
		}
		for _, s := range c.hasNone {
			if strings.Contains(text, s) {
				t.Errorf("%s: %s shown:\n%s", c.q, s, text)
			}
		}
		h.Stop()
	}
}

// Ticket terms narrow the backlog: the tier, the SLA time left, the age,
// and a ticket field that is empty.
func TestFilterTermsOnBacklog(t *testing.T) {
	all := []string{"#1193", "#1201", "#1207", "#1188", "#1210", "#1211"}
	cases := []struct {
		q    string
		want []string
	}{
		{"@tier=2", []string{"#1188"}},
		{"@sla<30m", []string{"#1193", "#1201"}},
		{"@sla<0", []string{"#1193"}},
		{"@tier=1 @age>1h", []string{"#1201", "#1207"}},
		{`owner="" @tier!=2`, []string{"#1193", "#1207", "#1210", "#1211"}},
		{"@source=rt queue=~NOC.* payments", []string{"#1193", "#1201"}},
	}
	for _, c := range cases {
		h := start(t, 160, 40)
		h.Push(ticketFixture())
		h.Type("4")
		h.Type("/" + c.q)
		text := screen(h)
		for _, n := range all {
			want := false
			for _, x := range c.want {
				want = want || x == n
			}
			if strings.Contains(text, n+" ") != want {
				t.Errorf("%s: %s shown: %v, want %v:\n%s", c.q, n, !want, want, text)
			}
		}
		h.Stop()
	}
}

// @acked follows the shared action state: when a service is acked (a new
// board arrives), a view filtered on @acked=false drops its alerts at
// once, with no new snapshot.
func TestFilterAckedFollowsTheBoard(t *testing.T) {
	a := newFakeActor(model.RoleTier1)
	h := uitest.Start(t, ui.Options{Operator: "alice", Now: func() time.Time { return fixedNow }, Actor: a}, 100, 30)
	h.Push(fixture())
	a.publish(a.copyBoard())
	h.WaitIdle()
	h.Type("2/@acked=false severity=critical")
	if !h.Contains("2 Alerts 3 of 7") || !h.Contains("HighErrorRate") {
		t.Fatalf("nothing acked yet: every critical alert should show:\n%s", screen(h))
	}
	b := a.copyBoard()
	b.Acks["checkout"] = &model.Ack{Service: "checkout", By: "bob", At: fixedNow.Add(-time.Minute), Until: fixedNow.Add(time.Hour)}
	a.publish(b)
	waitFor(t, h, "2 Alerts 1 of 7")
	text := screen(h)
	if !strings.Contains(text, "2 Alerts 1 of 7") || strings.Contains(text, "HighErrorRate") || !strings.Contains(text, "ReplicationLag") {
		t.Fatalf("checkout's ack did not take its alerts out of @acked=false:\n%s", text)
	}
}
