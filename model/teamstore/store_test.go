package teamstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/teamstore"
	"sitroom/model/teamstore/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// fresh returns the URL of an empty database on the shared server, and
// the server.
func fresh(t *testing.T) (*pgtest.Server, string) {
	t.Helper()
	srv := pgtest.Shared(t)
	return srv, srv.Database(t)
}

func open(t *testing.T, srv *pgtest.Server, url, host string) *teamstore.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := teamstore.Open(ctx, teamstore.Options{URL: url, PasswordFile: srv.PasswordFile, Host: host})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

var t0 = time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)

func ack(uid, service string, at time.Time, deliveries ...model.Delivery) model.Action {
	return model.Action{
		AuditEntry: model.AuditEntry{UID: uid, At: at, Operator: "alice", Role: model.RoleTier1, Host: "noc1",
			Verb: model.VerbAck, Service: service, Target: service, Comment: "looking"},
		AlertKeys: []string{"k1", "k2"}, Until: at.Add(2 * time.Hour), Deliveries: deliveries,
	}
}

func unack(uid, service string, at time.Time) model.Action {
	return model.Action{AuditEntry: model.AuditEntry{UID: uid, At: at, Operator: "bob", Role: model.RoleTier1, Host: "noc2",
		Verb: model.VerbUnack, Service: service, Target: service}}
}

func silence(dest, key string) model.Delivery {
	return model.Delivery{Kind: model.DeliverSilence, Dest: dest, Key: key, Payload: `{"alertname":"DBDown"}`}
}

// Five consoles opening an empty database at once end with one schema.
func TestOpenConcurrentMigratesOnce(t *testing.T) {
	srv, url := fresh(t)
	var wg sync.WaitGroup
	errs := make([]error, 5)
	stores := make([]*teamstore.Store, 5)
	for i := range 5 {
		wg.Go(func() {
			stores[i], errs[i] = teamstore.Open(context.Background(), teamstore.Options{URL: url, PasswordFile: srv.PasswordFile})
		})
	}
	wg.Wait()
	for i := range 5 {
		require.NoError(t, errs[i], "console %d", i)
		defer stores[i].Close()
	}
	in, err := stores[0].Info(context.Background())
	require.NoError(t, err)
	assert.Equal(t, teamstore.SchemaVersion, in.SchemaVersion)
	assert.Equal(t, pgtest.Role, in.User)
	assert.True(t, in.CanWrite)
	assert.True(t, strings.HasPrefix(in.ServerVersion, "1"), in.ServerVersion)

	// The schema_version table lists each version once.
	db := strings.TrimPrefix(url[strings.LastIndex(url, "/")+1:], "")
	db, _, _ = strings.Cut(db, "?")
	require.NoError(t, srv.Super(context.Background(), db,
		fmt.Sprintf(`DO $$ BEGIN IF (SELECT count(*) FROM schema_version) != %d THEN RAISE 'versions doubled'; END IF; END $$`,
			teamstore.SchemaVersion)))

	// A role that may only read opens the migrated store and is told so.
	require.NoError(t, srv.Super(context.Background(), db,
		"CREATE ROLE reader LOGIN PASSWORD 'readerpw'",
		"GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader"))
	t.Cleanup(func() {
		_ = srv.Super(context.Background(), db, "DROP OWNED BY reader")
		_ = srv.Super(context.Background(), "postgres", "DROP DATABASE "+db, "DROP ROLE reader")
	})
	pw := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(pw, []byte("readerpw\n"), 0o600))
	r, err := teamstore.Open(context.Background(), teamstore.Options{URL: strings.Replace(url, "//sitroom@", "//reader@", 1), PasswordFile: pw})
	require.NoError(t, err)
	defer r.Close()
	in, err = r.Info(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "reader", in.User)
	assert.False(t, in.CanWrite)
}

// The same action pushed twice from one console and once from another is
// one audit row with one delivery.
func TestPushIsIdempotentAcrossConsoles(t *testing.T) {
	srv, url := fresh(t)
	a, b := open(t, srv, url, "noc1"), open(t, srv, url, "noc2")
	ctx := context.Background()
	act := ack("u1", "db-main", t0, silence("am1", "k1"), silence("am1", "k2"))
	n, err := a.Push(ctx, act)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	n, err = a.Push(ctx, act)
	require.NoError(t, err)
	assert.Zero(t, n)
	n, err = b.Push(ctx, act, ack("u2", "web", t0))
	require.NoError(t, err)
	assert.Equal(t, 1, n, "only u2 is new")

	log, err := b.AuditLog(ctx, time.Time{})
	require.NoError(t, err)
	require.Len(t, log, 2)
	assert.Equal(t, "u1", log[0].UID)
	assert.Equal(t, model.ActionPending, log[0].State)
	assert.Equal(t, model.RoleTier1, log[0].Role)
	assert.True(t, log[0].At.Equal(t0))
	ds, err := a.Deliveries(ctx, "u1")
	require.NoError(t, err)
	require.Len(t, ds, 2)
	assert.Equal(t, "alice", ds[0].Operator)
	assert.Equal(t, "k1", ds[0].Key)
}

// Changes after a cursor returns what changed since, including an update:
// an ack cleared by an un-ack from another console. Clearing only moves
// forward, and an ack pushed late, after a later un-ack, arrives cleared.
func TestChangesAfterCursor(t *testing.T) {
	srv, url := fresh(t)
	a, b := open(t, srv, url, "noc1"), open(t, srv, url, "noc2")
	ctx := context.Background()
	_, err := a.Push(ctx, ack("u1", "db-main", t0, silence("am1", "k1")))
	require.NoError(t, err)

	ch, cur, err := b.Changes(ctx, 0)
	require.NoError(t, err)
	require.Len(t, ch.Audit, 1)
	require.Len(t, ch.Acks, 1)
	require.Len(t, ch.Deliveries, 1)
	assert.Equal(t, []string{"k1", "k2"}, ch.Acks[0].AlertKeys)
	assert.True(t, ch.Acks[0].Cleared.IsZero())
	assert.Positive(t, cur)

	ch, cur2, err := b.Changes(ctx, cur)
	require.NoError(t, err)
	assert.True(t, ch.Empty(), "%+v", ch)
	assert.Equal(t, cur, cur2)

	_, err = b.Push(ctx, unack("u2", "db-main", t0.Add(time.Minute)))
	require.NoError(t, err)
	ch, cur, err = a.Changes(ctx, cur)
	require.NoError(t, err)
	require.Len(t, ch.Audit, 1)
	assert.Equal(t, model.VerbUnack, ch.Audit[0].Verb)
	require.Len(t, ch.Acks, 1, "the cleared ack is a change")
	assert.Equal(t, "u1", ch.Acks[0].UID)
	assert.True(t, ch.Acks[0].Cleared.Equal(t0.Add(time.Minute)))
	assert.Equal(t, "bob", ch.Acks[0].ClearedBy)

	// A later clear does not move the first one.
	_, err = b.Push(ctx, unack("u3", "db-main", t0.Add(5*time.Minute)))
	require.NoError(t, err)
	ch, cur, err = a.Changes(ctx, cur)
	require.NoError(t, err)
	assert.Empty(t, ch.Acks)
	// An ack made offline before u3 but pushed after it arrives cleared.
	_, err = a.Push(ctx, ack("u4", "db-main", t0.Add(3*time.Minute)))
	require.NoError(t, err)
	ch, _, err = b.Changes(ctx, cur)
	require.NoError(t, err)
	require.Len(t, ch.Acks, 1)
	assert.True(t, ch.Acks[0].Cleared.Equal(t0.Add(5*time.Minute)), "cleared by the later un-ack: %v", ch.Acks[0].Cleared)
}

// The team lease is one console's; another takes it when it is released
// or lapses by the server's clock.
func TestLeaseExclusiveAndTakenOver(t *testing.T) {
	srv, url := fresh(t)
	a, b := open(t, srv, url, "noc1"), open(t, srv, url, "noc2")
	ctx := context.Background()
	ok, err := a.TryLease(ctx, "noc1", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = b.TryLease(ctx, "noc2", time.Minute)
	require.NoError(t, err)
	assert.False(t, ok, "held by noc1")
	ok, err = a.TryLease(ctx, "noc1", time.Minute)
	require.NoError(t, err)
	assert.True(t, ok, "renewed")
	holder, until, err := b.LeaseHolder(ctx)
	require.NoError(t, err)
	assert.Equal(t, "noc1", holder)
	assert.True(t, until.After(time.Now().Add(30*time.Second)))

	require.NoError(t, a.Release(ctx, "noc1"))
	holder, _, err = b.LeaseHolder(ctx)
	require.NoError(t, err)
	assert.Empty(t, holder)
	ok, err = b.TryLease(ctx, "noc2", 300*time.Millisecond)
	require.NoError(t, err)
	require.True(t, ok, "free after the release")

	// noc2 stops renewing: noc1 gets the lease once it lapses.
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, err = a.TryLease(ctx, "noc1", time.Minute)
		require.NoError(t, err)
		if ok || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	assert.True(t, ok, "the lapsed lease is taken over")
	ok, err = b.TryLease(ctx, "noc2", time.Minute)
	require.NoError(t, err)
	assert.False(t, ok, "noc2 lost it")
}

// Twenty consoles claiming from 100 due deliveries at once: each is
// delivered exactly once, and every action ends delivered.
func TestClaimsDeliverExactlyOnce(t *testing.T) {
	srv, url := fresh(t)
	ctx := context.Background()
	seed := open(t, srv, url, "seed")
	for i := range 10 {
		var ds []model.Delivery
		for k := range 10 {
			ds = append(ds, silence("am1", fmt.Sprintf("k%d", k)))
		}
		_, err := seed.Push(ctx, ack(fmt.Sprintf("a%d", i), fmt.Sprintf("svc%d", i), time.Now().Add(-time.Minute), ds...))
		require.NoError(t, err)
	}
	stores := make([]*teamstore.Store, 20)
	for i := range stores {
		stores[i] = open(t, srv, url, fmt.Sprintf("noc%d", i))
	}
	var mu sync.Mutex
	got := map[int64]int{}
	var wg sync.WaitGroup
	errs := make(chan error, len(stores))
	for i, s := range stores {
		wg.Go(func() {
			for {
				ds, err := s.ClaimDeliveries(ctx, fmt.Sprintf("noc%d", i), 3, time.Hour)
				if err != nil {
					errs <- err
					return
				}
				if len(ds) == 0 {
					return
				}
				for _, d := range ds {
					mu.Lock()
					got[d.ID]++
					mu.Unlock()
					d.State, d.Ref = model.ActionDelivered, "sil-"+d.Key
					if err := s.FinishDelivery(ctx, d); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Len(t, got, 100)
	for id, n := range got {
		assert.Equal(t, 1, n, "delivery %d", id)
	}
	log, err := seed.AuditLog(ctx, time.Time{})
	require.NoError(t, err)
	for _, e := range log {
		assert.Equal(t, model.ActionDelivered, e.State, e.UID)
		assert.Equal(t, 10, len(strings.Split(e.Upstream, ",")), e.Upstream)
	}
	ds, err := seed.ClaimDeliveries(ctx, "late", 10, time.Hour)
	require.NoError(t, err)
	assert.Empty(t, ds)
}

// A claim not finished in time is claimable again.
func TestClaimLapses(t *testing.T) {
	srv, url := fresh(t)
	ctx := context.Background()
	s := open(t, srv, url, "noc1")
	_, err := s.Push(ctx, ack("u1", "db", time.Now().Add(-time.Minute), silence("am1", "k1")))
	require.NoError(t, err)
	ds, err := s.ClaimDeliveries(ctx, "noc1", 10, 200*time.Millisecond)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	ds2, err := s.ClaimDeliveries(ctx, "noc2", 10, time.Hour)
	require.NoError(t, err)
	assert.Empty(t, ds2, "claimed by noc1")
	deadline := time.Now().Add(10 * time.Second)
	for len(ds2) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		ds2, err = s.ClaimDeliveries(ctx, "noc2", 10, time.Hour)
		require.NoError(t, err)
	}
	require.Len(t, ds2, 1, "claimable again after noc1's hold")
	assert.Equal(t, ds[0].ID, ds2[0].ID)
}

// Listen hears a push from another console.
func TestListenHearsAnotherConsole(t *testing.T) {
	srv, url := fresh(t)
	a, b := open(t, srv, url, "noc1"), open(t, srv, url, "noc2")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	heard := make(chan string, 100)
	done := make(chan error, 1)
	go func() { done <- b.Listen(ctx, func(table string) { heard <- table }) }()
	require.Equal(t, "", wait(t, heard), "connected")
	_, err := a.Push(context.Background(), ack("u1", "db", t0))
	require.NoError(t, err)
	tables := map[string]bool{}
	for !tables["acks"] || !tables["audit"] {
		tables[wait(t, heard)] = true
	}
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
}

func wait(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no notification within 10s")
		return ""
	}
}

// The team store restarted mid-use: the next push succeeds on a new
// connection, a push repeated from before is not doubled, and Listen
// reconnects (and says so, for a catch-up read).
func TestServerRestart(t *testing.T) {
	srv := pgtest.Start(t)
	s := open(t, srv, srv.URL, "noc1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	heard := make(chan string, 100)
	go func() { _ = s.Listen(ctx, func(table string) { heard <- table }) }()
	require.Equal(t, "", wait(t, heard))
	_, err := s.Push(ctx, ack("u1", "db", t0))
	require.NoError(t, err)

	srv.Restart(t)
	n, err := s.Push(ctx, ack("u1", "db", t0), ack("u2", "web", t0))
	require.NoError(t, err)
	assert.Equal(t, 1, n, "u1 was there before the restart")
	log, err := s.AuditLog(ctx, time.Time{})
	require.NoError(t, err)
	assert.Len(t, log, 2)
	for table := wait(t, heard); table != ""; table = wait(t, heard) {
	}

	srv.Kill(t)
	// A backend the crash has not reached yet may still take a write on
	// the connection it serves (recorded, then, like any push); the
	// store is found down at the latest once it has gone.
	require.Eventually(t, func() bool {
		_, err := s.Push(ctx, ack("u3", "api", t0))
		return err != nil
	}, 10*time.Second, 20*time.Millisecond, "the store is down")
	srv.Restart(t)
	_, err = s.Push(ctx, ack("u3", "api", t0))
	require.NoError(t, err, "copied once the store is back")
	log, err = s.AuditLog(ctx, time.Time{})
	require.NoError(t, err)
	assert.Len(t, log, 3)
}

// A wrong password fails with an error that holds neither it nor the
// right one.
func TestWrongPasswordNotShown(t *testing.T) {
	srv, url := fresh(t)
	pw := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(pw, []byte("hunter2-wrong\n"), 0o600))
	_, err := teamstore.Open(context.Background(), teamstore.Options{URL: url, PasswordFile: pw})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "password authentication failed")
	assert.NotContains(t, err.Error(), "hunter2-wrong")
	assert.NotContains(t, err.Error(), srv.Password())

	// Nor when the password was put in the URL.
	_, err = teamstore.Open(context.Background(), teamstore.Options{URL: strings.Replace(url, "//sitroom@", "//sitroom:hunter2-wrong@", 1)})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2-wrong")

	_, err = teamstore.Open(context.Background(), teamstore.Options{URL: url, PasswordFile: filepath.Join(t.TempDir(), "missing")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "password_file")
}

// Two consoles recording the same outage make one record; History reads
// the team's outages, source outages, actions and backlog.
func TestOutageHistory(t *testing.T) {
	srv, url := fresh(t)
	a, b := open(t, srv, url, "noc1"), open(t, srv, url, "noc2")
	ctx := context.Background()
	o := model.OutageRecord{Service: "db-main", Severity: model.SevCritical, Opened: t0, FirstSeen: t0.Add(time.Second), Alerts: 2}
	id1, err := a.OpenOutage(ctx, o)
	require.NoError(t, err)
	o.Alerts = 3
	id2, err := b.OpenOutage(ctx, o)
	require.NoError(t, err)
	assert.Equal(t, id1, id2, "one record for the team")
	open, err := a.OpenOutageRecords(ctx)
	require.NoError(t, err)
	require.Len(t, open, 1)
	assert.Equal(t, 3, open[0].Alerts)

	require.NoError(t, b.UpdateOutage(ctx, id1, model.SevCritical, 4, t0.Add(-time.Minute)))
	open, err = a.OpenOutageRecords(ctx)
	require.NoError(t, err)
	require.Len(t, open, 1)
	assert.Equal(t, 4, open[0].Alerts)
	assert.True(t, open[0].Opened.Equal(t0.Add(-time.Minute)), "an earlier start: %v", open[0].Opened)
	require.NoError(t, a.CloseOutage(ctx, id1, t0.Add(10*time.Minute), true))
	require.NoError(t, a.ReopenOutage(ctx, id1))
	require.NoError(t, a.CloseOutage(ctx, id1, t0.Add(20*time.Minute), false))
	require.NoError(t, a.ReopenOutage(ctx, id1)) // a final close stays
	open, err = a.OpenOutageRecords(ctx)
	require.NoError(t, err)
	assert.Empty(t, open)

	sid, err := a.SourceDown(ctx, "prom", t0.Add(time.Minute), "connection refused")
	require.NoError(t, err)
	require.NoError(t, a.SourceUp(ctx, sid, t0.Add(2*time.Minute)))
	require.NoError(t, a.RecordBacklog(ctx, []model.BacklogSample{{At: t0.Add(-time.Hour), Source: "rt", Tier: "tier1", Open: 4},
		{At: t0.Add(5 * time.Minute), Source: "rt", Tier: "tier1", Open: 5}}))
	_, err = a.Push(ctx, ack("u1", "db-main", t0.Add(3*time.Minute), silence("am1", "k1")))
	require.NoError(t, err)

	h, err := b.History(ctx, t0, t0.Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, h.Outages, 1)
	assert.True(t, h.Outages[0].Closed.Equal(t0.Add(20*time.Minute)))
	assert.False(t, h.Outages[0].Provisional)
	assert.Equal(t, model.SevCritical, h.Outages[0].Severity)
	require.Len(t, h.SourceOutages, 1)
	assert.Equal(t, "connection refused", h.SourceOutages[0].Error)
	require.Len(t, h.Audit, 1)
	require.Len(t, h.Acks, 1)
	assert.Equal(t, 1, h.Acks[0].Silences)
	require.Len(t, h.Backlog, 2, "the sample in the span and the last one before it")
	assert.Equal(t, 4, h.Backlog[0].Open)

	ch, _, err := b.Changes(ctx, 0)
	require.NoError(t, err)
	assert.Len(t, ch.Outages, 1)
	assert.Len(t, ch.SourceOutages, 1)
	assert.Len(t, ch.Backlog, 2)
}

// Each host's source status is one row, rewritten only when it changes.
func TestSourceStatus(t *testing.T) {
	srv, url := fresh(t)
	a, b := open(t, srv, url, "noc1"), open(t, srv, url, "noc2")
	ctx := context.Background()
	st := model.SourceStatus{Name: "prom", Type: "prometheus", LastAttempt: t0, LastSuccess: t0, Latency: 20 * time.Millisecond, Items: 3,
		Findings: []model.Finding{{Subject: "rules/HighLoad", Text: "bad", Since: t0}}}
	require.NoError(t, a.PutStatus(ctx, st))
	require.NoError(t, b.PutStatus(ctx, st))
	ch, cur, err := a.Changes(ctx, 0)
	require.NoError(t, err)
	require.Len(t, ch.Statuses, 2)
	assert.Equal(t, "noc1", ch.Statuses[0].Host)
	assert.Equal(t, 20*time.Millisecond, ch.Statuses[0].Latency)
	assert.Equal(t, "rules/HighLoad", ch.Statuses[0].Findings[0].Subject)
	require.NoError(t, a.PutStatus(ctx, st))
	ch, _, err = a.Changes(ctx, cur)
	require.NoError(t, err)
	assert.True(t, ch.Empty(), "an unchanged status is not written")
}
