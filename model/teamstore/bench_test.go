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
