package tickets_test

import (
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"sitroom/model"
	"sitroom/sources/tickets"
)

func ids(ts []model.Ticket) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.ID+":"+t.Subject)
	}
	sort.Strings(out)
	return out
}

func TestIncrementalMergesDropsAndRefreshesInFull(t *testing.T) {
	t0 := time.Date(2025, 11, 3, 10, 0, 0, 0, time.UTC)
	c := tickets.Incremental{FullEvery: 10 * time.Minute}
	assert.True(t, c.NeedFull(t0), "nothing read yet")
	c.Full(t0, []model.Ticket{{ID: "1", Subject: "a", Updated: t0.Add(-time.Hour)}, {ID: "2", Subject: "b", Updated: t0.Add(-2 * time.Hour)}})
	assert.Equal(t, t0.Add(-time.Hour), c.Since())
	assert.False(t, c.NeedFull(t0.Add(9*time.Minute)))
	assert.True(t, c.NeedFull(t0.Add(10*time.Minute)))

	c.Merge([]model.Ticket{{ID: "2", Subject: "b2", Updated: t0}, {ID: "3", Subject: "c", Updated: t0.Add(-3 * time.Hour)}}, []string{"1", "9"})
	assert.Equal(t, []string{"2:b2", "3:c"}, ids(c.Tickets(t0)))
	assert.Equal(t, t0, c.Since(), "the newest update seen moves forward, never back")
	assert.True(t, c.Has("3"))
	assert.False(t, c.Has("1"))

	always := tickets.Incremental{FullEvery: -1}
	always.Full(t0, nil)
	assert.True(t, always.NeedFull(t0))
}

func TestIncrementalMarksDeadlinesPassedSinceTheRead(t *testing.T) {
	t0 := time.Date(2025, 11, 3, 10, 0, 0, 0, time.UTC)
	c := tickets.Incremental{FullEvery: time.Hour}
	c.Full(t0, []model.Ticket{
		{ID: "run", SLA: model.TicketSLA{Known: true, Due: t0.Add(5 * time.Minute)}},
		{ID: "paused", SLA: model.TicketSLA{Known: true, Due: t0.Add(5 * time.Minute), Paused: true}},
	})
	late := map[string]bool{}
	for _, tk := range c.Tickets(t0.Add(6 * time.Minute)) {
		late[tk.ID] = tk.SLA.Breached
	}
	assert.Equal(t, map[string]bool{"run": true, "paused": false}, late)
	for _, tk := range c.Tickets(t0) {
		assert.False(t, tk.SLA.Breached, tk.ID)
	}
}
