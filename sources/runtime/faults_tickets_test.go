package runtime_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	pconfig "github.com/prometheus/common/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/cache"
	"sitroom/sources"
	"sitroom/sources/alertmanager"
	"sitroom/sources/tickets"
	"sitroom/sources/tickets/jira"
	"sitroom/sources/tickets/jira/jiratest"
	"sitroom/sources/tickets/rt"
	"sitroom/sources/tickets/servicenow"
	"sitroom/sources/tickets/servicenow/sntest"
)

// The source fault matrix for the ticket sources (Request Tracker, Jira,
// ServiceNow): the faults of faults_test.go, injected by the same front,
// against each ticket source polled through the real poller, cache and
// snapshot. After a good poll the faulty source is polled twice more; then
// its status must say what went wrong in words, every ticket of it must
// still be open and shown stale, none closed, the Tier 1 / Tier 2 / SLA
// counts must keep their last good values, and a healthy ticket desk and
// Alertmanager polled alongside must not notice.

// ticketClock is where the matrix's clock starts; ticket dates and SLA
// deadlines are set relative to it.
var ticketClock = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// ticketVictim is a ticket source under fault.
type ticketVictim struct {
	typ   string
	step  string // the step a failed poll names ("search: …")
	front *front
	alive int // open tickets while healthy
	// make builds the source named name reading url, on the clock now,
	// with fullEvery as its Options.FullEvery: negative reads everything
	// on every poll, 0 (the default, 10 minutes) makes the polls under
	// fault incremental ones.
	make func(t *testing.T, name, url string, now func() time.Time, fullEvery time.Duration) tickets.TicketSource
	// empty makes the upstream hold no open ticket.
	empty func()
	// said overrides the fault's wording per mode: the ticket sources
	// word a few statuses in their system's own terms.
	said map[string]string
}

// want is what the status must say under fault f: the alert sources'
// wording after the name of the step that failed, "throttled" first.
func (v *ticketVictim) want(f fault) string {
	if w, ok := v.said[f.mode]; ok {
		return w
	}
	rest := strings.TrimPrefix(f.want, "^")
	switch f.mode {
	case "empty":
		return `^empty reply; had 3 tickets$`
	case "big":
		return fmt.Sprintf(`^%s: reply larger than %d MiB$`, v.step, tickets.MaxReply>>20)
	case "429":
		return `^throttled: ` + v.step + `: ` + strings.TrimPrefix(rest, "throttled: ")
	case "hang", "drip":
		// The timeout is per request, however many a poll makes.
		return `^` + v.step + `: timed out after 500ms$`
	}
	return `^` + v.step + `: ` + rest
}

// rtItem renders one ticket of a REST2 search as RT 5 sends it with
// fields=Subject,Status,Priority,Owner,Queue,Requestors,Created,
// LastUpdated,Due,CustomFields and fields[Queue]=Name.
func rtItem(base, id, queue, subject, owner string, prio int, created, due time.Time) string {
	dueText := "1970-01-01T00:00:00Z" // RT's unset date
	if !due.IsZero() {
		dueText = due.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf(`{"type":"ticket","id":"%[2]s","_url":"%[1]s/REST/2.0/ticket/%[2]s","Subject":%[4]q,"Status":"open","Priority":"%[6]d",`+
		`"Owner":{"type":"user","id":"%[5]s","_url":"%[1]s/REST/2.0/user/%[5]s"},"Queue":{"type":"queue","id":"3","Name":"%[3]s","_url":"%[1]s/REST/2.0/queue/3"},`+
		`"Requestors":[{"type":"user","id":"ops@example.com","_url":"%[1]s/REST/2.0/user/ops@example.com"}],"Created":"%[7]s","LastUpdated":"%[7]s","Due":"%[8]s",`+
		`"CustomFields":[{"id":"1","name":"Service","values":["edge-2"],"type":"customfield","_url":"%[1]s/REST/2.0/customfield/1"}]}`,
		base, id, queue, subject, owner, prio, created.UTC().Format(time.RFC3339), dueText)
}

// rtVictim is an RT stand-in answering REST2 ticket searches with
// recorded-shape pages (as sources/tickets/rt's tests and a real RT 5 send
// them). A real RT (sourcetest.StartRT) takes about 30 s to start per
// instance; since every fault here is injected at the HTTP level in front
// of the upstream, replies of RT's shape exercise the same source code.
// The integration tests in sources/tickets/rt cover the real server.
func rtVictim(t *testing.T) *ticketVictim {
	const token = "rt-fault-token-0001"
	var emptied atomic.Bool
	v := &ticketVictim{typ: "rt", step: "search", alive: 3, said: map[string]string{
		"401":   `^search: RT refused the credentials \(HTTP 401\): check the token or basic_auth$`,
		"shape": `^search: malformed reply: /items: expected an array, found an object$`,
	}}
	good := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if r.Header.Get("Authorization") != "token "+token {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"message":"Unauthorized"}`)
			return
		}
		if r.URL.Path != "/REST/2.0/tickets" {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"message":"Not Found"}`)
			return
		}
		base := "http://" + r.Host
		var items []string
		if strings.Contains(r.URL.Query().Get("query"), "__Inactive__") {
			// An incremental poll's search for tickets that left the
			// tier queues: all of them once resolved.
			if emptied.Load() {
				for _, id := range []string{"101", "102", "103"} {
					items = append(items, fmt.Sprintf(`{"type":"ticket","id":"%s","_url":"%s/REST/2.0/ticket/%s"}`, id, base, id))
				}
			}
		} else if !emptied.Load() {
			items = []string{
				rtItem(base, "101", "NOC", "edge-2 BGP session down", "Nobody", 90, ticketClock.Add(-3*time.Hour), ticketClock.Add(-10*time.Minute)),
				rtItem(base, "102", "NOC", "VPN drops at the Lisbon office", "dana", 50, ticketClock.Add(-time.Hour), time.Time{}),
				rtItem(base, "103", "NOC-T2", "db-main replica lag", "Nobody", 70, ticketClock.Add(-2*time.Hour), ticketClock.Add(20*time.Minute)),
			}
		}
		fmt.Fprintf(w, `{"count":%d,"page":1,"per_page":100,"total":%d,"pages":1,"items":[%s]}`, len(items), len(items), strings.Join(items, ","))
	})
	v.front = newFront(t, good, "application/json; charset=utf-8", []byte(`{"count":3,"page":1,"per_page":100,"total":3,"items":{"id":"101"}}`))
	v.make = func(t *testing.T, name, url string, now func() time.Time, fullEvery time.Duration) tickets.TicketSource {
		hc, err := sources.NewHTTPClient(pconfig.HTTPClientConfig{Authorization: &pconfig.Authorization{Type: "token", Credentials: token}}, name)
		require.NoError(t, err)
		s, err := rt.New(rt.Options{Common: tickets.Common{Name: name, URL: url, Client: hc, ServiceField: "Service", FullEvery: fullEvery, Now: now},
			Tier1: []string{"NOC"}, Tier2: []string{"NOC-T2"}})
		require.NoError(t, err)
		return s
	}
	v.empty = func() { emptied.Store(true) }
	return v
}

// jiraVictim is the Jira Service Management fake (jiratest) behind the front.
func jiraVictim(t *testing.T) *ticketVictim {
	const t1, t2 = `project = NOC AND "Tier" = "1" AND statusCategory != Done`, `project = NOC AND "Tier" = "2" AND statusCategory != Done`
	srv := jiratest.New(t)
	srv.JQL(t1, func(is *jiratest.Issue) bool { return is.Status == "Waiting for support" || is.Status == "In Progress" })
	srv.JQL(t2, func(is *jiratest.Issue) bool { return is.Status == "Escalated" })
	created := ticketClock.Add(-2 * time.Hour)
	srv.Add(
		&jiratest.Issue{ID: "10812", Key: "NOC-812", Summary: "BGP flap on edge-2", Status: "In Progress", Priority: "Highest", Project: "NOC",
			Created: created.Add(-time.Hour), Updated: created,
			SLA: &jiratest.SLA{Breach: ticketClock.Add(-10 * time.Minute), Remaining: -10 * time.Minute, Breached: true}},
		&jiratest.Issue{ID: "10813", Key: "NOC-813", Summary: "VPN drops", Status: "Waiting for support", Priority: "Medium", Project: "NOC",
			AssigneeID: "acc-dana", AssigneeName: "Dana", Created: created, Updated: created},
		&jiratest.Issue{ID: "10814", Key: "NOC-814", Summary: "db-main replica lag", Status: "Escalated", Priority: "High", Project: "NOC",
			Created: created, Updated: created, SLA: &jiratest.SLA{Breach: ticketClock.Add(20 * time.Minute), Remaining: 20 * time.Minute}},
	)
	v := &ticketVictim{typ: "jira", step: "search", alive: 3, said: map[string]string{
		"401":   `^search: Jira refused the credentials \(HTTP 401\): check the e-mail and API token$`,
		"shape": `^search: malformed reply: /issues: expected an array, found an object$`,
	}}
	v.front = newFront(t, srv.Config.Handler, "application/json;charset=UTF-8", []byte(`{"issues":{"NOC-812":{"id":"10812"}},"isLast":true}`))
	v.make = func(t *testing.T, name, url string, now func() time.Time, fullEvery time.Duration) tickets.TicketSource {
		hc, err := sources.NewHTTPClient(pconfig.HTTPClientConfig{BasicAuth: &pconfig.BasicAuth{Username: srv.Email, Password: pconfig.Secret(srv.Token)}}, name)
		require.NoError(t, err)
		s, err := jira.New(jira.Options{Common: tickets.Common{Name: name, URL: url, Client: hc, FullEvery: fullEvery, Now: now},
			Tier1JQL: t1, Tier2JQL: t2, Transition: "Escalate to Tier 2"})
		require.NoError(t, err)
		return s
	}
	v.empty = func() {
		for _, id := range []string{"10812", "10813", "10814"} {
			srv.Update(id, ticketClock, func(is *jiratest.Issue) { is.Status = "Done" })
		}
	}
	return v
}

// snDesk starts a ServiceNow fake (sntest) with three active incidents:
// two in NOC Tier 1 (one whose task_sla has breached), one in NOC Tier 2
// due in 20 minutes.
func snDesk(t *testing.T) (*sntest.Server, []string) {
	const g1, g2 = "a1000000000000000000000000000001", "a1000000000000000000000000000002"
	sn := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }
	srv := sntest.New(t)
	srv.Add("sys_user_group", sntest.Record{"sys_id": g1, "name": "NOC Tier 1"}, sntest.Record{"sys_id": g2, "name": "NOC Tier 2"})
	inc := func(n int, desc, prio, group string, opened time.Duration) sntest.Record {
		return sntest.Record{"sys_id": fmt.Sprintf("e10000000000000000000000000000%02d", n), "number": fmt.Sprintf("INC00520%02d", n),
			"short_description": desc, "priority": prio, "state": "2", "active": "true", "assignment_group": group,
			"assigned_to": "", "caller_id": "", "cmdb_ci": "",
			"opened_at": sn(ticketClock.Add(-opened)), "sys_updated_on": sn(ticketClock.Add(-opened / 2))}
	}
	rows := []sntest.Record{
		inc(1, "Card payments failing at checkout", "1", g1, 3*time.Hour),
		inc(2, "VPN drops at the Lisbon office", "3", g1, time.Hour),
		inc(3, "db-main replica lag above 30s", "2", g2, 2*time.Hour),
	}
	srv.Add("incident", rows...)
	srv.Add("task_sla",
		sntest.Record{"sys_id": "f1000000000000000000000000000001", "task": rows[0]["sys_id"], "sla.name": "P1 resolution (2h)",
			"stage": "in_progress", "has_breached": "true", "active": "true", "planned_end_time": sn(ticketClock.Add(-time.Hour))},
		sntest.Record{"sys_id": "f1000000000000000000000000000003", "task": rows[2]["sys_id"], "sla.name": "P2 resolution (4h)",
			"stage": "in_progress", "has_breached": "false", "active": "true", "planned_end_time": sn(ticketClock.Add(20 * time.Minute))})
	var ids []string
	for _, r := range rows {
		ids = append(ids, r["sys_id"])
	}
	return srv, ids
}

func snSource(t *testing.T, srv *sntest.Server, name, url string, now func() time.Time, fullEvery time.Duration) tickets.TicketSource {
	hc, err := sources.NewHTTPClient(pconfig.HTTPClientConfig{BasicAuth: &pconfig.BasicAuth{Username: srv.User, Password: pconfig.Secret(srv.Password)}}, name)
	require.NoError(t, err)
	s, err := servicenow.New(servicenow.Options{Common: tickets.Common{Name: name, URL: url, Client: hc, FullEvery: fullEvery, Now: now},
		Tier1: []string{"NOC Tier 1"}, Tier2: []string{"NOC Tier 2"}})
	require.NoError(t, err)
	return s
}

// snVictim is the ServiceNow fake (sntest) behind the front.
func snVictim(t *testing.T) *ticketVictim {
	srv, ids := snDesk(t)
	v := &ticketVictim{typ: "servicenow", step: "incidents", alive: 3, said: map[string]string{
		"401":   `^incidents: ServiceNow refused the credentials \(HTTP 401\): check basic_auth or the token$`,
		"shape": `^incidents: malformed reply: /result: expected an array, found an object$`,
	}}
	v.front = newFront(t, srv.Config.Handler, "application/json;charset=UTF-8", []byte(`{"result":{"incident":3}}`))
	v.make = func(t *testing.T, name, url string, now func() time.Time, fullEvery time.Duration) tickets.TicketSource {
		return snSource(t, srv, name, url, now, fullEvery)
	}
	v.empty = func() {
		for _, id := range ids {
			srv.Set("incident", id, sntest.Record{"active": "false", "state": "7", "sys_updated_on": ticketClock.UTC().Format("2006-01-02 15:04:05")})
		}
	}
	return v
}

// Each source is run twice: reading everything on every poll, and with
// its default schedule, where the polls under fault are incremental ones
// (only what changed since the last poll) merged into the last full read.
func TestTicketSourceFaultMatrix(t *testing.T) {
	for _, mk := range []func(*testing.T) *ticketVictim{rtVictim, jiraVictim, snVictim} {
		typ := mk(t).typ
		t.Run(typ, func(t *testing.T) {
			for _, reads := range []struct {
				name      string
				fullEvery time.Duration
			}{{"full", -1}, {"incremental", 0}} {
				t.Run(reads.name, func(t *testing.T) {
					for _, f := range faults {
						// A fresh upstream per fault: "empty" empties it.
						t.Run(f.mode, func(t *testing.T) { runTicketFault(t, mk(t), f, reads.fullEvery) })
					}
				})
			}
		})
	}
}

func runTicketFault(t *testing.T, v *ticketVictim, f fault, fullEvery time.Duration) {
	v.front.big.Store(100 << 20) // a real 100 MB reply: the ticket sources' cap is not set from outside
	desk, _ := snDesk(t)
	var amFront *front
	amFront = newFront(t, payloadHandler(amPayload("bystander", 2), []byte(`[]`), &amFront), "application/json", nil)
	bystander := alertmanager.New("bystander", amFront.srv.URL, &http.Client{}, nil)

	c, err := cache.Open(filepath.Join(t.TempDir(), "cache.db"))
	require.NoError(t, err)
	defer c.Close()
	now := ticketClock
	clock := func() time.Time { return now }
	timeout := victimTimeout
	if f.mode == "big" {
		timeout = 30 * time.Second // reading up to the cap takes a while under -race
	}
	deskSrc := snSource(t, desk, "desk", desk.URL, clock, fullEvery)
	poller := func(src tickets.TicketSource) *sources.Poller {
		return sources.NewPoller(c, []sources.Job{
			{Tickets: src, Interval: time.Minute, Timeout: timeout},
			{Tickets: deskSrc, Interval: time.Minute, Timeout: 5 * time.Second},
			{Source: bystander, Interval: time.Minute, Timeout: 5 * time.Second},
		}, sources.PollerOptions{Now: clock})
	}
	victim := v.make(t, "victim", v.front.srv.URL, clock, fullEvery)
	p := poller(victim)
	require.NoError(t, p.PollOnce(context.Background()))
	snap, err := p.Snapshot()
	require.NoError(t, err)
	require.Equal(t, v.alive, len(ticketsOf(snap, "victim")), "the victim's tickets after a good poll")
	require.Equal(t, 3, len(ticketsOf(snap, "desk")), "the desk's tickets after a good poll")
	require.Len(t, snap.Signals, 2, "the bystander's alerts after a good poll")
	good := snap.Backlog
	require.Equal(t, 4, good.Tier1.Open, "two Tier 1 tickets each")
	require.Equal(t, 2, good.Tier2.Open, "one Tier 2 ticket each")
	require.Equal(t, 2, good.Tier1.Breached, "one breached Tier 1 ticket each")
	require.Equal(t, 2, good.Tier2.BreachingSoon, "one Tier 2 ticket each due in 20 minutes")

	if f.mode == "empty" {
		v.empty()
	}
	url := faultURL(t, f.mode, v.front)
	if url != v.front.srv.URL {
		// A source built for another address starts with a full read.
		p = poller(v.make(t, "victim", url, clock, fullEvery))
	}
	for i := 1; i <= 2; i++ {
		now = now.Add(time.Minute)
		err := p.PollOnce(context.Background())
		if f.mode == "empty" {
			require.NoError(t, err, "an empty reply is a successful poll")
			continue
		}
		require.Error(t, err, "poll %d", i)
		assert.Contains(t, err.Error(), "victim: ")
		assert.NotContains(t, err.Error(), "desk")
		assert.NotContains(t, err.Error(), "bystander")
	}
	snap, err = p.Snapshot()
	require.NoError(t, err)

	want := v.want(f)
	assertVictimStatus(t, snap, v.typ, f.mode, want)

	mine := ticketsOf(snap, "victim")
	assert.Len(t, mine, v.alive, "every ticket of the victim stays")
	for _, it := range mine {
		assert.True(t, it.Stale, "the victim's ticket %s is marked stale", it.Ticket.Number)
	}
	closed, _, err := c.ClosedTickets(time.Time{})
	require.NoError(t, err)
	assert.Empty(t, closed, "no ticket closed by a failing source")
	assert.Equal(t, good.Tier1, snap.Backlog.Tier1, "the Tier 1 counts keep their last good values")
	assert.Equal(t, good.Tier2, snap.Backlog.Tier2, "the Tier 2 and SLA counts keep their last good values")
	assert.True(t, snap.Backlog.Stale, "and are marked as the last good poll's")
	assert.Equal(t, statusOf(snap, "victim").LastSuccess, snap.Backlog.StaleSince, "as of the victim's last good poll")

	ds := statusOf(snap, "desk")
	assert.Equal(t, model.HealthOK, ds.Health(), "the healthy desk is unaffected: %q", ds.LastError)
	for _, it := range ticketsOf(snap, "desk") {
		assert.False(t, it.Stale, "the desk's tickets are fresh")
	}
	by := statusOf(snap, "bystander")
	assert.Equal(t, model.HealthOK, by.Health(), "the bystander is unaffected: %q", by.LastError)
	assert.Len(t, snap.Signals, 2)
	assert.Eventually(t, func() bool { return v.front.held.Load() == 0 }, 5*time.Second, 10*time.Millisecond,
		"no request left hanging after the poll")
}

func ticketsOf(s *model.Snapshot, source string) []*model.TicketItem {
	var out []*model.TicketItem
	for _, it := range s.Tickets {
		if it.Ticket.Source == source {
			out = append(out, it)
		}
	}
	return out
}
