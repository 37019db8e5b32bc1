package model

import (
	"testing"
	"time"
)

func TestParsePriorityAcrossSystems(t *testing.T) {
	for in, want := range map[string]Priority{
		"P1": PriorityCritical, "1": PriorityCritical, "1 - Critical": PriorityCritical, "Highest": PriorityCritical,
		"High": PriorityHigh, "2": PriorityHigh, "Medium": PriorityModerate, "3 - Moderate": PriorityModerate,
		"Low": PriorityLow, "p4": PriorityLow, "Lowest": PriorityPlanning, "5": PriorityPlanning,
		"": PriorityNone, "6": PriorityNone, "P0": PriorityNone, "whatever": PriorityNone,
	} {
		if got := ParsePriority(in); got != want {
			t.Errorf("ParsePriority(%q) = %v, want %v", in, got, want)
		}
	}
	for n, want := range map[int]Priority{0: PriorityLow, 19: PriorityLow, 20: PriorityModerate, 50: PriorityHigh, 79: PriorityHigh, 80: PriorityCritical, 99: PriorityCritical, -1: PriorityNone} {
		if got := PriorityFromRT(n); got != want {
			t.Errorf("PriorityFromRT(%d) = %v, want %v", n, got, want)
		}
	}
	if PriorityHigh.String() != "P2" || PriorityNone.String() != "—" || Tier2.String() != "T2" {
		t.Error("labels")
	}
}

func TestTicketSLALeft(t *testing.T) {
	now := time.Date(2025, 11, 3, 10, 0, 0, 0, time.UTC)
	due := TicketSLA{Known: true, Due: now.Add(90 * time.Minute)}
	if l, ok := due.Left(now); !ok || l != 90*time.Minute || due.BreachedAt(now) {
		t.Errorf("due in 90m: %v %v", l, ok)
	}
	if !due.BreachedAt(now.Add(2 * time.Hour)) {
		t.Error("past due must read as breached")
	}
	paused := TicketSLA{Known: true, Due: now.Add(-time.Hour), Paused: true, Remaining: 20 * time.Minute, AsOf: now}
	if l, _ := paused.Left(now.Add(5 * time.Hour)); l != 20*time.Minute {
		t.Errorf("a paused SLA does not run down: %v", l)
	}
	told := TicketSLA{Known: true, Breached: true, Due: now.Add(time.Hour)}
	if !told.BreachedAt(now) {
		t.Error("the system's breached verdict wins")
	}
	if _, ok := (TicketSLA{}).Left(now); ok {
		t.Error("unknown SLA has no time left")
	}
	if s := TargetSLA(now, 4*time.Hour); !s.Known || !s.Due.Equal(now.Add(4*time.Hour)) {
		t.Errorf("target: %+v", s)
	}
	if TargetSLA(time.Time{}, time.Hour).Known {
		t.Error("no created time, no target deadline")
	}
}

func TestTicketContentHashSeesEveryShownField(t *testing.T) {
	base := Ticket{Source: "rt", ID: "1", Subject: "a", Fields: map[string]string{"queue": "NOC"}, SLA: TicketSLA{Known: true, Due: time.Unix(100, 0)}}
	h := base.ContentHash()
	asof := base
	asof.SLA.AsOf = time.Unix(5, 0)
	if asof.ContentHash() != h {
		t.Error("AsOf alone must not count as a change")
	}
	for name, mut := range map[string]func(*Ticket){
		"owner":    func(x *Ticket) { x.Owner = "alice" },
		"tier":     func(x *Ticket) { x.Tier = Tier2 },
		"subject":  func(x *Ticket) { x.Subject = "b" },
		"due":      func(x *Ticket) { x.SLA.Due = time.Unix(200, 0) },
		"breached": func(x *Ticket) { x.SLA.Breached = true },
		"fields":   func(x *Ticket) { x.Fields = map[string]string{"queue": "NOC-T2"} },
		"updated":  func(x *Ticket) { x.Updated = time.Unix(7, 0) },
	} {
		c := base
		mut(&c)
		if c.ContentHash() == h {
			t.Errorf("changing %s must change the hash", name)
		}
	}
}
