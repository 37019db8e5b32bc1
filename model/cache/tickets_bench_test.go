package cache

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"sitroom/model"
)

// benchTickets builds n open tickets shaped like a ticket system's: two
// tiers, five priorities, an SLA on most, fields for catalog matchers.
func benchTickets(n int) []model.Ticket {
	out := make([]model.Ticket, n)
	for i := range out {
		subject := fmt.Sprintf("svc-%d returns 5xx for some requests (case %d)", i%200, i)
		t := model.Ticket{Source: "rt", ID: fmt.Sprint(100000 + i), Number: fmt.Sprintf("#%d", 100000+i),
			Tier: model.Tier(1 + i%2), Queue: []string{"NOC", "NOC-T2"}[i%2], Priority: model.Priority(1 + i%5),
			Status: "open", Subject: subject, Requester: fmt.Sprintf("user%d@example.com", i%5000),
			Created: t0.Add(-time.Duration(i) * time.Minute), Updated: t0.Add(-time.Duration(i%600) * time.Second),
			URL:    fmt.Sprintf("https://rt.example/Ticket/Display.html?id=%d", 100000+i),
			Fields: model.LabelsFromMap(map[string]string{"queue": []string{"NOC", "NOC-T2"}[i%2], "subject": subject, "status": "open"})}
		if i%3 != 0 {
			t.Owner = fmt.Sprintf("op%d", i%40)
		}
		if i%4 != 0 {
			t.SLA = model.TicketSLA{Known: true, Name: "target", Due: t0.Add(time.Duration(i%480-60) * time.Minute)}
		}
		out[i] = t
	}
	return out
}

// 100k open tickets: the first poll into an empty cache, a steady poll
// (nothing changed), a poll where 1% changed, and the snapshot step
// (linking to services by catalog matchers, backlog per tier, SLA order).
func BenchmarkTickets100k(b *testing.B) {
	const n = 100_000
	tks := benchTickets(n)
	meta := PollMeta{At: t0, Type: "rt"}
	b.Run("ingest-first", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			c, _ := benchOpen(b)
			b.StartTimer()
			_, err := c.IngestTickets("rt", tks, meta)
			require.NoError(b, err)
			b.StopTimer()
			c.Close()
			b.StartTimer()
		}
	})
	b.Run("ingest-steady", func(b *testing.B) {
		c, _ := benchOpen(b)
		_, err := c.IngestTickets("rt", tks, meta)
		require.NoError(b, err)
		for b.Loop() {
			_, err := c.IngestTickets("rt", tks, meta)
			require.NoError(b, err)
		}
	})
	b.Run("ingest-1pct-changed", func(b *testing.B) {
		c, _ := benchOpen(b)
		_, err := c.IngestTickets("rt", tks, meta)
		require.NoError(b, err)
		mod := append([]model.Ticket(nil), tks...)
		round := 0
		for b.Loop() {
			round++
			for i := 0; i < n; i += 100 {
				mod[i].Status = fmt.Sprintf("open %d", round)
			}
			_, err := c.IngestTickets("rt", mod, meta)
			require.NoError(b, err)
		}
	})
	b.Run("snapshot", func(b *testing.B) {
		c, _ := benchOpen(b)
		_, err := c.IngestTickets("rt", tks, meta)
		require.NoError(b, err)
		var cat []*model.Service
		for i := 0; i < 200; i++ {
			ms, err := model.ParseMatchers(fmt.Sprintf(`subject=~"svc-%d .*"`, i))
			require.NoError(b, err)
			cat = append(cat, &model.Service{Name: fmt.Sprintf("svc-%d", i), Match: [][]*model.Matcher{ms}})
		}
		catalog := model.NewCatalog(cat)
		status := []model.SourceStatus{{Name: "rt", LastSuccess: t0}}
		for b.Loop() {
			list, err := c.Tickets()
			require.NoError(b, err)
			snap := model.BuildSnapshot(nil, status, model.SnapshotOptions{Now: t0, Catalog: catalog})
			model.AttachTickets(snap, list, []string{"rt"}, catalog)
			if len(snap.Tickets) != n {
				b.Fatalf("%d tickets in the snapshot, want %d", len(snap.Tickets), n)
			}
		}
	})
}
