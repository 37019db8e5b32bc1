package sources_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources"
)

// fakeTickets is a ticket source whose reply the test sets; it records
// how many fetches ran and the most that ever ran at once.
type fakeTickets struct {
	name                         string
	mu                           sync.Mutex
	list                         []model.Ticket
	err                          error
	delay                        time.Duration
	calls, inFlight, maxInFlight atomic.Int32
}

func (f *fakeTickets) Name() string { return f.name }
func (f *fakeTickets) Type() string { return "rt" }
func (f *fakeTickets) set(list []model.Ticket, err error) {
	f.mu.Lock()
	f.list, f.err = list, err
	f.mu.Unlock()
}

func (f *fakeTickets) Fetch(ctx context.Context) ([]model.Ticket, error) {
	f.calls.Add(1)
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for m := f.maxInFlight.Load(); n > m && !f.maxInFlight.CompareAndSwap(m, n); m = f.maxInFlight.Load() {
	}
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]model.Ticket(nil), f.list...), f.err
}

func TestTicketJobFeedsSnapshots(t *testing.T) {
	now := time.Now()
	src := &fakeTickets{name: "rt-noc"}
	src.set([]model.Ticket{
		{ID: "1", Tier: model.Tier1, Subject: "db-main lag", Service: "db-main", Created: now.Add(-time.Hour),
			SLA: model.TicketSLA{Known: true, Due: now.Add(-time.Minute)}},
		{ID: "2", Tier: model.Tier2, Subject: "printer", Owner: "bob", Created: now.Add(-2 * time.Hour)},
	}, nil)
	c := openCache(t, filepath.Join(t.TempDir(), "cache.db"))
	p := sources.NewPoller(c, []sources.Job{{Tickets: src, Interval: time.Minute}}, sources.PollerOptions{})
	require.NoError(t, p.PollOnce(context.Background()))
	snap, err := p.Snapshot()
	require.NoError(t, err)
	require.Len(t, snap.Tickets, 2)
	assert.Equal(t, "1", snap.Tickets[0].Ticket.ID, "the breached ticket first")
	assert.Equal(t, 1, snap.Backlog.Tier1.Breached)
	assert.Equal(t, 1, snap.Backlog.Tier2.Open)
	assert.Equal(t, model.ServiceState{Tickets: 1, TicketsKnown: true}, snap.Service("db-main"))
	require.Len(t, snap.Sources, 1)
	assert.Equal(t, "rt", snap.Sources[0].Type)
	assert.Equal(t, 2, snap.Sources[0].Items)

	src.set(nil, errors.New("connection refused"))
	err = p.PollOnce(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rt-noc: connection refused")
	snap, err = p.Snapshot()
	require.NoError(t, err)
	require.Len(t, snap.Tickets, 2, "a failed poll keeps the tickets")
	assert.True(t, snap.Tickets[0].Stale)
	assert.Equal(t, model.HealthDown, snap.Sources[0].Health())

	src.set([]model.Ticket{{ID: "2", Tier: model.Tier2, Subject: "printer", Owner: "bob", Created: now.Add(-2 * time.Hour)}}, nil)
	require.NoError(t, p.PollOnce(context.Background()))
	snap, err = p.Snapshot()
	require.NoError(t, err)
	require.Len(t, snap.Tickets, 1, "ticket 1 closed")
	assert.Zero(t, snap.Service("db-main").Tickets)
	assert.True(t, snap.Service("db-main").TicketsKnown)
}

// A ticket job runs on the same schedule as alert sources: never two
// fetches at once, only by the lease holder.
func TestTicketJobNoOverlapAndLease(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	opts := func(holder string) sources.PollerOptions {
		return sources.PollerOptions{Holder: holder, LeaseTTL: 600 * time.Millisecond, WatchEvery: 30 * time.Millisecond}
	}
	a := &fakeTickets{name: "sn", delay: 20 * time.Millisecond}
	a.set([]model.Ticket{{ID: "x", Tier: model.Tier1, Subject: "shared"}}, nil)
	b := &fakeTickets{name: "sn"}
	pa := sources.NewPoller(openCache(t, path), []sources.Job{{Tickets: a, Interval: 60 * time.Millisecond}}, opts("a"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	doneA := make(chan struct{})
	go func() { pa.Run(ctx); close(doneA) }()
	require.Eventually(t, pa.Polling, 5*time.Second, 10*time.Millisecond)
	for i := 0; i < 8; i++ {
		pa.Refresh()
		time.Sleep(10 * time.Millisecond)
	}
	pb := sources.NewPoller(openCache(t, path), []sources.Job{{Tickets: b, Interval: 10 * time.Millisecond}}, opts("b"))
	doneB := make(chan struct{})
	go func() { pb.Run(ctx); close(doneB) }()
	waitSnapshot(t, pb.Snapshots(), 10*time.Second, "the holder's tickets in the follower", func(s *model.Snapshot) bool {
		return len(s.Tickets) == 1 && s.Tickets[0].Ticket.Subject == "shared"
	})
	assert.Zero(t, b.calls.Load(), "the follower never fetches tickets while the lease is held")
	assert.Greater(t, a.calls.Load(), int32(1))
	assert.Equal(t, int32(1), a.maxInFlight.Load(), "polls of one ticket source never overlap")
	cancel()
	<-doneA
	<-doneB
}
