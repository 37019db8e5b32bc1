package cache

import (
	"errors"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
)

func tmeta(sec int) PollMeta {
	return PollMeta{At: t0.Add(time.Duration(sec) * time.Second), Latency: 20 * time.Millisecond, Type: "rt"}
}

func ticket(id, subject string, tier model.Tier) model.Ticket {
	return model.Ticket{
		ID: id, Number: "#" + id, URL: "https://user:secret@rt.example/Ticket/Display.html?id=" + id,
		Tier: tier, Queue: "NOC", Priority: model.PriorityHigh, PriorityRaw: "60", Status: "open",
		Subject: subject, Requester: "ops@example.com", Created: t0.Add(-time.Hour), Updated: t0.Add(-time.Minute),
		SLA:    model.TicketSLA{Known: true, Name: "target", Due: t0.Add(30 * time.Minute)},
		Fields: model.LabelsFromMap(map[string]string{"queue": "NOC", "subject": subject}),
	}
}

func openIDs(t *testing.T, c *Cache) []string {
	t.Helper()
	ts, err := c.Tickets()
	require.NoError(t, err)
	var out []string
	for _, tk := range ts {
		out = append(out, tk.Source+"/"+tk.ID)
	}
	sort.Strings(out)
	return out
}

func TestTicketsWrittenOnlyWhenContentChanges(t *testing.T) {
	c, _ := openTemp(t)
	polls := []model.Ticket{ticket("1", "edge-2 BGP down", model.Tier1), ticket("2", "db-main lag", model.Tier2)}
	res, err := c.IngestTickets("rt", polls, tmeta(0))
	require.NoError(t, err)
	assert.Equal(t, TicketResult{Inserted: 2, Wrote: true}, res)
	assert.Equal(t, []string{"rt/1", "rt/2"}, openIDs(t, c))

	again := []model.Ticket{ticket("1", "edge-2 BGP down", model.Tier1), ticket("2", "db-main lag", model.Tier2)}
	again[0].SLA.AsOf = t0.Add(5 * time.Second) // moves every poll; not content
	res, err = c.IngestTickets("rt", again, tmeta(5))
	require.NoError(t, err)
	assert.Equal(t, TicketResult{Unchanged: 2}, res, "an unchanged poll writes nothing")

	again[1].Owner = "alice"
	res, err = c.IngestTickets("rt", again, tmeta(10))
	require.NoError(t, err)
	assert.Equal(t, TicketResult{Updated: 1, Unchanged: 1, Wrote: true}, res)
	ts, _ := c.Tickets()
	for _, tk := range ts {
		if tk.ID == "2" {
			assert.Equal(t, "alice", tk.Owner)
		}
	}
}

func TestTicketMissingFromAPollIsClosedAndKept(t *testing.T) {
	c, _ := openTemp(t)
	_, err := c.IngestTickets("rt", []model.Ticket{ticket("1", "a", model.Tier1), ticket("2", "b", model.Tier1)}, tmeta(0))
	require.NoError(t, err)
	res, err := c.IngestTickets("rt", []model.Ticket{ticket("2", "b", model.Tier1)}, tmeta(15))
	require.NoError(t, err)
	assert.Equal(t, 1, res.Closed)
	assert.Equal(t, []string{"rt/2"}, openIDs(t, c))

	closed, at, err := c.ClosedTickets(t0)
	require.NoError(t, err)
	require.Len(t, closed, 1, "history keeps the closed ticket")
	assert.Equal(t, "1", closed[0].ID)
	assert.Equal(t, "a", closed[0].Subject)
	assert.True(t, at[0].Equal(t0.Add(15*time.Second)), "closed at the poll that missed it: %v", at[0])

	res, err = c.IngestTickets("rt", []model.Ticket{ticket("1", "a", model.Tier1), ticket("2", "b", model.Tier1)}, tmeta(30))
	require.NoError(t, err)
	assert.Equal(t, 1, res.Inserted, "a reopened ticket is open again")
	assert.Equal(t, []string{"rt/1", "rt/2"}, openIDs(t, c))
	closed, _, err = c.ClosedTickets(t0)
	require.NoError(t, err)
	assert.Empty(t, closed)
}

func TestTicketsSurviveReopenAndFailures(t *testing.T) {
	c, path := openTemp(t)
	tk := ticket("7", "payments 5xx [red]", model.Tier1)
	tk.SLA = model.TicketSLA{Known: true, Name: "Time to resolution", Paused: true, Remaining: 42 * time.Minute, AsOf: t0}
	tk.PriorityName = "Medium" // as the desk names it
	tk.Service = "payments"
	_, err := c.IngestTickets("jira", []model.Ticket{tk}, tmeta(0))
	require.NoError(t, err)
	require.NoError(t, c.RecordFailure("jira", errors.New("HTTP 503"), tmeta(20)))
	assert.Equal(t, []string{"jira/7"}, openIDs(t, c), "a failed poll keeps the tickets")
	_, sts, err := c.Load()
	require.NoError(t, err)
	require.Len(t, sts, 1)
	assert.Equal(t, "HTTP 503", sts[0].LastError)
	assert.Equal(t, "rt", sts[0].Type)
	require.NoError(t, c.Close())

	c2, err := Open(path)
	require.NoError(t, err)
	defer c2.Close()
	ts, err := c2.Tickets()
	require.NoError(t, err)
	require.Len(t, ts, 1)
	got := ts[0]
	assert.Equal(t, "https://rt.example/Ticket/Display.html?id=7", got.URL, "user info never reaches the cache")
	want := tk
	want.Source, want.URL = "jira", got.URL
	assert.Equal(t, want.ContentHash(), got.ContentHash(), "every stored field read back")
	assert.Equal(t, 42*time.Minute, got.SLA.Remaining)
	assert.True(t, got.SLA.AsOf.Equal(t0))
	assert.Equal(t, "payments", got.Service)
}

func TestTicketsFollowAnotherProcess(t *testing.T) {
	writer, path := openTemp(t)
	reader, err := Open(path)
	require.NoError(t, err)
	defer reader.Close()
	assert.Empty(t, openIDs(t, reader))
	_, err = writer.IngestTickets("sn", []model.Ticket{ticket("a1", "x", model.Tier2)}, tmeta(0))
	require.NoError(t, err)
	assert.Equal(t, []string{"sn/a1"}, openIDs(t, reader), "a reader sees the poller's tickets")
	_, err = writer.IngestTickets("sn", []model.Ticket{ticket("a2", "y", model.Tier1)}, tmeta(15))
	require.NoError(t, err)
	assert.Equal(t, []string{"sn/a2"}, openIDs(t, reader), "and their closing")
}

// An empty reply from a ticket source that had tickets is suspect, as for
// alerts: nothing is closed, the note says so and the tickets show stale,
// until the source has stayed empty for EmptyHold. A reader process sees
// the same.
func TestEmptyTicketReplyClosesNothingUntilEmptyHold(t *testing.T) {
	c, path := openTemp(t)
	reader, err := Open(path)
	require.NoError(t, err)
	defer reader.Close()
	_, err = c.IngestTickets("sn", []model.Ticket{ticket("1", "a", model.Tier1), ticket("2", "b", model.Tier2)}, tmeta(0))
	require.NoError(t, err)

	for _, sec := range []int{60, 120, 170} {
		res, err := c.IngestTickets("sn", nil, tmeta(sec))
		require.NoError(t, err)
		assert.Zero(t, res.Closed, "at %ds", sec)
	}
	assert.Equal(t, []string{"sn/1", "sn/2"}, openIDs(t, c), "empty replies within EmptyHold close nothing")
	assert.Equal(t, []string{"sn/1", "sn/2"}, openIDs(t, reader))
	closed, _, err := c.ClosedTickets(t0)
	require.NoError(t, err)
	assert.Empty(t, closed)
	_, sts, err := reader.Load()
	require.NoError(t, err)
	require.Len(t, sts, 1)
	assert.Equal(t, "empty reply; had 2 tickets", sts[0].Note)
	assert.Equal(t, model.HealthDegraded, sts[0].Health())
	ts, err := c.Tickets()
	require.NoError(t, err)
	snap := model.BuildSnapshot(nil, sts, model.SnapshotOptions{Now: t0.Add(3 * time.Minute)})
	model.AttachTickets(snap, ts, []string{"sn"}, nil)
	require.Len(t, snap.Tickets, 2)
	for _, it := range snap.Tickets {
		assert.True(t, it.Stale, "tickets of a suspect empty reply show as stale")
	}
	assert.Equal(t, 1, snap.Backlog.Tier1.Open, "the counts keep the held tickets")
	assert.Equal(t, 1, snap.Backlog.Tier2.Open)

	// A reply with tickets ends the hold; a later empty one starts anew.
	res, err := c.IngestTickets("sn", []model.Ticket{ticket("1", "a", model.Tier1), ticket("2", "b", model.Tier2)}, tmeta(180))
	require.NoError(t, err)
	assert.Zero(t, res.Closed)
	_, sts, err = c.Load()
	require.NoError(t, err)
	assert.Empty(t, sts[0].Note)
	res, err = c.IngestTickets("sn", nil, tmeta(200))
	require.NoError(t, err)
	assert.Zero(t, res.Closed, "a new empty spell is held again")

	// Still empty after EmptyHold: now they close.
	after := 200 + int(EmptyHold/time.Second)
	res, err = c.IngestTickets("sn", nil, tmeta(after))
	require.NoError(t, err)
	assert.Equal(t, 2, res.Closed)
	assert.Empty(t, openIDs(t, c))
	assert.Empty(t, openIDs(t, reader))
}
