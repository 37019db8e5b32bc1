package actions_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources/actions"
	"sitroom/sources/alertmanager"
	"sitroom/sources/sourcetest"
	"sitroom/sources/tickets"
	"sitroom/sources/tickets/rt"
)

// Against a real Request Tracker: e on a Tier 1 ticket, then e again
// before the outbox has delivered the first, moves the ticket once and
// comments once; the second is refused with the reason and audited, and
// the board shows the first as pending until it is delivered.
func TestTicketEscalatedTwiceBeforeDeliveryGoesOnceRealRT(t *testing.T) {
	srv := sourcetest.StartRT(t, sourcetest.WithRTQueues("NOC", "NOC-T2"), sourcetest.WithRTUsers("alice.rt"))
	src, err := rt.New(rt.Options{Common: tickets.Common{Name: "rt-noc", URL: srv.URL, Client: rtClient(t, srv.Token), Users: map[string]string{"alice": "alice.rt"}},
		Tier1: []string{"NOC"}, Tier2: []string{"NOC-T2"}})
	require.NoError(t, err)
	c := openCache(t, filepath.Join(t.TempDir(), "c.db"))
	d := actions.New(c, actions.Options{Operator: tier1(), Timeout: 10 * time.Second, Tickets: map[string]tickets.TicketSource{"rt-noc": src}})
	id := srv.CreateTicket(t, "NOC", "db-main replication lag", 60, "")
	target := "ticket rt-noc #" + id

	first := escalateTicket(t, d, id, "")
	require.Equal(t, model.ActionPending, first.State, first.Message)
	b, err := d.Board()
	require.NoError(t, err)
	require.NotNil(t, b.PendingOf(model.VerbTicketEscalate, target), "the board shows the escalation pending")

	second := escalateTicket(t, d, id, "")
	assert.Equal(t, model.ActionRefused, second.State)
	assert.Contains(t, second.Message, "escalation of "+target+" to Tier 2 already pending (alice at ")
	take, err := d.Do(context.Background(), model.ActionRequest{Verb: model.VerbTake, Ticket: model.TicketRef{Source: "rt-noc", ID: id, Number: "#" + id, Tier: model.Tier1}})
	require.NoError(t, err)
	assert.Equal(t, model.ActionPending, take.State, "a take is another kind of action: %s", take.Message)
	deliver(t, d)

	var queueChanges, sitroomComments int
	for _, tx := range srv.History(t, id) {
		if tx.Type == "Set" && tx.Field == "Queue" {
			queueChanges++
		}
		if tx.Type == "Comment" && strings.Contains(tx.Content, "[sitroom action ") {
			sitroomComments++
		}
	}
	assert.Equal(t, 1, queueChanges, "one queue change")
	assert.Equal(t, 1, sitroomComments, "one escalation comment")
	log, err := c.AuditLog(time.Time{})
	require.NoError(t, err)
	require.Len(t, log, 3)
	assert.Equal(t, model.ActionDelivered, log[0].State)
	assert.Equal(t, model.ActionRefused, log[1].State, "the second escalation is audited as refused")
	assert.Equal(t, target, log[1].Target)
	assert.Contains(t, log[1].Reason, "already pending")
	assert.Equal(t, model.ActionDelivered, log[2].State)

	b, err = d.Board()
	require.NoError(t, err)
	assert.Nil(t, b.PendingOf(model.VerbTicketEscalate, target), "delivered: no longer pending")
	assert.Empty(t, d.Check(model.ActionRequest{Verb: model.VerbTicketEscalate, Comment: "c",
		Ticket: model.TicketRef{Source: "rt-noc", ID: id, Number: "#" + id, Tier: model.Tier1}}))
}

// Against a real Alertmanager: two acks of one outage in quick
// succession make one silence; the second is refused and audited.
func TestOutageAckedTwiceMakesOneSilence(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	am.PostAlerts(t, sourcetest.PostableAlert{Labels: alertLabels})
	c := openCache(t, filepath.Join(t.TempDir(), "c.db"))
	poll(t, c, "am-eu", am.URL)
	d := actions.New(c, actions.Options{Operator: tier1(), Silencers: map[string]actions.Silencer{"am-eu": alertmanager.NewSilencer(am.URL, nil)}})
	snap := snapshot(t, c)

	first := ackOutage(t, d, snap, "db failover")
	require.Equal(t, model.ActionPending, first.State, first.Message)
	second := ackOutage(t, d, snap, "db failover")
	assert.Equal(t, model.ActionRefused, second.State, second.Message)
	deliver(t, d)
	assert.Len(t, live(listSilences(t, am.URL)), 1, "one silence")
	log, err := c.AuditLog(time.Time{})
	require.NoError(t, err)
	require.Len(t, log, 2, "both acks are in the audit log")
	assert.Equal(t, model.ActionDelivered, log[0].State)
	assert.Equal(t, model.ActionRefused, log[1].State)
	assert.NotEmpty(t, log[1].Reason)
}

// Two escalations of one outage to the same level while the first's
// webhook is still pending: one; the second is refused and audited.
func TestOutageEscalatedTwiceToOneLevelGoesOnce(t *testing.T) {
	c := openCache(t, filepath.Join(t.TempDir(), "c.db"))
	pol := &model.Policy{Levels: []model.EscalationLevel{{Level: 1, Who: "noc"}, {Level: 2, Who: "dba on call"}}}
	d := actions.New(c, actions.Options{Operator: tier1(), Policy: pol,
		Webhooks: []actions.Webhook{{Name: "pager", URL: "http://127.0.0.1:1/never"}}})
	esc := func() model.ActionResult {
		res, err := d.Do(context.Background(), model.ActionRequest{Verb: model.VerbEscalate, Service: "checkout", Level: 2, Comment: "db"})
		require.NoError(t, err)
		return res
	}
	require.Equal(t, model.ActionPending, esc().State)
	res := esc()
	assert.Equal(t, model.ActionRefused, res.State)
	assert.Contains(t, res.Message, "escalation of checkout to level 2 already pending")
}
