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

// notifyActor is a fake actor whose config has teams with channels.
type notifyActor struct {
	*fakeActor
	chans map[string][]string
}

func (n *notifyActor) TeamChannels() map[string][]string { return n.chans }

func newNotifyActor(role model.Role) *notifyActor {
	a := &notifyActor{fakeActor: newFakeActor(role), chans: map[string][]string{
		"team-data":     {"slack", "email"},
		"team-payments": {"webhook"},
		"team-web":      {"mattermost"},
	}}
	a.board.Notices = map[string][]model.Notice{}
	return a
}

// withNotices puts notices on the actor's board: what each team was told
// about db-main.
func (n *notifyActor) withNotices(ns ...model.Notice) {
	n.board.Notices = map[string][]model.Notice{"db-main": ns}
}

func startNotifying(t *testing.T, a *notifyActor, w, hh int) *uitest.Harness {
	t.Helper()
	h := uitest.Start(t, ui.Options{Operator: "alice", Now: func() time.Time { return fixedNow }, Actor: a}, w, hh)
	h.Push(depsSnap(true))
	// The board reaches the screen through the App's board loop: the
	// third publish returns only once the loop took the first, and the
	// App is then idle with it applied.
	for range 3 {
		a.publish(a.copyBoard())
	}
	h.WaitIdle()
	h.Key(tcell.KeyDown) // legacy-billing, then db-main
	return h
}

// N on the cause of a cascade lists its own team, the downstream teams
// with their channels and what each was told, and a message naming the
// outage; Enter reviews, Enter again sends it to every team with a
// channel.
func TestNotifyFormListsTheTeamsAndSendsAfterReview(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {200, 60}} {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			a := newNotifyActor(model.RoleTier1)
			a.withNotices(model.Notice{Service: "db-main", Team: "team-payments", Channels: []string{"webhook"},
				State: model.ActionDelivered, By: "bob", At: fixedNow.Add(-5 * time.Minute), ToldAt: fixedNow.Add(-5 * time.Minute),
				Kind: model.NotifyOutage})
			h := startNotifying(t, a, sz[0], sz[1])
			h.Type("N")
			waitFor(t, h, "Update the teams on db-main")
			uitest.Golden(t, fmt.Sprintf("notify-form-%dx%d", sz[0], sz[1]), h.Text())
			if sz[0] < 200 {
				return
			}
			for _, want := range []string{
				"team-data · slack, email · not told",
				"team-payments · webhook · told 5m ago by bob",
				"team-web · mattermost · not told",
				"Sends 4 messages to 3 teams through the outbox",
				"CRIT db-main is down since",
			} {
				if !h.Contains(want) {
					t.Fatalf("form lacks %q:\n%s", want, screen(h))
				}
			}
			h.Key(tcell.KeyEnter)
			waitFor(t, h, "Confirm: Enter does it")
			if len(a.requests()) != 0 {
				t.Fatal("sent before the review was confirmed")
			}
			h.Key(tcell.KeyEnter)
			waitFor(t, h, "notify recorded")
			reqs := a.requests()
			if len(reqs) != 1 {
				t.Fatalf("requests = %+v", reqs)
			}
			r := reqs[0]
			if r.Verb != model.VerbNotify || r.Service != "db-main" || strings.Join(r.Teams, ",") != "team-data,team-payments,team-web" ||
				r.Notify == nil || !strings.Contains(r.Notify.Text, "db-main is down") || r.Notify.Severity != "critical" ||
				strings.Join(r.Notify.Impacted, ",") != "payments,checkout,web,reports" {
				t.Fatalf("request = %+v %+v", r, r.Notify)
			}
		})
	}
}

// The message is the operator's to edit; an empty one is not sent.
func TestNotifyMessageIsEditable(t *testing.T) {
	a := newNotifyActor(model.RoleTier1)
	h := startNotifying(t, a, 130, 40)
	h.Type("N")
	waitFor(t, h, "Notify the teams of db-main")
	h.Key(tcell.KeyCtrlU)
	h.Key(tcell.KeyEnter)
	waitFor(t, h, "the message is empty")
	h.Type("DB failover under way <!channel> @all")
	h.Key(tcell.KeyEnter)
	h.Key(tcell.KeyEnter)
	waitFor(t, h, "notify recorded")
	if r := a.requests(); len(r) != 1 || r[0].Notify.Text != "DB failover under way <!channel> @all" || r[0].Comment != r[0].Notify.Text {
		t.Fatalf("requests = %+v", r)
	}
}

// A viewer's N is refused, with the reason on screen and the refusal
// handed over to be audited; a read-only console has no N at all.
func TestNotifyRefusedForViewerAndReadOnly(t *testing.T) {
	a := newNotifyActor(model.RoleViewer)
	h := startNotifying(t, a, 130, 40)
	h.Type("N")
	waitFor(t, h, "N: role viewer cannot notify teams")
	if h.Contains("Notify the teams") {
		t.Fatalf("a viewer got the form:\n%s", screen(h))
	}
	deadline := time.Now().Add(uitest.Timeout)
	for len(a.requests()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if r := a.requests(); len(r) != 1 || r[0].Verb != model.VerbNotify {
		t.Fatalf("the refusal was not handed over to be audited: %+v", r)
	}

	ro := newNotifyActor(model.RoleTier1)
	hr := uitest.Start(t, ui.Options{Operator: "alice", Now: func() time.Time { return fixedNow }, Actor: ro, ReadOnly: true}, 130, 40)
	hr.Push(depsSnap(true))
	hr.Type("N")
	if hr.Contains("Notify the teams") || len(ro.requests()) != 0 {
		t.Fatalf("a read-only console notified:\n%s", screen(hr))
	}
}

// The dependencies panel says per team what it was told: told (when, by
// whom, through what), pending, failed with the reason, or not told.
func TestDepsPanelShowsWhoWasTold(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {200, 60}} {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			a := newNotifyActor(model.RoleTier1)
			a.withNotices(
				model.Notice{Service: "db-main", Team: "team-data", Channels: []string{"slack", "email"}, State: model.ActionDelivered,
					By: "alice", At: fixedNow.Add(-7 * time.Minute), ToldAt: fixedNow.Add(-7 * time.Minute), Kind: model.NotifyOutage},
				model.Notice{Service: "db-main", Team: "team-payments", Channels: []string{"webhook"}, State: model.ActionFailed,
					By: "alice", At: fixedNow.Add(-12 * time.Minute), Error: "HTTP 403 Forbidden: invalid_token", Kind: model.NotifyOutage},
			)
			h := startNotifying(t, a, sz[0], sz[1])
			h.Type("3")
			waitFor(t, h, "told 7m ago by alice")
			uitest.Golden(t, fmt.Sprintf("notify-deps-%dx%d", sz[0], sz[1]), h.Text())
			if sz[0] < 200 {
				return
			}
			for _, want := range []string{"told 7m ago by alice · slack, email", "failed: HTTP 403 Forbidden: invalid_token", "not told"} {
				if !h.Contains(want) {
					t.Fatalf("deps panel lacks %q:\n%s", want, screen(h))
				}
			}
		})
	}
}

// An outage some affected team of which was not told within notify_after
// shows UNTOLD; once every team with a channel was told, it does not.
func TestUntoldOutage(t *testing.T) {
	a := newNotifyActor(model.RoleTier1)
	a.pol.NotifyAfter = 5 * time.Minute // db-main is down since 9m
	h := startNotifying(t, a, 200, 40)
	waitFor(t, h, "UNTOLD")
	if !strings.Contains(outageLine(h, "db-main"), "UNTOLD") {
		t.Fatalf("db-main is not the UNTOLD outage:\n%s", screen(h))
	}
	h.Type("}") // the jump to the next UNTOLD outage: db-main and payments are
	waitFor(t, h, "UNTOLD outage 2 of 2")
	var ns []model.Notice
	for _, team := range []string{"team-data", "team-payments", "team-web"} {
		ns = append(ns, model.Notice{Service: "db-main", Team: team, State: model.ActionDelivered, By: "alice",
			At: fixedNow.Add(-time.Minute), ToldAt: fixedNow.Add(-time.Minute), Kind: model.NotifyOutage})
	}
	b := a.copyBoard()
	b.Notices = map[string][]model.Notice{"db-main": ns}
	a.publish(b)
	deadline := time.Now().Add(uitest.Timeout)
	for strings.Contains(outageLine(h, "db-main"), "UNTOLD") {
		if time.Now().After(deadline) {
			t.Fatalf("UNTOLD stayed once every team was told:\n%s", screen(h))
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.Type("}") // payments' team is still not told
	waitFor(t, h, "UNTOLD outage 1 of 1")
}

// outageLine is the screen line of the outage row of svc.
func outageLine(h *uitest.Harness, svc string) string {
	for _, l := range h.Text() {
		if strings.Contains(l, "CRIT "+svc+" ") {
			return l
		}
	}
	return ""
}
