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
	if PriorityHigh.String() != "P2" || PriorityNone.String() != "—" || Tier2.String() != "T2" {
		t.Error("labels")
	}
}

// RT names a number by the highest label at or below it
// (RT::Ticket::_PriorityAsString).
func TestRTPriorityNameByRTsRule(t *testing.T) {
	def := DefaultRTPriorities()
	for n, want := range map[int]string{85: "Medium", 60: "Medium", 55: "Medium", 50: "Medium", 49: "Low", 30: "Low", 0: "Low", 100: "High", 120: "High", -1: "unknown"} {
		if got := RTPriorityName(def, n); got != want {
			t.Errorf("default map: %d is %q, want %q", n, got, want)
		}
	}
	site := map[string]int{"Routine": 0, "Urgent": 70, "Critical": 90}
	for n, want := range map[int]string{85: "Urgent", 60: "Routine", 90: "Critical", 70: "Urgent"} {
		if got := RTPriorityName(site, n); got != want {
			t.Errorf("site map: %d is %q, want %q", n, got, want)
		}
	}
	if got := RTPriorityName(nil, 50); got != "" {
		t.Errorf("no map names nothing, got %q", got)
	}
	for name, want := range map[string]Priority{"High": PriorityHigh, "Medium": PriorityModerate, "Low": PriorityLow, "unknown": PriorityNone} {
		if got := PriorityFromName(name, def); got != want {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	// Names ParsePriority does not know rank from the top of the map.
	if got := PriorityFromName("Routine", site); got != PriorityModerate {
		t.Errorf("Routine, third from the top: %v", got)
	}
	tk := Ticket{Priority: PriorityModerate, PriorityRaw: "85", PriorityName: "Medium"}
	if tk.PriorityLabel() != "Medium" || (&Ticket{Priority: PriorityHigh}).PriorityLabel() != "P2" {
		t.Error("PriorityLabel is the upstream's name, else P1-P5")
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
	base := Ticket{Source: "rt", ID: "1", Subject: "a", Fields: LabelsFromMap(map[string]string{"queue": "NOC"}), SLA: TicketSLA{Known: true, Due: time.Unix(100, 0)}}
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
		"fields":   func(x *Ticket) { x.Fields = LabelsFromMap(map[string]string{"queue": "NOC-T2"}) },
		"updated":  func(x *Ticket) { x.Updated = time.Unix(7, 0) },
	} {
		c := base
		mut(&c)
		if c.ContentHash() == h {
			t.Errorf("changing %s must change the hash", name)
		}
	}
}
