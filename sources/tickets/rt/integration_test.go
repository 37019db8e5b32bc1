package rt_test

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	pconfig "github.com/prometheus/common/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources"
	"sitroom/sources/sourcetest"
	"sitroom/sources/tickets"
	"sitroom/sources/tickets/desktest"
	"sitroom/sources/tickets/rt"
)

func tokenClient(t *testing.T, token string) *http.Client {
	t.Helper()
	c, err := sources.NewHTTPClient(pconfig.HTTPClientConfig{
		Authorization: &pconfig.Authorization{Type: "token", Credentials: pconfig.Secret(token)},
	}, "rt-test")
	require.NoError(t, err)
	return c
}

func newSource(t *testing.T, srv *sourcetest.RTServer, mod func(*rt.Options)) *rt.Source {
	t.Helper()
	return desktest.NewSource(t, rt.New, rt.Options{Common: tickets.Common{Name: "rt-noc", URL: srv.URL, Client: tokenClient(t, srv.Token)},
		Tier1: []string{"NOC"}, Tier2: []string{"NOC-T2"}}, mod)
}

func ids(ts []model.Ticket) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.ID)
	}
	sort.Strings(out)
	return out
}

// One RT for the whole file: starting it costs about 5 s.
func TestRealRT(t *testing.T) {
	srv := sourcetest.StartRT(t, sourcetest.WithRTQueues("NOC", "NOC-T2", "Other"), sourcetest.WithRTUsers("alice.rt"), sourcetest.WithRTCustomFields("Service"))
	ctx := context.Background()

	t1 := srv.CreateTicket(t, "NOC", "edge-2 BGP session down", 85, "ops@example.com")
	t2 := srv.CreateTicket(t, "NOC", "payments-api 5xx", 30, "")
	t3 := srv.CreateTicket(t, "NOC-T2", "db-main replication lag", 55, "dba@example.com")
	other := srv.CreateTicket(t, "Other", "printer on fire", 99, "")
	closed := srv.CreateTicket(t, "NOC", "already fixed", 10, "")
	srv.Do(t, http.MethodPut, "/ticket/"+t3, map[string]any{"CustomFields": map[string]string{"Service": "db-main"}}, nil)
	srv.Do(t, http.MethodPut, "/ticket/"+closed, map[string]string{"Status": "resolved"}, nil)

	t.Run("queues as tiers, TicketSQL search", func(t *testing.T) {
		s := newSource(t, srv, func(o *rt.Options) {
			// A P1 target as well: RT calls 85 Medium, so Medium's applies.
			o.SLATargets = map[string]time.Duration{"p1": time.Hour, "medium": 4 * time.Hour}
			o.ServiceField = "Service"
		})
		got, err := s.Fetch(ctx)
		require.NoError(t, err)
		assert.Equal(t, ids([]model.Ticket{{ID: t1}, {ID: t2}, {ID: t3}}), ids(got), "open tickets of the tier queues only: not %s (other queue) nor %s (resolved)", other, closed)
		m := desktest.ByID(got)
		a := m[t1]
		assert.Equal(t, model.Tier1, a.Tier)
		assert.Equal(t, "NOC", a.Queue)
		assert.Equal(t, "edge-2 BGP session down", a.Subject)
		assert.Equal(t, "Medium", a.PriorityName, "RT 5's default %PriorityAsString: Medium from 50")
		assert.Equal(t, model.PriorityModerate, a.Priority)
		assert.Equal(t, "85", a.PriorityRaw)
		assert.Equal(t, "new", a.Status)
		assert.Equal(t, "ops@example.com", a.Requester)
		assert.Empty(t, a.Owner, "RT's Nobody is no owner")
		assert.WithinDuration(t, time.Now(), a.Created, 2*time.Minute)
		assert.Equal(t, time.UTC, a.Created.Location())
		assert.True(t, a.SLA.Known, "Medium has a target in config")
		assert.Equal(t, a.Created.Add(4*time.Hour), a.SLA.Due, "Medium's target, not P1's")
		assert.Equal(t, srv.URL+"/Ticket/Display.html?id="+t1, a.URL)
		assert.Equal(t, model.Tier2, m[t3].Tier)
		assert.Equal(t, "Medium", m[t3].PriorityName, "55")
		assert.Equal(t, m[t3].Created.Add(4*time.Hour), m[t3].SLA.Due)
		assert.Equal(t, "Low", m[t2].PriorityName, "30")
		assert.Equal(t, "db-main", m[t3].Service, "service hint from the custom field")
		assert.Equal(t, "db-main", m[t3].Fields.Get("service"))
		assert.Empty(t, a.Service)
		assert.False(t, m[t2].SLA.Known, "Low has no target and RT no due date")
	})

	t.Run("a site %PriorityAsString with its own names drives the SLA target", func(t *testing.T) {
		s := newSource(t, srv, func(o *rt.Options) {
			o.PriorityAsString = map[string]map[string]int{
				"Default": {"Routine": 0, "Urgent": 70, "Critical": 90},
				"NOC-T2":  {}, // RT's 0: this queue's priorities stay numbers
			}
			o.SLATargets = map[string]time.Duration{"critical": 30 * time.Minute, "urgent": 2 * time.Hour, "p1": time.Minute}
		})
		got, err := s.Fetch(ctx)
		require.NoError(t, err)
		m := desktest.ByID(got)
		a := m[t1]
		assert.Equal(t, "Urgent", a.PriorityName, "85 is at or above Urgent's 70, below Critical's 90")
		assert.Equal(t, model.PriorityCritical, a.Priority, "Urgent reads as P1")
		assert.Equal(t, a.Created.Add(2*time.Hour), a.SLA.Due, "Urgent's target by name, not P1's")
		assert.Equal(t, "Routine", m[t2].PriorityName)
		assert.False(t, m[t2].SLA.Known, "Routine has no target")
		assert.Empty(t, m[t3].PriorityName, "the NOC-T2 queue names none")
		assert.Equal(t, "55", m[t3].PriorityRaw)
		assert.False(t, m[t3].SLA.Known)
	})

	t.Run("paging: per_page 2 over 5 tickets", func(t *testing.T) {
		extra := []string{srv.CreateTicket(t, "NOC", "page filler a", 1, ""), srv.CreateTicket(t, "NOC-T2", "page filler b", 1, "")}
		s := newSource(t, srv, func(o *rt.Options) { o.PageSize = 2 })
		got, err := s.Fetch(ctx)
		require.NoError(t, err)
		want := ids([]model.Ticket{{ID: t1}, {ID: t2}, {ID: t3}, {ID: extra[0]}, {ID: extra[1]}})
		assert.Equal(t, want, ids(got), "three pages of 2, 2 and 1 ticket")
		for _, id := range extra {
			srv.Do(t, http.MethodPut, "/ticket/"+id, map[string]string{"Status": "resolved"}, nil)
		}
	})

	t.Run("later polls refetch only what changed, and drop what left", func(t *testing.T) {
		s := newSource(t, srv, func(o *rt.Options) { o.PageSize = 2; o.FullEvery = time.Hour })
		first, err := s.Fetch(ctx)
		require.NoError(t, err)
		require.Len(t, first, 3)
		// RT's timestamps have one-second resolution.
		time.Sleep(1100 * time.Millisecond)
		srv.Do(t, http.MethodPut, "/ticket/"+t2, map[string]string{"Subject": "payments-api 5xx (all regions)"}, nil)
		moved := srv.CreateTicket(t, "NOC", "to be moved away", 1, "")
		gone := srv.CreateTicket(t, "NOC", "to be resolved", 1, "")
		mid, err := s.Fetch(ctx)
		require.NoError(t, err)
		require.Contains(t, desktest.ByID(mid), moved)
		require.Contains(t, desktest.ByID(mid), gone)
		assert.Equal(t, "payments-api 5xx (all regions)", desktest.ByID(mid)[t2].Subject)

		srv.Do(t, http.MethodPut, "/ticket/"+moved, map[string]string{"Queue": "Other"}, nil)
		srv.Do(t, http.MethodPut, "/ticket/"+gone, map[string]string{"Status": "resolved"}, nil)
		last, err := s.Fetch(ctx)
		require.NoError(t, err)
		assert.Equal(t, ids([]model.Ticket{{ID: t1}, {ID: t2}, {ID: t3}}), ids(last), "moved to a non-tier queue and resolved tickets leave the set")
		assert.Equal(t, "payments-api 5xx (all regions)", desktest.ByID(last)[t2].Subject, "unchanged tickets are kept from earlier polls")
	})

	t.Run("escalate: queue change and the comment in the history", func(t *testing.T) {
		s := newSource(t, srv, nil)
		comment := "Escalated by alice from sitroom: outage payments (CRIT), affects checkout, web. Runbook: https://runbooks.example/payments"
		require.NoError(t, s.Escalate(ctx, t2, comment))
		assert.Equal(t, string(srv.QueueID(t, "NOC-T2")), string(srv.Ticket(t, t2).Queue.ID))

		got, err := s.Fetch(ctx)
		require.NoError(t, err)
		assert.Equal(t, model.Tier2, desktest.ByID(got)[t2].Tier, "the next poll sees it in tier 2")

		var comments []string
		var queueMove bool
		hist := srv.History(t, t2)
		for _, tx := range hist {
			if tx.Type == "Comment" {
				comments = append(comments, tx.Content)
			}
			if tx.Field == "Queue" && tx.NewValue == srv.QueueID(t, "NOC-T2") {
				queueMove = true
			}
		}
		assert.True(t, queueMove, "the history records the queue change")
		require.Len(t, comments, 1, "history: %+v", hist)
		assert.Contains(t, comments[0], comment)

		// Once more (an outbox retry): still in tier 2, not moved again.
		require.NoError(t, s.Escalate(ctx, t2, ""))
		assert.Equal(t, string(srv.QueueID(t, "NOC-T2")), string(srv.Ticket(t, t2).Queue.ID))
	})

	t.Run("take: owner change through the user mapping", func(t *testing.T) {
		s := newSource(t, srv, func(o *rt.Options) { o.Users = map[string]string{"alice": "alice.rt"} })
		require.NoError(t, s.Take(ctx, t1, "alice"))
		assert.Equal(t, "alice.rt", string(srv.Ticket(t, t1).Owner.ID))
		got, err := s.Fetch(ctx)
		require.NoError(t, err)
		assert.Equal(t, "alice.rt", desktest.ByID(got)[t1].Owner)

		err = s.Take(ctx, t3, "mallory")
		require.Error(t, err, "mallory is no RT user")
		assert.Contains(t, err.Error(), "did not make mallory the owner")
	})

	t.Run("unknown ticket and bad id", func(t *testing.T) {
		s := newSource(t, srv, nil)
		err := s.Take(ctx, "999999", "root")
		require.Error(t, err)
		assert.True(t, errors.Is(err, tickets.ErrNotFound) || strings.Contains(err.Error(), "999999"), "%v", err)
		assert.Error(t, s.Escalate(ctx, "1 OR 1=1", "x"), "ids are numbers, never TicketSQL")
	})

	t.Run("basic auth works, a bad token is a clear 401", func(t *testing.T) {
		bc := desktest.BasicAuthClient(t, "root", srv.Password, "rt-basic")
		s := newSource(t, srv, func(o *rt.Options) { o.Client = bc })
		got, err := s.Fetch(ctx)
		require.NoError(t, err)
		assert.NotEmpty(t, got)

		bad := newSource(t, srv, func(o *rt.Options) { o.Client = tokenClient(t, "1-14-00000000000000000000000000000000") })
		_, err = bad.Fetch(ctx)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "401")
		assert.NotContains(t, err.Error(), srv.Token)
	})

	t.Run("RT down: a clear error, then it works again", func(t *testing.T) {
		down := sourcetest.StartRT(t)
		id := down.CreateTicket(t, "NOC", "during the outage", 50, "")
		s := newSource(t, down, nil)
		down.Stop()
		_, err := s.Fetch(ctx)
		require.Error(t, err)
		assert.Equal(t, sources.KindRefused, tickets.Kind(err), "%v", err)
		assert.Contains(t, err.Error(), "connection refused")
		err = s.Escalate(ctx, id, "note")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "escalate #"+id+": connection refused")
	})
}
