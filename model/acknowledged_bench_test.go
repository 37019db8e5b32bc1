package model

import (
	"fmt"
	"testing"
)

// BenchmarkAckView is what the screen pays when a snapshot or the board
// changes (not per frame): index 100k signals, a tenth silenced, then
// answer for each of 1000 outages holding all of them (the worst case of
// `]`: every outage asked, every key looked up).
func BenchmarkAckView(b *testing.B) {
	s, board := ackBenchSnapshot()
	b.ReportAllocs()
	for b.Loop() {
		v := NewAckView(s, board)
		for _, o := range s.Outages {
			_ = v.Outage(o)
		}
	}
}

// BenchmarkNewAckView is the index alone, built once per snapshot or
// board: the ack cells of the rows on screen then ask it.
func BenchmarkNewAckView(b *testing.B) {
	s, board := ackBenchSnapshot()
	b.ReportAllocs()
	for b.Loop() {
		_ = NewAckView(s, board)
	}
}

func ackBenchSnapshot() (*Snapshot, *Board) {
	const n, outages = 100_000, 1000
	s := &Snapshot{Services: map[string]*ServiceState{}}
	per := map[string][]string{}
	for i := range n {
		svc := fmt.Sprintf("svc-%d", i%outages)
		sig := &Signal{AlertRow: &AlertRow{Alert: Alert{Key: fmt.Sprintf("k%d", i)}}, Service: svc, State: StateFiring}
		if i%10 == 0 {
			sig.State, sig.Suppressed = StateSuppressed, Suppress([]string{"x"}, nil)
		}
		s.Signals = append(s.Signals, sig)
		per[svc] = append(per[svc], sig.Key)
	}
	for svc, keys := range per {
		o := &Outage{Service: svc, Keys: keys}
		s.Outages = append(s.Outages, o)
		s.Services[svc] = &ServiceState{Outage: o}
	}
	return s, &Board{Acks: map[string]*Ack{"svc-1": {Service: "svc-1"}}}
}
