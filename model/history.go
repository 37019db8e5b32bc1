package model

import "time"

// OutageRecord is the stored lifecycle of one outage: a service with a
// firing alert at or above the outage threshold, from when its first such
// alert began firing upstream (Opened: Outage.Since) until the moment the
// last went (Closed; zero while it is open). FirstSeen is when this console
// first saw it. While the anti-flap grace runs after it went, Closed is
// Provisional: the outage may come back as the same outage.
type OutageRecord struct {
	ID          int64
	Service     string
	Severity    Severity // worst severity seen while open
	Opened      time.Time
	FirstSeen   time.Time
	Closed      time.Time
	Provisional bool
	Alerts      int // most alerts seen at once
}

// SourceOutage is a stretch of time a source's polls failed: Down is the
// first failed attempt, Up the first success after it (zero while down),
// Error the failure in words (upstream text: untrusted).
type SourceOutage struct {
	ID     int64
	Source string
	Down   time.Time
	Up     time.Time
	Error  string
}

// AlertEvent is one alert's stored life, merged across the sources that
// held it: when it was first seen firing and when it resolved (zero while
// open). Name, Service and Severity come from its labels.
type AlertEvent struct {
	Key      string
	Name     string
	Service  string
	Severity Severity
	Sources  []string
	Fired    time.Time
	Resolved time.Time
}

// AckRecord is an ack made through sitroom as stored: the ack, when it was
// cleared (zero while in force or lapsed) and how many Alertmanager
// silences it asked for.
type AckRecord struct {
	Ack
	Cleared  time.Time
	Silences int
}

// BacklogSample is the ticket backlog of one tier of one ticket source at
// one time, written by the poller's history recorder when the backlog
// changes and every few minutes; with no ticket source there are none and
// the report says so instead of showing zeros.
type BacklogSample struct {
	At         time.Time
	Source     string
	Tier       string
	Open       int
	Unassigned int
	Breached   int
}

// History is what the cache holds about a span of time, the raw material
// of a Handoff: every record overlapping [From, To).
type History struct {
	From, To      time.Time
	Outages       []OutageRecord // opened before To, closed at or after From (or open)
	SourceOutages []SourceOutage // down before To, up at or after From (or down)
	Alerts        []AlertEvent   // fired or resolved in the span
	Audit         []AuditEntry   // every action (refusals too) in the span or still unfinished
	Escalations   []Escalation
	Notes         []Note
	Acks          []AckRecord
	Backlog       []BacklogSample
}
