package ui_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

// fakeActor applies requests to a board the way the cache does and
// publishes it, checking them with the real model.Policy.
type fakeActor struct {
	op  model.Operator
	pol *model.Policy

	mu    sync.Mutex
	reqs  []model.ActionRequest
	board *model.Board
	ch    chan *model.Board
}

func newFakeActor(role model.Role) *fakeActor {
	return &fakeActor{
		op: model.Operator{User: "alice", Role: role},
		pol: &model.Policy{Levels: []model.EscalationLevel{
			{Level: 1, Who: "NOC tier 1"},
			{Level: 2, Who: "owner on-call", Contact: "#web-oncall", After: 15 * time.Minute},
			{Level: 3, Who: "incident commander", After: 30 * time.Minute, MinRole: model.RoleLead},
		}},
		board: &model.Board{Acks: map[string]*model.Ack{}, Lapsed: map[string]*model.Ack{}, Escalations: map[string]*model.Escalation{},
			Deliveries: map[string]model.Deliveries{}},
		ch: make(chan *model.Board, 1),
	}
}

func (f *fakeActor) Operator() model.Operator           { return f.op }
func (f *fakeActor) Policy() *model.Policy              { return f.pol }
func (f *fakeActor) Check(r model.ActionRequest) string { return f.pol.Refusal(f.op, r) }
func (f *fakeActor) Boards() <-chan *model.Board        { return f.ch }
func (f *fakeActor) requests() []model.ActionRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]model.ActionRequest(nil), f.reqs...)
}
func (f *fakeActor) publish(b *model.Board) { f.ch <- b }
func (f *fakeActor) copyBoard() *model.Board {
	b := *f.board
	b.Acks, b.Escalations = map[string]*model.Ack{}, map[string]*model.Escalation{}
	for k, v := range f.board.Acks {
		b.Acks[k] = v
	}
	for k, v := range f.board.Escalations {
		b.Escalations[k] = v
	}
	return &b
}

func (f *fakeActor) Do(_ context.Context, r model.ActionRequest) (model.ActionResult, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, r)
	if why := f.Check(r); why != "" {
		f.mu.Unlock()
		return model.ActionResult{State: model.ActionRefused, Message: why}, nil
	}
	b := f.copyBoard()
	switch r.Verb {
	case model.VerbAck:
		b.Acks[r.Service] = &model.Ack{Service: r.Service, By: f.op.User, At: fixedNow.Add(-3 * time.Minute), Until: fixedNow.Add(r.Expiry), Comment: r.Comment}
		b.Deliveries = map[string]model.Deliveries{r.Service: {Pending: 2}}
	case model.VerbUnack:
		delete(b.Acks, r.Service)
	case model.VerbEscalate:
		b.Escalations[r.Service] = &model.Escalation{Service: r.Service, Level: r.Level, By: f.op.User, At: fixedNow, Comment: r.Comment}
	case model.VerbNote:
		b.Notes = append([]model.Note{{Service: r.Service, By: f.op.User, At: fixedNow, Text: r.Comment}}, b.Notes...)
	}
	f.board = b
	f.mu.Unlock()
	f.publish(b)
	return model.ActionResult{State: model.ActionPending, Message: string(r.Verb) + " recorded"}, nil
}

func startActing(t *testing.T, a *fakeActor, readOnly bool) *uitest.Harness {
	t.Helper()
	h := uitest.Start(t, ui.Options{Operator: "alice", Now: func() time.Time { return fixedNow }, Actor: a, ReadOnly: readOnly}, 130, 40)
	h.Push(fixture())
	return h
}

// waitFor polls the screen until it shows sub.
func waitFor(t *testing.T, h *uitest.Harness, sub string) {
	t.Helper()
	deadline := time.Now().Add(uitest.Timeout)
	for !h.Contains(sub) {
		if time.Now().After(deadline) {
			t.Fatalf("screen never showed %q:\n%s", sub, screen(h))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// An ack of one outage is a, the comment, Enter: the form says what will
// happen, so there is no review step. An empty comment is refused first.
func TestAckIsCommentThenEnterAndTheRowShowsTheAck(t *testing.T) {
	a := newFakeActor(model.RoleTier1)
	h := startActing(t, a, false)
	if !h.Contains("alice · tier1") {
		t.Fatalf("header does not show the operator's role:\n%s", screen(h))
	}
	if sel := selectedLine(t, h); !strings.Contains(sel, "payments-legacy") {
		t.Fatalf("expected payments-legacy selected, got %q", sel)
	}
	h.Type("a")
	if !h.Contains("Acknowledge outage payments-legacy (1 alert)") {
		t.Fatalf("no ack form:\n%s", screen(h))
	}
	if !h.Contains("No Alertmanager alerts: acknowledged in sitroom only, until 12:00 (2h).") {
		t.Fatalf("the form does not say what will happen upstream:\n%s", screen(h))
	}
	if !h.Contains("Enter: acknowledge · Tab: next field · Esc: cancel") {
		t.Fatalf("the form does not say Enter acknowledges:\n%s", screen(h))
	}
	h.Key(tcell.KeyEnter)
	if !h.Contains("a comment is required") || !h.Contains("Acknowledge outage payments-legacy") {
		t.Fatalf("an empty comment went through:\n%s", screen(h))
	}
	h.Type("replica rebuilding")
	h.Key(tcell.KeyEnter)
	if h.Contains("Acknowledge outage") || h.Contains("Confirm") {
		t.Fatalf("Enter with a comment did not ack at once:\n%s", screen(h))
	}
	waitFor(t, h, "ACK 3m alice · 2 pending")
	waitFor(t, h, "ack recorded")
	reqs := a.requests()
	if len(reqs) != 1 || reqs[0].Verb != model.VerbAck || reqs[0].Comment != "replica rebuilding" || reqs[0].Expiry != 2*time.Hour ||
		reqs[0].Service != "payments-legacy" || len(reqs[0].AlertKeys) != 1 {
		t.Fatalf("request = %+v", reqs)
	}
	// A second a says who acked.
	h.Type("a")
	if !h.Contains("already acknowledged by alice") {
		t.Fatalf("second ack not refused with who holds it:\n%s", screen(h))
	}
	// u says whose ack it takes back and waits for Enter.
	h.Type("u")
	if !h.Contains("Un-acknowledge payments-legacy") || !h.Contains("Takes back alice's ack of payments-legacy (3m ago, until 12:00): replica rebuilding") ||
		!h.Contains("Enter: un-acknowledge · Esc: cancel") {
		t.Fatalf("u does not show what it undoes:\n%s", screen(h))
	}
	if len(a.requests()) != 1 {
		t.Fatal("u un-acked before Enter")
	}
	h.Type("wrong outage")
	h.Key(tcell.KeyEnter)
	waitFor(t, h, "unack recorded")
	if h.Contains("ACK 3m alice") {
		t.Fatalf("un-ack left the ack on the row:\n%s", screen(h))
	}
	if reqs := a.requests(); len(reqs) != 2 || reqs[1].Verb != model.VerbUnack || reqs[1].Comment != "wrong outage" {
		t.Fatalf("un-ack request = %+v", reqs)
	}
}

// The ack form names the Alertmanagers it silences in and the time the
// silences end, following the expiry as it is typed; an expiry it cannot
// read keeps the form open.
func TestAckFormNamesItsAlertmanagersAndFollowsTheExpiry(t *testing.T) {
	a := newFakeActor(model.RoleTier1)
	h := startActing(t, a, false)
	h.Key(tcell.KeyDown) // checkout: HighErrorRate held by am-eu and am-us
	h.Type("a")
	if !h.Contains("Acknowledge outage checkout (2 alerts)") || !h.Contains("Will silence 2 alerts in am-eu, am-us until 12:00 (2h).") {
		t.Fatalf("form does not name the Alertmanagers:\n%s", screen(h))
	}
	h.Key(tcell.KeyTab)
	h.Key(tcell.KeyCtrlU)
	h.Type("1h30m")
	if !h.Contains("Will silence 2 alerts in am-eu, am-us until 11:30 (1h30m).") {
		t.Fatalf("the form does not follow the expiry:\n%s", screen(h))
	}
	h.Type("x")
	if !h.Contains("until ? (expiry: a duration such as 30m, 2h or 1h30m)") {
		t.Fatalf("an unreadable expiry is not flagged:\n%s", screen(h))
	}
	h.Key(tcell.KeyTab)
	h.Type("deploy rolled back")
	h.Key(tcell.KeyEnter)
	if !h.Contains("Acknowledge outage checkout") || len(a.requests()) != 0 {
		t.Fatalf("an unreadable expiry went through:\n%s", screen(h))
	}
	h.Key(tcell.KeyEscape)
	if h.Contains("Acknowledge outage") {
		t.Fatalf("Esc did not cancel the form:\n%s", screen(h))
	}
	if len(a.requests()) != 0 {
		t.Fatal("a cancelled form sent a request")
	}
}

// An outage with alerts both in an Alertmanager and elsewhere says which
// part is silenced and which stays in sitroom.
func TestAckFormSaysWhatStaysInSitroom(t *testing.T) {
	a := newFakeActor(model.RoleTier1)
	h := startActing(t, a, false)
	snap := model.BuildSnapshot([]*model.AlertRow{
		row("am-eu", model.StateFiring, time.Hour, map[string]string{"alertname": "DBDown", "severity": "critical", "service": "db-main"}, nil),
		row("prom", model.StateFiring, time.Hour, map[string]string{"alertname": "DBSlow", "severity": "critical", "service": "db-main"}, nil),
		row("prom", model.StateFiring, time.Hour, map[string]string{"alertname": "DBLag", "severity": "critical", "service": "db-main"}, nil),
	}, []model.SourceStatus{
		{Name: "am-eu", Type: "alertmanager", LastAttempt: fixedNow, LastSuccess: fixedNow},
		{Name: "prom", Type: "prometheus", LastAttempt: fixedNow, LastSuccess: fixedNow},
	}, model.SnapshotOptions{Now: fixedNow})
	h.Push(snap)
	waitFor(t, h, "db-main")
	h.Type("a")
	if !h.Contains("Acknowledge outage db-main (3 alerts)") || !h.Contains("Will silence 1 of the 3 alerts in am-eu until 12:00 (2h).") ||
		!h.Contains("The other 2 have no Alertmanager: acknowledged in sitroom only.") {
		t.Fatalf("form does not say what stays in sitroom:\n%s", screen(h))
	}
}

func TestEscalateTwiceLevel3RefusedForTier1(t *testing.T) {
	a := newFakeActor(model.RoleTier1)
	h := startActing(t, a, false)
	if !h.Contains("L1 NOC tier 1") {
		t.Fatalf("row does not show level 1:\n%s", screen(h))
	}
	h.Type("e")
	if !h.Contains("Escalate payments-legacy to level 2") || !h.Contains("owner on-call (#web-oncall)") {
		t.Fatalf("no escalation form:\n%s", screen(h))
	}
	h.Type("replication stuck")
	h.Key(tcell.KeyEnter)
	// An escalation keeps its review step.
	if !h.Contains("Confirm: Enter does it") || len(a.requests()) != 0 {
		t.Fatalf("no review step before the escalation:\n%s", screen(h))
	}
	h.Key(tcell.KeyEnter)
	waitFor(t, h, "L2 owner on-call")
	h.Type("e")
	waitFor(t, h, "e: role tier1 cannot escalate to level 3 (needs lead)")
	if h.Contains("Escalate payments-legacy to level 3") {
		t.Fatalf("a refused escalation opened its form:\n%s", screen(h))
	}
	// The refusal went to the actor, which audits it.
	deadline := time.Now().Add(uitest.Timeout)
	for {
		reqs := a.requests()
		if len(reqs) == 2 && reqs[1].Verb == model.VerbEscalate && reqs[1].Level == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("refusal not handed to the actor for the audit log: %+v", reqs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestOverdueUnackedOutageHighlighted(t *testing.T) {
	a := newFakeActor(model.RoleTier1)
	h := startActing(t, a, false)
	// payments-legacy opened 2 days ago, past level 2's 15m: overdue.
	waitFor(t, h, "UNACKED 2d")
}

func TestNoteShownInDetail(t *testing.T) {
	a := newFakeActor(model.RoleTier1)
	h := startActing(t, a, false)
	h.Key(tcell.KeyDown) // checkout
	h.Type("n")
	h.Type("rolled back 4.2")
	h.Key(tcell.KeyEnter) // a note is saved at once
	waitFor(t, h, "note recorded")
	h.Type("2")
	h.Key(tcell.KeyDown)
	h.Key(tcell.KeyEnter) // detail of checkout's HighErrorRate
	waitFor(t, h, "Actions on checkout")
	waitFor(t, h, "alice: rolled back 4.2")
}

func TestReadOnlyStripsEveryActingKey(t *testing.T) {
	for _, b := range ui.Bindings(true) {
		if b.Dangerous {
			t.Errorf("read-only table keeps dangerous %q", b.Keys)
		}
		if b.Scope == ui.ScopeForm {
			t.Errorf("read-only table keeps the action form key %q", b.Keys)
		}
	}
	acting := map[string]bool{}
	for _, b := range ui.Bindings(false) {
		if b.Scope == ui.ScopeMain && b.Dangerous {
			acting[b.Keys] = true
		}
	}
	for _, k := range []string{"a", "u", "e", "n"} {
		if !acting[k] {
			t.Errorf("%q is not marked dangerous", k)
		}
	}
	a := newFakeActor(model.RoleLead)
	h := startActing(t, a, true)
	h.Type("a")
	h.Type("e")
	if h.Contains("Acknowledge") || h.Contains("Escalate") || len(a.requests()) != 0 {
		t.Fatalf("read-only console acted:\n%s", screen(h))
	}
	if h.Contains("a ack") || h.Contains("e escalate") {
		t.Fatalf("footer shows acting keys in read-only:\n%s", screen(h))
	}
	h.Type("?")
	if h.Contains("acknowledge the selected") || h.Contains("Action form") {
		t.Fatalf("help lists acting keys in read-only:\n%s", screen(h))
	}
}

func TestNoDangerousKeyOnACtrlChord(t *testing.T) {
	for _, b := range ui.Bindings(false) {
		if b.Dangerous && b.Scope == ui.ScopeMain && strings.Contains(b.Keys, "Ctrl") {
			t.Errorf("dangerous binding %q on a Ctrl chord", b.Keys)
		}
	}
}

// An outage whose alerts are all silenced upstream by someone else stays on
// the board, shown as acknowledged there by the silence's author, and is
// never flagged overdue.
func TestOutageSilencedUpstreamShowsItsAuthor(t *testing.T) {
	a := newFakeActor(model.RoleTier1)
	h := startActing(t, a, false)
	b := a.copyBoard()
	b.Silences = map[string]model.Silence{"s-9": {Source: "am-eu", ID: "s-9", CreatedBy: "bob"}}
	a.publish(b)
	snap := model.BuildSnapshot([]*model.AlertRow{
		row("am-eu", model.StateSuppressed, 3*time.Hour, map[string]string{"alertname": "DBDown", "severity": "critical", "service": "db-main"}, nil, "s-9"),
	}, []model.SourceStatus{{Name: "am-eu", LastAttempt: fixedNow, LastSuccess: fixedNow}}, model.SnapshotOptions{Now: fixedNow})
	h.Push(snap)
	waitFor(t, h, "SILENCED bob")
	if h.Contains("UNACKED") {
		t.Fatalf("a silenced outage is flagged overdue:\n%s", screen(h))
	}
}

// An ack that covers only some of an outage's alerts (one acked from the
// alerts panel) says so on the outage row instead of passing for a full ack.
func TestPartialAckShowsHowMany(t *testing.T) {
	a := newFakeActor(model.RoleTier1)
	h := startActing(t, a, false)
	o := fixture().Outage("checkout")
	if o == nil || len(o.Keys) != 2 {
		t.Fatalf("fixture: checkout should have 2 alerts, has %+v", o)
	}
	b := a.copyBoard()
	// bob acks the alert a silence covers already; the other still fires.
	b.Acks["checkout"] = &model.Ack{Service: "checkout", AlertKeys: o.Keys[1:], By: "bob", At: fixedNow.Add(-4 * time.Minute)}
	a.publish(b)
	waitFor(t, h, "ACK 1/2 4m bob")
	// a on the outage acks the rest, not what bob acked already.
	h.Key(tcell.KeyDown) // checkout
	h.Type("a")
	waitFor(t, h, "Acknowledge the 1 unacknowledged alert of checkout")
	h.Type("second alert too")
	h.Key(tcell.KeyEnter)
	waitFor(t, h, "ack recorded")
	reqs := a.requests()
	if len(reqs) != 1 || len(reqs[0].AlertKeys) != 1 || reqs[0].AlertKeys[0] != o.Keys[0] {
		t.Fatalf("the top-up ack should name only the unacked alert %s, got %+v", o.Keys[0], reqs)
	}
}

// An ack that lapsed while its outage is still open re-arms the outage
// visibly.
func TestLapsedAckReArmsTheOutage(t *testing.T) {
	a := newFakeActor(model.RoleTier1)
	h := startActing(t, a, false)
	b := a.copyBoard()
	b.Lapsed = map[string]*model.Ack{"checkout": {Service: "checkout", By: "bob", At: fixedNow.Add(-3 * time.Hour), Until: fixedNow.Add(-time.Hour)}}
	a.publish(b)
	waitFor(t, h, "ACK LAPSED bob")
}
