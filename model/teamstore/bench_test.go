package teamstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"sitroom/model"
	"sitroom/model/teamstore"
	"sitroom/model/teamstore/pgtest"
)

func benchStore(b *testing.B) *teamstore.Store {
	srv := pgtest.Shared(b)
	s, err := teamstore.Open(context.Background(), teamstore.Options{URL: srv.Database(b), PasswordFile: srv.PasswordFile, Host: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkPush records one ack with two silences to deliver: what an
// operator's ack costs the team store.
func BenchmarkPush(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		a := ack(fmt.Sprintf("u%d", i), fmt.Sprintf("svc%d", i%50), t0, silence("am1", "k1"), silence("am2", "k1"))
		if _, err := s.Push(ctx, a); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChangesIdle is the periodic catch-up read when nothing changed.
func BenchmarkChangesIdle(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	for i := range 200 {
		if _, err := s.Push(ctx, ack(fmt.Sprintf("u%d", i), "svc", t0)); err != nil {
			b.Fatal(err)
		}
	}
	_, cur, err := s.Changes(ctx, 0)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := s.Changes(ctx, cur); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClaimFinish claims one due delivery and records it delivered.
func BenchmarkClaimFinish(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		if _, err := s.Push(ctx, ack(fmt.Sprintf("u%d", i), "svc", time.Now().Add(-time.Minute), silence("am1", "k1"))); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		ds, err := s.ClaimDeliveries(ctx, "bench", 1, time.Minute)
		if err != nil || len(ds) != 1 {
			b.Fatalf("claimed %s, err %v", model.Plural(len(ds), "delivery", "deliveries"), err)
		}
		ds[0].State = model.ActionDelivered
		if err := s.FinishDelivery(ctx, ds[0]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSyncNoop syncs an ack with two silences the store already has:
// what each console pays for every action copied back and forth.
func BenchmarkSyncNoop(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	a := model.TeamAction{Action: ack("u1", "svc", t0, silence("am1", "k1"), silence("am2", "k1"))}
	if _, err := s.Sync(ctx, a); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if n, err := s.Sync(ctx, a); err != nil || n != 0 {
			b.Fatalf("changed %d, err %v", n, err)
		}
	}
}

// BenchmarkTeamChangesIdle is the periodic catch-up read of actions when
// nothing changed.
func BenchmarkTeamChangesIdle(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	for i := range 200 {
		if _, err := s.Push(ctx, ack(fmt.Sprintf("u%d", i), "svc", t0, silence("am1", "k1"))); err != nil {
			b.Fatal(err)
		}
	}
	ch, err := s.TeamChanges(ctx, 0)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.TeamChanges(ctx, ch.Next); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTeamChangesAll reads 200 acks with a silence each whole, as
// a console starting with an empty cursor does.
func BenchmarkTeamChangesAll(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	for i := range 200 {
		if _, err := s.Push(ctx, ack(fmt.Sprintf("u%d", i), "svc", t0, silence("am1", "k1"))); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		ch, err := s.TeamChanges(ctx, 0)
		if err != nil || len(ch.Actions) != 200 {
			b.Fatalf("read %d, err %v", len(ch.Actions), err)
		}
	}
}
