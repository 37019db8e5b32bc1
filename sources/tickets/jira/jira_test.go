package jira_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources"
	"sitroom/sources/tickets"
	"sitroom/sources/tickets/desktest"
	"sitroom/sources/tickets/jira"
	"sitroom/sources/tickets/jira/jiratest"
)

const (
	t1JQL = `project = NOC AND "Tier" = "1" AND statusCategory != Done`
	t2JQL = `project = NOC AND "Tier" = "2" AND statusCategory != Done`
)

var now = time.Date(2025, 11, 3, 10, 0, 0, 0, time.UTC)

func setup(t *testing.T) *jiratest.Server {
	srv := jiratest.New(t)
	srv.JQL(t1JQL, func(is *jiratest.Issue) bool { return is.Status == "Waiting for support" || is.Status == "In Progress" })
	srv.JQL(t2JQL, func(is *jiratest.Issue) bool { return is.Status == "Escalated" })
	srv.Transitions(
		jiratest.Transition{ID: "21", Name: "Start progress", From: "Waiting for support", To: "In Progress"},
		jiratest.Transition{ID: "31", Name: "Escalate to Tier 2", To: "Escalated"},
	)
	created := now.Add(-2 * time.Hour)
	srv.Add(
		&jiratest.Issue{ID: "10812", Key: "NOC-812", Summary: "BGP flap on edge-2", Status: "Waiting for support", Priority: "High", Project: "NOC",
			ReporterName: "Mia Krystof", Created: created, Updated: created, Components: []string{"edge-network"},
			SLA: &jiratest.SLA{Breach: now.Add(150 * time.Minute), Remaining: 150 * time.Minute}},
		&jiratest.Issue{ID: "10813", Key: "NOC-813", Summary: "payments 5xx", Status: "Escalated", Priority: "Highest", Project: "NOC",
			AssigneeID: "acc-bob", AssigneeName: "Bob", Created: created, Updated: created,
			SLA: &jiratest.SLA{Breach: now.Add(-10 * time.Minute), Remaining: -10 * time.Minute, Breached: true}},
		&jiratest.Issue{ID: "10814", Key: "NOC-814", Summary: "disk full", Status: "In Progress", Priority: "Low", Project: "NOC", Created: created, Updated: created},
		&jiratest.Issue{ID: "10815", Key: "NOC-815", Summary: "done already", Status: "Done", Priority: "Low", Project: "NOC", Created: created, Updated: created},
	)
	return srv
}

func newSource(t *testing.T, srv *jiratest.Server, mod func(*jira.Options)) *jira.Source {
	t.Helper()
	return desktest.NewSource(t, jira.New, jira.Options{Common: tickets.Common{Name: "jsm", URL: srv.URL, Client: desktest.BasicAuthClient(t, srv.Email, srv.Token, "jsm"),
		Users: map[string]string{"alice": "acc-alice"}, ServiceField: "components", Now: func() time.Time { return now }},
		Tier1JQL: t1JQL, Tier2JQL: t2JQL, Transition: "Escalate to Tier 2"}, mod)
}

func TestFetchTiersFieldsAndSLAFromServiceDesk(t *testing.T) {
	srv := setup(t)
	s := newSource(t, srv, func(o *jira.Options) {
		o.SLATargets = map[string]time.Duration{"low": 8 * time.Hour}
	})
	got, err := s.Fetch(context.Background())
	require.NoError(t, err)
	m := desktest.ByNumber(got)
	require.Len(t, m, 3, "Done is in neither tier")
	a := m["NOC-812"]
	assert.Equal(t, "10812", a.ID)
	assert.Equal(t, model.Tier1, a.Tier)
	assert.Equal(t, "NOC", a.Queue)
	assert.Equal(t, model.PriorityHigh, a.Priority)
	assert.Equal(t, "High", a.PriorityName, "Jira's own name")
	assert.Equal(t, "High", a.PriorityRaw)
	assert.Equal(t, "Waiting for support", a.Status)
	assert.Equal(t, "Mia Krystof", a.Requester)
	assert.Empty(t, a.Owner, "assignee null")
	assert.Equal(t, now.Add(-2*time.Hour), a.Created)
	assert.Equal(t, srv.URL+"/browse/NOC-812", a.URL)
	assert.Equal(t, "edge-network", a.Service)
	require.True(t, a.SLA.Known)
	assert.Equal(t, "Time to resolution", a.SLA.Name)
	assert.Equal(t, now.Add(150*time.Minute), a.SLA.Due)
	left, _ := a.SLA.Left(now)
	assert.Equal(t, 150*time.Minute, left)

	b := m["NOC-813"]
	assert.Equal(t, model.Tier2, b.Tier)
	assert.Equal(t, "Bob", b.Owner)
	assert.True(t, b.SLA.BreachedAt(now))
	assert.Equal(t, model.PriorityCritical, b.Priority)

	c := m["NOC-814"]
	assert.Equal(t, "target", c.SLA.Name, "no SLA in Jira: the config target")
	assert.Equal(t, c.Created.Add(8*time.Hour), c.SLA.Due)

	// A second poll asks the servicedeskapi again only for changed issues.
	before := srv.Requests("GET /rest/servicedeskapi/request/10812/sla")
	_, err = s.Fetch(context.Background())
	require.NoError(t, err)
	assert.Equal(t, before, srv.Requests("GET /rest/servicedeskapi/request/10812/sla"))
}

func TestFetchSLAFromCustomFieldAndTokenPaging(t *testing.T) {
	srv := setup(t)
	for i := 0; i < 7; i++ {
		srv.Add(&jiratest.Issue{ID: fmt.Sprint(20000 + i), Key: fmt.Sprintf("NOC-9%02d", i), Summary: "filler", Status: "In Progress", Project: "NOC", Created: now, Updated: now})
	}
	srv.MaxResults(3) // the server grants fewer than asked
	s := newSource(t, srv, func(o *jira.Options) { o.SLAField = "customfield_10030" })
	got, err := s.Fetch(context.Background())
	require.NoError(t, err)
	assert.Len(t, got, 10)
	assert.Equal(t, 4, srv.Requests("GET /rest/api/3/search/jql"), "tier 1 (9 issues) in three pages of 3, tier 2 in one")
	assert.Zero(t, srv.Requests("GET /rest/servicedeskapi/request/10812/sla"), "the SLA came with the search")
	a := desktest.ByNumber(got)["NOC-812"]
	require.True(t, a.SLA.Known)
	assert.Equal(t, now.Add(150*time.Minute), a.SLA.Due)
}

func TestDecodeDocumentedPayloads(t *testing.T) {
	b, err := os.ReadFile("../../../testdata/jira/search_jql.json")
	require.NoError(t, err)
	p, err := jira.DecodeSearch(b)
	require.NoError(t, err)
	require.Len(t, p.Issues, 1)
	assert.Equal(t, "CAEaAggB", p.NextPageToken)
	assert.Equal(t, "NOC-812", p.Issues[0].Key)

	b, err = os.ReadFile("../../../testdata/jira/sla.json")
	require.NoError(t, err)
	sp, err := jira.DecodeSLAs(b)
	require.NoError(t, err)
	require.Len(t, sp.Values, 1)
	require.NotNil(t, sp.Values[0].OngoingCycle)
	assert.Equal(t, int64(9000000), sp.Values[0].OngoingCycle.RemainingTime.Millis)
	assert.Equal(t, int64(1762171205000), sp.Values[0].OngoingCycle.BreachTime.EpochMillis)
}

func TestEscalateTransitionsByNameAndCommentsInternally(t *testing.T) {
	srv := setup(t)
	s := newSource(t, srv, nil)
	ctx := context.Background()
	note := "Escalated by alice: outage payments (CRIT), affects checkout. Runbook https://runbooks.example/payments"
	require.NoError(t, s.Escalate(ctx, "10812", note))
	is := srv.Issue("10812")
	assert.Equal(t, "Escalated", is.Status)
	require.Len(t, is.Comments, 1)
	assert.Equal(t, note, is.Comments[0].Body)
	assert.False(t, is.Comments[0].Public, "internal note, not shown to the customer")

	got, err := s.Fetch(ctx)
	require.NoError(t, err)
	assert.Equal(t, model.Tier2, desktest.ByNumber(got)["NOC-812"].Tier)

	// A retry after success does not transition again.
	posts := srv.Requests("POST /rest/api/3/issue/10812/transitions")
	require.NoError(t, s.Escalate(ctx, "10812", ""))
	assert.Equal(t, posts, srv.Requests("POST /rest/api/3/issue/10812/transitions"))
}

func TestEscalateWithoutTheTransitionSaysWhichExist(t *testing.T) {
	srv := setup(t)
	s := newSource(t, srv, func(o *jira.Options) { o.Transition = "Send to Mars" })
	err := s.Escalate(context.Background(), "10814", "x")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `transition "Send to Mars" is not available`)
	assert.Contains(t, err.Error(), "Escalate to Tier 2")
	assert.Equal(t, "In Progress", srv.Issue("10814").Status)
	assert.Empty(t, srv.Issue("10814").Comments, "no comment when the move failed")
}

func TestTakeAssignsByAccountID(t *testing.T) {
	srv := setup(t)
	s := newSource(t, srv, nil)
	require.NoError(t, s.Take(context.Background(), "10814", "alice"))
	assert.Equal(t, "acc-alice", srv.Issue("10814").AssigneeID)
	err := s.Take(context.Background(), "10814", "mallory")
	assert.ErrorIs(t, err, tickets.ErrUnknownUser)
	err = s.Take(context.Background(), "99999", "alice")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "404")
	assert.Contains(t, err.Error(), "does not exist")
}

func TestErrors(t *testing.T) {
	srv := setup(t)
	ctx := context.Background()

	bad := newSource(t, srv, func(o *jira.Options) { o.Client = desktest.BasicAuthClient(t, srv.Email, "wrong-token", "jsm") })
	_, err := bad.Fetch(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Jira refused the credentials (HTTP 401)")
	assert.NotContains(t, err.Error(), "wrong-token")

	s := newSource(t, srv, nil)
	srv.Throttle(1, "7")
	_, err = s.Fetch(ctx)
	require.Error(t, err)
	assert.Equal(t, sources.KindThrottled, tickets.Kind(err))
	assert.Contains(t, err.Error(), model.ThrottledPrefix)
	assert.Contains(t, err.Error(), "retry after 7")
	_, err = s.Fetch(ctx)
	assert.NoError(t, err, "the next poll goes through")

	unknown := newSource(t, srv, func(o *jira.Options) { o.Tier1JQL = "project = NOPE" })
	_, err = unknown.Fetch(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "HTTP 400: Error in the JQL Query")

	// The removed search API answers 410, as Jira Cloud does now.
	var codes []int
	for _, p := range []string{"/rest/api/3/search", "/rest/api/2/search"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+p+"?jql=x", nil)
		req.SetBasicAuth(srv.Email, srv.Token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
	}
	sort.Ints(codes)
	assert.Equal(t, []int{410, 410}, codes)

	assert.Error(t, s.Escalate(ctx, "10812 OR 1=1", "x"), "ids never reach JQL unchecked")
}

func TestHasCommentReadsInternalCommentsPageByPage(t *testing.T) {
	srv := setup(t)
	s := newSource(t, srv, nil)
	ctx := context.Background()
	marker := model.TicketMarker("01JB7Q3M2K", "10814")
	found, err := s.HasComment(ctx, "10814", marker)
	require.NoError(t, err)
	assert.False(t, found, "no comments yet")

	for i := 0; i < 4; i++ {
		require.NoError(t, s.Escalate(ctx, "10814", fmt.Sprintf("note %d", i)))
	}
	require.NoError(t, s.Escalate(ctx, "10814", "context\n\n"+marker))
	srv.MaxResults(2) // five comments in three pages
	before := srv.Requests("GET /rest/servicedeskapi/request/10814/comment")
	found, err = s.HasComment(ctx, "10814", marker)
	require.NoError(t, err)
	assert.True(t, found, "the internal comment on the last page")
	assert.Equal(t, 3, srv.Requests("GET /rest/servicedeskapi/request/10814/comment")-before)

	found, err = s.HasComment(ctx, "10814", model.TicketMarker("01JB7Q3M2L", "10814"))
	require.NoError(t, err)
	assert.False(t, found, "another action's marker")

	_, err = s.HasComment(ctx, "99999", marker)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "404")
	_, err = s.HasComment(ctx, "10814 OR 1=1", marker)
	assert.Error(t, err)
}

func TestDecodeDocumentedComments(t *testing.T) {
	b, err := os.ReadFile("../../../testdata/jira/request_comments.json")
	require.NoError(t, err)
	p, err := jira.DecodeComments(b)
	require.NoError(t, err)
	require.Len(t, p.Values, 2)
	assert.False(t, p.IsLastPage)
	assert.False(t, p.Values[1].Public)
	assert.Contains(t, p.Values[1].Body, model.TicketMarker("01JB7Q3M2K", "10812"))
}
