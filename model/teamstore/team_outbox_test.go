package teamstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
)

// The lease holder claims several times a second: a claim that finds
// nothing due writes nothing, so it wakes no console.
func TestClaimingNothingNotifiesNoOne(t *testing.T) {
	srv, url := fresh(t)
	s, other := open(t, srv, url, "noc1"), open(t, srv, url, "noc2")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	heard := make(chan string, 100)
	go func() { _ = other.Listen(ctx, func(table string) { heard <- table }) }()
	// Listening once a push is heard.
	require.Eventually(t, func() bool {
		_, err := s.Push(ctx, note("n-"+time.Now().Format("150405.000000"), "db", time.Now(), "x"))
		require.NoError(t, err)
		select {
		case <-heard:
			return true
		case <-time.After(200 * time.Millisecond):
			return false
		}
	}, 10*time.Second, 10*time.Millisecond)
	for len(heard) > 0 {
		<-heard
	}
	for range 5 {
		ds, err := s.ClaimDeliveries(ctx, "noc1", 10, time.Minute)
		require.NoError(t, err)
		assert.Empty(t, ds)
	}
	_, err := s.Push(ctx, ack("u1", "db", time.Now().Add(-time.Minute), silence("am1", "k1")))
	require.NoError(t, err)
	got := map[string]int{}
	deadline := time.After(time.Second)
wait:
	for {
		select {
		case tb := <-heard:
			got[tb]++
		case <-deadline:
			break wait
		}
	}
	assert.Positive(t, got["deliveries"], "the push is heard")
	for tb := range got {
		delete(got, tb)
	}
	ds, err := s.ClaimDeliveries(ctx, "noc1", 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, ds, 1, "what is due is claimed")
	select {
	case tb := <-heard:
		assert.Equal(t, "deliveries", tb, "a claim that took one is heard")
	case <-time.After(5 * time.Second):
		t.Fatal("a claim that took a delivery was not heard")
	}
	for len(heard) > 0 {
		<-heard
	}
	for range 5 {
		ds, err := s.ClaimDeliveries(ctx, "noc2", 10, time.Minute)
		require.NoError(t, err)
		assert.Empty(t, ds, "held by noc1")
	}
	select {
	case tb := <-heard:
		t.Fatalf("a claim of nothing notified %q", tb)
	case <-time.After(500 * time.Millisecond):
	}
}

// A console's own attempt, under way when it handed a delivery over,
// failed: the store takes its back-off time rather than waiting for the
// console's claim to lapse, unless a lease holder claimed it since.
func TestSyncTakesTheHandingConsolesRetry(t *testing.T) {
	srv, url := fresh(t)
	ctx := context.Background()
	s := open(t, srv, url, "noc1")
	at := time.Now().Add(-time.Minute)
	claimedLocally := time.Now().Add(80 * time.Second)
	d := webhook("pager")
	d.NextAt = claimedLocally
	esc := team(escalate("e1", "db", at, 2, d))
	_, err := s.Sync(ctx, esc)
	require.NoError(t, err)
	ds, err := s.ClaimDeliveries(ctx, "noc2", 10, time.Minute)
	require.NoError(t, err)
	assert.Empty(t, ds, "not due while the console's attempt may be under way")

	retry := esc
	retry.Deliveries = []model.Delivery{d}
	retry.Deliveries[0].State = model.ActionPending
	retry.Deliveries[0].Attempts, retry.Deliveries[0].Error = 1, "pager: 503 Service Unavailable"
	retry.Deliveries[0].NextAt = time.Now().Add(-time.Second)
	n, err := s.Sync(ctx, retry)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	ds, err = s.ClaimDeliveries(ctx, "noc2", 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, ds, 1, "due at the back-off time")
	assert.Equal(t, 1, ds[0].Attempts)
	assert.Equal(t, "pager: 503 Service Unavailable", ds[0].Error)

	// Claimed by the lease holder now: a stale copy changes nothing.
	stale := retry
	stale.Deliveries = []model.Delivery{retry.Deliveries[0]}
	stale.Deliveries[0].Attempts, stale.Deliveries[0].NextAt = 2, time.Now().Add(-time.Second)
	n, err = s.Sync(ctx, stale)
	require.NoError(t, err)
	assert.Zero(t, n)
	ds, err = s.ClaimDeliveries(ctx, "noc3", 10, time.Minute)
	require.NoError(t, err)
	assert.Empty(t, ds, "still held by the lease holder")
}
