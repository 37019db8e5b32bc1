package model

import (
	"strconv"
	"testing"
	"time"
)

// yearOfFacts is a busy NOC's year as the store hands it over: 50k
// outages, 100k escalations, 20k expired acks, alert hours for 40
// services × 3 sources (every hour one of them fires), ticket hours of
// two tiers every hour, 50 flapping alerts.
func yearOfFacts(b testing.TB) (*StatsFacts, StatsOptions) {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		b.Fatal(err)
	}
	to := time.Date(2026, 12, 7, 0, 0, 0, 0, loc)
	from := to.AddDate(0, 0, -365)
	f := &StatsFacts{From: from, To: to, HasTickets: true}
	span := to.Sub(from)
	sevs := []Severity{SevCritical, SevWarning, SevInfo}
	for i := range 50000 {
		opened := from.Add(span / 50000 * time.Duration(i))
		o := StatsOutage{Service: "svc-" + strconv.Itoa(i%40), Severity: sevs[i%3], Opened: opened,
			Closed: opened.Add(time.Duration(5+i%90) * time.Minute), Alerts: 1 + i%5}
		if i%4 != 0 {
			o.FirstAck = opened.Add(time.Duration(1+i%20) * time.Minute)
		}
		f.Outages = append(f.Outages, o)
		f.Escalations = append(f.Escalations, StatsEscalation{At: opened.Add(time.Minute), Service: o.Service, Level: 1 + i%3},
			StatsEscalation{At: opened.Add(2 * time.Minute), Service: o.Service, Level: 2})
		if i%5 == 0 {
			f.AcksExpired = append(f.AcksExpired, StatsAckExpiry{At: opened.Add(time.Hour), Service: o.Service})
		}
	}
	for h := from.UTC().Truncate(time.Hour); h.Before(to); h = h.Add(time.Hour) {
		for s := range 40 {
			f.AlertHours = append(f.AlertHours, AlertHour{Hour: h, Source: "src-" + strconv.Itoa(s%3), Fired: 1 + s%4})
		}
		f.TicketHours = append(f.TicketHours, TicketHour{Hour: h, Source: "desk", Tier: 1, Opened: 3, Closed: 2},
			TicketHour{Hour: h, Source: "desk", Tier: 2, Opened: 1, Closed: 1, Breached: 1})
	}
	for i := range StatsTopFlapping {
		f.Flapping = append(f.Flapping, FlappingAlert{Key: "k" + strconv.Itoa(i), Name: "A", Service: "svc-1", Cycles: 1000 - i})
	}
	return f, StatsOptions{Bucket: BucketDay, Shifts: ShiftSchedule{Zone: loc}}
}

// BenchmarkBuildStats365d: a year's figures from the facts (the store's
// part is measured in model/cache).
func BenchmarkBuildStats365d(b *testing.B) {
	f, opt := yearOfFacts(b)
	b.ReportMetric(float64(len(f.AlertHours)), "alert-hours")
	b.ResetTimer()
	for b.Loop() {
		BuildStats(f, opt)
	}
}

// BenchmarkStatsFormats365d: the four model formats of a year by day.
func BenchmarkStatsFormats365d(b *testing.B) {
	f, opt := yearOfFacts(b)
	s := BuildStats(f, opt)
	b.ResetTimer()
	for b.Loop() {
		_ = s.Markdown()
		if _, err := s.JSON(); err != nil {
			b.Fatal(err)
		}
		if _, err := s.CSV(); err != nil {
			b.Fatal(err)
		}
		if _, err := s.HTML(); err != nil {
			b.Fatal(err)
		}
	}
}
