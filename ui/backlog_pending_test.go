package ui_test

import (
	"testing"
	"time"

	"sitroom/model"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

// A ticket escalation still in the outbox shows on the ticket's row
// ("escalating…") until it is delivered.
func TestBacklogRowShowsPendingEscalation(t *testing.T) {
	a := newFakeActor(model.RoleTier1)
	h := uitest.Start(t, ui.Options{Operator: "alice", Now: func() time.Time { return fixedNow }, Actor: a}, 160, 48)
	h.Push(ticketFixture())
	waitFor(t, h, "#1207")
	if h.Contains("escalating…") {
		t.Fatalf("nothing is pending yet:\n%s", screen(h))
	}
	b := a.copyBoard()
	b.Pending = []model.Pending{{Verb: model.VerbTicketEscalate, Target: "ticket rt #1207", Operator: "alice", At: fixedNow}}
	a.publish(b)
	waitFor(t, h, "escalating…")
	b = a.copyBoard()
	b.Pending = nil
	a.publish(b)
	deadline := time.Now().Add(uitest.Timeout)
	for h.Contains("escalating…") {
		if time.Now().After(deadline) {
			t.Fatalf("still escalating… once delivered:\n%s", screen(h))
		}
		time.Sleep(5 * time.Millisecond)
	}
}
