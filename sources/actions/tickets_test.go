package actions_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	pconfig "github.com/prometheus/common/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources"
	"sitroom/sources/actions"
	"sitroom/sources/sourcetest"
	"sitroom/sources/tickets"
	"sitroom/sources/tickets/rt"
)

// rtProxy stands between sitroom and a real RT: up, down (every
// connection cut before an answer), or losing the reply of a comment
// after RT has taken it.
type rtProxy struct {
	*httptest.Server
	mode atomic.Int32 // 0 up, 1 down, 2 lose comment replies
	lost atomic.Int32
}

func newRTProxy(t *testing.T, target string) *rtProxy {
	u, err := url.Parse(target)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &rtProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cut := func() {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}
		switch p.mode.Load() {
		case 1:
			cut()
			return
		case 2:
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/comment") {
				body, _ := io.ReadAll(r.Body)
				req, _ := http.NewRequest(r.Method, target+r.URL.RequestURI(), strings.NewReader(string(body)))
				req.Header = r.Header.Clone()
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
				}
				p.lost.Add(1)
				cut() // RT has the comment; sitroom never hears so
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

func rtClient(t *testing.T, token string) *http.Client {
	c, err := sources.NewHTTPClient(pconfig.HTTPClientConfig{
		Authorization: &pconfig.Authorization{Type: "token", Credentials: pconfig.Secret(token)},
	}, "rt-test")
	require.NoError(t, err)
	return c
}

func comments(t *testing.T, srv *sourcetest.RTServer, id, marker string) []string {
	var out []string
	for _, tx := range srv.History(t, id) {
		if tx.Type == "Comment" && strings.Contains(tx.Content, marker) {
			out = append(out, tx.Content)
		}
	}
	return out
}

func escalateTicket(t *testing.T, d *actions.Dispatcher, id, service string) model.ActionResult {
	t.Helper()
	res, err := d.Do(context.Background(), model.ActionRequest{Verb: model.VerbTicketEscalate, Service: service,
		Comment: "db-main is failing over; needs the DBA on call",
		Ticket:  model.TicketRef{Source: "rt-noc", ID: id, Number: "#" + id, Tier: model.Tier1}})
	require.NoError(t, err)
	return res
}

// Against a real Request Tracker: e on a Tier 1 ticket goes through the
// audit log and outbox, moves the ticket to the Tier 2 queue and adds one
// comment carrying the context. With RT unreachable the escalation stays
// pending and is delivered when RT is back; with the comment's reply lost
// the retry finds the comment and does not add a second one.
func TestTicketEscalationThroughOutboxRealRT(t *testing.T) {
	srv := sourcetest.StartRT(t, sourcetest.WithRTQueues("NOC", "NOC-T2"), sourcetest.WithRTUsers("alice.rt"))
	proxy := newRTProxy(t, srv.URL)
	src, err := rt.New(rt.Options{Common: tickets.Common{Name: "rt-noc", URL: proxy.URL, Client: rtClient(t, srv.Token), Users: map[string]string{"alice": "alice.rt"}},
		Tier1: []string{"NOC"}, Tier2: []string{"NOC-T2"}})
	require.NoError(t, err)
	c := openCache(t, filepath.Join(t.TempDir(), "c.db"))
	d := actions.New(c, actions.Options{Operator: tier1(), MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
		Timeout: 10 * time.Second, Tickets: map[string]tickets.TicketSource{"rt-noc": src}})
	ms, err := model.ParseMatchers(`service="db-main"`)
	require.NoError(t, err)
	cat := model.NewCatalog([]*model.Service{{Name: "db-main", Match: [][]*model.Matcher{ms}, Runbook: "https://runbooks.example/db-main"},
		{Name: "payments", DependsOn: []string{"db-main"}}})
	now := time.Now()
	snap := model.BuildSnapshot([]*model.AlertRow{{Source: "am", Alert: model.Alert{Key: "k", State: model.StateFiring, StartsAt: model.StampOf(now.Add(-10 * time.Minute)),
		Labels: model.LabelsFromMap(map[string]string{"alertname": "DBDown", "service": "db-main", "severity": "critical"})}}},
		[]model.SourceStatus{{Name: "am", LastSuccess: now}}, model.SnapshotOptions{Now: now, Catalog: cat})
	d.Observe(snap)

	t.Run("delivered: queue moved, one comment with the context", func(t *testing.T) {
		id := srv.CreateTicket(t, "NOC", "db-main replication lag", 60, "dba@example.com")
		res := escalateTicket(t, d, id, "db-main")
		require.Equal(t, model.ActionPending, res.State, res.Message)
		assert.Equal(t, srv.QueueID(t, "NOC"), srv.Ticket(t, id).Queue.ID, "nothing upstream before the outbox delivers")
		deliver(t, d)
		assert.Equal(t, srv.QueueID(t, "NOC-T2"), srv.Ticket(t, id).Queue.ID)
		log, err := c.AuditLog(time.Time{})
		require.NoError(t, err)
		last := log[len(log)-1]
		assert.Equal(t, model.ActionDelivered, last.State)
		assert.Equal(t, "ticket rt-noc #"+id, last.Target)
		got := comments(t, srv, id, model.TicketMarker(last.UID, id))
		require.Len(t, got, 1)
		for _, want := range []string{"db-main is failing over", "Escalated to Tier 2 by alice (tier1) with sitroom on jump1",
			"Linked outage: db-main, CRIT", "Affected services: payments.", "Runbook: https://runbooks.example/db-main"} {
			assert.Contains(t, got[0], want)
		}
	})

	t.Run("RT down: pending, then delivered once it is back", func(t *testing.T) {
		id := srv.CreateTicket(t, "NOC", "payments 5xx", 40, "")
		proxy.mode.Store(1)
		res := escalateTicket(t, d, id, "payments")
		require.Equal(t, model.ActionPending, res.State)
		deliver(t, d)
		log, _ := c.AuditLog(time.Time{})
		last := log[len(log)-1]
		assert.Equal(t, model.ActionPending, last.State, "still pending while RT is unreachable")
		assert.NotEmpty(t, last.Reason, "the failure is recorded in words")
		proxy.mode.Store(0)
		require.Eventually(t, func() bool {
			deliver(t, d)
			log, _ := c.AuditLog(time.Time{})
			return log[len(log)-1].State == model.ActionDelivered
		}, 20*time.Second, 20*time.Millisecond)
		assert.Equal(t, srv.QueueID(t, "NOC-T2"), srv.Ticket(t, id).Queue.ID)
		assert.Len(t, comments(t, srv, id, model.TicketMarker(last.UID, id)), 1, "exactly one comment")
	})

	t.Run("reply lost after RT took the comment: not commented twice", func(t *testing.T) {
		id := srv.CreateTicket(t, "NOC", "vpn flapping", 30, "")
		proxy.mode.Store(2)
		escalateTicket(t, d, id, "")
		deliver(t, d)
		require.Equal(t, int32(1), proxy.lost.Load(), "the comment went through and its reply was lost")
		log, _ := c.AuditLog(time.Time{})
		last := log[len(log)-1]
		require.Equal(t, model.ActionPending, last.State)
		proxy.mode.Store(0)
		require.Eventually(t, func() bool {
			deliver(t, d)
			log, _ := c.AuditLog(time.Time{})
			return log[len(log)-1].State == model.ActionDelivered
		}, 20*time.Second, 20*time.Millisecond)
		got := comments(t, srv, id, model.TicketMarker(last.UID, id))
		assert.Len(t, got, 1, "the retry found the comment by its marker")
		assert.Contains(t, got[0], "No linked outage.")
	})

	t.Run("take and refusals", func(t *testing.T) {
		id := srv.CreateTicket(t, "NOC", "printer", 10, "")
		res, err := d.Do(context.Background(), model.ActionRequest{Verb: model.VerbTake, Ticket: model.TicketRef{Source: "rt-noc", ID: id, Tier: model.Tier1}})
		require.NoError(t, err)
		require.Equal(t, model.ActionPending, res.State, res.Message)
		deliver(t, d)
		assert.Equal(t, sourcetest.ID("alice.rt"), srv.Ticket(t, id).Owner.ID, "the operator's RT user from the mapping")

		res, err = d.Do(context.Background(), model.ActionRequest{Verb: model.VerbTicketEscalate, Comment: "again",
			Ticket: model.TicketRef{Source: "rt-noc", ID: id, Tier: model.Tier2}})
		require.NoError(t, err)
		assert.Equal(t, model.ActionRefused, res.State)
		assert.Equal(t, "already Tier 2", res.Message)

		viewer := actions.New(c, actions.Options{Operator: model.Operator{User: "vic", Role: model.RoleViewer},
			Policy: &model.Policy{Roles: map[string]model.Role{"vic": model.RoleViewer}}, Tickets: map[string]tickets.TicketSource{"rt-noc": src}})
		res, err = viewer.Do(context.Background(), model.ActionRequest{Verb: model.VerbTake, Ticket: model.TicketRef{Source: "rt-noc", ID: id, Tier: model.Tier1}})
		require.NoError(t, err)
		assert.Equal(t, "role viewer cannot take tickets", res.Message)
		log, _ := c.AuditLog(time.Time{})
		assert.Equal(t, model.ActionRefused, log[len(log)-1].State, "refusals are audited")
	})
}
