package model

import "time"

// NOC statistics: how the room did over weeks, for the ops lead. The store
// (the cache, or the team store in team mode) answers StatsQuery with
// StatsFacts: the year's raw material, already narrowed and summed where a
// year of it would be too much to read row by row. BuildStats turns the
// facts into Stats, the figures every format (text, md, json, csv, html)
// and the console's Stats view show. The same facts give the same Stats
// whenever they are built. Definitions match the handoff's (BuildHandoff):
// an outage's TTA runs from when it began upstream (Opened) to its first
// ack not refused while it was open; its TTR from Opened to Closed. An
// outage counts in the bucket and the shift it opened in; its TTA when
// the ack came before To, its TTR when it closed before To (docs/stats.md).

// StatsBucket is the width of one row of the per-period table.
type StatsBucket string

const (
	BucketDay  StatsBucket = "day"
	BucketWeek StatsBucket = "week" // weeks start on Monday, in the zone
)

// StatsTopFlapping caps StatsFacts.Flapping.
const StatsTopFlapping = 50

// StatsQuery says what the store must return: everything that bears on
// [From, To), narrowed to Services when that is not empty.
type StatsQuery struct {
	From, To time.Time
	// Services narrows the facts to these services (--service, or the
	// services a --team owns); empty: every service.
	Services []string
}

// StatsFacts is what the store holds about [From, To).
type StatsFacts struct {
	From, To time.Time
	// Outages are the outage records opened before To and closed at or
	// after From, or still open, each with its first ack.
	Outages []StatsOutage
	// Escalations are the escalation steps recorded in [From, To) (not
	// refused).
	Escalations []StatsEscalation
	// AcksExpired are the acks that lapsed in [From, To): their expiry
	// passed while they were still in force (not cleared before, nor ended
	// upstream). At is the expiry.
	AcksExpired []StatsAckExpiry
	// AlertHours are alert firing episodes summed per hour (UTC) and
	// source: how many began firing in that hour (with Services, only
	// theirs). Per alert name a year is too many rows to read in the
	// budget; the names that matter are Flapping's.
	AlertHours []AlertHour
	// Flapping are the alerts (by key) that began firing at least twice in
	// [From, To), most first, at most StatsTopFlapping of them.
	Flapping []FlappingAlert
	// TicketHours are tickets opened, closed and closed or still open past
	// their SLA, summed per hour (UTC), source and tier. Hour is the hour
	// the ticket was opened for Opened, closed for Closed, and its SLA
	// fell due for Breached.
	TicketHours []TicketHour
	// HasTickets is set when any ticket source ever polled: without one
	// the report says so instead of showing zeros.
	HasTickets bool
	// Team says whose history this is (team mode), as in History.
	Team TeamHistory
}

// StatsOutage is one outage as stats weigh it.
type StatsOutage struct {
	Service  string
	Severity Severity
	Opened   time.Time
	Closed   time.Time // zero while open
	FirstAck time.Time // first ack (not refused) while open; zero: none
	Alerts   int
	Hosts    []string // team mode: hosts that saw it
}

// StatsEscalation is one escalation step.
type StatsEscalation struct {
	At       time.Time
	Service  string
	Level    int
	Operator string
}

// StatsAckExpiry is an ack that lapsed.
type StatsAckExpiry struct {
	At       time.Time
	Service  string
	Operator string
}

// AlertHour is the number of firing episodes that began in one hour.
type AlertHour struct {
	Hour   time.Time // UTC, on the hour
	Source string
	Fired  int
}

// FlappingAlert is an alert that fired again and again: Cycles firing
// episodes began in the window.
type FlappingAlert struct {
	Key     string `json:"key"`
	Name    string `json:"name"`
	Service string `json:"service"`
	Cycles  int    `json:"cycles"`
}

// TicketHour is tickets of one tier of one source, summed per hour.
type TicketHour struct {
	Hour     time.Time // UTC, on the hour
	Source   string
	Tier     int
	Opened   int
	Closed   int
	Breached int
}

// StatsOptions say how BuildStats cuts the facts.
type StatsOptions struct {
	Bucket StatsBucket // "" is BucketDay
	// Shifts are the handoff's shift definitions; their zone is the zone
	// of the buckets and of every time shown.
	Shifts ShiftSchedule
	// Shift, when set, keeps only outages opened in shifts that start at
	// this local time ("07:00"), and the escalations, expired acks and
	// hours of alerts and tickets in them: the --shift flag.
	Shift string
	// Service and Team are the filters the facts were narrowed by, shown
	// in the report's title; Services what Team resolved to.
	Service, Team string
	// Top caps each top list; 0 is 10.
	Top int
	// Now ends the open outages' time in outage; zero is To.
	Now time.Time
}

// Stats are the figures of `sitroom stats` and of the Stats view, built
// by BuildStats (stats_build.go) and rendered by Markdown, JSON, CSV and
// HTML. Times are UTC (Location gives the zone to show them in);
// durations are whole seconds; a median or p90 is nil where there was
// nothing to measure. Its JSON form (Version StatsVersion) is the
// documented, stable schema of docs/stats.md.
type Stats struct {
	Version int         `json:"version"`
	Zone    string      `json:"zone"`
	From    time.Time   `json:"from"`
	To      time.Time   `json:"to"`
	Bucket  StatsBucket `json:"bucket"`
	Service string      `json:"service,omitempty"`
	Team    string      `json:"team,omitempty"`
	Shift   string      `json:"shift,omitempty"`
	// Whose says whose history it is: "host" or "team", and when the team
	// store was unreachable, why (TeamHistory).
	Whose       string `json:"whose"`
	WhoseDetail string `json:"whose_detail,omitempty"`
	// WhoseError is why the team store could not be read (upstream
	// text), with WhoseDetail.
	WhoseError string `json:"whose_error,omitempty"`

	Totals  StatsPeriod   `json:"totals"`
	Buckets []StatsPeriod `json:"buckets"`
	Shifts  []StatsShift  `json:"shifts"`

	TopByOutages []ServiceLoad   `json:"top_services_by_outages"`
	TopByTime    []ServiceLoad   `json:"top_services_by_time"`
	Flapping     []FlappingAlert `json:"flapping_alerts"`
	Sources      []SourceVolume  `json:"noisiest_sources"`
	HasTickets   bool            `json:"has_tickets"`

	loc *time.Location
}

// StatsPeriod is one bucket (or the totals): [From, To).
type StatsPeriod struct {
	From       time.Time      `json:"from"`
	To         time.Time      `json:"to"`
	Outages    int            `json:"outages"` // opened in the period
	BySeverity SeverityCounts `json:"by_severity"`
	TTASamples int            `json:"tta_samples"`
	TTAP50     *int64         `json:"tta_p50_s"`
	TTAP90     *int64         `json:"tta_p90_s"`
	TTRSamples int            `json:"ttr_samples"`
	TTRP50     *int64         `json:"ttr_p50_s"`
	TTRP90     *int64         `json:"ttr_p90_s"`
	// Escalations per level ("1", "2", …).
	Escalations map[string]int `json:"escalations"`
	AcksExpired int            `json:"acks_expired"`
	// Tickets per tier ("1", "2").
	Tickets map[string]TicketCounts `json:"tickets"`
	Alerts  int                     `json:"alerts"` // firing episodes begun
}

// TicketCounts are one tier's tickets in a period.
type TicketCounts struct {
	Opened   int `json:"opened"`
	Closed   int `json:"closed"`
	Breached int `json:"past_sla"`
}

// StatsShift is the load and response of one shift of the day (by its
// local start), over the whole span.
type StatsShift struct {
	Start string `json:"start"` // "07:00"
	StatsPeriod
}

// ServiceLoad is one service in a top list.
type ServiceLoad struct {
	Service string `json:"service"`
	Outages int    `json:"outages"`
	Seconds int64  `json:"seconds_in_outage"`
	TTAP50  *int64 `json:"tta_p50_s"`
}

// SourceVolume is one source's alert volume.
type SourceVolume struct {
	Source string `json:"source"`
	Alerts int    `json:"alerts"`
}
