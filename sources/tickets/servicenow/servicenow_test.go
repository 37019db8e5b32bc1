package servicenow_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources"
	"sitroom/sources/tickets"
	"sitroom/sources/tickets/desktest"
	"sitroom/sources/tickets/servicenow"
	"sitroom/sources/tickets/servicenow/sntest"
)

const (
	g1    = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
	g2    = "b1b2c3d4e5f60718293a4b5c6d7e8f90"
	gX    = "c1b2c3d4e5f60718293a4b5c6d7e8f90"
	inc1  = "5f1c0e2a1b8d4a10a9c3e7f2d4b6a801"
	inc2  = "5f1c0e2a1b8d4a10a9c3e7f2d4b6a802"
	inc3  = "5f1c0e2a1b8d4a10a9c3e7f2d4b6a803"
	alice = "62826bf03710200044e0bfc8bcbe5df1"
)

var now = time.Date(2025, 11, 3, 10, 0, 0, 0, time.UTC)

func setup(t *testing.T) *sntest.Server {
	srv := sntest.New(t)
	srv.Add("sys_user_group",
		sntest.Record{"sys_id": g1, "name": "NOC Tier 1"},
		sntest.Record{"sys_id": g2, "name": "NOC Tier 2"},
		sntest.Record{"sys_id": gX, "name": "Facilities"})
	srv.Add("sys_user", sntest.Record{"sys_id": alice, "name": "Alice Noc", "user_name": "alice"},
		sntest.Record{"sys_id": "f0000000000000000000000000000001", "name": "Mia Krystof"})
	srv.Add("cmdb_ci", sntest.Record{"sys_id": "e0000000000000000000000000000001", "name": "edge-2"})
	srv.Add("incident",
		sntest.Record{"sys_id": inc1, "number": "INC0041207", "short_description": "edge-2 BGP session down", "state": "2", "priority": "1", "active": "true",
			"assignment_group": g1, "assigned_to": "", "caller_id": "f0000000000000000000000000000001", "cmdb_ci": "e0000000000000000000000000000001",
			"opened_at": "2025-11-03 07:52:10", "sys_updated_on": "2025-11-03 09:14:22"},
		sntest.Record{"sys_id": inc2, "number": "INC0041208", "short_description": "db lag", "state": "1", "priority": "3", "active": "true",
			"assignment_group": g2, "assigned_to": alice, "caller_id": "", "cmdb_ci": "", "opened_at": "2025-11-03 08:00:00", "sys_updated_on": "2025-11-03 08:00:00"},
		sntest.Record{"sys_id": inc3, "number": "INC0041209", "short_description": "closed", "state": "7", "priority": "1", "active": "false",
			"assignment_group": g1, "assigned_to": "", "caller_id": "", "cmdb_ci": "", "opened_at": "2025-11-03 08:00:00", "sys_updated_on": "2025-11-03 08:00:00"},
		sntest.Record{"sys_id": "5f1c0e2a1b8d4a10a9c3e7f2d4b6a804", "number": "INC0041210", "short_description": "light bulb", "state": "1", "priority": "4", "active": "true",
			"assignment_group": gX, "assigned_to": "", "caller_id": "", "cmdb_ci": "", "opened_at": "2025-11-03 08:00:00", "sys_updated_on": "2025-11-03 08:00:00"},
	)
	srv.Add("task_sla",
		sntest.Record{"sys_id": "d0000000000000000000000000000001", "task": inc1, "sla": "", "sla.name": "P1 resolution (4h)", "stage": "in_progress", "has_breached": "false", "active": "true", "planned_end_time": "2025-11-03 11:52:10"},
		sntest.Record{"sys_id": "d0000000000000000000000000000002", "task": inc1, "sla": "", "stage": "in_progress", "has_breached": "false", "active": "true", "planned_end_time": "2025-11-03 08:22:10"},
		sntest.Record{"sys_id": "d0000000000000000000000000000003", "task": inc1, "sla": "", "stage": "completed", "has_breached": "true", "active": "false", "planned_end_time": "2025-11-03 08:00:00"},
	)
	return srv
}

func newSource(t *testing.T, srv *sntest.Server, mod func(*servicenow.Options)) *servicenow.Source {
	t.Helper()
	return desktest.NewSource(t, servicenow.New, servicenow.Options{Common: tickets.Common{Name: "snow", URL: srv.URL, Client: desktest.BasicAuthClient(t, srv.User, srv.Password, "snow"),
		Users: map[string]string{"alice": alice}, ServiceField: "cmdb_ci", Now: func() time.Time { return now }},
		Tier1: []string{"NOC Tier 1"}, Tier2: []string{"NOC Tier 2"}}, mod)
}

func TestFetchIncidentsOfTheTierGroups(t *testing.T) {
	srv := setup(t)
	s := newSource(t, srv, func(o *servicenow.Options) {
		o.SLATargets = map[string]time.Duration{"p3": 8 * time.Hour}
	})
	got, err := s.Fetch(context.Background())
	require.NoError(t, err)
	m := desktest.ByNumber(got)
	require.Len(t, m, 2, "inactive and other groups' incidents are left out")
	a := m["INC0041207"]
	assert.Equal(t, inc1, a.ID)
	assert.Equal(t, model.Tier1, a.Tier)
	assert.Equal(t, "NOC Tier 1", a.Queue)
	assert.Equal(t, model.PriorityCritical, a.Priority)
	assert.Equal(t, "1", a.PriorityRaw)
	assert.Equal(t, "Critical", a.PriorityName, "ServiceNow's name of priority 1")
	assert.Equal(t, "In Progress", a.Status, "the state by name, not its number")
	assert.Empty(t, a.Owner, `empty reference ""`)
	assert.Equal(t, "Mia Krystof", a.Requester)
	assert.Equal(t, time.Date(2025, 11, 3, 7, 52, 10, 0, time.UTC), a.Created)
	assert.Equal(t, "edge-2", a.Service)
	require.True(t, a.SLA.Known)
	assert.Equal(t, time.Date(2025, 11, 3, 8, 22, 10, 0, time.UTC), a.SLA.Due, "the running task_sla that breaches first")
	assert.True(t, a.SLA.BreachedAt(now))

	b := m["INC0041208"]
	assert.Equal(t, model.Tier2, b.Tier)
	assert.Equal(t, "Alice Noc", b.Owner)
	assert.Equal(t, "target", b.SLA.Name, "no task_sla: the P3 target from config")
}

func TestOffsetPaging(t *testing.T) {
	srv := setup(t)
	for i := 0; i < 9; i++ {
		srv.Add("incident", sntest.Record{"sys_id": fmt.Sprintf("9%031x", i), "number": fmt.Sprintf("INC00500%02d", i), "active": "true", "priority": "4",
			"assignment_group": g1, "assigned_to": "", "opened_at": "2025-11-03 08:00:00", "sys_updated_on": "2025-11-03 08:00:00"})
	}
	s := newSource(t, srv, func(o *servicenow.Options) { o.PageSize = 4 })
	got, err := s.Fetch(context.Background())
	require.NoError(t, err)
	assert.Len(t, got, 11)
	assert.Len(t, desktest.ByNumber(got), 11, "no incident twice")
	assert.Equal(t, 3, srv.Requests("GET /api/now/table/incident"), "pages of 4, 4 and 3")
}

func TestDecodeDocumentedPayloads(t *testing.T) {
	b, err := os.ReadFile("../../../testdata/servicenow/incident_list.json")
	require.NoError(t, err)
	r, err := servicenow.DecodeRecords(b)
	require.NoError(t, err)
	require.Len(t, r.Result, 1)
	assert.Equal(t, servicenow.Value("a1b2c3d4e5f60718293a4b5c6d7e8f90"), r.Result[0]["assignment_group"], "a reference reads as its value")
	assert.Equal(t, servicenow.Value(""), r.Result[0]["assigned_to"])
	b, err = os.ReadFile("../../../testdata/servicenow/task_sla.json")
	require.NoError(t, err)
	r, err = servicenow.DecodeRecords(b)
	require.NoError(t, err)
	assert.Equal(t, servicenow.Value("2025-11-03 11:52:10"), r.Result[0]["planned_end_time"])
	_, err = servicenow.DecodeRecords([]byte(`{"status":"ok"}`))
	assert.Error(t, err)
}

func TestEscalateChangesGroupAndAddsWorkNote(t *testing.T) {
	srv := setup(t)
	s := newSource(t, srv, nil)
	note := "Escalated by alice: outage payments (CRIT). Runbook https://runbooks.example/payments"
	require.NoError(t, s.Escalate(context.Background(), inc1, note))
	assert.Equal(t, g2, srv.Get("incident", inc1)["assignment_group"])
	assert.Equal(t, []string{note}, srv.WorkNotes(inc1))
	got, err := s.Fetch(context.Background())
	require.NoError(t, err)
	assert.Equal(t, model.Tier2, desktest.ByNumber(got)["INC0041207"].Tier)
	assert.Equal(t, 1, srv.Requests("GET /api/now/table/sys_user_group"), "group looked up once")

	err = s.Escalate(context.Background(), "ffffffffffffffffffffffffffffffff", "x")
	assert.ErrorIs(t, err, tickets.ErrNotFound)
	assert.Error(t, s.Escalate(context.Background(), "INC0041207^active=false", "x"))
}

func TestTakeSetsAssignedTo(t *testing.T) {
	srv := setup(t)
	s := newSource(t, srv, nil)
	require.NoError(t, s.Take(context.Background(), inc1, "alice"))
	assert.Equal(t, alice, srv.Get("incident", inc1)["assigned_to"])
	assert.ErrorIs(t, s.Take(context.Background(), inc1, "mallory"), tickets.ErrUnknownUser)
}

func TestErrors(t *testing.T) {
	srv := setup(t)
	ctx := context.Background()
	bad := newSource(t, srv, func(o *servicenow.Options) { o.Client = desktest.BasicAuthClient(t, "sitroom", "nope-secret", "snow") })
	_, err := bad.Fetch(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ServiceNow refused the credentials (HTTP 401)")
	assert.NotContains(t, err.Error(), "nope-secret")

	s := newSource(t, srv, nil)
	srv.Throttle(1, "60")
	_, err = s.Fetch(ctx)
	require.Error(t, err)
	assert.Equal(t, sources.KindThrottled, tickets.Kind(err))
	assert.Contains(t, err.Error(), "retry after 60")
	srv.Throttle(1, "5")
	err = s.Take(ctx, inc1, "alice")
	assert.Equal(t, sources.KindThrottled, tickets.Kind(err), "writes are throttled alike: %v", err)
	_, err = s.Fetch(ctx)
	assert.NoError(t, err)

	// A status whose body is not ServiceNow's error object (a proxy in
	// front of the instance) keeps the status line and the body's start;
	// ServiceNow's own error object is read into the message.
	for _, c := range []struct {
		code              int
		ctype, body, want string
	}{
		{http.StatusForbidden, "text/plain", "blocked by proxy", "incidents: HTTP 403 Forbidden: blocked by proxy"},
		{http.StatusBadGateway, "text/plain", "", "incidents: HTTP 502 Bad Gateway"},
		{http.StatusInternalServerError, "application/json", `{"error":{"message":"Invalid table","detail":""},"status":"failure"}`, "incidents: HTTP 500: Invalid table"},
		{http.StatusInternalServerError, "application/json", `{"error":{"message":"Query failed","detail":"too many rows"},"status":"failure"}`, "incidents: HTTP 500: Query failed: too many rows"},
	} {
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", c.ctype)
			w.WriteHeader(c.code)
			fmt.Fprint(w, c.body)
		}))
		_, err = newSource(t, srv, func(o *servicenow.Options) { o.URL = proxy.URL }).Fetch(ctx)
		proxy.Close()
		require.Error(t, err)
		assert.Equal(t, c.want, err.Error())
	}

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/now/table/incident?sysparm_offset=-1", nil)
	req.SetBasicAuth(srv.User, srv.Password)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestHasCommentReadsWorkNotesFromTheJournal(t *testing.T) {
	srv := setup(t)
	s := newSource(t, srv, func(o *servicenow.Options) { o.PageSize = 2 })
	ctx := context.Background()
	marker := model.TicketMarker("01JB7Q3M2K", inc1)
	found, err := s.HasComment(ctx, inc1, marker)
	require.NoError(t, err)
	assert.False(t, found, "no work notes yet")

	srv.Add("sys_journal_field", sntest.Record{"sys_id": "8c1e2f3a4b5c6d7e8f90a1b2c3d4e5f6", "name": "incident", "element": "work_notes",
		"element_id": inc1, "value": "context\n\n" + marker, "sys_created_on": "2025-11-03 09:14:22"})
	for i := 0; i < 4; i++ {
		require.NoError(t, s.Escalate(ctx, inc1, fmt.Sprintf("later note %d", i)))
	}
	require.NoError(t, s.Escalate(ctx, inc2, model.TicketMarker("01JB7Q3M2L", inc2)))
	before := srv.Requests("GET /api/now/table/sys_journal_field")
	found, err = s.HasComment(ctx, inc1, marker)
	require.NoError(t, err)
	assert.True(t, found, "found past newer notes, on a later page")
	assert.Greater(t, srv.Requests("GET /api/now/table/sys_journal_field")-before, 1, "more than one page was read")

	found, err = s.HasComment(ctx, inc1, model.TicketMarker("01JB7Q3M2L", inc2))
	require.NoError(t, err)
	assert.False(t, found, "another incident's work note does not count")
	_, err = s.HasComment(ctx, "INC0041207^active=false", marker)
	assert.Error(t, err, "ids never reach the encoded query unchecked")
}

func TestDecodeDocumentedJournal(t *testing.T) {
	b, err := os.ReadFile("../../../testdata/servicenow/sys_journal_field.json")
	require.NoError(t, err)
	r, err := servicenow.DecodeRecords(b)
	require.NoError(t, err)
	require.Len(t, r.Result, 2)
	assert.Equal(t, servicenow.Value("work_notes"), r.Result[0]["element"])
	assert.Contains(t, string(r.Result[0]["value"]), model.TicketMarker("01JB7Q3M2K", inc1))
}

func TestIncidentStateShownByName(t *testing.T) {
	srv := setup(t)
	for i, st := range []string{"3", "6", "7", "8", "12", ""} {
		srv.Add("incident", sntest.Record{"sys_id": fmt.Sprintf("7%031x", i), "number": "INC00600" + fmt.Sprint(i), "state": st, "active": "true",
			"priority": "4", "assignment_group": g1, "assigned_to": "", "opened_at": "2025-11-03 08:00:00", "sys_updated_on": "2025-11-03 08:00:00"})
	}
	got, err := newSource(t, srv, nil).Fetch(context.Background())
	require.NoError(t, err)
	m := desktest.ByNumber(got)
	for num, want := range map[string]string{"INC0041207": "In Progress", "INC0041208": "New", "INC006000": "On Hold", "INC006001": "Resolved",
		"INC006002": "Closed", "INC006003": "Canceled", "INC006004": "state 12", "INC006005": ""} {
		assert.Equal(t, want, m[num].Status, num)
		assert.Equal(t, want, m[num].Fields.Get("status"), "catalog matchers see the same name: %s", num)
	}
}
