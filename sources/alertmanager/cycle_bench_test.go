package alertmanager

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"sitroom/model/cache"
	"sitroom/sources"
	"sitroom/sources/sourcetest"
)

// The poll-cycle budgets of PRODUCT.md: read → decode → diff → cache →
// snapshot for one Alertmanager holding n alerts, through the real poller
// and cache. Steady state repeats an unchanged reply; First starts from an
// empty cache each time.

func cycleServer(b *testing.B, n int) *httptest.Server {
	return sourcetest.ServeJSON(b, synthPayload(n))
}

func cyclePoller(b *testing.B, srv *httptest.Server, dir string) (*sources.Poller, *cache.Cache) {
	c, err := cache.Open(filepath.Join(dir, "cache.db"))
	if err != nil {
		b.Fatal(err)
	}
	src := New("am", srv.URL, srv.Client(), nil)
	return sources.NewPoller(c, []sources.Job{{Source: src, Interval: time.Minute}}, sources.PollerOptions{}), c
}

func pollAndSnapshot(b *testing.B, p *sources.Poller, n int) {
	if err := p.PollOnce(context.Background()); err != nil {
		b.Fatal(err)
	}
	snap, err := p.Snapshot()
	if err != nil || len(snap.Signals) != n {
		b.Fatalf("snapshot has %d signals, err %v", len(snap.Signals), err)
	}
}

func benchCycleSteady(b *testing.B, n int) {
	srv := cycleServer(b, n)
	p, c := cyclePoller(b, srv, b.TempDir())
	defer c.Close()
	pollAndSnapshot(b, p, n)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		pollAndSnapshot(b, p, n)
	}
}

func benchCycleFirst(b *testing.B, n int) {
	srv := cycleServer(b, n)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		p, c := cyclePoller(b, srv, b.TempDir())
		b.StartTimer()
		pollAndSnapshot(b, p, n)
		b.StopTimer()
		c.Close()
		b.StartTimer()
	}
}

func BenchmarkPollCycleSteady10k(b *testing.B) { benchCycleSteady(b, 10_000) }
func BenchmarkPollCycleSteady50k(b *testing.B) { benchCycleSteady(b, 50_000) }
func BenchmarkPollCycleFirst10k(b *testing.B)  { benchCycleFirst(b, 10_000) }
func BenchmarkPollCycleFirst50k(b *testing.B)  { benchCycleFirst(b, 50_000) }

// BenchmarkDecoderSteady10k decodes the same 10k-alert reply again and
// again with one Decoder, as the source does when nothing changed.
func BenchmarkDecoderSteady10k(b *testing.B) {
	payload := synthPayload(10_000)
	d := NewDecoder(nil)
	if _, err := d.Decode(payload); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		alerts, err := d.Decode(payload)
		if err != nil || len(alerts) != 10_000 {
			b.Fatalf("got %d alerts, err %v", len(alerts), err)
		}
	}
}
