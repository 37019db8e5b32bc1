package actions_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pconfig "github.com/prometheus/common/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/cache"
	"sitroom/sources"
	"sitroom/sources/actions"
	"sitroom/sources/tickets"
	"sitroom/sources/tickets/jira"
	"sitroom/sources/tickets/jira/jiratest"
	"sitroom/sources/tickets/servicenow"
	"sitroom/sources/tickets/servicenow/sntest"
)

// escalateUntilDelivered escalates a Tier 1 ticket of source src whose
// first comment reply is lost, then delivers until the action is
// delivered, and returns the action's marker.
func escalateUntilDelivered(t *testing.T, d *actions.Dispatcher, c *cache.Cache, src, id string) string {
	t.Helper()
	res, err := d.Do(context.Background(), model.ActionRequest{Verb: model.VerbTicketEscalate, Comment: "needs the DBA on call",
		Ticket: model.TicketRef{Source: src, ID: id, Number: id, Tier: model.Tier1}})
	require.NoError(t, err)
	require.Equal(t, model.ActionPending, res.State, res.Message)
	deliver(t, d)
	log, err := c.AuditLog(time.Time{})
	require.NoError(t, err)
	last := log[len(log)-1]
	require.Equal(t, model.ActionPending, last.State, "the reply was lost: not known to be delivered")
	require.Eventually(t, func() bool {
		deliver(t, d)
		log, _ := c.AuditLog(time.Time{})
		return log[len(log)-1].State == model.ActionDelivered
	}, 20*time.Second, 20*time.Millisecond)
	return model.TicketMarker(last.UID, id)
}

// Jira: the servicedeskapi took the internal comment but its reply was
// lost; the retry reads the request's comments, finds the marker and does
// not comment again.
func TestJiraEscalationReplyLostNotCommentedTwice(t *testing.T) {
	srv := jiratest.New(t)
	t1, t2 := `project = NOC AND "Tier" = "1"`, `project = NOC AND "Tier" = "2"`
	srv.JQL(t1, func(is *jiratest.Issue) bool { return is.Status == "In Progress" })
	srv.JQL(t2, func(is *jiratest.Issue) bool { return is.Status == "Escalated" })
	srv.Transitions(jiratest.Transition{ID: "31", Name: "Escalate to Tier 2", To: "Escalated"})
	srv.Add(&jiratest.Issue{ID: "10814", Key: "NOC-814", Summary: "disk full", Status: "In Progress", Project: "NOC", Created: time.Now(), Updated: time.Now()})
	hc, err := sources.NewHTTPClient(pconfig.HTTPClientConfig{BasicAuth: &pconfig.BasicAuth{Username: srv.Email, Password: pconfig.Secret(srv.Token)}}, "jsm")
	require.NoError(t, err)
	src, err := jira.New(jira.Options{Common: tickets.Common{Name: "jsm", URL: srv.URL, Client: hc},
		Tier1JQL: t1, Tier2JQL: t2, Transition: "Escalate to Tier 2"})
	require.NoError(t, err)
	c := openCache(t, filepath.Join(t.TempDir(), "c.db"))
	d := actions.New(c, actions.Options{Operator: tier1(), MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
		Timeout: 10 * time.Second, Tickets: map[string]tickets.TicketSource{"jsm": src}})

	srv.LoseCommentReplies(1)
	marker := escalateUntilDelivered(t, d, c, "jsm", "10814")
	is := srv.Issue("10814")
	assert.Equal(t, "Escalated", is.Status)
	var n int
	for _, cm := range is.Comments {
		if strings.Contains(cm.Body, marker) {
			n++
			assert.False(t, cm.Public, "an internal note")
			assert.Contains(t, cm.Body, "needs the DBA on call")
		}
	}
	assert.Equal(t, 1, n, "one comment: the retry found it by its marker")
	assert.Equal(t, 1, srv.Requests("POST /rest/servicedeskapi/request/10814/comment"))
	assert.Equal(t, 1, srv.Requests("POST /rest/api/3/issue/10814/transitions"), "transitioned once")
}

// ServiceNow: the PATCH carrying the group change and work note went
// through but its reply was lost; the retry reads the incident's work
// notes from sys_journal_field, finds the marker and does not add a second.
func TestServiceNowEscalationReplyLostNotWorkNotedTwice(t *testing.T) {
	const (
		g1, g2 = "a1b2c3d4e5f60718293a4b5c6d7e8f90", "b1b2c3d4e5f60718293a4b5c6d7e8f90"
		inc    = "5f1c0e2a1b8d4a10a9c3e7f2d4b6a801"
	)
	srv := sntest.New(t)
	srv.Add("sys_user_group", sntest.Record{"sys_id": g1, "name": "NOC Tier 1"}, sntest.Record{"sys_id": g2, "name": "NOC Tier 2"})
	srv.Add("incident", sntest.Record{"sys_id": inc, "number": "INC0041207", "short_description": "edge-2 BGP session down", "state": "2",
		"priority": "1", "active": "true", "assignment_group": g1, "assigned_to": "", "opened_at": "2025-11-03 07:52:10", "sys_updated_on": "2025-11-03 09:14:22"})
	hc, err := sources.NewHTTPClient(pconfig.HTTPClientConfig{BasicAuth: &pconfig.BasicAuth{Username: srv.User, Password: pconfig.Secret(srv.Password)}}, "snow")
	require.NoError(t, err)
	src, err := servicenow.New(servicenow.Options{Common: tickets.Common{Name: "snow", URL: srv.URL, Client: hc},
		Tier1: []string{"NOC Tier 1"}, Tier2: []string{"NOC Tier 2"}})
	require.NoError(t, err)
	c := openCache(t, filepath.Join(t.TempDir(), "c.db"))
	d := actions.New(c, actions.Options{Operator: tier1(), MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
		Timeout: 10 * time.Second, Tickets: map[string]tickets.TicketSource{"snow": src}})

	srv.LoseWriteReplies(1)
	marker := escalateUntilDelivered(t, d, c, "snow", inc)
	assert.Equal(t, g2, srv.Get("incident", inc)["assignment_group"])
	var n int
	for _, note := range srv.WorkNotes(inc) {
		if strings.Contains(note, marker) {
			n++
			assert.Contains(t, note, "needs the DBA on call")
		}
	}
	assert.Equal(t, 1, n, "one work note: the retry found it by its marker")
	assert.Equal(t, 1, srv.Requests("PATCH /api/now/table/incident/"+inc))
}
